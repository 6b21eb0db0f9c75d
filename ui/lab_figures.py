"""Figures for the lab "DPO or RLHF?": the exact reward–KL frontier, the runs of a sweep on it,
two datasets side by side, and what a reward model promised against what the reader gave.

Every chart has the exact frontier as a black line (the course's colour for exact values) and
one colour and marker per method, the same in every chart of the lab. Built from plain dicts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import theme

# One look per method. DPO, RLHF and PPO take the colours of their equation badges.
METHOD_STYLE = {
    "dpo": dict(color=theme.OKABE_ITO["green"], symbol="circle"),
    "rlhf": dict(color=theme.OKABE_ITO["vermillion"], symbol="diamond"),
    "ppo_true": dict(color=theme.OKABE_ITO["orange"], symbol="triangle-up"),
    "preferred_ft": dict(color=theme.OKABE_ITO["blue"], symbol="square"),
    "reference": dict(color=theme.COLORS["reference"], symbol="star"),
}
KL_TITLE = "KL(π ‖ π_ref), nats"
REWARD_TITLE = "expected true reward E[r], points"


def _frontier_trace(curve: dict, name: str = "exact optimal frontier (π*_β)") -> dict:
    return dict(type="scatter", mode="lines", x=list(curve["kl"]), y=list(curve["true_reward"]),
                name=name, line=dict(color=theme.COLORS["exact"], width=2.5),
                hovertemplate="frontier: KL %{x:.2f} nats, E[r] %{y:.2f}<extra></extra>")


def _layout(title: str, x_title: str = KL_TITLE, y_title: str = REWARD_TITLE, **extra) -> dict:
    layout = dict(title=dict(text=title), xaxis=dict(title=dict(text=x_title), rangemode="tozero"),
                  yaxis=dict(title=dict(text=y_title)), hovermode="closest",
                  legend=dict(orientation="h", y=-0.22, x=0, yanchor="top"),
                  margin=dict(l=70, r=20, t=60, b=60))
    layout.update(extra)
    return layout


def frontier_point(curve: dict, kl: float, reward: float, beta: float,
                   ref_reward: float) -> go.Figure:
    """The frontier with one point on it: π*_β for the learner's β, and the reference."""
    data = [
        _frontier_trace(curve),
        dict(type="scatter", mode="markers", x=[0.0], y=[ref_reward], name="reference π_ref",
             marker=dict(size=14, **METHOD_STYLE["reference"]),
             hovertemplate="π_ref: KL 0, E[r] %{y:.2f}<extra></extra>"),
        dict(type="scatter", mode="markers+text", x=[kl], y=[reward], name=f"π* at β = {beta:g}",
             marker=dict(size=15, color=theme.COLORS["highlight"],
                         line=dict(color=theme.COLORS["exact"], width=2)),
             text=[f"β = {beta:g}"], textposition="bottom right",
             hovertemplate="π*: KL %{x:.3f} nats, E[r] %{y:.3f}<extra></extra>"),
    ]
    layout = _layout(f"The best reward for each KL budget: π* at β = {beta:g} sits at "
                     f"KL {kl:.2f} nats, E[r] = {reward:.2f}", height=440)
    layout["xaxis"]["range"] = [-0.2, float(np.max(curve["kl"])) * 1.04]
    return go.Figure(data=data, layout=layout)


def _run_label(coefficient: float) -> str:
    return "" if not np.isfinite(coefficient) else f"{coefficient:g}"


def frontier_runs(curve: dict, rows: Sequence[dict], names: dict[str, str],
                  coefficient_names: dict[str, str], title: str,
                  zoom: tuple[tuple[float, float], tuple[float, float]] | None = None
                  ) -> go.Figure:
    """Every run of a sweep as a point (one colour and marker per method, its coefficient
    written beside it), under the exact frontier; zoom: ((x0, x1), (y0, y1)) to show a part."""
    data = [_frontier_trace(curve)]
    for method, style in METHOD_STYLE.items():
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            continue
        what = coefficient_names.get(method, "")
        custom = [[f"{what} = {r['coefficient']:g}" if what else "", r["gap"]] for r in mine]
        position = {"dpo": "bottom center", "rlhf": "top center"}.get(method, "middle left")
        data.append(dict(
            type="scatter", mode="markers+text", name=names[method],
            x=[r["kl"] for r in mine], y=[r["true_reward"] for r in mine],
            text=[_run_label(r["coefficient"]) for r in mine],
            textposition=position, textfont=dict(size=12, color=style["color"]),
            marker=dict(size=13, color=style["color"], symbol=style["symbol"],
                        line=dict(color="white", width=1)),
            customdata=custom,
            hovertemplate=f"<b>{names[method]}</b> %{{customdata[0]}}<br>KL %{{x:.3f}} nats, "
            "E[r] %{y:.3f}<br>%{customdata[1]:.3f} below the frontier<extra></extra>",
        ))
    layout = _layout(title, height=520)
    if zoom is not None:
        layout["xaxis"]["range"], layout["yaxis"] = list(zoom[0]), dict(
            title=dict(text=REWARD_TITLE), range=list(zoom[1]))
    else:
        layout["xaxis"]["range"] = [-0.25, float(np.max(curve["kl"]))]
    return go.Figure(data=data, layout=layout)


def two_datasets(curve: dict, rows: dict[str, Sequence[dict]], names: dict[str, str],
                 methods: Sequence[str], title: str) -> go.Figure:
    """The runs of the chosen methods on two datasets: filled markers for the first dataset,
    open markers for the second, the same colour per method."""
    data = [_frontier_trace(curve)]
    for i, (label, dataset_rows) in enumerate(rows.items()):
        for method in methods:
            mine = [r for r in dataset_rows if r["method"] == method]
            if not mine:
                continue
            style = METHOD_STYLE[method]
            symbol = style["symbol"] if i == 0 else f"{style['symbol']}-open"
            data.append(dict(
                type="scatter", mode="markers+lines", name=f"{names[method]}, {label}",
                x=[r["kl"] for r in mine], y=[r["true_reward"] for r in mine],
                line=dict(color=style["color"], width=1.5, dash="solid" if i == 0 else "dot"),
                marker=dict(size=13, color=style["color"], symbol=symbol,
                            line=dict(color=style["color"], width=2)),
                customdata=[r["coefficient"] for r in mine],
                hovertemplate=f"<b>{names[method]}, {label}</b> (β = %{{customdata:g}})<br>KL "
                "%{x:.3f} nats, E[r] %{y:.3f}<extra></extra>",
            ))
    return go.Figure(data=data, layout=_layout(title, height=520,
                                               legend=dict(orientation="h", y=-0.2, x=0,
                                                           yanchor="top")))


def promised_vs_given(gains: dict, title: str) -> go.Figure:
    """RLHF run by run: the reward model's gain over the reference (what it promised) and the
    true reward's gain (what the reader gave), against the KL the run reached."""
    text = [f"{c:g}" for c in gains["coefficient"]]
    data = [
        dict(type="scatter", mode="lines+markers+text", name="reward model's score (promised)",
             x=list(gains["kl"]), y=list(gains["score_gain"]), text=text,
             textposition="top center", textfont=dict(size=12),
             line=dict(color=theme.COLORS["estimate"], width=2.5, dash="dash"),
             marker=dict(size=11, color=theme.COLORS["estimate"]),
             hovertemplate="KL %{x:.2f} nats: reward model +%{y:.2f}<extra></extra>"),
        dict(type="scatter", mode="lines+markers", name="true reward (what the reader gave)",
             x=list(gains["kl"]), y=list(gains["true_gain"]),
             line=dict(color=METHOD_STYLE["rlhf"]["color"], width=2.5),
             marker=dict(size=12, color=METHOD_STYLE["rlhf"]["color"], symbol="diamond"),
             hovertemplate="KL %{x:.2f} nats: true reward %{y:+.2f}<extra></extra>"),
    ]
    layout = _layout(title, y_title="gain over the reference, points", height=440,
                     shapes=[dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=0, y1=0,
                                  line=dict(color=theme.COLORS["reference"], dash="dot",
                                            width=1.5))])
    return go.Figure(data=data, layout=layout)


def gap_by_band(bands: Sequence[str], gaps: dict[str, Sequence[float]],
                names: dict[str, str]) -> go.Figure:
    """Mean gap below the frontier per KL range, one bar per method (lower is better)."""
    data = [dict(type="bar", name=names[method], x=list(bands), y=list(values),
                 marker=dict(color=METHOD_STYLE[method]["color"]),
                 text=[f"{v:.2f}" for v in values], textposition="outside", cliponaxis=False,
                 hovertemplate=f"{names[method]}: %{{y:.3f}} below the frontier<extra></extra>")
            for method, values in gaps.items()]
    layout = _layout("How far below the frontier, by range of KL (lower is better)",
                     x_title="KL of the runs, nats", y_title="mean gap to the frontier, points",
                     barmode="group", height=400)
    layout["xaxis"] = dict(title=dict(text="KL of the runs, nats"), type="category")
    return go.Figure(data=data, layout=layout)
