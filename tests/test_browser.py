"""The sidebar's controls in headless Chromium: presenter mode and the link to this view."""

import re

import pytest
from browser import open_app, wait_idle

pytestmark = pytest.mark.browser


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
