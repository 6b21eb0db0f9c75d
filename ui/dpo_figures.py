"""Figures for the DPO lesson: the two pipelines, the loss against the margin, the derivation's
checks, the gradient weight over a batch, and the curves of a DPO run on the tiny LM.

Every figure is one panel built from plain trace and layout dicts (no make_subplots, no
add_hline): the loss chart is redrawn on every slider move, and these builders keep it cheap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import theme
from ui.figures import fmt

C = theme.COLORS
POINT = dict(size=15, color=C["highlight"], line=dict(color=C["exact"], width=2))
LEGEND_TOP = dict(orientation="h", y=1.0, x=1, xanchor="right", yanchor="bottom")


def _layout(title: str, x_title: str, y_title: str, **extra) -> dict:
    layout = dict(title=dict(text=title), xaxis=dict(title=dict(text=x_title)),
                  yaxis=dict(title=dict(text=y_title)), showlegend=False)
    for axis in ("xaxis", "yaxis"):
        if axis in extra:
            layout[axis].update(extra.pop(axis))
    layout.update(extra)
    return layout


def signed(value: float, digits: int = 3) -> str:
    """+0.405 or −0.405, with a real minus sign."""
    return f"{value:+.{digits}f}".replace("-", "−")


# 1. The two pipelines

_ROLE_FILL = {
    "data": "rgba(0, 114, 178, 0.10)",
    "reward": "rgba(230, 159, 0, 0.14)",
    "policy": "rgba(204, 121, 167, 0.16)",
    "reference": "rgba(122, 122, 122, 0.12)",
}
_ROLE_LINE = {"data": C["P"], "reward": C["Q"], "policy": C["policy"],
              "reference": C["reference"]}


def _box(x0, x1, y0, y1, role, text) -> tuple[dict, dict]:
    shape = dict(type="rect", x0=x0, x1=x1, y0=y0, y1=y1, xref="x", yref="y",
                 fillcolor=_ROLE_FILL[role], line=dict(color=_ROLE_LINE[role], width=2),
                 layer="below")
    label = dict(x=(x0 + x1) / 2, y=(y0 + y1) / 2, xref="x", yref="y", text=text,
                 showarrow=False, font=dict(size=14), align="center")
    return shape, label


def _arrow(x0, y0, x1, y1, text="") -> dict:
    return dict(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", text=text,
                showarrow=True, arrowhead=3, arrowsize=1.2, arrowwidth=2,
                arrowcolor=C["exact"], font=dict(size=12), standoff=2, startstandoff=2)


def pipelines() -> go.Figure:
    """RLHF (preference pairs → reward model → PPO) above DPO (preference pairs → one loss),
    with the networks each keeps in memory while it trains."""
    shapes, notes = [], []
    top, bottom = (4.7, 6.1), (1.0, 2.4)  # the RLHF and the DPO lane
    boxes = [
        (0.0, 2.1, *top, "data", "<b>Preference pairs</b><br>prompt x,<br>y_w preferred to y_l"),
        (2.9, 5.3, *top, "reward", "<b>Reward model r_φ</b><br>fitted to the pairs<br>"
         "with Bradley–Terry"),
        (6.1, 9.5, *top, "policy", "<b>PPO loop</b><br>sample y from π_θ, score r_φ(x, y),<br>"
         "pay β·KL to π_ref, value net V"),
        (10.3, 12.2, *top, "policy", "<b>π_θ</b><br>fine-tuned"),
        (6.1, 9.5, 3.4, 4.1, "reference", "<b>π_ref</b> (frozen copy of the SFT model)"),
        (0.0, 2.1, *bottom, "data", "<b>Preference pairs</b><br>the same data"),
        (2.9, 9.5, *bottom, "policy", "<b>DPO loss</b> on log-probabilities:<br>"
         "−log σ(β·log π_θ(y_w)/π_ref(y_w) − β·log π_θ(y_l)/π_ref(y_l))"),
        (10.3, 12.2, *bottom, "policy", "<b>π_θ</b><br>fine-tuned"),
        (2.9, 9.5, -0.3, 0.4, "reference", "<b>π_ref</b> (frozen: its log-probs can be "
         "computed once, before training)"),
    ]
    for box in boxes:
        shape, label = _box(*box)
        shapes.append(shape)
        notes.append(label)
    mid_top, mid_bottom = sum(top) / 2, sum(bottom) / 2
    notes += [
        _arrow(2.1, mid_top, 2.9, mid_top), _arrow(5.3, mid_top, 6.1, mid_top),
        _arrow(9.5, mid_top, 10.3, mid_top), _arrow(7.8, 4.1, 7.8, top[0]),
        _arrow(2.1, mid_bottom, 2.9, mid_bottom), _arrow(9.5, mid_bottom, 10.3, mid_bottom),
        _arrow(6.2, 0.4, 6.2, bottom[0]),
        dict(x=0, y=6.6, xref="x", yref="y", xanchor="left", showarrow=False,
             text="<b>RLHF</b>: 4 networks in memory (π_θ and V trained; π_ref and r_φ frozen); "
             "samples from π_θ at every step", font=dict(size=15, color=C["Q"])),
        dict(x=0, y=2.95, xref="x", yref="y", xanchor="left", showarrow=False,
             text="<b>DPO</b>: 2 networks (π_θ trained, π_ref frozen); no reward model, "
             "no sampling, no RL", font=dict(size=15, color=C["policy"])),
    ]
    layout = dict(
        title=dict(text="Two ways from preference pairs to a fine-tuned model"),
        xaxis=dict(visible=False, range=[-0.2, 12.4], fixedrange=True),
        yaxis=dict(visible=False, range=[-0.5, 6.9], fixedrange=True),
        shapes=shapes, annotations=notes, showlegend=False, height=540,
        margin=dict(l=10, r=10, t=56, b=10),
    )
    return go.Figure(data=[], layout=layout)


# 2. The loss against the margin

VARIANT_STYLES = {
    "DPO (sigmoid)": dict(color=C["policy"], width=4),
    "IPO": dict(color=C["exact"], width=2, dash="dash"),
    "hinge (SLiC)": dict(color=C["estimate"], width=2.5, dash="dot"),
    "conservative DPO": dict(color=C["Q"], width=2.5, dash="dashdot"),
}
RULER_Y = -0.6  # where the implicit rewards sit, below the loss curves
LOSS_TOP = 5.0


def loss_curve(margins: np.ndarray, curves: dict[str, np.ndarray], point: dict) -> go.Figure:
    """Loss against the reward margin m = r̂_w − r̂_l for DPO (and its variants), the learner's
    pair as a point on the DPO curve with its tangent (slope −σ(−m), the gradient weight), and
    below, the two implicit rewards whose difference is the margin.

    point: margin, loss, weight, chosen, rejected (the learner's numbers).
    """
    m, loss, w = point["margin"], point["loss"], point["weight"]
    data = []
    for name, values in curves.items():
        shown = np.where(values <= LOSS_TOP + 1, values, np.nan)
        data.append(dict(type="scatter", x=margins, y=shown, mode="lines", name=name,
                         line=VARIANT_STYLES[name], connectgaps=False,
                         hovertemplate="margin %{x:.2f}: loss %{y:.3f}<extra>" + name +
                         "</extra>"))
    half = 0.18 * float(margins[-1] - margins[0]) / 2
    data.append(dict(type="scatter", x=[m - half, m + half], y=[loss + w * half, loss - w * half],
                     mode="lines", name="slope here = −weight", showlegend=False,
                     line=dict(color=C["exact"], width=2), hoverinfo="skip"))
    data.append(dict(type="scatter", x=[m], y=[min(loss, LOSS_TOP)], mode="markers",
                     marker=POINT, name="your pair", showlegend=False,
                     hovertemplate=f"margin {m:.3f}<br>loss {loss:.3f}<br>weight {w:.3f}"
                     "<extra></extra>"))
    data.append(dict(type="scatter", x=[point["rejected"], point["chosen"]],
                     y=[RULER_Y, RULER_Y], mode="lines+markers", showlegend=False,
                     marker=dict(size=14, color=[C["rejected"], C["chosen"]],
                                 symbol=["circle", "diamond"],
                                 line=dict(color="white", width=1)),
                     line=dict(color=C["exact"], width=2),
                     hovertemplate="implicit reward %{x:.3f}<extra></extra>"))
    lo, hi = float(margins[0]), float(margins[-1])
    # No legend and fixed margins (no automargin): this chart is redrawn on every slider move,
    # and both cost a layout pass. The caption names the line styles instead.
    layout = _layout(
        f"DPO loss at your numbers: margin {signed(m)} → loss {loss:.3f}",
        "reward margin m = r̂_w − r̂_l (the implicit rewards' units)", "loss of the pair (nats)",
        xaxis=dict(range=[lo, hi], zeroline=True, zerolinecolor=C["muted"], automargin=False),
        yaxis=dict(range=[RULER_Y - 0.5, LOSS_TOP], tickvals=list(range(int(LOSS_TOP) + 1)),
                   automargin=False),
        height=460, margin=dict(l=64, r=16, t=56, b=60),
    )
    layout["shapes"] = [
        dict(type="line", xref="x", x0=lo, x1=hi, yref="y", y0=-0.15, y1=-0.15,
             line=dict(color=C["muted"], width=1)),
        dict(type="line", xref="x", x0=m, x1=m, yref="y", y0=RULER_Y, y1=min(loss, LOSS_TOP),
             line=dict(color=C["exact"], width=1, dash="dot")),
    ]
    layout["annotations"] = [
        dict(x=m, y=min(loss, LOSS_TOP), xref="x", yref="y", xanchor="left", yanchor="bottom",
             xshift=10, yshift=6, showarrow=False, align="left",
             text=f"loss {loss:.3f}<br>weight σ(−m) {w:.3f}", bgcolor="rgba(255,255,255,0.8)"),
        dict(x=lo, y=RULER_Y, xref="x", yref="y", xanchor="left", yanchor="bottom", yshift=8,
             showarrow=False, font=dict(size=13),
             text=f"implicit rewards: <span style='color:{C['rejected']}'>r̂_l "
                  f"{signed(point['rejected'])}</span> · <span style='color:{C['chosen']}'>"
                  f"r̂_w {signed(point['chosen'])}</span>"),
    ]
    return go.Figure(data=data, layout=layout)


# 3. The derivation

def response_bars(names: Sequence[str], series: Sequence[tuple[str, np.ndarray, str]],
                  title: str, y_title: str, text_format: str = ".3f") -> go.Figure:
    """Grouped bars, one group per response: series = (legend name, values, colour role)."""
    data = [dict(type="bar", x=list(names), y=list(values), name=name,
                 marker=dict(color=C[role]), text=[format(v, text_format) for v in values],
                 textposition="outside", cliponaxis=False,
                 hovertemplate="%{x}: %{y:.4f}<extra>" + name + "</extra>")
            for name, values, role in series]
    every = np.concatenate([np.asarray(v, dtype=float) for _, v, _ in series])
    top, bottom = max(float(every.max()), 0.0), min(float(every.min()), 0.0)
    pad = 0.15 * (top - bottom or 1.0)
    layout = _layout(title, "response", y_title, barmode="group", showlegend=True,
                     legend=LEGEND_TOP, margin=dict(l=10, r=10, t=90, b=10),
                     yaxis=dict(range=[bottom - (pad if bottom < 0 else 0), top + pad],
                                zeroline=True, zerolinecolor=C["muted"]))
    return go.Figure(data=data, layout=layout)


def family_loss(ts: np.ndarray, losses: np.ndarray, best_t: float, best_loss: float,
                ref_loss: float) -> go.Figure:
    """The DPO loss with unlimited pairs along the path π_t ∝ π_ref·exp(t·r/β): t = 0 is the
    reference, t = 1 the optimum π*."""
    data = [
        dict(type="scatter", x=list(ts), y=list(losses), mode="lines",
             line=dict(color=C["policy"], width=3),
             hovertemplate="t = %{x:.2f}: loss %{y:.4f}<extra></extra>"),
        dict(type="scatter", x=[0.0, best_t], y=[ref_loss, best_loss], mode="markers+text",
             text=["π_ref", "π*"], textposition="top center", cliponaxis=False,
             marker=dict(size=13, color=[C["reference"], C["highlight"]],
                         line=dict(color=C["exact"], width=2)), hoverinfo="skip"),
    ]
    low, high = float(np.min(losses)), float(np.max(losses))
    pad = 0.12 * (high - low or 1.0)
    layout = _layout("The DPO loss is smallest at π*", "t in π_t ∝ π_ref·exp(t·r/β) "
                     "(0 = the reference, 1 = π*)", "expected DPO loss (nats)",
                     yaxis=dict(range=[low - pad, high + 2 * pad]))
    return go.Figure(data=data, layout=layout)


# 4. The gradient weight over a batch

def weight_scatter(curve_m: np.ndarray, curve_w: np.ndarray, margins: np.ndarray,
                   weights: np.ndarray, agrees: np.ndarray, title: str) -> go.Figure:
    """Each pair of the batch at (its margin, its gradient weight σ(−margin)), on the curve;
    green: the label agrees with the hidden reward, vermillion: it goes against it."""
    agrees = np.asarray(agrees, dtype=bool)
    data = [dict(type="scatter", x=list(curve_m), y=list(curve_w), mode="lines",
                 line=dict(color=C["muted"], width=3), name="σ(−m)", hoverinfo="skip")]
    for mask, name, role, symbol in ((agrees, "label agrees with the hidden reward", "chosen",
                                      "circle"),
                                     (~agrees, "label goes against it", "rejected", "x")):
        data.append(dict(type="scatter", x=list(margins[mask]), y=list(weights[mask]),
                         mode="markers", name=name,
                         marker=dict(size=10, color=C[role], symbol=symbol, opacity=0.8,
                                     line=dict(color="white", width=1)),
                         hovertemplate="margin %{x:.2f}, weight %{y:.3f}<extra></extra>"))
    lo = min(float(curve_m[0]), float(np.min(margins)) - 0.5)
    hi = max(float(curve_m[-1]), float(np.max(margins)) + 0.5)
    layout = _layout(title, "reward margin m = r̂_w − r̂_l of the pair",
                     "gradient weight σ(r̂_l − r̂_w)",
                     xaxis=dict(range=[lo, hi], automargin=False),
                     yaxis=dict(range=[-0.03, 1.05], automargin=False),
                     margin=dict(l=64, r=16, t=56, b=60), height=400)
    layout["shapes"] = [dict(type="line", xref="x", x0=0, x1=0, yref="y", y0=0, y1=1,
                             line=dict(color=C["muted"], width=1, dash="dot"))]
    return go.Figure(data=data, layout=layout)


# 5. and 6. Training curves

def curves(steps: np.ndarray, series: Sequence[dict], title: str, y_title: str,
           levels: Sequence[tuple[float, str, str]] = (), x_title: str = "training step",
           log_y: bool = False, height: int | None = None, legend: bool = True,
           legend_below: bool = False) -> go.Figure:
    """Lines over training steps. series: dicts with name, y, role (a theme colour) and
    optionally dash, markers. levels: (value, label, role) horizontal reference lines."""
    data = []
    for s in series:
        y = np.asarray(s["y"], dtype=float)
        data.append(dict(type="scatter", x=list(steps if s.get("x") is None else s["x"]),
                         y=list(y), mode="lines+markers" if s.get("markers") else "lines",
                         name=s["name"],
                         line=dict(color=C[s["role"]], width=s.get("width", 3),
                                   dash=s.get("dash", "solid")),
                         marker=dict(size=7, symbol=s.get("symbol", "circle")),
                         hovertemplate="step %{x}: %{y:.3f}<extra>" + s["name"] + "</extra>"))
    layout = _layout(title, x_title, y_title, showlegend=legend, legend=LEGEND_TOP,
                     margin=dict(l=10, r=10, t=90 if legend else 56, b=10))
    if legend_below:  # long names: a legend of its own under the axis
        layout["legend"] = dict(orientation="h", x=0, y=-0.18, xanchor="left", yanchor="top")
        layout["margin"] = dict(l=10, r=10, t=56, b=10)
    if log_y:
        layout["yaxis"].update(type="log", exponentformat="power")
    if height:
        layout["height"] = height
    layout["shapes"] = [dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=value,
                             y1=value, line=dict(color=C[role], width=2, dash="dot"))
                        for value, _, role in levels]
    layout["annotations"] = [dict(x=1, y=value, xref="x domain", yref="y", xanchor="right",
                                  yanchor="bottom", showarrow=False, text=label,
                                  font=dict(size=13, color=C[role]))
                             for value, label, role in levels]
    return go.Figure(data=data, layout=layout)


def outcome_bars(labels: Sequence[str], series: Sequence[tuple[str, np.ndarray, str]],
                 title: str) -> go.Figure:
    """Horizontal grouped bars of reply probabilities, the first reply on top."""
    data = [dict(type="bar", orientation="h", y=list(labels), x=list(values), name=name,
                 marker=dict(color=C[role]), text=[fmt(v, 3) for v in values],
                 textposition="outside", cliponaxis=False,
                 hovertemplate="%{y}: %{x:.4f}<extra>" + name + "</extra>")
            for name, values, role in series]
    top = max(float(np.max(v)) for _, v, _ in series)
    layout = _layout(title, "probability of the reply", "", barmode="group", showlegend=True,
                     legend=LEGEND_TOP, height=460, margin=dict(l=190, r=20, t=90, b=10),
                     xaxis=dict(range=[0, 1.2 * top], automargin=False),
                     yaxis=dict(autorange="reversed", automargin=False))
    return go.Figure(data=data, layout=layout)
