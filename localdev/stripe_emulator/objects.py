"""Stripe objects built from Stripe's own sample fixtures, so every field name is the real one.

`fixtures.json` holds objects copied unchanged from Stripe's OpenAPI fixtures (MIT, see LICENSE), of
API version 2026-07-29.dahlia; `VERSION_CHANGES` lists what 2026-10-28.endive (the version stripe-python
16 pins, and so the emulator's) added to or removed from those objects, as the SDK's classes say.
`build(kind, ...)` takes those field names: the meaningful ones from its caller, the rest from `DEFAULTS`
(defaults.py). Together they must give every field of the sample and no other: an object can neither miss
a field Stripe sends nor carry one Stripe does not, and no sample value leaks into emulated data. A test
compares every emulated object, nested fields included, with the SDK's classes.
"""

from __future__ import annotations

import copy
import json
import secrets
import string
from functools import cache
from pathlib import Path
from typing import Any

from localdev.stripe_emulator.defaults import DEFAULTS

FIXTURES = Path(__file__).with_name("fixtures.json")
_ALPHABET = string.ascii_letters + string.digits


# kind → (fields endive added, fields endive removed) against the dahlia samples.
VERSION_CHANGES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "checkout.session": (("allowed_payment_method_types",), ()),
    "invoice": (("amount_paid_off_stripe",), ("subscription",)),
    "product": (("tax_details",), ()),
    "subscription_item": (("current_trial",), ()),
}


@cache
def samples() -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = json.loads(FIXTURES.read_text())["resources"]
    for kind, (added, removed) in VERSION_CHANGES.items():
        sample = {k: v for k, v in resources[kind].items() if k not in removed}
        resources[kind] = {**sample, **dict.fromkeys(added)}
    return resources


def build(kind: str, **fields: Any) -> dict[str, Any]:
    """A `kind` object (e.g. "subscription") with exactly the fields of Stripe's sample."""
    sample = samples()[kind]
    given = {**DEFAULTS.get(kind, {}), **fields}
    for constant, value in (("object", sample.get("object")), ("livemode", False)):
        if constant in sample:
            given[constant] = value
    unknown = set(given) - set(sample)
    missing = set(sample) - set(given)
    if unknown or missing:
        raise KeyError(f"{kind}: fields not in Stripe's sample {sorted(unknown)}, unset {sorted(missing)}")
    return {key: copy.deepcopy(given[key]) for key in sample}


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(length))}"
