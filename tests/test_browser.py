"""The served app in headless Chromium: what a learner's browser really shows."""

import re

import pytest
from browser import open_app, shown_dialogs, shown_exceptions, wait_idle

from ui import course

pytestmark = pytest.mark.browser


def test_home_renders(page, app_url):
    open_app(page, app_url)
    assert page.locator("h1").first.inner_text() == "Dice to DPO"
    assert shown_exceptions(page) == []
    assert shown_dialogs(page) == []
    assert "Traceback" not in page.content()


def test_navigation_reaches_every_page(page, warm_app_url):
    open_app(page, warm_app_url)
    nav = page.locator('[data-testid="stSidebarNav"]')
    for lesson in course.LESSONS:
        nav.get_by_text(lesson.title, exact=True).click()
        page.wait_for_url(re.compile(rf"/{lesson.slug}"))
        wait_idle(page)
        assert page.locator("h1").first.inner_text() == lesson.title
        assert shown_exceptions(page) == [], lesson.slug
    for lesson in course.LESSONS:
        open_app(page, f"{warm_app_url}/{lesson.slug}")
        assert page.locator("h1").first.inner_text() == lesson.title
        assert shown_exceptions(page) == [], lesson.slug
        assert shown_dialogs(page) == [], lesson.slug


def test_presenter_mode_and_share_link(page, app_url):
    open_app(page, app_url)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Presenter mode").click()
    page.wait_for_url(re.compile(r"presenter=true"))
    sidebar.get_by_role("button", name="Link to this view").click()
    code = sidebar.locator('[data-testid="stCode"]')
    code.wait_for()
    assert code.inner_text().strip() == f"{app_url}?presenter=true"
    page.reload()
    wait_idle(page)
    assert sidebar.get_by_role("switch", name="Presenter mode").is_checked()
