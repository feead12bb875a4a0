"""`python -m localdev.kit_types` writes `chalicelib/kit/vip.d.ts`: the kit's types, generated from the
OpenAPI document (the schemas of the routes the kit calls) as stripe-node's are from Stripe's spec. One
source of truth; a test fails when the checked-in file differs from what this writes (run it after
changing those schemas).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "chalicelib" / "kit" / "vip.d.ts"
# The routes the kit calls: their request and response bodies, and what those refer to, become interfaces.
KIT_ROUTES = ("/v1/shopper/", "/v1/offer", "/v1/disclosure")

MODULE = """\
/** Where the API is and how to get the signed-in shopper's token (null for a guest). `token` is called
 * when a token is needed and once more after a 401; the brand's server mints it
 * (`POST /v1/members/{customer_ref}/session`). */
export interface VipConfig {
  api: string;
  token?: (() => Promise<string | null> | string | null) | null;
}
export declare function configure(options: VipConfig): void;
/** A failed call: `status` is the HTTP status (0: unreachable); `message` is short and readable. */
export declare class VipError extends Error {
  status: number;
}
export declare function request<T = unknown>(
  path: string,
  options?: { method?: string; body?: unknown; shopper?: boolean },
): Promise<T>;
export declare function offer(currency?: string): Promise<Offer>;
export declare function membership(): Promise<Membership | null>;
/** Minor units formatted as money in the page's locale (`<html lang>`, else the browser's). */
export declare function money(amount: number, currency: string): string;

/** The eligibility cart without a shopper: the `cart` attribute of `<vip-join-offer>` (JSON). */
export type VipCart = GuestCart;

declare global {
  interface HTMLElementTagNameMap {
    "vip-join-offer": HTMLElement;
    "vip-member-badge": HTMLElement;
    "vip-account": HTMLElement;
    "vip-disclosure": HTMLElement;
  }
  interface HTMLElementEventMap {
    "vip:render": Event;
    "vip:checkout": CustomEvent<CheckoutStarted>;
    "vip:cause": CustomEvent<string>;
    "vip:sign-in": Event;
  }
}
"""


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def ts_type(schema: dict[str, Any]) -> str:
    """A JSON Schema (as msgspec writes it) as a TypeScript type."""
    if "$ref" in schema:
        return _name(schema["$ref"])
    if "anyOf" in schema:
        return " | ".join(dict.fromkeys(ts_type(s) for s in schema["anyOf"]))
    if "enum" in schema:
        return " | ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in schema["enum"])
    if "const" in schema:
        return f'"{schema["const"]}"'
    kind = schema.get("type")
    if kind == "array":
        inner = ts_type(schema.get("items", {}))
        return f"({inner})[]" if "|" in inner else f"{inner}[]"
    if kind == "object":
        values = schema.get("additionalProperties")
        return f"Record<string, {ts_type(values)}>" if isinstance(values, dict) else "Record<string, unknown>"
    return {
        "string": "string",
        "integer": "number",
        "number": "number",
        "boolean": "boolean",
        "null": "null",
    }.get(str(kind), "unknown")


def _refs(schema: Any) -> list[str]:
    if isinstance(schema, dict):
        found = [_name(schema["$ref"])] if "$ref" in schema else []
        return found + [r for value in schema.values() for r in _refs(value)]
    if isinstance(schema, list):
        return [r for value in schema for r in _refs(value)]
    return []


def interface(name: str, schema: dict[str, Any]) -> str:
    lines = []
    if schema.get("description"):
        lines.append(f"/** {schema['description']} */")
    lines.append(f"export interface {name} {{")
    required = set(schema.get("required", []))
    for field, value in schema.get("properties", {}).items():
        optional = "" if field in required else "?"
        lines.append(f"  {field}{optional}: {ts_type(value)};")
    lines.append("}")
    return "\n".join(lines)


def generate(document: dict[str, Any]) -> str:
    schemas = document["components"]["schemas"]
    wanted: list[str] = []
    for path, operations in sorted(document["paths"].items()):
        if not path.startswith(KIT_ROUTES):
            continue
        for operation in operations.values():
            body = (
                operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            )
            answers = [
                a.get("content", {}).get("application/json", {}).get("schema")
                for code, a in operation["responses"].items()
                if code.startswith("2")
            ]
            wanted += _refs([body, *answers])
    seen: list[str] = []
    while wanted:
        name = wanted.pop(0)
        if name not in seen:
            seen.append(name)
            wanted += _refs(schemas[name])
    header = "// Generated by `python -m localdev.kit_types` from the OpenAPI document: do not edit.\n\n"
    return header + MODULE + "\n" + "\n\n".join(interface(n, schemas[n]) for n in sorted(seen)) + "\n"


def current() -> str:
    """The d.ts this code base generates (imports the app: the document comes from the route declarations)."""
    os.environ.setdefault("STAGE", "local")
    import app  # noqa: F401  (registers every route)
    from chalicelib.api.openapi import document

    return generate(document())


def main() -> None:
    TARGET.write_text(current(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
