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


def test_walk_the_whole_course_with_one_interaction_per_page(page, warm_app_url):
    """Every page from the sidebar, then one thing a learner does there: the next step of a
    lesson, the lesson filter of the questions, presenter mode on the home page."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    open_app(page, warm_app_url)
    nav = page.locator('[data-testid="stSidebarNav"]')
    main = page.locator('[data-testid="stMain"]')
    for stop in (course.HOME, *course.LESSONS):
        nav.get_by_text(stop.title, exact=True).click()
        if stop is not course.HOME:
            page.wait_for_url(re.compile(rf"/{stop.slug}"))
        wait_idle(page)
        following = main.get_by_role("button", name=re.compile(r"^Next: "))
        if following.count():
            following.click()
            page.wait_for_url(re.compile(r"_step=2\."))
            wait_idle(page)
            assert page.locator("h2").first.inner_text().startswith("2. "), stop.slug
        elif stop.slug == "questions":
            main.locator('[data-testid="stSelectbox"]').click()
            page.get_by_role("option", name=course.lesson("ppo").title).click()
            page.wait_for_url(re.compile(r"q_lesson="))
            wait_idle(page)
            assert main.locator("h3").count() >= 1
        else:
            page.locator('[data-testid="stSidebar"]').get_by_text("Presenter mode").click()
            page.wait_for_url(re.compile(r"presenter=true"))
            wait_idle(page)
        assert shown_exceptions(page) == [], stop.slug
        assert shown_dialogs(page) == [], stop.slug
        assert "Traceback" not in main.inner_text(), stop.slug
    assert errors == []
