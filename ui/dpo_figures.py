"""Figures for the DPO lesson: the loss of one pair as β slides, the derivation's checks, and
replays of DPO runs on the tiny LM (the batch on the weight curve, the policy's distribution over
replies, TRL's logged metrics, the exact reward and KL).

Figures are built from plain trace and layout dicts (no make_subplots, no add_hline). The
explorables (ui/explorable.py) keep to two panels and a handful of traces, and their frames carry
only the traces that change, so moving their sliders redraws at once in the browser.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import explorable, theme
from ui.explorable import compact
from ui.figures import axis_refs, hline

C = theme.COLORS
POINT = dict(size=15, color=C["highlight"], line=dict(color=C["exact"], width=2))
LEGEND_TOP = dict(orientation="h", y=1.0, x=1, xanchor="right", yanchor="bottom")
# Inside the plot at its top right: an explorable's slider sits below the plot.
INSIDE_LEGEND = dict(orientation="h", x=1, xanchor="right", y=1, yanchor="top")


# Pixels between an axis's tick labels and its title: kept small, so that on a phone the play
# buttons under the plot do not cover the lowest axis title.
TITLE_STANDOFF = 4


def _top_title(text: str) -> dict:
    """A title at the very top of the figure: an explorable's lines of numbers fill the top
    margin under it."""
    return dict(text=text, y=1, yref="container", yanchor="top", pad=dict(t=14))


def _layout(title: str, x_title: str, y_title: str, **extra) -> dict:
    layout = dict(title=dict(text=title), xaxis=dict(title=dict(text=x_title)),
                  yaxis=dict(title=dict(text=y_title)), showlegend=False)
    for axis in ("xaxis", "yaxis"):
        if axis in extra:
            more = dict(extra.pop(axis))
            layout[axis]["title"].update(more.pop("title", {}))
            layout[axis].update(more)
    layout.update(extra)
    return layout


def signed(value: float, digits: int = 3) -> str:
    """+0.405 or −0.405, with a real minus sign."""
    return f"{value:+.{digits}f}".replace("-", "−")


# 2. The loss of one pair, as β slides

# The four losses against h: each its own colour and dash, named by the legend.
VARIANT_STYLES = {
    "DPO": dict(color=C["policy"], width=4),
    "IPO": dict(color=C["exact"], width=2, dash="dash"),
    "hinge": dict(color=C["estimate"], width=2.5, dash="dot"),
    "cDPO": dict(color=C["Q"], width=2.5, dash="dashdot"),
}
RULER_Y = -0.6  # where the pair's two log-ratios sit, below the loss curves
LOSS_TOP = 5.0
# A white band above the loss axis holds the legend: the curves that leave the axis pass under
# it, so the legend never covers a curve (two rows of names fit on a phone).
LEGEND_BAND = 0.9
TANGENT_REACH = 0.09  # the tangent spans this share of the h axis on each side of the pair


def loss_curves(curves: dict[str, Sequence[tuple[np.ndarray | None, np.ndarray]]]) -> dict:
    """Loss curves as the loss chart's frames carry them: {name: one dict per β}, with y (the
    losses far above the axis left out as gaps: the line leaves the chart, the frame stays
    small) and, for a curve drawn through points of its own (the hinge's corners), x.

    curves: {name: [(x, losses) per β]}, x None for the chart's h grid. The same for every pair
    whose h fits the axis, so a page computes and keeps them apart from the pair's numbers."""
    def frame(x, losses) -> dict:
        y = compact(np.where(np.asarray(losses) <= LOSS_TOP + 1, losses, np.nan))
        return dict(y=y) if x is None else dict(x=compact(x), y=y)

    return {name: [frame(x, losses) for x, losses in per_beta]
            for name, per_beta in curves.items()}


def _tangent(h: float, reach: float, point: dict) -> list:
    """The ends of the tangent to the DPO curve at the pair: slope dℓ/dh = −β·σ(−m)."""
    return compact([point["loss"] - point["slope"] * reach, point["loss"] + point["slope"] * reach])


def _loss_note(beta: float, point: dict) -> str:
    """The pair's numbers at one β, in lines short enough for a phone."""
    lines = [f"β = {beta:g}: r̂_w = {signed(point['chosen'])}, r̂_l = {signed(point['rejected'])}",
             f"margin m = β·h = {signed(point['margin'])}",
             f"DPO loss {point['loss']:.3f} · weight σ(−m) {point['weight']:.3f}"]
    if point.get("variants"):
        lines.append(" · ".join(f"{name} {value:.3f}"
                                for name, value in point["variants"].items()))
    return "<br>".join(lines)


def loss_explorable(h_grid: np.ndarray, h: float, log_ratios: tuple[float, float],
                    betas: Sequence[float], curves: dict[str, list[list]],
                    points: Sequence[dict]) -> dict:
    """The loss of one pair against h, the log-ratio difference its four probabilities fix, for
    DPO and its variants, as β slides: the curves steepen with β while the pair (the yellow
    point, with its tangent) rides the DPO curve at its own h. Below the curves, the pair's two
    log-ratios ρ = log π_θ/π_ref, whose gap is h. An explorable over β.

    curves: from `loss_curves` (over h_grid at each β); points: per β, the pair's numbers: loss,
    slope (dℓ/dh), chosen, rejected (the implicit rewards), margin, weight, and variants
    ({name: that variant's loss at h}).
    """
    lo, hi = float(h_grid[0]), float(h_grid[-1])
    reach = TANGENT_REACH * (hi - lo)
    rho_chosen, rho_rejected = log_ratios
    data = [dict(type="scatter", **{"x": compact(h_grid), **values[0]}, mode="lines",
                 name=name, line=VARIANT_STYLES[name],
                 hovertemplate="h %{x:.2f}: loss %{y:.3f}<extra>" + name + "</extra>")
            for name, values in curves.items()]
    data += [
        dict(type="scatter", x=compact([h - reach, h + reach]), y=_tangent(h, reach, points[0]),
             mode="lines", name="slope dℓ/dh at your pair", showlegend=False,
             line=dict(color=C["exact"], width=2), hoverinfo="skip"),
        dict(type="scatter", x=compact([h]), y=compact([min(points[0]["loss"], LOSS_TOP)]),
             mode="markers", marker=POINT, name="your pair", showlegend=False,
             hovertemplate="your pair: h %{x:.3f}, loss %{y:.3f}<extra></extra>"),
        dict(type="scatter", x=compact([rho_rejected, rho_chosen]), y=[RULER_Y, RULER_Y],
             mode="lines+markers", showlegend=False, name="the log-ratios",
             marker=dict(size=14, color=[C["rejected"], C["chosen"]],
                         symbol=["circle", "diamond"], line=dict(color="white", width=1)),
             line=dict(color=C["reference"], width=2),
             hovertemplate="log-ratio %{x:.3f}<extra></extra>"),
    ]
    layout = _layout(
        "The loss of your pair as β changes",
        "h = ρ_w − ρ_l (nats)", "loss of the pair (nats)",
        xaxis=dict(range=[lo, hi], zeroline=True, zerolinecolor=C["muted"], automargin=False,
                   title=dict(standoff=TITLE_STANDOFF)),
        yaxis=dict(range=[RULER_Y - 0.5, LOSS_TOP + LEGEND_BAND],
                   tickvals=list(range(int(LOSS_TOP) + 1)), automargin=False),
        showlegend=True, legend=INSIDE_LEGEND, height=500,
        margin=dict(l=64, r=16, t=56, b=60),
    )
    layout["title"] = _top_title(layout["title"]["text"])
    layout["shapes"] = [
        dict(type="rect", xref="x domain", x0=0, x1=1, yref="y", y0=LOSS_TOP,
             y1=LOSS_TOP + LEGEND_BAND, fillcolor="white", line=dict(width=0), layer="above"),
        dict(type="line", xref="x", x0=lo, x1=hi, yref="y", y0=-0.15, y1=-0.15,
             line=dict(color=C["muted"], width=1)),
        dict(type="line", xref="x", x0=h, x1=h, yref="y", y0=RULER_Y, y1=LOSS_TOP,
             line=dict(color=C["exact"], width=1, dash="dot")),
    ]
    layout["annotations"] = [
        dict(x=lo, y=RULER_Y, xref="x", yref="y", xanchor="left", yanchor="bottom", yshift=8,
             showarrow=False, font=dict(size=13), bgcolor="rgba(255, 255, 255, 0.85)",
             text=f"log-ratios: ρ_l {signed(rho_rejected)} · ρ_w {signed(rho_chosen)}"),
    ]
    frames = [[*(values[k] for values in curves.values()),
               dict(y=_tangent(h, reach, point)),
               dict(y=compact([min(point["loss"], LOSS_TOP)]))]
              for k, point in enumerate(points)]
    changing = [*range(len(curves)), len(curves), len(curves) + 1]
    return explorable.build(dict(data=data, layout=layout), values=[float(b) for b in betas],
                            label="β", frames=frames, changing=changing,
                            notes=[_loss_note(b, p) for b, p in zip(betas, points, strict=True)])


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
    layout = _layout("The DPO loss is smallest at π*", "t in π_t ∝ π_ref·exp(t·r/β)<br>"
                     "(0 = the reference, 1 = π*)", "expected DPO loss (nats)",
                     yaxis=dict(range=[low - pad, high + 2 * pad]))
    return go.Figure(data=data, layout=layout)


# 4. The gradient weight over a batch, replayed

def weights_replay(curve_m: np.ndarray, curve_w: np.ndarray, steps: Sequence[int],
                   margins: np.ndarray, weights: np.ndarray, agrees: np.ndarray,
                   accuracies: Sequence[float], losses: Sequence[float]) -> dict:
    """Each pair of the batch at (its margin, its gradient weight σ(−margin)) on the weight
    curve, after every step of a DPO run: green circles where the label agrees with the hidden
    reward, red-orange crosses where it was flipped (goes against it). A replay over the steps,
    with play. The legend sits at the top right, where no pair can be: a positive margin has a
    weight below ½.

    curve_m, curve_w: the weight curve, over the margins the chart spans; margins, weights:
    (len(steps), pairs); accuracies, losses: the batch's, per step.
    """
    agrees = np.asarray(agrees, dtype=bool)
    groups = ((agrees, "label agrees", "chosen", "circle"),
              (~agrees, "label flipped", "rejected", "x"))
    data = [dict(type="scatter", x=compact(curve_m), y=compact(curve_w), mode="lines",
                 line=dict(color=C["muted"], width=3), name="weight σ(−m)", hoverinfo="skip")]
    data += [dict(type="scatter", x=compact(margins[0, mask]), y=compact(weights[0, mask]),
                  mode="markers", name=name,
                  marker=dict(size=10, color=C[role], symbol=symbol, opacity=0.8,
                              line=dict(color="white", width=1)),
                  hovertemplate="margin %{x:.2f}, weight %{y:.3f}<extra></extra>")
             for mask, name, role, symbol in groups]
    lo, hi = float(curve_m[0]), float(curve_m[-1])
    layout = _layout("The batch on the weight curve σ(−m)",
                     "margin m = r̂_w − r̂_l of the pair", "gradient weight σ(r̂_l − r̂_w)",
                     xaxis=dict(range=[lo, hi], automargin=False,
                                title=dict(standoff=TITLE_STANDOFF)),
                     yaxis=dict(range=[-0.03, 1.05], title=dict(standoff=10)), showlegend=True,
                     legend=dict(x=1, xanchor="right", y=1, yanchor="top"),
                     margin=dict(l=64, r=16, t=56, b=60), height=400)
    layout["title"] = _top_title(layout["title"]["text"])
    layout["shapes"] = [dict(type="line", xref="x", x0=0, x1=0, yref="y", y0=0, y1=1,
                             line=dict(color=C["muted"], width=1, dash="dot"))]
    frames = [[dict(x=compact(margins[k, mask]), y=compact(weights[k, mask]))
               for mask, *_ in groups] for k in range(len(steps))]
    pairs = margins.shape[1]
    notes = [f"After {s} steps: {round(a * pairs)} of {pairs} pairs<br>ranked right "
             f"({100 * a:.0f} %) · loss {loss:.3f}<br>mean weight σ(−m) {np.mean(weights[k]):.3f}"
             for k, (s, a, loss) in enumerate(zip(steps, accuracies, losses, strict=True))]
    return explorable.build(dict(data=data, layout=layout), values=[int(s) for s in steps],
                            label="steps taken", frames=frames, changing=[1, 2], notes=notes,
                            play=True)


# 4., 5. and 6. Training runs, replayed step by step

PANEL_GAP = 0.2  # the share of the plot height between two stacked panels (the upper x title)
STEP_PAD = 0.015  # the share of the steps axis left free at either end


def _domains(count: int) -> list[list[float]]:
    if count == 1:
        return [[0.0, 1.0]]
    return [[(1 + PANEL_GAP) / 2, 1.0], [0.0, (1 - PANEL_GAP) / 2]]


def _legend(index: int) -> str:
    return "legend" if index == 0 else f"legend{index + 1}"


def _legend_place(corner: str, domain: list[float]) -> dict:
    """A panel's legend: inside one of its corners ("top right", "bottom left", ...), or
    "above" it, outside the plot, in the gap under the panel above (a lower panel only)."""
    if corner == "above":
        return dict(orientation="h", x=0, xanchor="left", y=domain[1], yanchor="bottom")
    vertical, horizontal = corner.split()
    return dict(orientation="h", x=0 if horizontal == "left" else 1, xanchor=horizontal,
                y=domain[1] if vertical == "top" else domain[0], yanchor=vertical)


def _panel(panel: dict, index: int, steps: np.ndarray, domain: list[float],
           x_title: str, legend_of: int | None = None) -> tuple[list[dict], dict]:
    """One panel of training curves: its lines (static), a marker trace that follows the
    slider's step (last), and its axes, level lines and legend. With ``legend_of``, its curves
    are named in the legend of that panel instead of one of its own."""
    x, y = axis_refs(index)
    corner = panel.get("legend", "top right")
    # A lone curve is named by its axis title, unless it joins another panel's legend; a panel
    # may also leave the names to the other one (legend None).
    named = legend_of is not None or (corner is not None and len(panel["series"]) > 1)
    legend = _legend(index if legend_of is None else legend_of)
    traces = [dict(type="scatter", x=compact(steps), y=compact(s["y"]), mode="lines",
                   name=s["name"], xaxis=x, yaxis=y, legend=legend, showlegend=named,
                   line=dict(color=C[s["role"]], width=s.get("width", 3),
                             dash=s.get("dash", "solid")),
                   hovertemplate="step %{x}: %{y:.3f}<extra>" + s["name"] + "</extra>")
              for s in panel["series"]]
    traces.append(dict(type="scatter", x=[int(steps[0])] * len(panel["series"]),
                       y=[None] * len(panel["series"]), mode="markers", xaxis=x, yaxis=y,
                       showlegend=False, hoverinfo="skip", name="at the slider's step",
                       marker=dict(size=12, color=[C[s["role"]] for s in panel["series"]],
                                   line=dict(color="white", width=2))))
    suffix = x[1:]
    pad = STEP_PAD * float(steps[-1] - steps[0])  # room for the markers at either end
    layout = {
        f"xaxis{suffix}": dict(domain=[0, 1], anchor=y,
                               title=dict(text=x_title, standoff=TITLE_STANDOFF),
                               range=[float(steps[0]) - pad, float(steps[-1]) + pad]),
        f"yaxis{suffix}": dict(domain=domain, anchor=x, title=dict(text=panel["y_title"]),
                               **({"range": panel["range"]} if "range" in panel else {})),
        "shapes": [hline(value, role, index, dash="dot") for value, _, role in
                   panel.get("levels", ())],
        "annotations": [dict(x=1, y=value, xref=f"{x} domain", yref=y, text=text,
                             showarrow=False, xanchor="right", yanchor="bottom",
                             font=dict(size=13, color=C[role]))
                        for value, text, role in panel.get("levels", ()) if text],
    }
    if legend_of is None and corner is not None:
        layout[legend] = _legend_place(corner, domain)
    return traces, layout


def _marker(panel: dict, steps: np.ndarray, step: int) -> dict:
    at = int(np.searchsorted(steps, step))
    return dict(x=[int(step)] * len(panel["series"]),
                y=compact([np.asarray(s["y"], dtype=float)[at] for s in panel["series"]]))


def _stacked(title: str, parts: Sequence[tuple[list[dict], dict]], height: int) -> dict:
    data, layout = [], dict(title=_top_title(title), height=height, shapes=[], annotations=[],
                            margin=dict(l=10, r=10, t=56, b=10))
    for traces, panel_layout in parts:
        data += traces
        layout["shapes"] += panel_layout.pop("shapes")
        layout["annotations"] += panel_layout.pop("annotations")
        layout.update(panel_layout)
    return dict(data=data, layout=layout)


def curves_replay(steps: np.ndarray, panels: Sequence[dict], frame_steps: Sequence[int],
                  notes: Sequence[str], title: str, x_title: str = "steps taken",
                  one_legend: bool = False) -> dict:
    """A training run replayed: one or two panels of curves over the steps (the first on top),
    each curve with a marker at the slider's step; the frame's numbers in ``notes``.

    panels: dicts with y_title, series (dicts: name, y over ``steps``, role (a theme colour),
    optionally dash and width), and optionally levels ((value, label, role) dotted lines),
    range, and legend: where the panel's legend sits: a corner ("top right", the default,
    "top left", "bottom left", "bottom right"), "above" (outside the plot, for the lower panel),
    or None for none. A lone curve gets no legend entry: its axis title names it.
    one_legend: every curve of every panel named in the last panel's legend (place it with that
    panel's legend; give each curve its own look), so panels of one curve each are told apart by
    the legend as well as by their axis titles.
    """
    steps = np.asarray(steps)
    last = len(panels) - 1
    parts, markers = [], []
    for index, (panel, domain) in enumerate(zip(panels, _domains(len(panels)), strict=True)):
        legend_of = last if one_legend and index < last else None
        parts.append(_panel(panel, index, steps, domain, x_title, legend_of))
        markers.append(sum(len(p[0]) for p in parts) - 1)
    if one_legend:  # the last panel's own curves are named there too, even a lone one
        for trace in parts[-1][0][:-1]:
            trace["showlegend"] = True
    spec = _stacked(title, parts, 300 + 160 * len(panels))
    frames = [[_marker(panel, steps, s) for panel in panels] for s in frame_steps]
    return explorable.build(spec, values=[int(s) for s in frame_steps], label="steps taken",
                            frames=frames, changing=markers, notes=notes, play=True)


def shown_replies(ref: np.ndarray, star: np.ndarray, final: np.ndarray,
                  tracked: Sequence[tuple[int, int]], count: int) -> list[tuple[int, int]]:
    """The (prompt, reply) pairs a distribution chart shows: the tracked ones, then the likeliest
    under π_ref, π* or the trained policy (the largest of the three), ``count`` in all, in the
    order π* ranks them (most likely first)."""
    likeliest = np.argsort(-np.maximum(np.maximum(ref, star), final), axis=None, kind="stable")
    chosen = list(dict.fromkeys([*tracked, *(tuple(int(i) for i in np.unravel_index(
        flat, ref.shape)) for flat in likeliest[:count + len(tracked)])]))[:count]
    return sorted(chosen, key=lambda pair: -star[pair])


# The distribution's axis reaches this far above its largest value: room for its legend (three
# rows on a phone) where no frame draws.
DISTRIBUTION_HEADROOM = 1.5
TRACKED_SYMBOLS = {"chosen": "diamond", "rejected": "x"}


def training_replay(labels: Sequence[str], ref: np.ndarray, star: np.ndarray,
                    policy: np.ndarray, tracked: Sequence[tuple[int, str]],
                    frame_steps: Sequence[int], steps: np.ndarray, rewards: dict,
                    notes: Sequence[str]) -> dict:
    """A DPO run replayed. Top: the policy's distribution over the shown replies (in the order
    π* ranks them), moving from π_ref (grey) toward π* (black dots), with the replies the pairs
    chose (green diamonds) or rejected (red-orange crosses) most often marked on it. Bottom: a
    panel of curves (as ``curves_replay``) with markers at the slider's step.

    ref, star: (K,) probabilities of the shown replies; policy: (len(frame_steps), K);
    tracked: (index among the shown replies, "chosen" or "rejected").
    """
    ranks = np.arange(1, len(labels) + 1)
    # No frame reaches above the largest probability: the headroom holds the legend
    top = DISTRIBUTION_HEADROOM * float(max(np.max(ref), np.max(star), np.max(policy)))
    marked = {role: [i for i, r in tracked if r == role] for role in ("chosen", "rejected")}
    step_line = dict(shape="hvh")
    distribution = [
        dict(type="scatter", x=ranks, y=compact(ref), name="π_ref", mode="lines",
             line=dict(color=C["reference"], width=1, **step_line), fill="tozeroy",
             fillcolor="rgba(122, 122, 122, 0.3)", customdata=list(labels),
             hovertemplate="%{customdata}: %{y:.3f}<extra>π_ref</extra>"),
        dict(type="scatter", x=ranks, y=compact(star), name="π*", mode="lines",
             line=dict(color=C["exact"], width=2, dash="dot", **step_line),
             customdata=list(labels), hovertemplate="%{customdata}: %{y:.3f}<extra>π*</extra>"),
        dict(type="scatter", x=ranks, y=compact(policy[0]), name="π_θ", mode="lines",
             line=dict(color=C["policy"], width=3, **step_line), customdata=list(labels),
             hovertemplate="%{customdata}: %{y:.3f}<extra>π_θ</extra>"),
    ]
    distribution += [
        dict(type="scatter", x=ranks[index], y=compact(policy[0, index]), mode="markers",
             name=f"often {role}",
             marker=dict(size=12, color=C[role], symbol=TRACKED_SYMBOLS[role],
                         line=dict(color="white", width=1)),
             customdata=[labels[i] for i in index],
             hovertemplate="%{customdata}: %{y:.3f}<extra>π_θ, often " + role + "</extra>")
        for role, index in marked.items()]
    domains = _domains(2)
    top_layout = dict(
        xaxis=dict(domain=[0, 1], anchor="y", range=[0.5, len(labels) + 0.5],
                   title=dict(text="replies, ranked by π* (hover to read)",
                              standoff=TITLE_STANDOFF)),
        yaxis=dict(domain=domains[0], anchor="x", range=[0, top],
                   title=dict(text="π(y | x)")),
        legend=dict(orientation="h", x=1, xanchor="right", y=1, yanchor="top"),
        shapes=[], annotations=[])
    steps = np.asarray(steps)
    spec = _stacked("DPO training, step by step",
                    [(distribution, top_layout), _panel(rewards, 1, steps, domains[1],
                                                        "steps taken")], 740)
    frames = [[dict(y=compact(policy[k])),
               *(dict(y=compact(policy[k, index])) for index in marked.values()),
               _marker(rewards, steps, s)] for k, s in enumerate(frame_steps)]
    return explorable.build(spec, values=[int(s) for s in frame_steps], label="steps taken",
                            frames=frames, changing=[2, 3, 4, len(spec["data"]) - 1],
                            notes=notes, play=True)
