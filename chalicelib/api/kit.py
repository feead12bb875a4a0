"""The storefront kit: `GET /kit/vip.js` (one ES module, no dependencies) and its types, `GET /kit/vip.d.ts`.

Also under a versioned path (`/kit/v<KIT_VERSION>/vip.js`) with `Cache-Control: immutable`, for pages that pin
it with Subresource Integrity (docs/storefront.md gives the hash; a test keeps it true). The files are read
on the first request of a container and kept: importing the app reads no file.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from chalice.app import Blueprint

from chalicelib.api.routing import PUBLIC, Call, Example, Reply, endpoint
from chalicelib.errors import NotFoundError

kit_api = Blueprint(__name__)

KIT_VERSION = "1.1.0"
ASSETS = Path(__file__).resolve().parent.parent / "kit"
JAVASCRIPT = "text/javascript; charset=utf-8"
TYPESCRIPT = "application/typescript; charset=utf-8"
# The unversioned path follows releases: caches revalidate after a few minutes.
LATEST = "public, max-age=300"
IMMUTABLE = "public, max-age=31536000, immutable"


@cache
def asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def integrity(name: str = "vip.js") -> str:
    """The Subresource Integrity value of a kit file (`sha384-...`)."""
    return "sha384-" + base64.b64encode(hashlib.sha384(asset(name).encode()).digest()).decode()


def _serve(name: str, content_type: str, cache_control: str) -> Reply:
    return Reply(
        asset(name),
        content_type=content_type,
        headers={"Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"},
    )


@endpoint(
    kit_api, "GET", "/kit/vip.js", summary="The storefront kit (ES module)", tag="kit", roles=PUBLIC,
    response=str, content_type=JAVASCRIPT, example=Example(response='export function configure(options) {…}'),
    description="One dependency-free ES module defining `<vip-join-offer>`, `<vip-member-badge>`, "
    "`<vip-account>` and `<vip-disclosure>`; any origin may import it.",
)  # fmt: skip
def vip_js(call: Call[Any, Any]) -> Reply:
    return _serve("vip.js", JAVASCRIPT, LATEST)


@endpoint(
    kit_api, "GET", "/kit/vip.d.ts", summary="TypeScript types of the kit", tag="kit", roles=PUBLIC,
    response=str, content_type=TYPESCRIPT,
    example=Example(response="export declare function configure(…): void;"),
    description="Generated from this OpenAPI document (`localdev/kit_types.py`).",
)  # fmt: skip
def vip_d_ts(call: Call[Any, Any]) -> Reply:
    return _serve("vip.d.ts", TYPESCRIPT, LATEST)


@endpoint(
    kit_api, "GET", "/kit/{version}/vip.js", summary="The storefront kit, pinned to a version", tag="kit",
    roles=PUBLIC, response=str, content_type=JAVASCRIPT, errors=(404,),
    example=Example(path={"version": f"v{KIT_VERSION}"}, response="export function configure(options) {…}"),
    description=f"`version` is `v{KIT_VERSION}` (404 for any other); served `immutable`, for pages that "
    "pin the file with Subresource Integrity.",
)  # fmt: skip
def vip_js_pinned(call: Call[Any, Any]) -> Reply:
    if call.path["version"] != f"v{KIT_VERSION}":
        raise NotFoundError(
            f"No kit version `{call.path['version']}`; this API serves v{KIT_VERSION}.",
            param="version", code="kit_version_not_found",
        )  # fmt: skip
    return _serve("vip.js", JAVASCRIPT, IMMUTABLE)
