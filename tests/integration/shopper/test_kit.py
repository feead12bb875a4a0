"""The storefront kit as served: one small dependency-free module, its generated types, a pinned version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chalicelib.api.kit import KIT_VERSION, integrity
from localdev import kit_size, kit_types

ROOT = Path(__file__).resolve().parents[3]


def test_the_kit_with_everything_it_imports_is_at_most_15_kb_gzipped() -> None:
    size = kit_size.gzipped_bytes()
    assert size <= kit_size.BUDGET_BYTES, kit_size.report()


def test_the_kit_imports_nothing_from_outside() -> None:
    source = (kit_size.KIT / "vip.js").read_text()
    assert [m.name for m in kit_size.modules()] == ["vip.js"]
    assert "import(" not in source and "http" not in source.split("export function configure")[0]


def test_the_types_are_generated_from_the_current_openapi_document() -> None:
    checked_in = kit_types.TARGET.read_text(encoding="utf-8")
    assert checked_in == kit_types.current(), (
        "run `python -m localdev.kit_types` and commit chalicelib/kit/vip.d.ts"
    )
    for name in ("interface Membership", "interface Offer", "interface Disclosure", "interface JoinPreview"):
        assert name in checked_in


def test_the_kit_is_served_as_a_javascript_module(client: Any) -> None:
    response = client.http.get("/kit/vip.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.body.decode() == (kit_size.KIT / "vip.js").read_text()
    types = client.http.get("/kit/vip.d.ts")
    assert types.status_code == 200 and b"export declare function configure" in types.body


def test_the_versioned_kit_is_immutable_and_other_versions_are_404(client: Any) -> None:
    pinned = client.http.get(f"/kit/v{KIT_VERSION}/vip.js")
    assert pinned.status_code == 200
    assert pinned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert pinned.body == client.http.get("/kit/vip.js").body
    assert client.http.get("/kit/v0.0.1/vip.js").status_code == 404


def test_the_documented_sri_hash_is_the_served_files() -> None:
    docs = (ROOT / "docs" / "storefront.md").read_text()
    assert f'integrity="{integrity()}"' in docs
    assert f"/kit/v{KIT_VERSION}/vip.js" in docs
