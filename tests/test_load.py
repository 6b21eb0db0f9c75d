"""The websocket load test (benchmarks/load.py) drives the served app without errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.served
ROOT = Path(__file__).resolve().parents[1]
PAGES = ("bradley-terry", "questions")  # a slider in a fragment; a selectbox in a full rerun


def load(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run benchmarks/load.py with ``args``."""
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "load.py"), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_two_sessions_over_two_pages_run_without_errors():
    # As in the full benchmark, one session goes first, then two run at the same time.
    done = load("--sessions", "1", "2", "--pages", *PAGES, "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["pages"] == list(PAGES)
    first, run = report["runs"]
    assert first["errors"] == 0, first["error_list"]
    assert run["sessions"] == 2
    assert run["errors"] == 0, run["error_list"]
    for page in PAGES:
        assert run["by_page"][page]["open"] == 2, page
        assert run["by_page"][page]["widget"] >= 2, page
    # The step picker sits in the lesson's steps fragment: picking step 2 reruns the steps.
    steps = run["by_page"]["bradley-terry"]["step"]  # step 2, and its "predict first" answer
    assert steps == 4 and run["fragment_runs_by_kind"]["step"] == steps
    assert run["fragment_runs_by_kind"]["open"] == 0  # opening a page runs the whole script
    for kind in ("full", "widget"):
        assert run[kind]["count"] >= 4
        assert 0 < run[kind]["p50_ms"] <= run[kind]["p95_ms"]
    # The slider change reached the app: its chart came back with a different figure.
    assert run["widget_kinds"].get("slider, fragment run") == 2
    assert run["charts_redrawn_by_widgets"] >= 2
    assert run["rss_peak_mb"] >= run["rss_before_mb"] > 0


def test_sessions_arriving_together_at_a_fresh_server_see_no_errors():
    # A class opening the teacher's link at once, on a server that has just started: app.py
    # imports pandas before anything can look it up half-imported.
    done = load("--sessions", "10", "--pages", "home", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = json.loads(done.stdout)["runs"]
    assert run["errors"] == 0, run["error_list"]


def test_the_page_by_page_profile_charges_each_page_with_the_server_s_cpu():
    done = load("--per-page", "2", "--pages", "questions", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["runs"] == []  # the profile alone: no concurrent runs unless asked for
    profile = report["profile"]
    assert profile["visits"] == 2 and profile["errors"] == 0, profile["error_list"]
    assert list(profile["pages"]) == ["home", "questions"]  # the address opens the start page
    questions = profile["pages"]["questions"]
    assert questions["actions_per_visit"] == 2  # open, then the topic picker
    # The first visit to a fresh server imports what later visits reuse (the start page is
    # where the app's address opens: numpy, plotly, pandas and the course's modules).
    home = profile["pages"]["home"]
    assert home["first_cpu_ms_per_action"] > 2 * home["warm_cpu_ms_per_action"] > 0
    assert questions["warm_full_cpu_ms"] > 0 and questions["warm_ms_per_action"] > 0


def test_unknown_page_is_a_usage_error():
    done = load("--pages", "no-such-page", timeout=60)
    assert done.returncode == 2
    assert "invalid choice" in done.stderr
