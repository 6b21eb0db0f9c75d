"""Figures for the PPO lesson: the surrogate, PPO's Figure 1 made live, the learner's version
beside PPO's, GAE, and the training runs on the bandit.

Every figure is built in one go from plain trace and layout dicts (panels laid out by `_grid`),
not with make_subplots and add_vline/add_vrect: those validate and re-lay-out the figure on
every call, which costs tens of milliseconds per chart, and each section redraws on every
slider move.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import theme

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
FLAT_FILL = theme.COLORS["muted"]
WRONG_FILL = theme.COLORS["rejected"]
GUIDE = theme.COLORS["reference"]
POINT = dict(size=15, color=theme.COLORS["highlight"],
             line=dict(color=theme.COLORS["exact"], width=2))
TITLE_FONT: dict = {}  # the template's size, so presenter mode enlarges panel titles too


# Layout helpers


def _names(index: int) -> tuple[str, str]:
    """Trace axis names of panel ``index`` (1-based): ("x", "y"), ("x2", "y2"), ..."""
    return ("x", "y") if index == 1 else (f"x{index}", f"y{index}")


def _grid(rows: int, cols: int, titles: Sequence[str] = (), widths=None, heights=None,
          hgap: float = 0.08, vgap: float = 0.12, shared_x: bool = False,
          shared_y: bool = False) -> tuple[dict, list[list[tuple[str, str]]]]:
    """Axis domains for a rows × cols grid of panels, row 1 on top, and their subplot titles.

    Returns the layout dict and, per [row][col], the (x, y) axis names to put traces on.
    """
    widths = np.array(widths or [1] * cols, float)
    heights = np.array(heights or [1] * rows, float)
    w = widths / widths.sum() * (1 - hgap * (cols - 1))
    h = heights / heights.sum() * (1 - vgap * (rows - 1))
    layout: dict = {"annotations": []}
    cells = []
    for r in range(rows):
        top = 1 - sum(h[:r]) - vgap * r
        row_cells = []
        for c in range(cols):
            left = sum(w[:c]) + hgap * c
            index = r * cols + c + 1
            x, y = _names(index)
            xkey, ykey = x.replace("x", "xaxis"), y.replace("y", "yaxis")
            layout[xkey] = dict(domain=[left, left + w[c]], anchor=y)
            layout[ykey] = dict(domain=[top - h[r], top], anchor=x)
            if shared_x and r < rows - 1:
                layout[xkey].update(matches=_names((rows - 1) * cols + c + 1)[0],
                                    showticklabels=False)
            if shared_y and c > 0:
                layout[ykey].update(matches=_names(r * cols + 1)[1], showticklabels=False)
            if index <= len(titles) and titles[index - 1]:
                layout["annotations"].append(dict(
                    text=titles[index - 1], x=left + w[c] / 2, y=top, xref="paper",
                    yref="paper", xanchor="center", yanchor="bottom", showarrow=False,
                    font=TITLE_FONT))
            row_cells.append((x, y))
        cells.append(row_cells)
    return layout, cells


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
    return dict(type="scatter", x=x, y=y, mode="lines", name=name, xaxis=xa, yaxis=ya,
                line=dict(color=color, width=width) | extra.pop("line", {}), **extra)


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


def _figure(data, layout, title=None, height=360, legend=None):
    layout = dict(layout, height=height)
    if title:
        layout["title"] = dict(text=title)
    if legend:
        layout["legend"] = legend
    return go.Figure(data=data, layout=layout)


BELOW = dict(orientation="h", y=-0.25, x=0, yanchor="top")


def ratio_grid(epsilon: float, hi: float = 3.0, points: int = 61) -> np.ndarray:
    """Ratios to draw the clipped objectives on: an even grid plus each kink 1±ε approached from
    both sides, so a few dozen points draw the corners and the slope's jumps exactly."""
    kinks = [k + d for k in (1 - epsilon, 1 + epsilon) for d in (-1e-9, 0.0, 1e-9)]
    return np.union1d(np.linspace(0.0, hi, points), kinks)


# Section 1


def surrogate_line(r_grid: np.ndarray, values: np.ndarray, r: float, value: float, a: float):
    """r·A against r: a straight line through the origin that never levels off."""
    layout, cells = _grid(1, 1)
    axes = cells[0][0]
    color = SIGN_COLORS["A > 0" if a >= 0 else "A < 0"]
    data = [_line(axes, r_grid, values, color, "r·A", showlegend=False), _point(axes, r, value)]
    layout["shapes"] = [_vline(axes, 1, dash="dot")]
    layout["annotations"].append(dict(x=1, y=1, xref="x", yref="y domain", text="r = 1",
                                      showarrow=False, xanchor="left", yanchor="top"))
    _axis_title(layout, axes, "probability ratio r = π_new / π_old", "r·A (advantage units)")
    return _figure(data, layout, f"The surrogate r·A for A = {a:g}", height=380)


LOG2_TICKS = (1 / 64, 1 / 8, 0.5, 1, 2, 8, 64)
LOG2_TEXT = ("≤1/64", "1/8", "1/2", "1", "2", "8", "≥64")


def one_batch(steps: np.ndarray, promise: np.ndarray, gain: np.ndarray, step: int,
              ratios: np.ndarray, epsilon: float):
    """Left: the batch's promise against the real gain over ascent steps. Right: where the
    batch's ratios are after the chosen number of steps."""
    layout, cells = _grid(1, 2, ("What the batch promises, and what really happens",
                                 f"The batch's {ratios.size} ratios after {step} steps"),
                          widths=[0.58, 0.42], hgap=0.1)
    left, right = cells[0]
    log2r = np.log2(np.clip(ratios, 2.0 ** -6, 2.0 ** 6))
    data = [
        _line(left, steps, promise, theme.COLORS["estimate"], "promise: mean r·Â on the batch"),
        _line(left, steps, gain, theme.COLORS["exact"], "real gain: J(π) − J(π_old), exact"),
        dict(type="scatter", x=[step, step], y=[promise[step], gain[step]], mode="markers",
             marker=POINT, showlegend=False, hoverinfo="skip", xaxis=left[0], yaxis=left[1]),
        dict(type="histogram", x=log2r, xbins=dict(start=-6, end=6, size=0.25),
             marker=dict(color=theme.COLORS["policy"]), showlegend=False, name="ratios",
             hovertemplate="%{y} samples<extra></extra>", xaxis=right[0], yaxis=right[1]),
    ]
    layout["shapes"] = [_vline(left, step, dash="dot"),
                        _vrect(right, np.log2(1 - epsilon), np.log2(1 + epsilon), opacity=0.9)]
    layout["annotations"].append(dict(x=0, y=1, xref=right[0], yref=f"{right[1]} domain",
                                      text=f"1 ± {epsilon:g}", showarrow=False,
                                      xanchor="left", yanchor="top"))
    _axis_title(layout, left, "gradient steps on the same batch", "change in expected reward")
    _axis_title(layout, right, "ratio r (log scale)", "samples", x_range=[-6.3, 6.3],
                x_tickvals=list(np.log2(LOG2_TICKS)), x_ticktext=list(LOG2_TEXT))
    return _figure(data, layout, "One batch, many gradient steps", height=420, legend=BELOW)


# Section 2


def clip_panels(r_grid: np.ndarray, panels: dict, epsilon: float, r: float):
    """PPO's Figure 1, live: L^CLIP (top) and dL/dr (bottom) for A > 0 and A < 0, the flat
    regions shaded, the unclipped r·A dotted, and the learner's point on its panel."""
    signs = list(panels)
    layout, cells = _grid(
        2, 2, [f"L^CLIP for {s} (A = {panels[s]['a']:g})" for s in signs]
        + [f"slope dL^CLIP/dr for {s}" for s in signs],
        heights=[0.62, 0.38], hgap=0.08, vgap=0.12, shared_x=True)
    data, shapes = [], []
    for col, sign in enumerate(signs):
        panel, color = panels[sign], SIGN_COLORS[sign]
        top, bottom = cells[0][col], cells[1][col]
        flat = (1 + epsilon, r_grid[-1]) if sign == "A > 0" else (r_grid[0], 1 - epsilon)
        for axes in (top, bottom):
            shapes.append(_vrect(axes, *flat))
            shapes += [_vline(axes, 1 - epsilon), _vline(axes, 1 + epsilon)]
        data += [
            _line(top, r_grid, panel["unclipped"], GUIDE, "r·A (unclipped)", width=2,
                  line=dict(dash="dot"), showlegend=col == 0, legendgroup="unclipped"),
            _line(top, r_grid, panel["objective"], color, "L^CLIP", width=4, showlegend=False),
            _line(bottom, r_grid, panel["gradient"], color, "slope", showlegend=False),
            dict(type="scatter", x=[1], y=[panel["a"]], mode="markers",
                 name="r = 1: where every update starts", showlegend=col == 0,
                 marker=dict(size=11, color="white", line=dict(color=theme.COLORS["exact"],
                                                               width=2)),
                 xaxis=top[0], yaxis=top[1]),
        ]
        if panel.get("here") is not None:
            value, slope = panel["here"]
            data += [_point(top, r, value), _point(bottom, r, slope)]
        _axis_title(layout, top, y_title="objective (advantage units)")
        _axis_title(layout, bottom, "probability ratio r", "slope dL/dr", y_range=[-2.4, 2.4])
    layout["shapes"] = shapes
    return _figure(data, layout, f"Clipping with ε = {epsilon:g}: grey = flat, slope 0",
                   height=580, legend=dict(orientation="h", y=-0.12, x=0, yanchor="top"))


# Section 3


def learner_vs_ppo(r_grid: np.ndarray, learner: np.ndarray, ppo: np.ndarray, epsilon: float,
                   r: float, points: dict, slopes: dict):
    """The learner's clip(r)·A beside PPO's min(r·A, clip(r)·A), the chosen r marked, and an
    arrow for where gradient ascent moves r (or a note that nothing moves it)."""
    layout, cells = _grid(1, 2, ("The learner's version: clip(r)·A",
                                 "PPO: min(r·A, clip(r)·A)"), hgap=0.06, shared_y=True)
    data, shapes = [], []
    for col, (key, values) in enumerate((("learner", learner), ("ppo", ppo))):
        axes = cells[0][col]
        xa, ya = axes
        shapes.append(_vrect(axes, 1 - epsilon, 1 + epsilon))
        data += [_line(axes, r_grid, values, OBJECTIVE_COLORS[key], OBJECTIVE_NAMES[key],
                       width=4, showlegend=False), _point(axes, r, points[key])]
        slope = slopes[key]
        if slope == 0:
            text, color = "slope 0: nothing moves r", theme.COLORS["rejected"]
        else:
            way = "up" if slope > 0 else "down"
            text, color = f"slope {slope:g}: ascent moves r {way}", theme.COLORS["exact"]
            layout["annotations"].append(dict(
                x=r + 0.4 * np.sign(slope), y=points[key], ax=r, ay=points[key], xref=xa,
                yref=ya, axref=xa, ayref=ya, text="", showarrow=True, arrowhead=3,
                arrowsize=1.2, arrowwidth=3, arrowcolor=theme.COLORS["exact"]))
        layout["annotations"].append(dict(x=r, y=points[key], xref=xa, yref=ya, text=text,
                                          showarrow=False, yshift=-30, xanchor="left",
                                          font=dict(color=color), bgcolor="rgba(255,255,255,0.8)"))
        _axis_title(layout, axes, "probability ratio r",
                    "objective (advantage units)" if col == 0 else None)
    layout["shapes"] = shapes
    return _figure(data, layout, f"The learner's formula against PPO's at ε = {epsilon:g}",
                   height=380)


def knock_curves(steps: np.ndarray, gain: np.ndarray, wrong: np.ndarray, names: Sequence[str]):
    """After a bad step: the real gain and the share of wrong-side samples, per objective."""
    layout, cells = _grid(1, 2, ("Expected reward, relative to π_old",
                                 "Samples on the wrong side of the band"), hgap=0.1)
    left, right = cells[0]
    data = []
    for i, key in enumerate(names):
        color = OBJECTIVE_COLORS[key]
        data += [_line(left, steps, gain[i], color, OBJECTIVE_NAMES[key], legendgroup=key),
                 _line(right, steps, wrong[i], color, OBJECTIVE_NAMES[key], legendgroup=key,
                       showlegend=False)]
    layout["shapes"] = [_hline(left, 0)]
    layout["annotations"].append(dict(x=1, y=0, xref=f"{left[0]} domain", yref=left[1],
                                      text="π_old", showarrow=False, xanchor="right",
                                      yanchor="bottom"))
    _axis_title(layout, left, "gradient steps after the bad step", "J(π) − J(π_old)")
    _axis_title(layout, right, "gradient steps after the bad step", "share of the batch",
                y_tickformat=".0%", y_range=[0, 1])
    return _figure(data, layout, "After one step the wrong way: who pulls the policy back?",
                   height=380, legend=BELOW)


def ratio_scatter(ratios: np.ndarray, advantages: np.ndarray, epsilon: float,
                  names: Sequence[str], title: str):
    """Each sample as (r, A), one panel per objective; the wrong-side regions shaded."""
    layout, cells = _grid(1, len(names), [OBJECTIVE_NAMES[k] for k in names], hgap=0.06,
                          shared_y=True)
    span = max(float(np.max(np.abs(advantages))), 0.1)
    top, bottom = 1.15 * span, -1.15 * span
    right = max(2.5, float(np.max(ratios)) * 1.05)
    data, shapes = [], []
    for col, key in enumerate(names):
        axes = cells[0][col]
        xa, ya = axes
        shapes += [
            _vrect(axes, 1 - epsilon, 1 + epsilon),
            dict(type="rect", x0=0, x1=1 - epsilon, y0=0, y1=top, xref=xa, yref=ya,
                 fillcolor=WRONG_FILL, opacity=0.15, line_width=0, layer="below"),
            dict(type="rect", x0=1 + epsilon, x1=right, y0=bottom, y1=0, xref=xa, yref=ya,
                 fillcolor=WRONG_FILL, opacity=0.15, line_width=0, layer="below"),
            _hline(axes, 0, dash="solid", width=1),
        ]
        data.append(dict(type="scatter", x=ratios[col], y=advantages, mode="markers",
                         showlegend=False, xaxis=xa, yaxis=ya, name=OBJECTIVE_NAMES[key],
                         marker=dict(size=8, color=OBJECTIVE_COLORS[key], opacity=0.85,
                                     line=dict(color="white", width=0.5)),
                         hovertemplate="r = %{x:.2f}<br>A = %{y:.2f}<extra></extra>"))
        _axis_title(layout, axes, "ratio r", "advantage Â (reward units)" if col == 0 else None,
                    x_range=[0, right], y_range=[bottom, top])
    layout["shapes"] = shapes
    return _figure(data, layout, title, height=380)


# Section 4


def gae_bars(t: np.ndarray, delta: np.ndarray, adv: np.ndarray, adv_td: np.ndarray,
             adv_mc: np.ndarray, lam: float):
    """Per step: the TD error δ_t, the GAE advantage, and the two ends of the λ dial."""
    layout, cells = _grid(1, 1)
    xa, ya = cells[0][0]
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
    layout["shapes"] = [_hline(cells[0][0], 0, dash="solid", width=1)]
    layout["barmode"] = "group"
    _axis_title(layout, cells[0][0], "step t", "reward units", x_tickmode="array",
                x_tickvals=list(t))
    return _figure(data, layout, f"TD errors and advantages (λ = {lam:g})", height=420,
                   legend=BELOW)


def gae_dial(lams: np.ndarray, curve: np.ndarray, lam: float, value: float):
    """Â_0 as λ goes from 0 (one-step TD) to 1 (Monte Carlo)."""
    layout, cells = _grid(1, 1)
    axes = cells[0][0]
    data = [_line(axes, lams, curve, theme.COLORS["estimate"], "Â_0(λ)", showlegend=False),
            _point(axes, lam, value)]
    data[1]["hovertemplate"] = "λ = %{x:.2f}<br>Â_0 = %{y:.3f}<extra></extra>"
    for x, y, label, color in ((0, curve[0], "TD", theme.COLORS["P"]),
                               (1, curve[-1], "Monte Carlo", theme.COLORS["Q"])):
        layout["annotations"].append(dict(x=x, y=y, xref="x", yref="y", text=label,
                                          showarrow=True, arrowhead=2, ay=-32,
                                          ax=25 if x == 0 else -25, font=dict(color=color)))
    _axis_title(layout, axes, "λ", "Â_0 (reward units)", x_range=[-0.05, 1.05])
    return _figure(data, layout, "The first step's advantage as λ turns", height=420)


# Section 5


def training_curves(updates: np.ndarray, run: dict, names: Sequence[str], optimal: float):
    """Three panels over updates: expected return (each seed thin, the mean bold), clip fraction
    and approximate KL (k3; the exact KL dotted), means over seeds."""
    layout, cells = _grid(1, 3, ("Expected reward (thin: one seed each)", "Clip fraction",
                                 "KL(π_old‖π_new) per update"), hgap=0.08)
    ret, clip, kl = cells[0]
    data = []
    x0 = np.arange(run["returns"].shape[-1])
    low = min(0.0, float(run["returns"].min()))
    for i, key in enumerate(names):
        color, name = OBJECTIVE_COLORS[key], OBJECTIVE_NAMES[key]
        # Every seed as one thin line: a single trace with gaps between the seeds.
        seeds = run["returns"][i]
        xs = np.concatenate([np.append(x0, np.nan)] * seeds.shape[0])
        ys = np.concatenate([np.append(s, np.nan) for s in seeds])
        data += [
            _line(ret, xs, ys, color, f"{name}, each seed", width=1, opacity=0.35,
                  showlegend=False, legendgroup=key, hoverinfo="skip"),
            _line(ret, x0, seeds.mean(axis=0), color, name, width=4, legendgroup=key),
            _line(clip, updates, run["clip_fraction"][i].mean(axis=0), color, name,
                  legendgroup=key, showlegend=False),
            _line(kl, updates, run["kl_k3"][i].mean(axis=0), color, f"{name}: approx KL (k3)",
                  legendgroup=key, showlegend=False),
            _line(kl, updates, run["kl_exact"][i].mean(axis=0), color, "exact KL (dotted)",
                  width=2, line=dict(dash="dot"), legendgroup="exact", showlegend=i == 0),
        ]
    layout["shapes"] = [_hline(ret, optimal, color=theme.COLORS["exact"], dash="dash")]
    layout["annotations"].append(dict(x=0, y=optimal, xref=f"{ret[0]} domain", yref=ret[1],
                                      text="best possible", showarrow=False, xanchor="left",
                                      yanchor="bottom"))
    _axis_title(layout, ret, "update", "mean reward", y_range=[low - 0.05, optimal + 0.15])
    _axis_title(layout, clip, "update", "share of samples", y_tickformat=".0%",
                y_rangemode="tozero")
    _axis_title(layout, kl, "update", "nats (log scale)", y_type="log", y_dtick=1)
    return _figure(data, layout, "Training the bandit: reward, clipping and KL per update",
                   height=420, legend=BELOW)


RATIO_EDGES = np.linspace(-3, 3, 25)  # log2 r from 1/8 to 8, in quarter steps


def ratio_histograms(ratios: np.ndarray, names: Sequence[str], epsilon: float, update: int):
    """One heat strip per run: column e is the histogram of the batch's ratios after epoch e."""
    layout, cells = _grid(1, len(names), [OBJECTIVE_NAMES[k] for k in names], hgap=0.05,
                          shared_y=True)
    centres = (RATIO_EDGES[:-1] + RATIO_EDGES[1:]) / 2
    log2r = np.clip(np.log2(ratios), RATIO_EDGES[0], RATIO_EDGES[-1] - 1e-9)
    epochs = np.arange(1, ratios.shape[1] + 1)
    data, shapes = [], []
    for col, key in enumerate(names):
        axes = cells[0][col]
        counts = np.stack([np.histogram(row, RATIO_EDGES)[0] for row in log2r[col]], axis=1)
        data.append(dict(type="heatmap", x=epochs, y=centres, z=counts, showscale=False,
                         zmin=0, colorscale=[[0, "white"], [1, OBJECTIVE_COLORS[key]]],
                         name=OBJECTIVE_NAMES[key], xaxis=axes[0], yaxis=axes[1],
                         hovertemplate="epoch %{x}<br>%{z} samples<extra></extra>"))
        for edge in (1 - epsilon, 1 + epsilon):
            shapes.append(_hline(axes, np.log2(edge), color=theme.COLORS["exact"],
                                 dash="dash"))
        _axis_title(layout, axes, "epoch", x_tickmode="array", x_tickvals=list(epochs))
    ticks = [1 / 8, 0.25, 0.5, 1, 2, 4, 8]
    _axis_title(layout, cells[0][0], y_title="ratio r (log scale)",
                y_tickvals=list(np.log2(ticks)),
                y_ticktext=["≤1/8", "1/4", "1/2", "1", "2", "4", "≥8"])
    layout["shapes"] = shapes
    return _figure(data, layout, f"Ratios after each epoch of update {update}", height=400)
