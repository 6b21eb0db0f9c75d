"""Every marker sits on what it marks, on every chart of the course (issue #19, "What a learner
sees is right"): an "∞" stands on the bar or the point whose value is infinite; a label on a
reference line states the value the line is drawn at; an explorable's "you are here" marks
(a dot, a column of dots, a vertical line) sit at the slider's value on an axis of the
slider's quantity, frame by frame, and on the curve they mark.

The rules read the plotly spec each chart sends to the browser, so they hold for any chart a
page draws; the KL lesson's infinite terms and shifts are also checked against ``lessons``."""

from __future__ import annotations

import base64
import math
import re

import numpy as np
import pytest
from conftest import open_page
from pagetest import chart_specs
from test_links_all import CASES, _id
from test_steps_all import whole_step

from lessons import information as info

INFINITY = "∞"
# An ∞ that marks a value: "∞" alone or "name = ∞ ..."; not "β → ∞" (a limit, no value)
MARKS_INFINITY = re.compile(r"^\s*∞\s*$|=\s*∞")
NUMBER = r"[−-]?\d+(?:\.\d+)?(?:e[−-]?\d+)?"
DEFAULT_BARGAP = 0.2  # plotly's, when a layout sets none
KL = "app_pages/kl_divergence.py"
KL_STEP5, KL_STEP7 = "5. KL is not symmetric", "7. Beyond KL"


# Reading a spec


def _axis_name(ref: str | None, letter: str) -> str:
    """'x2 domain' -> 'x2'; None -> 'x'."""
    return (ref or letter).split(" ")[0]


def _is_data_ref(ref: str | None) -> bool:
    return ref is None or (ref != "paper" and not ref.endswith("domain"))


def _axis(layout: dict, name: str) -> dict:
    return layout.get(f"{name[0]}axis{name[1:]}", {})


def _axis_title(layout: dict, name: str) -> str:
    title = _axis(layout, name).get("title")
    return str(title.get("text") or "") if isinstance(title, dict) else str(title or "")


def _on_axes(trace: dict) -> tuple[str, str]:
    return trace.get("xaxis", "x"), trace.get("yaxis", "y")


def _values(values) -> list:
    """A trace's x or y as a list: plotly sends numpy arrays as typed arrays (base64)."""
    if isinstance(values, dict) and "bdata" in values:
        array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        return array.reshape(values["shape"]).tolist() if "shape" in values else array.tolist()
    return list(values or [])


def _x_values(values) -> list:
    """A trace's x as numbers where they are numeric (plotly reads "1", "2" as 1, 2)."""
    out = []
    for v in _values(values):
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            out.append(v)
    return out


def frame_views(spec: dict) -> list[tuple[str, list[dict], dict]]:
    """The chart as the browser shows it: as opened, then at every frame of an explorable
    (its changing traces replaced, its own annotations and shapes), each with a name."""
    views = [("as opened", spec["data"], spec["layout"])]
    for k, frame in enumerate(spec.get("frames", [])):
        data = list(spec["data"])
        for index, values in zip(frame["traces"], frame["data"], strict=True):
            data[index] = {**data[index], **values}
        views.append((f"frame {k}", data, {**spec["layout"], **frame.get("layout", {})}))
    return views


def bar_centres(data: list[dict], layout: dict) -> list[tuple[dict, float, object]]:
    """(trace, x of the bar's centre, y) for every bar of every trace, grouped bars placed as
    plotly places them: by their own offset and width, or side by side in a group."""
    bars = [t for t in data if t.get("type") == "bar" and t.get("orientation", "v") == "v"]
    grouped = layout.get("barmode", "group") == "group"
    out = []
    for j, trace in enumerate(bars):
        xs, ys = _x_values(trace.get("x")), _values(trace.get("y"))
        if trace.get("offset") is not None and trace.get("width") is not None:
            shift = float(trace["offset"]) + float(trace["width"]) / 2
        elif grouped and len(bars) > 1:
            slot = (1 - layout.get("bargap", DEFAULT_BARGAP)) / len(bars)
            shift = (j - (len(bars) - 1) / 2) * slot
        else:
            shift = 0.0
        for x, y in zip(xs, ys, strict=False):
            if isinstance(x, float):
                out.append((trace, x + shift, y))
    return out


def _missing(y) -> bool:
    return y is None or (isinstance(y, float) and not math.isfinite(y))


# Rule 1: an ∞ stands on the value that is infinite


def infinity_problems(spec: dict) -> list[str]:
    problems = []
    for view, data, layout in frame_views(spec):
        for note in layout.get("annotations") or []:
            text = re.sub(r"<[^>]+>", "", str(note.get("text") or ""))
            if not MARKS_INFINITY.search(text) or note.get("name") == "explorable-note":
                continue
            if not _is_data_ref(note.get("xref")):
                problems.append(f"{view}: {text!r} is not placed at a data x")
                continue
            axes = (_axis_name(note.get("xref"), "x"), _axis_name(note.get("yref"), "y"))
            named = text.split("=")[0].strip() if "=" in text else None
            x = float(note["x"])
            candidates = [(t, bx, by) for t, bx, by in bar_centres(data, layout)
                          if _on_axes(t) == axes]
            for trace in data:
                if trace.get("type", "scatter") == "scatter" and _on_axes(trace) == axes:
                    candidates += [(trace, px, py) for px, py in zip(
                        _x_values(trace.get("x")), _values(trace.get("y")), strict=False)
                        if isinstance(px, float)]
            marked = [(t, cx) for t, cx, cy in candidates
                      if math.isclose(cx, x, abs_tol=1e-6) and _missing(cy)
                      and (named is None or str(t.get("name", "")).startswith(named))]
            if not marked:
                problems.append(f"{view}: {text!r} at x = {x:g} marks no infinite value")
    return problems


# Rule 2: a label on a reference line states the line's value


def _stated_value(text: str) -> tuple[float, int] | None:
    """The number a label states ("KL = 0.500 bits", "optimum 0.351", "0.05") and its decimals;
    None for labels that state no single value (names, ranges such as "1 ± 0.2")."""
    text = re.sub(r"<[^>]+>", "", text)
    if "±" in text:
        return None
    # the number it ends with (and a unit), else the last one after "=" ("a = b = 0: ½ each")
    ending = re.search(rf"(?:^|\s)({NUMBER})\s*[A-Za-zπβ ]{{0,12}}$", text)
    after_equals = re.findall(rf"=\s*({NUMBER})", text)
    found = ending.group(1) if ending else after_equals[-1] if after_equals else None
    if found is None:
        return None
    found = found.replace("−", "-")
    decimals = len(found.split(".")[1].split("e")[0]) if "." in found else 0
    return float(found), decimals


def reference_lines(layout: dict) -> list[tuple[str, str, float]]:
    """('y', axis, value) for horizontal lines and ('x', axis, value) for vertical ones."""
    lines = []
    for shape in layout.get("shapes") or []:
        if shape.get("type") != "line":
            continue
        if shape.get("y0") == shape.get("y1") and _is_data_ref(shape.get("yref")):
            lines.append(("y", _axis_name(shape.get("yref"), "y"), float(shape["y0"])))
        if shape.get("x0") == shape.get("x1") and _is_data_ref(shape.get("xref")):
            lines.append(("x", _axis_name(shape.get("xref"), "x"), float(shape["x0"])))
    return lines


def label_problems(spec: dict) -> list[str]:
    problems = []
    for view, _, layout in frame_views(spec):
        lines = reference_lines(layout)
        for note in layout.get("annotations") or []:
            stated = _stated_value(str(note.get("text") or ""))
            if stated is None:
                continue
            value, decimals = stated
            for letter, axis, at in lines:
                ref = note.get(f"{letter}ref")
                if not _is_data_ref(ref) or _axis_name(ref, letter) != axis:
                    continue
                if _axis(layout, axis).get("type") == "log" or note.get(letter) is None:
                    continue
                if not math.isclose(float(note[letter]), at, abs_tol=1e-9):
                    continue  # not this line's label
                if abs(value - at) > 0.5 * 10 ** -decimals + 1e-9:
                    problems.append(f"{view}: {note['text']!r} sits on the line at "
                                    f"{letter} = {at:g}")
    return problems


# Rule 3: an explorable's "you are here" marks sit at the slider's value, on their curve


def _slider_values(spec: dict) -> list[float | None]:
    values = []
    for step in spec["layout"]["sliders"][0]["steps"]:
        try:
            values.append(float(str(step["label"]).replace("−", "-")))
        except ValueError:
            values.append(None)
    return values


def _names_the_quantity(axis_title: str, slider_label: str) -> bool:
    """Whether an axis shows the slider's quantity: the label's last word (its symbol: n, r,
    β, Q, or a noun such as "update") is a word of the axis title, singular or plural."""
    symbol = re.findall(r"[\w′]+", slider_label)[-1]
    words = set(re.findall(r"[\w′]+", axis_title))
    return symbol in words or symbol.rstrip("s") in words


def _on_curve(x: float, y: float, curve: dict, log_x: bool) -> bool:
    xs, ys = _x_values(curve.get("x")), _values(curve.get("y"))
    points = list(zip(xs, ys, strict=False))
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if not all(isinstance(v, (int, float)) for v in (x0, y0, x1, y1)):
            continue
        a, b, c = (np.log10([x0, x1, x]) if log_x else (x0, x1, x))
        if min(a, b) - 1e-9 <= c <= max(a, b) + 1e-9:
            expected = y0 if a == b else y0 + (y1 - y0) * (c - a) / (b - a)
            if math.isclose(y, expected, rel_tol=2e-3, abs_tol=2e-3 * (1 + abs(expected))):
                return True
    return any(isinstance(px, float) and math.isclose(px, x, rel_tol=1e-9)
               and isinstance(py, (int, float)) and math.isclose(py, y, rel_tol=2e-3,
                                                                  abs_tol=1e-6)
               for px, py in points)


def now_marker_problems(spec: dict) -> list[str]:
    if not spec.get("frames"):
        return []
    slider = spec["layout"]["sliders"][0]
    label = str(slider.get("name") or "")
    values = _slider_values(spec)
    problems = []
    for (view, data, layout), value in zip(frame_views(spec)[1:], values, strict=True):
        frame = spec["frames"][int(view.split()[-1])]
        for index in frame["traces"]:
            trace = data[index]
            xs = [v for v in _x_values(trace.get("x")) if v is not None]
            if not xs or value is None or any(not isinstance(v, float) for v in xs):
                continue
            if len(set(xs)) != 1:
                continue  # a curve, not a mark
            axis = trace.get("xaxis", "x")
            if not label or not _names_the_quantity(_axis_title(layout, axis), label):
                continue
            name = trace.get("name") or f"trace {index}"
            if not math.isclose(xs[0], value, rel_tol=1e-3, abs_tol=1e-9):
                problems.append(f"{view}: {name!r} at x = {xs[0]:g}, the slider at {value:g}")
                continue
            if trace.get("mode") != "markers":
                continue
            log_x = _axis(layout, axis).get("type") == "log"
            curves = [t for i, t in enumerate(data) if i != index and _on_axes(t) ==
                      _on_axes(trace) and "lines" in (t.get("mode") or "")]
            for y in _values(trace.get("y")):
                if isinstance(y, (int, float)) and curves and not any(
                        _on_curve(xs[0], float(y), c, log_x) for c in curves):
                    problems.append(f"{view}: {name!r} at ({xs[0]:g}, {y:g}) is on no curve")
    return problems


def marker_problems(spec: dict) -> list[str]:
    return infinity_problems(spec) + label_problems(spec) + now_marker_problems(spec)


# Every chart of every step, as a link opens it

EXTRA_CASES = {
    "kl-5-q-misses": (KL, {"kl_step": KL_STEP5, "kl_preset": "Q misses an outcome",
                           "kl_direction_guess": "KL(P‖Q)"}),
    "kl-5-p-misses": (KL, {"kl_step": KL_STEP5, "kl_preset": "P misses an outcome",
                           "kl_direction_guess": "KL(Q‖P)"}),
    "kl-5-both-miss": (KL, {"kl_step": KL_STEP5, "kl_p": "0.5, 0.5, 0, 1",
                            "kl_q": "0, 0.5, 0.5, 1", "kl_direction_guess": "They are equal"}),
    "kl-7-hard-edges": (KL, {"kl_step": KL_STEP7, "kl_shape": "Hard edges", "kl_shift": "9"}),
    "kl-7-nats": (KL, {"kl_step": KL_STEP7, "kl_unit": "nats", "kl_shift": "16"}),
    "kl-6-rolled": (KL, {"kl_step": "6. When is a KL significant?",
                         "kl_g_source": "Roll new ones", "kl_g_n": "300"}),
    "kl-3-short": (KL, {"kl_step": "3. From the game to the formula", "kl_lln_n": "40",
                        "kl_lln_runs": "2"}),
}


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_every_marker_sits_on_what_it_marks(case):
    stop, step = case  # each step with its "predict first" questions answered: every chart
    at = open_page(stop.page) if step is None else whole_step(stop, step)[0]
    assert not at.exception
    for spec in chart_specs(at):
        assert not marker_problems(spec), (_id(case), spec["layout"].get("title"),
                                           marker_problems(spec)[:5])


@pytest.mark.parametrize("name", list(EXTRA_CASES))
def test_markers_hold_in_other_settings(name):
    page, params = EXTRA_CASES[name]
    at = open_page(page, params)
    assert not at.exception
    specs = chart_specs(at)
    assert specs
    for spec in specs:
        assert not marker_problems(spec), (name, marker_problems(spec)[:5])


# The rules catch what they are meant to catch


def test_an_infinity_one_outcome_to_the_left_is_caught():
    # Issue #19: the ∞ of outcome 3 was drawn at outcome 2 (0-based x on a 1-based axis).
    spec = {"layout": {"annotations": [{"text": "∞", "x": 1.8, "y": 0}]},
            "data": [{"type": "bar", "x": [1, 2, 3], "y": [0.1, 0.2, None],
                      "offset": -0.4, "width": 0.4, "name": "KL(P‖Q)"}]}
    assert infinity_problems(spec)
    spec["layout"]["annotations"][0]["x"] = 2.8
    assert not infinity_problems(spec)
    spec["layout"]["annotations"][0]["text"] = "β → ∞: π_ref"  # a limit, not a value
    spec["layout"]["annotations"][0]["x"] = 1.8
    assert not infinity_problems(spec)


def test_a_label_that_misstates_its_line_is_caught():
    line = {"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": 0.5,
            "y1": 0.5}
    spec = {"data": [], "layout": {"shapes": [line], "annotations": [
        {"text": "KL(P‖Q) = 0.700 bits", "x": 3, "y": 0.5, "xref": "x", "yref": "y"}]}}
    assert label_problems(spec)
    spec["layout"]["annotations"][0]["text"] = "KL(P‖Q) = 0.500 bits"
    assert not label_problems(spec)
    assert _stated_value("1 ± 0.2") is None and _stated_value("ln 2: no preference") is None
    assert _stated_value("optimum 0.351") == (0.351, 3)
    assert _stated_value("−CE = −2.122") == (-2.122, 3)
    assert _stated_value("π* at β = 1: 2.00") == (2.0, 2)  # the value, not the setting
    assert _stated_value("a = b = 0: ½ each") == (0.0, 0)


def test_a_marker_off_the_slider_or_off_its_curve_is_caught():
    curve = {"type": "scatter", "mode": "lines", "x": [0, 1, 2], "y": [0, 1, 4]}
    spec = {"data": [curve, {"type": "scatter", "mode": "markers", "x": [0], "y": [0],
                             "name": "now"}],
            "layout": {"xaxis": {"title": {"text": "shift of Q"}},
                       "sliders": [{"name": "shift of Q",
                                    "steps": [{"label": "0"}, {"label": "1"}]}]},
            "frames": [{"traces": [1], "data": [{"x": [0], "y": [0]}]},
                       {"traces": [1], "data": [{"x": [1], "y": [1]}]}]}
    assert not now_marker_problems(spec)
    spec["frames"][1]["data"][0] = {"x": [2], "y": [4]}  # on the curve, off the slider
    assert now_marker_problems(spec)
    spec["frames"][1]["data"][0] = {"x": [1], "y": [2]}  # at the slider, off the curve
    assert now_marker_problems(spec)


# The KL lesson against lessons: the infinite terms and where KL becomes infinite


def _infinity_xs(spec: dict) -> list[float]:
    return sorted(float(a["x"]) for a in spec["layout"].get("annotations") or []
                  if INFINITY in str(a.get("text")) and a.get("name") != "explorable-note")


@pytest.mark.parametrize("params", [
    {"kl_preset": "Q misses an outcome"}, {"kl_preset": "P misses an outcome"},
    {"kl_p": "0, 1, 1, 2", "kl_q": "1, 1, 0, 2"}, {"kl_preset": "Even P, lopsided Q"}])
def test_each_infinity_stands_over_its_outcome(params):
    at = open_page(KL, {"kl_step": KL_STEP5, "kl_direction_guess": "KL(P‖Q)", **params})
    assert not at.exception
    p = info.normalise([float(v) for v in at.text_input(key="kl_p").value.split(",")])
    q = info.normalise([float(v) for v in at.text_input(key="kl_q").value.split(",")])
    # KL(P‖Q)'s bar is the left one of its outcome (centre − 0.2), KL(Q‖P)'s the right one
    expected = sorted([i + 1 - 0.2 for i in np.flatnonzero(np.isinf(info.kl_terms(p, q)))]
                      + [i + 1 + 0.2 for i in np.flatnonzero(np.isinf(info.kl_terms(q, p)))])
    (terms,) = [s for s in chart_specs(at) if "comes from" in str(s["layout"]["title"])]
    assert _infinity_xs(terms) == pytest.approx(expected)
    warned = " ".join(w.value for w in at.warning)
    for x in expected:
        assert f"outcome {round(x)}," in warned  # the warning names the outcome drawn


def test_the_q_misses_preset_marks_outcome_3_where_the_warning_says():
    at = open_page(KL, {"kl_step": KL_STEP5, "kl_preset": "Q misses an outcome",
                        "kl_direction_guess": "KL(P‖Q)"})
    (terms,) = [s for s in chart_specs(at) if "comes from" in str(s["layout"]["title"])]
    assert _infinity_xs(terms) == pytest.approx([2.8])  # outcome 3, left bar
    assert _values(terms["layout"]["xaxis"]["tickvals"]) == [1, 2, 3]
    assert any("outcome 3," in w.value for w in at.warning)


@pytest.mark.parametrize("shift", ["0", "6", "12"])
def test_the_shift_chart_marks_where_kl_becomes_infinite_and_the_shift_now(shift):
    at = open_page(KL, {"kl_step": KL_STEP7, "kl_shape": "Hard edges", "kl_shift": shift})
    (spec,) = [s for s in chart_specs(at) if s.get("frames")]
    curves = info.divergence_curves(np.arange(41), 10.0, 3.0, np.arange(0, 16.5, 0.5),
                                    shape="triangle")
    first_infinite = curves["shift"][np.isinf(curves["kl_pq"])].min()
    # Triangles of half-width 3: a shift of 1 leaves P's last point (position 8) to Q's zero
    assert first_infinite == 1.0
    assert _infinity_xs(spec) == [first_infinite]
    line = next(t for t in spec["data"] if t.get("name") == "Q's shift now")
    assert line["x"] == [float(shift)] * 2  # the chart opens marking the link's shift
    assert not marker_problems(spec)
