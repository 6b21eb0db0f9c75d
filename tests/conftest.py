"""Shared fixtures: open a page through app.py in AppTest, serve the app, and drive Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
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


def pytest_collection_modifyitems(items):
    """Every browser test serves the app, so ``-m "not served"`` leaves out both kinds."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.served)


def open_page(page: str, query_params: dict | None = None, timeout: float = 60) -> AppTest:
    """Run the app at ``page`` (e.g. "app_pages/kl_divergence.py"), opened with
    ``query_params``: the course's frame (navigation, sidebar) and the page."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.query_params.update(query_params or {})
    at.run()
    if page != "app_pages/home.py":
        at.switch_page(page)
        at.run()
    return at


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive local ports that are free (deploy/serve.py gives its
    processes ports that follow each other)."""
    for _ in range(100):
        first = free_port()
        with contextlib.ExitStack() as held:
            try:
                for port in range(first + 1, first + count):
                    held.enter_context(socket.socket()).bind(("127.0.0.1", port))
            except OSError:
                continue
        return first
    raise RuntimeError(f"no {count} consecutive free ports")


def serve(script: Path, port: int, log: Path | None = None, audit: Path | None = None,
          address: str | None = "127.0.0.1", database: str | None = None,
          cwd: Path = ROOT) -> subprocess.Popen:
    """Start ``streamlit run script`` on port ``port`` and wait until it is healthy.

    ``log`` receives the server's output (else the caller reads ``proc.stderr``); with
    ``audit``, every network connection and name lookup the server makes is written there
    (see audited_server.py). ``address=None`` listens where ``streamlit run app.py`` does
    (every interface), as the README's command and a deployment do. ``cwd`` is where the
    server reads ``.streamlit/`` (another checkout of the course, for a comparison)."""
    launcher = [sys.executable, "-m", "streamlit"]
    env = dict(os.environ)
    if database is not None:
        env["DICE2DPO_DATABASE_URL"] = database  # class mode's rooms, for this server alone
    if audit is not None:
        launcher = [sys.executable, str(Path(__file__).with_name("audited_server.py"))]
        env["AUDIT_LOG"] = str(audit)
    output = log.open("wb") if log is not None else subprocess.PIPE
    proc = subprocess.Popen(
        [*launcher, "run", str(script), "--server.port", str(port),
         *(["--server.address", address] if address else []),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=cwd, stdout=output if log is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log is not None else output, env=env,
    )
    if log is not None:
        output.close()  # the server holds its own handle
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text()[-2000:] if log is not None else proc.stderr.read().decode()
            raise RuntimeError(f"streamlit exited: {tail[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not become healthy within 60 s")


@dataclass
class Served:
    """A running app: its address, process, log of its output and of its network use."""

    url: str
    proc: subprocess.Popen
    log: Path
    audit: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_app(folder: Path, script: Path = APP, address: str | None = "127.0.0.1") -> Served:
    """A freshly started server for ``script``, logging into ``folder``."""
    port = free_port()
    log, audit = folder / f"server-{port}.log", folder / f"network-{port}.log"
    proc = serve(script, port, log=log, audit=audit, address=address,
                 database=f"sqlite:///{folder / f'classroom-{port}.sqlite'}")
    return Served(f"http://127.0.0.1:{port}", proc, log, audit)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    served = start_app(tmp_path_factory.mktemp("app"))
    yield served
    served.stop()


@pytest.fixture(scope="session")
def app_url(app_server):
    return app_server.url


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
