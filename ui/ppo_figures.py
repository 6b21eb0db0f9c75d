"""Figures for the PPO lesson: the surrogate, PPO's Figure 1 made live, the learner's version
beside PPO's, GAE, and the training runs on the bandit.

Every figure is a plain spec of trace and layout dicts, not a plotly Figure built with
make_subplots and add_vline/add_vrect: those validate and re-lay-out the figure on every call,
and each step redraws its charts on every move of a control. Most figures are
explorables (``ui.explorable``): the page computes, with ``lessons.ppo``, what the chart shows at
every ratio r or at every step of a run, and the builders here pack those values into frames
that the chart's own slider (and play button, for runs) switches in the browser.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ui import explorable, theme
from ui.explorable import compact

# One colour per objective and per sign of the advantage, everywhere in the lesson.
OBJECTIVE_COLORS = {
    "ppo": theme.COLORS["policy"],  # the policy PPO trains
    "unclipped": theme.COLORS["Q"],  # the alternative objective it is compared with
    "learner": theme.COLORS["Q"],
}
OBJECTIVE_NAMES = {
    "ppo": "PPO: min(r·A, clip(r)·A)",
    "unclipped": "no clipping: r·A",
    "learner": "learner's clip(r)·A",
}
SIGN_COLORS = {"A > 0": theme.COLORS["chosen"], "A < 0": theme.COLORS["rejected"]}
SIGNS = tuple(SIGN_COLORS)
FLAT_FILL = theme.COLORS["muted"]
WRONG_FILL = theme.COLORS["rejected"]
GUIDE = theme.COLORS["reference"]
POINT = dict(size=15, color=theme.COLORS["highlight"],
             line=dict(color=theme.COLORS["exact"], width=2))
AXES = ("x", "y")  # the first (or only) panel of a figure


# Layout helpers


def _vline(axes, x, **line):
    xa, ya = axes
    return dict(type="line", x0=x, x1=x, y0=0, y1=1, xref=xa, yref=f"{ya} domain",
                line=dict(color=GUIDE, width=1.5, dash="dash") | line)


def _hline(axes, y, **line):
    xa, ya = axes
    return dict(type="line", x0=0, x1=1, y0=y, y1=y, xref=f"{xa} domain", yref=ya,
                line=dict(color=GUIDE, width=1.5, dash="dot") | line)


def _vrect(axes, x0, x1, color=FLAT_FILL, opacity=0.6):
    xa, ya = axes
    return dict(type="rect", x0=x0, x1=x1, y0=0, y1=1, xref=xa, yref=f"{ya} domain",
                fillcolor=color, opacity=opacity, line_width=0, layer="below")


def _line(axes, x, y, color, name="", width=3, **extra):
    xa, ya = axes
    return dict(type="scatter", x=x, y=y, mode=extra.pop("mode", "lines"), name=name, xaxis=xa,
                yaxis=ya, line=dict(color=color, width=width) | extra.pop("line", {}), **extra)


def _point(axes, x, y, name="you are here"):
    xa, ya = axes
    return dict(type="scatter", x=[x], y=[y], mode="markers", marker=POINT, name=name,
                xaxis=xa, yaxis=ya, showlegend=False,
                hovertemplate="r = %{x:.2f}<br>%{y:.3f}<extra></extra>")


def _axis_title(layout, axes, x_title=None, y_title=None, **extra):
    xa, ya = axes
    xkey, ykey = xa.replace("x", "xaxis"), ya.replace("y", "yaxis")
    if x_title is not None:
        layout.setdefault(xkey, {})["title"] = dict(text=x_title)
    if y_title is not None:
        layout.setdefault(ykey, {})["title"] = dict(text=y_title)
    for key, value in extra.items():
        axis, prop = key.split("_", 1)
        layout.setdefault(xkey if axis == "x" else ykey, {})[prop] = value


TOP_MARGIN = 56  # the course template's top margin, in pixels
NOTE_ROOM = 8  # extra pixels above an explorable's plot per line of its note, past the first


def _figure(data, layout, title=None, height=360, legend=None, notes=()) -> dict:
    """A plain figure spec, as plotly.js reads it: the page sends it without plotly's
    validation on every rerun (the tests validate every chart of the page once).

    notes: an explorable's lines of numbers. Presenter mode draws them in a larger font than
    the room ui.explorable keeps for them above the plot, so the top margin gets a little more
    per line, which keeps them off the title."""
    layout = dict(layout, height=height)
    lines = max((n.count("<br>") + 1 for n in notes), default=0)
    if lines > 1:
        layout["margin"] = dict(layout.get("margin") or {}, t=TOP_MARGIN + NOTE_ROOM * (lines - 1))
    if title:
        # At the top of the figure, not in the middle of its top margin: an explorable's
        # line of numbers fills that margin under the title.
        layout["title"] = dict(text=title, yref="container", y=1, yanchor="top",
                               pad=dict(t=14))
    if legend:
        layout["legend"] = legend
    return dict(data=data, layout=layout)


BELOW = dict(orientation="h", y=-0.25, x=0, yanchor="top")


def ratio_grid(epsilon: float, hi: float = 3.0, points: int = 61) -> np.ndarray:
    """Ratios to draw the clipped objectives on: an even grid plus each kink 1±ε approached from
    both sides, so a few dozen points draw the corners and the slope's jumps exactly."""
    kinks = [k + d for k in (1 - epsilon, 1 + epsilon) for d in (-1e-9, 0.0, 1e-9)]
    return np.union1d(np.linspace(0.0, hi, points), kinks)


# Explorable helpers

EXACT = theme.COLORS["exact"]
R_RANGE = [-0.05, 3.05]  # the ratio axis of every chart over r (the controls run from 0 to 3)
SHORT_NAMES = {"ppo": "PPO", "unclipped": "no clipping", "learner": "learner's"}
TOP_LEFT = dict(orientation="h", x=0.01, xanchor="left", y=1, yanchor="top")  # inside the plot
# The free strip kept above a panel's curves for a TOP_LEFT legend (a fraction of the data's
# span): on a phone the legend wraps to two rows, and it must not cover a curve.
LEGEND_ROOM = 0.4
STRIP = 0.3  # the same for two lines of labels above and below the curves
# Bottom axis titles of charts with play buttons stay short: on a phone the buttons sit at the
# right end of the title's row.
SHORT_LOG_TITLE = "ratio r (log)"


def signed(value: float) -> str:
    """A slope for the page: +1.00, -0.50, or 0."""
    return f"{value:+.2f}" if value else "0"


def _span(*arrays, pad: float = 0.08, above: float = 0.0, below: float = 0.0) -> list[float]:
    """An axis range holding every finite value of ``arrays``, with a margin, plus free room
    ``above`` and ``below`` the data (as fractions of its span): a strip no curve enters,
    for a legend or labels that must not cover the data at any width."""
    values = np.concatenate([np.ravel(a) for a in arrays]).astype(float)
    values = values[np.isfinite(values)]
    lo, hi = float(values.min()), float(values.max())
    size = max(hi - lo, 1.0 if hi == lo else 0.0)
    margin = max(size * pad, 0.1)
    return [lo - margin - below * size, hi + margin + above * size]


def _rgba(color: str, alpha: float) -> str:
    red, green, blue = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def _label(axes, x, y, text, **style) -> dict:
    """A static label at data coordinates of one panel."""
    xa, ya = axes
    return dict(x=x, y=y, xref=xa, yref=ya, text=text, showarrow=False, **style)


def _domain_label(axes, text, x=0.5, y=1.0, **style) -> dict:
    """A label placed against one panel's frame (0–1 across and up the panel)."""
    xa, ya = axes
    return dict(x=x, y=y, xref=f"{xa} domain", yref=f"{ya} domain", text=text,
                showarrow=False, **({"xanchor": "center", "yanchor": "bottom"} | style))


def _ascent_arrow(axes, r: float, value: float, slope: float) -> dict:
    """Where gradient ascent moves r from the point (r, value): an arrow along r, hidden when
    the slope is 0. Placed against the panel's axes, so a frame redraws it; every frame gives
    it with the same keys, as plotly merges a frame's annotations into the ones shown, index by
    index."""
    xa, ya = axes
    return dict(x=r + 0.45 * (np.sign(slope) or 1), y=value, ax=r, ay=value, xref=xa, yref=ya,
                axref=xa, ayref=ya, text="", showarrow=True, arrowhead=3, arrowsize=1.2,
                arrowwidth=3, arrowcolor=EXACT, visible=bool(slope))


def _slope_marks(axes, r: float, value: float, slope: float, text: str) -> list[dict]:
    """The ascent arrow at the point and a short text in the strip the panel keeps free below
    its curve, red when nothing moves r (the same keys in every frame, as for the arrow). No
    background box: the band behind stays whole."""
    xa, ya = axes
    label = dict(x=0.5, y=0.01, xref=f"{xa} domain", yref=f"{ya} domain", text=text,
                 showarrow=False, yanchor="bottom", xanchor="center", align="center",
                 font=dict(color=EXACT if slope else theme.OKABE_ITO["vermillion"]))
    return [_ascent_arrow(axes, r, value, slope), label]


def _log2_ratio(ratio, limit: float) -> np.ndarray:
    """Ratios on a log2 axis, the ones beyond 2^±limit drawn at the edge."""
    return np.log2(np.clip(ratio, 2.0 ** -limit, 2.0 ** limit))


def _log2_axis(limit: int, title: str, **extra) -> dict:
    """A ratio axis in log2 units, labelled in plain ratios (the edges say ≤ and ≥)."""
    ticks = [2.0 ** p for p in range(-limit, limit + 1, 2 if limit > 3 else 1)]
    text = [f"{t:g}" if t >= 1 else f"1/{1 / t:g}" for t in ticks]
    text[0], text[-1] = f"≤{text[0]}", f"≥{text[-1]}"
    return dict(title=dict(text=title), range=[-limit - 0.3, limit + 0.3],
                tickvals=list(np.log2(ticks)), ticktext=text, **extra)


def _upto(x, y, k: int) -> dict:
    """A curve drawn up to index k (a replay's frame)."""
    return dict(x=compact(x[:k + 1]), y=compact(y[:k + 1]))


# Section 1


def surrogate_explorable(r_values: np.ndarray, r_line: np.ndarray, line: np.ndarray,
                         values: np.ndarray, a: float) -> dict:
    """r·A against r: a straight line through the origin that never levels off, the point at
    the slider's r. An explorable over r (A is the page's setting)."""
    axes = AXES
    color = SIGN_COLORS["A > 0" if a >= 0 else "A < 0"]
    data = [_line(axes, compact(r_line), compact(line), color, "r·A", showlegend=False),
            _point(axes, float(r_values[0]), float(values[0]))]
    layout = dict(
        xaxis=dict(title=dict(text="probability ratio r = π_new / π_old"), range=R_RANGE),
        yaxis=dict(title=dict(text="r·A (advantage units)"), range=_span(line)),
        shapes=[_vline(axes, 1, dash="dot")],
        annotations=[dict(x=1, y=1, xref="x", yref="y domain", text="r = 1", showarrow=False,
                          xanchor="left", yanchor="top")])
    frames = [[dict(x=[float(r)], y=compact(v))] for r, v in zip(r_values, values, strict=True)]
    notes = [f"r = {r:.2f}, A = {a:g}: r·A = {v:.3f}" for r, v in zip(r_values, values,
                                                                     strict=True)]
    return explorable.build(
        _figure(data, layout, f"The surrogate r·A for A = {a:g}", height=340, notes=notes),
        list(r_values), "ratio r", frames, changing=[1], notes=notes,
        value_text=[f"{r:.2f}" for r in r_values])


def one_batch_replay(steps: np.ndarray, promise: np.ndarray, gain: np.ndarray,
                     ratios: np.ndarray, outside: np.ndarray, epsilon: float) -> dict:
    """Gradient ascent on one batch, replayed step by step. Top: the batch's promise (mean r·Â)
    against the real gain, drawn up to the step. Bottom: where the batch's ratios are after it.
    An explorable over the steps, with play."""
    top, bottom = AXES, ("x2", "y2")
    edges = np.arange(-6, 6.25, 0.25)
    counts = np.stack([np.histogram(_log2_ratio(row, 6), edges)[0] for row in ratios])
    last = int(steps[-1])
    data = [
        dict(type="scatter", x=list(steps) + [None] + list(steps),
             y=compact(promise) + [None] + compact(gain), mode="lines", name="the whole run",
             line=dict(color=theme.COLORS["muted"], width=2), hoverinfo="skip",
             showlegend=False),
        _line(top, [0], [0.0], theme.COLORS["estimate"], "promise: mean r·Â on the batch"),
        _line(top, [0], [0.0], EXACT, "real gain: J(π) − J(π_old), exact"),
        dict(type="scatter", x=[0, 0], y=[0.0, 0.0], mode="markers", marker=POINT,
             showlegend=False, hoverinfo="skip"),
        dict(type="scatter", x=list(edges), y=compact(np.append(counts[0], counts[0][-1])),
             mode="lines", line=dict(color=theme.COLORS["policy"], width=2, shape="hv"),
             fill="tozeroy", fillcolor=_rgba(theme.COLORS["policy"], 0.35), name="ratios",
             showlegend=False, xaxis="x2", yaxis="y2",
             hovertemplate="%{y} samples<extra></extra>"),
    ]
    band = (np.log2(1 - epsilon), np.log2(1 + epsilon))
    layout = dict(
        xaxis=dict(domain=[0, 1], anchor="y", range=[-0.5, last + 0.5],
                   title=dict(text="gradient steps on the same batch")),
        yaxis=dict(domain=[0.55, 1], anchor="x", range=_span(promise, gain, above=LEGEND_ROOM),
                   title=dict(text="change in expected reward")),
        xaxis2=_log2_axis(6, SHORT_LOG_TITLE, domain=[0, 1], anchor="y2"),
        yaxis2=dict(domain=[0, 0.3], anchor="x2", range=[0, 1.1 * counts.max()],
                    title=dict(text="samples")),
        legend=TOP_LEFT,
        shapes=[_vrect(bottom, *band, opacity=0.9)],
        annotations=[_domain_label(bottom, f"The batch's {ratios.shape[1]} ratios after the "
                                   "step", yshift=4),
                     _label(bottom, band[1], 1.05 * counts.max(), f"1 ± {epsilon:g}",
                            xanchor="left", yanchor="top")])
    frames, notes = [], []
    for k in range(steps.size):
        frames.append([_upto(steps, promise, k), _upto(steps, gain, k),
                       dict(x=[int(steps[k])] * 2, y=compact([promise[k], gain[k]])),
                       dict(y=compact(np.append(counts[k], counts[k][-1])))])
        notes.append(f"Step {steps[k]}: promise {promise[k]:+.3f}, real gain {gain[k]:+.3f}<br>"
                     f"{outside[k]:.0%} of the ratios outside [{1 - epsilon:g}, {1 + epsilon:g}]")
    return explorable.build(_figure(data, layout, "One batch, many gradient steps", height=520,
                                    notes=notes),
                            [int(s) for s in steps], "step", frames,
                            changing=[1, 2, 3, 4], notes=notes, play=True)


# Section 2


def clipping_explorable(r_values: np.ndarray, r_grid: np.ndarray, panels: dict,
                        clipped: np.ndarray, epsilon: float) -> dict:
    """PPO's Figure 1, live: L^CLIP (solid) and the unclipped r·A (dotted) for A > 0 (left)
    and A < 0 (right), the flat regions shaded, a point on each at the slider's r with an arrow
    for where gradient ascent moves r. An explorable over r; the note names both cases.

    panels[sign]: a (the advantage); unclipped and objective over r_grid; values, slopes and
    regions (which of lessons.ppo.REGIONS) over r_values; picks: per region, which term the min
    picks there (as lessons.ppo.six_cases says)."""
    layout: dict = dict(shapes=[], annotations=[])
    data, ranges = [], {}
    for col, sign in enumerate(SIGNS):
        panel, color = panels[sign], SIGN_COLORS[sign]
        a = panel["a"]
        axes = AXES if col == 0 else ("x2", "y2")
        flat = (1 + epsilon, R_RANGE[1]) if a > 0 else (R_RANGE[0], 1 - epsilon)
        layout["shapes"] += [_vrect(axes, *flat), _vline(axes, 1 - epsilon),
                             _vline(axes, 1 + epsilon)]
        data += [
            _line(axes, compact(r_grid), compact(panel["unclipped"]), color,
                  f"r·A for A = {a:+g}", width=2, line=dict(dash="dot"), showlegend=False),
            _line(axes, compact(r_grid), compact(panel["objective"]), color,
                  f"L^CLIP for A = {a:+g}", width=4, showlegend=False),
            _point(axes, float(r_values[0]), float(panel["values"][0])),
        ]
        ranges[sign] = _span(panel["unclipped"], panel["objective"])
        # The lines named where nothing else is drawn. r·A at its free end (right for A > 0,
        # left for A < 0). L^CLIP for A > 0 under its flat right end; for A < 0 below and left
        # of its falling stretch at r = 2.5, as its short flat stretch leaves no room on a
        # phone.
        end = -1 if a > 0 else 0
        at_x, anchor = (2.95, "right") if a > 0 else (0.05, "left")
        clip_at = (at_x, float(panel["objective"][end])) if a > 0 else (
            2.5, float(np.interp(2.5, r_grid, panel["objective"])))
        layout["annotations"] += [
            _label(axes, at_x, panel["unclipped"][end], "r·A", xanchor=anchor,
                   yanchor="bottom", font=dict(color=color)),
            _label(axes, *clip_at, "L<sup>CLIP</sup>", xanchor="right", yanchor="top",
                   yshift=-4, xshift=0 if a > 0 else -4, font=dict(color=color))]
        xa, ya = axes
        layout[xa.replace("x", "xaxis")] = dict(
            domain=[0, 0.4] if col == 0 else [0.62, 1], anchor=ya, range=R_RANGE,
            title=dict(text=f"ratio r, A = {a:+g}"))
        layout[ya.replace("y", "yaxis")] = dict(
            anchor=xa, range=ranges[sign], title=dict(text="objective (advantage units)"))
    frames, notes, marks = [], [], []
    for k, r in enumerate(r_values):
        frame, frame_marks = [], []
        lines = [f"r = {r:.2f}, clip(r) = {clipped[k]:.2f}"]
        for col, sign in enumerate(SIGNS):
            panel = panels[sign]
            value, slope, region = (float(panel["values"][k]), float(panel["slopes"][k]),
                                    panel["regions"][k])
            frame.append(dict(x=[float(r)], y=compact(value)))
            frame_marks.append(_ascent_arrow(AXES if col == 0 else ("x2", "y2"), float(r),
                                             value, slope))
            picks = panel["picks"][region]
            picks = "both terms equal" if picks.startswith("both") else f"min picks {picks}"
            lines += [f"{sign}, {region}: L<sup>CLIP</sup> = {value:.3f}",
                      f"slope {signed(slope)}{'' if slope else ', flat'}: {picks}"]
        frames.append(frame)
        marks.append(frame_marks)
        notes.append("<br>".join(lines))
    return explorable.build(
        _figure(data, layout, f"Clipping with ε = {epsilon:g}: grey = flat, slope 0",
                height=380, notes=notes),
        list(r_values), "ratio r", frames, changing=[2, 5], notes=notes, annotations=marks,
        value_text=[f"{r:.2f}" for r in r_values])


# Section 3


def learner_explorable(r_values: np.ndarray, r_grid: np.ndarray, lines: dict, points: dict,
                       slopes: dict, clipped: np.ndarray, loss: np.ndarray,
                       epsilon: float) -> dict:
    """The learner's clip(r)·A (left) beside PPO's min(r·A, clip(r)·A) (right), the slider's r
    marked on both with an arrow for where gradient ascent moves r (or a note that nothing
    moves it). An explorable over r; lines over r_grid, points and slopes over r_values."""
    # Free strips above and below the curves: the names go on top, the slopes underneath.
    y_range = _span(lines["learner"], lines["ppo"], above=STRIP, below=STRIP)
    layout: dict = dict(shapes=[], annotations=[])
    data = []
    for col, key in enumerate(("learner", "ppo")):
        axes = AXES if col == 0 else ("x2", "y2")
        xa, ya = axes
        layout["shapes"].append(_vrect(axes, 1 - epsilon, 1 + epsilon))
        data += [_line(axes, compact(r_grid), compact(lines[key]), OBJECTIVE_COLORS[key],
                       OBJECTIVE_NAMES[key], width=4, showlegend=False),
                 _point(axes, float(r_values[0]), float(points[key][0]))]
        layout[xa.replace("x", "xaxis")] = dict(
            domain=[0, 0.47] if col == 0 else [0.53, 1], anchor=ya, range=R_RANGE,
            title=dict(text="ratio r"))
        layout["annotations"].append(_domain_label(
            axes, "the learner's<br>clip(r)·A" if key == "learner" else
            "PPO's<br>min(r·A, clip(r)·A)", x=0.02, y=0.99, xanchor="left", yanchor="top",
            align="left", font=dict(color=OBJECTIVE_COLORS[key])))
        layout[ya.replace("y", "yaxis")] = dict(anchor=xa, range=y_range) | (
            dict(title=dict(text="objective (advantage units)")) if col == 0 else
            dict(matches="y", showticklabels=False))
    frames, notes, marks = [], [], []
    for k, r in enumerate(r_values):
        frame_marks = []
        for col, key in enumerate(("learner", "ppo")):
            slope = float(slopes[key][k])
            way = "up" if slope > 0 else "down"
            frame_marks += _slope_marks(AXES if col == 0 else ("x2", "y2"), float(r),
                                        float(points[key][k]), slope,
                                        f"slope {signed(slope)}:<br>pushes r {way}" if
                                        slope else "slope 0:<br>nothing moves r")
        frames.append([dict(x=[float(r)], y=compact(points[key][k]))
                       for key in ("learner", "ppo")])
        marks.append(frame_marks)
        notes.append(
            f"r = {r:.2f}, clip(r) = {clipped[k]:.3f}<br>learner's clip(r)·A = "
            f"{points['learner'][k]:.3f}, slope {signed(slopes['learner'][k])}<br>PPO's "
            f"L<sup>CLIP</sup> = {points['ppo'][k]:.3f}, slope {signed(slopes['ppo'][k])}<br>"
            f"the loss in code: {loss[k]:.3f} = −L<sup>CLIP</sup>")
    return explorable.build(
        _figure(data, layout, f"The learner's formula and PPO's, ε = {epsilon:g}",
                height=440, notes=notes),
        list(r_values), "ratio r", frames, changing=[1, 3], notes=notes, annotations=marks,
        value_text=[f"{r:.2f}" for r in r_values])


def knock_replay(steps: np.ndarray, gain: np.ndarray, wrong: np.ndarray, ratios: np.ndarray,
                 advantages: np.ndarray, epsilon: float, names: Sequence[str]) -> dict:
    """After a bad step, replayed step by step. Top: the real gain of each objective, drawn up
    to the step. Bottom: every sample of the batch as (r, Â) at that step, the wrong-side
    corners shaded. An explorable over the steps, with play."""
    top, bottom = AXES, ("x2", "y2")
    limit = 4
    x = _log2_ratio(ratios, limit)
    span = max(float(np.max(np.abs(advantages))), 0.1) * 1.15
    low, high = np.log2(1 - epsilon), np.log2(1 + epsilon)
    data = [dict(type="scatter", x=list(steps) + [None] + list(steps),
                 y=compact(gain[0]) + [None] + compact(gain[1]), mode="lines",
                 name="the whole run", line=dict(color=theme.COLORS["muted"], width=2),
                 hoverinfo="skip", showlegend=False)]
    data += [_line(top, [0], compact(gain[i, 0]), OBJECTIVE_COLORS[key], OBJECTIVE_NAMES[key],
                   legendgroup=key) for i, key in enumerate(names)]
    data.append(dict(type="scatter", x=[0] * len(names), y=compact(gain[:, 0]),
                     mode="markers", marker=POINT, showlegend=False, hoverinfo="skip"))
    for i, key in enumerate(names):
        data.append(dict(
            type="scatter", x=compact(x[i, 0]), y=compact(advantages), mode="markers",
            name=OBJECTIVE_NAMES[key], legendgroup=key,
            showlegend=False, xaxis="x2", yaxis="y2",
            marker=dict(size=8, color=OBJECTIVE_COLORS[key], opacity=0.8,
                        symbol="circle" if i == 0 else "diamond",
                        line=dict(color="white", width=0.5)),
            hovertemplate="Â = %{y:.2f}<extra></extra>"))
    wrong_fill = dict(fillcolor=WRONG_FILL, opacity=0.15, line_width=0, layer="below",
                      xref="x2", yref="y2", type="rect")
    layout = dict(
        xaxis=dict(domain=[0, 1], anchor="y", range=[-0.5, steps[-1] + 0.5],
                   title=dict(text="gradient steps after the bad step")),
        yaxis=dict(domain=[0.6, 1], anchor="x", range=_span(gain, above=LEGEND_ROOM),
                   title=dict(text="J(π) − J(π_old)")),
        xaxis2=_log2_axis(limit, SHORT_LOG_TITLE, domain=[0, 1], anchor="y2"),
        yaxis2=dict(domain=[0, 0.36], anchor="x2", range=[-span, span],
                    title=dict(text="advantage Â (reward units)")),
        legend=TOP_LEFT,
        shapes=[_hline(top, 0), _vrect(bottom, low, high),
                dict(x0=-limit - 0.3, x1=low, y0=0, y1=span, **wrong_fill),
                dict(x0=high, x1=limit + 0.3, y0=-span, y1=0, **wrong_fill),
                _hline(bottom, 0, dash="solid", width=1)],
        annotations=[dict(x=1, y=0, xref="x domain", yref="y", text="π_old", showarrow=False,
                          xanchor="right", yanchor="bottom"),
                     _domain_label(bottom, "Every sample as (r, Â) after the step", yshift=4)])
    frames, notes = [], []
    for s in range(steps.size):
        frames.append([_upto(steps, gain[i], s) for i in range(len(names))]
                      + [dict(x=[int(steps[s])] * len(names), y=compact(gain[:, s]))]
                      + [dict(x=compact(x[i, s])) for i in range(len(names))])
        notes.append(f"Step {steps[s]} after the bad step, J(π) − J(π_old):<br>" + "<br>".join(
            f"{SHORT_NAMES[key]} {gain[i, s]:+.3f} ({wrong[i, s]:.0%} on the wrong side)"
            for i, key in enumerate(names)))
    n = len(names)
    return explorable.build(
        _figure(data, layout, "A bad step: who pulls the policy back?",
                height=600, notes=notes),
        [int(s) for s in steps], "step", frames,
        changing=list(range(1, 2 * n + 2)), notes=notes, play=True)


# Section 4


def gae_bars(t: np.ndarray, delta: np.ndarray, adv: np.ndarray, adv_td: np.ndarray,
             adv_mc: np.ndarray, lam: float):
    """Per step: the TD error δ_t, the GAE advantage, and the two ends of the λ dial."""
    layout: dict = {"annotations": []}
    xa, ya = AXES
    data = [
        dict(type="bar", x=t, y=delta, name="TD error δ_t", xaxis=xa, yaxis=ya,
             marker=dict(color=FLAT_FILL, line=dict(color=GUIDE, width=1))),
        dict(type="bar", x=t, y=adv, name=f"GAE advantage Â_t (λ = {lam:g})", xaxis=xa,
             yaxis=ya, marker=dict(color=theme.COLORS["estimate"])),
        dict(type="scatter", x=t, y=adv_td, mode="markers", name="λ = 0: one-step TD (= δ_t)",
             xaxis=xa, yaxis=ya, marker=dict(symbol="diamond", size=12, color=theme.COLORS["P"],
                                             line=dict(color="white", width=1))),
        dict(type="scatter", x=t, y=adv_mc, mode="markers",
             name="λ = 1: Monte Carlo, G_t − V(s_t)", xaxis=xa, yaxis=ya,
             marker=dict(symbol="square", size=11, color=theme.COLORS["Q"],
                         line=dict(color="white", width=1))),
    ]
    layout["shapes"] = [_hline(AXES, 0, dash="solid", width=1)]
    layout["barmode"] = "group"
    _axis_title(layout, AXES, "step t", "reward units", x_tickmode="array",
                x_tickvals=list(t))
    return _figure(data, layout, f"TD errors and advantages (λ = {lam:g})", height=420,
                   legend=BELOW)


def gae_dial(lams: np.ndarray, curve: np.ndarray, lam: float, value: float):
    """Â_0 as λ goes from 0 (one-step TD) to 1 (Monte Carlo)."""
    layout: dict = {"annotations": []}
    axes = AXES
    data = [_line(axes, lams, curve, theme.COLORS["estimate"], "Â_0(λ)", showlegend=False),
            _point(axes, lam, value)]
    data[1]["hovertemplate"] = "λ = %{x:.2f}<br>Â_0 = %{y:.3f}<extra></extra>"
    for x, y, label, color in ((0, curve[0], "TD", theme.COLORS["P"]),
                               (1, curve[-1], "Monte Carlo", theme.COLORS["Q"])):
        # The text on the inner side of its arrow, so a narrow column never cuts it.
        layout["annotations"].append(dict(x=x, y=y, xref="x", yref="y", text=label,
                                          showarrow=True, arrowhead=2, ay=-32,
                                          ax=12 if x == 0 else -12,
                                          xanchor="left" if x == 0 else "right",
                                          font=dict(color=color)))
    _axis_title(layout, axes, "λ", "Â_0 (reward units)", x_range=[-0.05, 1.05])
    return _figure(data, layout, "Â_0 as λ turns", height=420)


# Section 5


def training_replay(run: dict, names: Sequence[str]) -> dict:
    """The runs replayed update by update. Top: expected reward, the mean over seeds bold and
    the seeds' range shaded, drawn up to the update. Bottom: the exact KL(π_old‖π_new) of each
    update (mean over seeds). The note gives both runs' numbers at the update, clip fraction
    included. An explorable over the updates, with play."""
    returns = run["returns"]  # (objective, seed, updates + 1)
    updates = np.arange(returns.shape[-1])
    mean, low, high = returns.mean(axis=1), returns.min(axis=1), returns.max(axis=1)
    kl = run["kl_exact"].mean(axis=1)
    clip = run["clip_fraction"].mean(axis=1)
    optimal, seeds = float(run["optimal"]), returns.shape[1]
    top, bottom = AXES, ("x2", "y2")

    def band(i: int, u: int) -> dict:
        return dict(x=list(updates[:u + 1]) + list(updates[u::-1]),
                    y=compact(high[i, :u + 1]) + compact(low[i, u::-1]))

    data = []
    for i, key in enumerate(names):
        color = OBJECTIVE_COLORS[key]
        data.append(dict(type="scatter", mode="lines", fill="toself", **band(i, 0),
                         fillcolor=_rgba(color, 0.22), line=dict(width=0, color=_rgba(color, 0)),
                         name=f"{SHORT_NAMES[key]}: range over {seeds} seeds",
                         legendgroup=key, showlegend=False, hoverinfo="skip"))
    data += [_line(top, [0], compact(mean[i, 0]), OBJECTIVE_COLORS[key], SHORT_NAMES[key],
                   width=4, legendgroup=key) for i, key in enumerate(names)]
    data.append(dict(type="scatter", x=[0] * len(names), y=compact(mean[:, 0]), mode="markers",
                     marker=POINT, showlegend=False, hoverinfo="skip"))
    data += [_line(bottom, [], [], OBJECTIVE_COLORS[key], f"{SHORT_NAMES[key]}: KL per update",
                   width=3, line=dict(dash="dash"), legendgroup=key, showlegend=False)
             for key in names]
    positive = kl[kl > 0]
    layout = dict(
        xaxis=dict(domain=[0, 1], anchor="y", range=[-0.5, updates[-1] + 0.5],
                   title=dict(text="update")),
        # Nothing exceeds the best possible reward: the room above its line holds the legend
        # and the line's own label, clear of every curve.
        yaxis=dict(domain=[0.54, 1], anchor="x", range=[min(0.0, float(low.min())) - 0.05,
                                                        optimal + 0.5],
                   title=dict(text="expected reward")),
        xaxis2=dict(domain=[0, 1], anchor="y2", range=[-0.5, updates[-1] + 0.5],
                    title=dict(text="update")),
        yaxis2=dict(domain=[0, 0.3], anchor="x2", type="log", dtick=1,
                    range=[np.log10(positive.min()) - 0.2, np.log10(positive.max()) + 0.2],
                    title=dict(text="nats (log scale)")),
        legend=TOP_LEFT,
        shapes=[_hline(top, optimal, color=EXACT, dash="dash")],
        annotations=[dict(x=0.01, y=optimal, xref="x domain", yref="y",
                          text=f"best possible {optimal:.3f}", showarrow=False,
                          xanchor="left", yanchor="bottom", yshift=2),
                     _domain_label(bottom, "KL(π_old‖π_new) per update, mean of seeds",
                                   yshift=4)])
    frames, notes = [], []
    for u in updates:
        frames.append([band(i, u) for i in range(len(names))]
                      + [_upto(updates, mean[i], u) for i in range(len(names))]
                      + [dict(x=[int(u)] * len(names), y=compact(mean[:, u]))]
                      + [dict(x=compact(updates[1:u + 1]), y=compact(kl[i, :u]))
                         for i in range(len(names))])
        if u == 0:
            notes.append(f"Before the first update every run's expected reward is "
                         f"{mean[0, 0]:.3f}; the best possible is {optimal:.3f}.")
            continue
        notes.append(f"Update {u} of {updates[-1]}, means over {seeds} seeds<br>" + "<br>".join(
            f"{SHORT_NAMES[key]}: reward {mean[i, u]:.3f} (seeds {low[i, u]:.2f}–"
            f"{high[i, u]:.2f})<br>clip fraction {clip[i, u - 1]:.0%}, KL {kl[i, u - 1]:.3g} "
            "nats" for i, key in enumerate(names)))
    n = len(names)
    return explorable.build(
        _figure(data, layout, "Training the bandit, update by update", height=560,
                notes=notes),
        [int(u) for u in updates], "update", frames, changing=list(range(3 * n + 1)),
        notes=notes, play=True, frame_ms=250)


def update_inspector(run: dict, names: Sequence[str], epsilon: float, kl_k1: np.ndarray,
                     kl_k3: np.ndarray) -> dict:
    """Inside each update of the first seed: the batch's ratios after every epoch, their
    middle 80 % shaded and their median drawn, one colour per run. The note gives the update's
    KL estimators (kl_k1, kl_k3: (objective, updates), from the ratios after the last epoch),
    its exact KL, clip fraction and wrong-side share. An explorable over the updates."""
    ratios = run["ratios"]  # (objective, updates, epochs, batch)
    limit = 3
    q10, q50, q90 = (_log2_ratio(np.quantile(ratios, q, axis=-1), limit)
                     for q in (0.1, 0.5, 0.9))
    epochs = np.arange(1, ratios.shape[2] + 1)
    axes = AXES

    def band(i: int, u: int) -> dict:
        return dict(x=list(epochs) + list(epochs[::-1]),
                    y=compact(q90[i, u]) + compact(q10[i, u, ::-1]))

    data = []
    for i, key in enumerate(names):
        color = OBJECTIVE_COLORS[key]
        data.append(dict(type="scatter", mode="lines", fill="toself", **band(i, 0),
                         fillcolor=_rgba(color, 0.25), line=dict(width=0, color=_rgba(color, 0)),
                         name=f"{SHORT_NAMES[key]}: middle 80 % of the ratios",
                         legendgroup=key, showlegend=False, hoverinfo="skip"))
    for i, key in enumerate(names):
        data.append(_line(axes, list(epochs), compact(q50[i, 0]), OBJECTIVE_COLORS[key],
                          f"{SHORT_NAMES[key]}: median", legendgroup=key,
                          mode="lines+markers", marker=dict(size=9),
                          hovertemplate="epoch %{x}<extra></extra>"))
    layout = dict(
        xaxis=dict(range=[1 - max(0.6, 0.3 * (epochs[-1] - 0.6)), epochs[-1] + 0.4],
                   tickvals=list(epochs),
                   title=dict(text="epoch")),
        # room above the largest ratio shown, for the legend
        yaxis=_log2_axis(limit, "ratio r (log scale)") | dict(range=[-limit - 0.3, limit + 2.2]),
        legend=TOP_LEFT,
        shapes=[_hline(axes, np.log2(1 - epsilon), color=EXACT, dash="dash"),
                _hline(axes, np.log2(1 + epsilon), color=EXACT, dash="dash"),
                _hline(axes, 0, dash="solid", width=1)],
        # The band named left of the first epoch, where no median or range is drawn.
        annotations=[dict(x=0, y=np.log2(1 + epsilon), xref="x domain", yref="y",
                          text=f"1 ± {epsilon:g}", showarrow=False, xanchor="left",
                          yanchor="bottom")])
    n_updates = ratios.shape[1]
    frames, notes = [], []
    for u in range(n_updates):
        frames.append([band(i, u) for i in range(len(names))]
                      + [dict(y=compact(q50[i, u])) for i in range(len(names))])
        notes.append(f"Update {u + 1}, first seed: KL (k1, k3) in nats<br>" + "<br>".join(
            f"{SHORT_NAMES[key]}: KL {run['kl_exact'][i, 0, u]:.3f} (k1 {kl_k1[i, u]:.3f}, k3 "
            f"{kl_k3[i, u]:.3f})<br>clip fraction "
            f"{run['clip_fraction'][i, 0, u]:.0%}, wrong side {run['wrong_side'][i, 0, u]:.0%}"
            for i, key in enumerate(names)))
    return explorable.build(
        _figure(data, layout, "Inside one update: ratios epoch by epoch",
                height=400, notes=notes),
        list(range(1, n_updates + 1)), "update", frames, changing=list(range(2 * len(names))),
        notes=notes, play=True, frame_ms=250)
