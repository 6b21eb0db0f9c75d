"""Every chart on every step of every page: a title, axis titles and a caption that says what
to notice (issue: accessibility). Charts reach a page only through ui.figures.show."""

import json
import re
from pathlib import Path

import pytest
from conftest import ROOT, open_page
from test_links_all import CASES, _id
from test_steps_all import whole_step

from ui import theme

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
    at = open_page(stop.page) if step is None else whole_step(stop, step)[0]
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


def _per_point(value, count: int) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value] * count


def _style(trace: dict, index: int) -> set[tuple]:
    """Every look a trace draws: (type, colour, dash, marker symbol). Colours or symbols given
    per marker make one look per distinct marker. A trace with no colour of its own takes the
    next colour of the colorway."""
    kind = trace.get("type", "scatter")
    mode = trace.get("mode", "lines+markers" if kind == "scatter" else "")
    line, marker = trace.get("line") or {}, trace.get("marker") or {}
    lines = "lines" in mode
    colors = marker.get("color", line.get("color"))
    symbols = marker.get("symbol", "circle")
    count = max([len(v) for v in (colors, symbols) if isinstance(v, (list, tuple))] or [1])
    looks = set()
    for color, symbol in zip(_per_point(colors, count), _per_point(symbols, count),
                             strict=True):
        color = line.get("color", color) if lines else color
        looks.add(_hashable((kind, ("colorway", index) if color is None else color,
                             line.get("dash", "solid") if lines else None,
                             symbol if kind == "scatter" and "markers" in mode else None)))
    return looks


def chart_style_clashes(spec: dict) -> list[tuple[str, str]]:
    """Pairs of differently named traces of one chart that look alike, so that the legend
    cannot tell them apart: in any panel, with or without a legend entry of their own (a curve
    named only by its axis title still reads as the legend's entry of the same look). A trace
    without an entry reads as the entry of its legend group or of its namesake (the same curve
    drawn twice, one entry), and is not compared with it."""
    data = spec.get("data", [])
    entries = {}
    for trace in data:
        if trace.get("name") and trace.get("showlegend") is not False:
            entries.setdefault(trace.get("legendgroup") or trace["name"], str(trace["name"]))
    seen: dict[tuple, str] = {}
    clashes = []
    for index, trace in enumerate(data):
        if not trace.get("name"):
            continue
        name = entries.get(trace.get("legendgroup") or "", str(trace["name"]))
        for look in _style(trace, index):
            if look in seen and seen[look] != name:
                clashes.append((seen[look], name))
            seen.setdefault(look, name)
    return clashes


def _curve(name: str, color: str, dash: str = "solid", **extra) -> dict:
    return dict(type="scatter", mode="lines", name=name, line=dict(color=color, dash=dash),
                **extra)


def test_look_alike_traces_clash_in_any_panel_with_or_without_a_legend_entry():
    purple, green = "#CC79A7", "#009E73"
    # DPO's training replay before each curve had its own look: two panels, one curve each,
    # named only by their axis titles
    two_panels = {"data": [_curve("rewards/accuracies", purple, showlegend=False),
                           _curve("loss", purple, showlegend=False, xaxis="x2", yaxis="y2")]}
    assert chart_style_clashes(two_panels) == [("rewards/accuracies", "loss")]
    two_panels["data"][1]["line"]["dash"] = "dash"
    assert chart_style_clashes(two_panels) == []
    # colours and symbols given per marker: each marker is a look of its own
    markers = {"data": [dict(type="scatter", mode="markers", name="marked replies",
                             marker=dict(color=[green, purple], symbol=["diamond", "x"])),
                        dict(type="scatter", mode="markers", name="chosen replies",
                             marker=dict(color=green, symbol="diamond"))]}
    assert chart_style_clashes(markers) == [("marked replies", "chosen replies")]
    # the same curve drawn in two panels (one entry), or a legend group's twin, is one entry
    twins = {"data": [_curve("good start", purple, showlegend=False),
                      _curve("good start", purple, xaxis="x2", yaxis="y2"),
                      _curve("α = 1", green, legendgroup="a"),
                      _curve("α = 1 (right)", green, legendgroup="a", showlegend=False)]}
    assert chart_style_clashes(twins) == []
    # a colour of the colorway is a look too; unnamed traces (guides, markers) are not compared
    plain = {"data": [dict(type="bar", name="P"), dict(type="bar", name="Q"),
                      _curve("", purple), _curve("KL", purple)]}
    assert chart_style_clashes(plain) == []


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_no_two_legend_entries_of_a_chart_look_alike(case):
    stop, step = case
    at = open_page(stop.page) if step is None else whole_step(stop, step)[0]
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        assert not chart_style_clashes(spec), (_text(spec["layout"].get("title")),
                                               chart_style_clashes(spec))


def _named_colours(text: str) -> list[str]:
    """The course's colour words in ``text``, longest first ("light blue" is not also "blue")."""
    named = []
    for word in sorted(theme.COLOR_WORDS, key=len, reverse=True):
        pattern = rf"(?<![\w-]){re.escape(word)}(?![\w-])"
        if re.search(pattern, text):
            named.append(word)
            text = re.sub(pattern, "", text)
    return named


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_captions_name_the_colours_their_charts_draw(case):
    stop, step = case
    at = open_page(stop.page) if step is None else whole_step(stop, step)[0]
    charts = at.get("plotly_chart")
    if not charts:
        return
    text = " ".join(c.value for c in at.caption).lower()
    drawn = " ".join(chart.proto.spec for chart in charts).upper()
    assert not [w for w in theme.COLOR_WORDS_AVOIDED if re.search(rf"\b{w}\b", text)]
    for word in _named_colours(text):
        assert theme.COLOR_WORDS[word].upper() in drawn, (word, theme.COLOR_WORDS[word])
