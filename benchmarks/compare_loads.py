"""Step by step, how long the course takes to load against an earlier version of itself.

Serves this checkout and another revision (checked out into a temporary git worktree) side by
side with the bare slider+chart page, and loads every step of every lesson in both, alternating,
so both see the same machine. A step's load is navigation until every chart is drawn and the
script has finished (median of --loads). Reports per step: both times, their ratio (this
checkout / the revision) and both against the bare page; and the steps that got slower than
--tolerance. Steps are matched by their number; a lesson the revision does not have is skipped.

Usage: python benchmarks/compare_loads.py REVISION [--pages dpo ...] [--loads 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from bench import lesson_steps, load_time  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS, free_port, serve  # noqa: E402

from ui import course  # noqa: E402


def _compare(page, stops, new_url: str, old_url: str, bare_ms: float, loads: int,
             tolerance: float) -> dict:
    report: dict = {}
    for stop in stops:
        path = "" if stop is course.HOME else f"/{stop.slug}"
        new_steps = lesson_steps(page, new_url + path)
        try:
            old_steps = lesson_steps(page, old_url + path)
        except Exception as error:  # the revision has no such page
            report[stop.slug] = {"skipped": str(error).splitlines()[0]}
            continue
        rows = {}
        for number, (new, old) in enumerate(zip(new_steps, old_steps, strict=False), start=1):
            new_samples, old_samples = [], []
            for _ in range(loads):  # alternate, so both versions see the same machine
                new_samples.append(load_time(page, new, 1))
                old_samples.append(load_time(page, old, 1))
            new_ms, old_ms = statistics.median(new_samples), statistics.median(old_samples)
            rows[f"step {number}"] = {
                "query": urlsplit(new).query, "ms": round(new_ms), "before_ms": round(old_ms),
                "ratio": round(new_ms / old_ms, 2), "vs_bare": round(new_ms / bare_ms, 2),
                "before_vs_bare": round(old_ms / bare_ms, 2),
                "slower": new_ms > tolerance * old_ms}
        report[stop.slug] = rows
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", help="the git revision to compare against")
    parser.add_argument("--pages", nargs="*", help="lesson slugs (default: every page)")
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--tolerance", type=float, default=1.1,
                        help="a step is slower when it takes more than this times as long")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    stops = [s for s in course.PAGES if not args.pages or s.slug in args.pages]
    with tempfile.TemporaryDirectory() as folder:
        before = Path(folder) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(before),
                        args.revision], check=True, capture_output=True)
        ports = free_port(), free_port(), free_port()
        servers = [serve(ROOT / "app.py", ports[0]),
                   serve(before / "app.py", ports[1], cwd=before),
                   serve(ROOT / "benchmarks" / "bare_app.py", ports[2])]
        new_url, old_url, bare_url = (f"http://127.0.0.1:{p}" for p in ports)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                bare_ms = load_time(page, bare_url, args.loads)
                report = {"revision": args.revision, "bare_load_ms": round(bare_ms),
                          "pages": _compare(page, stops, new_url, old_url, bare_ms,
                                            args.loads, args.tolerance)}
                browser.close()
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=20)
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(before)], check=False, capture_output=True)
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(f"bare page load {report['bare_load_ms']} ms; against {args.revision}")
    for slug, rows in report["pages"].items():
        if "skipped" in rows:
            print(f"{slug}: skipped ({rows['skipped']})")
            continue
        for step, row in rows.items():
            flag = "  SLOWER" if row["slower"] else ""
            print(f"{slug:14} {step:8} {row['ms']:6} ms  before {row['before_ms']:6} ms  "
                  f"×{row['ratio']:.2f}  (bare ×{row['vs_bare']:.2f}, before "
                  f"×{row['before_vs_bare']:.2f}){flag}")


if __name__ == "__main__":
    main()
