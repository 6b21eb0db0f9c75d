"""Figures for the RLHF lesson: the pipeline and the models it holds, the reward model's training
and its view of every reply, the KL-regularised optimum and its β sweep, PPO's training curves
and per-token reward, and the over-optimisation picture (proxy against true reward over KL).

Every figure is built in one go from plain trace and layout dicts: the β slider redraws two of
them, and make_subplots / add_hline would cost tens of milliseconds on every move.

Colours keep their course-wide meaning: purple = the policy being trained, grey = the frozen
reference, green = the (true) reward people would give, sky = an estimate (the reward model's
proxy score), black = an exact value or limit, yellow = the learner's current point.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import theme
from ui.figures import fmt

TRUE = theme.COLORS["chosen"]  # the hidden reward people would give
PROXY = theme.COLORS["estimate"]  # the reward model's score
POLICY = theme.COLORS["policy"]
REFERENCE = theme.COLORS["reference"]
EXACT = theme.COLORS["exact"]
POINT = dict(size=14, color=theme.COLORS["highlight"], line=dict(color=EXACT, width=2))

# The four networks of RLHF, and how each is drawn in the pipeline.
MODEL_COLORS = {
    "policy": POLICY,
    "reference": REFERENCE,
    "reward": TRUE,
    "value": theme.COLORS["Q"],
}


def _layout(title: str, x_title: str, y_title: str, **extra) -> dict:
    layout = dict(title=dict(text=title), xaxis=dict(title=dict(text=x_title)),
                  yaxis=dict(title=dict(text=y_title)), showlegend=False)
    layout.update(extra)
    return layout


def _legend_top() -> dict:
    """A one-line legend between the title and the plot (the top margin makes room)."""
    return dict(orientation="h", y=1.0, x=0, xanchor="left", yanchor="bottom")


LEGEND_MARGIN = dict(l=10, r=10, t=92, b=10)


# 1. The pipeline


def pipeline(stages: Sequence[dict], highlight: int) -> go.Figure:
    """The RLHF pipeline as boxes left to right, each with chips for the models it holds.

    stages: dicts with "name", "does" (a short line) and "models": a list of (model, trains)
    with model one of MODEL_COLORS; a training model is a filled chip, a frozen one an outline.
    highlight: the index of the stage to outline in yellow.
    """
    shapes, annotations = [], []
    width, gap = 1.0, 0.35
    chip_h, chip_gap = 0.34, 0.08
    top = 0.0
    for i, stage in enumerate(stages):
        x0 = i * (width + gap)
        x1 = x0 + width
        picked = i == highlight
        shapes.append(dict(
            type="rect", x0=x0, x1=x1, y0=top - 1.05, y1=top, xref="x", yref="y",
            line=dict(color=EXACT if picked else REFERENCE, width=4 if picked else 1.5),
            fillcolor=theme.COLORS["highlight"] if picked else "#F4F6F9", layer="below"))
        annotations.append(dict(x=(x0 + x1) / 2, y=top - 0.3, xref="x", yref="y",
                                text=f"<b>{i + 1}. {stage['name']}</b>", showarrow=False,
                                font=dict(size=15)))
        annotations.append(dict(x=(x0 + x1) / 2, y=top - 0.72, xref="x", yref="y",
                                text=stage["does"], showarrow=False, font=dict(size=12)))
        if i < len(stages) - 1:
            annotations.append(dict(x=x1 + gap - 0.02, y=top - 0.52, ax=x1 + 0.02,
                                    ay=top - 0.52, xref="x", yref="y", axref="x", ayref="y",
                                    text="", showarrow=True, arrowhead=2, arrowsize=1.4,
                                    arrowwidth=2, arrowcolor=EXACT))
        for k, (model, trains) in enumerate(stage["models"]):
            y1 = top - 1.3 - k * (chip_h + chip_gap)
            color = MODEL_COLORS[model]
            shapes.append(dict(
                type="rect", x0=x0 + 0.06, x1=x1 - 0.06, y0=y1 - chip_h, y1=y1, xref="x",
                yref="y", line=dict(color=color, width=2.5),
                fillcolor=color if trains else "white"))
            annotations.append(dict(
                x=(x0 + x1) / 2, y=y1 - chip_h / 2, xref="x", yref="y", showarrow=False,
                text=f"{model} · {'trains' if trains else 'frozen'}",
                font=dict(size=13, color="white" if trains else EXACT)))
    right = len(stages) * (width + gap) - gap
    deepest = max(len(s["models"]) for s in stages)
    bottom = top - 1.3 - deepest * (chip_h + chip_gap)
    annotations.append(dict(x=-0.02, y=top - 1.17, xref="x", yref="y", xanchor="left",
                            text="in memory:", showarrow=False,
                            font=dict(size=12, color=REFERENCE)))
    layout = dict(
        title=dict(text="From a pretrained model to an aligned one: the RLHF pipeline"),
        xaxis=dict(visible=False, range=[-0.05, right + 0.05], fixedrange=True),
        yaxis=dict(visible=False, range=[bottom - 0.05, top + 0.05], fixedrange=True),
        shapes=shapes, annotations=annotations, showlegend=False, height=420,
        margin=dict(l=10, r=10, t=56, b=10),
    )
    return go.Figure(data=[], layout=layout)


# 2. The reward model


def reward_model_loss(step: np.ndarray, loss: np.ndarray, held_out: float) -> go.Figure:
    """The Bradley–Terry loss of the training pairs over gradient steps; the held-out pairs'
    loss at the end as a point; ln 2 (no preference yet) as a dashed line."""
    data = [
        dict(type="scatter", x=list(step), y=list(loss), mode="lines", name="training pairs",
             line=dict(color=PROXY, width=3),
             hovertemplate="step %{x}: loss %{y:.3f} nats<extra></extra>"),
        dict(type="scatter", x=[int(step[-1])], y=[held_out], mode="markers+text",
             name="held-out pairs", text=[f"held-out {held_out:.3f}"],
             textposition="top left", marker=dict(size=13, color=EXACT, symbol="diamond"),
             hovertemplate="held-out pairs: %{y:.3f} nats<extra></extra>"),
    ]
    top = max(float(np.max(loss)), held_out, np.log(2))
    layout = _layout("The reward model's loss while it trains", "gradient step",
                     "loss −log σ(r_w − r_l) (nats)", showlegend=True, legend=_legend_top(),
                     margin=LEGEND_MARGIN,
                     yaxis=dict(title=dict(text="loss −log σ(r_w − r_l) (nats)"),
                                range=[0, 1.12 * top]))
    layout["shapes"] = [dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=np.log(2),
                             y1=np.log(2), line=dict(color=REFERENCE, dash="dash", width=2))]
    layout["annotations"] = [dict(x=0.45, y=np.log(2), xref="x domain", yref="y",
                                  xanchor="center", yanchor="bottom",
                                  text="ln 2: no preference yet",
                                  showarrow=False, font=dict(color=REFERENCE))]
    return go.Figure(data=data, layout=layout)


def learned_vs_true(true: np.ndarray, learned: np.ndarray, texts: Sequence[str],
                    repeats: np.ndarray) -> go.Figure:
    """The reward model's score against the hidden reward, one point per reply; replies that
    say a word twice (the model's blind spot) in vermillion."""
    data = []
    for mask, name, color in ((~repeats, "no word said twice", PROXY),
                              (repeats, "a word said twice", theme.COLORS["rejected"])):
        idx = np.flatnonzero(mask)
        data.append(dict(
            type="scatter", mode="markers", name=name, x=list(true[idx]),
            y=list(learned[idx]), text=[texts[i] for i in idx],
            marker=dict(size=8, color=color, opacity=0.75),
            hovertemplate="<b>%{text}</b><br>true %{x:g}, reward model %{y:.2f}<extra></extra>"))
    layout = _layout("What the reward model thinks of every reply", "true reward r (points)",
                     "reward model's score r_φ (points)", showlegend=True, legend=_legend_top(),
                     margin=LEGEND_MARGIN, height=420)
    return go.Figure(data=data, layout=layout)


# 3. The objective and its closed-form optimum


def optimum_bars(texts: Sequence[str], ref: np.ndarray, star: np.ndarray,
                 beta: float) -> go.Figure:
    """π_ref (grey) and π* at this β (purple) for a handful of replies."""
    data = [
        dict(type="bar", x=list(texts), y=list(ref), name="π_ref", marker=dict(color=REFERENCE),
             hovertemplate="%{x}: π_ref %{y:.3f}<extra></extra>"),
        dict(type="bar", x=list(texts), y=list(star), name=f"π* at β = {beta:g}",
             marker=dict(color=POLICY),
             hovertemplate="%{x}: π* %{y:.3f}<extra></extra>"),
    ]
    # Fixed margins instead of automargin: the β slider redraws this chart, and measuring the
    # labels to fit the margins costs a second layout pass on every redraw.
    layout = _layout(f"The best policy at β = {beta:g}", "reply and its true reward",
                     "probability", barmode="group", showlegend=True, legend=_legend_top(),
                     xaxis=dict(title=dict(text="reply and its true reward"), automargin=False),
                     yaxis=dict(title=dict(text="probability"), range=[0, 1.02],
                                automargin=False),
                     margin=dict(l=64, r=10, t=92, b=84))
    return go.Figure(data=data, layout=layout)


def beta_sweep(betas: np.ndarray, reward: np.ndarray, kl: np.ndarray, beta: float,
               reward_now: float, kl_now: float) -> go.Figure:
    """Where π*_β lands for every β: its KL(π*‖π_ref) across, its E[r] up, one point per β from
    β → ∞ (π_ref, bottom left) to β → 0 (the best reply, top right); the current β marked."""
    data = [
        dict(type="scatter", x=list(kl), y=list(reward), mode="lines",
             line=dict(color=TRUE, width=3), customdata=list(betas),
             hovertemplate="β = %{customdata:.3g}: KL %{x:.3f} nats, E[r] %{y:.3f}"
             "<extra></extra>"),
        dict(type="scatter", x=[kl_now], y=[reward_now], mode="markers", marker=POINT,
             hoverinfo="skip"),
    ]
    # Fixed ranges and margins: this chart is redrawn on every move of the β slider.
    kl_top, low, high = float(np.max(kl)), float(np.min(reward)), float(np.max(reward))
    pad = 0.08 * (high - low)
    layout = _layout(f"E[r] and KL of π* for every β (yellow: β = {beta:g})",
                     "KL(π*‖π_ref) (nats)", "expected reward E[r] (points)",
                     margin=dict(l=64, r=16, t=56, b=64))
    layout["xaxis"] = dict(title=dict(text="KL(π*‖π_ref) (nats)"), automargin=False,
                           range=[-0.05 * kl_top, 1.08 * kl_top])
    layout["yaxis"] = dict(title=dict(text="expected reward E[r] (points)"), automargin=False,
                           range=[low - pad, high + pad])
    layout["annotations"] = [
        dict(x=float(kl[-1]), y=float(reward[-1]), xref="x", yref="y", text="β → ∞: π_ref",
             showarrow=False, xanchor="left", yanchor="middle", xshift=10),
        dict(x=float(kl[0]), y=float(reward[0]), xref="x", yref="y", text="β → 0: the best reply",
             showarrow=False, xanchor="right", yanchor="top", yshift=-6),
    ]
    return go.Figure(data=data, layout=layout)


# 4. PPO fine-tuning


def training_rewards(step: np.ndarray, proxy: np.ndarray, true: np.ndarray) -> go.Figure:
    """The reward model's score (what PPO maximises) and the true reward over PPO iterations."""
    data = [
        dict(type="scatter", x=list(step), y=list(proxy), mode="lines",
             name="reward model's score (proxy)", line=dict(color=PROXY, width=3),
             hovertemplate="iteration %{x}: proxy %{y:.3f}<extra></extra>"),
        dict(type="scatter", x=list(step), y=list(true), mode="lines", name="true reward",
             line=dict(color=TRUE, width=3),
             hovertemplate="iteration %{x}: true %{y:.3f}<extra></extra>"),
    ]
    return go.Figure(data=data, layout=_layout(
        "Expected reward of the policy during PPO", "PPO iteration",
        "expected reward (points)", showlegend=True, legend=_legend_top(), margin=LEGEND_MARGIN))


def training_kl(step: np.ndarray, kl: np.ndarray) -> go.Figure:
    """The exact KL(π_θ‖π_ref) over PPO iterations."""
    data = [dict(type="scatter", x=list(step), y=list(kl), mode="lines",
                 line=dict(color=POLICY, width=3),
                 hovertemplate="iteration %{x}: KL %{y:.3f} nats<extra></extra>")]
    return go.Figure(data=data, layout=_layout(
        "How far the policy moved from π_ref", "PPO iteration", "KL(π_θ‖π_ref) (nats)",
        margin=LEGEND_MARGIN,  # the same plot height as the rewards chart beside it
        yaxis=dict(title=dict(text="KL(π_θ‖π_ref) (nats)"), rangemode="tozero")))


def token_rewards(tokens: Sequence[str], penalty: np.ndarray, score: np.ndarray,
                  total: float, estimator: str) -> go.Figure:
    """The per-token reward of one sampled reply: −β·k_t at every token (purple) and the
    reward model's score at the last one (sky), stacked."""
    labels = [f"{i + 1}. {t}" for i, t in enumerate(tokens)]
    data = [
        dict(type="bar", x=labels, y=list(penalty), name=f"KL penalty −β·{estimator}",
             marker=dict(color=POLICY), text=[f"{v:+.3f}" for v in penalty],
             textposition="outside", cliponaxis=False,
             hovertemplate="%{x}: KL penalty %{y:+.3f}<extra></extra>"),
        dict(type="bar", x=labels, y=list(score), name="reward model's score",
             marker=dict(color=PROXY),
             hovertemplate="%{x}: score %{y:+.3f}<extra></extra>"),
    ]
    values = np.concatenate([penalty, score, penalty + score, [0.0]])
    lo, hi = float(values.min()), float(values.max())
    pad = 0.2 * max(hi - lo, 0.1)
    layout = _layout(f"Reward per token: total R = {fmt(total)}",
                     "token of the sampled reply (in order)", "reward (points)",
                     barmode="relative", showlegend=True, legend=_legend_top(),
                     margin=LEGEND_MARGIN,
                     yaxis=dict(title=dict(text="reward (points)"), range=[lo - pad, hi + pad],
                                zeroline=True, zerolinecolor=EXACT))
    return go.Figure(data=data, layout=layout)


# 5. Over-optimisation


def overoptimisation(kl: np.ndarray, proxy: np.ndarray, true: np.ndarray,
                     frontier_kl: np.ndarray, frontier_proxy: np.ndarray,
                     frontier_true: np.ndarray, peak: int, beta: float) -> go.Figure:
    """Proxy and true reward against KL(π‖π_ref): the PPO run as lines with dots (one per
    iteration), the exact optimum π*_β of the proxy for every β as thin dashed lines; the
    run's best true reward marked."""
    data = [
        dict(type="scatter", x=list(frontier_kl), y=list(frontier_proxy), mode="lines",
             name="π* of the proxy, all β: proxy", line=dict(color=PROXY, width=1.5,
                                                              dash="dash"),
             hovertemplate="π*: KL %{x:.2f}, proxy %{y:.2f}<extra></extra>"),
        dict(type="scatter", x=list(frontier_kl), y=list(frontier_true), mode="lines",
             name="π* of the proxy, all β: true", line=dict(color=TRUE, width=1.5,
                                                             dash="dash"),
             hovertemplate="π*: KL %{x:.2f}, true %{y:.2f}<extra></extra>"),
        dict(type="scatter", x=list(kl), y=list(proxy), mode="lines+markers",
             name=f"PPO at β = {beta:g}: proxy", line=dict(color=PROXY, width=3),
             marker=dict(size=5), customdata=list(range(len(kl))),
             hovertemplate="iteration %{customdata}: KL %{x:.2f}, proxy %{y:.2f}<extra></extra>"),
        dict(type="scatter", x=list(kl), y=list(true), mode="lines+markers",
             name=f"PPO at β = {beta:g}: true", line=dict(color=TRUE, width=3),
             marker=dict(size=5), customdata=list(range(len(kl))),
             hovertemplate="iteration %{customdata}: KL %{x:.2f}, true %{y:.2f}<extra></extra>"),
        dict(type="scatter", x=[kl[peak]], y=[true[peak]], mode="markers+text",
             text=[f"best true reward {true[peak]:.2f}"], textposition="top center",
             marker=POINT, hoverinfo="skip", showlegend=False),
    ]
    layout = _layout("Proxy and true reward as the policy moves away from π_ref",
                     "KL(π_θ‖π_ref) (nats)", "expected reward (points)", showlegend=True,
                     legend=dict(orientation="h", y=-0.2, x=0, yanchor="top"), height=480,
                     margin=dict(l=60, r=10, t=56, b=110))
    return go.Figure(data=data, layout=layout)
