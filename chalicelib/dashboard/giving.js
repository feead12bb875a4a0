// The Donations view's giving panels: what each cause is owed and since when (overdue causes flagged), and
// the disbursements with a Void action behind a confirmation. Plain ES module, no dependencies; it reloads
// whenever the page has loaded its reports and calls the API with the brand key the page keeps.
const KEY_STORAGE = "vip-rewards.brand-key";
const $g = (selector) => document.querySelector(selector);
const giving = { causes: {}, voiding: null };

async function brandCall(path, { method = "GET", body } = {}) {
  const init = { method, headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY_STORAGE)}` } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const payload = await response.json();
  if (!response.ok) throw new Error(payload?.error?.message || `HTTP ${response.status}`);
  return payload;
}

function cell(tag, text, cls) {
  const made = document.createElement(tag);
  made.textContent = text;
  if (cls) made.className = cls;
  return made;
}

function money(minor, currency) {
  const code = currency.toUpperCase();
  const digits = new Intl.NumberFormat("en-US", { style: "currency", currency: code }).resolvedOptions().maximumFractionDigits;
  return new Intl.NumberFormat(undefined, { style: "currency", currency: code, minimumFractionDigits: digits,
    maximumFractionDigits: digits }).format(minor / 10 ** digits);
}

const causeLabel = (id) => giving.causes[id] || id;
const day = (moment) => (moment ? moment.slice(0, 10) : "—");

function table(target, caption, headers, rows, empty) {
  const head = document.createElement("thead");
  const headRow = document.createElement("tr");
  headers.forEach(([label, text]) => headRow.append(cell("th", label, text ? "text" : null)));
  head.append(headRow);
  const body = document.createElement("tbody");
  if (!rows.length) {
    const row = document.createElement("tr");
    const only = cell("td", empty, "text");
    only.colSpan = headers.length;
    row.append(only);
    body.append(row);
  }
  rows.forEach((cells) => {
    const row = document.createElement("tr");
    row.append(...cells);
    body.append(row);
  });
  $g(target).replaceChildren(cell("caption", caption, "visually-hidden"), head, body);
}

async function loadPayouts() {
  const report = await brandCall("/v1/reports/payouts");
  const overdue = report.data.filter((r) => r.overdue);
  $g("#payouts-summary").textContent = overdue.length
    ? `${overdue.length} overdue: ${overdue.map((r) => `${causeLabel(r.cause_id)} (${r.currency.toUpperCase()})`).join(", ")} `
      + `has pledges unpaid for more than ${report.due_days} days.`
    : `No cause has pledges unpaid for more than ${report.due_days} days.`;
  $g("#payouts-summary").className = overdue.length ? "error" : "done";
  table("#payouts-table", "Payouts owed per cause", [["Cause", true], ["Currency", true], ["Owed"],
    ["Oldest unpaid pledge", true], ["Days"], ["Status", true]],
  report.data.map((r) => [
    cell("td", causeLabel(r.cause_id), "text"), cell("td", r.currency.toUpperCase(), "text"),
    cell("td", money(r.outstanding, r.currency)), cell("td", day(r.oldest_undisbursed_at), "text"),
    cell("td", String(r.days_outstanding)), cell("td", r.overdue ? "Overdue" : r.outstanding > 0 ? "Owed" : "Paid up", r.overdue ? "text neg" : "text"),
  ]), "No donations yet.");
}

async function loadDisbursements() {
  const listing = await brandCall("/v1/disbursements?limit=100");
  table("#disbursements-table", "Disbursements", [["Paid on", true], ["Cause", true], ["Amount"], ["Reference", true],
    ["Receipt", true], ["Status", true], ["", true]],
  listing.data.map((d) => {
    const receipt = document.createElement("td");
    receipt.className = "text";
    if (d.receipt_url) {
      const link = cell("a", "Receipt");
      link.href = d.receipt_url;
      link.rel = "noopener noreferrer";
      receipt.append(link);
    } else receipt.textContent = "—";
    const action = document.createElement("td");
    action.className = "text";
    if (d.status === "voided") action.textContent = d.void_reason ? `Voided: ${d.void_reason}` : "Voided";
    else {
      const button = cell("button", "Void");
      button.type = "button";
      button.setAttribute("aria-label", `Void ${money(d.amount, d.currency)} paid to ${causeLabel(d.cause_id)} on ${day(d.paid_at)}`);
      button.addEventListener("click", () => askVoid(d, button));
      action.append(button);
    }
    return [cell("td", day(d.paid_at), "text"), cell("td", causeLabel(d.cause_id), "text"),
      cell("td", money(d.amount, d.currency)), cell("td", d.reference, "text"), receipt,
      cell("td", d.status === "voided" ? "Voided" : "Recorded", "text"), action];
  }), "No disbursements yet.");
}

function askVoid(disbursement, opener) {
  giving.voiding = { disbursement, opener };
  $g("#void-what").textContent = `${money(disbursement.amount, disbursement.currency)} paid to `
    + `${causeLabel(disbursement.cause_id)} on ${day(disbursement.paid_at)} (${disbursement.reference}). `
    + "The amount goes back to what the cause is owed; the record stays, marked voided.";
  $g("#void-reason").value = "";
  $g("#void-error").textContent = "";
  $g("#void-dialog").showModal();
  $g("#void-reason").focus();
}

function closeVoid() {
  $g("#void-dialog").close();
  giving.voiding?.opener?.focus();
  giving.voiding = null;
}

async function confirmVoid(event) {
  event.preventDefault();
  const reason = $g("#void-reason").value.trim();
  if (!reason) {
    $g("#void-error").textContent = "Say why this disbursement is voided.";
    $g("#void-reason").setAttribute("aria-invalid", "true");
    return;
  }
  const { disbursement } = giving.voiding;
  try {
    await brandCall(`/v1/disbursements/${encodeURIComponent(disbursement.disbursement_id)}/void`, { method: "POST", body: { reason } });
  } catch (failure) {
    $g("#void-error").textContent = failure.message;
    return;
  }
  $g("#void-dialog").close();
  giving.voiding = null;
  $g("#void-status").textContent = `Voided ${money(disbursement.amount, disbursement.currency)} paid to ${causeLabel(disbursement.cause_id)}.`;
  await refresh();
  $g("#disbursements-title").focus();
}

async function refresh() {
  if (!sessionStorage.getItem(KEY_STORAGE)) return;
  try {
    const causes = await fetch("/v1/causes?limit=100").then((r) => r.json());
    giving.causes = Object.fromEntries(causes.data.map((c) => [c.cause_id, c.name]));
    await Promise.all([loadPayouts(), loadDisbursements()]);
  } catch (failure) {
    $g("#payouts-summary").textContent = `Could not load payouts: ${failure.message}`;
  }
}

function startGiving() {
  const status = $g("#status");
  if (!status || !$g("#payouts-table")) return;
  $g("#void-form").addEventListener("submit", confirmVoid);
  $g("#void-cancel").addEventListener("click", closeVoid);
  $g("#void-dialog").addEventListener("cancel", (event) => { event.preventDefault(); closeVoid(); });
  $g("#void-reason").addEventListener("input", () => $g("#void-reason").removeAttribute("aria-invalid"));
  // The page reports "Showing …" each time its reports are loaded (sign-in, a new range, a new disbursement).
  new MutationObserver(() => { if (status.textContent.startsWith("Showing")) refresh(); })
    .observe(status, { childList: true, characterData: true, subtree: true });
}

startGiving();
