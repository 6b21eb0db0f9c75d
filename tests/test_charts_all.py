"""Every chart on every step of every page: a title, axis titles and a caption that says what
to notice (issue: accessibility). Charts reach a page only through ui.figures.show."""

import json
import re
from pathlib import Path

import pytest
from conftest import ROOT, open_page
from test_links_all import CASES, _id

AXIS = re.compile(r"^[xy]axis\d*$")


def _text(title) -> str:
    if isinstance(title, dict):
        return str(title.get("text") or "")
    return str(title or "")


def _chart_problems(spec: dict) -> list[str]:
    layout, data = spec.get("layout", {}), spec.get("data", [])
    problems = []
    if not _text(layout.get("title")).strip():
        problems.append("no title")
    cartesian = any(t.get("type", "scatter") in ("scatter", "bar", "histogram", "heatmap",
                                                   "box", "scattergl") for t in data)
    if cartesian:
        used = {t.get("xaxis", "x") for t in data} | {t.get("yaxis", "y") for t in data}
        for name in used:
            axis = layout.get(f"{name[0]}axis{name[1:]}", {})
            if axis.get("visible") is False or axis.get("showticklabels") is False:
                continue
            if not _text(axis.get("title")).strip():
                problems.append(f"{name} axis has no title")
    return problems


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_every_chart_has_a_title_axis_titles_and_a_caption(case):
    stop, step = case
    at = open_page(stop.page, {} if step is None else {step[0]: step[1]})
    assert not at.exception
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        problems = _chart_problems(spec)
        assert not problems, (stop.slug, step, _text(spec["layout"].get("title")), problems)
    # figures.show draws a caption under each chart
    assert len(at.caption) >= len(at.get("plotly_chart"))


def test_charts_reach_pages_only_through_figures_show():
    users = [p.relative_to(ROOT) for p in Path(ROOT).glob("*/*.py")
             if "plotly_chart" in p.read_text(encoding="utf-8")
             and p.parts[-2] in ("app_pages", "ui")]
    assert users == [Path("ui/figures.py")]


def _hashable(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return tuple(_hashable(v) for v in value) if isinstance(value, (list, tuple)) else value


def _style(trace: dict, index: int) -> tuple | None:
    """How a trace looks in the legend: colour, and dash or marker symbol; None if it has no
    legend entry. A trace with no colour of its own takes the next colour of the colorway."""
    if trace.get("showlegend") is False or not trace.get("name"):
        return None
    mode = trace.get("mode", "lines+markers" if trace.get("type", "scatter") == "scatter"
                     else "")
    line, marker = trace.get("line") or {}, trace.get("marker") or {}
    color = line.get("color") if "lines" in mode else marker.get("color", line.get("color"))
    if color is None:
        color = ("colorway", index)
    return _hashable((trace.get("type", "scatter"), color,
            line.get("dash", "solid") if "lines" in mode else None,
            marker.get("symbol", "circle") if "markers" in mode else None))


def chart_style_clashes(spec: dict) -> list[tuple[str, str]]:
    """Pairs of differently named legend entries of one chart that look alike."""
    seen: dict[tuple, str] = {}
    clashes = []
    for index, trace in enumerate(spec.get("data", [])):
        style = _style(trace, index)
        if style is None:
            continue
        name = str(trace["name"])
        if style in seen and seen[style] != name:
            clashes.append((seen[style], name))
        seen.setdefault(style, name)
    return clashes


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_no_two_legend_entries_of_a_chart_look_alike(case):
    stop, step = case
    at = open_page(stop.page, {} if step is None else {step[0]: step[1]})
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        assert not chart_style_clashes(spec), (_text(spec["layout"].get("title")),
                                               chart_style_clashes(spec))
