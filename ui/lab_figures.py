"""Figures for the lab "DPO or RLHF?": the exact reward–KL frontier, the runs of a sweep on it,
two datasets side by side, and what a reward model promised against what the reader gave.

Every chart has the exact frontier as a black line (the course's colour for exact values) and
one colour and marker per method, the same in every chart of the lab. Built from plain dicts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import explorable, theme
from ui.explorable import compact

# One look per method. DPO, RLHF and PPO take the colours of their equation badges.
METHOD_STYLE = {
    "dpo": dict(color=theme.OKABE_ITO["green"], symbol="circle"),
    "rlhf": dict(color=theme.OKABE_ITO["vermillion"], symbol="diamond"),
    "ppo_true": dict(color=theme.OKABE_ITO["orange"], symbol="triangle-up"),
    "preferred_ft": dict(color=theme.OKABE_ITO["blue"], symbol="square"),
    "reference": dict(color=theme.COLORS["reference"], symbol="star"),
}
SHORT_NAMES = {"dpo": "DPO", "rlhf": "RLHF", "ppo_true": "PPO, true reward",
               "preferred_ft": "preferred-response FT", "reference": "reference"}
KL_TITLE = "KL(π ‖ π_ref), nats"
REWARD_TITLE = "expected true reward E[r], points"


def _frontier_trace(curve: dict, name: str = "exact optimal frontier (π*_β)") -> dict:
    return dict(type="scatter", mode="lines", x=list(curve["kl"]), y=list(curve["true_reward"]),
                name=name, line=dict(color=theme.COLORS["exact"], width=2.5),
                hovertemplate="frontier: KL %{x:.2f} nats, E[r] %{y:.2f}<extra></extra>")


def _pinned_title(text: str) -> dict:
    """A title held at the top of the figure: an explorable's line of numbers fills the space
    under it, where plotly would otherwise centre the title."""
    return dict(text=text, yref="container", y=1, yanchor="top", pad=dict(t=14))


def _layout(title: str, x_title: str = KL_TITLE, y_title: str = REWARD_TITLE, **extra) -> dict:
    layout = dict(title=dict(text=title), xaxis=dict(title=dict(text=x_title), rangemode="tozero"),
                  yaxis=dict(title=dict(text=y_title)), hovermode="closest",
                  legend=dict(orientation="h", y=-0.22, x=0, yanchor="top"),
                  margin=dict(l=70, r=20, t=60, b=60))
    layout.update(extra)
    return layout


TARGET_STYLE = dict(color=theme.COLORS["policy"], symbol="circle")  # π*_β, where a β aims
STEM = 0.09  # reward points between the stems of two policies at one reward value
# Explorables name their lines on the chart, or list them in a band kept free at the top of
# the plot: a legend beside the data would cover the runs on a phone, and the slider has the
# bottom. Their top margin leaves presenter mode's larger numbers room under the title.
PLAIN = dict(l=10, r=16, t=76, b=60)


def _frontier_line(curve: dict, label_kl: float) -> dict:
    """The frontier, named on the curve at the point nearest ``label_kl``: above it and to the
    left, where no policy can be. (Text on the trace, not an annotation: every frame of an
    explorable repeats the figure's annotations.)"""
    text = [""] * len(curve["kl"])
    text[int(np.argmin(np.abs(np.asarray(curve["kl"]) - label_kl)))] = "exact frontier"
    return {**_frontier_trace(curve, "exact frontier"), "x": compact(curve["kl"]),
            "y": compact(curve["true_reward"]), "showlegend": False, "mode": "lines+text",
            "text": text, "textposition": "top left"}


def _stems(values: np.ndarray, shift: float) -> list:
    """The x of a stem plot: each reward value twice (the stem's foot and top), then a gap."""
    return [x for v in values for x in (float(v) + shift, float(v) + shift, None)]


def _stem_heights(shares: np.ndarray) -> list:
    return [y for share in compact(shares) for y in (0.0, share, None)]


def _stem_trace(values: np.ndarray, shares: np.ndarray, shift: float, color: str,
                name: str) -> dict:
    return dict(type="scatter", mode="lines", x=_stems(values, shift),
                y=_stem_heights(shares), name=name, showlegend=False, xaxis="x2", yaxis="y2",
                line=dict(color=color, width=5),
                hovertemplate=f"{name}: %{{y:.3f}}<extra></extra>")


def _key(items: Sequence[tuple[str, str]]) -> dict:
    """A line naming the bottom panel's stems in their colours, at its top left."""
    text = "   ".join(f'<span style="color:{color}">■</span> {name}' for name, color in items)
    return dict(text=text, xref="x2 domain", yref="y2 domain", x=0.01, y=1, xanchor="left",
                yanchor="top", showarrow=False, bgcolor="rgba(255,255,255,0.8)")


def _two_panels(title: str, height: int, split: float, x_range: list, y_range: list,
                values: np.ndarray, top_share: float) -> dict:
    """The plane on top (axes x, y: where the note sits), the reward's spread below."""
    reward_range = [float(values[0]) - 0.4, float(values[-1]) + 0.4]
    return dict(
        title=_pinned_title(title), hovermode="closest", height=height, margin=dict(PLAIN),
        showlegend=False,
        xaxis=dict(domain=[0, 1], anchor="y", range=x_range, title=dict(text=KL_TITLE)),
        yaxis=dict(domain=[split + 0.17, 1], anchor="x", range=y_range,
                   title=dict(text="E[r], points")),
        xaxis2=dict(domain=[0, 1], anchor="y2", range=reward_range,
                    title=dict(text="true reward of a reply, points", standoff=4)),
        yaxis2=dict(domain=[0, split], anchor="x2", range=[0, top_share],
                    title=dict(text="probability")))


def frontier_walk(curve: dict, front: dict, values: np.ndarray, shares: np.ndarray,
                  ref_shares: np.ndarray) -> dict:
    """The frontier walked by β: π*_β's point on it (top), and how π*_β spreads the true
    reward over its replies against the reference (bottom). An explorable over β.

    front: `optimal_frontier` at the grid of β; shares: (β, m) `reward_distribution` of each
    π*_β over the reward values (m,); ref_shares: (m,) the reference's."""
    betas, kls, rewards = front["beta"], front["kl"], front["true_reward"]
    ref_reward = float(values @ ref_shares)
    corner = float(np.max(curve["kl"]))
    data = [
        _frontier_line(curve, 0.72 * corner),
        dict(type="scatter", mode="markers+text", x=[0.0], y=[ref_reward], name="π_ref",
             text=["π_ref"], textposition="middle right",
             marker=dict(size=14, **METHOD_STYLE["reference"]),
             hovertemplate="π_ref: KL 0, E[r] %{y:.3f}<extra></extra>"),
        dict(type="scatter", mode="markers+text", x=[None], y=[None], name="π*_β",
             textposition="bottom right",
             marker=dict(size=15, line=dict(color="white", width=2), **TARGET_STYLE),
             hovertemplate="π*_β: KL %{x:.3f} nats, E[r] %{y:.3f}<extra></extra>"),
        _stem_trace(values, ref_shares, -STEM / 2, theme.COLORS["reference"], "π_ref"),
        _stem_trace(values, shares[0], STEM / 2, TARGET_STYLE["color"], "π*_β"),
    ]
    frames, notes = [], []
    best = int(np.argmax(values))
    for k, beta in enumerate(betas):
        frames.append([dict(x=compact(kls[k]), y=compact(rewards[k]),
                            text=[f"π*_β, β = {beta:g}"]),
                       dict(y=_stem_heights(shares[k]))])
        notes.append(f"β = {beta:g}: KL {kls[k]:.3f} nats, E[r] {rewards[k]:.3f}<br>"
                     f"P(best reply, r = {values[best]:g}) {shares[k, best]:.3f} (π_ref: "
                     f"{ref_shares[best]:.3f})")
    layout = _two_panels("The frontier, walked by β", 640, 0.3, [-0.2, corner * 1.04],
                         [ref_reward - 0.35, float(np.max(curve["true_reward"])) + 0.35],
                         values, float(np.max(shares)) * 1.08)
    layout["annotations"] = [
        _key([("π_ref", theme.COLORS["reference"]), ("π*_β", TARGET_STYLE["color"])])]
    return explorable.build(dict(data=data, layout=layout), values=[float(b) for b in betas],
                            label="β", frames=frames, changing=[2, 4], notes=notes)


def _run_label(coefficient: float) -> str:
    return "" if not np.isfinite(coefficient) else f"{coefficient:g}"


def _run_numbers(row: dict | None) -> str:
    if row is None:
        return "no run at this β"
    return f"{row['kl']:.2f} · {row['true_reward']:.2f} · {row['gap']:.2f}"


def sweep_walk(curve: dict, rows: Sequence[dict], betas: Sequence[float], targets: dict,
               title: str, zoom: tuple[tuple[float, float], tuple[float, float]] | None = None
               ) -> dict:
    """Every run of a sweep as a point (one colour and marker per method, its coefficient
    written beside it) under the exact frontier, walked by β: at each β of the sweep, π*_β
    (the point every method run with that β aims at) and a dotted line from it to each run at
    that β. An explorable over the sweep's β; zoom: ((x0, x1), (y0, y1)) shows a part.

    targets: `optimal_frontier` at betas."""
    # The legend lies in a band kept free above the runs and the frontier's flat top
    x_range, y_range = zoom if zoom is not None else (
        (-0.25, float(np.max(curve["kl"]))),
        (min(r["true_reward"] for r in rows) - 0.3, float(np.max(curve["true_reward"])) + 0.3))
    y_range = [y_range[0], y_range[1] + 0.3 * (y_range[1] - y_range[0])]
    data = [_frontier_line(curve, x_range[0] + 0.45 * (x_range[1] - x_range[0]))]
    for method, style in METHOD_STYLE.items():
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            continue
        position = {"dpo": "bottom center", "rlhf": "top center",
                    "reference": "bottom right"}.get(method, "middle left")
        reference = method == "reference"  # named on the chart: the legend has the methods
        data.append(dict(
            type="scatter", mode="markers+text", name=SHORT_NAMES[method],
            showlegend=not reference,
            x=compact([r["kl"] for r in mine]), y=compact([r["true_reward"] for r in mine]),
            text=["π_ref" if reference else _run_label(r["coefficient"]) for r in mine],
            textposition=position, textfont=dict(size=12, color=style["color"]),
            marker=dict(size=13, color=style["color"], symbol=style["symbol"],
                        line=dict(color="white", width=1)),
            customdata=compact([r["gap"] for r in mine]),
            hovertemplate=f"<b>{SHORT_NAMES[method]}</b><br>KL %{{x:.3f}} nats, E[r] "
            "%{y:.3f}<br>%{customdata:.3f} below the frontier<extra></extra>",
        ))
    data += [
        dict(type="scatter", mode="markers+text", x=[None], y=[None], name="π*_β",
             text=["π*_β"], textposition="top left", showlegend=False, cliponaxis=False,
             textfont=dict(color=TARGET_STYLE["color"]),
             marker=dict(size=16, line=dict(color="white", width=2), **TARGET_STYLE),
             hovertemplate="π*_β: KL %{x:.3f} nats, E[r] %{y:.3f}<extra></extra>"),
        dict(type="scatter", mode="lines+markers", x=[None], y=[None], showlegend=False,
             line=dict(color=theme.COLORS["reference"], width=1.5, dash="dot"),
             marker=dict(symbol="circle-open", line=dict(width=3)), hoverinfo="skip"),
    ]
    aimed = [m for m in METHOD_STYLE
             if any(r["method"] == m and np.isfinite(r["coefficient"]) for r in rows)]
    frames, notes = [], []
    for k, beta in enumerate(betas):
        at_beta = {m: next((r for r in rows if r["method"] == m and r["coefficient"] == beta),
                           None) for m in aimed}
        runs = [(m, r) for m, r in at_beta.items() if r is not None]
        star = (float(targets["kl"][k]), float(targets["true_reward"][k]))
        frames.append([
            dict(x=compact(star[0]), y=compact(star[1])),
            dict(x=compact([v for _, r in runs for v in (star[0], r["kl"], None)]),
                 y=compact([v for _, r in runs for v in (star[1], r["true_reward"], None)]),
                 marker=dict(size=[s for _ in runs for s in (0, 26, 0)],
                             color=[c for m, _ in runs
                                    for c in ("white", METHOD_STYLE[m]["color"], "white")]))])
        notes.append(f"β = {beta:g}: KL (nats) · E[r] · gap<br>π*_β, the aim: {star[0]:.2f} · "
                     f"{star[1]:.2f}<br>" + "<br>".join(
                         f"{SHORT_NAMES[m]}: {_run_numbers(r)}" for m, r in at_beta.items()))
    layout = _layout(title, height=600, margin=dict(PLAIN),
                     legend=dict(orientation="h", x=0, xanchor="left", y=1, yanchor="top"))
    layout["title"] = _pinned_title(title)
    layout["xaxis"]["range"], layout["yaxis"]["range"] = list(x_range), y_range
    return explorable.build(dict(data=data, layout=layout), values=[float(b) for b in betas],
                            label="β", frames=frames, changing=[len(data) - 2, len(data) - 1],
                            notes=notes)


def training_replay(curve: dict, runs: dict[str, dict], target: dict, values: np.ndarray,
                    target_shares: np.ndarray, beta: float) -> dict:
    """DPO and RLHF at one β, replayed update by update: each run's path on the plane up to
    the frame (top), heading for π*_β, and how its policy spreads the true reward against
    π*_β's (bottom). An explorable over the share of the training budget, with play; the
    plane reaches a little beyond the farthest KL of the runs (``curve`` must go as far).

    runs: method key -> {"step" (n + 1,), "kl" (n + 1,), "true_reward" (n + 1,),
    "checkpoint_step" (c,), "shares" (c, m), "unit": "step" or "rollout"}; target: π*_β's
    "kl" and "true_reward" (floats); target_shares: (m,) its reward_distribution."""
    methods = list(runs)
    count = max(len(run["checkpoint_step"]) for run in runs.values())
    done = np.linspace(0.0, 1.0, count)
    picks = {m: np.rint(done * (len(run["checkpoint_step"]) - 1)).astype(int)
             for m, run in runs.items()}
    kl_top = max(max(float(np.nanmax(run["kl"])) for run in runs.values()), target["kl"])
    x_range = [-0.1, kl_top * 1.2 + 0.1]
    aim = target["kl"] / x_range[1]  # the frontier's name keeps clear of π*_β's
    data = [
        _frontier_line(curve, (0.3 if 0.45 < aim < 0.9 else 0.7) * x_range[1]),
        dict(type="scatter", mode="markers+text", x=[target["kl"]], y=[target["true_reward"]],
             name="π*_β", text=["π*_β"], textposition="top left",
             marker=dict(size=16, line=dict(color="white", width=2), **TARGET_STYLE),
             hovertemplate="π*_β: KL %{x:.3f} nats, E[r] %{y:.3f}<extra></extra>"),
    ]
    for m in methods:
        data.append(dict(type="scatter", mode="lines", x=[0.0], y=[None], name=SHORT_NAMES[m],
                         line=dict(color=METHOD_STYLE[m]["color"], width=3), hoverinfo="skip"))
    data.append(dict(type="scatter", mode="markers+text", x=[None] * len(methods),
                     y=[None] * len(methods), name="now",
                     text=[SHORT_NAMES[m] for m in methods],
                     textposition=["top right", "bottom right", "middle right"][:len(methods)],
                     textfont=dict(color=[METHOD_STYLE[m]["color"] for m in methods]),
                     marker=dict(size=14, color=[METHOD_STYLE[m]["color"] for m in methods],
                                 symbol=[METHOD_STYLE[m]["symbol"] for m in methods],
                                 line=dict(color="white", width=1.5)),
                     hovertemplate="KL %{x:.3f} nats, E[r] %{y:.3f}<extra></extra>"))
    shifts = (np.arange(len(methods) + 1) - len(methods) / 2) * STEM
    data.append(_stem_trace(values, target_shares, shifts[0], TARGET_STYLE["color"], "π*_β"))
    for m, shift in zip(methods, shifts[1:], strict=True):
        data.append(_stem_trace(values, runs[m]["shares"][-1], shift, METHOD_STYLE[m]["color"],
                                SHORT_NAMES[m]))
    frames, notes = [], []
    for k in range(count):
        paths, points_x, points_y, stems, lines = [], [], [], [], []
        for m in methods:
            run, c = runs[m], picks[m][k]
            step = int(run["checkpoint_step"][c])
            drawn = run["checkpoint_step"][:c + 1]  # the path through the kept steps so far
            paths.append(dict(x=compact(run["kl"][drawn]), y=compact(run["true_reward"][drawn])))
            points_x += compact(run["kl"][step])
            points_y += compact(run["true_reward"][step])
            stems.append(dict(y=_stem_heights(run["shares"][c])))
            lines.append(f"{SHORT_NAMES[m]}, {run['unit']} {step}/{int(run['step'][-1])}: "
                         f"KL {run['kl'][step]:.3f}, E[r] {run['true_reward'][step]:.3f}")
        frames.append([*paths, dict(x=points_x, y=points_y), *stems])
        notes.append("<br>".join(lines) + f"<br>π*_β (β = {beta:g}): KL {target['kl']:.3f}, "
                     f"E[r] {target['true_reward']:.3f}")
    reachable = float(np.interp(x_range[1], curve["kl"], curve["true_reward"]))
    low = min(min(float(np.nanmin(run["true_reward"])) for run in runs.values()), 0.0)
    top_share = max(float(np.max(target_shares)),
                    *(float(np.max(run["shares"])) for run in runs.values()))
    layout = _two_panels(f"DPO and RLHF at β = {beta:g}, update by update", 660, 0.3,
                         x_range, [low - 0.3, reachable + 0.4], values, top_share * 1.08)
    layout["annotations"] = [
        _key([("π*_β", TARGET_STYLE["color"])]
             + [(SHORT_NAMES[m], METHOD_STYLE[m]["color"]) for m in methods])]
    n = len(methods)
    return explorable.build(dict(data=data, layout=layout),
                            values=[float(v) for v in np.round(100 * done, 1)],
                            value_text=[f"{100 * v:.0f}%" for v in done], label="trained",
                            frames=frames,
                            changing=[*range(2, 2 + n), 2 + n, *range(4 + n, 4 + 2 * n)],
                            notes=notes, play=True, frame_ms=120)


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
