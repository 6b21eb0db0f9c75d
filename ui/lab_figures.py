"""Figures for the lab "DPO or RLHF?": the exact reward–KL frontier, the runs of a sweep on it,
two datasets side by side, and what a reward model promised against what the reader gave.

Every chart has the exact frontier as a black line (the course's colour for exact values) and
one colour and marker per method, the same in every chart of the lab. Built from plain dicts.
"""

from __future__ import annotations

import math
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


# Labels beside points. A label goes on one of eight sides of its point, a fixed number of
# pixels away, where it overlaps no other label, no marker, no line and nothing outside the plot,
# judged at every plot size the chart is seen at: (width, height, font) in pixels of a phone's
# plot, a small laptop's, a desktop's and a projector's (presenter mode's larger text). A point
# with no such side keeps only its hover.
LABEL_VIEWS = ((280, 460, 15), (480, 460, 15), (920, 460, 15), (860, 640, 21))
LABEL_SIDES = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))
LABEL_GAP = 11  # pixels from a point's centre to its label (a diagonal side: 3/4 of it)
LABEL_FONT = dict(color=theme.TEXT)  # full contrast; the marker says which method it is


def _shift(side: tuple[int, int], gap: float = LABEL_GAP) -> tuple[float, float]:
    sx, sy = side
    scale = 0.75 * gap if sx and sy else gap
    return sx * scale, sy * scale


def _text_box(px: float, py: float, text: str, side: tuple[int, int], font: float,
              gap: float = LABEL_GAP) -> tuple[float, float, float, float]:
    """(left, right, bottom, top) in pixels, y up, of ``text`` set on ``side`` of (px, py)."""
    width, height = 0.6 * font * len(text) + 6, 1.3 * font + 2
    dx, dy = _shift(side, gap)
    cx = px + dx + side[0] * width / 2
    cy = py + dy + side[1] * height / 2
    return cx - width / 2, cx + width / 2, cy - height / 2, cy + height / 2


def _dense(xs: np.ndarray, ys: np.ndarray, step: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """A polyline in pixels as points at most ``step`` pixels apart (gaps: non-finite)."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    x0, x1, y0, y1 = xs[:-1], xs[1:], ys[:-1], ys[1:]
    kept = np.isfinite(x0) & np.isfinite(x1) & np.isfinite(y0) & np.isfinite(y1)
    x0, x1, y0, y1 = x0[kept], x1[kept], y0[kept], y1[kept]
    n = np.maximum((np.hypot(x1 - x0, y1 - y0) / step).astype(int), 1) + 1  # points a segment
    segment = np.repeat(np.arange(len(n)), n)
    t = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(n - 1, n)
    return x0[segment] + t * (x1 - x0)[segment], y0[segment] + t * (y1 - y0)[segment]


def place_labels(points: Sequence[tuple[float, float, str]], x_range: Sequence[float],
                 y_range: Sequence[float], lines: Sequence[tuple] = (),
                 markers: Sequence[tuple[float, float]] = (),
                 fixed: Sequence[tuple[float, float, str, tuple[int, int], float]] = (),
                 top: float | None = None, marker_px: float = 9.0,
                 views: Sequence[tuple[float, float, float]] = LABEL_VIEWS,
                 sides: Sequence[tuple[int, int]] = LABEL_SIDES, gap: float = LABEL_GAP
                 ) -> list[tuple[int, int] | None]:
    """The side of its point each label goes on, in order (None: no free side).

    points: (x, y, text) in data units; lines: (xs, ys) polylines to keep clear of; markers:
    (x, y) of further markers; fixed: (x, y, text, side, gap) labels already drawn; top: the
    highest y a label may reach (below a legend's band); sides: the sides to try, in order;
    gap: pixels from a point to its label. Every point is a marker too.

    Example: place_labels([(1, 1, "a"), (1, 1, "b")], (0, 2), (0, 2)) -> [(1, 0), (-1, 0)]
    """
    top = y_range[1] if top is None else top
    views = [dict(w=w, h=h, font=font, sx=w / (x_range[1] - x_range[0]),
                  sy=h / (y_range[1] - y_range[0]), taken=[]) for w, h, font in views]
    for v in views:
        def px(x, y, v=v):
            return (np.asarray(x, float) - x_range[0]) * v["sx"], \
                (np.asarray(y, float) - y_range[0]) * v["sy"]
        v["px"] = px
        v["top"] = float(px(x_range[0], top)[1])
        dense = [_dense(*px(xs, ys)) for xs, ys in lines]
        v["line_x"] = np.concatenate([d[0] for d in dense]) if dense else np.zeros(0)
        v["line_y"] = np.concatenate([d[1] for d in dense]) if dense else np.zeros(0)
        dots = [(x, y) for x, y, _ in points] + list(markers)
        v["dot_x"], v["dot_y"] = px([d[0] for d in dots], [d[1] for d in dots])
        for x, y, text, side, drawn_gap in fixed:
            v["taken"].append(_text_box(*px(x, y), text, side, v["font"], drawn_gap))

    def free(box, v, own) -> bool:
        left, right, bottom, top_ = box
        if left < 0 or right > v["w"] or bottom < 0 or top_ > v["top"]:
            return False
        if any(left < b[1] and b[0] < right and bottom < b[3] and b[2] < top_
               for b in v["taken"]):
            return False
        inside = (v["line_x"] > left - 1) & (v["line_x"] < right + 1) & \
            (v["line_y"] > bottom - 1) & (v["line_y"] < top_ + 1)
        if inside.any():
            return False
        near_x = np.clip(v["dot_x"], left, right) - v["dot_x"]
        near_y = np.clip(v["dot_y"], bottom, top_) - v["dot_y"]
        hit = np.hypot(near_x, near_y) < marker_px
        hit[own] = False
        return not hit.any()

    chosen_sides = []
    for i, (x, y, text) in enumerate(points):
        chosen = None
        for side in sides:
            boxes = [_text_box(*v["px"](x, y), text, side, v["font"], gap) for v in views]
            if all(free(box, v, i) for box, v in zip(boxes, views, strict=True)):
                chosen = side
                for box, v in zip(boxes, views, strict=True):
                    v["taken"].append(box)
                break
        chosen_sides.append(chosen)
    return chosen_sides


def label_annotation(x: float, y: float, text: str, side: tuple[int, int],
                     gap: float = LABEL_GAP) -> dict:
    """A label set on ``side`` of the point (x, y), as ``place_labels`` judged it."""
    dx, dy = _shift(side, gap)
    return dict(x=x, y=y, xref="x", yref="y", text=text, showarrow=False,
                xanchor={1: "left", 0: "center", -1: "right"}[side[0]],
                yanchor={1: "bottom", 0: "middle", -1: "top"}[side[1]],
                xshift=dx, yshift=dy, font=LABEL_FONT, bgcolor="rgba(255,255,255,0.85)",
                borderpad=1)


def _run_numbers(row: dict | None) -> str:
    if row is None:
        return "no run at this β"
    return f"{row['kl']:.2f} · {row['true_reward']:.2f} · {row['gap']:.2f}"


def sweep_walk(curve: dict, rows: Sequence[dict], betas: Sequence[float], targets: dict,
               title: str, zoom: tuple[tuple[float, float], tuple[float, float]] | None = None
               ) -> dict:
    """Every run of a sweep as a point (one colour and marker per method, its coefficient
    written beside it where there is room) under the exact frontier, walked by β: at each β of
    the sweep, π*_β (the point every method run with that β aims at) and a dotted line from it
    to each run at that β. An explorable over the sweep's β; zoom: ((x0, x1), (y0, y1)) shows
    a part.

    targets: `optimal_frontier` at betas."""
    x_range, y_range = _sweep_ranges(curve, rows, zoom)
    obstacles = _label_obstacles(curve, rows, targets, x_range, y_range)
    data = [{**_frontier_trace(curve, "exact frontier"), "x": compact(curve["kl"]),
             "y": compact(curve["true_reward"]), "showlegend": False}]
    for method, style in METHOD_STYLE.items():
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            continue
        aims = np.isfinite(mine[0]["coefficient"])
        data.append(dict(
            type="scatter", mode="markers", name=SHORT_NAMES[method],
            showlegend=method != "reference",  # named on the chart: the legend has the methods
            x=compact([r["kl"] for r in mine]), y=compact([r["true_reward"] for r in mine]),
            marker=dict(size=13, color=style["color"], symbol=style["symbol"],
                        line=dict(color="white", width=1)),
            customdata=[[g, c] for g, c in zip(compact([r["gap"] for r in mine]),
                                               compact([r["coefficient"] for r in mine]),
                                               strict=True)],
            hovertemplate=f"<b>{SHORT_NAMES[method]}</b>" + (", β = %{customdata[1]}"
                                                           if aims else "")
            + "<br>KL %{x:.3f} nats, E[r] %{y:.3f}<br>%{customdata[0]:.3f} below the "
            "frontier<extra></extra>",
        ))
    data += [
        dict(type="scatter", mode="markers", x=[None], y=[None], name="π*_β",
             showlegend=False, cliponaxis=False,
             marker=dict(size=16, line=dict(color="white", width=2), **TARGET_STYLE),
             hovertemplate="π*_β: KL %{x:.3f} nats, E[r] %{y:.3f}<extra></extra>"),
        dict(type="scatter", mode="lines+markers", x=[None], y=[None], showlegend=False,
             line=dict(color=theme.COLORS["reference"], width=1.5, dash="dot"),
             marker=dict(symbol="circle-open", line=dict(width=3)), hoverinfo="skip"),
    ]
    aimed = [m for m in METHOD_STYLE
             if any(r["method"] == m and np.isfinite(r["coefficient"]) for r in rows)]
    frames, notes, named = [], [], []
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
        aims = [(np.array([star[0], r["kl"]]), np.array([star[1], r["true_reward"]]))
                for _, r in runs]
        named.append(_target_label(star, aims, rows, x_range, y_range, obstacles))
    # The runs' labels keep clear of π*_β's name in every frame
    labels = _run_labels(rows, x_range, y_range,
                         {**obstacles, "fixed": obstacles["fixed"] + [n for n in named if n]})
    layout = _layout(title, height=600, margin=dict(PLAIN),
                     legend=dict(orientation="h", x=0, xanchor="left", y=1, yanchor="top"))
    layout["title"] = _pinned_title(title)
    layout["xaxis"]["range"], layout["yaxis"]["range"] = list(x_range), y_range
    layout["annotations"] = [
        label_annotation(x, y, text, side, gap) for x, y, text, side, gap
        in obstacles["fixed"]] + [
        label_annotation(x, y, text, side) for x, y, text, side in labels]
    return explorable.build(dict(data=data, layout=layout), values=[float(b) for b in betas],
                            label="β", frames=frames, changing=[len(data) - 2, len(data) - 1],
                            notes=notes, annotations=[[label_annotation(*n)] if n else []
                                                      for n in named])


FRONTIER_NAME_GAP = 8  # pixels between the frontier and its name, above it and to the left
FRONTIER_NAME_AT = (0.45, 0.5, 0.4, 0.55, 0.35, 0.6, 0.3, 0.65, 0.7, 0.25, 0.75, 0.2)  # where
# along the x range to try it, from the middle out
LEGEND_BAND = 0.25  # the share of the y range added on top of the data for the legend


def _sweep_ranges(curve: dict, rows: Sequence[dict], zoom) -> tuple[list, list]:
    """The plane's x and y range: the data, or the zoom's part of it, with room under the
    lowest point for its label and a band on top, clear of every run and of the frontier, for
    the legend."""
    if zoom is not None:
        (x0, x1), (y0, y1) = zoom
    else:
        x1 = float(np.max(curve["kl"]))
        x0 = -0.1 * x1  # room left of the runs near KL 0 for their labels
        y0 = min(r["true_reward"] for r in rows) - 0.45
        y1 = -math.inf
    seen = (np.asarray(curve["kl"]) >= x0) & (np.asarray(curve["kl"]) <= x1)
    top = float(np.max(np.asarray(curve["true_reward"])[seen], initial=y0))
    y1 = max(y1, top + 0.12 * (top - y0))  # room for a label above the frontier
    return [x0, x1], [y0, y1 + LEGEND_BAND * (y1 - y0)]


def _label_obstacles(curve: dict, rows: Sequence[dict], targets: dict,
                     x_range: Sequence[float], y_range: Sequence[float]) -> dict:
    """What a label on the sweep's plane keeps clear of: the frontier, π*_β at every β of the
    walk, the frontier's name (above the curve and to the left, at the first point from the
    middle out where it covers no run and no π*_β) and the legend's band."""
    kl, reward = np.asarray(curve["kl"]), np.asarray(curve["true_reward"])
    obstacles = dict(lines=[(kl, reward)], fixed=[],
                     markers=list(zip(np.asarray(targets["kl"], float),
                                      np.asarray(targets["true_reward"], float), strict=True)),
                     top=y_range[0] + (y_range[1] - y_range[0]) / (1 + LEGEND_BAND))
    runs = [(r["kl"], r["true_reward"]) for r in rows]
    for share in FRONTIER_NAME_AT:
        at = int(np.argmin(np.abs(kl - (x_range[0] + share * (x_range[1] - x_range[0])))))
        name = (float(kl[at]), float(reward[at]), "exact frontier")
        (side,) = place_labels([name], x_range, y_range, sides=[(-1, 1)], gap=FRONTIER_NAME_GAP,
                               **{**obstacles, "markers": obstacles["markers"] + runs})
        if side is not None:
            obstacles["fixed"] = [(*name, side, FRONTIER_NAME_GAP)]
            break
    return obstacles


def _run_labels(rows: Sequence[dict], x_range: Sequence[float], y_range: Sequence[float],
                obstacles: dict) -> list[tuple]:
    """(x, y, text, side) of every run's label that has room: π_ref's name and each run's β."""
    shown = [r for r in rows if x_range[0] <= r["kl"] <= x_range[1]
             and y_range[0] <= r["true_reward"] <= y_range[1]]
    texts = ["π_ref" if r["method"] == "reference" else _run_label(r["coefficient"])
             for r in shown]
    points = [(r["kl"], r["true_reward"], text) for r, text in zip(shown, texts, strict=True)
              if text]
    unlabelled = [(r["kl"], r["true_reward"]) for r, text in zip(shown, texts, strict=True)
                  if not text]
    sides = place_labels(points, x_range, y_range,
                         **{**obstacles, "markers": obstacles["markers"] + unlabelled})
    return [(x, y, text, side) for (x, y, text), side in zip(points, sides, strict=True)
            if side is not None]


def _target_label(star: tuple[float, float], aims: Sequence[tuple], rows: Sequence[dict],
                  x_range: Sequence[float], y_range: Sequence[float], obstacles: dict
                  ) -> tuple | None:
    """(x, y, text, side, gap) of π*_β's name in one frame: clear of the runs, of the frame's
    dotted lines to them and of the frontier, a little farther out where the runs crowd it
    (None if it has no room at all)."""
    others = [m for m in obstacles["markers"] if m != star]
    for gap in (LABEL_GAP, 2 * LABEL_GAP):
        (side,) = place_labels(
            [(*star, "π*_β")], x_range, y_range, gap=gap, top=obstacles["top"],
            markers=others + [(r["kl"], r["true_reward"]) for r in rows],
            lines=[*obstacles["lines"], *aims], fixed=obstacles["fixed"])
        if side is not None:
            return (*star, "π*_β", side, gap)
    return None


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
                     textfont=LABEL_FONT,  # full contrast: the marker says which run
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


TWO_LINE_TITLE = dict(l=70, r=20, t=84, b=60)  # a title a phone shows on two lines


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
    return go.Figure(data=data, layout=_layout(title, height=540,
                                               legend=dict(orientation="h", y=-0.2, x=0,
                                                           yanchor="top"),
                                               margin=dict(TWO_LINE_TITLE)))


PROMISED_VIEWS = ((280, 300, 15), (480, 300, 15), (920, 300, 15), (860, 420, 21))


def promised_vs_given(gains: dict, title: str) -> go.Figure:
    """RLHF run by run: the reward model's gain over the reference (what it promised) and the
    true reward's gain (what the reader gave), against the KL the run reached. Each point of
    the promise carries its run's KL coefficient where there is room for it."""
    kl, score, true = (np.asarray(gains[k], float) for k in ("kl", "score_gain", "true_gain"))
    data = [
        dict(type="scatter", mode="lines+markers", name="reward model's score (promised)",
             x=list(kl), y=list(score), customdata=list(gains["coefficient"]),
             line=dict(color=theme.COLORS["estimate"], width=2.5, dash="dash"),
             marker=dict(size=11, color=theme.COLORS["estimate"]),
             hovertemplate="KL coefficient %{customdata:g}, KL %{x:.2f} nats: reward model "
             "+%{y:.2f}<extra></extra>"),
        dict(type="scatter", mode="lines+markers", name="true reward (what the reader gave)",
             x=list(kl), y=list(true), customdata=list(gains["coefficient"]),
             line=dict(color=METHOD_STYLE["rlhf"]["color"], width=2.5),
             marker=dict(size=12, color=METHOD_STYLE["rlhf"]["color"], symbol="diamond"),
             hovertemplate="KL coefficient %{customdata:g}, KL %{x:.2f} nats: true reward "
             "%{y:+.2f}<extra></extra>"),
    ]
    both = np.concatenate([score, true, [0.0]])
    span_x, span_y = max(float(np.max(kl)), 0.5), float(np.ptp(both)) or 1.0
    x_range = [-0.08 * span_x, 1.08 * span_x]
    y_range = [float(np.min(both)) - 0.15 * span_y, float(np.max(both)) + 0.2 * span_y]
    points = [(float(x), float(y), f"{c:g}")
              for x, y, c in zip(kl, score, gains["coefficient"], strict=True)]
    sides = place_labels(points, x_range, y_range, lines=[(kl, score), (kl, true),
                                                          (np.array(x_range), np.zeros(2))],
                         markers=list(zip(kl, true, strict=True)), views=PROMISED_VIEWS)
    layout = _layout(title, y_title="gain over π_ref, points", height=460,
                     margin=dict(TWO_LINE_TITLE),
                     shapes=[dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=0, y1=0,
                                  line=dict(color=theme.COLORS["reference"], dash="dot",
                                            width=1.5))],
                     annotations=[label_annotation(x, y, text, side)
                                  for (x, y, text), side in zip(points, sides, strict=True)
                                  if side is not None])
    layout["xaxis"]["range"], layout["yaxis"]["range"] = x_range, y_range
    return go.Figure(data=data, layout=layout)


def gap_by_band(bands: Sequence[str], gaps: dict[str, Sequence[float]],
                names: dict[str, str]) -> go.Figure:
    """Mean gap below the frontier per KL range, one bar per method (lower is better)."""
    data = [dict(type="bar", name=names[method], x=list(bands), y=list(values),
                 marker=dict(color=METHOD_STYLE[method]["color"]),
                 text=[f"{v:.2f}" for v in values], textposition="outside", cliponaxis=False,
                 hovertemplate=f"{names[method]}: %{{y:.3f}} below the frontier<extra></extra>")
            for method, values in gaps.items()]
    layout = _layout("How far below the frontier, by range of KL<br>(lower is better)",
                     x_title="KL of the runs, nats", y_title="mean gap to the frontier, points",
                     barmode="group", height=420, margin=dict(TWO_LINE_TITLE))
    layout["xaxis"] = dict(title=dict(text="KL of the runs, nats"), type="category")
    return go.Figure(data=data, layout=layout)
