"""The brand dashboard in a real headless Chromium against a seeded `make dev` stack."""

from __future__ import annotations

import csv
import io
import itertools
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import BRAND_KEY, Brand

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}
ZERO_DECIMAL = {"jpy", "krw"}


def money(minor: int, currency: str) -> str:
    """What Intl.NumberFormat('en-US', {style: 'currency'}) shows."""
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    digits = f"{minor:,}" if currency in ZERO_DECIMAL else f"{minor / 100:,.2f}"
    return f"{sign}{SYMBOLS.get(currency, currency.upper())}{digits}"


def sign_in(page: Any, key: str = BRAND_KEY) -> None:
    page.get_by_label("Brand API key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def signed_in(page: Any) -> Any:
    sign_in(page)
    page.get_by_role("status").filter(has_text="Showing").wait_for()
    return page


def table_rows(page: Any, label: str) -> list[list[str]]:
    table = page.get_by_role("region", name=label).locator("table")
    return [
        [cell.strip() for cell in row.locator("th, td").all_inner_texts()]
        for row in table.locator("tbody tr").all()
    ]


def cause_names(brand: Brand) -> dict[str, str]:
    return {c["cause_id"]: c["name"] for c in brand.get("/v1/causes")["data"]}


def test_a_wrong_key_is_refused_and_the_page_says_so(page: Any) -> None:
    sign_in(page, "not-a-real-key")

    page.get_by_role("alert").filter(has_text="not valid").wait_for()
    assert page.evaluate("sessionStorage.length") == 0
    assert page.get_by_label("Brand API key").is_visible()


def test_a_storefront_key_is_refused_as_not_a_brand_key(page: Any) -> None:
    sign_in(page, "local-storefront-key")

    page.get_by_role("alert").filter(has_text="not a brand key").wait_for()
    assert page.evaluate("sessionStorage.length") == 0


def test_signing_out_forgets_the_key(page: Any) -> None:
    signed_in(page)
    assert page.evaluate("Object.values(sessionStorage)") == [BRAND_KEY]

    page.get_by_role("button", name="Sign out").click()
    page.reload()

    assert page.evaluate("sessionStorage.length") == 0
    assert page.get_by_label("Brand API key").is_visible()


def test_outstanding_per_cause_matches_the_donations_report(page: Any, brand: Brand) -> None:
    signed_in(page)
    report = brand.get(
        "/v1/reports/donations", **{"from": page.input_value("#from"), "to": page.input_value("#to")}
    )
    names = cause_names(brand)

    expected = [
        [names[t["cause_id"]], t["currency"].upper(), money(t["outstanding"], t["currency"]),
         money(t["net"], t["currency"]), money(t["disbursed"], t["currency"])]
        for t in report["totals"]
    ]  # fmt: skip
    assert report["totals"], "the demo history has donations"
    assert table_rows(page, "Outstanding per cause") == expected


def test_monthly_donations_table_matches_the_report_for_the_chosen_currency(page: Any, brand: Brand) -> None:
    signed_in(page)
    report = brand.get(
        "/v1/reports/donations", **{"from": page.input_value("#from"), "to": page.input_value("#to")}
    )
    names = cause_names(brand)
    currency = page.input_value("#donations-currency")

    expected = [
        [r["period"], names[r["cause_id"]], f"{r['orders']:,}", money(r["pledged"], currency),
         money(r["reversed"], currency), money(r["net"], currency), money(r["disbursed"], currency)]
        for r in report["data"] if r["currency"] == currency
    ]  # fmt: skip
    assert expected
    assert table_rows(page, "Donations per cause and month") == expected
    assert page.locator("#donations-chart svg rect").count() > 0


def test_the_memberships_view_matches_the_memberships_report(page: Any, brand: Brand) -> None:
    signed_in(page)
    page.get_by_role("button", name="Memberships").click()
    report = brand.get(
        "/v1/reports/memberships", **{"from": page.input_value("#from"), "to": page.input_value("#to")}
    )

    tiles = page.locator("#membership-tiles").inner_text()
    with_perks = sum(row["perks_active"] for row in report["members"])
    assert f"{with_perks:,}\nmembers with perks now" in tiles
    for mrr in report["mrr"]:
        assert money(mrr["mrr"], mrr["currency"]) in tiles
    movements = [[m["period"], f"{m['joins']:,}", f"{m['cancellations']:,}"] for m in report["months"]]
    assert table_rows(page, "Joins and cancellations per month") == movements
    assert sum(m["joins"] for m in report["months"]) > 0
    assert page.locator("#memberships-chart svg rect").count() > 0


def test_recording_a_disbursement_through_the_form_lowers_the_outstanding_balance(
    page: Any, brand: Brand
) -> None:
    signed_in(page)
    before = brand.totals()
    cause_id, currency = next(k for k, t in before.items() if t["outstanding"] >= 1000 and k[1] == "usd")
    page.get_by_label("Cause", exact=True).select_option(cause_id)
    page.get_by_label("Currency", exact=True).select_option(currency)

    assert page.get_by_label("Paid on").input_value() == page.evaluate(
        "(() => { const d = new Date(); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-"
        "${String(d.getDate()).padStart(2, '0')}`; })()"
    )
    page.get_by_label("Amount paid").fill("10.05")
    page.get_by_label("Reference").fill("Wire 2026-11 browser test")
    page.get_by_label("Receipt URL (optional)").fill("https://example.org/receipts/browser-test.pdf")
    page.get_by_role("button", name="Record disbursement").click()

    page.locator("#disburse-done").filter(has_text="Recorded 10.05 USD").wait_for()
    # The form is ready for the next payment to the same cause, in the same currency.
    assert page.get_by_label("Cause", exact=True).input_value() == cause_id
    assert page.get_by_label("Currency", exact=True).input_value() == currency
    listed = brand.get("/v1/disbursements", limit="1")["data"][0]
    assert (listed["amount"], listed["reference"]) == (1005, "Wire 2026-11 browser test")
    assert listed["receipt_url"] == "https://example.org/receipts/browser-test.pdf"
    after = brand.totals()
    assert after[(cause_id, currency)]["outstanding"] == before[(cause_id, currency)]["outstanding"] - 1005


def test_a_disbursement_over_the_balance_shows_the_apis_409_message(page: Any, brand: Brand) -> None:
    signed_in(page)
    total = next(t for t in brand.totals().values() if t["currency"] == "usd")
    page.get_by_label("Cause", exact=True).select_option(total["cause_id"])
    page.get_by_label("Currency", exact=True).select_option("usd")
    page.get_by_label("Amount paid").fill(f"{(total['outstanding'] + 100_000) // 100}.00")
    page.get_by_label("Reference").fill("Too much")
    page.get_by_role("button", name="Record disbursement").click()

    alert = page.locator("#disburse-error")
    alert.filter(has_text="outstanding").wait_for()
    # In major units, as typed, with the cause's name (the API's 409 carries the figures).
    typed = (total["outstanding"] + 100_000) // 100 * 100
    assert alert.inner_text() == (
        f"{typed // 100:,}.00 USD exceeds the {total['outstanding'] // 100:,}.{total['outstanding'] % 100:02d} USD "
        f"outstanding for {cause_names(brand)[total['cause_id']]}."
    )
    assert page.get_by_label("Amount paid").get_attribute("aria-invalid") == "true"
    assert brand.totals()[(total["cause_id"], "usd")]["outstanding"] == total["outstanding"]


@pytest.mark.parametrize(("typed", "minor"), [("12,50", 1250), ("1,5", 150), (" 2,05 ", 205)])
def test_an_amount_with_a_decimal_comma_is_recorded_as_written(
    page: Any, brand: Brand, typed: str, minor: int
) -> None:
    signed_in(page)
    before = brand.totals()
    cause_id = next(k[0] for k, t in before.items() if t["outstanding"] >= minor and k[1] == "usd")
    page.get_by_label("Cause", exact=True).select_option(cause_id)
    page.get_by_label("Currency", exact=True).select_option("usd")
    page.get_by_label("Amount paid").fill(typed)
    page.get_by_label("Reference").fill(f"Typed {typed.strip()}")
    page.get_by_role("button", name="Record disbursement").click()

    page.locator("#disburse-done").filter(has_text="Recorded").wait_for()
    listed = brand.get("/v1/disbursements", limit="1")["data"][0]
    # Never 1,250.00 for 12,50.
    assert (listed["amount"], listed["reference"]) == (minor, f"Typed {typed.strip()}")
    assert page.locator("#disburse-done").inner_text() == (
        f"Recorded {minor // 100:,}.{minor % 100:02d} USD paid to {cause_names(brand)[cause_id]}."
    )


@pytest.mark.parametrize("typed", ["12,3456", "1,2,3", "12.5.0", "1.234.5", "12,50.00", "abc", "1e3"])
def test_an_amount_that_reads_two_ways_or_none_is_refused_before_sending(
    page: Any, brand: Brand, typed: str
) -> None:
    signed_in(page)
    before = brand.get("/v1/disbursements", limit="1")["data"]
    page.get_by_label("Currency", exact=True).select_option("usd")
    page.get_by_label("Amount paid").fill(typed)
    page.get_by_label("Reference").fill("Ambiguous")
    page.get_by_role("button", name="Record disbursement").click()

    assert "Enter the amount in USD" in page.locator("#disburse-error").inner_text()
    assert page.get_by_label("Amount paid").get_attribute("aria-invalid") == "true"
    assert brand.get("/v1/disbursements", limit="1")["data"] == before


def test_an_amount_with_too_many_decimals_is_refused_before_sending(page: Any) -> None:
    signed_in(page)
    page.get_by_label("Currency", exact=True).select_option("usd")
    page.get_by_label("Amount paid").fill("12.345")
    page.get_by_label("Reference").fill("Typo")
    page.get_by_role("button", name="Record disbursement").click()

    assert "at most 2 decimals" in page.locator("#disburse-error").inner_text()


CSV_HEADERS = {
    "donations": ["period", "cause_id", "currency"],
    "memberships": ["section", "plan_id", "status"],
    "program": ["period", "currency", "members_customers"],
}


@pytest.mark.parametrize("view", ["donations", "memberships", "program"])
def test_each_views_csv_download_is_the_apis_csv(page: Any, brand: Brand, view: str) -> None:
    signed_in(page)
    first, last = page.input_value("#from"), page.input_value("#to")
    page.get_by_role("button", name=view.capitalize()).click()

    with page.expect_download() as download:
        page.locator(f"#view-{view}").get_by_role("button", name="Download CSV").click()

    assert download.value.suggested_filename == f"{view}-{first}-to-{last}.csv"
    saved = Path(download.value.path()).read_bytes()
    assert saved == brand.get(f"/v1/reports/{view}", format="csv", **{"from": first, "to": last})
    rows = list(csv.reader(io.StringIO(saved.decode())))
    assert rows[0][:3] == CSV_HEADERS[view]
    assert len(rows) > 2, "the demo history fills the report"
    page.get_by_role("status").filter(has_text=f"Downloaded {view} CSV").wait_for()


def percent(ratio: str | None) -> str:
    """A 4-decimal ratio as the page shows it: "0.4933" → "49.33 %"."""
    if ratio is None:
        return "—"
    hundredths = round(Decimal(ratio) * 10_000)
    return f"{hundredths // 100}.{hundredths % 100:02d} %"


def money_or_dash(minor: int | None, currency: str) -> str:
    return "—" if minor is None else money(minor, currency)


def revenue(total: dict[str, Any]) -> int:
    """The page shows currencies by revenue, the largest first."""
    return int(total["members"]["revenue"] + total["non_members"]["revenue"])


def test_the_program_view_shows_the_program_reports_figures(page: Any, brand: Brand) -> None:
    signed_in(page)
    page.get_by_role("button", name="Program").click()
    first, last = page.input_value("#from"), page.input_value("#to")
    report = brand.get("/v1/reports/program", **{"from": first, "to": last})
    assert report["totals"], "the demo history has orders"
    plan_currencies = {plan["currency"] for plan in brand.get("/v1/plans", limit="100")["data"]}

    by_revenue = sorted(
        report["totals"],
        key=lambda t: (-(t["members"]["revenue"] + t["non_members"]["revenue"]), t["currency"]),
    )
    headings = page.locator("#program-body h3").all_inner_texts()
    assert headings == [
        f"{t['currency'].upper()}: members against non-members, {first} to {last}" for t in by_revenue
    ]
    for total in report["totals"]:
        c, C = total["currency"], total["currency"].upper()
        m, n, lift = total["members"], total["non_members"], total["lift"]
        dash = "—"
        # Over the whole range: the totals row, each shopper counted once.
        assert table_rows(page, f"Members against non-members, {C}") == [
            ["Customers", f"{m['customers']:,}", f"{n['customers']:,}", dash],
            ["Orders", f"{m['orders']:,}", f"{n['orders']:,}", dash],
            ["Revenue (net of refunds)", money(m["revenue"], c), money(n["revenue"], c), dash],
            ["Average order value", money_or_dash(m["aov"], c), money_or_dash(n["aov"], c), lift["aov"] or dash],
            ["Orders per customer", m["orders_per_customer"] or dash, n["orders_per_customer"] or dash,
             lift["orders_per_customer"] or dash],
            ["Returning customers", f"{m['returning_customers']:,}", f"{n['returning_customers']:,}", dash],
            ["Returning rate", percent(m["returning_rate"]), percent(n["returning_rate"]),
             lift["returning_rate"] or dash],
        ]  # fmt: skip
        if c not in plan_currencies:
            # No fees can come in this currency: the page says so instead of a red "loss".
            note = page.locator(f'#program-body [data-no-plan="{c}"]').inner_text()
            assert note.startswith(f"No plan charges in {C}, so no membership fees are paid in {C}.")
            assert page.locator(f'#program-body .tiles[data-currency="{c}"]').count() == 0
            continue
        tiles = page.locator(f'#program-body .tiles[data-currency="{c}"] .tile').all_inner_texts()
        assert tiles == [
            f"{money(total['fees'], c)}\nMembership fees",
            f"{money(total['member_discount'], c)}\nMember discounts",
            f"{money(total['shipping_waived'], c)}\nShipping waived",
            f"{money(total['donations'], c)}\nDonations (net)",
            f"{money(total['program_net'], c)}\nProgram net",
        ]
        months = [r for r in report["data"] if r["currency"] == c]
        assert table_rows(page, f"Members against non-members per month, {C}") == [
            [r["period"], f"{r['members']['customers']:,}", f"{r['members']['orders']:,}",
             money_or_dash(r["members"]["aov"], c), f"{r['non_members']['customers']:,}",
             f"{r['non_members']['orders']:,}", money_or_dash(r["non_members"]["aov"], c), r["lift"]["aov"] or dash]
            for r in months
        ]  # fmt: skip
        assert table_rows(page, f"Fees against perks per month, {C}") == [
            [r["period"], money(r["fees"], c), money(r["member_discount"], c), money(r["shipping_waived"], c),
             money(r["donations"], c), money(r["program_net"], c)]
            for r in months
        ]  # fmt: skip
    usd = next(t for t in report["totals"] if t["currency"] == "usd")
    # The demo's members save through their perks and pay fees: every figure of the view is exercised.
    assert min(usd["fees"], usd["member_discount"], usd["shipping_waived"], usd["donations"]) > 0
    assert page.locator("#program-body figure svg rect").count() > 0


def axis_value(label: str) -> Decimal:
    """A y-axis label ("-$1,500.00", "€20.00", "4") as its number."""
    negative = label.startswith(("-", "−"))
    digits = re.sub(r"^[^0-9]+", "", label.lstrip("-−")).replace(",", "")
    return -Decimal(digits) if negative else Decimal(digits)


@pytest.mark.parametrize("view", ["Donations", "Memberships", "Program"])
def test_chart_gridlines_are_round_distinct_and_labelled_exactly(page: Any, view: str) -> None:
    signed_in(page)
    page.get_by_role("button", name=view).click()
    charts = page.locator(f"#view-{view.lower()} figure svg")
    assert charts.count() > 0
    for i in range(charts.count()):
        # The y axis: labels right-aligned left of the plot, one per gridline.
        labels = charts.nth(i).locator('text[text-anchor="end"]').all_text_contents()
        assert len(labels) == len(set(labels)) >= 2, labels  # 0 once, no label twice
        values = [axis_value(label) for label in labels]
        steps = {abs(b - a) for a, b in itertools.pairwise(values)}
        assert len(steps) == 1, labels  # evenly spaced
        step = steps.pop()
        assert step / Decimal(10) ** step.adjusted() in (1, 2, 5), labels  # 1, 2 or 5 × 10^k: no odd ticks
        if view == "Memberships":
            assert step >= 1 and all(v == v.to_integral_value() for v in values), labels  # counts: whole


@pytest.mark.parametrize("view", ["Donations", "Memberships", "Program"])
def test_at_390_px_wide_nothing_scrolls_sideways(page: Any, view: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    signed_in(page)
    page.get_by_role("button", name=view).click()

    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow == 0


def test_keyboard_alone_signs_in_switches_views_and_reaches_every_control(page: Any) -> None:
    for _ in range(4):  # past the skip link
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "brand-key":
            break
    assert page.evaluate("document.activeElement.id") == "brand-key"
    page.keyboard.type(BRAND_KEY)
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Showing").wait_for()

    reached: list[str] = []
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        )
        if page.evaluate("document.activeElement.textContent.trim()") == "Memberships":
            break
    page.keyboard.press("Enter")
    assert page.locator("#view-memberships").is_visible()
    page.locator("#from").focus()
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Sign out"
    assert {"from", "to", "Show"} <= set(reached)

    page.get_by_role("button", name="Donations").focus()
    page.keyboard.press("Enter")
    controls = []
    for _ in range(80):
        page.keyboard.press("Tab")
        controls.append(page.evaluate("document.activeElement.id"))
        if controls[-1] == "d-receipt":
            break
    assert {
        "donations-currency",
        "d-cause",
        "d-currency",
        "d-amount",
        "d-date",
        "d-reference",
        "d-receipt",
    } <= set(controls)


def test_keyboard_alone_opens_the_program_view_reaches_its_tables_and_downloads_its_csv(
    page: Any, brand: Brand
) -> None:
    page.get_by_label("Brand API key").focus()
    page.keyboard.type(BRAND_KEY)
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Showing").wait_for()
    focused = "document.activeElement.getAttribute('aria-label') || document.activeElement.textContent.trim()"
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate(focused) == "Program":
            break
    page.keyboard.press("Enter")
    assert page.locator("#view-program").is_visible()
    assert page.get_by_role("button", name="Program").get_attribute("aria-current") == "page"

    # Past the views still to its right in the navigation, the view's own first control.
    passed = []
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate(focused) == "Download CSV":
            break
        passed.append(page.evaluate(focused))
    assert page.evaluate(focused) == "Download CSV"
    assert passed == ["Webhooks"]
    first, last = page.input_value("#from"), page.input_value("#to")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    saved = Path(download.value.path()).read_bytes()
    assert saved == brand.get("/v1/reports/program", format="csv", **{"from": first, "to": last})

    report = brand.get("/v1/reports/program", **{"from": first, "to": last})
    currencies = [t["currency"] for t in sorted(report["totals"], key=revenue, reverse=True)]
    plan_currencies = {plan["currency"] for plan in brand.get("/v1/plans", limit="100")["data"]}
    regions = [
        f"{table}, {currency.upper()}"
        for currency in currencies
        for table in (
            "Members against non-members",
            "Members against non-members per month",
            # Fees against perks only where a plan charges fees (elsewhere a note says there is none).
            *(("Fees against perks per month",) if currency in plan_currencies else ()),
        )
    ]
    reached = []
    for _ in regions:
        page.keyboard.press("Tab")
        reached.append(page.evaluate(focused))
    # Wide tables scroll inside focusable regions, so the keyboard reaches and scrolls them too.
    assert reached == regions


@pytest.mark.parametrize("view", ["Sign in", "Donations", "Memberships", "Program"])
def test_no_serious_or_critical_accessibility_violations(page: Any, axe_source: str, view: str) -> None:
    if view != "Sign in":
        signed_in(page)
        page.get_by_role("button", name=view).click()
    page.evaluate(axe_source)  # through DevTools, so the page's CSP need not allow it

    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")

    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []


# ---------- giving: payouts owed and voids (Donations view) ----------


def test_the_payouts_panel_matches_the_payouts_report_and_flags_overdue_causes(
    page: Any, brand: Brand
) -> None:
    signed_in(page)
    report = brand.get("/v1/reports/payouts")
    names = cause_names(brand)
    page.locator("#payouts-table tbody tr").first.wait_for()
    expected = [
        [names.get(r["cause_id"], r["cause_id"]), r["currency"].upper(), money(r["outstanding"], r["currency"]),
         (r["oldest_undisbursed_at"] or "—")[:10], str(r["days_outstanding"]),
         "Overdue" if r["overdue"] else "Owed" if r["outstanding"] > 0 else "Paid up"]
        for r in report["data"]
    ]  # fmt: skip
    assert table_rows(page, "Payouts owed") == expected
    overdue = [r for r in report["data"] if r["overdue"]]
    summary = page.locator("#payouts-summary").inner_text()
    assert summary.startswith(f"{len(overdue)} overdue") if overdue else summary.startswith("No cause")


def test_voiding_a_disbursement_asks_first_then_restores_the_balance(page: Any, brand: Brand) -> None:
    import requests

    before = brand.totals()
    # The seeded history (and the tests before this one) leave each cause a different balance: the dollar
    # cause with the most outstanding, and at most $7.77 of it.
    cause_id, currency = max((k for k in before if k[1] == "usd"), key=lambda k: before[k]["outstanding"])
    amount = min(777, before[(cause_id, currency)]["outstanding"])
    assert amount > 0, before
    recorded = requests.post(
        f"{brand.base}/v1/disbursements", headers=brand.headers, timeout=30,
        json={"disbursement_id": "browser-void-1", "cause_id": cause_id, "currency": currency, "amount": amount,
              "paid_at": "2026-01-15T12:00:00Z", "reference": "Typed twice by mistake"},
    )  # fmt: skip
    assert recorded.status_code == 201, recorded.text
    signed_in(page)
    row = page.locator("#disbursements-table tbody tr").filter(has_text="Typed twice by mistake")
    row.get_by_role("button", name=re.compile("^Void ")).click()

    dialog = page.get_by_role("dialog", name="Void this disbursement?")
    dialog.wait_for()
    dialog.get_by_role("button", name="Cancel").click()
    assert (
        brand.totals()[(cause_id, currency)]["outstanding"]
        == before[(cause_id, currency)]["outstanding"] - amount
    )

    row.get_by_role("button", name=re.compile("^Void ")).click()
    dialog.get_by_role("button", name="Void disbursement").click()
    dialog.get_by_role("alert").filter(has_text="Say why").wait_for()
    dialog.get_by_label("Reason").fill("Recorded twice")
    dialog.get_by_role("button", name="Void disbursement").click()

    page.locator("#void-status").filter(has_text=f"Voided ${amount / 100:,.2f}").wait_for()
    page.locator("#disbursements-table tbody tr").filter(has_text="Voided: Recorded twice").wait_for()
    assert brand.totals()[(cause_id, currency)]["outstanding"] == before[(cause_id, currency)]["outstanding"]
    listed = brand.get("/v1/disbursements", cause_id=cause_id, limit="100")["data"]
    (voided,) = [d for d in listed if d["disbursement_id"] == "browser-void-1"]
    assert (voided["status"], voided["void_reason"]) == ("voided", "Recorded twice")


def test_each_view_is_drawn_as_soon_as_its_own_report_arrives(page: Any, brand: Brand) -> None:
    # The program report held back in the page's own fetch until the test releases it.
    page.evaluate("""() => {
        const fetch = window.fetch.bind(window);
        let release;
        window.releaseProgram = new Promise((resolve) => { release = resolve; });
        window.letProgramThrough = () => release();
        window.fetch = (path, init) => String(path).startsWith("/v1/reports/program")
            ? window.releaseProgram.then(() => fetch(path, init))
            : fetch(path, init);
    }""")
    sign_in(page)
    outstanding = page.get_by_role("region", name="Outstanding per cause").locator("tbody tr")
    outstanding.first.wait_for()  # the donations view, drawn while the program report is on its way
    assert page.locator("#status").inner_text() == "Loading…"
    assert page.locator("#program-body").inner_text().strip() == ""

    page.evaluate("() => window.letProgramThrough()")
    page.get_by_role("status").filter(has_text="Showing").wait_for()
    assert page.locator("#program-body").inner_text().strip() != ""
