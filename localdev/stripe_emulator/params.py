"""Stripe's request encoding (form-encoded, `a[b][0]=x`) into typed parameters, with Stripe's errors.

Each resource module declares the parameters its endpoints accept; anything else is refused as Stripe
refuses it ("Received unknown parameter"), so a typo in the service fails here as it would against Stripe.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from localdev.stripe_emulator.errors import StripeError

Spec = dict[str, Any]
_TOKEN = re.compile(r"\[([^\]]*)\]")


def parse_form(raw: str) -> dict[str, Any]:
    """`metadata[k]=x&lookup_keys[0]=a&expand[]=b` → {"metadata": {"k": "x"}, "lookup_keys": ["a"], …}."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        head = key.split("[", 1)[0]
        path = [head, *_TOKEN.findall(key[len(head) :])]
        node: dict[str, Any] = root
        for index, part in enumerate(path):
            last = index == len(path) - 1
            if part == "":  # `expand[]`: append
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    parsed: dict[str, Any] = _lists(root)
    return parsed


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def _fail(param: str, message: str) -> StripeError:
    return StripeError(message, code="parameter_invalid", param=param)


def string(value: Any, param: str) -> str | None:
    if not isinstance(value, str):
        raise _fail(param, f"Invalid string: {value!r}")
    return value or None


def integer(value: Any, param: str) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise _fail(param, f"Invalid integer: {value}")
    return int(value)


def boolean(value: Any, param: str) -> bool:
    if value not in ("true", "false"):
        raise _fail(param, f"Invalid boolean: {value}")
    return bool(value == "true")


def metadata(value: Any, param: str) -> dict[str, str] | str:
    if value == "":
        return ""
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _fail(param, "Invalid metadata: pass keys as metadata[key]=value.")
    if len(value) > 50:
        raise _fail(param, "Metadata can have up to 50 keys.")
    return dict(value)


def strings(value: Any, param: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(param, f"Invalid array: {param}")
    return list(value)


def one_of(*allowed: str) -> Callable[[Any, str], str]:
    def check(value: Any, param: str) -> str:
        if value not in allowed:
            raise _fail(param, f"Invalid {param}: must be one of {', '.join(allowed)}")
        return str(value)

    check.allowed = allowed  # type: ignore[attr-defined]  # the SDK-fidelity test compares them
    return check


def parse(params: dict[str, Any], spec: Spec, prefix: str = "") -> dict[str, Any]:
    """Validate and convert `params` by `spec` (name → converter, nested spec dict, or [spec] for arrays)."""
    result: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if key not in spec:
            raise StripeError(f"Received unknown parameter: {name}", code="parameter_unknown", param=name)
        rule = spec[key]
        if isinstance(rule, dict):
            if value == "":
                result[key] = None
                continue
            if not isinstance(value, dict):
                raise _fail(name, f"Invalid object: {name}")
            result[key] = parse(value, rule, name)
        elif isinstance(rule, list):
            if not isinstance(value, list):
                raise _fail(name, f"Invalid array: {name}")
            result[key] = [
                parse(item, rule[0], f"{name}[{index}]") if isinstance(item, dict) else _bad_item(name, index)
                for index, item in enumerate(value)
            ]
        else:
            result[key] = rule(value, name)
    return result


def _bad_item(name: str, index: int) -> dict[str, Any]:
    raise _fail(f"{name}[{index}]", f"Invalid object: {name}[{index}]")


def require(params: dict[str, Any], *names: str) -> None:
    for name in names:
        if params.get(name) in (None, ""):
            raise StripeError(f"Missing required param: {name}.", code="parameter_missing", param=name)


EXPAND: Spec = {"expand": strings}
LIST: Spec = {"limit": integer, "starting_after": string, "ending_before": string, **EXPAND}
