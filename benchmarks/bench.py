"""Benchmark the course in a real browser, always against a bare slider+chart page in the same run.

Only ratios to the bare page are stable on a shared machine, so every timing is reported next to
it. Measures, per page:
  - interaction latency: an arrow key on each slider until the chart below it shows the change
    (median of --presses presses), and its ratio to the bare page;
  - every explorable (a chart with its own slider): a click on its rail until the chart shows
    the new frame (median of --moves clicks), against the bare page's slider press for press;
    the share of moves of a drag along the rail that redrew the chart; WebSocket messages the
    page sent meanwhile (none: no server round trip); the figure's JSON size;
  - page load: navigation until every chart is drawn (median of --loads), ratio to the bare page;
  - the full-script AppTest rerun time (server CPU per rerun);
  - the same two measures for the bare page's slider and chart inside the course's frame
    (navigation, sidebar, the slider bound to the URL in a fragment): the floor every lesson
    starts from;
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
from urllib.parse import parse_qsl, urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser import (  # noqa: E402
    EXPLORABLE_INFO_JS,
    EXPLORABLE_JS,
    EXPLORABLE_WAIT_JS,
    WAIT_JS,
    answer_every_guess,
    rail_x,
    step_picker,
    wait_idle,
)
from conftest import CHROMIUM, CHROMIUM_ARGS, free_port, open_page, serve  # noqa: E402
from playwright.sync_api import Error as PlaywrightError  # noqa: E402

from ui import course  # noqa: E402


def _ppo_demo() -> None:
    from lessons import ppo

    # app_pages/ppo.py at its defaults: PPO and the unclipped comparison, 8 seeds each
    ppo.ppo_run(("ppo", "unclipped"), epsilon=0.2, epochs=4, lr=1.0, seed=0, n_seeds=8,
                updates=40, batch_size=64, minibatches=4)


def _toy_lm_demos() -> list[tuple[str, object]]:
    from lessons import toy_lm as lm

    task = lm.make_task()
    pairs = lm.preference_pairs(task, 2000, seed=0)
    scores = lm.train_reward_model(task, pairs)["scores"]
    return [
        ("toy LM: DPO, 150 full-batch steps on 2000 pairs", lambda: lm.train_dpo(task, pairs)),
        ("toy LM: reward model, 200 steps", lambda: lm.train_reward_model(task, pairs)),
        ("toy LM: PPO with the true reward, 40 iterations", lambda: lm.train_ppo_rlhf(task)),
        ("toy LM: PPO with the learned reward, 40 iterations",
         lambda: lm.train_ppo_rlhf(task, scores)),
        ("toy LM: preferred-response fine-tuning, 100 steps",
         lambda: lm.train_preferred_ft(task, pairs)),
    ]


def _gridworld_demos() -> list[tuple[str, object]]:
    from lessons import gridworld as gw

    # app_pages/rl_basics.py at its defaults: the classic 4×3 world
    g = gw.make_grid("...T/.W.D/S...", gamma=0.9, slip=0.2, step_cost=0.04)
    return [
        ("grid world: Q-learning, 300 episodes",
         lambda: gw.q_learning(g, episodes=300, alpha=0.2, epsilon=0.1, seed=0,
                               random_starts=False)),
        ("grid world: REINFORCE with baseline, 100 updates × 16 episodes",
         lambda: gw.reinforce(g, updates=100, batch=16, lr=1.0, seed=0, baseline=True)),
        ("grid world: bridge to PPO, step sizes 1 and 30, 60 updates each",
         lambda: [gw.reinforce(g, updates=60, batch=16, lr=lr, seed=0, baseline=True)
                  for lr in (1.0, 30.0)]),
    ]


# Training demos: (name, zero-argument callable running the demo at its page defaults).
# Lessons with a training loop add theirs here.
DEMOS: list[tuple[str, object]] = [
    ("ppo: PPO + no clipping, 2×8 runs of 40 updates", _ppo_demo),
    *_gridworld_demos(),
    *_toy_lm_demos(),
]

BENCH_JS = """() => {
  if (window.__bench) return;
  window.__bench = {armed: false, t0: null, before: null, beforeData: null};
  document.addEventListener('keydown', () => {
    if (window.__bench.armed && window.__bench.t0 === null) window.__bench.t0 = performance.now();
  }, true);
  // The first chart after slider i in document order, and a signature of what it draws.
  window.__benchChart = (i) => {
    const slider = document.querySelectorAll('[data-testid="stSlider"]')[i];
    return [...document.querySelectorAll('.js-plotly-plot')].find(
      c => slider.compareDocumentPosition(c) & Node.DOCUMENT_POSITION_FOLLOWING);
  };
  window.__benchSig = (i) => {
    const gd = window.__benchChart(i);
    return gd && gd.data
      ? JSON.stringify([gd.data, gd.layout.shapes, gd.layout.annotations]) : null;
  };
}"""

# Resolves with the time the chart after slider i shows new data and the script has finished
# (null after 10 s). The full signature is compared only once the chart holds new data arrays.
CHANGED_JS = """(i) => window.__waitFor(() => {
  const b = window.__bench;
  if (b.t0 === null) return false;
  const gd = window.__benchChart(i);
  if (!gd || gd.data === b.beforeData) return false;
  const app = document.querySelector('[data-testid="stApp"]');
  return app.getAttribute('data-test-script-state') === 'notRunning'
      && window.__benchSig(i) !== b.before;
}, 10000)"""



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


def lesson_steps(page, url: str) -> list[str]:
    """URLs of every step of a lesson (just ``url`` for a page without steps)."""
    page.goto(url)
    wait_idle(page)
    found = step_picker(page)
    if not found:
        return [url]
    key, labels = found
    return [f"{url}?{urlencode({key: label})}" for label in labels]


class Slider:
    """One slider on an open page, pressed with the keyboard and timed until its chart redraws."""

    def __init__(self, page, index: int):
        self.page, self.index = page, index
        self.handle = page.locator('[data-testid="stSlider"] input[type="range"]').nth(index)
        self.label = self.handle.evaluate(
            "e => e.closest('[data-testid=\"stSlider\"]').querySelector('label').innerText.trim()")
        self.presses = 0

    def focus(self) -> bool:
        """Scroll the slider to the top and click it; False if no chart follows it."""
        # Streamlit draws charts only once they scroll into view: put the slider at the top.
        self.handle.evaluate("e => e.closest('[data-testid=\"stSlider\"]')"
                             ".scrollIntoView({block: 'start'})")
        wait_idle(self.page, quiet_ms=150)
        if self.page.evaluate("i => window.__benchSig(i)", self.index) is None:
            return False
        self.handle.locator("xpath=../..").click()  # keyboard input needs one click first
        wait_idle(self.page, quiet_ms=150)
        return True

    def press(self) -> float | None:
        """One arrow key (alternating directions); ms until the chart changed, None if never."""
        now = float(self.handle.get_attribute("value"))
        lo, hi = float(self.handle.get_attribute("min")), float(self.handle.get_attribute("max"))
        key = "ArrowLeft" if now >= hi or (self.presses % 2 and now > lo) else "ArrowRight"
        self.presses += 1
        self.page.bring_to_front()
        self.page.evaluate(
            "i => { const b = window.__bench; b.before = window.__benchSig(i);"
            " b.beforeData = window.__benchChart(i).data; b.t0 = null; b.armed = true; }",
            self.index)
        # Kept in the page: Playwright would wait for a promise it is handed back.
        self.page.evaluate(f"i => {{ window.__pending = ({CHANGED_JS})(i); }}", self.index)
        self.page.keyboard.press(key)
        t1 = self.page.evaluate("() => window.__pending")
        self.page.evaluate("() => { window.__bench.armed = false; }")
        if t1 is None:  # the chart did not change: this slider drives no chart
            print(f"slider {self.label!r} redrew no chart", file=sys.stderr)
            return None
        elapsed = t1 - self.page.evaluate("() => window.__bench.t0")
        wait_idle(self.page, quiet_ms=150)
        return elapsed


class Explorable:
    """One in-chart slider on an open page: clicked on its rail and dragged along it."""

    def __init__(self, page, index: int):
        self.page, self.index = page, index
        self.page.evaluate(WAIT_JS)
        self.page.evaluate(EXPLORABLE_JS)
        chart = page.locator(".js-plotly-plot").filter(
            has=page.locator(".slider-rail-touch-rect")).nth(index)
        chart.scroll_into_view_if_needed()
        wait_idle(page, quiet_ms=150)
        self.info = page.evaluate(EXPLORABLE_INFO_JS, index)
        self.title = self.info["title"]

    def _watch(self, timeout_ms: int = 2000) -> None:
        """Start waiting, in the page, for the chart to show new data (``_seen`` reads it)."""
        self.page.evaluate(f"([i, ms]) => {{ window.__pending = ({EXPLORABLE_WAIT_JS})"
                           "([i, window.__explSig(i), ms]); }", [self.index, timeout_ms])

    def _seen(self) -> float | None:
        return self.page.evaluate("() => window.__pending")

    def click(self, step: int) -> float | None:
        """Click the rail at ``step``; ms from the press until the chart shows its frame."""
        self._watch()
        self.page.mouse.click(rail_x(self.info, step), self.info["y"])
        t1 = self._seen()
        return None if t1 is None else t1 - self.page.evaluate("() => window.__expl.t0")

    def active(self) -> int:
        return self.page.evaluate(
            "i => window.__explCharts()[i]._fullLayout.sliders[0].active", self.index)

    def move(self, k: int) -> float | None:
        """Move number ``k``: a click on a step away from the current one (they hop across
        the rail), timed until the chart shows it."""
        step = (k * 7 + 3) % self.info["steps"]
        if step == self.active():
            step = (step + 1) % self.info["steps"]
        return self.click(step)

    def drag(self, moves: int = 40) -> dict:
        """Drag the grip from one end of the rail to the other in ``moves`` pointer moves:
        how many moves that reached a new step redrew the chart, and WebSocket messages sent."""
        sends = self.page.evaluate("() => window.__expl.sends")
        self.page.mouse.move(rail_x(self.info, 0), self.info["y"])
        self.page.mouse.down()
        changed = redrawn = 0
        active = self.active()
        for k in range(1, moves + 1):
            self._watch(timeout_ms=1000)
            x = rail_x(self.info, (self.info["steps"] - 1) * k / moves)
            self.page.mouse.move(x, self.info["y"])
            now_active = self.active()
            if now_active != active:
                changed += 1
                redrawn += self._seen() is not None
                active = now_active
        self.page.mouse.up()
        return {"moves": moves, "new_step": changed, "redrawn": redrawn,
                "ws_sent": self.page.evaluate("() => window.__expl.sends") - sends}


def _open_for_explorables(page, url: str) -> None:
    page.goto(url)
    wait_idle(page)
    answer_every_guess(page)
    page.evaluate(WAIT_JS)
    page.evaluate(EXPLORABLE_JS)


def explorable_latencies(page, url: str, bare: Slider, moves: int) -> list[dict]:
    """Every explorable on the page at ``url``: rail clicks against the bare page's Streamlit
    slider, press for press (as slider_latencies), then a drag along the whole rail."""
    _open_for_explorables(page, url)
    count = page.evaluate("() => window.__explCharts().length")
    results = []
    for index in range(count):
        try:
            chart = Explorable(page, index)
            sends = page.evaluate("() => window.__expl.sends")
            mine, yardstick = [], []
            for k in range(moves):
                ms = chart.move(k)
                if ms is None:
                    continue
                mine.append(ms)
                yardstick.append(bare.press())
                page.bring_to_front()
            clicks_ws = page.evaluate("() => window.__expl.sends") - sends
            drag = chart.drag()
        except PlaywrightError as error:  # the page went away under the pointer
            print(f"{url}: explorable {index + 1}: {error}", file=sys.stderr)
            results.append({"title": f"explorable {index + 1}", "error": str(error)[:200]})
            _open_for_explorables(page, url)
            continue
        row = {"title": chart.title, "steps": chart.info["steps"], "play": chart.info["play"],
               "json_bytes": chart.info["bytes"], "moves": len(mine),
               "ws_sent_clicks": clicks_ws, **{f"drag_{k}": v for k, v in drag.items()}}
        if mine:
            ms, bare_ms = statistics.median(mine), statistics.median(yardstick)
            row.update(ms=round(ms, 1), bare_ms=round(bare_ms, 1), ratio=round(ms / bare_ms, 2))
        results.append(row)
    return results


def open_for_sliders(page, url: str) -> None:
    page.goto(url)
    wait_idle(page)
    answer_every_guess(page)
    page.evaluate(WAIT_JS)
    page.evaluate(BENCH_JS)


def slider_latencies(page, url: str, bare: Slider, presses: int,
                     max_sliders: int) -> dict[str, dict]:
    """Each slider of the page at ``url`` against the bare page's slider, press for press.

    The two are pressed alternately (page, bare, page, bare, ...) so that both see the same
    machine load; the ratio is the median page time over the median bare time of those pairs.
    Returns {"<slider label>": {"ms", "bare_ms", "ratio", "presses"}}.
    """
    open_for_sliders(page, url)
    count = page.locator('[data-testid="stSlider"] input[type="range"]').count()
    results = {}
    for index in range(min(count, max_sliders)):
        slider = Slider(page, index)
        if not slider.focus():
            continue  # no chart below this slider
        mine, yardstick = [], []
        for _ in range(presses):
            try:
                ms = slider.press()
            except PlaywrightError as error:  # the page went away under the press
                print(f"{url}: slider {slider.label!r}: {error}", file=sys.stderr)
                open_for_sliders(page, url)
                bare.page.bring_to_front()
                break
            if ms is None:
                break
            mine.append(ms)
            yardstick.append(bare.press())
            slider.page.bring_to_front()
        if mine:
            ms, bare_ms = statistics.median(mine), statistics.median(yardstick)
            results[slider.label] = {"ms": round(ms, 1), "bare_ms": round(bare_ms, 1),
                                     "ratio": round(ms / bare_ms, 2), "presses": len(mine)}
    return results


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


def rerun_ms(page_script: str, query: dict | None = None, reruns: int = 5) -> float:
    """Median milliseconds of a full-script AppTest rerun of a page (server CPU per rerun)."""
    at = open_page(page_script, query)
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
    parser.add_argument("--moves", type=int, default=20,
                        help="rail clicks timed per explorable (each against a bare press)")
    parser.add_argument("--steps", type=int, nargs="*",
                        help="only these step numbers of each lesson (default: all)")
    parser.add_argument("--sessions", type=int, nargs="*", default=[1, 10, 30])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--out", help="also write the JSON report here, after every page")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    stops = list(course.PAGES)
    if args.pages:
        stops = [s for s in stops if s.slug in args.pages]
    app_port, bare_port, frame_port = free_port(), free_port(), free_port()
    cold = time.perf_counter()
    app = serve(ROOT / "app.py", app_port)
    cold_start_s = time.perf_counter() - cold
    bare_server = serve(ROOT / "benchmarks" / "bare_app.py", bare_port)
    frame_server = serve(ROOT / "benchmarks" / "shell_app.py", frame_port)
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

            bare_tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            open_for_sliders(bare_tab, bare_url)
            bare = Slider(bare_tab, 0)
            bare.focus()
            bare_samples = [bare.press() for _ in range(args.presses)]
            bare_load = load_time(page, bare_url, args.loads)
            frame_url = f"http://127.0.0.1:{frame_port}/bare-in-shell"
            page.goto(frame_url)
            wait_idle(page, 120_000)
            (frame,) = slider_latencies(page, frame_url, bare, args.presses, 1).values()
            report["frame"] = {**frame, "load_ms": round(load_time(page, frame_url, args.loads))}
            bare_samples.append(frame["bare_ms"])
            for stop in stops:
                url = app_url if stop is course.HOME else f"{app_url}/{stop.slug}"
                step_urls = lesson_steps(page, url)
                sliders, loads, reruns, explorables = {}, [], [], {}
                for number, step_url in enumerate(step_urls, start=1):
                    if args.steps and number not in args.steps:
                        continue
                    print(f"{stop.slug} step {number}", file=sys.stderr)
                    for label, cell in slider_latencies(page, step_url, bare, args.presses,
                                                        args.max_sliders).items():
                        sliders[f"step {number}: {label}"] = cell
                        bare_samples.append(cell["bare_ms"])
                    for cell in explorable_latencies(page, step_url, bare, args.moves):
                        explorables[f"step {number}: {cell['title']}"] = cell
                        if "bare_ms" in cell:
                            bare_samples.append(cell["bare_ms"])
                    loads.append(load_time(page, step_url, args.loads))
                    query = dict(parse_qsl(urlsplit(step_url).query))
                    reruns.append(rerun_ms(stop.page, query))
                ratios = [row["ratio"] for row in sliders.values()]
                report["pages"][stop.slug] = {
                    "steps": len(step_urls),
                    "sliders": sliders,
                    "explorables": explorables,
                    "latency_ratio_median": round(statistics.median(ratios), 2) if ratios else None,
                    "latency_ratio_max": max(ratios) if ratios else None,
                    "load_ms": [round(x) for x in loads],
                    "load_ms_max": round(max(loads), 1),
                    "load_ratio_max": round(max(loads) / bare_load, 2),
                    "rerun_ms_max": round(max(reruns), 1),
                }
                if args.out:  # what is measured so far, should a later page fail
                    Path(args.out).write_text(json.dumps(report, indent=1))
            report["bare"] = {"latency_ms": round(statistics.median(bare_samples), 1),
                              "load_ms": round(bare_load, 1)}
            busiest = stops[-1]
            url = app_url if busiest is course.HOME else f"{app_url}/{busiest.slug}"
            report["memory_page"] = busiest.slug
            report["rss_mb"] = memory(browser, url, app.pid, args.sessions)
            browser.close()
    finally:
        for proc in (app, bare_server, frame_server):
            proc.terminate()
            proc.wait(timeout=20)
    for name, demo in DEMOS:
        start = time.perf_counter()
        demo()
        report["demos"][name] = round(time.perf_counter() - start, 3)

    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"bare page: slider->chart {report['bare']['latency_ms']} ms (median of every "
          f"re-measurement), load {report['bare']['load_ms']} ms")
    frame = report["frame"]
    print(f"bare slider and chart inside the course frame: slider->chart {frame['ms']} ms "
          f"({frame['ratio']}x bare), load {frame['load_ms']} ms "
          f"({round(frame['load_ms'] / report['bare']['load_ms'], 2)}x bare)")
    print(f"cold start (server healthy) {report['cold_start_s']} s, "
          f"first page drawn {report['first_page_s']} s")
    for slug, row in report["pages"].items():
        print(f"\n{slug}: {row['steps']} steps; slider->chart ratio median "
              f"{row['latency_ratio_median']}, worst {row['latency_ratio_max']}; slowest step load "
              f"{row['load_ms_max']} ms ({row['load_ratio_max']}x bare); slowest full rerun "
              f"{row['rerun_ms_max']} ms")
        print(f"  page load by step (ms): {row['load_ms']}")
        for label, cell in row["sliders"].items():
            print(f"  {label:<58}{cell['ms']:>8} ms  bare {cell['bare_ms']:>6} ms  "
                  f"{cell['ratio']:>5}x")
        for label, cell in row["explorables"].items():
            timing = (f"{cell['ms']:>6} ms  bare {cell['bare_ms']:>6} ms  {cell['ratio']:>5}x"
                      if "ms" in cell else "no move changed the chart")
            print(f"  explorable {label[:47]:<47}{timing}; drag redrew {cell['drag_redrawn']}"
                  f"/{cell['drag_new_step']} new steps; WebSocket messages "
                  f"{cell['ws_sent_clicks'] + cell['drag_ws_sent']}; "
                  f"{cell['json_bytes'] / 1000:.0f} kB")
    print("training demos (s):", report["demos"] or "none on the registered pages")
    print(f"server RSS (MB) by concurrent sessions on {report['memory_page']}:",
          report["rss_mb"])


if __name__ == "__main__":
    main()
