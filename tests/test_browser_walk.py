"""A walk through the whole course on a freshly started server, as a learner takes it: every
page from the sidebar, every step (the second with "Next", the rest with the step picker),
an answer to every "predict first" question, one move of every explorable's own slider, the
questions' filter and presenter mode, watching the network and the server's log. The course
must work offline and use no deprecated Streamlit API.

- The browser may ask only the served host for anything (no fonts, icons or scripts from
  elsewhere), so the course works in a classroom without internet.
- The server makes no connection and no name lookup beyond its loopback address
  (tests/audited_server.py logs both).
- Streamlit writes its deprecation notices to the server's log, not as Python warnings, so the
  log is read after the walk.
"""

import ast
import re
from urllib.parse import urlsplit

import pytest
from browser import (
    answer_every_guess,
    move_every_explorable,
    open_app,
    shown_dialogs,
    shown_exceptions,
    step_picker,
    wait_idle,
)
from conftest import start_app

from ui import course

# The walk runs once, on one worker, for all four checks.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("walk")]

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _check(tab, where: str, problems: list[str]) -> None:
    answer_every_guess(tab)  # the demo behind a "predict first" question opens
    problems += [f"{where}: the explorable '{title}' did not follow its slider"
                 for title in move_every_explorable(tab)]
    problems += [f"{where}: exception {text[:200]}" for text in shown_exceptions(tab)]
    problems += [f"{where}: dialog {text[:200]}" for text in shown_dialogs(tab)]
    main = tab.locator('[data-testid="stMain"]')
    if "Traceback" in main.inner_text():
        problems.append(f"{where}: a traceback on the page")


def _walk(tab, base: str) -> list[str]:
    """Take the whole course from the sidebar; return what went wrong on the way."""
    problems: list[str] = []
    open_app(tab, base, 60_000)
    nav = tab.locator(".st-key-course_nav")
    main = tab.locator('[data-testid="stMain"]')
    for stop in (*course.LESSONS, *course.TOOLS, course.HOME):
        nav.get_by_text(stop.title, exact=True).click()
        tab.wait_for_url(re.compile(rf"/{stop.slug}" if stop is not course.HOME else r"/$"))
        wait_idle(tab, 60_000)
        if tab.locator("h1").first.inner_text() != (
                "Dice to DPO" if stop is course.HOME else stop.title):
            problems.append(f"{stop.slug}: the sidebar opened another page")
        picker = step_picker(tab)
        for number, label in enumerate(picker[1] if picker else [], start=1):
            if number == 2:
                main.get_by_role("button", name=re.compile(r"^Next: ")).click()
            elif number > 2:
                tab.locator(f".st-key-{picker[0]} button").filter(
                    has_text=re.compile(rf"^{re.escape(label)}$")).click()
            if number > 1:
                tab.wait_for_url(re.compile(rf"_step={number}\."))
                wait_idle(tab, 60_000)
                heading = main.locator("h2, h3").filter(has_text=re.compile(rf"^{number}\. "))
                if heading.count() == 0:
                    problems.append(f"{stop.slug}: step {number} did not open")
            _check(tab, f"{stop.slug} step {number}", problems)
        if stop.slug == "questions":
            main.locator('[data-testid="stSelectbox"]').click()
            tab.get_by_role("option", name=course.lesson("ppo").title).click()
            tab.wait_for_url(re.compile(r"q_lesson="))
            wait_idle(tab, 60_000)
            if main.locator("h3").count() == 0:
                problems.append("questions: the filter left no question")
        if stop is course.HOME:
            tab.locator('[data-testid="stSidebar"]').get_by_text("Presenter mode").click()
            tab.wait_for_url(re.compile(r"presenter=true"))
            wait_idle(tab, 60_000)
        _check(tab, stop.slug, problems)
    return problems


def _contacted(audit_log: str) -> list[str]:
    """Addresses the server connected to or looked up, other than loopback and local sockets."""
    outside = []
    for line in audit_log.splitlines():
        event, _, where = line.partition("\t")
        target = ast.literal_eval(where)
        if isinstance(target, tuple):
            target = target[0]
        if isinstance(target, (bytes, str)) and str(target).startswith("/"):
            continue  # a Unix socket on this machine
        if str(target) not in LOOPBACK:
            outside.append(f"{event} {target}")
    return outside


@pytest.fixture(scope="module")
def walked(browser, tmp_path_factory):
    """The whole walk, once: (requests the browser made, problems seen, the server)."""
    # Started as the README's command starts it (no --server.address), as a deployment runs.
    served = start_app(tmp_path_factory.mktemp("walk"), address=None)
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    try:
        problems = _walk(tab, served.url) + errors
    finally:
        context.close()
        served.stop()
    return requests, problems, served


def test_the_walk_shows_no_exception_dialog_or_page_error(walked):
    _, problems, _ = walked
    assert problems == []


def test_the_browser_asks_only_the_served_host(walked):
    requests, _, served = walked
    assert len(requests) > 100  # the walk really loaded the app's files
    served_host = urlsplit(served.url).netloc
    elsewhere = sorted({url for url in requests
                        if urlsplit(url).scheme in ("http", "https", "ws", "wss")
                        and urlsplit(url).netloc != served_host})
    assert elsewhere == []


def test_the_server_contacts_nothing_beyond_loopback(walked):
    _, _, served = walked
    assert served.audit.exists()  # the server ran under the audit launcher
    assert _contacted(served.audit.read_text()) == []


def test_the_server_log_has_no_deprecation_notice(walked):
    _, _, served = walked
    log = served.log_text()
    assert "You can now view your Streamlit app" in log  # the log is the server's
    # Streamlit's notices say "deprecated", or "Please replace `old` with `new`" and "`old`
    # will be removed after <date>" (streamlit/deprecation_util.py)
    notices = [line for line in log.splitlines()
               if re.search(r"deprecat|will be removed|please replace", line, re.I)]
    assert notices == []
    assert "Traceback" not in log
