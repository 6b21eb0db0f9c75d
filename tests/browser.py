"""Helpers for driving the served app in headless Chromium (tests and benchmarks share them)."""

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
