"""One Streamlit process against several behind nginx: the same class-sized load on each.

    python benchmarks/processes.py                     # 30 sessions, 1 then 2 processes
    python benchmarks/processes.py --processes 1 2 4 --sessions 30 --json

For each count, starts a fresh deployment with deploy/serve.py (nginx in front, sticky
sessions), waits until every process answers, drives ``--sessions`` sessions through every
page with benchmarks/load.py's sessions, and stops it. Each count gets freshly started
processes, as after a restart of the school's server, so the first sessions pay for what the
caches then share. The table puts the counts side by side: latency p50/p95 of connecting,
opening a page, widget changes and full reruns, errors, server CPU per action, the RSS of each
process, and how many sessions kept one process for every request they made.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

import load  # noqa: E402
from conftest import free_ports  # noqa: E402

from ui import course  # noqa: E402

START_TIMEOUT_S = 180.0


def _deployment(processes: int, run_dir: Path) -> tuple[subprocess.Popen, dict]:
    """Start deploy/serve.py with ``processes`` processes; it and its state once all answer."""
    first = free_ports(processes + 1)  # the last one for nginx
    command = [sys.executable, str(ROOT / "deploy" / "serve.py"), "--processes",
               str(processes), "--port", str(first + processes), "--first-port", str(first),
               "--run-dir", str(run_dir)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    state_file = run_dir / "state.json"
    while not state_file.exists():
        if proc.poll() is not None:
            raise SystemExit(f"deploy/serve.py stopped (exit {proc.returncode}); see {run_dir}")
        if time.monotonic() > deadline:
            _stop(proc)
            raise SystemExit(f"deploy/serve.py was not ready in {START_TIMEOUT_S:g} s")
        time.sleep(0.5)
    return proc, json.loads(state_file.read_text())


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)


def compare(counts: list[int], sessions: int, stops: list[course.Lesson]) -> list[dict]:
    """The load report of ``sessions`` sessions on a fresh deployment of each count."""
    results = []
    for processes in counts:
        with tempfile.TemporaryDirectory(prefix="dice2dpo-deploy-") as tmp:
            proc, state = _deployment(processes, Path(tmp))
            try:
                report = load.run(state["url"], [p["pid"] for p in state["processes"]],
                                  sessions, stops)
            finally:
                _stop(proc)
        results.append({**report, "process_count": processes})
    return results


def _print(results: list[dict]) -> None:
    rows = [("connect p50 / p95 ms", lambda r: _pair(r["by_kind"]["connect"])),
            ("page open p50 / p95 ms", lambda r: _pair(r["by_kind"]["open"])),
            ("widget change p50 / p95 ms", lambda r: _pair(r["widget"])),
            ("full rerun p50 / p95 ms", lambda r: _pair(r["full"])),
            ("errors", lambda r: str(r["errors"])),
            ("server CPU per action ms", lambda r: str(r["cpu_ms_per_action"])),
            ("server CPU s / wall s", lambda r: f"{r['server_cpu_s']} / {r['wall_s']}"),
            ("RSS peak per process MB",
             lambda r: " + ".join(str(p["rss_peak_mb"]) for p in r["processes"])),
            ("sessions that kept one process",
             lambda r: f"{r['sessions_on_one_process']} of {r['sessions']}"),
            ("sessions per process", lambda r: ", ".join(
                str(n) for _, n in sorted(r["sessions_by_process"].items())))]
    width = 26
    names = [f"{r['process_count']} process" + "es" * (r["process_count"] > 1)
             for r in results]
    print(f"{'':<32}" + "".join(f"{name:>{width}}" for name in names))
    for name, cell in rows:
        print(f"{name:<32}" + "".join(f"{cell(r):>{width}}" for r in results))
    for r in results:
        for error in r["error_list"]:
            print(f"  {r['process_count']} processes: error on {error['page']}: {error['message']}")


def _pair(latency: dict) -> str:
    return f"{latency['p50_ms']} / {latency['p95_ms']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2],
                        help="numbers of processes, one fresh deployment each (default: 1 2)")
    parser.add_argument("--sessions", type=int, default=30,
                        help="concurrent sessions on each deployment (default: 30)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    if min(args.processes) < 1 or args.sessions < 1:
        parser.error("--processes and --sessions take 1 or more")
    results = compare(args.processes, args.sessions, list(course.PAGES))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print(results)


if __name__ == "__main__":
    main()
