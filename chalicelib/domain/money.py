"""Money is an integer count of minor units plus a lowercase ISO 4217 currency, as Stripe has it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from msgspec import Meta

MAX_AMOUNT = 100_000_000_00

# Currencies Stripe can charge in (lowercase ISO 4217).
CURRENCIES = frozenset(
    [
        "aed",
        "afn",
        "all",
        "amd",
        "ang",
        "aoa",
        "ars",
        "aud",
        "awg",
        "azn",
        "bam",
        "bbd",
        "bdt",
        "bgn",
        "bhd",
        "bif",
        "bmd",
        "bnd",
        "bob",
        "brl",
        "bsd",
        "bwp",
        "byn",
        "bzd",
        "cad",
        "cdf",
        "chf",
        "clp",
        "cny",
        "cop",
        "crc",
        "cve",
        "czk",
        "djf",
        "dkk",
        "dop",
        "dzd",
        "egp",
        "etb",
        "eur",
        "fjd",
        "fkp",
        "gbp",
        "gel",
        "gip",
        "gmd",
        "gnf",
        "gtq",
        "gyd",
        "hkd",
        "hnl",
        "htg",
        "huf",
        "idr",
        "ils",
        "inr",
        "isk",
        "jmd",
        "jod",
        "jpy",
        "kes",
        "kgs",
        "khr",
        "kmf",
        "krw",
        "kwd",
        "kyd",
        "kzt",
        "lak",
        "lbp",
        "lkr",
        "lrd",
        "lsl",
        "mad",
        "mdl",
        "mga",
        "mkd",
        "mmk",
        "mnt",
        "mop",
        "mur",
        "mvr",
        "mwk",
        "mxn",
        "myr",
        "mzn",
        "nad",
        "ngn",
        "nio",
        "nok",
        "npr",
        "nzd",
        "omr",
        "pab",
        "pen",
        "pgk",
        "php",
        "pkr",
        "pln",
        "pyg",
        "qar",
        "ron",
        "rsd",
        "rub",
        "rwf",
        "sar",
        "sbd",
        "scr",
        "sek",
        "sgd",
        "shp",
        "sle",
        "sos",
        "srd",
        "std",
        "szl",
        "thb",
        "tjs",
        "tnd",
        "top",
        "try",
        "ttd",
        "twd",
        "tzs",
        "uah",
        "ugx",
        "usd",
        "uyu",
        "uzs",
        "vnd",
        "vuv",
        "wst",
        "xaf",
        "xcd",
        "xof",
        "xpf",
        "yer",
        "zar",
        "zmw",
    ]
)

# Minor-unit exponent where it is not 2 (for formatting decimal amounts in exports).
_EXPONENTS = {
    c: 0
    for c in [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
}
_EXPONENTS.update({c: 3 for c in ["bhd", "jod", "kwd", "omr", "tnd"]})

Amount = Annotated[int, Meta(ge=0, le=MAX_AMOUNT, description="Integer minor units (cents).")]
_CURRENCY_META = Meta(description="Lowercase ISO 4217 code Stripe charges in, e.g. `usd`.", examples=["usd"])
if TYPE_CHECKING:
    Currency = Annotated[str, _CURRENCY_META]
else:
    # An enum in the OpenAPI document and in the decoder alike: a generated client offers the codes the
    # service accepts, and any other code is a 400 naming the field before any service code runs.
    Currency = Annotated[Literal[tuple(sorted(CURRENCIES))], _CURRENCY_META]
BasisPoints = Annotated[int, Meta(ge=0, le=10_000, description="Basis points: 100 = 1 %.")]


def round_half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, in exact integer arithmetic (non-negative inputs)."""
    if denominator <= 0 or numerator < 0:
        raise ValueError("round_half_up_div takes a non-negative numerator and a positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


def apply_bps(amount: int, bps: int) -> int:
    """amount × bps / 10 000, rounded half up."""
    return round_half_up_div(amount * bps, 10_000)


def apply_percent(amount: int, percent: int) -> int:
    """amount × percent / 100, rounded half up."""
    return round_half_up_div(amount * percent, 100)


def format_decimal(amount: int, currency: str) -> str:
    """Minor units as a plain decimal string in the currency's major unit: 12345 usd → "123.45"."""
    exponent = _EXPONENTS.get(currency, 2)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**exponent)
    return f"{sign}{whole}.{fraction:0{exponent}d}" if exponent else f"{sign}{whole}"
