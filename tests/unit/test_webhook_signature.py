"""`Stripe-Signature` is read the way Stripe's libraries read it, and anything ambiguous is refused."""

from __future__ import annotations

import pytest

from chalicelib.payments.webhooks import (
    InvalidSignatureError,
    parse_signature_header,
    signature,
    verify_signature,
)

SECRET = "whsec_unit"
BODY = b'{"id": "evt_1", "type": "customer.subscription.deleted"}'
NOW = 1_800_000_000


def header(at: int, body: bytes = BODY, secret: str = SECRET) -> str:
    return f"t={at},v1={signature(body, at, secret)}"


def test_a_header_signed_now_verifies() -> None:
    verify_signature(BODY, header(NOW), NOW, (SECRET,))


def test_the_signature_is_stripes_hmac_of_timestamp_dot_body() -> None:
    import stripe

    expected = stripe.WebhookSignature.generate_signature_header(BODY.decode(), SECRET, timestamp=NOW)
    assert header(NOW) == expected


def test_a_header_with_a_v0_and_several_v1_verifies_on_any_matching_v1() -> None:
    value = f"t={NOW},v1=00ff,v1={signature(BODY, NOW, SECRET)},v0=6ffbb59b2300aae63f27"
    verify_signature(BODY, value, NOW, (SECRET,))


def test_any_configured_secret_verifies() -> None:
    verify_signature(BODY, header(NOW, secret="whsec_old"), NOW, ("whsec_new", "whsec_old"))


def test_an_old_delivery_with_a_fresh_timestamp_put_in_front_is_refused() -> None:
    captured = header(NOW - 3600)
    for forged in (f"v0=0, t={NOW},{captured}", f"t={NOW},{captured}", f"{captured},t={NOW}"):
        with pytest.raises(InvalidSignatureError):
            verify_signature(BODY, forged, NOW, (SECRET,))


def test_an_old_delivery_with_its_timestamp_replaced_is_refused() -> None:
    old = header(NOW - 3600)
    with pytest.raises(InvalidSignatureError, match="No valid"):
        verify_signature(BODY, old.replace(f"t={NOW - 3600}", f"t={NOW}"), NOW, (SECRET,))


@pytest.mark.parametrize("offset", [-301, 301, -86_400, 86_400])
def test_a_stale_or_future_dated_signature_is_refused(offset: int) -> None:
    with pytest.raises(InvalidSignatureError, match="300 s"):
        verify_signature(BODY, header(NOW + offset), NOW, (SECRET,))


@pytest.mark.parametrize("offset", [-300, 300])
def test_the_tolerance_is_300_seconds_either_way(offset: int) -> None:
    verify_signature(BODY, header(NOW + offset), NOW, (SECRET,))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("garbage", "key=value"),
        (f"t={NOW}", "no `v1`"),
        (f"t={NOW},v0=abc", "no `v1`"),
        ("v1=abc", "exactly one"),
        (f"t={NOW},t={NOW},v1=abc", "exactly one"),
        (f" t={NOW},v1=abc", "ambiguous `t`"),
        (f"t={NOW}, v1=abc", "ambiguous `v1`"),
        (f"t ={NOW},v1=abc", "ambiguous `t`"),
        ("t=17e8,v1=abc", "whole Unix seconds"),
        ("t=-5,v1=abc", "whole Unix seconds"),
        ("t=,v1=abc", "whole Unix seconds"),
        (f"t={NOW}.5,v1=abc", "whole Unix seconds"),
        (f"t=\u0661{NOW},v1=abc", "whole Unix seconds"),
        (f"t={NOW},,v1=abc", "key=value"),
        (f"t={NOW},=abc,v1=abc", "key=value"),
    ],
)
def test_an_ambiguous_or_garbled_header_is_refused(value: str | None, reason: str) -> None:
    with pytest.raises(InvalidSignatureError, match=reason) as refused:
        parse_signature_header(value)
    assert refused.value.param == "Stripe-Signature"
    assert refused.value.status == 400


def test_the_timestamp_checked_is_the_one_the_signature_covers() -> None:
    parsed = parse_signature_header(header(NOW - 10))
    assert parsed.timestamp == NOW - 10
    assert parsed.signatures == (signature(BODY, NOW - 10, SECRET),)
