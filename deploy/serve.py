"""Serve the course from several Streamlit processes behind nginx, for a school's own server.

    python deploy/serve.py                         # 2 processes, the course at port 8080
    python deploy/serve.py --processes 4 --port 80 --address 0.0.0.0

One Streamlit process runs Python on one core; on a machine with several cores, a class is
served faster by several processes. This command starts ``--processes`` copies of the same app
(``streamlit run app.py``) on local ports, waits until each answers its health check, and
starts nginx (Debian's ``nginx`` package) in front of them with sticky sessions: each browser
keeps its process for its whole visit (see deploy/nginx.conf.template). It then watches the
processes: one that exits or fails its health check three times in a row is started again.
Ctrl+C (or SIGTERM) stops nginx and every process.

Everything the command writes (nginx's configuration, logs and the processes' logs, and
``state.json`` with the address and process ids, which benchmarks/load.py reads) goes into
``--run-dir`` (default: deploy/run, ignored by git). Nothing a learner relies on lives in one
process only: lesson state is in the address, and class mode keeps its data in a database.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
HEALTH_EVERY_S = 5.0
FAILS_BEFORE_RESTART = 3
START_TIMEOUT_S = 90.0


@dataclass
class Process:
    """One Streamlit process of the deployment."""

    port: int
    log: Path
    proc: subprocess.Popen | None = None
    fails: int = 0
    restarts: int = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                 "--server.port", str(self.port), "--server.address", "127.0.0.1",
                 "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stcore/health",
                                        timeout=3) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def nginx_config(run_dir: Path, listen: str, ports: list[int]) -> str:
    """The nginx configuration for these ports, from deploy/nginx.conf.template."""
    servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;"
                        for port in ports)
    # As root, nginx would run its workers as "nobody", who cannot write the run directory.
    # A school server runs this command as an ordinary user, and nginx keeps that user.
    user = "user root;" if os.geteuid() == 0 else ""
    config = TEMPLATE.read_text()
    for name, value in {"run_dir": run_dir, "listen": listen, "servers": servers,
                        "user": user}.items():
        config = config.replace("{{" + name + "}}", str(value))
    return config


def wait_healthy(processes: list[Process], timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    waiting = list(processes)
    while waiting:
        for process in list(waiting):
            if process.proc.poll() is not None:
                raise RuntimeError(f"the process on port {process.port} exited; see "
                                   f"{process.log}")
            if process.healthy():
                waiting.remove(process)
        if waiting and time.monotonic() > deadline:
            raise RuntimeError(f"no health within {timeout_s:g} s on ports "
                               f"{[p.port for p in waiting]}")
        time.sleep(0.3)


def write_state(run_dir: Path, url: str, processes: list[Process], nginx: subprocess.Popen):
    state = {"url": url, "nginx_pid": nginx.pid,
             "processes": [{"port": p.port, "pid": p.proc.pid, "restarts": p.restarts,
                            "log": str(p.log)} for p in processes]}
    (run_dir / "state.json").write_text(json.dumps(state, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2, help="Streamlit processes (2)")
    parser.add_argument("--port", type=int, default=8080, help="where nginx listens (8080)")
    parser.add_argument("--address", default="127.0.0.1",
                        help="the address nginx listens on; 0.0.0.0 for every interface")
    parser.add_argument("--first-port", type=int, default=8601,
                        help="the first process's local port; the others follow (8601)")
    parser.add_argument("--run-dir", type=Path, default=ROOT / "deploy" / "run")
    args = parser.parse_args()
    if args.processes < 1:
        parser.error("--processes must be 1 or more")
    nginx_binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx_binary).exists():
        sys.exit("nginx is not installed (Debian: apt-get install nginx)")

    run_dir = args.run_dir.resolve()
    for sub in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    processes = [Process(args.first_port + i, run_dir / f"streamlit-{args.first_port + i}.log")
                 for i in range(args.processes)]
    nginx = None
    stopping = False

    def stop(*_) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        for process in processes:
            process.start()
        wait_healthy(processes)
        config = run_dir / "nginx.conf"
        config.write_text(nginx_config(run_dir, f"{args.address}:{args.port}",
                                       [p.port for p in processes]))
        nginx = subprocess.Popen([nginx_binary, "-p", str(run_dir), "-c", str(config),
                                  "-g", "daemon off;"], start_new_session=True)
        host = "localhost" if args.address in ("0.0.0.0", "127.0.0.1") else args.address
        url = f"http://{host}:{args.port}"
        deadline = time.monotonic() + 20
        while True:
            if nginx.poll() is not None:
                raise RuntimeError(f"nginx exited; see {run_dir / 'nginx-error.log'}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/_stcore/health",
                                            timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not answer within 20 s") from None
                time.sleep(0.2)
        write_state(run_dir, url, processes, nginx)
        print(f"The course is at {url} ({len(processes)} Streamlit processes on ports "
              f"{', '.join(str(p.port) for p in processes)}). Ctrl+C stops it.", flush=True)
        while not stopping:
            time.sleep(HEALTH_EVERY_S)
            if nginx.poll() is not None:
                raise RuntimeError(f"nginx exited; see {run_dir / 'nginx-error.log'}")
            for process in processes:
                exited = process.proc.poll() is not None
                process.fails = 0 if not exited and process.healthy() else process.fails + 1
                if exited or process.fails >= FAILS_BEFORE_RESTART:
                    print(f"restarting the process on port {process.port}", flush=True)
                    process.stop()
                    process.start()
                    process.fails, process.restarts = 0, process.restarts + 1
                    wait_healthy([process])
                    write_state(run_dir, url, processes, nginx)
    finally:
        if nginx is not None and nginx.poll() is None:
            nginx.terminate()
            nginx.wait(timeout=20)
        for process in processes:
            process.stop()


if __name__ == "__main__":
    main()
