"""Shared fixtures: open a page through app.py in AppTest, serve the app, and drive Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def open_page(page: str, query_params: dict | None = None, timeout: float = 60) -> AppTest:
    """Run the app at ``page`` (e.g. "pages/kl_divergence.py"), opened with ``query_params``.

    AppTest renders the shared sidebar only on the first run of a navigation app, so sidebar
    checks belong to the home page (which needs no page switch) or to the browser tests.
    """
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.query_params.update(query_params or {})
    at.run()
    if page != "pages/home.py":
        at.switch_page(page)
        at.run()
    return at


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(script: Path, port: int) -> subprocess.Popen:
    """Start ``streamlit run script`` on localhost:port and wait until it is healthy."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not become healthy within 60 s")


@pytest.fixture(scope="session")
def app_url():
    port = free_port()
    proc = serve(APP, port)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="session")
def warm_app_url(app_url, browser):
    """The served app after one visit to its home page.

    Streamlit 1.67 answers the very first session of a fresh server that opens a deep link
    (e.g. /kl-divergence) with a "Page not found" dialog, although it then runs the right page.
    Tests of deep links start from a server that has served one session, as on a live host.
    """
    from browser import open_app

    context = browser.new_context()
    open_app(context.new_page(), app_url)
    context.close()
    return app_url


@pytest.fixture(scope="session")
def browser():
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        if IN_CI:
            pytest.fail(f"no Chromium at {CHROMIUM}: CI must run the browser tests")
        pytest.skip(f"no Chromium at {CHROMIUM} (install Debian's chromium to run these)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    yield tab
    context.close()
