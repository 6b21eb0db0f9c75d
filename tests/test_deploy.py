"""The school-server deployment (deploy/serve.py): two Streamlit processes behind nginx with
sticky sessions. A short class-sized load runs through it without errors, every session keeps
its process, browsers are spread over both processes, and a process that dies is restarted."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import IN_CI, ROOT, free_port, free_ports

pytestmark = [pytest.mark.served, pytest.mark.xdist_group("deploy")]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _state(run_dir: Path, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        path = run_dir / "state.json"
        if path.exists():
            return json.loads(path.read_text())
        time.sleep(0.5)
    raise AssertionError(f"deploy/serve.py wrote no state.json in {timeout_s:g} s")


def _process(url: str, cookie: str) -> str:
    request = urllib.request.Request(url + "/_stcore/health",
                                     headers={"Cookie": f"dice2dpo_process={cookie}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["X-Course-Process"]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    if not Path(NGINX).exists():
        if IN_CI:
            pytest.fail("no nginx: CI must run the deployment test (.ci/run installs it)")
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    run_dir = tmp_path_factory.mktemp("deploy")
    first = free_ports(2)  # the processes' ports follow each other
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "deploy" / "serve.py"), "--processes", "2",
         "--port", str(port), "--first-port", str(first), "--run-dir", str(run_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        state = _state(run_dir)
        yield state, run_dir, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def test_ten_sessions_through_nginx_see_no_errors_and_keep_their_process(deployment):
    state, run_dir, _ = deployment
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--sessions", "10",
         "--pages", "bradley-terry", "questions", "--state", str(run_dir / "state.json"),
         "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = json.loads(done.stdout)["runs"]
    assert run["errors"] == 0, run["error_list"]
    assert run["sessions_on_one_process"] == 10  # every request of a session, one process
    assert run["widget"]["count"] >= 10 and run["full"]["count"] >= 30
    assert len(run["processes"]) == 2 and run["cpu_ms_per_action"] > 0


def test_browsers_are_spread_over_both_processes_and_each_keeps_its_own(deployment):
    state, _, _ = deployment
    ports = {f"127.0.0.1:{p['port']}" for p in state["processes"]}
    answered = {f"browser-{i}": _process(state["url"], f"browser-{i}") for i in range(40)}
    assert set(answered.values()) == ports
    for cookie, process in list(answered.items())[:10]:
        assert _process(state["url"], cookie) == process


def test_a_process_that_dies_is_started_again(deployment):
    state, run_dir, _ = deployment
    victim = state["processes"][0]
    os.kill(victim["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        now = json.loads((run_dir / "state.json").read_text())["processes"][0]
        if now["pid"] != victim["pid"] and now["restarts"] == victim["restarts"] + 1:
            break
        time.sleep(1)
    else:
        raise AssertionError("the killed process was not started again within 120 s")
    with urllib.request.urlopen(f"http://127.0.0.1:{victim['port']}/_stcore/health",
                                timeout=10) as response:
        assert response.status == 200
