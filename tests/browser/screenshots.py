"""Screenshots of the dashboard for docs/dashboard.md, from a running `make dev` (seeded):

.venv/bin/python -m tests.browser.screenshots [http://127.0.0.1:8000] [docs/images]
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.browser.conftest import BRAND_KEY, CHROMIUM, CHROMIUM_FLAGS


def main() -> None:
    from playwright.sync_api import sync_playwright

    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/images")
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        for width, suffix in ((1280, ""), (390, "-390px")):
            page = browser.new_page(
                viewport={"width": width, "height": 900}, locale="en-US", device_scale_factor=1
            )
            page.goto(f"{base}/dashboard")
            if not suffix:
                page.screenshot(path=out / "dashboard-sign-in.png")
            page.get_by_label("Brand API key").fill(BRAND_KEY)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("status").filter(has_text="Showing").wait_for(timeout=120_000)
            for view in ("Donations", "Memberships", "Program"):
                page.get_by_role("button", name=view).click()
                page.screenshot(path=out / f"dashboard-{view.lower()}{suffix}.png", full_page=True)
                if suffix:
                    break
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
