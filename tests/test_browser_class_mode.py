"""Class mode in headless Chromium: one teacher and three students in their own browsers. The
teacher's projected view follows the students' clicks by itself, within its refresh interval."""

import re

import pytest
from browser import open_app, shown_exceptions, wait_idle

pytestmark = pytest.mark.browser

REFRESH_WAIT_MS = 15_000  # the view refreshes every 3 s; a busy machine may take longer


def _metric(tab, label: str):
    return tab.locator('[data-testid="stMetric"]').filter(has_text=label).locator(
        '[data-testid="stMetricValue"]')


def test_the_teacher_s_view_follows_three_students(browser, app_url):
    contexts = [browser.new_context(viewport=size) for size in
                ({"width": 1440, "height": 1000}, *[{"width": 390, "height": 900}] * 3)]
    try:
        teacher, *students = [context.new_page() for context in contexts]
        open_app(teacher, f"{app_url}/class")
        teacher.get_by_role("textbox", name="Title").fill("Browser class")
        teacher.get_by_role("button", name="Open the room").click()
        teacher.wait_for_url(re.compile(r"room=[A-Z0-9]{8}"))
        wait_idle(teacher)
        code = re.search(r"room=([A-Z0-9]{8})", teacher.url).group(1)
        assert "teacher=" not in teacher.url
        assert teacher.locator("h1", has_text=f"{code[:4]} {code[4:]}").count() == 1
        assert teacher.locator('[data-testid="stImage"] img').count() == 1  # the QR code

        for number, tab in enumerate(students, start=1):
            open_app(tab, f"{app_url}/class?room={code}")
            tab.get_by_role("textbox", name="Nickname (optional)").fill(f"Student {number}")
            tab.get_by_role("button", name="Join", exact=True).click()
            tab.get_by_text("Which reply is better?").wait_for()
        _metric(teacher, "Students in the room").filter(has_text="3").wait_for(
            timeout=REFRESH_WAIT_MS)

        clicks = 0
        for rounds in range(2):
            for tab in students:
                tab.get_by_role("button", name=re.compile(r"^Reply [AB] is better$")).nth(
                    rounds % 2).click()
                wait_idle(tab)
                clicks += 1
                tab.get_by_text(re.compile(rf"You judged {rounds + 1} pairs?\.")).wait_for()
        _metric(teacher, "Judgements").filter(has_text=str(clicks)).wait_for(
            timeout=REFRESH_WAIT_MS)
        # Enough for the class's own DPO run: it appears on the teacher's screen by itself
        # (charts are drawn once they are scrolled into view).
        teacher.locator('[data-testid="stPlotlyChart"]').first.wait_for(
            state="attached", timeout=REFRESH_WAIT_MS)
        teacher.locator('[data-testid="stPlotlyChart"]').first.scroll_into_view_if_needed()
        teacher.locator(".js-plotly-plot").filter(
            has_text="What our class taught the model").wait_for(timeout=REFRESH_WAIT_MS)
        assert _metric(teacher, "Agree with the hidden taste").inner_text().endswith("%")
        for tab in (teacher, *students):
            assert shown_exceptions(tab) == []
    finally:
        for context in contexts:
            context.close()
