"""Figures of class mode: what the class taught the model, and the class's Bradley–Terry fit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import theme
from ui.figures import fmt

# One marker per run on the reward–KL plane: colour and symbol each their own.
RUNS = {
    "reference": ("π_ref (where both runs start)", theme.COLORS["reference"], "circle"),
    "optimum": ("π*_β, the best possible at β = 1", theme.COLORS["exact"], "star"),
    "class": ("DPO on our class's labels", theme.COLORS["policy"], "diamond"),
    "simulated": ("DPO on the simulated annotator's labels", theme.COLORS["estimate"], "square"),
}


def taught_plane(curve: dict, report: dict) -> go.Figure:
    """The exact reward–KL frontier with π_ref, π*_β and the two DPO runs placed on it."""
    fig = go.Figure()
    fig.add_scatter(x=curve["kl"], y=curve["true_reward"], mode="lines",
                    name="the best reward for each KL (π*_β as β slides)",
                    line=dict(color=theme.COLORS["muted"], width=4), hoverinfo="skip")
    for key, (name, color, symbol) in RUNS.items():
        point = report["optimum"] if key == "optimum" else report["reference"] \
            if key == "reference" else report["dpo"][key]
        fig.add_scatter(
            x=[point["kl"]], y=[point["true_reward"]], mode="markers", name=name,
            marker=dict(size=16, color=color, symbol=symbol,
                        line=dict(color="white", width=1.5)),
            hovertemplate=f"{name}<br>KL %{{x:.3f}} nats<br>E[r] %{{y:.3f}}<extra></extra>")
    top = max(point["kl"] for point in (report["optimum"], *report["dpo"].values()))
    fig.update_layout(title="What our class taught the model",
                      xaxis=dict(title="KL(π‖π_ref) (nats): how far the model moved",
                                 range=[-0.05 * top - 0.02, top * 1.4 + 0.1]),
                      yaxis=dict(title="expected true reward E[r]"),
                      # below the plane: inside it, the legend covered the frontier's start
                      legend=dict(orientation="h", x=0, xanchor="left", y=-0.2,
                                  yanchor="top"), margin=dict(b=150), height=520)
    return fig


def item_scores(names: Sequence[str], scores: np.ndarray, sd: np.ndarray) -> go.Figure:
    """The class's Bradley–Terry scores, best first, with 95 % intervals (±1.96 sd)."""
    order = np.argsort(-np.asarray(scores))
    fig = go.Figure()
    fig.add_scatter(
        x=[scores[i] for i in order], y=[names[i] for i in order], mode="markers",
        name="score", marker=dict(size=12, color=theme.COLORS["chosen"]),
        error_x=dict(type="data", array=[1.96 * sd[i] for i in order],
                     color=theme.COLORS["reference"], thickness=2),
        customdata=[[fmt(1.96 * sd[i], 2)] for i in order],
        hovertemplate="%{y}: %{x:.2f} ± %{customdata[0]}<extra></extra>", showlegend=False)
    fig.update_layout(title="The class's Bradley–Terry scores, with their uncertainty",
                      xaxis=dict(title="score (log-odds; 0 = the average item)",
                                 zeroline=True), yaxis=dict(title="item", autorange="reversed"),
                      height=max(300, 60 + 34 * len(names)))
    return fig
