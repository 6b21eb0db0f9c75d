"""Figure builders and the one way a chart reaches the page.

Pages build figures here (never style them themselves) and hand them to ``show``, which applies
presenter mode, the course template and an accessible caption.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from functools import cache

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.basedatatypes import BaseFigure

from ui import course, theme

PLOTLY_CONFIG = {
    "displaylogo": False,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def presenter_mode() -> bool:
    """True when the teacher switched on presenter mode (bigger fonts, taller charts)."""
    return bool(st.session_state.get("presenter", False))


class _Prepared(BaseFigure):
    """A figure spec (a plain dict) that Streamlit sends as it is: plotly's validation of a
    spec with many frames costs tens of milliseconds per rerun, and the course's own builders
    write valid specs (their tests render them)."""

    def __init__(self, spec: dict):  # noqa: D107 (no plotly state: only the spec)
        object.__setattr__(self, "_prepared_spec", spec)

    def to_dict(self) -> dict:
        return self._prepared_spec


def _scaled_controls(layout: dict, scale: float) -> dict:
    """An explorable's slider and buttons moved down with presenter mode's larger text."""
    layout = dict(layout)
    for name in ("sliders", "updatemenus"):
        if layout.get(name):
            layout[name] = [{**item, "pad": {**item.get("pad", {}),
                                             "t": int(item.get("pad", {}).get("t", 0) * scale)}}
                            for item in layout[name]]
    if layout.get("sliders") and "margin" in layout:
        margin = dict(layout["margin"])
        margin["b"] = int(margin.get("b", 0) * scale)
        layout["margin"] = margin
    return layout


def show(fig: go.Figure | dict, key: str, caption: str, height: int | None = None) -> None:
    """Draw ``fig`` (a figure, or a plain spec as ``ui.explorable`` builds them) with the
    course look; ``caption`` says in one line what to notice."""
    presenter = presenter_mode()
    if isinstance(fig, dict):
        layout = fig["layout"]
        base = height or layout.get("height") or theme.BASE_HEIGHT
        if presenter:
            layout = _scaled_controls(layout, theme.PRESENTER_FONT_SIZE / theme.BASE_FONT_SIZE)
        name = theme.PRESENTER_TEMPLATE if presenter else theme.TEMPLATE
        layout = {**layout, "template": theme.template_spec(name), "height": int(
            base * (theme.PRESENTER_HEIGHT_SCALE if presenter else 1))}
        chart = _Prepared({**fig, "layout": layout})
    else:
        base = height or fig.layout.height or theme.BASE_HEIGHT
        if presenter:
            fig.update_layout(template=theme.PRESENTER_TEMPLATE,
                              height=int(base * theme.PRESENTER_HEIGHT_SCALE))
        else:
            fig.update_layout(template=theme.TEMPLATE, height=base)
        chart = fig
    st.plotly_chart(chart, theme=None, key=key, config=PLOTLY_CONFIG, alt=caption)
    st.caption(caption)


def new_figure(title: str, x_title: str, y_title: str, **layout) -> go.Figure:
    """An empty figure with a title and axis titles (always with units where there are any)."""
    fig = go.Figure()
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, **layout)
    return fig


PART_COLORS = {
    "Foundations": theme.COLORS["P"],
    "Reinforcement learning": theme.COLORS["chosen"],
    "Preference training": theme.COLORS["policy"],
    "Questions": theme.COLORS["Q"],
}


MAP_ROW = 44  # pixels per station on the course map
MAP_WRAP = 30  # characters per line of a station's label


def _wrapped(text: str, width: int = MAP_WRAP) -> tuple[str, int]:
    """``text`` broken at spaces into lines of at most ``width`` characters, joined by <br>;
    and the number of lines."""
    lines = textwrap.wrap(text, width) or [""]
    return "<br>".join(lines), len(lines)


def course_map(stops: Sequence, video_titles: dict[str, str]) -> go.Figure:
    """The course as a route running down the page: one station per lesson, in order, under
    the heading of its part. Labels sit to the right of their station at a fixed distance in
    pixels, so the map reads the same on a phone and on a projector."""
    fig = new_figure("The route through the course", "", "")
    rows, y = [], 0.0  # (kind, y, stop index or part name)
    for i, stop in enumerate(stops):
        if i == 0 or stop.part != stops[i - 1].part:
            rows.append(("part", y, stop.part))
            y -= 0.75
        rows.append(("stop", y, i))
        y -= 1.0 + 0.3 * (_wrapped(stop.title)[1] - 1)
    station_y = [row[1] for row in rows if row[0] == "stop"]
    fig.add_scatter(x=[0] * len(stops), y=station_y, mode="lines",
                    line=dict(color=theme.COLORS["muted"], width=8), hoverinfo="skip",
                    showlegend=False)
    for part, color in PART_COLORS.items():
        idx = [i for i, stop in enumerate(stops) if stop.part == part]
        if not idx:
            continue
        fig.add_scatter(
            x=[0] * len(idx), y=[station_y[i] for i in idx], mode="markers+text", name=part,
            marker=dict(size=30, color=color, line=dict(color="white", width=3)),
            text=[f"<b>{i + 1}</b>" for i in idx], textposition="middle center",
            textfont=dict(color=theme.text_on(color)),
            customdata=[[stops[i].title, stops[i].summary,
                         "; ".join(video_titles[v] for v in stops[i].videos)] for i in idx],
            hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<br>"
            "<i>%{customdata[2]}</i><extra></extra>",
            showlegend=False,
        )
    for kind, row_y, what in rows:
        if kind == "part":
            fig.add_annotation(x=0, y=row_y, text=f"<b>{what.upper()}</b>", showarrow=False,
                               xanchor="left", xshift=26, font=dict(color=theme.TEXT))
        else:
            text, _ = _wrapped(stops[what].title)
            fig.add_annotation(x=0, y=row_y, text=text, showarrow=False, xanchor="left",
                               xshift=26, align="left")
    fig.update_xaxes(visible=False, range=[-0.2, 4], fixedrange=True)
    fig.update_yaxes(visible=False, range=[y + 0.4, 0.6], fixedrange=True)
    fig.update_layout(height=int(56 + MAP_ROW * (0.6 - y - 0.4) + 10), hovermode="closest",
                      showlegend=False, margin=dict(l=10, r=10, t=56, b=10))
    return fig


@cache
def course_map_spec() -> dict:
    """The map of this course (``course_map`` of its lessons) as a plain spec, built once per
    process: every visit to the start page draws the same map."""
    return course_map(course.LESSONS, course.VIDEOS).to_plotly_json()


def thin(length: int, max_points: int = 400):
    """Indices that keep a long series' shape with at most ``max_points`` points (log-spaced,
    so the fast early changes keep their detail)."""
    if length <= max_points:
        return np.arange(length)
    return np.unique(np.geomspace(1, length, max_points).astype(int) - 1)


def fmt(value: float, digits: int = 3) -> str:
    """A number for the page: ∞ for infinities, scientific notation for tiny or huge ones."""
    if value == float("inf"):
        return "∞"
    if value == float("-inf"):
        return "−∞"
    if value != 0 and (abs(value) < 10 ** -(digits + 1) or abs(value) >= 10 ** 6):
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}f}"


# Fast building blocks. Streamlit rebuilds a section's figure on every interaction, and plotly's
# make_subplots / add_hline helpers cost tens of milliseconds, so hot figures use plain dicts.


def panels(titles: Sequence[str], x_title: str, gap: float = 0.07) -> dict:
    """Layout for side-by-side panels sharing one row: axes x, x2, ...; each panel's title
    (the quantity it plots, with its unit) is its y axis title."""
    width = (1 - gap * (len(titles) - 1)) / len(titles)
    layout: dict = {"annotations": [], "shapes": []}
    for i, title in enumerate(titles):
        suffix = "" if i == 0 else str(i + 1)
        left = i * (width + gap)
        layout[f"xaxis{suffix}"] = dict(domain=[left, left + width], anchor=f"y{suffix}",
                                        title=dict(text=x_title))
        layout[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}", title=dict(text=title))
    return layout


def axis_refs(panel: int) -> tuple[str, str]:
    """The ('x2', 'y2')-style axis names of panel number ``panel`` (0-based)."""
    suffix = "" if panel == 0 else str(panel + 1)
    return f"x{suffix}", f"y{suffix}"


def hline(y: float, role: str, panel: int = 0, dash: str = "dash", width: float = 2) -> dict:
    """A horizontal line across one panel, as a layout shape."""
    x, yref = axis_refs(panel)
    return dict(type="line", xref=f"{x} domain", x0=0, x1=1, yref=yref, y0=y, y1=y,
                line=dict(color=theme.COLORS[role], dash=dash, width=width))


def vline(x: float, role: str, panel: int = 0, dash: str = "dot", width: float = 2) -> dict:
    """A vertical line across one panel, as a layout shape."""
    xref, y = axis_refs(panel)
    return dict(type="line", yref=f"{y} domain", y0=0, y1=1, xref=xref, x0=x, x1=x,
                line=dict(color=theme.COLORS[role], dash=dash, width=width))


def label(x: float, y: float, text: str, panel: int = 0, **style) -> dict:
    """A text label at data coordinates of one panel, as a layout annotation."""
    xref, yref = axis_refs(panel)
    return dict(x=x, y=y, xref=xref, yref=yref, text=text, showarrow=False, **style)
