"""Figure builders and the one way a chart reaches the page.

Pages build figures here (never style them themselves) and hand them to ``show``, which applies
presenter mode, the course template and an accessible caption.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ui import theme

PLOTLY_CONFIG = {
    "displaylogo": False,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def presenter_mode() -> bool:
    """True when the teacher switched on presenter mode (bigger fonts, taller charts)."""
    return bool(st.session_state.get("presenter", False))


def show(fig: go.Figure, key: str, caption: str, height: int | None = None) -> None:
    """Draw ``fig`` with the course look; ``caption`` says in one line what to notice."""
    base = height or fig.layout.height or theme.BASE_HEIGHT
    if presenter_mode():
        fig.update_layout(
            template=theme.PRESENTER_TEMPLATE, height=int(base * theme.PRESENTER_HEIGHT_SCALE)
        )
    else:
        fig.update_layout(template=theme.TEMPLATE, height=base)
    st.plotly_chart(fig, theme=None, key=key, config=PLOTLY_CONFIG, alt=caption)
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


def course_map(stops: Sequence, video_titles: dict[str, str]) -> go.Figure:
    """The course as a route: one station per lesson, in order, coloured by part."""
    fig = new_figure("The route through the course", "", "")
    x = list(range(len(stops)))
    y = [0] * len(stops)
    fig.add_scatter(x=x, y=y, mode="lines", line=dict(color=theme.COLORS["muted"], width=8),
                    hoverinfo="skip", showlegend=False)
    for part, color in PART_COLORS.items():
        idx = [i for i, stop in enumerate(stops) if stop.part == part]
        if not idx:
            continue
        fig.add_scatter(
            x=idx,
            y=[0] * len(idx),
            mode="markers+text",
            name=part,
            marker=dict(size=30, color=color, line=dict(color="white", width=3)),
            text=[f"<b>{i + 1}</b>" for i in idx],
            textfont=dict(color="white"),
            textposition="middle center",
            customdata=[
                [stops[i].title, stops[i].summary,
                 "; ".join(video_titles[v] for v in stops[i].videos)]
                for i in idx
            ],
            hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<br>"
            "<i>%{customdata[2]}</i><extra></extra>",
        )
        for i in idx:
            fig.add_annotation(x=i, y=-0.45, text=stops[i].title, showarrow=False,
                               yanchor="top", font=dict(size=13))
    fig.update_xaxes(visible=False, range=[-0.6, max(len(stops) - 0.4, 2.4)])
    fig.update_yaxes(visible=False, range=[-1.5, 0.8])
    fig.update_layout(height=230, legend=dict(orientation="h", y=1.15, x=0), hovermode="closest")
    return fig


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
