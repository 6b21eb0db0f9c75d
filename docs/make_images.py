"""Make the README's pictures from the served app: ``python docs/make_images.py``.

Serves the app on a free port, opens the start page in the system Chromium (as the browser
tests do) and saves what a learner sees first, at a desktop width, to docs/home.png.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser import open_app  # noqa: E402
from conftest import APP, CHROMIUM, CHROMIUM_ARGS, free_port, serve  # noqa: E402

HOME_PNG = ROOT / "docs" / "home.png"
VIEWPORT = {"width": 1440, "height": 1250}


def main() -> None:
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = serve(APP, port)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            open_app(page, f"http://127.0.0.1:{port}", timeout_ms=60_000)
            page.mouse.move(0, 0)  # no hover label on the map
            page.screenshot(path=str(HOME_PNG))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(f"wrote {HOME_PNG.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
