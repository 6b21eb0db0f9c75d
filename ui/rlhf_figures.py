"""Figures for the RLHF lesson: the pipeline and the models it holds, the reward model's training
and its view of every reply, the KL-regularised optimum as β slides, a PPO run and its
per-token reward, and the over-optimisation picture (proxy against true reward over KL).

The explorables (`ui.explorable`): the optimum π*_β over a grid of β, and replays of the
training runs (the reward model step by step, PPO iteration by iteration). Their values come
from the page, computed by the lessons; these builders only lay them out. Every figure is
built from plain trace and layout dicts, at most two panels, every number through `compact`.

Colours keep their course-wide meaning: pink = the policy being trained, grey = the frozen
reference, green = the (true) reward people would give, sky = an estimate (the reward model's
proxy score), black = an exact value or limit, yellow = the learner's current point.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import explorable, theme
from ui.explorable import compact
from ui.figures import fmt, thin

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
# Explorables have fixed axis ranges, so the axes stay still while the values move, and write
# their numbers in lines of at most about 40 characters: on a phone the plot, and the numbers
# above it, are about 300 pixels wide.
EXPLORABLE_MARGIN = dict(l=60, r=16, t=56, b=10)
# When a frame changes a bar trace, plotly redraws only the bar traces the frame holds and
# drops the others from the plot: the frames of a chart with bars carry its π_ref bars too.


def _range(values, pad: float = 0.08, head: float = 0.0) -> list[float]:
    """An axis range around the finite values, with ``pad`` of their span on both sides and
    ``head`` more on top (room for a legend)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    lo, hi = float(finite.min()), float(finite.max())
    span = hi - lo if hi > lo else 1.0
    return [lo - pad * span, hi + (pad + head) * span]


def _axis(title: str, standoff: int | None = None, **extra) -> dict:
    return dict(title=dict(text=title) | ({} if standoff is None else {"standoff": standoff}),
                **extra)


def _title(text: str) -> dict:
    """A title held at the top of the figure: an explorable's numbers go between it and
    the plot, in a top margin that grows with them."""
    return dict(text=text, yref="container", y=1, yanchor="top", pad=dict(t=14))


def _number(value: float, digits: int = 3) -> str:
    """-0.96 as −0.960: a number with a real minus sign."""
    return f"{value:.{digits}f}".replace("-", "−")


def _line(x, y, name: str, color: str, dash: str = "solid", axes: str = "xy",
          width: float = 3, mode: str = "lines", **extra) -> dict:
    """A line trace on the axes ``axes`` ("xy", "x2y2", "xy3")."""
    xaxis, yaxis = axes[:axes.index("y")], axes[axes.index("y"):]
    return dict(type="scatter", x=compact(x), y=compact(y), mode=mode, name=name,
                line=dict(color=color, width=width, dash=dash), xaxis=xaxis, yaxis=yaxis,
                **extra)


def points(value: float) -> str:
    """+1.25, −0.50: a reward with two decimals and a real minus sign."""
    return f"{value:+.2f}".replace("-", "−")


def _swatches(items: Sequence[tuple[str, str]]) -> str:
    """A legend written as text: a coloured square before each name."""
    return " ".join(f"<span style='color:{color}'>■</span> {name}" for name, color in items)


# 1. The pipeline


def pipeline(stages: Sequence[dict], highlight: int) -> go.Figure:
    """The RLHF pipeline as boxes from top to bottom, each with chips beside it for the models
    it holds. Stacked, so that the same figure reads on a phone (about 360 pixels wide) and on
    a projector: text keeps its size in pixels while the width changes, so every box and chip
    is sized for the narrow screen.

    stages: dicts with "name", "does" (a short line) and "models": a list of (model, trains)
    with model one of MODEL_COLORS; a training model is a filled chip, a frozen one an outline.
    highlight: the index of the stage to outline and fill in yellow.
    """
    box_x, chip_x = (0.0, 0.46), (0.52, 1.0)  # fractions of the width: boxes left, chips right
    box_h, chip_h, chip_gap, row_gap = 0.9, 0.3, 0.06, 0.4  # in rows of about 80 pixels
    shapes, annotations = [], []
    top = 0.0
    for i, stage in enumerate(stages):
        models = stage["models"]
        chips = len(models) * (chip_h + chip_gap) - chip_gap
        height = max(box_h, chips)
        y0 = top - (height - box_h) / 2  # the box and its chips centred on each other
        chips_top = top - (height - chips) / 2
        picked = i == highlight
        shapes.append(dict(
            type="rect", x0=box_x[0], x1=box_x[1], y0=y0 - box_h, y1=y0, xref="x", yref="y",
            line=dict(color=EXACT if picked else REFERENCE, width=4 if picked else 1.5),
            fillcolor=theme.COLORS["highlight"] if picked else "#F4F6F9", layer="below"))
        annotations.append(dict(
            x=sum(box_x) / 2, y=y0 - box_h / 2, xref="x", yref="y", showarrow=False,
            text=f"<b>{i + 1}. {stage['name']}</b><br><span style='font-size:12px'>"
            f"{stage['does']}</span>", font=dict(size=14)))
        for k, (model, trains) in enumerate(models):
            y1 = chips_top - k * (chip_h + chip_gap)
            color = MODEL_COLORS[model]
            shapes.append(dict(
                type="rect", x0=chip_x[0], x1=chip_x[1], y0=y1 - chip_h, y1=y1, xref="x",
                yref="y", line=dict(color=color, width=2.5),
                fillcolor=color if trains else "white"))
            annotations.append(dict(
                x=sum(chip_x) / 2, y=y1 - chip_h / 2, xref="x", yref="y", showarrow=False,
                text=f"{model} · {'trains' if trains else 'frozen'}",
                font=dict(size=13, color=theme.text_on(color) if trains else EXACT)))
        bottom = top - height
        if i < len(stages) - 1:
            arrow_x = sum(box_x) / 2
            annotations.append(dict(x=arrow_x, y=bottom - row_gap + 0.04, ax=arrow_x,
                                    ay=y0 - box_h - 0.04, xref="x", yref="y", axref="x",
                                    ayref="y", text="", showarrow=True, arrowhead=2,
                                    arrowsize=1.4, arrowwidth=2, arrowcolor=EXACT))
        top = bottom - row_gap
    bottom = top + row_gap
    annotations.append(dict(x=chip_x[0], y=0.02 - (box_h - chip_h) / 2, xref="x", yref="y",
                            xanchor="left",
                            yanchor="bottom", text="in memory:", showarrow=False,
                            font=dict(size=12, color=REFERENCE)))
    layout = dict(
        title=dict(text="The RLHF pipeline, stage by stage"),
        xaxis=dict(visible=False, range=[-0.01, 1.01], fixedrange=True),
        yaxis=dict(visible=False, range=[bottom - 0.05, 0.05], fixedrange=True),
        shapes=shapes, annotations=annotations, showlegend=False,
        height=int(66 + 80 * (0.1 - bottom)), margin=dict(l=10, r=10, t=56, b=10),
    )
    return go.Figure(data=[], layout=layout)


# 2. The reward model


def reward_model_replay(history: dict, steps: np.ndarray, held_out_loss: np.ndarray,
                        accuracy: np.ndarray, label_accuracy: float) -> dict:
    """The reward model's training replayed, gradient step by gradient step. Top: the
    Bradley–Terry loss on its training pairs (from the history, every step) and on held-out
    pairs; bottom: the share of its training pairs it orders as they were labelled (history),
    and of new pairs it orders as the hidden reward does, against the annotator's own labels.

    steps (c,): the gradient steps the replay stops at (its frames); held_out_loss and
    accuracy (c,): the model's held-out loss and exact ranking accuracy at those steps.
    An explorable over the steps, with play.
    """
    step, loss = np.asarray(history["step"]), np.asarray(history["loss"])
    agree, accuracy = 100 * np.asarray(history["accuracy"]), 100 * np.asarray(accuracy)
    held_out_loss = np.asarray(held_out_loss)
    idx = thin(step.size, 100)
    top = max(float(np.max(loss)), float(np.max(held_out_loss)), float(np.log(2)))
    x_range = [-0.02 * step[-1], 1.02 * step[-1]]
    # The legend has a band of its own between the panels: on a phone its five entries take
    # five rows, and inside either panel they would cover the curves' first steps.
    layout = dict(
        title=_title("The reward model learning from its pairs"),
        xaxis=_axis("", domain=[0, 1], anchor="y", range=x_range, showticklabels=False),
        yaxis=_axis("loss (nats)", domain=[0.63, 1], anchor="x", range=[0, 1.15 * top]),
        xaxis2=_axis("gradient step", standoff=4, domain=[0, 1], anchor="y2", range=x_range),
        yaxis2=_axis("pairs ranked right (%)", domain=[0, 0.35], anchor="x2", range=[0, 105]),
        showlegend=True, legend=dict(orientation="h", x=0, xanchor="left", y=0.6,
                                     yanchor="top"),
        height=620, margin=EXPLORABLE_MARGIN,
        shapes=[dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=np.log(2),
                     y1=np.log(2), line=dict(color=REFERENCE, dash="dash", width=2))],
        annotations=[dict(x=1, y=np.log(2), xref="x domain", yref="y", xanchor="right",
                          yanchor="bottom", yshift=3, text="ln 2: no preference yet",
                          showarrow=False, font=dict(color=REFERENCE))])
    data = [
        _line(step[idx], loss[idx], "loss: training pairs", PROXY,
              hovertemplate="step %{x}: %{y:.3f} nats<extra>training pairs</extra>"),
        _line(steps, held_out_loss, "loss: held-out pairs", EXACT, dash="dash",
              hovertemplate="step %{x}: %{y:.3f} nats<extra>held-out pairs</extra>"),
        _line(step[idx], agree[idx], "ranked as labelled: training pairs", PROXY, dash="dot",
              axes="x2y2", hovertemplate="step %{x}: %{y:.1f} %<extra>training pairs</extra>"),
        _line(steps, accuracy, "ranked as the hidden reward: new pairs", TRUE, axes="x2y2",
              hovertemplate="step %{x}: %{y:.1f} %<extra>new pairs</extra>"),
        _line(x_range, [100 * label_accuracy] * 2,
              f"the annotator's own labels: {100 * label_accuracy:.1f} %", REFERENCE,
              dash="dash", width=2, axes="x2y2", hoverinfo="skip"),
    ]
    frames, notes = [], []
    for k, s in enumerate(steps):
        keep = np.union1d(idx[step[idx] <= s], [s])
        frames.append([dict(x=compact(step[keep]), y=compact(loss[keep])),
                       dict(x=compact(steps[:k + 1]), y=compact(held_out_loss[:k + 1])),
                       dict(x=compact(step[keep]), y=compact(agree[keep])),
                       dict(x=compact(steps[:k + 1]), y=compact(accuracy[:k + 1]))])
        notes.append(f"Step {int(s)}: loss {loss[s]:.3f} on training pairs,<br>"
                     f"{held_out_loss[k]:.3f} on held-out pairs; ranked right:<br>"
                     f"{agree[s]:.1f} % of training, {accuracy[k]:.1f} % of new pairs")
    return explorable.build(dict(data=data, layout=layout), values=[int(s) for s in steps],
                            label="step", frames=frames, changing=[0, 1, 2, 3],
                            notes=notes, play=True, frame_ms=120)


def learned_vs_true(true: np.ndarray, learned: np.ndarray, texts: Sequence[str],
                    repeats: np.ndarray) -> go.Figure:
    """The reward model's score against the hidden reward, one point per reply; replies that
    say a word twice (the model's blind spot) in red-orange."""
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


def optimum_explorable(labels: Sequence[str], ref: np.ndarray, betas: np.ndarray,
                       stars: np.ndarray, numbers: dict, sweep: dict) -> dict:
    """π*_β against π_ref for a handful of replies as β slides (top), and where π*_β lands in
    expected reward and KL, on the curve of every β from β → 0 to β → ∞ (bottom).

    betas (m,): the grid (the frames); stars (m, n): π*_β at each; numbers: (m,) arrays
    "z", "expected_reward", "kl", "objective" at each; sweep: lessons.rlhf.beta_sweep over a
    wider range of β, for the curve. An explorable over β.
    """
    reward, kl = numbers["expected_reward"], numbers["kl"]
    low, high = float(np.min(sweep["expected_reward"])), float(np.max(sweep["expected_reward"]))
    kl_top = float(np.max(sweep["kl"]))
    layout = dict(
        title=_title("The best policy π*_β as β slides"),
        # A standoff past the third line of "really / great. / r = +3": plotly spaces the
        # title for the two lines of the other replies and would run it into that one.
        xaxis=_axis("reply and its true reward", standoff=18, domain=[0, 1], anchor="y"),
        yaxis=_axis("probability", domain=[0.6, 1], anchor="x", range=[0, 1.04]),
        xaxis2=_axis("KL(π*‖π_ref) (nats)", standoff=4, domain=[0, 1], anchor="y2",
                     range=[-0.05 * kl_top, 1.1 * kl_top]),
        yaxis2=_axis("E[r] (points)", domain=[0, 0.34], anchor="x2",
                     range=_range([low, high], pad=0.12)),
        barmode="group", showlegend=True,
        legend=dict(orientation="h", x=0.5, xanchor="center", y=1, yanchor="top"),
        height=520, margin=EXPLORABLE_MARGIN,
        annotations=[
            dict(x=float(sweep["kl"][-1]), y=float(sweep["expected_reward"][-1]), xref="x2",
                 yref="y2", text="β → ∞: π_ref", showarrow=True, arrowhead=0, ax=36, ay=-4,
                 xanchor="left"),
            # Under the curve's end, in the empty corner of high KL and low reward: beside the
            # end it would lie on the curve on a phone.
            dict(x=float(sweep["kl"][0]), y=float(sweep["expected_reward"][0]), xref="x2",
                 yref="y2", text="β → 0:<br>the best reply", showarrow=True, arrowhead=0,
                 ax=0, ay=30, xanchor="right", yanchor="top", align="right")])
    data = [
        dict(type="bar", x=list(labels), y=compact(ref), name="π_ref",
             marker=dict(color=REFERENCE), hovertemplate="π_ref %{y:.3f}<extra></extra>"),
        dict(type="bar", x=list(labels), y=compact(stars[0]), name="π*_β",
             marker=dict(color=POLICY), hovertemplate="π* %{y:.3f}<extra></extra>"),
        _line(sweep["kl"], sweep["expected_reward"], "π*_β for every β", TRUE, axes="x2y2",
              showlegend=False, customdata=compact(sweep["beta"]),
              hovertemplate="β = %{customdata:.3g}: KL %{x:.3f} nats, E[r] %{y:.3f}"
              "<extra></extra>"),
        dict(type="scatter", x=compact(kl[:1]), y=compact(reward[:1]), mode="markers",
             marker=POINT, xaxis="x2", yaxis="y2", showlegend=False, hoverinfo="skip"),
    ]
    frames, notes = [], []
    for k, beta in enumerate(betas):
        frames.append([dict(y=compact(ref)), dict(y=compact(stars[k])),
                       dict(x=compact(kl[k:k + 1]), y=compact(reward[k:k + 1]))])
        notes.append(f"β = {beta:g}: Z = Σ π_ref·e^(r/β) = {fmt(numbers['z'][k])}<br>best "
                     f"objective β·log Z = {fmt(numbers['objective'][k])}<br>E[r] = "
                     f"{reward[k]:.3f} points, KL = {kl[k]:.3f} nats")
    return explorable.build(dict(data=data, layout=layout), values=[float(b) for b in betas],
                            label="β", frames=frames, changing=[0, 1, 3], notes=notes)


# 4. PPO fine-tuning


def ppo_replay(history: dict, steps: np.ndarray, texts: Sequence[str], ref: np.ndarray,
               probs: np.ndarray, leaders: Sequence[tuple[str, float]], prompt: str) -> dict:
    """A PPO run replayed iteration by iteration. Top: the reward model's score (what PPO
    maximises), the true reward and KL(π_θ‖π_ref) (right axis) over the whole run, a marker
    on each at the frame's iteration; bottom: a few replies to one prompt, their probability
    under π_ref and under the policy at that iteration.

    steps (c,): the iterations kept (the frames); texts (n,), ref (n,), probs (c, n): the
    replies shown and their probabilities; leaders: per frame, the prompt's most likely reply
    and its probability. An explorable over the iterations, with play.
    """
    step = np.asarray(history["step"])
    score, true, kl = (np.asarray(history[key]) for key in ("score", "true_reward", "kl"))
    ends = [-0.02 * step[-1], 1.02 * step[-1]]
    top = float(max(np.max(probs), np.max(ref)))
    layout = dict(
        title=_title("PPO fine-tuning, iteration by iteration"),
        xaxis=_axis("PPO iteration", domain=[0, 1], anchor="y", range=ends),
        yaxis=_axis("expected reward (points)", domain=[0.6, 1], anchor="x",
                    range=_range(np.concatenate([score, true]), head=0.6)),
        yaxis3=_axis("KL (nats)", standoff=6, overlaying="y", side="right", anchor="x",
                     range=[0, 1.08 * 1.6 * max(float(np.max(kl)), 0.05)], showgrid=False,
                     tickmode="auto", nticks=5),
        # The replies' names sit left of their bars, inside the figure's width (not in a wide
        # margin), so the numbers above the plot keep the full width on a phone.
        xaxis2=_axis("probability: " + _swatches((("π_ref", REFERENCE),
                                                  ("the policy", POLICY))),
                     standoff=4, domain=[0.25, 1], anchor="y2", range=[0, 1.1 * top]),
        # A standoff of its own: with presenter mode's larger labels the title ran into them
        yaxis2=_axis("reply", standoff=12, domain=[0, 0.4], anchor="x2", autorange="reversed",
                     ticks=""),
        barmode="group", showlegend=True, height=620,
        legend=dict(orientation="h", x=0, xanchor="left", y=1, yanchor="top"),
        margin=dict(EXPLORABLE_MARGIN, r=46),
        annotations=[dict(x=0, y=1, xref="x domain", yref="y2 domain", xanchor="left",
                          yanchor="bottom", yshift=4, showarrow=False, align="left",
                          text=f"Replies to “{prompt}”")])
    data = [
        _line(step, score, "reward model's score", PROXY,
              hovertemplate="iteration %{x}: score %{y:.3f}<extra></extra>"),
        _line(step, true, "true reward", TRUE,
              hovertemplate="iteration %{x}: true %{y:.3f}<extra></extra>"),
        _line(step, kl, "KL (right axis)", POLICY, dash="dot", axes="xy3",
              hovertemplate="iteration %{x}: KL %{y:.3f} nats<extra></extra>"),
        dict(type="scatter", x=[0, 0], y=[None, None], mode="markers", xaxis="x", yaxis="y",
             marker=dict(size=12, color=[PROXY, TRUE], line=dict(color=EXACT, width=2)),
             showlegend=False, hoverinfo="skip"),
        dict(type="scatter", x=[0], y=[None], mode="markers", xaxis="x", yaxis="y3",
             marker=dict(size=12, color=POLICY, line=dict(color=EXACT, width=2)),
             showlegend=False, hoverinfo="skip"),
        dict(type="bar", orientation="h", y=list(texts), x=compact(ref), name="π_ref",
             marker=dict(color=REFERENCE), xaxis="x2", yaxis="y2", showlegend=False,
             hovertemplate="%{y}: π_ref %{x:.3f}<extra></extra>"),
        dict(type="bar", orientation="h", y=list(texts), x=compact(probs[0]),
             name="the policy", marker=dict(color=POLICY), xaxis="x2", yaxis="y2",
             showlegend=False, hovertemplate="%{y}: policy %{x:.3f}<extra></extra>"),
    ]
    frames, notes = [], []
    for k, s in enumerate(steps):
        frames.append([dict(x=[int(s)] * 2, y=compact([score[s], true[s]])),
                       dict(x=[int(s)], y=compact([kl[s]])),
                       dict(x=compact(ref)), dict(x=compact(probs[k]))])
        text, p = leaders[k]
        notes.append(f"Iteration {int(s)} · reward model's score {_number(score[s])}<br>"
                     f"true reward {_number(true[s])} · KL {kl[s]:.3f} nats<br>"
                     f"top reply “{text}” ({p:.2f})")
    spec = explorable.build(dict(data=data, layout=layout), values=[int(s) for s in steps],
                            label="iteration", frames=frames, changing=[3, 4, 5, 6],
                            notes=notes, play=True)
    return spec


def token_rewards(tokens: Sequence[str], penalty: np.ndarray, score: np.ndarray,
                  total: float, estimator: str) -> go.Figure:
    """The per-token reward of one sampled reply: −β·k_t at every token (pink) and the
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


def overoptimisation_replay(history: dict, frontier: dict, beta: float,
                            leaders: Sequence[tuple[str, float, float, float]]) -> dict:
    """Proxy and true reward against KL(π‖π_ref), the PPO run replayed iteration by iteration:
    its two curves drawn up to the frame's iteration (one dot per iteration, moving right as
    the policy drifts), the best true reward so far marked, and the exact optimum π*_β of the
    proxy for every β as thin dashed lines.

    frontier: "kl", "proxy", "true" (m,) of the optimum for every β; leaders: per iteration,
    the most likely reply to one prompt, its probability, its proxy score and true reward.
    An explorable over every iteration, with play.
    """
    step = np.asarray(history["step"])
    kl, proxy, true = (np.asarray(history[key]) for key in ("kl", "score", "true_reward"))
    name = f"PPO at β = {beta:g}"
    layout = dict(
        title=_title("Proxy and true reward as KL grows"),
        showlegend=True,
        legend=dict(x=0.01, xanchor="left", y=1, yanchor="top"), height=460,
        margin=EXPLORABLE_MARGIN,
        xaxis=_axis("KL(π_θ‖π_ref) (nats)", standoff=4,
                    range=_range(np.concatenate([kl, frontier["kl"]]), pad=0.04)),
        yaxis=_axis("expected reward (points)", range=_range(np.concatenate(
            [proxy, true, frontier["proxy"], frontier["true"]]), head=0.3)))
    data = [
        _line(frontier["kl"], frontier["proxy"], "π* of the proxy, all β: proxy", PROXY,
              dash="dash", width=1.5,
              hovertemplate="π*: KL %{x:.2f}, proxy %{y:.2f}<extra></extra>"),
        _line(frontier["kl"], frontier["true"], "π* of the proxy, all β: true", TRUE,
              dash="dash", width=1.5,
              hovertemplate="π*: KL %{x:.2f}, true %{y:.2f}<extra></extra>"),
        _line(kl, proxy, f"{name}: proxy", PROXY, mode="lines+markers", marker=dict(size=5),
              hovertemplate="KL %{x:.2f}, proxy %{y:.2f}<extra></extra>"),
        _line(kl, true, f"{name}: true", TRUE, mode="lines+markers", marker=dict(size=5),
              hovertemplate="KL %{x:.2f}, true %{y:.2f}<extra></extra>"),
        dict(type="scatter", x=[None] * 2, y=[None] * 2, mode="markers", showlegend=False,
             marker=dict(size=13, color=[PROXY, TRUE], line=dict(color=EXACT, width=2)),
             hoverinfo="skip"),
        # The best point's value is in the note: a label beside it lay on the curves on a phone
        dict(type="scatter", x=[None], y=[None], mode="markers", marker=POINT,
             hoverinfo="skip", showlegend=False),
    ]
    frames, notes = [], []
    for s in step:
        upto = slice(0, s + 1)
        best = int(np.nanargmax(true[upto]))
        text, p, score, reward = leaders[s]
        frames.append([dict(x=compact(kl[upto]), y=compact(proxy[upto])),
                       dict(x=compact(kl[upto]), y=compact(true[upto])),
                       dict(x=compact([kl[s]] * 2), y=compact([proxy[s], true[s]])),
                       dict(x=compact([kl[best]]), y=compact([true[best]]))])
        notes.append(f"Iteration {int(s)}: proxy {_number(proxy[s], 2)}, true "
                     f"{_number(true[s], 2)}<br>KL {kl[s]:.2f} nats · best true so far "
                     f"{_number(true[best], 2)}<br>top reply “{text}” ({p:.2f})<br>reward model "
                     f"{points(score)}, reader {points(reward)}")
    return explorable.build(dict(data=data, layout=layout), values=[int(s) for s in step],
                            label="iteration", frames=frames, changing=[2, 3, 4, 5],
                            notes=notes, play=True)
