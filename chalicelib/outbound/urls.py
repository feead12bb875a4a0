"""Which webhook URLs and addresses the service may call.

`https://` only (plain `http://` to loopback with an explicit port on the local stage); never a private,
loopback, link-local, cloud-metadata, unspecified, multicast, carrier-grade NAT or otherwise non-global
address, also when written as IPv4-mapped (or 6to4, Teredo) IPv6. Checked on the URL when an endpoint is
registered, and on every resolved address before each delivery attempt (`resolve_safely`), which then
connects to that very address: a name that later resolves inward is never called.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1"})
# Names that only ever mean something inside a network.
_INWARD_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrlError(ValueError):
    """The URL (or the address it resolves to) is not one the service may call."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    # Path and query, as sent in the request line.
    path: str
    # The URL names a loopback address allowed on the local stage.
    loopback: bool


def forbidden_address(address: IpAddress) -> str | None:
    """Why the service may not call `address` (None: a public address it may call)."""
    if isinstance(address, ipaddress.IPv6Address):
        for embedded in (address.ipv4_mapped, address.sixtofour, (address.teredo or (None, None))[1]):
            if embedded is not None:
                return forbidden_address(embedded)
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local (cloud metadata)"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network("100.64.0.0/10"):
        return "carrier-grade NAT"
    if address.is_private:
        return "private"
    if address.is_reserved or not address.is_global:
        return "not a public address"
    return None


def check_url(url: str, *, allow_loopback: bool) -> Target:
    """The URL's parts when the service may call it; `UnsafeUrlError` saying why not."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrlError(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise UnsafeUrlError("The URL contains whitespace or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrlError(f"The URL is not valid: {exc}.") from exc
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeUrlError("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrlError("The URL may not carry a user name or password.")
    if parts.fragment:
        raise UnsafeUrlError("The URL may not have a fragment.")
    loopback = host in LOOPBACK_NAMES
    if parts.scheme == "http":
        if not (allow_loopback and loopback and port is not None):
            raise UnsafeUrlError(
                "The URL must use https:// (http:// only to 127.0.0.1 or localhost with a port, locally)."
            )
    elif parts.scheme != "https":
        raise UnsafeUrlError("The URL must use https://.")
    # Loopback is the developer's own receiver: allowed locally, and only with the port it listens on.
    loopback = loopback and allow_loopback and port is not None
    if not loopback:
        _check_host(host)
    path = parts.path or "/"
    return Target(
        scheme=parts.scheme,
        host=host,
        port=port or (443 if parts.scheme == "https" else 80),
        path=f"{path}?{parts.query}" if parts.query else path,
        loopback=loopback,
    )


def _check_host(host: str) -> None:
    literal = _literal(host)
    if literal is not None:
        why = forbidden_address(literal)
        if why is not None:
            raise UnsafeUrlError(f"The URL names a {why} address.")
        return
    if host in LOOPBACK_NAMES or host.endswith(_INWARD_SUFFIXES) or "." not in host:
        raise UnsafeUrlError("The URL names a host that is only reachable inside a network.")


def _literal(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:  # 2130706433, 0x7f.1, 017700000001: spellings the resolver reads as IPv4 addresses
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def resolve_safely(target: Target) -> str:
    """The address to connect to: every address the host resolves to must be callable.

    Refusing when any address is inward (rather than picking a public one) keeps a name that mixes
    public and private answers from ever reaching the inside.
    """
    try:
        answers = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UnsafeUrlError(f"The host does not resolve ({exc.strerror or exc}).") from exc
    addresses = [ipaddress.ip_address(str(answer[4][0]).split("%", 1)[0]) for answer in answers]
    if not addresses:
        raise UnsafeUrlError("The host resolves to no address.")
    for address in addresses:
        why = forbidden_address(address)
        if why is not None and not (target.loopback and address.is_loopback):
            raise UnsafeUrlError(f"The host resolves to a {why} address.")
    return str(addresses[0])
