"""The keyboard alone: a learner who cannot use a mouse tabs through a lesson step, changes a
Streamlit slider and an explorable's frame, moves to the next step, and always sees where the
focus is. No mouse event is sent in these tests."""

from __future__ import annotations

import re

import pytest
from browser import EXPLORABLE_JS, WAIT_JS, open_app, wait_idle

pytestmark = pytest.mark.browser

MAX_TABS = 400
# the guess opens the step's demo (a "predict first" question stands before it)
STEP = "/rl-basics?gw_step=2.+Values+and+Bellman&gw_sweep_guess=Only+next+to+the+treasure"

FOCUSED_JS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e);
  const box = e.getBoundingClientRect();
  return {role: e.getAttribute('role') || e.tagName.toLowerCase(),
          label: e.getAttribute('aria-label') || e.innerText?.trim().slice(0, 80) || '',
          valuetext: e.getAttribute('aria-valuetext'), now: e.getAttribute('aria-valuenow'),
          outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
          shadow: style.boxShadow !== 'none', visible: box.width > 0 && box.height > 0,
          frameKey: e.classList.contains('course-frame-key'),
          streamlitSlider: !!e.closest('[data-testid="stSlider"]')};
}"""


def _tab_to(tab, wanted, limit: int = MAX_TABS) -> list[dict]:
    """Press Tab until ``wanted(focused)`` holds; every element passed on the way."""
    seen = []
    for _ in range(limit):
        tab.keyboard.press("Tab")
        focused = tab.evaluate(FOCUSED_JS)
        if focused is None:
            continue
        seen.append(focused)
        if wanted(focused):
            return seen
    raise AssertionError(f"not reached in {limit} Tab presses; last: {seen[-5:]}")


@pytest.fixture()
def keyboard_tab(browser, app_url):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    open_app(tab, app_url + STEP, 60_000)
    tab.evaluate(WAIT_JS)
    tab.evaluate(EXPLORABLE_JS)
    yield tab, errors
    context.close()


def test_a_step_is_usable_from_the_keyboard_alone(keyboard_tab):
    tab, errors = keyboard_tab
    # An explorable: its frame moves with the arrow keys and its value is read out
    seen = _tab_to(tab, lambda f: f["frameKey"])
    key = seen[-1]
    assert key["role"] == "slider" and key["label"].startswith("Value iteration")
    assert key["outline"] and key["visible"]
    before = tab.evaluate("() => window.__explSig(0)")
    start = int(key["now"])
    tab.keyboard.press("End")
    tab.wait_for_function("n => document.activeElement.getAttribute('aria-valuenow') !== n",
                          arg=str(start), timeout=5_000)
    after = tab.evaluate(FOCUSED_JS)
    assert int(after["now"]) > start
    assert after["valuetext"].startswith("sweeps = ")
    assert not tab.evaluate("([b]) => window.__explSame(window.__explSig(0), b)", [before])
    tab.keyboard.press("ArrowLeft")
    tab.wait_for_function("n => document.activeElement.getAttribute('aria-valuenow') === n",
                          arg=str(int(after["now"]) - 1), timeout=5_000)

    # A Streamlit slider further on: the arrow keys change it, and the link follows
    seen = _tab_to(tab, lambda f: f["streamlitSlider"] and f["role"] == "input")
    url = tab.url
    tab.keyboard.press("ArrowRight")
    wait_idle(tab, 60_000)
    tab.wait_for_function("u => location.href !== u", arg=url, timeout=10_000)

    # Every element the focus passed showed where it was
    hidden = [f for f in seen if f["visible"] and not (f["outline"] or f["shadow"])]
    assert hidden == []
    assert errors == []


def test_the_next_step_opens_from_the_keyboard(keyboard_tab):
    tab, errors = keyboard_tab
    _tab_to(tab, lambda f: f["label"].startswith("Next: "))
    tab.keyboard.press("Enter")
    tab.wait_for_url(re.compile(r"gw_step=3\."), timeout=30_000)
    wait_idle(tab, 60_000)
    assert tab.locator("h2").filter(has_text=re.compile(r"^3\. ")).count() == 1
    assert errors == []


def test_with_reduced_motion_replays_offer_no_play_button(browser, app_url):
    """The system's "reduce motion" setting hides play/pause; the slider and keys remain."""
    replay = "/kl-divergence?kl_step=3.+From+the+game+to+the+formula"
    shown = {}
    for motion in ("no-preference", "reduce"):
        context = browser.new_context(viewport={"width": 1440, "height": 1000},
                                      reduced_motion=motion)
        tab = context.new_page()
        open_app(tab, app_url + replay, 60_000)
        tab.evaluate(EXPLORABLE_JS)
        assert tab.evaluate("() => window.__explCharts().length") >= 1
        chart = tab.locator(".js-plotly-plot").filter(has=tab.locator(".updatemenu-button"))
        chart.first.scroll_into_view_if_needed()
        shown[motion] = chart.first.locator(".updatemenu-container").is_visible()
        assert tab.locator(".course-frame-key").count() >= 1  # the keyboard's control stays
        context.close()
    assert shown == {"no-preference": True, "reduce": False}
