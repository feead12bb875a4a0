"""Web origins: which pages may call the browser-facing routes, and where a shopper's URLs may lead."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """`https://Shop.example.com:443/a?b` → `https://shop.example.com`; None for anything that is not an
    http(s) URL with a host, or that carries credentials (`https://shop.example.com@evil.example/`)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    suffix = f":{port}" if port is not None and port != _DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{host}{suffix}"


def on_origins(url: str, origins: Iterable[str]) -> bool:
    """`url` leads to one of `origins` (compared as origins: scheme, host and port)."""
    allowed = {origin_of(o) for o in origins} - {None}
    return origin_of(url) in allowed
