"""Which URLs lead to a storefront origin: compared as origins (scheme, host, port), never as text."""

from __future__ import annotations

import pytest

from chalicelib.domain.origins import on_origins, origin_of

SHOP = ["https://shop.example.com", "http://localhost:3000"]


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Shop.Example.com/a?b#c", "https://shop.example.com"),
        ("https://shop.example.com:443/", "https://shop.example.com"),
        ("http://localhost:3000/demo-store?joined=1", "http://localhost:3000"),
        ("https://[::1]:8443/x", "https://[::1]:8443"),
        ("javascript://shop.example.com/%0aalert(1)", None),
        ("https://user:pw@shop.example.com/", None),
        ("https:///path-only", None),
        ("https://shop.example.com:99999/", None),
    ],
)
def test_the_origin_of_a_url(url: str, origin: str | None) -> None:
    assert origin_of(url) == origin


@pytest.mark.parametrize(
    "url", ["https://shop.example.com/vip", "https://SHOP.example.com:443/", "http://localhost:3000/"]
)
def test_urls_on_the_storefront_are_allowed(url: str) -> None:
    assert on_origins(url, SHOP)


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example.com.evil.example/", "https://evil.example/?https://shop.example.com",
        "http://shop.example.com/", "https://shop.example.com:8443/", "http://localhost:3001/",
        "https://shop.example.com@evil.example/", "//shop.example.com/",
    ],
)  # fmt: skip
def test_urls_elsewhere_are_refused(url: str) -> None:
    assert not on_origins(url, SHOP)
