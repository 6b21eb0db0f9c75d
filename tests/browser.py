"""Helpers for driving the served app in headless Chromium (tests and benchmarks share them)."""

import re

# Records the time of the last DOM change, so "idle" can mean "nothing moved for a while":
# Streamlit draws charts lazily, after the script has already finished.
QUIET_JS = """() => {
  if (window.__lastMutation !== undefined) return;
  window.__lastMutation = performance.now();
  new MutationObserver(() => { window.__lastMutation = performance.now(); })
    .observe(document, {subtree: true, childList: true, attributes: true});
}"""

IDLE_JS = """(quietMs) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  return app && app.getAttribute('data-test-script-state') === 'notRunning'
      && document.querySelector('[data-testid="stMain"] h1') !== null
      && document.querySelector('[data-testid="stSkeleton"]') === null
      && charts.every(c => c.querySelector('.main-svg') !== null)
      && performance.now() - (window.__lastMutation ?? 0) > quietMs;
}"""


def wait_idle(page, timeout_ms: int = 30_000, quiet_ms: int = 400) -> None:
    """Wait until the script has finished, every chart is drawn and the page stays still."""
    page.evaluate(QUIET_JS)
    page.wait_for_function(IDLE_JS, arg=quiet_ms, timeout=timeout_ms)


def open_app(page, url: str, timeout_ms: int = 30_000) -> None:
    page.goto(url)
    wait_idle(page, timeout_ms)


def shown_exceptions(page) -> list[str]:
    """The text of every exception element on the page (there should be none)."""
    return page.locator('[data-testid="stException"]').all_inner_texts()


def shown_dialogs(page) -> list[str]:
    """The text of open modal dialogs, such as Streamlit's "Page not found"."""
    return page.locator('[role="dialog"]').all_inner_texts()


# The lesson's step picker: the button group whose widget key ends in "_step"; its key and the
# labels of its steps ("1. ...", "2. ..."), or null on a page without steps.
STEP_JS = r"""() => {
  const box = [...document.querySelectorAll('[class*="st-key-"]')].find(
    e => [...e.classList].some(c => /^st-key-[a-z]+_step$/.test(c)));
  if (!box) return null;
  const key = [...box.classList].find(c => /^st-key-[a-z]+_step$/.test(c)).slice(7);
  return [key, [...box.querySelectorAll('button')].map(b => b.innerText.trim())
    .filter(t => /^\d+\. /.test(t))];
}"""


def step_picker(page) -> tuple[str, list[str]] | None:
    """(URL key, step labels) of the open lesson's step picker; None on a page without steps."""
    found = page.evaluate(STEP_JS)
    return None if found is None else (found[0], found[1])


# Both kinds of timing end when the page's DOM shows the change: a MutationObserver checks the
# condition after every change of the document, so no polling interval is added to any time.
WAIT_JS = """() => {
  if (window.__waitFor) return;
  window.__waitFor = (check, timeoutMs) => new Promise(resolve => {
    if (check()) { resolve(performance.now()); return; }
    const done = (value) => { observer.disconnect(); clearTimeout(timer); resolve(value); };
    const observer = new MutationObserver(() => { if (check()) done(performance.now()); });
    observer.observe(document, {subtree: true, childList: true, attributes: true,
                                characterData: true});
    const timer = setTimeout(() => done(null), timeoutMs);
  });
}"""

# Explorables: charts with an in-chart slider. Times are taken inside the page: from the
# pointer's press (capture listener) to the DOM change that shows one of the chart's changing
# traces holding a new array (plotly replaces a trace's arrays when it shows a frame).
EXPLORABLE_JS = """() => {
  if (window.__expl) return;
  window.__expl = {t0: null, sends: 0};
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (...args) { window.__expl.sends += 1;
                                                  return send.apply(this, args); };
  document.addEventListener('mousedown', () => { window.__expl.t0 = performance.now(); }, true);
  window.__explCharts = () => [...document.querySelectorAll('.js-plotly-plot')].filter(
    g => g.querySelector('.slider-rail-touch-rect') && g._transitionData?._frames?.length);
  window.__explSig = (i) => {
    const gd = window.__explCharts()[i];
    const traces = gd._transitionData._frames[0].traces || [];
    return traces.map(t => [gd.data[t].x, gd.data[t].y, gd.data[t].z, gd.data[t].text]);
  };
  window.__explSame = (a, b) => a.length === b.length && a.every((t, k) =>
    t.every((array, j) => array === b[k][j]));
}"""

EXPLORABLE_INFO_JS = """(i) => {
  const gd = window.__explCharts()[i];
  const rail = gd.querySelector('.slider-rail-rect').getBoundingClientRect();
  const slider = gd._fullLayout.sliders[0];
  return {title: (gd.layout.title && gd.layout.title.text) || '', steps: slider.steps.length,
          active: slider.active, left: rail.left, right: rail.right,
          y: rail.top + rail.height / 2, play: !!gd.querySelector('.updatemenu-button'),
          bytes: JSON.stringify({data: gd.data, layout: gd.layout,
                                 frames: gd._transitionData._frames}).length};
}"""

# Resolves with the time the chart's DOM changed to show new data (null after 2 s).
EXPLORABLE_WAIT_JS = """([i, before, timeoutMs]) => window.__waitFor(
  () => !window.__explSame(window.__explSig(i), before), timeoutMs)"""


def answer_every_guess(page) -> int:
    """Answer every open "predict first" question on the page with its first option, as a
    learner must before the demo behind it opens; return how many were answered."""
    answered = 0
    for _ in range(3):  # a revealed demo can hold a further question
        open_questions = page.locator('[class*="_guess"]').filter(
            has_not=page.locator('button[aria-checked="true"]'))
        if open_questions.count() == 0:
            break
        open_questions.first.locator("button").first.click()
        page.wait_for_url(re.compile(r"_guess="))
        wait_idle(page)
        answered += 1
    return answered


def move_every_explorable(page) -> list[str]:
    """Click once on the rail of every explorable on the page, at the end farther from the
    step it shows; return the titles of those whose chart did not change."""
    page.evaluate(WAIT_JS)
    page.evaluate(EXPLORABLE_JS)
    stuck = []
    for index in range(page.evaluate("() => window.__explCharts().length")):
        chart = page.locator(".js-plotly-plot").filter(
            has=page.locator(".slider-rail-touch-rect")).nth(index)
        chart.scroll_into_view_if_needed()
        info = page.evaluate(EXPLORABLE_INFO_JS, index)
        # the far end from the grip: a click near it lands on the grip and moves nothing
        target = 0 if info["active"] >= info["steps"] / 2 else info["steps"] - 1
        page.evaluate(f"([i, ms]) => {{ window.__pending = ({EXPLORABLE_WAIT_JS})"
                      "([i, window.__explSig(i), ms]); }", [index, 3000])
        page.mouse.click(rail_x(info, target), info["y"])
        if page.evaluate("() => window.__pending") is None:
            stuck.append(info["title"] or f"explorable {index + 1}")
    return stuck


def rail_x(info: dict, step: int) -> float:
    """Where on an explorable's rail plotly puts a step (the grip's travel is inset)."""
    inset = 10  # plotly's slider stepInset
    usable = info["right"] - info["left"] - 2 * inset
    return info["left"] + inset + usable * step / max(info["steps"] - 1, 1)

