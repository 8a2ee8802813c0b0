"""Debian's headless Chromium driven by Playwright, for the console's browser tests and the
README's screenshots. Playwright's own browser download is never used."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
#: Headless, and nothing that reaches the network by itself (this machine has none but
#: loopback). Playwright gives every launch a fresh, empty user-data-dir of its own.
ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
MISSING = (
    f"browser tests skipped: Debian's Chromium is not installed at {CHROMIUM} "
    "(make install installs it when run as root: apt-get install chromium)"
)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """One headless Chromium for the caller's pages."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(ARGS)
        )
        try:
            yield browser
        finally:
            await browser.close()
