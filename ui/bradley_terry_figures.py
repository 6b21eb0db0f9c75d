"""Figures for the Bradley–Terry lesson: win probabilities, the logistic curve, Elo, fitted scores
with their error bars, and the tiny reward model trained on the learner's own judgements."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from plotly.subplots import make_subplots

from ui import theme
from ui.figures import fmt, new_figure

Z95 = 1.96  # a 95 % normal interval is the estimate ± 1.96 standard errors

# Loses (0) through a coin flip (½, white) to wins (1): the course's rejected and chosen colours.
WIN_SCALE = [[0.0, theme.COLORS["rejected"]], [0.5, "#FFFFFF"], [1.0, theme.COLORS["chosen"]]]


def win_heatmap(names: Sequence[str], probs: np.ndarray):
    """P(row beats column) for every pair; the diagonal (an item against itself) is left blank."""
    n = len(names)
    z = np.where(np.eye(n, dtype=bool), np.nan, probs)
    text = [["" if i == j else f"{probs[i, j]:.2f}" for j in range(n)] for i in range(n)]
    fig = new_figure("P(row beats column)", "opponent (column)", "reply (row)")
    fig.add_heatmap(
        x=list(names), y=list(names), z=z, zmin=0, zmax=1, colorscale=WIN_SCALE,
        text=text, texttemplate="%{text}", xgap=2, ygap=2,
        colorbar=dict(title="P", thickness=14, tickvals=[0, 0.5, 1]),
        hovertemplate="P(%{y} beats %{x}) = %{z:.3f}<extra></extra>",
    )
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_xaxes(side="top", showgrid=False)
    fig.update_layout(margin=dict(t=120))
    return fig


def choice_bars(names: Sequence[str], probs: np.ndarray):
    """The softmax over all n scores: the chance each reply is picked as the best of all."""
    fig = new_figure("Pick one of all of them: a softmax", "reply", "P(picked as best)")
    fig.add_bar(x=list(names), y=probs, marker_color=theme.COLORS["Q"],
                text=[f"{p:.2f}" for p in probs], textposition="outside", cliponaxis=False,
                showlegend=False)
    fig.update_yaxes(range=[0, 1.08])
    return fig


def logistic_curve(gaps: np.ndarray, probs: np.ndarray, shifted: dict):
    """σ(a − b) against the gap, with the current pair drawn three ways that all coincide."""
    fig = new_figure("Only the gap matters: P(A beats B) = σ(a − b)",
                     "score gap a − b (score units)", "P(A beats B)")
    fig.add_scatter(x=gaps, y=probs, mode="lines", name="σ(a − b)",
                    line=dict(color=theme.COLORS["exact"], width=3))
    fig.add_hline(y=0.5, line=dict(color=theme.COLORS["muted"], dash="dot"))
    fig.add_scatter(x=[shifted["gap"]], y=[shifted["softmax"]], mode="markers",
                    name=f"softmax(a + c, b + c), c = {shifted['shift']:g}",
                    marker=dict(size=22, color=theme.COLORS["highlight"],
                                line=dict(color=theme.COLORS["exact"], width=2)))
    fig.add_scatter(x=[shifted["gap"]], y=[shifted["sigmoid"]], mode="markers",
                    name="σ(a − b), no shift", marker=dict(size=9, color=theme.COLORS["P"]))
    fig.update_yaxes(range=[-0.03, 1.03])
    fig.update_layout(legend=dict(orientation="h", y=-0.32, x=0))
    return fig


def elo_curve(gaps: np.ndarray, expected: np.ndarray, gap_now: float, expected_now: float):
    """Elo's expected score against the rating gap, the current pair highlighted."""
    fig = new_figure("Elo is Bradley–Terry on a 400-point scale",
                     "rating gap R_A − R_B (Elo points)", "expected score of A")
    fig.add_scatter(x=gaps, y=expected, mode="lines", name="1 / (1 + 10^(−gap/400))",
                    line=dict(color=theme.COLORS["exact"], width=3))
    fig.add_scatter(x=[gap_now], y=[expected_now], mode="markers+text",
                    text=[f"{expected_now:.3f}"], textposition="middle right",
                    name="your two players", marker=dict(size=16, color=theme.COLORS["highlight"],
                                                         line=dict(color="black", width=2)))
    fig.update_yaxes(range=[-0.03, 1.03])
    fig.update_layout(legend=dict(orientation="h", y=-0.32, x=0))
    return fig


def fitted_scores(names: Sequence[str], scores: np.ndarray, std_errors: np.ndarray,
                  true_scores: np.ndarray | None = None):
    """Fitted scores with 95 % Fisher error bars, and the true scores of simulated data."""
    fig = new_figure("Fitted scores, ± 1.96 standard errors", "item", "score (mean 0)")
    finite = np.isfinite(std_errors)
    fig.add_bar(
        x=list(names), y=scores, name="fitted score", marker_color=theme.COLORS["Q"],
        error_y=dict(type="data", array=np.where(finite, Z95 * std_errors, 0), thickness=2,
                     width=8, color=theme.COLORS["exact"]),
        customdata=np.where(finite, std_errors, np.nan),
        hovertemplate="%{x}: %{y:.3f} ± %{customdata:.3f} (1 s.e.)<extra></extra>",
    )
    if true_scores is not None:
        fig.add_scatter(x=list(names), y=true_scores, mode="markers", name="true score",
                        marker=dict(symbol="diamond", size=14, color=theme.COLORS["P"],
                                    line=dict(color="white", width=1)))
    fig.add_hline(y=0, line=dict(color=theme.COLORS["muted"]))
    fig.update_layout(legend=dict(orientation="h", y=1.1, x=0))
    return fig


def predicted_vs_observed(labels: Sequence[str], observed: np.ndarray, predicted: np.ndarray,
                          games: np.ndarray):
    """One dot per pair that met: its observed win rate against the model's; size = games."""
    fig = new_figure("Does the model reproduce the table?", "observed win rate (row item)",
                     "Bradley–Terry P(row item wins)")
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect fit",
                    line=dict(color=theme.COLORS["muted"], dash="dash", width=2))
    size = 10 + 20 * np.sqrt(games / max(games.max(initial=0), 1))
    fig.add_scatter(
        x=observed, y=predicted, mode="markers", name="one pair",
        marker=dict(size=size, color=theme.COLORS["P"], opacity=0.85,
                    line=dict(color="white", width=1)),
        customdata=np.column_stack([labels, games]),
        hovertemplate="%{customdata[0]}<br>observed %{x:.2f} over %{customdata[1]} games"
        "<br>model %{y:.2f}<extra></extra>",
    )
    fig.update_xaxes(range=[-0.04, 1.04])
    fig.update_yaxes(range=[-0.04, 1.04])
    fig.update_layout(legend=dict(orientation="h", y=1.1, x=0))
    return fig


def regularization_path(l2_values: np.ndarray, paths: np.ndarray, names: Sequence[str],
                        l2_now: float):
    """Each item's fitted score as the prior's strength λ shrinks to nothing."""
    fig = new_figure("Weaken the prior: do the scores settle?",
                     "L2 strength λ (log scale; the prior weakens to the right)", "fitted score")
    for i, name in enumerate(names):
        fig.add_scatter(x=l2_values, y=paths[:, i], mode="lines", name=name, line=dict(width=3))
    if l2_now > 0:
        fig.add_vline(x=l2_now, line=dict(color=theme.COLORS["exact"], dash="dot", width=2),
                      annotation_text=f"λ = {l2_now:g}", annotation_position="top")
    fig.update_xaxes(type="log", autorange="reversed")
    fig.update_layout(legend=dict(orientation="h", y=-0.3, x=0))
    return fig


def likelihood_profiles(offsets: np.ndarray, drops: np.ndarray, names: Sequence[str]):
    """ℓ(ŝ + δ·e_k) − ℓ(ŝ) for each item k: a narrow peak is a well-measured score."""
    fig = new_figure("Nudge one score: how fast the fit worsens",
                     "change δ of one score (score units)", "log-likelihood change (nats)")
    for i, name in enumerate(names):
        fig.add_scatter(x=offsets, y=drops[i], mode="lines", name=name, line=dict(width=3))
    fig.update_layout(legend=dict(orientation="h", y=-0.3, x=0))
    return fig


def training_curves(loss: np.ndarray, agreement: np.ndarray):
    """The reward model's loss per gradient step beside the share of judgements it reproduces."""
    steps = np.arange(loss.size)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
        "Loss −mean log σ(r_w − r_l) (nats)", "Your judgements it reproduces"))
    fig.add_scatter(x=steps, y=loss, mode="lines", name="training loss",
                    line=dict(color=theme.COLORS["policy"], width=3), row=1, col=1)
    fig.add_hline(y=np.log(2), line=dict(color=theme.COLORS["reference"], dash="dash", width=2),
                  annotation_text="ln 2: no preference yet", annotation_position="bottom right",
                  row=1, col=1)
    fig.add_scatter(x=steps, y=100 * agreement, mode="lines", name="judgements reproduced",
                    line=dict(color=theme.COLORS["chosen"], width=3, shape="hv"), row=1, col=2)
    fig.update_xaxes(title_text="gradient step")
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_yaxes(range=[-3, 103], ticksuffix=" %", row=1, col=2)
    fig.update_layout(title="Training the reward model on your choices", showlegend=False,
                      height=340)
    return fig


def feature_weights(features: Sequence[str], weights: np.ndarray):
    """What the reward model learned to value: one weight per (standardised) feature."""
    colors = [theme.COLORS["chosen"] if w >= 0 else theme.COLORS["rejected"] for w in weights]
    fig = new_figure("What it learned to reward", "reward per standard deviation of the feature",
                     "")
    fig.add_bar(y=list(features), x=weights, orientation="h", marker_color=colors,
                text=[f"{w:+.2f}" for w in weights], textposition="outside", cliponaxis=False,
                showlegend=False)
    fig.add_vline(x=0, line=dict(color=theme.COLORS["exact"], width=1))
    fig.update_xaxes(range=_padded_range(weights))
    fig.update_yaxes(autorange="reversed")
    return fig


def _padded_range(values: np.ndarray) -> list[float]:
    """An x range around 0 with room for the value labels outside the bars."""
    low, high = min(float(np.min(values)), 0.0), max(float(np.max(values)), 0.0)
    pad = 0.3 * max(high - low, 1e-9)
    return [low - (pad if low < 0 else 0.05 * pad), high + (pad if high > 0 else 0.05 * pad)]


def reward_ranking(labels: Sequence[str], rewards: np.ndarray):
    """Every reply's reward, best at the top: the ranking the reward model would hand to RLHF."""
    order = np.argsort(-rewards, kind="stable")
    fig = new_figure("All six replies, ranked by the learned reward", "reward r(y) = w·φ(y)", "")
    fig.add_bar(y=[labels[i] for i in order], x=rewards[order], orientation="h",
                marker_color=theme.COLORS["policy"], text=[fmt(r, 2) for r in rewards[order]],
                textposition="outside", cliponaxis=False, showlegend=False)
    fig.add_vline(x=0, line=dict(color=theme.COLORS["exact"], width=1))
    fig.update_xaxes(range=_padded_range(rewards))
    fig.update_yaxes(autorange="reversed")
    return fig
