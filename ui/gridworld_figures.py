"""Figures for the grid-world lesson: the world as a map with policy arrows, and the replays of
value iteration, Q-learning and REINFORCE (the map after each sweep, episode or update, above the
run's curve), and of two step sizes side by side.

Arrows sit between a cell's centre and its edge, one per action, sized by the action's
probability: a greedy policy shows one big arrow per cell, the uniformly random policy four
small ones. The static map of step 1 is a heat map; the replayed maps draw their cells as
shapes, which an explorable's frames can recolour (see the note above ``CELL_HALF``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lessons.gridworld import MOVES, GridWorld, deterministic_policy
from ui import explorable, theme
from ui.explorable import compact
from ui.figures import fmt, hline

WALL_COLOR = theme.COLORS["wall"]
ARROW_COLOR = theme.TEXT
WRONG_ARROW_COLOR = theme.COLORS["rejected"]  # an action that differs from the optimal policy
COLORSCALE = [[0.0, theme.COLORS["rejected"]], [0.5, "#FFFFFF"], [1.0, theme.COLORS["chosen"]]]
MIN_ARROW_PROB = 0.08  # smaller probabilities get no arrow, to keep the map readable
# Distance of an arrow's tip from its cell's centre, in cells. Plotly draws an arrow marker
# from its tip back towards the centre, as long as the marker's size; tips near the edge leave
# a number like −0.04 room between the left and the right arrow even on a phone (cells of
# about 70 px).
ARROW_OFFSET = 0.45
# plotly's numbers for the arrow-up, -right, -down and -left markers (the order of ACTIONS): the
# replays' frames carry one per arrow, and numbers keep them small
ARROW_SYMBOLS = (45, 48, 46, 47)
LATEX_ARROWS = (r"\uparrow", r"\rightarrow", r"\downarrow", r"\leftarrow")


def _text_scale(grid: GridWorld) -> float:
    """Smaller numbers and arrows in grids with many (and so narrower) cells.

    Example: a 3 × 4 grid -> 1.0, a 6 × 6 grid -> 0.8"""
    side = max(grid.shape)
    return 1.0 if side <= 4 else 0.9 if side == 5 else 0.8 if side == 6 else 0.72


def _cell_size(rows: int) -> int:
    return 100 if rows <= 4 else 72 if rows <= 6 else 58


def map_height(grid: GridWorld) -> int:
    """A height (px) that keeps the cells square and readable for any grid size."""
    return 130 + grid.shape[0] * _cell_size(grid.shape[0])


def _cell_text(grid: GridWorld, values: np.ndarray | None, digits: int) -> list[str]:
    # The end cells' names; a grid of 7 or 8 columns has cells too narrow (on a phone) for
    # "treasure", so it shows the layout's letters
    short = max(grid.shape) >= 7
    texts = []
    for s in range(grid.n_states):
        letter = grid.letter(s)
        if letter == "T":
            texts.append("T<br>+1" if short else "treasure<br>+1")
        elif letter == "D":
            texts.append("D<br>−1" if short else "dragon<br>−1")
        elif values is None:
            texts.append("start" if letter == "S" else "")
        else:
            # a replayed map names the start in its corner (_start_label), clear of the arrows
            texts.append(f"{values[s]:.{digits}f}".replace("-", "−"))
    return texts


def _start_label(grid: GridWorld) -> dict:
    """"start", small, in the top left corner of the start cell of a replayed map (whose
    centre holds the cell's number, between the arrows)."""
    row, col = grid.cells[grid.start] + 1
    return dict(text="start", x=col - CELL_HALF + 0.03, y=row - CELL_HALF + 0.02, xref="x",
                yref="y", xanchor="left", yanchor="top", showarrow=False,
                font=dict(size=max(9, round(10 * _text_scale(grid))), color=theme.TEXT))


def _table(grid: GridWorld, per_state, wall, dtype) -> np.ndarray:
    """A rows × columns array of per-state entries, ``wall`` on walls."""
    table = np.full(grid.shape, wall, dtype=dtype)
    table[grid.cells[:, 0], grid.cells[:, 1]] = per_state
    return table


def _arrow_places(grid: GridWorld) -> tuple[np.ndarray, np.ndarray]:
    """(state, action) of each arrow a map can show: all four in every cell but the end cells."""
    live = np.flatnonzero(~grid.terminal)
    return np.repeat(live, 4), np.tile(np.arange(4), live.size)


def arrow_sizes(grid: GridWorld, probs: np.ndarray) -> np.ndarray:
    """The size (px) of each of the map's arrows (in the order of _arrow_places) for the policy
    π(a|s) = probs[s, a]: growing with the probability, 0 (hidden) below MIN_ARROW_PROB."""
    state, action = _arrow_places(grid)
    p = probs[state, action]
    return np.where(p >= MIN_ARROW_PROB, np.round((4 + 8 * p) * _text_scale(grid)), 0)


def _arrow_frame(grid: GridWorld, probs: np.ndarray,
                 colors: Sequence[str] | None = None) -> dict:
    """The arrows' markers for a policy: their sizes and colours (``colors``: one per state,
    default all dark). Whole, because a frame replaces a trace's marker as a whole."""
    state, action = _arrow_places(grid)
    return dict(marker=dict(
        size=arrow_sizes(grid, probs).astype(int).tolist(),  # whole pixels
        symbol=[ARROW_SYMBOLS[a] for a in action], line=dict(width=0),
        color=ARROW_COLOR if colors is None else [colors[s] for s in state]))


def _arrow_trace(grid: GridWorld, frame: dict) -> dict:
    """The policy as arrowheads, one place per action of each cell (see _arrow_places), between
    the cell's centre and its edge; ``frame`` (from _arrow_frame) gives their sizes."""
    state, action = _arrow_places(grid)
    return dict(type="scatter", mode="markers", hoverinfo="skip", showlegend=False,
                cliponaxis=False, name="policy",
                x=compact(grid.cells[state, 1] + 1 + ARROW_OFFSET * MOVES[action, 1]),
                y=compact(grid.cells[state, 0] + 1 + ARROW_OFFSET * MOVES[action, 0]),
                marker=frame["marker"])


def world_map(grid: GridWorld, title: str, probs: np.ndarray | None = None,
              path: dict | None = None, note: str = "") -> go.Figure:
    """The grid as a heat map: end cells show their reward, arrows show a policy
    π(a|s) = probs[s, a], an optional path shows one episode.

    Cells sit at whole-number coordinates: column c and row r (counted from 1) at (c, r).
    The cells' names are annotations, drawn above the path, so a path through the start or
    into an end cell never hides them.
    """
    rows, cols = grid.shape
    ends = np.where(grid.letters == "T", 1.0, -1.0)
    data = [dict(
        type="heatmap", x=np.arange(1, cols + 1), y=np.arange(1, rows + 1),
        z=_table(grid, np.where(grid.terminal, ends, 0.0), np.nan, float), showscale=False,
        hovertemplate="row %{y}, column %{x}<extra></extra>",
        colorscale=COLORSCALE, zmin=-1, zmax=1, xgap=3, ygap=3,
    )]
    if probs is not None:
        data.append(_arrow_trace(grid, _arrow_frame(grid, probs)))
    names = _cell_text(grid, None, 2)
    annotations = [_start_label(grid)] + [
        dict(text=names[s], x=int(c) + 1, y=int(r) + 1, xref="x", yref="y", showarrow=False,
             font=dict(size=round(14 * _text_scale(grid)), color="#FFFFFF"))
        for s, (r, c) in enumerate(grid.cells) if grid.terminal[s]]
    if path is not None:
        cells = grid.cells[path["states"]] + 1
        wobble = (np.arange(len(cells)) % 5 - 2) * 0.04  # repeated visits stay visible
        slipped = np.concatenate([[False], path["moves"] != path["actions"]])
        data.append(dict(
            type="scatter", x=cells[:, 1] + wobble, y=cells[:, 0] + wobble,
            mode="lines+markers", line=dict(color=theme.COLORS["policy"], width=3),
            marker=dict(size=np.where(np.arange(len(cells)) == 0, 13, 8),
                        symbol=np.where(slipped, "x", "circle"),
                        color=np.where(slipped, theme.COLORS["rejected"],
                                       theme.COLORS["policy"])),
            opacity=0.85, hoverinfo="skip", showlegend=False))
    if note:
        annotations.append(dict(text=note, x=0, y=1.0, xref="paper", yref="paper",
                                xanchor="left", yanchor="bottom", yshift=6, showarrow=False,
                                font=dict(size=13, color="#4B5563")))
    layout = dict(
        title=dict(text=title, y=1.0, yanchor="top", yref="container", pad=dict(t=12)),
        height=map_height(grid), plot_bgcolor=WALL_COLOR,
        annotations=annotations, margin=dict(l=10, r=10, t=78, b=10),
        xaxis=dict(title=dict(text="column"), dtick=1, showgrid=False,
                   range=[0.5, cols + 0.5], constrain="domain"),
        yaxis=dict(title=dict(text="row"), dtick=1, showgrid=False,
                   range=[rows + 0.5, 0.5], scaleanchor="x", constrain="domain"),
    )
    return go.Figure(data=data, layout=layout)


def presenter_sized(spec: dict, factor: float) -> dict:
    """A map's numbers, names and arrows ``factor`` times larger, in a figure spec (a replay,
    or a world map as a dict) and in all of its frames: for presenter mode, whose template
    enlarges the axes' text but not the map's, whose sizes are fixed so that a phone fits it.
    Returns a new spec; ``spec`` is left as it was."""
    def grown(size):
        return np.round(np.asarray(size, dtype=float) * factor).astype(int).tolist()

    def on_map(note: dict) -> bool:  # the cells' names, placed in the map's own coordinates
        return note.get("xref") == "x" and note.get("yref") == "y" and "font" in note

    def notes(annotations: list) -> list:
        return [{**a, "font": {**a["font"], "size": grown(a["font"].get("size", 14))}}
                if on_map(a) else a for a in annotations]

    def trace(t: dict, kind: str | None) -> dict:
        if kind == "numbers" and "textfont" in t:
            return {**t, "textfont": {**t["textfont"], "size": grown(t["textfont"]["size"])}}
        if kind == "arrows" and "marker" in t and "size" in t["marker"]:
            return {**t, "marker": {**t["marker"], "size": grown(t["marker"]["size"])}}
        return t

    kinds = ["numbers" if t.get("name") == "cells" else "arrows" if t.get("name") == "policy"
             else None for t in spec["data"]]
    sized = {**spec, "data": [trace(t, k) for t, k in zip(spec["data"], kinds, strict=True)],
             "layout": {**spec["layout"],
                        "annotations": notes(spec["layout"].get("annotations") or [])}}
    if spec.get("frames"):
        sized["frames"] = [
            {**f, "data": [trace(t, kinds[i]) for t, i in zip(f["data"], f["traces"],
                                                               strict=True)],
             **({"layout": {**f["layout"], "annotations": notes(f["layout"]["annotations"])}}
                if "annotations" in f.get("layout", {}) else {})}
            for f in spec["frames"]]
    return sized


# Replays: the map on top (its cells coloured by value), a curve of the run below it.
#
# Plotly redraws a heat map only on a full redraw, which an explorable's frames skip. So the
# cells of a replayed map are layout shapes (which a frame does redraw): one path per shade,
# holding every cell of that shade. Their numbers are one text trace, and the policy is the
# arrows' trace, whose frames carry only the arrows' sizes (and colours).

CELL_HALF = 0.48  # half the side of a cell's square, in cells: a thin dark gap between cells
SHADES = 10  # shades of each colour: a replayed cell's colour is its value rounded to limit/10
MAP_GAP = 96  # pixels between the map and the curve: the map's column numbers and the curve's title
CURVE_HEIGHT = 230  # pixels of the curve under the map
MARKER = dict(size=13, color=theme.COLORS["highlight"], line=dict(color=theme.COLORS["exact"],
                                                                     width=2))


def _hex(color: str) -> np.ndarray:
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def cell_colors(values: np.ndarray, limit: float) -> list[str]:
    """The map's colour of each value: white at 0, ever greener up to +limit, ever more orange
    down to −limit (the scale of the static map, COLORSCALE); unknown values are white.

    Example: cell_colors([1.0, 0.0], 1.0) -> ['#009E73', '#FFFFFF']
    """
    share = np.nan_to_num(np.clip(np.asarray(values, dtype=float) / limit, -1, 1))[:, None]
    white, low, high = (_hex(c) for c in (COLORSCALE[1][1], COLORSCALE[0][1], COLORSCALE[2][1]))
    rgb = np.where(share < 0, white + (low - white) * -share, white + (high - white) * share)
    return ["#{:02X}{:02X}{:02X}".format(*row) for row in np.rint(rgb).astype(int)]


def _squares(grid: GridWorld, states, color: str) -> dict:
    """One shape: the squares of ``states``, all in ``color``."""
    path = "".join(f"M{c - CELL_HALF:g},{r - CELL_HALF:g}H{c + CELL_HALF:g}V{r + CELL_HALF:g}"
                   f"H{c - CELL_HALF:g}Z" for r, c in grid.cells[np.atleast_1d(states)] + 1)
    return dict(type="path", path=path, fillcolor=color, line=dict(width=0), layer="below")


def _shaded_cells(grid: GridWorld, values: np.ndarray | None, limit: float) -> list[dict]:
    """The squares of the cells that are not end cells, one shape per shade of their values."""
    live = np.flatnonzero(~grid.terminal)
    share = 0.0 if values is None else np.nan_to_num(np.clip(values[live] / limit, -1, 1))
    shade = np.rint(np.broadcast_to(share, live.shape) * SHADES).astype(int)
    return [_squares(grid, live[shade == level], cell_colors([level / SHADES], 1.0)[0])
            for level in np.unique(shade)]


def _padded(shapes: list[list[dict]]) -> list[list[dict]]:
    """Every frame's shapes as long a list as the longest: showing a frame, plotly updates the
    shapes it has one by one and keeps any further ones, which would linger from another frame.
    The padding is an empty path."""
    longest = max(map(len, shapes))
    blank = dict(type="path", path="M0,0", line=dict(width=0), layer="below")
    return [frame + [blank] * (longest - len(frame)) for frame in shapes]


def _map_frame(grid: GridWorld, values: np.ndarray | None, limit: float, probs: np.ndarray,
               arrow_colors: Sequence[str] | None = None,
               digits: int = 2) -> tuple[list[dict], list[dict]]:
    """One frame of a replayed map: (the numbers' and the arrows' trace attributes, the cells'
    shapes). values None: a policy without finite values (blank cells); arrow_colors: one per
    state (default: all dark)."""
    exact = compact(values) if values is not None else [None] * grid.n_states
    return ([dict(text=_cell_text(grid, values, digits), customdata=exact),
             _arrow_frame(grid, probs, arrow_colors)], _shaded_cells(grid, values, limit))


def _map_traces(grid: GridWorld, first: list[dict]) -> list[dict]:
    """The numbers and the arrows of a replayed map, as its first frame has them."""
    numbers, arrows = first
    ink = np.where(grid.terminal, "#FFFFFF", theme.TEXT).tolist()  # end cells are dark
    return [
        dict(type="scatter", mode="text", x=compact(grid.cells[:, 1] + 1),
             y=compact(grid.cells[:, 0] + 1), name="cells", showlegend=False,
             hovertemplate="row %{y}, column %{x}: value %{customdata:.3f}<extra></extra>",
             textfont=dict(size=round(13 * _text_scale(grid)), color=ink), **numbers),
        _arrow_trace(grid, arrows),
    ]


def _replay_layout(grid: GridWorld, title: str, x2_title: str, y2_title: str,
                   curve_title: str = "", cell: int | None = None, **yaxis2) -> dict:
    """A map on top (axes x, y; full width, so the frame's numbers sit above it) and a curve
    under it (axes x2, y2), with the curve's title or its legend in the gap between them.
    Walls are the dark background that shows where no cell is drawn; end cells keep their
    colour in every frame."""
    rows, cols = grid.shape
    map_px = rows * _cell_size(rows)
    plot_px = map_px + MAP_GAP + CURVE_HEIGHT
    curve_top = CURVE_HEIGHT / plot_px
    background = dict(type="rect", x0=0.5, x1=cols + 0.5, y0=0.5, y1=rows + 0.5,
                      fillcolor=WALL_COLOR, line=dict(width=0), layer="below")
    ends = [_squares(grid, np.flatnonzero(grid.letters == letter), COLORSCALE[level][1])
            for letter, level in (("T", 2), ("D", 0)) if letter in grid.letters]
    shapes = [background, *ends]
    if cell is not None:
        r, c = grid.cells[cell] + 1
        # On the gap around the cell, so that it covers none of the cell's arrows
        shapes.append(dict(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5,
                           line=dict(color=theme.OKABE_ITO["orange"], width=4)))
    return dict(
        title=_top_title(title), height=TOP + plot_px + 10, margin=dict(l=10, r=10, t=TOP, b=10),
        xaxis=dict(domain=[0, 1], anchor="y", title=dict(text="column"), dtick=1,
                   showgrid=False, zeroline=False, range=[0.5, cols + 0.5], constrain="domain",
                   constraintoward="left"),
        yaxis=dict(domain=[1 - map_px / plot_px, 1], anchor="x", title=dict(text="row"),
                   dtick=1, showgrid=False, zeroline=False, range=[rows + 0.5, 0.5],
                   scaleanchor="x", constrain="domain", constraintoward="top"),
        xaxis2=dict(domain=[0, 1], anchor="y2", title=dict(text=x2_title, standoff=4)),
        yaxis2=dict(domain=[0, curve_top], anchor="x2", title=dict(text=y2_title), **yaxis2),
        # Above the curve, under the map's column numbers: where a narrow screen, which
        # shrinks the map, leaves the most room.
        legend=dict(orientation="h", x=0, xanchor="left", y=curve_top, yanchor="bottom"),
        shapes=shapes,
        annotations=[_start_label(grid)] + ([dict(
            text=curve_title, x=0, y=1, xref="x2 domain", yref="y2 domain", xanchor="left",
            yanchor="bottom", yshift=8, showarrow=False)] if curve_title else []),
    )


TOP = 70  # pixels above the plot for the title (explorable.build adds room for the numbers)


def _top_title(text: str) -> dict:
    """A title at the top of the figure, clear of the frame's numbers under it."""
    return dict(text=text, y=1.0, yanchor="top", yref="container", pad=dict(t=12))


def _headroom(*series, top_share: float = 0.3) -> list[float]:
    """A y range holding every finite value of ``series``, with ``top_share`` of their span to
    spare at the top (for a legend or a label)."""
    values = np.concatenate([np.ravel(np.asarray(s, dtype=float)) for s in series])
    values = values[np.isfinite(values)]
    low, high = (values.min(), values.max()) if values.size else (-1.0, 1.0)
    span = max(high - low, 0.1)
    return [float(low - 0.06 * span), float(high + top_share * span)]


def _every(length: int, max_points: int = 150) -> np.ndarray:
    """Evenly spaced indices, at most ``max_points`` of them, always keeping the last."""
    step = -(-length // max_points)
    return np.unique(np.append(np.arange(0, length, step), length - 1))


def _optimum_label(optimum: float, xref: str, yref: str) -> dict:
    """The name of the dashed optimum line: above the line at its left end (where a run
    starts, far below the optimum), lifted clear of it and on a white backing, so neither the
    line nor a dot under it runs through the text."""
    return dict(x=0, xref=xref, y=optimum, yref=yref, text=f"optimum {fmt(optimum)}",
                showarrow=False, xanchor="left", yanchor="bottom", yshift=4,
                bgcolor="rgba(255, 255, 255, 0.9)", borderpad=1)


def _optimum_line(optimum: float) -> tuple[dict, dict]:
    return (hline(optimum, "exact", panel=1, dash="dash"),
            _optimum_label(optimum, "x2 domain", "y2"))


def _limit(*values) -> float:
    finite = [np.abs(v[np.isfinite(v)]).max() for v in map(np.asarray, values)
              if np.isfinite(v).any()]
    return max([1.0, *finite])


def value_iteration_replay(grid: GridWorld, values: np.ndarray, actions: np.ndarray,
                           residuals: np.ndarray, settled: bool,
                           cell: int | None = None) -> dict:
    """Value iteration replayed sweep by sweep: the values after k sweeps and the greedy
    arrows against them (top), the largest change of each sweep (bottom, log scale).

    values, actions: (K+1, n) after 0 … K sweeps; residuals (K,): the largest change of sweeps
    1 … K; settled: whether sweep K is where the values stopped moving; cell: the outlined cell.
    An explorable over k with play.
    """
    sweeps = np.arange(values.shape[0])
    limit = _limit(values)
    maps = [_map_frame(grid, v, limit, deterministic_policy(a)) for v, a in zip(values, actions,
                                                                          strict=True)]
    change = np.maximum(residuals, 1e-16)  # a change of exactly 0 has no place on a log axis
    layout = _replay_layout(grid, "Value iteration, sweep by sweep", "sweep k",
                            "largest change (reward)",
                            curve_title="Largest change of a value in each sweep", cell=cell,
                            type="log", exponentformat="power")
    layout["showlegend"] = False
    data = [*_map_traces(grid, maps[0][0]),
            dict(type="scatter", x=compact(sweeps[1:]), y=compact(change), mode="lines+markers",
                 line=dict(color=theme.COLORS["exact"], width=3), marker=dict(size=5),
                 name="largest change", xaxis="x2", yaxis="y2"),
            dict(type="scatter", x=[0], y=[None], mode="markers", marker=MARKER,
                 name="this sweep", xaxis="x2", yaxis="y2", hoverinfo="skip")]
    layout["xaxis2"]["range"] = [-0.5, max(sweeps[-1], 1) + 0.5]
    live_cell = cell is not None and not grid.terminal[cell]
    frames, shapes, notes = [], [], []
    for k in sweeps:
        traces, squares = maps[k]
        marker = dict(x=[int(k)], y=compact(change[k - 1]) if k else [None])
        frames.append([*traces, marker])
        shapes.append(squares)
        if k == 0:
            notes.append("Before the first sweep every value is 0")
            continue
        outlined = f" · outlined cell {fmt(values[k][cell])}" if live_cell else ""
        done = "<br>settled: no value moves any more" if settled and k == sweeps[-1] else ""
        notes.append(f"Sweep {k}: largest change {fmt(residuals[k - 1])}<br>"
                     f"V(start) = {fmt(values[k][grid.start])}{outlined}{done}")
    return explorable.build(dict(data=data, layout=layout), values=[int(k) for k in sweeps],
                            label="sweeps", frames=frames, changing=[0, 1, 3],
                            notes=notes, shapes=_padded(shapes), play=True, frame_ms=400)


def q_learning_replay(grid: GridWorld, episodes_at: np.ndarray, tables: np.ndarray,
                      actions: np.ndarray, optimal: np.ndarray, returns: np.ndarray,
                      smooth: np.ndarray, greedy_values: np.ndarray, optimum: float,
                      window: int) -> dict:
    """Q-learning replayed: the table after each snapshot of episodes (top: the best Q-value
    of each cell and its greedy arrow, black where optimal, red where not) and the learning
    curve with the snapshot marked (bottom).

    episodes_at (F,): the snapshots' episode counts; tables (F, n, 4); actions, optimal (F, n);
    returns, smooth (E,): each episode's return and its running mean over ``window`` episodes;
    greedy_values (F,): the exact value of each snapshot's greedy policy from the start.
    An explorable over the episodes with play.
    """
    total = returns.size
    best = tables.max(axis=2)
    limit = _limit(best)
    live = ~grid.terminal
    maps = [_map_frame(grid, b, limit, deterministic_policy(a),
                       [ARROW_COLOR if ok else WRONG_ARROW_COLOR for ok in good])
            for b, a, good in zip(best, actions, optimal, strict=True)]
    episode = np.arange(1, total + 1)
    dots, line = _every(total), _every(total)
    shown = "" if dots.size == total else f" (1 in {dots[1] - dots[0]} shown)"
    layout = _replay_layout(grid, "Q-learning, episode by episode", "episode",
                            "return G (reward)",
                            range=_headroom(returns, greedy_values, [optimum], top_share=0.2))
    line_shape, label = _optimum_line(optimum)
    layout["shapes"].append(line_shape)
    layout["annotations"].append(label)
    data = [*_map_traces(grid, maps[0][0]),
            dict(type="scatter", x=compact(episode[dots]), y=compact(returns[dots]), mode="markers",
                 name=f"one episode{shown}", xaxis="x2", yaxis="y2", hoverinfo="skip",
                 marker=dict(size=4, color=theme.COLORS["estimate"], opacity=0.45)),
            dict(type="scatter", x=compact(episode[line]), y=compact(smooth[line]), mode="lines",
                 name=f"mean of {window}", xaxis="x2", yaxis="y2",
                 line=dict(color=theme.COLORS["estimate"], width=3)),
            dict(type="scatter", x=compact(episodes_at), y=compact(greedy_values),
                 mode="lines+markers",
                 name="greedy policy, exact", xaxis="x2", yaxis="y2",
                 line=dict(color=theme.COLORS["policy"], width=3), marker=dict(size=6)),
            dict(type="scatter", x=[0], y=[None], mode="markers", marker=MARKER,
                 name="now", showlegend=False, xaxis="x2", yaxis="y2", hoverinfo="skip")]
    frames, shapes, notes = [], [], []
    for f, done in enumerate(episodes_at):
        traces, squares = maps[f]
        frames.append([*traces, dict(x=[int(done)], y=compact(greedy_values[f]))])
        shapes.append(squares)
        worth = (f"greedy policy's value {fmt(greedy_values[f])}"
                 if np.isfinite(greedy_values[f]) else "greedy policy never ends")
        recent = (f"<br>mean of the last {min(window, done)} returns {fmt(smooth[done - 1])}"
                  if done else "")
        notes.append(f"After {done} of {total} episodes<br>greedy arrows optimal: "
                     f"{optimal[f][live].sum()} of {live.sum()}<br>{worth} (V* {fmt(optimum)})"
                     f"{recent}")
    return explorable.build(dict(data=data, layout=layout),
                            values=[int(e) for e in episodes_at], label="episodes",
                            frames=frames, changing=[0, 1, 5], notes=notes, shapes=_padded(shapes),
                            play=True, frame_ms=250)


def policy_gradient_replay(grid: GridWorld, updates_at: np.ndarray, probs: np.ndarray,
                           values: Sequence[np.ndarray | None], batch_returns: np.ndarray,
                           exact_returns: np.ndarray, entropy: np.ndarray,
                           optimum: float) -> dict:
    """REINFORCE replayed update by update: the softmax policy on the map (arrow size = the
    probability of each action, cells = that policy's exact values) and the return curve with
    the update marked.

    updates_at (F,): the updates shown; probs (F, n, 4) and values (F,) of (n,) or None, the
    policies after them and their exact values; batch_returns, entropy (U,): the mean return
    and the visit-weighted entropy (bits) of each update's batch; exact_returns (U+1,).
    An explorable over the updates with play.
    """
    total = batch_returns.size
    limit = _limit(*[v for v in values if v is not None])
    maps = [_map_frame(grid, v, limit, p) for v, p in zip(values, probs, strict=True)]
    dots, line = _every(total), _every(total + 1)
    shown = "" if dots.size == total else f" (1 in {dots[1] - dots[0]} shown)"
    layout = _replay_layout(grid, "REINFORCE, update by update", "update",
                            "return G (reward)",
                            range=_headroom(batch_returns, exact_returns, [optimum],
                                            top_share=0.2))
    line_shape, label = _optimum_line(optimum)
    layout["shapes"].append(line_shape)
    layout["annotations"].append(label)
    data = [*_map_traces(grid, maps[0][0]),
            dict(type="scatter", x=compact(dots), y=compact(batch_returns[dots]), mode="markers",
                 name=f"mean return of a batch{shown}", xaxis="x2", yaxis="y2",
                 hoverinfo="skip",
                 marker=dict(size=5, color=theme.COLORS["estimate"], opacity=0.6)),
            dict(type="scatter", x=compact(line), y=compact(exact_returns[line]), mode="lines",
                 name="exact value of the policy", xaxis="x2", yaxis="y2",
                 line=dict(color=theme.COLORS["policy"], width=3)),
            dict(type="scatter", x=[0], y=[None], mode="markers", marker=MARKER,
                 name="now", showlegend=False, xaxis="x2", yaxis="y2", hoverinfo="skip")]
    frames, shapes, notes = [], [], []
    for f, k in enumerate(updates_at):
        traces, squares = maps[f]
        frames.append([*traces, dict(x=[int(k)], y=compact(exact_returns[k]))])
        shapes.append(squares)
        worth = (f"policy's value {fmt(exact_returns[k])}" if np.isfinite(exact_returns[k])
                 else "the policy never ends")
        batch = (f"<br>its batch: mean return {fmt(batch_returns[k])}<br>entropy of its moves "
                 f"{entropy[k]:.2f} bits" if k < total else "")
        trained = " (trained)" if k == total else ""
        notes.append(f"After {k} of {total} updates{trained}<br>{worth} (V* {fmt(optimum)})"
                     f"{batch}")
    return explorable.build(dict(data=data, layout=layout),
                            values=[int(k) for k in updates_at], label="updates",
                            frames=frames, changing=[0, 1, 4], notes=notes, shapes=_padded(shapes),
                            play=True, frame_ms=250)


# Bridge to PPO: two runs side by side

RUN_COLORS = (theme.COLORS["chosen"], theme.COLORS["rejected"])  # careful, big


def step_size_replay(values: dict[str, np.ndarray], factors: dict[str, np.ndarray],
                     optimum: float, epsilon: float) -> dict:
    """Two step sizes replayed update by update: the exact value of each run's policy (top) and
    the largest factor by which its update changed any probability (bottom, log scale, with
    the changes PPO's clipping allows shaded), a marker on each run at the slider's update.

    values: run name -> (K+1,) V^π(start) after 0 … K updates; factors: run name -> (K,).
    An explorable over the updates 1 … K with play.
    """
    names = list(values)
    updates = np.arange(len(next(iter(values.values()))))
    top = _headroom(*values.values(), [optimum], top_share=0.35)
    layout = dict(
        title=_top_title("A careful step against a big one"),
        xaxis=dict(domain=[0, 1], anchor="y", title=dict(text="update")),
        yaxis=dict(domain=[0.56, 1], anchor="x", range=top,
                   title=dict(text="value V<sup>π</sup>(start) (reward)")),
        xaxis2=dict(domain=[0, 1], anchor="y2", title=dict(text="update", standoff=4)),
        yaxis2=dict(domain=[0, 0.38], anchor="x2", type="log", exponentformat="power",
                    title=dict(text="largest factor max(r, 1/r)")),
        legend=dict(orientation="h", x=1, xanchor="right", y=1, yanchor="top",
                    bgcolor="rgba(255, 255, 255, 0.85)"),
        shapes=[hline(optimum, "exact", dash="dash"),
                dict(type="rect", xref="x2 domain", x0=0, x1=1, yref="y2", y0=1,
                     y1=1 / (1 - epsilon), fillcolor=theme.COLORS["Q"], opacity=0.25,
                     line_width=0, layer="below")],
        annotations=[_optimum_label(optimum, "x domain", "y"),
                     dict(text="How far each update moved the policy", x=0, y=1,
                          xref="x2 domain", yref="y2 domain", xanchor="left", yanchor="bottom",
                          yshift=8, showarrow=False)],
        margin=dict(t=TOP), height=600)
    data = []
    for name, color in zip(names, RUN_COLORS, strict=True):
        data.append(dict(type="scatter", x=compact(updates), y=compact(values[name]), mode="lines",
                         name=name, legendgroup=name, line=dict(color=color, width=3)))
    for name, color in zip(names, RUN_COLORS, strict=True):
        data.append(dict(type="scatter", x=compact(updates[1:]), y=compact(factors[name]),
                         mode="lines", name=name, legendgroup=name, showlegend=False,
                         line=dict(color=color, width=3), xaxis="x2", yaxis="y2"))
    ring = dict(MARKER, color=list(RUN_COLORS))
    data += [dict(type="scatter", x=[1, 1], y=[None, None], mode="markers", marker=ring,
                  showlegend=False, hoverinfo="skip"),
             dict(type="scatter", x=[1, 1], y=[None, None], mode="markers", marker=ring,
                  showlegend=False, hoverinfo="skip", xaxis="x2", yaxis="y2")]
    frames, notes = [], []
    for k in updates[1:]:
        now = {n: (values[n][k], factors[n][k - 1]) for n in names}
        frames.append([dict(x=[int(k)] * 2, y=compact([now[n][0] for n in names])),
                       dict(x=[int(k)] * 2, y=compact([now[n][1] for n in names]))])
        notes.append(f"After update {k}<br>" + "<br>".join(
            f"{n}: value {fmt(v)}, largest factor ×{fmt(f, 2)}" for n, (v, f) in now.items()))
    return explorable.build(dict(data=data, layout=layout),
                            values=[int(k) for k in updates[1:]], label="update",
                            frames=frames, changing=[4, 5], notes=notes, play=True,
                            frame_ms=250)


def ratio_label(r: float) -> str:
    """The ratio over a pair of bars, short enough to fit over the pair on a phone: the exact
    value of the largest change is in the frame's numbers.

    Example: ratio_label(2.5) -> 'r = 2.5', ratio_label(3e-8) -> 'r < 0.01'"""
    if np.isnan(r):
        return "r = 0/0"
    if r > 100:
        return "r > 100" if np.isfinite(r) else "r = ∞"
    return "r < 0.01" if r < 0.01 else f"r = {fmt(r, 2)}"


def start_cell_updates(probs: np.ndarray, ratios: np.ndarray, kls: np.ndarray,
                       run: str) -> dict:
    """One run's updates at the start cell, one at a time: π_old (grey) and π_new (pink) for
    each action, the ratio r = π_new / π_old above each pair.

    probs (K+1, 4): the start cell's policy after 0 … K updates; ratios (K, 4); kls (K,):
    KL(old‖new) of each update in nats. An explorable over the updates 1 … K.
    """
    names = ["up", "right", "down", "left"]

    def ratio_text(r: float) -> str:
        return "r = 0/0" if np.isnan(r) else "r = ∞" if np.isinf(r) else f"r = {fmt(r, 2)}"

    def over_pairs(old: np.ndarray, new: np.ndarray, r: np.ndarray) -> list[dict]:
        # Over the taller bar of each pair, so the text never sits on a bar
        return [dict(x=name, y=float(max(o, n)), xref="x", yref="y", text=ratio_label(x),
                     showarrow=False, yanchor="bottom", yshift=3, font=dict(size=13))
                for name, o, n, x in zip(names, old, new, r, strict=True)]

    data = [
        dict(type="bar", x=names, y=compact(probs[0]), name="before: π_old",
             marker=dict(color=theme.COLORS["reference"])),
        dict(type="bar", x=names, y=compact(probs[1]), name="after: π_new",
             marker=dict(color=theme.COLORS["policy"])),
    ]
    layout = dict(title=_top_title(f"{run}: one update at the start cell"), barmode="group",
                  xaxis=dict(title=dict(text="action", standoff=4)),
                  yaxis=dict(title=dict(text="probability at the start cell"),
                             range=[0, 1.3]),
                  legend=dict(orientation="h", x=1, xanchor="right", y=1, yanchor="top",
                              bgcolor="rgba(255, 255, 255, 0.85)"),
                  margin=dict(t=TOP), height=380)
    frames, notes, labels = [], [], []
    for k in range(1, len(probs)):
        old, new, r = probs[k - 1], probs[k], ratios[k - 1]
        frames.append([dict(y=compact(old)), dict(y=compact(new))])
        labels.append(over_pairs(old, new, r))
        with np.errstate(divide="ignore", invalid="ignore"):
            most = int(np.argmax(np.nan_to_num(np.abs(np.log(r)), nan=np.inf)))
        notes.append(f"Update {k}: {names[most]} changed most<br>{fmt(old[most])} → "
                     f"{fmt(new[most])}, a ratio of {ratio_text(r[most])[4:]}<br>"
                     f"KL(old‖new) = {fmt(kls[k - 1])} nats")
    return explorable.build(dict(data=data, layout=layout), values=list(range(1, len(probs))),
                            label="update", frames=frames, changing=[0, 1], notes=notes,
                            annotations=labels, play=True, frame_ms=300)


def _paren(value: float, digits: int = 2) -> str:
    """A number for a product in LaTeX: negative ones in parentheses."""
    return f"{value:.{digits}f}" if value >= 0 else f"({value:.{digits}f})"


def return_latex(rewards: np.ndarray, gamma: float, total: float, shown: int = 3) -> str:
    """G = r₁ + γ·r₂ + γ²·r₃ + ... with the episode's numbers: the first ``shown`` terms, then
    the last one on its own line (anything between elided), then the total."""
    def term(t: int, r: float) -> str:
        if t == 0:
            return f"{r:.2f}"
        factor = f"{gamma:g}" if t == 1 else f"{gamma:g}^{{{t}}}"
        return f"{factor}\\cdot{_paren(r)}"

    first = [term(t, r) for t, r in enumerate(rewards[:shown])]
    lines = ["G &= " + " + ".join(first)]
    if len(rewards) > shown:
        gap = r"\cdots + " if len(rewards) > shown + 1 else ""
        lines.append(r"&\quad + " + gap + term(len(rewards) - 1, rewards[-1]))
    lines.append(f"&= {total:.3f}")
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def bellman_latex(terms: list[dict], gamma: float, best: int) -> str:
    """The Bellman backup of one cell, one line per action: Σ p·(r + γ·V(s')) = Q(s, a)."""
    lines = []
    for a, term in enumerate(terms):
        parts = [f"{p:g}\\,({r:.2f} + {gamma:g}\\cdot {_paren(v)})"
                 for p, _, r, v in term["outcomes"]]
        line = (f"{LATEX_ARROWS[a]}\\ \\text{{{term['action']}}}: & \\quad "
                + " + ".join(parts) + f" = {term['q']:.3f}")
        lines.append(line + (r" \;\leftarrow \text{best}" if a == best else ""))
    return r"\small\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"
