"""The KL lesson in headless Chromium: a shared link, a keyboard change, walking the steps, an
answered question."""

import re

import pytest
from browser import open_app, shown_dialogs, shown_exceptions, wait_idle

pytestmark = pytest.mark.browser


def test_shared_link_and_keyboard_slider(page, app_url):
    open_app(page, f"{app_url}/kl-divergence?kl_step=7.+Beyond+KL&kl_unit=nats&kl_shift=5")
    assert page.locator("h2").first.inner_text().startswith("7. Beyond KL")
    assert shown_dialogs(page) == []
    main = page.locator('[data-testid="stMain"]')
    chart = main.locator(".js-plotly-plot").filter(has_text="Q slides away")
    assert "JS" in chart.inner_text() and " nats" in chart.inner_text()
    shift = main.locator('[data-testid="stSlider"]').filter(has_text="Shift of Q")
    assert shift.locator('input[type="range"]').get_attribute("value") == "5"
    # One click gives the slider keyboard focus; then the arrow keys move it.
    shift.locator('input[type="range"]').locator("xpath=../..").click()
    page.keyboard.press("ArrowRight")
    page.wait_for_url(re.compile(r"kl_shift=5\.5"))
    wait_idle(page)
    # The chart opens at the new shift; its line of numbers says so. Wasserstein moves with
    # the shift (5.5 up to the bumps' truncation at the support's ends).
    note = chart.locator(".annotation-text").filter(has_text="Wasserstein").text_content()
    assert note.startswith("Shift 5.5:")
    value = float(re.search(r"Wasserstein\s*([0-9.]+)\s*positions", note).group(1))
    assert value == pytest.approx(5.5, abs=0.01)
    # The slider under the chart moves Q at once, in the browser: the numbers follow.
    chart.locator(".slider-rail-rect").scroll_into_view_if_needed()
    rail = chart.locator(".slider-rail-rect").bounding_box()
    page.mouse.click(rail["x"] + 10, rail["y"] + rail["height"] / 2)  # the first step
    chart.locator(".annotation-text").filter(has_text="Shift 0:").wait_for()
    assert shown_exceptions(page) == []


def _centre_x(locator) -> float:
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2


@pytest.mark.parametrize("preset, bar", [("Q misses an outcome", "left"),
                                         ("P misses an outcome", "right")])
def test_the_infinity_stands_over_outcome_3_as_drawn(page, app_url, preset, bar):
    # Issue #19: the warning named outcome 3 while the ∞ was drawn over outcome 2.
    open_app(page, f"{app_url}/kl-divergence?kl_step=5.+KL+is+not+symmetric"
                   f"&kl_preset={preset.replace(' ', '+')}&kl_direction_guess=KL(P%E2%80%96Q)")
    main = page.locator('[data-testid="stMain"]')
    assert "outcome 3," in main.locator('[data-testid="stAlert"]').filter(
        has_text="is infinite").inner_text()
    chart = main.locator(".js-plotly-plot").filter(has_text="comes from")
    chart.scroll_into_view_if_needed()
    infinity = chart.locator(".annotation-text").filter(has_text="∞")
    assert infinity.count() == 1
    ticks = {t.text_content(): _centre_x(t) for t in chart.locator(".xtick text").all()}
    assert sorted(ticks) == ["1", "2", "3"]
    x = _centre_x(infinity)
    step = ticks["3"] - ticks["2"]
    # over outcome 3, on its left bar (KL(P‖Q)'s) or its right bar (KL(Q‖P)'s)
    assert abs(x - ticks["3"]) < step / 2
    assert (x < ticks["3"]) == (bar == "left")
    assert shown_exceptions(page) == []


SCROLLED = "() => document.querySelector('[data-testid=\"stMain\"]').scrollTop"


def test_next_opens_the_next_step_at_its_top_and_in_the_url(page, app_url):
    open_app(page, f"{app_url}/kl-divergence?kl_unit=nats")
    following = page.get_by_role("button", name="Next: Why divide by n?")
    following.scroll_into_view_if_needed()
    assert page.evaluate(SCROLLED) > 0
    following.click()
    page.wait_for_url(re.compile(r"kl_step=2\.\+Why\+divide"))
    wait_idle(page)
    assert page.locator("h2").first.inner_text().startswith("2. Why divide by n?")
    assert "kl_unit=nats" in page.url  # the rest of the view stays
    page.wait_for_function(SCROLLED.replace("() =>", "() => 0 ==="))
    page.get_by_role("button", name="Back: Which die rolled it?").click()
    page.wait_for_url(lambda url: "kl_step" not in url)  # the first step is the default
    wait_idle(page)
    assert page.locator("h2").first.inner_text().startswith("1. Which die")
    assert shown_exceptions(page) == []


def test_self_check_answer_updates_the_progress(page, app_url):
    open_app(page, f"{app_url}/kl-divergence?kl_step=9.+Check+yourself")
    question = page.locator('[data-testid="stMain"] [data-testid="stRadio"]').filter(
        has_text="Which is larger")
    question.get_by_text("KL(P‖Q)", exact=True).click()
    page.get_by_text("Right. KL(P‖Q) ≈ 0.74 bits").wait_for()
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Self-checks answered right: 1 (kept in this browser)").wait_for()
    assert shown_exceptions(page) == []
