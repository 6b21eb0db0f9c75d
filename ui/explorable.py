"""Explorables: charts that follow the pointer in the browser, and replays of training runs.

Python computes, once per setting, what a lesson shows at every point of a grid (every shift
of Q, every β, every update of a training run), with the ``lessons`` functions. ``build`` packs
those values into one plotly figure: each grid point becomes a *frame* holding only the traces
that change there, and an in-chart slider (plus play and pause for replays) switches between
frames in the browser, with no round trip to the server. The browser computes nothing; it
shows frames that Python filled.

A page builds the figure inside a ``shared.cache_data`` function (every learner shares it) and
draws it with ``show``, opened at the value of the page's URL-bound control: a shared link
opens the same view, and the control is the keyboard's way to the same values::

    @shared.cache_data(max_entries=32)
    def shift_explorable(unit: str) -> dict:
        curves = info.divergence_curves(...)           # lessons: the math, once per setting
        return kf.sliding_divergences(curves, ...)    # ui: figure + explorable.build(...)

    explorable.show(shift_explorable(unit), start=explorable.nearest(SHIFTS, shift), ...)

Frame k of a figure built from ``values``, ``frames`` and ``changing`` sets, for each j, trace
``changing[j]`` to the attributes ``frames[k][j]``; ``notes[k]`` is a line of numbers shown
above the plot for that frame, so what the chart says always matches where its slider is.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

SIGNIFICANT_DIGITS = 5  # numbers in frames keep this many significant digits
SLIDER_PAD = 66  # pixels from the plot's bottom edge (past its axis title) to the slider
SLIDER_MARGIN = 140  # pixels under the plot for the slider and its buttons
NOTE_LINE = 22  # pixels above the plot per line of a frame's numbers
NOTE_WRAP = 48  # characters per line of a frame's numbers (a phone's width)
FRAME_MS = 150  # a replay's pause between frames
BASE_HEIGHT = 360  # the plot's height when the figure sets none (as ui.theme)
PLAY, PAUSE = "▶", "❚❚"  # the play/pause buttons


def compact(values: Any, digits: int = SIGNIFICANT_DIGITS) -> list:
    """Numbers for a frame: rounded to ``digits`` significant digits, non-finite ones as None
    (a gap in a line). Keeps a figure's frames small without changing what is drawn.

    Example: compact([3.14159265, float("inf"), 0.000123456]) -> [3.1416, None, 0.00012346]
    """
    array = np.asarray(values, dtype=float)
    if array.ndim > 1:
        return [compact(row, digits) for row in array]
    return [None if not math.isfinite(v) else 0.0 if v == 0
            else round(v, digits - 1 - int(math.floor(math.log10(abs(v)))))
            for v in np.atleast_1d(array).tolist()]


def nearest(values: Sequence, value) -> int:
    """The index of the grid point closest to ``value`` (the frame a link opens at).

    Example: nearest([0.0, 0.5, 1.0], 0.6) -> 1
    """
    if not len(values):
        raise ValueError("the grid of an explorable is empty")
    if isinstance(values[0], str):
        return list(values).index(value) if value in values else 0
    return int(np.argmin(np.abs(np.asarray(values, dtype=float) - float(value))))


def _spec(figure: go.Figure | dict) -> dict:
    """The figure as plotly.js reads it: validated once here (titles written out, colours and
    the like in their nested form), so the frames, built once per setting, need no more."""
    if not isinstance(figure, go.Figure):
        figure = go.Figure(figure)
    validated = figure.to_dict()
    return {"data": validated["data"], "layout": validated.get("layout", {})}


def _wrapped(text: str) -> str:
    """A frame's numbers broken into lines that fit a phone's width."""
    return "<br>".join("<br>".join(textwrap.wrap(part, NOTE_WRAP)) for part in text.split("<br>"))


def _note(text: str) -> dict:
    # Placed against the first subplot's axes, not the paper: plotly redraws only annotations
    # tied to axes when it shows a frame without a full redraw. So the first subplot (axes x
    # and y) is the one at the top, and its width is the figure's.
    return dict(text=_wrapped(text), xref="x domain", yref="y domain", x=0, y=1, xanchor="left",
                yanchor="bottom", yshift=6, showarrow=False, align="left",
                name="explorable-note")


def build(figure: go.Figure | dict, values: Sequence, label: str,
          frames: Sequence[Sequence[dict]], changing: Sequence[int], *,
          value_text: Sequence[str] | None = None, notes: Sequence[str] | None = None,
          annotations: Sequence[Sequence[dict]] | None = None,
          shapes: Sequence[Sequence[dict]] | None = None, suffix: str = "",
          play: bool = False, frame_ms: int = FRAME_MS) -> dict:
    """A figure spec whose slider (and, with ``play``, play/pause buttons) shows frame k of
    ``frames`` at grid value ``values[k]``; it opens at frame 0 (``at`` opens another).

    figure: every trace and the layout; the traces in ``changing`` get their frame's values.
    frames: frames[k][j] holds the attributes of trace changing[j] at values[k].
    value_text: how the slider names each value (default: the value, shortest form).
    notes, annotations, shapes: per frame, a line of numbers above the plot, and layout
    annotations and shapes drawn only in that frame (added to the figure's own). Per-frame
    annotations must be placed against axes (xref "x", "x2 domain", ...), never the paper:
    plotly redraws only those when it shows a frame without a full redraw.
    """
    if len(frames) != len(values) or not values:
        raise ValueError(f"{len(values)} grid values but {len(frames)} frames")
    changing = [int(i) for i in changing]
    spec = _spec(figure)
    if any(not 0 <= i < len(spec["data"]) for i in changing):
        raise ValueError(f"changing traces {changing} outside the figure's "
                         f"{len(spec['data'])} traces")
    for k, frame in enumerate(frames):
        if len(frame) != len(changing):
            raise ValueError(f"frame {k} has {len(frame)} traces, {len(changing)} change")
    for name, per_frame in (("notes", notes), ("annotations", annotations),
                            ("shapes", shapes)):
        if per_frame is not None and len(per_frame) != len(values):
            raise ValueError(f"{len(values)} grid values but {len(per_frame)} {name}")
    texts = list(value_text) if value_text is not None else [
        v if isinstance(v, str) else f"{v:g}" for v in values]

    layout = spec["layout"]
    static_annotations = list(layout.get("annotations") or [])
    static_shapes = list(layout.get("shapes") or [])
    built_frames = []
    for k, frame in enumerate(frames):
        item: dict = {"name": str(k), "data": [dict(t) for t in frame], "traces": changing}
        frame_layout = {}
        if notes is not None or annotations is not None:
            frame_layout["annotations"] = static_annotations + (
                [_note(notes[k])] if notes is not None else []) + list(
                annotations[k] if annotations is not None else [])
        if shapes is not None:
            frame_layout["shapes"] = static_shapes + list(shapes[k])
        if frame_layout:
            item["layout"] = frame_layout
        built_frames.append(item)

    instant = {"mode": "immediate", "frame": {"duration": 0, "redraw": False},
               "transition": {"duration": 0}}
    steps = [{"method": "animate", "label": texts[k], "value": str(k),
              "args": [[str(k)], instant]} for k in range(len(values))]
    slider = {"active": 0, "steps": steps, "x": 0.0, "len": 1.0, "y": 0, "yanchor": "top",
              "pad": {"t": SLIDER_PAD, "b": 4},
              "currentvalue": {"prefix": f"{label} = ", "suffix": suffix, "xanchor": "left"},
              "name": label}
    layout["sliders"] = [slider]
    if play:
        # On the slider's own row, at its right end, as two symbols: the value reads on the
        # left and still fits beside them on a phone.
        layout["updatemenus"] = [{
            "type": "buttons", "direction": "left", "showactive": False,
            "x": 1, "xanchor": "right", "y": 0, "yanchor": "top",
            "pad": {"t": SLIDER_PAD - 12, "r": 0},
            "buttons": [
                {"label": PLAY, "method": "animate",
                 "args": [None, {"mode": "immediate", "fromcurrent": True,
                                 "frame": {"duration": frame_ms, "redraw": False},
                                 "transition": {"duration": 0}}]},
                {"label": PAUSE, "method": "animate", "args": [[None], instant]},
            ]}]
    margin = dict(layout.get("margin") or {})
    margin["b"] = margin.get("b", 10) + SLIDER_MARGIN
    note_px = 0 if notes is None else 6 + NOTE_LINE * max(
        _wrapped(n).count("<br>") + 1 for n in notes)
    margin["t"] = margin.get("t", 56) + note_px
    layout["margin"] = margin
    layout["height"] = (layout.get("height") or BASE_HEIGHT) + SLIDER_MARGIN + note_px
    spec["frames"] = built_frames
    return spec


def frame_count(spec: dict) -> int:
    return len(spec["frames"])


def at(spec: dict, start: int) -> dict:
    """``spec`` opened at frame ``start``: its traces, numbers and slider as that frame has
    them (the frames themselves are shared, not copied)."""
    if not 0 <= start < frame_count(spec):
        raise ValueError(f"frame {start} of an explorable with {frame_count(spec)} frames")
    frame = spec["frames"][start]
    data = list(spec["data"])
    for index, values in zip(frame["traces"], frame["data"], strict=True):
        data[index] = {**data[index], **values}
    layout = {**spec["layout"], **frame.get("layout", {})}
    layout["sliders"] = [{**spec["layout"]["sliders"][0], "active": start}]
    return {"data": data, "layout": layout, "frames": spec["frames"]}


def show(spec: dict, key: str, caption: str, start: int = 0, height: int | None = None) -> None:
    """Draw an explorable opened at frame ``start`` (see ``nearest``), with the course look."""
    from ui import figures  # figures imports streamlit; this module stays importable without

    figures.show(at(spec, start), key=key, caption=caption, height=height)
