"""One seeded `make dev` stack and one headless Debian Chromium for the dashboard's browser tests.

Chromium is Debian's (`make test` installs it when missing); Playwright drives it through
`executable_path`, with the flags this closed network needs. Each test gets a fresh browser
context (its own sessionStorage) and fails on any console error or uncaught page error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Stack, dev_stack
from tests.helpers import CHROMIUM, CHROMIUM_OFFLINE_FLAGS

CHROMIUM_FLAGS = ["--headless=new", *CHROMIUM_OFFLINE_FLAGS]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
BRAND_KEY = "local-brand-key"
# A small history keeps the module fast; the figures are checked against the API, whatever their size.
DEMO_SHOPPERS = "48"


# Module scope: the stack and the browser stop when the dashboard tests end, so later tests that start
# Playwright's sync API themselves (the emulator's hosted pages) do not find its loop still running.
@pytest.fixture(scope="module")
def seeded_stack() -> Iterator[Stack]:
    with dev_stack({"SEED": "demo", "DEMO_SHOPPERS": DEMO_SHOPPERS}, ready_within=240) as running:
        yield running


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run `make browser` (as root)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


# Chromium logs every 4xx answer as "Failed to load resource"; the page shows those (wrong key, over
# balance) itself, so they are checked through the requests instead: nothing off the stack, no 5xx.
NETWORK_LOG = "Failed to load resource: the server responded with a status of 4"


@pytest.fixture
def page(chromium: Any, seeded_stack: Stack) -> Iterator[Any]:
    """A fresh tab on the dashboard (desktop size). Console errors, page errors, requests that leave
    the stack and server errors fail the test."""
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", accept_downloads=True
    )
    tab = context.new_page()
    errors: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith(NETWORK_LOG):
            errors.append(message.text)

    def response(answer: Any) -> None:
        if not answer.url.startswith((seeded_stack.api + "/", "blob:", "data:")):
            errors.append(f"request off the stack: {answer.url}")
        if answer.status >= 500:
            errors.append(f"{answer.status} from {answer.url}")

    tab.on("console", console)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("response", response)
    tab.goto(f"{seeded_stack.api}/dashboard")
    yield tab
    context.close()
    assert errors == [], f"errors in the page: {errors}"


@pytest.fixture(scope="session")
def axe_source() -> str:
    source = AXE.read_bytes()
    assert hashlib.sha256(source).hexdigest() == AXE_SHA256, "vendored axe.min.js does not match its checksum"
    return source.decode()


class Brand:
    """The brand API of the seeded stack, to compare the page with."""

    def __init__(self, stack: Stack) -> None:
        self.base = stack.api
        self.headers = {"Authorization": f"Bearer {BRAND_KEY}"}

    def get(self, path: str, **params: str) -> Any:
        response = requests.get(f"{self.base}{path}", params=params, headers=self.headers, timeout=30)
        response.raise_for_status()
        if response.headers["Content-Type"].startswith("application/json"):
            return response.json()
        return response.content

    def totals(self) -> dict[tuple[str, str], dict[str, Any]]:
        """All-time donation totals per (cause, currency)."""
        report = self.get("/v1/reports/donations", **{"from": "2000-01", "to": "2000-01"})
        return {(t["cause_id"], t["currency"]): t for t in report["totals"]}


@pytest.fixture
def brand(seeded_stack: Stack) -> Brand:
    return Brand(seeded_stack)
