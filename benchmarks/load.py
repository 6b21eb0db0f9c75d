"""Load test: many learners at once. Serves the app (or drives a running deployment) with N
concurrent sessions through every page, with widget changes, and reports latency, errors,
server CPU per action and memory.

    python benchmarks/load.py                      # 1, 10 and 30 sessions
    python benchmarks/load.py --sessions 5 --json
    python benchmarks/load.py --sessions 2 --pages kl-divergence questions
    python benchmarks/load.py --sessions 30 --url http://localhost:8080 --pids 1234 1240
    python benchmarks/load.py --sessions 30 --state deploy/run/state.json   # deploy/serve.py
    python benchmarks/load.py --per-page 4         # server CPU per action, page by page

Each session is a lightweight websocket client that speaks Streamlit's own protocol, as the
browser does: it connects to ``/_stcore/stream``, sends ``BackMsg.rerun_script`` messages (a
``ClientState`` with the page, the query string and the changed widget's value) and reads the
``ForwardMsg`` replies until ``script_finished``. No browser is needed, so 30 sessions fit on a
small machine, and the latency is the server's: the time from sending the message to receiving
``script_finished``, without any drawing.

A session first opens the app's address (the home page), like a learner following a link, then
visits every page of the course in turn (home, every lesson, the questions) and makes three
changes there:

- open: switch to the page at its first step (a full rerun);
- step: pick step 2 in the lesson's step picker, as a learner does (the lessons draw their
  steps in a fragment, so this reruns the steps alone), and answer the step's "predict first"
  question if it has one (counted as a step change too: the demo opens only then); skipped on
  pages without steps;
- widget: change the first slider of the step by one step, or, where the step has no slider,
  its first selectbox, segmented control, number input or radio (none on a step without
  them). A widget inside an ``st.fragment`` is changed with a fragment run, as the frontend does.

The report gives p50 and p95 latency of each kind of change, of full reruns (every run of the
whole script: connecting, opening a page, and a step or widget change outside any fragment) and
of widget changes, how many widget changes of each kind ran and how many of them redrew a
chart with a new figure. The runs for 1, 10 and 30 sessions go one after another against one
server, so the first run also warms it up (imports, caches), as the first learners of the day
do.

Errors are exception elements on a page, a run that does not finish with success, a page that
was not found or is not the one asked for, a step that was not reached, a closed connection,
and a run that does not finish within 60 s (the session stops there). Memory is the server's
resident set size, sampled every 0.2 s while the sessions run; "MB per session" is the growth of
the peak from the smallest to the largest number of sessions, divided by the sessions added.
The client runs on the same machine as the server and takes a little CPU from it. CPU per
action is the server processes' CPU time (user + system) during a run divided by its timed
changes.

Each session acts as soon as its last action is answered: 30 sessions keep the server as busy
as it can be, a stress test harder than a class. ``--think SECONDS`` gives every learner a
reading pause between actions instead (uniform in 0.5 to 1.5 times it; timings exclude it).

``--per-page VISITS`` profiles the server page by page instead: VISITS sessions one after
another (while one more stays connected, as in a class), each charged with the server's CPU
during each of its runs. The first visit to a
freshly started server pays for what the page's shared caches keep; later visits show what a
page costs once anyone opened it with the same settings.

Each session first fetches the app's page as a browser does, and keeps any cookie it gets.
Behind deploy/serve.py's nginx, which names the process that answered each request, the
report says how many sessions kept one process for every request they made.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import statistics
import sys
import threading
import time
import urllib.request
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from bench import _rss_mb  # noqa: E402
from conftest import free_port, serve  # noqa: E402

from ui import course  # noqa: E402

RUN_TIMEOUT_S = 60.0  # a run that takes longer is an error and ends its session
RSS_EVERY_S = 0.2
HOST_MB = 1024  # the host size the memory estimate is for
# Widgets a session changes when a step has no slider, in order of preference.
OTHER_WIDGETS = ("selectbox", "button_group", "number_input", "radio")
FINISHED_OK = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
PAGE_KINDS = ("connect", "open", "step")  # changes of what a page shows, besides widgets


class RunError(Exception):
    """A run that went wrong in a way that ends the session (timeout, closed connection)."""


@dataclass
class Shown:
    """One element a run drew: its kind ("slider", "plotly_chart", ...), proto and place."""

    kind: str
    proto: object
    path: tuple[int, ...]
    fragment_id: str


@dataclass
class Run:
    """What the server sent back for one ``rerun_script`` message."""

    fragment_id: str = ""  # the fragment it reran; "" for a run of the whole script
    ms: float = 0.0
    status: int | None = None
    elements: list[Shown] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)  # URL path -> page script hash
    page_ran: str | None = None  # script hash of the page the navigation ran
    not_found: bool = False
    exceptions: list[str] = field(default_factory=list)
    cpu_ms: float | None = None  # the server's CPU during the run (sequential profile only)

    def problems(self) -> list[str]:
        """What went wrong in this run, in words (empty if nothing did)."""
        found = [f"exception shown: {text}" for text in self.exceptions]
        if self.status not in FINISHED_OK:
            name = ForwardMsg.ScriptFinishedStatus.Name(self.status)
            found.append(f"script finished with {name}")
        if self.not_found:
            found.append("page not found")
        return found


class Client:
    """One learner's session: a websocket speaking Streamlit's protobuf protocol."""

    def __init__(self, ws: ClientConnection, url: str, cpu_pids: Sequence[int] = (),
                 think: float = 0.0, seed: int = 0):
        self.ws, self.url = ws, url
        # A learner's reading time between two actions: uniform in [0.5, 1.5] × think seconds.
        self.think, self.rng, self.sent = think, random.Random(seed), 0
        # Processes whose CPU each run is charged with: only when one session runs at a time.
        self.cpu_pids = tuple(cpu_pids)
        self.charts: dict[tuple[int, ...], str] = {}  # delta path -> plotly spec on screen

    async def rerun(self, *, path: str = "", page_hash: str = "", page_name: str = "",
                    query: str = "", widget: WidgetState | None = None,
                    fragment_id: str = "") -> Run:
        """Ask for a script run as the frontend does and read the replies until it finished.

        ``path`` is the page's URL path ("" for the app's address), ``page_hash`` or
        ``page_name`` the page to run, ``query`` the query string without "?", ``widget`` the
        one widget value that changed and ``fragment_id`` the fragment to rerun, if any.
        Raises RunError if the connection closes or the run does not finish in time.
        """
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = query
        state.page_script_hash = page_hash
        state.page_name = page_name
        state.fragment_id = fragment_id
        state.widget_states.SetInParent()
        if widget is not None:
            state.widget_states.widgets.append(widget)
        state.context_info.timezone = "UTC"
        state.context_info.locale = "en-US"
        state.context_info.url = f"{self.url}/{path}"
        if self.think and self.sent:
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.think)
        self.sent += 1
        run = Run(fragment_id=fragment_id)
        cpu_before = sum(_cpu_s(pid) for pid in self.cpu_pids)
        start = time.perf_counter()
        try:
            await self.ws.send(msg.SerializeToString())
            async with asyncio.timeout(RUN_TIMEOUT_S):
                while run.status is None:
                    self._read(await self.ws.recv(), run)
        except TimeoutError:
            raise RunError(f"no script_finished within {RUN_TIMEOUT_S:g} s") from None
        except ConnectionClosed as error:
            raise RunError(f"connection closed ({error})") from None
        run.ms = (time.perf_counter() - start) * 1000
        if self.cpu_pids:
            run.cpu_ms = (sum(_cpu_s(pid) for pid in self.cpu_pids) - cpu_before) * 1000
        return run

    def _read(self, data: bytes, run: Run) -> None:
        """Add one ForwardMsg to ``run``."""
        msg = ForwardMsg()
        msg.ParseFromString(data)
        kind = msg.WhichOneof("type")
        if kind == "script_finished":
            # A run stopped early for a rerun (st.rerun) is followed by the run that replaces it.
            if msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                run.status = msg.script_finished
        elif kind == "navigation":
            run.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
            run.page_ran = msg.navigation.page_script_hash
        elif kind == "page_not_found":
            run.not_found = True
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            what = element.WhichOneof("type")
            shown = Shown(what, getattr(element, what), tuple(msg.metadata.delta_path),
                          msg.delta.fragment_id)
            run.elements.append(shown)
            if what == "exception":
                e = shown.proto
                text = f"{e.type}: {e.message}" if e.type else e.message
                run.exceptions.append(text[:200] + (" (warning)" if e.is_warning else ""))

    def redrawn(self, run: Run) -> int:
        """How many charts ``run`` drew with a spec different from the one on screen before,
        at the same place; then remember what is on screen now."""
        drawn = {s.path: s.proto.spec for s in run.elements if s.kind == "plotly_chart"}
        changed = sum(path in self.charts and self.charts[path] != spec
                      for path, spec in drawn.items())
        if run.fragment_id:
            self.charts.update(drawn)  # a fragment run redraws only its own part of the page
        else:
            self.charts = drawn
        return changed


def _step_picker(run: Run) -> Shown | None:
    """The lesson's step picker: the segmented control bound to ``<prefix>_step``."""
    return next((s for s in run.elements if s.kind == "button_group"
                 and s.proto.query_param_key.endswith("_step")), None)


def _slider_value(p: Slider) -> WidgetState:
    """The slider's value one step further (back one step at the top of its range)."""
    now = list(p.value if p.set_value else p.default)
    state = WidgetState(id=p.id)
    if p.type == Slider.SELECT_SLIDER or p.options:
        # Select sliders hold option indices and take the option labels back.
        last = len(p.options) - 1
        index = int(now[-1])
        now[-1] = index + 1 if index < last else index - 1
        state.string_array_value.data.extend(p.options[int(i)] for i in now)
        return state
    high = now[-1]
    if high + p.step <= p.max + 1e-9:
        now[-1] = high + p.step
    else:
        now[0] = now[0] - p.step
    state.double_array_value.data.extend(now)
    return state


def _next_option(options: list[str], current: int) -> str:
    """The option after the one at index ``current`` (the first after the last or none)."""
    return options[(max(current, 0) + 1) % len(options)]


def _widget_value(shown: Shown) -> WidgetState:
    """The new value of a widget changed by one notch, as the frontend would send it."""
    p = shown.proto
    if shown.kind == "slider":
        return _slider_value(p)
    state = WidgetState(id=p.id)
    if shown.kind in ("selectbox", "radio"):
        options = list(p.options)
        current = options.index(p.raw_value) if p.raw_value in options else p.default
        state.string_value = _next_option(options, current)
    elif shown.kind == "button_group":
        options = [o.content for o in p.options]
        picked = [options.index(v) for v in p.raw_values if v in options]
        current = picked[0] if picked else (p.default[0] if p.default else -1)
        state.string_array_value.data.append(_next_option(options, current))
    elif shown.kind == "number_input":
        now = p.value if p.set_value else p.default
        step = p.step or 1.0
        up = not p.has_max or now + step <= p.max
        state.double_value = now + step if up else now - step
    return state


def _guess(shown: Shown) -> bool:
    """A "predict first" question (its demo opens once it is answered)."""
    return shown.kind == "button_group" and shown.proto.query_param_key.endswith("_guess")


def _changeable(shown: Shown) -> bool:
    """A slider or one of OTHER_WIDGETS that is enabled and has something to change to."""
    if shown.kind != "slider" and shown.kind not in OTHER_WIDGETS or _guess(shown):
        return False
    if shown.proto.disabled:
        return False
    return shown.kind in ("slider", "number_input") or len(shown.proto.options) > 1


def _widget_to_change(run: Run) -> Shown | None:
    """The first slider of the shown step, else its first other changeable widget."""
    picker = _step_picker(run)
    after = picker.path if picker else (0,)
    # In the main area (delta paths start with 0; the sidebar's with 1), below the step picker.
    candidates = sorted((s for s in run.elements
                         if s.path[0] == 0 and s.path > after and _changeable(s)),
                        key=lambda s: s.path)
    sliders = [s for s in candidates if s.kind == "slider"]
    return (sliders or candidates or [None])[0]


@dataclass
class Change:
    """One timed change: which page, what kind, how long and what it redrew."""

    page: str
    kind: str  # "connect", "open", "step" or "widget"
    ms: float
    widget: str = ""  # for widget changes: e.g. "slider, fragment run"
    redrawn: int = 0  # charts whose spec changed
    cpu_ms: float | None = None  # the server's CPU for it (sequential profile only)
    fragment: bool = False  # a run of one fragment, not of the whole script


@dataclass
class Tally:
    """Changes and errors of all sessions of one run."""

    changes: list[Change] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    # per session: the processes that answered it, behind a proxy that names them
    processes: list[set[str]] = field(default_factory=list)

    def error(self, page: str, message: str) -> None:
        """Count an error on ``page``."""
        self.errors.append({"page": page, "message": message})

    def record(self, client: Client, run: Run, page: str, kind: str, widget: str = "") -> None:
        """Keep the run's time and report its problems as errors."""
        self.changes.append(Change(page, kind, run.ms, widget, client.redrawn(run), run.cpu_ms,
                                   bool(run.fragment_id)))
        for problem in run.problems():
            self.error(page, f"{kind}: {problem}")


PROCESS_HEADER = "X-Course-Process"  # set by deploy/nginx.conf.template


def _http(url: str, cookie: str = "") -> tuple[str, str]:
    """GET ``url`` as the session's browser would: (its Set-Cookie, the process header)."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=RUN_TIMEOUT_S) as response:
        return response.headers.get("Set-Cookie", ""), response.headers.get(PROCESS_HEADER, "")


async def _visit(client: Client, stop: course.Lesson, pages: dict[str, str],
                 tally: Tally) -> None:
    """Open one page, go to its step 2 and change one widget there."""
    where = stop.slug
    path = "" if stop is course.HOME else stop.slug
    if path not in pages:
        tally.error(where, f"not in the app's navigation (pages: {sorted(pages)})")
        return
    shown = await client.rerun(path=path, page_hash=pages[path])
    tally.record(client, shown, where, "open")
    if shown.page_ran != pages[path]:
        tally.error(where, "open: the app ran another page")
    query = ""
    picker = _step_picker(shown)
    if picker is not None and len(picker.proto.options) > 1:
        # As a learner does: pick step 2 in the step picker (a run of the fragment it sits
        # in, if any); the browser's address then carries the step for the runs after it.
        label = picker.proto.options[1].content
        step = WidgetState(id=picker.proto.id)
        step.string_array_value.data.append(label)
        shown = await client.rerun(path=path, page_hash=pages[path], widget=step,
                                   fragment_id=picker.fragment_id)
        query = urlencode({picker.proto.query_param_key: label})
        tally.record(client, shown, where, "step")
        captions = [s.proto.body for s in shown.elements if s.kind == "markdown"]
        if not any(c.startswith("Step 2 of ") for c in captions):
            tally.error(where, f"step: step 2 ({label!r}) is not shown")
    # A learner answers the step's "predict first" question before its demo opens.
    for question in [s for s in shown.elements if _guess(s) and not s.proto.raw_values]:
        shown = await client.rerun(path=path, page_hash=pages[path], query=query,
                                   widget=_widget_value(question),
                                   fragment_id=question.fragment_id)
        tally.record(client, shown, where, "step")
    target = _widget_to_change(shown)
    if target is None:
        return
    value = _widget_value(target)
    run = await client.rerun(path=path, page_hash=pages[path], query=query, widget=value,
                             fragment_id=target.fragment_id)
    how = "fragment run" if target.fragment_id else "full rerun"
    tally.record(client, run, where, "widget", f"{target.kind}, {how}")


def _open_stream(url: str, cookie: str = ""):
    """A connection to the app's websocket, as the browser makes it (with its cookie, if any)."""
    stream = url.replace("http://", "ws://").replace("https://", "wss://") + "/_stcore/stream"
    # Browsers send no websocket pings; a busy server must not drop the session for them.
    return connect(stream, subprotocols=["streamlit"], max_size=None, ping_interval=None,
                   open_timeout=RUN_TIMEOUT_S,
                   additional_headers={"Cookie": cookie} if cookie else None)


async def _session(url: str, stops: list[course.Lesson], tally: Tally,
                   start_delay: float, cpu_pids: Sequence[int] = (), think: float = 0.0,
                   seed: int = 0) -> None:
    """One learner: open the app, then visit every page in ``stops``. With ``cpu_pids``, each
    run is charged with those processes' CPU during it (right when no other session runs)."""
    await asyncio.sleep(start_delay)
    where = course.HOME.slug  # the page the app's address opens
    seen: set[str] = set()
    tally.processes.append(seen)
    try:
        # As a browser: the page first (a proxy may give it a cookie), then the WebSocket.
        set_cookie, process = await asyncio.to_thread(_http, url + "/")
        cookie = set_cookie.split(";", 1)[0]
        async with _open_stream(url, cookie) as ws:
            seen.update(p for p in (process, ws.response.headers.get(PROCESS_HEADER, "")) if p)
            client = Client(ws, url, cpu_pids, think, seed)
            first = await client.rerun()  # the app's address, as a link opens it
            tally.record(client, first, where, "connect")
            for stop in stops:
                where = stop.slug
                await _visit(client, stop, first.pages, tally)
                # What the browser asks besides the WebSocket (media, health) goes to the
                # session's process too, or its charts' files would not be found.
                _, process = await asyncio.to_thread(_http, url + "/_stcore/health", cookie)
                seen.update([process] if process else [])
    except RunError as error:
        tally.error(where, f"{error}; the session stopped")
    except (OSError, TimeoutError, ConnectionClosed) as error:
        tally.error(where, f"connection failed: {type(error).__name__}: {error}")


def _drain(stream, tail: deque) -> None:
    """Keep the last lines of the server's log; reading it also keeps its pipe from filling."""
    for line in iter(stream.readline, b""):
        tail.append(line.decode(errors="replace").rstrip())


def _watch_rss(pids: list[int], peaks: list[float], stop: threading.Event) -> None:
    """Keep the highest RSS of each of ``pids`` in ``peaks`` until ``stop`` is set."""
    while not stop.is_set():
        for i, pid in enumerate(pids):
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # child ended
                peaks[i] = max(peaks[i], _rss_mb(pid))
        stop.wait(RSS_EVERY_S)


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    # The command name in field 2 may hold spaces: count the fields after its ")".
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile ``q`` (0..1) of ``values``, rounded to 0.1."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 1)


def _latency(changes: list[Change]) -> dict:
    """Count, median, 95th percentile and maximum of the changes' times in ms."""
    ms = [c.ms for c in changes]
    return {"count": len(ms), "p50_ms": round(statistics.median(ms), 1) if ms else None,
            "p95_ms": _percentile(ms, 0.95), "max_ms": round(max(ms), 1) if ms else None}


async def _drive(url: str, stops: list[course.Lesson], sessions: int, tally: Tally,
                 think: float) -> None:
    """Run ``sessions`` sessions at the same time."""
    # Learners do not arrive in the same millisecond: spread the starts over 2 seconds.
    await asyncio.gather(*(_session(url, stops, tally, 2.0 * i / sessions, think=think, seed=i)
                           for i in range(sessions)))


def run(url: str, pids: list[int], sessions: int, stops: list[course.Lesson],
        think: float = 0.0) -> dict:
    """Drive ``sessions`` concurrent sessions through ``stops``; the report of that run.

    ``pids``: the server processes whose CPU and memory to report (none: not reported).
    ``think``: seconds a learner reads between two actions, on average (0: none)."""
    rss_before = [round(_rss_mb(pid), 1) for pid in pids]
    tally, peaks, stop = Tally(), list(rss_before), threading.Event()
    watcher = threading.Thread(target=_watch_rss, args=(pids, peaks, stop), daemon=True)
    watcher.start()
    cpu_before = [_cpu_s(pid) for pid in pids]
    started, client_cpu = time.perf_counter(), time.process_time()
    try:
        asyncio.run(_drive(url, stops, sessions, tally, think))
    finally:
        stop.set()
        watcher.join()
    wall = time.perf_counter() - started
    cpu = [_cpu_s(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
    client_cpu = time.process_time() - client_cpu
    changes = tally.changes
    widgets = [c for c in changes if c.kind == "widget"]
    by_page: dict[str, dict] = {}
    for page in dict.fromkeys(c.page for c in changes):
        here = [c for c in changes if c.page == page]
        by_page[page] = {kind: sum(c.kind == kind for c in here) for kind in (*PAGE_KINDS,
                                                                              "widget")}
        for name, which in (("full", [c for c in here if not c.fragment]),
                            ("widget", [c for c in here if c.kind == "widget"])):
            latency = _latency(which)
            by_page[page][f"{name}_p50_ms"] = latency["p50_ms"]
            by_page[page][f"{name}_p95_ms"] = latency["p95_ms"]
    named = [seen for seen in tally.processes if seen]
    return {
        "sessions": sessions,
        "think_s": think,
        # Runs of the whole script (a page opened; a step or a widget outside any fragment)
        "full": _latency([c for c in changes if not c.fragment]),
        "widget": _latency(widgets),
        "by_kind": {kind: _latency([c for c in changes if c.kind == kind])
                    for kind in (*PAGE_KINDS, "widget")},
        "widget_kinds": dict(Counter(c.widget for c in widgets)),
        "fragment_runs_by_kind": {kind: sum(c.fragment for c in changes if c.kind == kind)
                                  for kind in (*PAGE_KINDS, "widget")},
        "charts_redrawn_by_widgets": sum(c.redrawn > 0 for c in widgets),
        "by_page": by_page,
        "errors": len(tally.errors),
        "error_list": tally.errors,
        "rss_before_mb": round(sum(rss_before), 1) if pids else None,
        "rss_peak_mb": round(sum(peaks), 1) if pids else None,
        "processes": [{"pid": pid, "rss_before_mb": before, "rss_peak_mb": round(peak, 1),
                       "cpu_s": round(used, 2)}
                      for pid, before, peak, used in zip(pids, rss_before, peaks, cpu,
                                                         strict=True)],
        "wall_s": round(wall, 1),
        "server_cpu_s": round(sum(cpu), 1) if pids else None,
        "cpu_ms_per_action": round(1000 * sum(cpu) / len(changes), 1)
        if pids and changes else None,
        "client_cpu_s": round(client_cpu, 1),
        # Behind a proxy that names its processes: did every session keep one process?
        "sessions_on_one_process": sum(len(seen) == 1 for seen in named) if named else None,
        "sessions_by_process": dict(Counter(next(iter(seen)) for seen in named
                                            if len(seen) == 1)),
    }


def profile_pages(url: str, pids: list[int], visits: int,
                  stops: list[course.Lesson]) -> dict:
    """Server CPU per action on each page: ``visits`` sessions one after another, each through
    every page in ``stops``, with each run charged with the server's CPU while it ran.

    The first visit to a page on a freshly started server computes what the page's caches
    then share (its "first" figure); later visits show the cost of a page whose settings
    someone already opened ("warm"). CPU is read from /proc at the clock tick (10 ms), so the
    figures are averages over the page's actions, not single runs."""
    tally = Tally()
    by_visit = asyncio.run(_visits_one_by_one(url, pids, visits, stops, tally))
    pages = {}
    for stop in [course.HOME, *stops] if course.HOME not in stops else stops:
        first = [c for c in by_visit[0] if c.page == stop.slug]
        warm = [c for visit in by_visit[1:] for c in visit if c.page == stop.slug]
        pages[stop.slug] = {
            "actions_per_visit": len(first),
            "first_cpu_ms_per_action": _mean([c.cpu_ms for c in first]),
            "warm_cpu_ms_per_action": _mean([c.cpu_ms for c in warm]),
            "warm_widget_cpu_ms": _mean([c.cpu_ms for c in warm if c.kind == "widget"]),
            "warm_full_cpu_ms": _mean([c.cpu_ms for c in warm if c.kind != "widget"]),
            "warm_ms_per_action": _mean([c.ms for c in warm]),
        }
    everything = [c for visit in by_visit[1:] for c in visit]
    return {"visits": visits, "errors": len(tally.errors), "error_list": tally.errors,
            "pages": pages,
            "first_cpu_ms_per_action": _mean([c.cpu_ms for c in by_visit[0]]),
            "warm_cpu_ms_per_action": _mean([c.cpu_ms for c in everything])}


async def _visits_one_by_one(url: str, pids: list[int], visits: int,
                             stops: list[course.Lesson], tally: Tally) -> list[list[Change]]:
    """Run ``visits`` sessions one after another; the changes of each."""
    # One more session stays connected meanwhile (without running anything), as in a class:
    # Streamlit drops its compiled page scripts whenever the last session leaves.
    async with _open_stream(url):
        by_visit = []
        for _ in range(visits):
            before = len(tally.changes)
            await _session(url, stops, tally, 0.0, pids)
            by_visit.append(tally.changes[before:])
    return by_visit


def _mean(values: list) -> float | None:
    """The mean of ``values`` rounded to 0.1 (None for no values)."""
    return round(statistics.fmean(values), 1) if values else None


def memory_estimate(results: list[dict], host_mb: float = HOST_MB) -> dict | None:
    """MB per session from the peaks at the fewest and the most sessions, and how many
    sessions a server alone on a ``host_mb`` host holds at that rate."""
    if len(results) < 2:
        return None
    low = min(results, key=lambda r: r["sessions"])
    high = max(results, key=lambda r: r["sessions"])
    added = high["sessions"] - low["sessions"]
    if added <= 0:
        return None
    per_session = max((high["rss_peak_mb"] - low["rss_peak_mb"]) / added, 0.0)
    base = low["rss_peak_mb"] - low["sessions"] * per_session  # the server with no sessions
    fits = math.floor((host_mb - base) / per_session) if per_session > 0 else None
    return {"mb_per_session": round(per_session, 2), "base_mb": round(base, 1),
            "from_sessions": [low["sessions"], high["sessions"]],
            "host_mb": host_mb, "sessions_that_fit": fits}


def _print_profile(profile: dict) -> None:
    """Print the per-page CPU profile as a table."""
    print(f"server CPU per action, page by page ({profile['visits']} visits one after another; "
          f"first: the first visit to a freshly started server)")
    print(f"{'page':<14} {'actions':>7} {'first ms':>9} {'warm ms':>8} {'full ms':>8} "
          f"{'widget ms':>9} {'latency ms':>10}")
    for slug, p in profile["pages"].items():
        cells = [p["first_cpu_ms_per_action"], p["warm_cpu_ms_per_action"],
                 p["warm_full_cpu_ms"], p["warm_widget_cpu_ms"], p["warm_ms_per_action"]]
        print(f"{slug:<14} {p['actions_per_visit']:>7} " + " ".join(
            f"{c!s:>{w}}" for c, w in zip(cells, (9, 8, 8, 9, 10), strict=True)))
    print(f"{'all pages':<14} {'':>7} {profile['first_cpu_ms_per_action']!s:>9} "
          f"{profile['warm_cpu_ms_per_action']!s:>8}")
    for error in profile["error_list"]:
        print(f"  error on {error['page']}: {error['message']}")


def _print(report: dict) -> None:
    """Print the report as a table, the details of each run and the memory estimate."""
    where = report["url"] or "a server started for the test"
    print(f"target: {where}; server RSS before any session: {report['idle_rss_mb']} MB; "
          f"pages: {', '.join(report['pages'])}")
    if report["profile"]:
        _print_profile(report["profile"])
        print()
    if not report["runs"]:
        return
    print(f"{'':>8} {'connect':>8} {'page opens':>17} {'widget changes':>17} "
          f"{'full reruns':>17} {'':>7} {'CPU per':>8}")
    print(f"{'sessions':>8} {'p95 ms':>8} {'p50':>8} {'p95':>8} {'p50':>8} {'p95':>8} "
          f"{'p50':>8} {'p95':>8} {'errors':>7} {'action':>8} {'RSS peak MB':>12}")
    for r in report["runs"]:
        kinds = r["by_kind"]
        cells = [kinds["connect"]["p95_ms"], kinds["open"]["p50_ms"], kinds["open"]["p95_ms"],
                 r["widget"]["p50_ms"], r["widget"]["p95_ms"], r["full"]["p50_ms"],
                 r["full"]["p95_ms"]]
        cpu = "" if r["cpu_ms_per_action"] is None else f"{r['cpu_ms_per_action']} ms"
        rss = " + ".join(str(p["rss_peak_mb"]) for p in r["processes"]) or "-"
        print(f"{r['sessions']:>8} " + " ".join(f"{c!s:>8}" for c in cells) +
              f" {r['errors']:>7} {cpu:>8} {rss:>12}")
    for r in report["runs"]:
        kinds = ", ".join(f"{kind} {cell['count']} (p50 {cell['p50_ms']}, p95 {cell['p95_ms']})"
                          for kind, cell in r["by_kind"].items() if cell["count"])
        widgets = ", ".join(f"{n} {what}" for what, n in sorted(r["widget_kinds"].items()))
        pace = f", reading ~{r['think_s']:g} s between actions" if r["think_s"] else ""
        print(f"\n{r['sessions']} sessions{pace}: {kinds}")
        print(f"  widget changes: {widgets or 'none'}; "
              f"{r['charts_redrawn_by_widgets']} redrew a chart with a new spec")
        print(f"  CPU: server {r['server_cpu_s']} s, load client {r['client_cpu_s']} s, "
              f"in {r['wall_s']} s")
        if r["sessions_on_one_process"] is not None:
            spread = ", ".join(f"{n} on {where}" for where, n in
                               sorted(r["sessions_by_process"].items()))
            print(f"  {r['sessions_on_one_process']} of {r['sessions']} sessions kept one "
                  f"process ({spread})")
        for error in r["error_list"]:
            print(f"  error on {error['page']}: {error['message']}")
    if any(r["errors"] for r in report["runs"]) and report["server_log_tail"]:
        print("\nthe server's log ends with:")
        print("\n".join(f"  {line}" for line in report["server_log_tail"]))
    memory = report["memory"]
    if memory:
        low, high = memory["from_sessions"]
        fits = memory["sessions_that_fit"]
        print(f"\nmemory per session: {memory['mb_per_session']} MB (peak RSS at {high} minus "
              f"peak at {low} sessions, divided by {high - low}); the server alone would hold "
              f"{fits if fits is not None else 'any number of'} sessions in "
              f"{memory['host_mb']} MB (server without sessions ~{memory['base_mb']} MB)")


def main() -> None:
    slugs = [stop.slug for stop in course.PAGES]
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--sessions", type=int, nargs="+",
                        help="numbers of concurrent sessions, one run each (default: 1 10 30, "
                        "none with --per-page)")
    parser.add_argument("--per-page", type=int, metavar="VISITS",
                        help="first profile the server's CPU per action page by page: VISITS "
                        "sessions one after another (2 or more: the first visit, then warm)")
    parser.add_argument("--pages", nargs="+", choices=slugs, metavar="SLUG",
                        help=f"pages to visit (default: all): {', '.join(slugs)}")
    parser.add_argument("--url", help="drive a running deployment at this address instead of "
                        "starting a server (e.g. http://localhost:8080)")
    parser.add_argument("--pids", type=int, nargs="+", default=[],
                        help="with --url: the server processes to measure CPU and memory of")
    parser.add_argument("--state", type=Path, help="with deploy/serve.py: its state.json "
                        "(gives the address and the processes)")
    parser.add_argument("--think", type=float, default=0.0, metavar="SECONDS",
                        help="a learner reads this long between actions, on average (uniform "
                        "in 0.5-1.5 times it; default 0: every session acts as soon as it "
                        "is answered)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    if args.think < 0:
        parser.error("--think takes 0 or more seconds")
    if args.sessions is None:
        args.sessions = [] if args.per_page else [1, 10, 30]
    if args.sessions and min(args.sessions) < 1:
        parser.error("--sessions must be 1 or more")
    if args.per_page is not None and args.per_page < 2:
        parser.error("--per-page takes 2 visits or more")
    stops = [stop for stop in course.PAGES
             if not args.pages or stop.slug in args.pages]
    server, log = None, deque(maxlen=40)
    url, pids = args.url, list(args.pids)
    if args.state:
        state = json.loads(args.state.read_text())
        url = url or state["url"]
        pids = pids or [p["pid"] for p in state["processes"]]
    if url is None:
        port = free_port()
        server = serve(ROOT / "app.py", port)
        threading.Thread(target=_drain, args=(server.stderr, log), daemon=True).start()
        url, pids = f"http://127.0.0.1:{port}", [server.pid]
    url = url.rstrip("/")
    try:
        idle_rss = round(sum(_rss_mb(pid) for pid in pids), 1) if pids else None
        profile = profile_pages(url, pids, args.per_page, stops) if args.per_page else None
        results = [run(url, pids, n, stops, args.think) for n in args.sessions]
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
    report = {"url": None if server else url, "idle_rss_mb": idle_rss,
              "pages": [s.slug for s in stops], "profile": profile, "runs": results,
              "memory": memory_estimate(results) if pids else None,
              "server_log_tail": list(log)}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)


if __name__ == "__main__":
    main()
