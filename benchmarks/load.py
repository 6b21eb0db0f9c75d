"""Load test: many learners at once. Serves the app and drives N concurrent browser sessions
through every page, with widget changes, and reports rerun latency, errors and server memory.

    python benchmarks/load.py                      # 1, 10 and 30 sessions
    python benchmarks/load.py --sessions 5 --json

Each session opens every page of the course in turn (home, every lesson, the questions) and
makes two changes there: the lesson's "Next" step (a full rerun of the page) and one press of
the first slider on that step (a fragment rerun), or the page's one control where it has no
steps. Latency is the time from the change to the app reporting that its script finished.
Errors are exceptions shown on a page, JavaScript page errors, connection dialogs and changes
that never finished. The browsers share the machine with the server, so on a small machine the
latencies include their rendering too: read them as an upper bound for the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from bench import _rss_mb  # noqa: E402
from browser import IDLE_JS, QUIET_JS  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS, free_port, serve  # noqa: E402

from ui import course  # noqa: E402

# Records every change of the app's script state with its time.
RUNS_JS = """() => {
  if (window.__runs) return;
  window.__runs = [];
  new MutationObserver(ms => { for (const m of ms) window.__runs.push(
      [m.target.getAttribute('data-test-script-state'), performance.now()]); })
    .observe(document.querySelector('[data-testid="stApp"]'),
             {attributes: true, attributeFilter: ['data-test-script-state']});
}"""

# True once the script ran and finished after time t0.
FINISHED_JS = """(t0) => {
  const after = (window.__runs || []).filter(r => r[1] >= t0);
  const started = after.findIndex(r => r[0] === 'running');
  return started >= 0 && after.slice(started).some(r => r[0] === 'notRunning');
}"""

DONE_AT_JS = """(t0) => {
  const after = window.__runs.filter(r => r[1] >= t0);
  const started = after.findIndex(r => r[0] === 'running');
  return after.slice(started).find(r => r[0] === 'notRunning')[1] - t0;
}"""


class Tally:
    """Latencies and errors of all sessions of one run."""

    def __init__(self):
        self.latencies: list[float] = []
        self.errors: list[str] = []


async def _idle(page, timeout_ms: int = 120_000) -> None:
    await page.evaluate(QUIET_JS)
    await page.wait_for_function(IDLE_JS, arg=150, timeout=timeout_ms)


async def _timed(page, action, tally: Tally, what: str) -> None:
    """Run ``action`` (a coroutine function) and time it until the script finished."""
    await page.evaluate(RUNS_JS)
    t0 = await page.evaluate("() => performance.now()")
    try:
        await action()
        await page.wait_for_function(FINISHED_JS, arg=t0, timeout=120_000)
        tally.latencies.append(await page.evaluate(DONE_AT_JS, t0))
        await _idle(page)
    except Exception as error:  # a change that never finished is an error of the run
        tally.errors.append(f"{what}: {type(error).__name__}: {str(error)[:200]}")


async def _check(page, tally: Tally, what: str) -> None:
    shown = await page.locator('[data-testid="stException"]').count()
    if shown:
        tally.errors.append(f"{what}: {shown} exception(s) shown")
    dialogs = await page.locator('[role="dialog"]').all_inner_texts()
    if dialogs:
        tally.errors.append(f"{what}: dialog {dialogs[0][:80]!r}")


async def _session(browser, url: str, tally: Tally, start_delay: float) -> None:
    await asyncio.sleep(start_delay)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.on("pageerror", lambda error: tally.errors.append(f"page error: {error}"))
    try:
        await page.goto(url)
        await _idle(page)
        for stop in (course.HOME, *course.LESSONS):
            what = stop.slug
            await page.goto(url if stop is course.HOME else f"{url}/{stop.slug}")
            await _idle(page)
            main = page.locator('[data-testid="stMain"]')
            following = main.get_by_role("button", name="Next: ", exact=False)
            if await following.count():
                await _timed(page, following.first.click, tally, f"{what}: next step")
            sliders = main.locator('[data-testid="stSlider"] input[type="range"]')
            if await sliders.count():
                handle = sliders.first
                await handle.evaluate("e => e.scrollIntoView({block: 'center'})")
                await handle.locator("xpath=../..").click()
                await _idle(page)
                await _timed(page, lambda h=handle: h.press("ArrowRight"), tally,
                             f"{what}: slider")
            elif stop.slug == "questions":
                async def pick(main=main):
                    await main.locator('[data-testid="stSelectbox"]').click()
                    await page.get_by_role("option").nth(1).click()
                await _timed(page, pick, tally, f"{what}: filter")
            await _check(page, tally, what)
    except Exception as error:
        tally.errors.append(f"session: {type(error).__name__}: {str(error)[:200]}")
    finally:
        await context.close()


def _watch_rss(pid: int, peak: list[float], stop: threading.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # a child just ended
            peak[0] = max(peak[0], _rss_mb(pid))
        stop.wait(0.5)


async def run(url: str, pid: int, sessions: int) -> dict:
    from playwright.async_api import async_playwright

    tally, peak, stop = Tally(), [0.0], threading.Event()
    watcher = threading.Thread(target=_watch_rss, args=(pid, peak, stop), daemon=True)
    watcher.start()
    started = time.perf_counter()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # Learners do not arrive in the same millisecond: spread the starts over 2 seconds.
        await asyncio.gather(*(_session(browser, url, tally, 2.0 * i / sessions)
                               for i in range(sessions)))
        await browser.close()
    stop.set()
    watcher.join()
    time.sleep(2)
    lat = sorted(tally.latencies)

    def pct(q: float) -> float | None:
        return round(lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else None

    return {
        "sessions": sessions,
        "changes": len(lat),
        "p50_ms": round(statistics.median(lat), 1) if lat else None,
        "p95_ms": pct(0.95),
        "max_ms": round(lat[-1], 1) if lat else None,
        "errors": len(tally.errors),
        "error_samples": tally.errors[:5],
        "rss_peak_mb": round(peak[0], 1),
        "rss_after_mb": round(_rss_mb(pid), 1),
        "wall_s": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="*", default=[1, 10, 30])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    port = free_port()
    server = serve(ROOT / "app.py", port)
    url = f"http://127.0.0.1:{port}"
    try:
        idle_rss = round(_rss_mb(server.pid), 1)
        results = [asyncio.run(run(url, server.pid, n)) for n in args.sessions]
    finally:
        server.terminate()
        server.wait(timeout=20)
    if args.json:
        print(json.dumps({"idle_rss_mb": idle_rss, "runs": results}, indent=2))
        return
    print(f"server RSS before any session: {idle_rss} MB")
    print(f"{'sessions':>8} {'changes':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
          f"{'errors':>7} {'peak RSS MB':>12} {'RSS after':>10} {'wall s':>7}")
    for r in results:
        print(f"{r['sessions']:>8} {r['changes']:>8} {r['p50_ms']!s:>8} {r['p95_ms']!s:>8} "
              f"{r['max_ms']!s:>8} {r['errors']:>7} {r['rss_peak_mb']:>12} "
              f"{r['rss_after_mb']:>10} {r['wall_s']:>7}")
        for sample in r["error_samples"]:
            print(f"         error: {sample}")


if __name__ == "__main__":
    main()
