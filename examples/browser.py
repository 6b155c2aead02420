"""Opening a slopes page in Debian's chromium for a picture (the examples' make_*_picture.py).

Playwright drives the chromium the system has (``apt-get install -y chromium``); it
cannot download a browser of its own here. The flags keep chromium headless and off
the network.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@contextlib.contextmanager
def opened_page(page_file: Path, width: int, height: int, slider: float) -> Iterator[Any]:
    """The page ``page_file`` loaded in chromium at ``width`` x ``height`` (1.5x pixels),
    its epoch slider moved to ``slider`` (0 to 1) of the way; a Playwright page."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed: apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height},
                                device_scale_factor=1.5)
        page.goto(page_file.resolve().as_uri())
        page.wait_for_selector("body[data-ready=yes]")
        page.locator("#epoch").evaluate(
            f"el => {{ el.value = String(Math.round(el.max * {slider})); "
            "el.dispatchEvent(new Event('input')); }")
        try:
            yield page
        finally:
            browser.close()
