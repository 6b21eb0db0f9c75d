"""Figures for the Bradley–Terry lesson: win probabilities, the softmax and its shift, Elo, fitted
scores with their error bars, and the tiny reward model trained on the learner's own judgements.

The curves a learner explores (one score sliding, the shift c, a rating, Newton's steps, the
reward model's training steps) are explorables: the page computes every frame with
``lessons.bradley_terry`` and these builders pack them with ``ui.explorable.build``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ui import explorable, theme
from ui.explorable import compact
from ui.figures import fmt, hline, label, new_figure, vline

Z95 = 1.96  # a 95 % normal interval is the estimate ± 1.96 standard errors
LN2 = float(np.log(2))  # the reward-model loss before training: every choice a coin flip

# Loses (0) through a coin flip (½, white) to wins (1): the course's rejected and chosen colours.
WIN_SCALE = [[0.0, theme.COLORS["rejected"]], [0.5, "#FFFFFF"], [1.0, theme.COLORS["chosen"]]]


def win_heatmap(names: Sequence[str], probs: np.ndarray) -> dict:
    """P(row beats column) for every pair; the diagonal (an item against itself) is left blank.
    A plain spec: this chart is redrawn whenever a score moves, and plotly's validation of a
    figure object would cost more than drawing it."""
    n = len(names)
    z = np.where(np.eye(n, dtype=bool), np.nan, probs)
    text = [["" if i == j else f"{probs[i, j]:.2f}" for j in range(n)] for i in range(n)]
    data = [dict(
        type="heatmap", x=list(names), y=list(names), z=compact(z), zmin=0, zmax=1,
        colorscale=WIN_SCALE, text=text, texttemplate="%{text}", xgap=2, ygap=2,
        colorbar=dict(title=dict(text="P"), thickness=14, tickvals=[0, 0.5, 1]),
        hovertemplate="P(%{y} beats %{x}) = %{z:.3f}<extra></extra>")]
    # the title at the top of the figure, clear of the column axis's title on a phone
    layout = dict(title=_title("P(row beats column)"), margin=dict(t=120),
                  xaxis=dict(title=dict(text="opponent (column)"), side="top", showgrid=False),
                  yaxis=dict(title=dict(text="reply (row)"), autorange="reversed",
                             showgrid=False))
    return dict(data=data, layout=layout)


# Probability axes keep a strip above 1 for the legend, inside the plot (the slider is below).
PROBABILITY_RANGE = [-0.04, 1.3]
PROBABILITY_TICKS = [0, 0.25, 0.5, 0.75, 1]
TOP_LEGEND = dict(orientation="h", x=1, xanchor="right", y=1, yanchor="top")
POINT = dict(size=15, color=theme.COLORS["highlight"],
             line=dict(color=theme.COLORS["exact"], width=2))


NBSP = "\u00a0"


def _title(text: str) -> dict:
    """A title held at the top of the figure: plotly centres it in the top margin by default,
    and an explorable's margin grows with its note, which would push the title onto the note."""
    return dict(text=text, yref="container", y=1, yanchor="top", pad=dict(t=16))


def _line(*phrases: str) -> str:
    """Phrases of a frame's note joined by " · ", each kept whole when the note wraps."""
    return " · ".join(phrase.replace(" ", NBSP) for phrase in phrases)


def _lines(phrases: Sequence[str], per_line: int) -> str:
    """Phrases ``per_line`` to a line: short lines, so that a phone shows every number (the
    note starts at the plot's left edge, right of the axis labels)."""
    return "<br>".join(_line(*phrases[i:i + per_line])
                       for i in range(0, len(phrases), per_line))


def _side(x: float, middle: float) -> str:
    """Where a moving point's label goes: away from the nearer edge of the plot."""
    return "middle left" if x > middle else "middle right"


def _ratio(x: float) -> str:
    return f"{x:.3g}" if x < 100 else f"{x:,.0f}"


def _odds(p_ab: float, p_ba: float) -> str:
    """The odds for A as 'x : 1' (or '1 : x' when A is the underdog)."""
    if p_ba == 0:
        return "∞ : 1"
    if p_ab == 0:
        return "1 : ∞"
    return f"{_ratio(p_ab / p_ba)} : 1" if p_ab >= p_ba else f"1 : {_ratio(p_ba / p_ab)}"


def win_probability_explorable(scores_a: np.ndarray, p_ab: np.ndarray, p_ba: np.ndarray,
                               score_b: float) -> dict:
    """Reply A's score slides while B's stays put: the point P(A ≻ B) = σ(a − b) runs along
    the logistic curve and P(B ≻ A) mirrors it; the note gives both and the odds. An
    explorable over a (every value of A's score control)."""
    lo, hi = float(scores_a[0]), float(scores_a[-1])
    layout = dict(
        title=_title("From the score gap to a win probability"),
        xaxis=dict(title=dict(text="score of reply A, a (score units)"),
                   range=[lo - 0.2, hi + 0.2]),
        yaxis=dict(title=dict(text="probability"), range=PROBABILITY_RANGE,
                   tickvals=PROBABILITY_TICKS),
        legend=TOP_LEGEND, height=380,
        shapes=[vline(score_b, "reference"), hline(0.5, "muted", dash="dot")],
        # on a phone the label reaches the dashed curve: a white backing keeps it readable
        annotations=[label(score_b, 0.0, f"a = b = {score_b:g}: ½ each", xanchor="left",
                           yanchor="bottom", xshift=4, bgcolor="rgba(255,255,255,0.85)")])
    data = [
        dict(type="scatter", x=compact(scores_a), y=compact(p_ab), mode="lines",
             name="P(A ≻ B) = σ(a − b)", line=dict(color=theme.COLORS["exact"], width=3)),
        dict(type="scatter", x=compact(scores_a), y=compact(p_ba), mode="lines",
             name="P(B ≻ A) = σ(b − a)",
             line=dict(color=theme.COLORS["reference"], width=3, dash="dash")),
        dict(type="scatter", x=[lo, lo], y=[None, None], mode="markers+text", showlegend=False,
             name="at A's score", cliponaxis=False, hoverinfo="skip",
             marker=dict(size=[16, 11], color=[theme.COLORS["highlight"], "white"],
                         line=dict(color=[theme.COLORS["exact"], theme.COLORS["reference"]],
                                   width=2))),
    ]
    frames, notes = [], []
    for a, ab, ba in zip(scores_a, p_ab, p_ba, strict=True):
        frames.append([dict(x=[float(a)] * 2, y=compact([ab, ba]),
                            text=[f" {ab:.3f} ", f" {ba:.3f} "],
                            textposition=_side(a, (lo + hi) / 2))])
        notes.append(_lines([f"a = {a:.1f}, b = {score_b:.1f}",
                             f"gap a − b = {a - score_b + 0.0:+.1f}", f"P(A ≻ B) = {ab:.3f}",
                             f"P(B ≻ A) = {ba:.3f}", f"odds for A {_odds(ab, ba)}"], 2))
    return explorable.build(dict(data=data, layout=layout), [float(a) for a in scores_a],
                            "score of A, a", frames, changing=[2], notes=notes,
                            value_text=[f"{a:.1f}" for a in scores_a])


def shift_explorable(shifts: np.ndarray, softmax: np.ndarray, sigmoid: float,
                     strength_a: np.ndarray, strength_b: np.ndarray, a: float,
                     b: float) -> dict:
    """Add the same c to both scores: their strengths e^(a+c) and e^(b+c) grow or shrink by
    the factor e^c (bottom, log scale) while softmax(a + c, b + c)₁ stays on σ(a − b) (top).
    An explorable over c (every value of the shift control); both panels share the c axis."""
    lo, hi = float(shifts[0]), float(shifts[-1])
    layout = dict(
        title=_title("Add c to both: the probability stays"),
        xaxis=dict(anchor="y2", domain=[0, 1], range=[lo - 0.4, hi + 0.4],
                   title=dict(text="shift c added to both scores (score units)")),
        yaxis=dict(domain=[0.56, 1], anchor="x", title=dict(text="P(A ≻ B)"),
                   range=PROBABILITY_RANGE, tickvals=[0, 0.5, 1]),
        yaxis2=dict(domain=[0, 0.44], anchor="x", type="log", exponentformat="power",
                    title=dict(text="strength e^score (log)")),
        legend=TOP_LEGEND,
        legend2=dict(x=0.01, xanchor="left", y=0.44, yanchor="top",
                     bgcolor="rgba(255,255,255,0.7)"),
        height=560)
    data = [
        dict(type="scatter", x=compact(shifts), y=compact(softmax), mode="lines",
             name="softmax(a + c, b + c)₁", line=dict(color=theme.COLORS["estimate"], width=7)),
        dict(type="scatter", x=[lo, hi], y=compact([sigmoid, sigmoid]), mode="lines",
             name="σ(a − b)", line=dict(color=theme.COLORS["exact"], width=2, dash="dot")),
        dict(type="scatter", x=[lo], y=[None], mode="markers", marker=POINT, showlegend=False,
             name="at c", hoverinfo="skip"),
        dict(type="scatter", x=compact(shifts), y=compact(strength_a), mode="lines",
             name="e^(a + c)", yaxis="y2", legend="legend2",
             line=dict(color=theme.COLORS["exact"], width=3)),
        dict(type="scatter", x=compact(shifts), y=compact(strength_b), mode="lines",
             name="e^(b + c)", yaxis="y2", legend="legend2",
             line=dict(color=theme.COLORS["reference"], width=3, dash="dash")),
        dict(type="scatter", x=[lo, lo], y=[None, None], mode="markers", yaxis="y2",
             showlegend=False, name="at c", cliponaxis=False, hoverinfo="skip",
             marker={**POINT, "size": 12}),
    ]
    frames, notes = [], []
    for c, p, sa, sb in zip(shifts, softmax, strength_a, strength_b, strict=True):
        # the strengths are in the note: labels beside the two close points would sit on the
        # other line on a phone
        frames.append([dict(x=[float(c)], y=compact([p])),
                       dict(x=[float(c)] * 2, y=compact([sa, sb]))])
        notes.append(_line(f"c = {c + 0.0:g}: a + c = {a + c:.1f}, b + c = {b + c:.1f}")
                     + "<br>" + _line(f"e^(a+c) = {sa:.4g}", f"e^(b+c) = {sb:.4g}")
                     + "<br>" + _line(f"softmax₁ = {p:.6f}", f"σ(a − b) = {sigmoid:.6f}"))
    return explorable.build(dict(data=data, layout=layout), [float(c) for c in shifts],
                            "shift c", frames, changing=[2, 5], notes=notes)


def elo_explorable(ratings_a: np.ndarray, rating_b: float, gaps: np.ndarray,
                   curve: np.ndarray, expected: np.ndarray, score_gaps: np.ndarray,
                   after_win: np.ndarray, after_loss: np.ndarray) -> dict:
    """Player A's rating slides while B's stays: the rating gap runs along Elo's expected-score
    curve; the note gives the gap in score units and A's rating after a win or a loss. An
    explorable over A's rating."""
    layout = dict(
        title=_title("Elo is Bradley–Terry on a 400-point scale"),
        xaxis=dict(title=dict(text="rating gap R_A − R_B (Elo points)"),
                   range=[float(gaps[0]) - 40, float(gaps[-1]) + 40]),
        yaxis=dict(title=dict(text="expected score of A"), range=PROBABILITY_RANGE,
                   tickvals=PROBABILITY_TICKS),
        legend=TOP_LEGEND, height=380,
        shapes=[hline(0.5, "muted", dash="dot"), vline(0.0, "reference")])
    data = [
        dict(type="scatter", x=compact(gaps), y=compact(curve), mode="lines",
             name="E_A = 1 / (1 + 10^(−gap/400))",
             line=dict(color=theme.COLORS["exact"], width=3)),
        dict(type="scatter", x=[float(gaps[0])], y=[None], mode="markers+text",
             name="your two players", marker=POINT, cliponaxis=False, hoverinfo="skip"),
    ]
    middle = (float(gaps[0]) + float(gaps[-1])) / 2
    frames, notes = [], []
    for ra, e, s, win, loss in zip(ratings_a, expected, score_gaps, after_win, after_loss,
                                   strict=True):
        gap = float(ra - rating_b)
        frames.append([dict(x=[gap], y=compact([e]), text=[f" {e:.3f} "],
                            textposition=_side(gap, middle))])
        notes.append(_line(f"R_A {ra:g}, R_B {rating_b:g}: expected score {e:.3f}")
                     + "<br>" + _line(f"gap {gap + 0.0:+g} points = {s + 0.0:+.3f} score units")
                     + "<br>" + _line(f"after a win A has {win:.1f}, a loss {loss:.1f}"))
    return explorable.build(dict(data=data, layout=layout), [float(r) for r in ratings_a],
                            "rating of A", frames, changing=[1], notes=notes,
                            value_text=[f"{r:g}" for r in ratings_a])


BAR_WIDTH = 0.6  # of the space between two items


def _bar_outlines(values: np.ndarray) -> tuple[list, list]:
    """x and y of one filled line trace that draws a bar from 0 to each value at x = 0, 1, ...
    (plotly drops a figure's other traces when a frame moves real bars without a redraw)."""
    xs, ys = [], []
    half = BAR_WIDTH / 2
    for i, v in enumerate(compact(values)):
        xs += [i - half, i - half, i + half, i + half, i - half, None]
        ys += [0.0, v, v, 0.0, 0.0, None]
    return xs, ys


def newton_replay(names: Sequence[str], path: dict, scores: np.ndarray,
                  std_errors: np.ndarray, l2: float,
                  true_scores: np.ndarray | None = None) -> dict:
    """Newton's method from all-zero scores to the maximum-likelihood fit: the bars are the
    scores after each step, the black marks the fit with its 95 % error bars (and diamonds
    the true scores of simulated games). A replay over Newton's steps."""
    iterates = path["scores"]
    half = np.where(np.isfinite(std_errors), Z95 * std_errors, 0.0)
    shown = [iterates.ravel(), scores + half, scores - half, [0.0]]
    if true_scores is not None:
        shown.append(true_scores)
    low, high = float(np.min(np.concatenate(shown))), float(np.max(np.concatenate(shown)))
    span = max(high - low, 0.5)
    items = list(range(len(names)))
    layout = dict(
        title=_title("Newton's method finds the scores"),
        xaxis=dict(title=dict(text="item", standoff=4), tickvals=items, ticktext=list(names),
                   range=[-0.6, len(names) - 0.4], showgrid=False),
        # headroom above the bars for the legend
        yaxis=dict(title=dict(text="score (mean 0)"), range=[low - 0.08 * span,
                                                             high + 0.45 * span]),
        legend=TOP_LEGEND, height=400, shapes=[hline(0.0, "muted", dash="solid")])
    bars_x, bars_y = _bar_outlines(iterates[-1])
    data = [
        dict(type="scatter", x=bars_x, y=bars_y, mode="lines", fill="toself",
             name="scores after this step", fillcolor=theme.COLORS["Q"],
             line=dict(color=theme.COLORS["Q"], width=1), hoverinfo="skip"),
        dict(type="scatter", x=items, y=compact(scores), mode="markers",
             name="fit ± 1.96 s.e.",
             marker=dict(symbol="line-ew", size=30, color=theme.COLORS["exact"],
                         line=dict(color=theme.COLORS["exact"], width=3)),
             error_y=dict(type="data", array=compact(half), thickness=2, width=8,
                          color=theme.COLORS["exact"]),
             customdata=compact(np.where(np.isfinite(std_errors), std_errors, np.nan)),
             text=list(names),
             hovertemplate="%{text}: fit %{y:.3f} ± %{customdata:.3f} (1 s.e.)<extra></extra>"),
    ]
    if true_scores is not None:
        data.append(dict(type="scatter", x=items, y=compact(true_scores),
                         mode="markers", name="true score",
                         marker=dict(symbol="diamond", size=14, color=theme.COLORS["P"],
                                     line=dict(color="white", width=1))))
    last = len(iterates) - 1
    what, fit = ("ℓ(s)", "") if l2 == 0 else ("ℓ(s) − λ/2·Σs²", f"λ = {l2:g}; ")
    target = path["objective"][-1]
    frames, notes = [], []
    for k, s in enumerate(iterates):
        frames.append([dict(y=_bar_outlines(s)[1])])
        where = "Start: every score 0, every game a coin flip" if k == 0 else \
            f"After Newton step {k} of {last}"
        if 0 < path["step_size"][k] < 1:
            where += f" (shortened to t = {path['step_size'][k]:g})"
        objective = f"{what} = {path['objective'][k]:.3f} nats"
        notes.append(f"{where}:<br>" + _lines(
            [f"{name} {v + 0.0:+.2f}" for name, v in zip(names, s, strict=True)], 3)
            + f"<br>{objective}" + ("<br>" if l2 > 0 else " ") + f"({fit}the fit: {target:.3f})")
    return explorable.build(dict(data=data, layout=layout), list(range(len(iterates))),
                            "Newton step", frames, changing=[0], notes=notes,
                            value_text=["start"] + [str(k) for k in range(1, len(iterates))],
                            play=True, frame_ms=700)


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
                     "L2 strength λ (log; weaker to the right)", "fitted score")
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


def replay_steps(steps: int, frames: int = 50) -> np.ndarray:
    """The training steps a replay shows: at most ``frames`` + 1 of them, from 0 to ``steps``,
    closer together early on, where gradient descent changes the most (quadratic spacing)."""
    return np.unique((steps * np.linspace(0, 1, min(steps, frames) + 1) ** 2).round().astype(int))


def _padded_range(values: np.ndarray) -> list[float]:
    """An x range around 0 with room for the value labels beside the points."""
    low, high = min(float(np.min(values)), 0.0), max(float(np.max(values)), 0.0)
    pad = 0.3 * max(high - low, 1e-9)
    return [low - (pad if low < 0 else 0.05 * pad), high + (pad if high > 0 else 0.05 * pad)]


def _stems(values: np.ndarray) -> list:
    """x of one line trace that draws a stem from 0 to each value (a lollipop per row)."""
    return [v for x in compact(values) for v in (0.0, x, None)]


def reward_model_replay(loss: np.ndarray, agreement: np.ndarray, rewards_path: np.ndarray,
                        labels: Sequence[str], pairs: int, shown: np.ndarray) -> dict:
    """The reward model's training replayed: its loss drawn up to the slider's step (top) and
    the reward of each of the six replies at that step (bottom). A replay over the steps
    ``shown`` (see ``replay_steps``)."""
    steps = loss.size - 1
    idx = np.union1d(np.linspace(0, steps, min(steps + 1, 100)).round().astype(int), shown)
    rows = [y for name in labels for y in (name, name, None)]
    layout = dict(
        title=_title("Training the reward model on your choices"),
        xaxis=dict(domain=[0, 1], anchor="y", title=dict(text="gradient step"),
                   range=[-0.02 * steps, 1.02 * steps]),
        yaxis=dict(domain=[0.58, 1], anchor="x", title=dict(text="loss (nats)"),
                   range=[0, 1.12 * max(float(np.max(loss)), LN2)]),
        xaxis2=dict(domain=[0, 1], anchor="y2",
                    title=dict(text="reward r(y) = w·φ(y)", standoff=4),
                    range=_padded_range(rewards_path)),
        yaxis2=dict(domain=[0, 0.42], anchor="x2", type="category", autorange="reversed",
                    title=dict(text="reply")),
        showlegend=False, height=620,
        shapes=[hline(LN2, "reference"), vline(0.0, "exact", panel=1, dash="solid", width=1)],
        annotations=[label(steps, LN2, "ln 2: no preference yet", xanchor="right",
                           yanchor="bottom")])
    data = [
        dict(type="scatter", x=idx.tolist(), y=compact(loss[idx]), mode="lines",
             name="the whole run", line=dict(color=theme.COLORS["muted"], width=2),
             hoverinfo="skip"),
        dict(type="scatter", x=idx.tolist(), y=compact(loss[idx]), mode="lines",
             name="training loss", line=dict(color=theme.COLORS["policy"], width=3)),
        dict(type="scatter", x=[steps], y=compact(loss[-1:]), mode="markers", name="this step",
             marker=POINT, hoverinfo="skip", cliponaxis=False),
        dict(type="scatter", x=_stems(rewards_path[-1]), y=rows, mode="lines",
             xaxis="x2", yaxis="y2", name="reward", hoverinfo="skip",
             line=dict(color=theme.COLORS["policy"], width=3)),
        dict(type="scatter", x=compact(rewards_path[-1]), y=list(labels), mode="markers+text",
             xaxis="x2", yaxis="y2", name="reward", cliponaxis=False,
             marker=dict(size=12, color=theme.COLORS["policy"]),
             hovertemplate="%{y}: %{x:.2f}<extra></extra>"),
    ]
    frames, notes = [], []
    for t in shown:
        upto = idx[idx <= t]
        rewards = rewards_path[t]
        frames.append([
            dict(x=upto.tolist(), y=compact(loss[upto])),
            dict(x=[int(t)], y=compact(loss[t:t + 1])),
            dict(x=_stems(rewards)),
            dict(x=compact(rewards), text=[f" {fmt(r, 2)} " for r in rewards],
                 textposition=["middle right" if r >= 0 else "middle left" for r in rewards]),
        ])
        tied = float(np.ptp(rewards)) < 1e-12
        top = "all replies tied" if tied else f"top reply {labels[int(np.argmax(rewards))]}"
        notes.append(_line(f"Step {t} of {steps}", f"loss {loss[t]:.3f} nats") + "<br>"
                     + _line(f"agrees with {round(agreement[t] * pairs)} of your {pairs}", top))
    return explorable.build(dict(data=data, layout=layout), [int(t) for t in shown],
                            "step", frames, changing=[1, 2, 3, 4], notes=notes,
                            play=True, frame_ms=120)


def weights_replay(features: Sequence[str], weights_path: np.ndarray,
                   shown: np.ndarray) -> dict:
    """What the reward model learns to value, step by step: one weight per (standardised)
    feature, green where it rewards more of the feature. A replay over the steps ``shown``."""
    rows = [y for name in features for y in (name, name, None)]
    layout = dict(
        title=_title("What it learns to reward, step by step"),
        xaxis=dict(title=dict(text="reward per SD of the feature", standoff=4),
                   range=_padded_range(weights_path)),
        # plotly places the title by a measure of the tick labels that falls short for these
        # names: the standoff keeps "feature" off "hedges"
        yaxis=dict(title=dict(text="feature", standoff=16), type="category",
                   autorange="reversed"),
        showlegend=False, height=300, shapes=[vline(0.0, "exact", dash="solid", width=1)])

    def signed(w: np.ndarray) -> list[str]:
        return [theme.COLORS["chosen"] if v >= 0 else theme.COLORS["rejected"] for v in w]

    last = weights_path[-1]
    data = [
        dict(type="scatter", x=_stems(last), y=rows, mode="lines", name="weight",
             hoverinfo="skip", line=dict(color=theme.COLORS["muted"], width=4)),
        dict(type="scatter", x=compact(last), y=list(features), mode="markers+text",
             name="weight", cliponaxis=False, marker=dict(size=13, color=signed(last)),
             hovertemplate="%{y}: %{x:+.2f}<extra></extra>"),
    ]
    frames, notes = [], []
    steps = weights_path.shape[0] - 1
    for t in shown:
        w = weights_path[t]
        frames.append([
            dict(x=_stems(w)),
            dict(x=compact(w), text=[f" {v + 0.0:+.2f} " for v in w],
                 textposition=["middle right" if v >= 0 else "middle left" for v in w],
                 marker=dict(size=13, color=signed(w))),
        ])
        notes.append(_lines([f"Step {t} of {steps}", *(
            f"{name} {v + 0.0:+.2f}" for name, v in zip(features, w, strict=True))], 2))
    return explorable.build(dict(data=data, layout=layout), [int(t) for t in shown],
                            "step", frames, changing=[0, 1], notes=notes,
                            play=True, frame_ms=120)
