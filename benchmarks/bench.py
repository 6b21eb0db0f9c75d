"""Benchmark the course in a real browser, always against a bare slider+chart page in the same run.

Only ratios to the bare page are stable on a shared machine, so every timing is reported next to
it. Measures, per page:
  - interaction latency: an arrow key on each slider until the chart below it shows the change
    (median of --presses presses), and its ratio to the bare page;
  - page load: navigation until every chart is drawn (median of --loads), ratio to the bare page;
  - the full-script AppTest rerun time (server CPU per rerun);
and, once: the wall time of each training demo at page defaults, and the server's memory with 1,
10 and 30 concurrent sessions.

Usage: python benchmarks/bench.py [--pages kl-divergence ...] [--json] [--sessions 1 10 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser import wait_idle  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS, free_port, open_page, serve  # noqa: E402

from ui import course  # noqa: E402


def _ppo_demo() -> None:
    from lessons import ppo

    # pages/ppo.py at its defaults: PPO and the unclipped comparison, 8 seeds each
    ppo.ppo_run(("ppo", "unclipped"), epsilon=0.2, epochs=4, lr=1.0, seed=0, n_seeds=8,
                updates=40, batch_size=64, minibatches=4)


# Training demos: (name, zero-argument callable running the demo at its page defaults).
# Lessons with a training loop add theirs here.
DEMOS: list[tuple[str, object]] = [
    ("ppo: PPO + no clipping, 2×8 runs of 40 updates", _ppo_demo),
]

BENCH_JS = """() => {
  if (window.__bench) return;
  window.__bench = {armed: false, t0: null, t1: null, before: null};
  document.addEventListener('keydown', () => {
    if (window.__bench.armed && window.__bench.t0 === null) window.__bench.t0 = performance.now();
  }, true);
  // The first chart after slider i in document order, and a signature of its data.
  window.__benchChart = (i) => {
    const slider = document.querySelectorAll('[data-testid="stSlider"]')[i];
    return [...document.querySelectorAll('.js-plotly-plot')].find(
      c => slider.compareDocumentPosition(c) & Node.DOCUMENT_POSITION_FOLLOWING);
  };
  window.__benchSig = (i) => {
    const gd = window.__benchChart(i);
    return gd && gd.data ? JSON.stringify(gd.data) : null;
  };
}"""

CHANGED_JS = """(i) => {
  const b = window.__bench;
  if (b.t0 === null) return false;
  const app = document.querySelector('[data-testid="stApp"]');
  if (window.__benchSig(i) !== b.before
      && app.getAttribute('data-test-script-state') === 'notRunning') {
    b.t1 = performance.now();
    return true;
  }
  return false;
}"""


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (Linux /proc)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(c) for c in children.read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def slider_latencies(page, url: str, presses: int, max_sliders: int) -> list[float]:
    """Milliseconds from an arrow key on a slider to its chart showing the change."""
    page.goto(url)
    wait_idle(page)
    page.evaluate(BENCH_JS)
    sliders = page.locator('[data-testid="stSlider"] input[type="range"]')
    times = []
    for s_index in range(min(sliders.count(), max_sliders)):
        handle = sliders.nth(s_index)
        # Streamlit draws charts only once they scroll into view: put the slider at the top.
        handle.evaluate("e => e.closest('[data-testid=\"stSlider\"]')"
                        ".scrollIntoView({block: 'start'})")
        wait_idle(page, quiet_ms=150)
        if page.evaluate("i => window.__benchSig(i)", s_index) is None:
            continue  # no chart below this slider
        thumb = handle.locator("xpath=../..")  # the visible thumb around the hidden input
        thumb.click()  # one click so keyboard input reaches the slider
        wait_idle(page, quiet_ms=150)
        for press in range(presses):
            now = float(handle.get_attribute("value"))
            lo, hi = float(handle.get_attribute("min")), float(handle.get_attribute("max"))
            key = "ArrowLeft" if now >= hi or (press % 2 and now > lo) else "ArrowRight"
            page.evaluate(
                "i => { const b = window.__bench; b.before = window.__benchSig(i);"
                " b.t0 = null; b.t1 = null; b.armed = true; }", s_index)
            page.keyboard.press(key)
            try:
                page.wait_for_function(CHANGED_JS, arg=s_index, polling="raf", timeout=10_000)
            except Exception as error:  # the chart did not change: this slider drives no chart
                print(f"{url}: slider {s_index} redrew no chart ({error})", file=sys.stderr)
                break
            times.append(page.evaluate("() => window.__bench.t1 - window.__bench.t0"))
            page.evaluate("() => { window.__bench.armed = false; }")
            wait_idle(page, quiet_ms=150)
    return times


def load_time(page, url: str, loads: int) -> float:
    """Median milliseconds from navigation until every chart of the page is drawn."""
    page.goto(url)
    wait_idle(page)
    expected = page.locator(".js-plotly-plot .main-svg").count()
    times = []
    for _ in range(loads):
        page.goto("about:blank")
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_function(
            "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n && "
            "document.querySelector('[data-testid=\"stApp\"]')"
            ".getAttribute('data-test-script-state') === 'notRunning'",
            arg=expected, polling="raf", timeout=60_000)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def rerun_ms(page_script: str, reruns: int = 5) -> float:
    """Median milliseconds of a full-script AppTest rerun of a page (server CPU per rerun)."""
    at = open_page(page_script)
    times = []
    for _ in range(reruns):
        start = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def memory(browser, url: str, pid: int, counts: list[int]) -> dict[int, float]:
    """Server RSS (MB) with n concurrent sessions open on ``url``."""
    result = {}
    contexts = []
    for n in counts:
        while len(contexts) < n:
            context = browser.new_context()
            tab = context.new_page()
            tab.goto(url)
            contexts.append((context, tab))
        for _, tab in contexts:
            wait_idle(tab, 120_000)
        time.sleep(1)
        result[n] = round(_rss_mb(pid), 1)
    for context, _ in contexts:
        context.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", nargs="*", help="lesson slugs (default: every page)")
    parser.add_argument("--presses", type=int, default=15)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--max-sliders", type=int, default=8, help="sliders timed per page")
    parser.add_argument("--sessions", type=int, nargs="*", default=[1, 10, 30])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    stops = [course.HOME, *course.LESSONS]
    if args.pages:
        stops = [s for s in stops if s.slug in args.pages]
    app_port, bare_port = free_port(), free_port()
    cold = time.perf_counter()
    app = serve(ROOT / "app.py", app_port)
    cold_start_s = time.perf_counter() - cold
    bare = serve(ROOT / "benchmarks" / "bare_app.py", bare_port)
    app_url, bare_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
    report: dict = {"pages": {}, "demos": {}, "cold_start_s": round(cold_start_s, 2)}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            first = time.perf_counter()
            page.goto(app_url)
            wait_idle(page, 120_000)
            report["first_page_s"] = round(time.perf_counter() - first, 2)

            bare_latency = statistics.median(
                slider_latencies(page, bare_url, args.presses, 1))
            bare_load = load_time(page, bare_url, args.loads)
            report["bare"] = {"latency_ms": round(bare_latency, 1),
                              "load_ms": round(bare_load, 1)}
            for stop in stops:
                url = app_url if stop is course.HOME else f"{app_url}/{stop.slug}"
                latencies = slider_latencies(page, url, args.presses, args.max_sliders)
                load = load_time(page, url, args.loads)
                row = {
                    "latency_ms": round(statistics.median(latencies), 1) if latencies else None,
                    "presses": len(latencies),
                    "load_ms": round(load, 1),
                    "load_ratio": round(load / bare_load, 2),
                    "rerun_ms": round(rerun_ms(stop.page), 1),
                }
                row["latency_ratio"] = (
                    round(row["latency_ms"] / bare_latency, 2) if latencies else None)
                report["pages"][stop.slug] = row
            busiest = stops[-1]
            url = app_url if busiest is course.HOME else f"{app_url}/{busiest.slug}"
            report["memory_page"] = busiest.slug
            report["rss_mb"] = memory(browser, url, app.pid, args.sessions)
            browser.close()
    finally:
        for proc in (app, bare):
            proc.terminate()
            proc.wait(timeout=20)
    for name, demo in DEMOS:
        start = time.perf_counter()
        demo()
        report["demos"][name] = round(time.perf_counter() - start, 3)

    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"bare page: slider->chart {report['bare']['latency_ms']} ms, "
          f"load {report['bare']['load_ms']} ms")
    print(f"cold start (server healthy) {report['cold_start_s']} s, "
          f"first page drawn {report['first_page_s']} s")
    print(f"{'page':<22}{'latency ms':>12}{'ratio':>8}{'presses':>9}"
          f"{'load ms':>10}{'ratio':>8}{'rerun ms':>10}")
    for slug, row in report["pages"].items():
        print(f"{slug:<22}{row['latency_ms'] or '-':>12}{row['latency_ratio'] or '-':>8}"
              f"{row['presses']:>9}{row['load_ms']:>10}{row['load_ratio']:>8}"
              f"{row['rerun_ms']:>10}")
    print("training demos (s):", report["demos"] or "none on the registered pages")
    print(f"server RSS (MB) by concurrent sessions on {report['memory_page']}:",
          report["rss_mb"])


if __name__ == "__main__":
    main()
