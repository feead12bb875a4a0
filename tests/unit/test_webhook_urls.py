"""Which webhook URLs and resolved addresses the service may call."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from chalicelib.outbound.urls import UnsafeUrlError, check_url, forbidden_address, resolve_safely

REFUSED_URLS = {
    "plain http": "http://hooks.example.com/x",
    "another scheme": "ftp://hooks.example.com/x",
    "private 10/8": "https://10.1.2.3/x",
    "private 172.16/12": "https://172.16.0.9/x",
    "private 192.168/16": "https://192.168.1.1/x",
    "loopback": "https://127.0.0.1/x",
    "loopback elsewhere in 127/8": "https://127.9.9.9/x",
    "loopback name": "https://localhost/x",
    "loopback IPv6": "https://[::1]/x",
    "link-local": "https://169.254.10.10/x",
    "AWS metadata": "https://169.254.169.254/latest/meta-data",
    "AWS metadata IPv6": "https://[fd00:ec2::254]/x",
    "unspecified": "https://0.0.0.0/x",
    "unspecified IPv6": "https://[::]/x",
    "multicast": "https://224.0.0.1/x",
    "multicast IPv6": "https://[ff02::1]/x",
    "carrier-grade NAT": "https://100.64.0.1/x",
    "IPv4-mapped loopback": "https://[::ffff:127.0.0.1]/x",
    "IPv4-mapped metadata": "https://[::ffff:169.254.169.254]/x",
    "IPv4-mapped private": "https://[::ffff:10.0.0.1]/x",
    "decimal loopback": "https://2130706433/x",
    "hex loopback": "https://0x7f.1/x",
    "unique local IPv6": "https://[fc00::1]/x",
    "link-local IPv6": "https://[fe80::1]/x",
    "internal name": "https://metadata.google.internal/x",
    "single-label name": "https://intranet/x",
    "credentials": "https://user:pass@hooks.example.com/x",
    "no host": "https:///x",
}


@pytest.mark.parametrize("url", REFUSED_URLS.values(), ids=REFUSED_URLS.keys())
def test_unsafe_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrlError):
        check_url(url, allow_loopback=False)


def test_public_https_urls_are_accepted() -> None:
    target = check_url("https://hooks.example.com:8443/vip?x=1", allow_loopback=False)
    assert (target.host, target.port, target.path) == ("hooks.example.com", 8443, "/vip?x=1")
    assert check_url("https://93.184.216.34/x", allow_loopback=False).port == 443


def test_loopback_http_with_a_port_only_where_loopback_is_allowed() -> None:
    assert check_url("http://127.0.0.1:9000/hooks", allow_loopback=True).loopback
    assert check_url("http://localhost:9000/hooks", allow_loopback=True).loopback
    for url in ("http://127.0.0.1:9000/hooks", "http://localhost:9000/hooks"):
        with pytest.raises(UnsafeUrlError):
            check_url(url, allow_loopback=False)
    with pytest.raises(UnsafeUrlError):  # no port: not a developer's receiver
        check_url("http://localhost/hooks", allow_loopback=True)
    with pytest.raises(UnsafeUrlError):  # loopback allowance is for loopback only
        check_url("http://10.0.0.1:9000/hooks", allow_loopback=True)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "1.1.1.1"],
)  # fmt: skip
def test_public_addresses_may_be_called(address: str) -> None:
    assert forbidden_address(ipaddress.ip_address(address)) is None


def test_a_name_that_resolves_inward_is_not_called(monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the name passed registration, then resolves to the metadata address."""

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    target = check_url("https://hooks.example.com/x", allow_loopback=False)
    with pytest.raises(UnsafeUrlError, match="link-local"):
        resolve_safely(target)


def test_a_name_with_one_inward_answer_among_public_ones_is_not_called(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = [("93.184.216.34", 443), ("10.0.0.5", 443)]

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", answer) for answer in answers]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(UnsafeUrlError, match="private"):
        resolve_safely(check_url("https://hooks.example.com/x", allow_loopback=False))


def test_the_checked_address_is_the_one_connected_to(monkeypatch: pytest.MonkeyPatch) -> None:
    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    assert resolve_safely(check_url("https://hooks.example.com/x", allow_loopback=False)) == "93.184.216.34"
