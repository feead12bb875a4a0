"""Money rules: integer minor units, round half up, exact decimal formatting."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.money import (
    MAX_AMOUNT,
    apply_bps,
    apply_percent,
    format_decimal,
    round_half_up_div,
)

amounts = st.integers(min_value=0, max_value=MAX_AMOUNT)


@given(amounts, st.integers(min_value=1, max_value=10**12))
def test_round_half_up_matches_exact_fraction(numerator: int, denominator: int) -> None:
    exact = Fraction(numerator, denominator)
    result = round_half_up_div(numerator, denominator)
    assert result - Fraction(1, 2) <= exact < result + Fraction(1, 2)


@pytest.mark.parametrize(
    ("amount", "bps", "expected"),
    [
        (250, 200, 5),
        (25, 200, 1),
        (24, 200, 0),
        (75, 200, 2),
        (1, 5000, 1),
        (1, 4999, 0),
        (10_000, 10_000, 10_000),
    ],
)
def test_apply_bps_rounds_half_up(amount: int, bps: int, expected: int) -> None:
    assert apply_bps(amount, bps) == expected


@given(amounts, st.integers(min_value=0, max_value=10_000))
def test_apply_bps_never_exceeds_amount_and_is_never_negative(amount: int, bps: int) -> None:
    assert 0 <= apply_bps(amount, bps) <= amount


@given(amounts, st.integers(min_value=1, max_value=100))
def test_apply_percent_stays_within_the_amount(amount: int, percent: int) -> None:
    assert 0 <= apply_percent(amount, percent) <= amount


def test_half_a_cent_rounds_up() -> None:
    assert apply_percent(5, 10) == 1  # 0.5 → 1
    assert apply_percent(15, 10) == 2  # 1.5 → 2


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (12345, "usd", "123.45"),
        (5, "usd", "0.05"),
        (-250, "eur", "-2.50"),
        (500, "jpy", "500"),
        (1234, "kwd", "1.234"),
    ],
)
def test_format_decimal_uses_the_currency_exponent(amount: int, currency: str, text: str) -> None:
    assert format_decimal(amount, currency) == text


def test_round_half_up_refuses_negative_inputs() -> None:
    with pytest.raises(ValueError):
        round_half_up_div(-1, 2)
