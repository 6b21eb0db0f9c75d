"""Figures for the grid-world lesson: the world as a heat map with policy arrows, and the
learning curves of value iteration, Q-learning and REINFORCE.

The map is one heat map (values, or just the end cells' rewards) plus one text trace of arrows,
so a slider that redraws it stays cheap. Arrows sit between a cell's centre and its edge, one per
action, sized by the action's probability: a greedy policy shows one big arrow per cell, the
uniformly random policy four small ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lessons.gridworld import ARROWS, MOVES, GridWorld
from ui import theme
from ui.figures import axis_refs, fmt, hline

WALL_COLOR = "#3F444C"
ARROW_COLOR = "#1B1F24"
WRONG_ARROW_COLOR = theme.COLORS["rejected"]  # an action that differs from the optimal policy
COLORSCALE = [[0.0, theme.COLORS["rejected"]], [0.5, "#FFFFFF"], [1.0, theme.COLORS["chosen"]]]
MIN_ARROW_PROB = 0.08  # smaller probabilities get no arrow, to keep the map readable
ARROW_OFFSET = 0.33  # distance of an arrow from its cell's centre, in cells
LATEX_ARROWS = (r"\uparrow", r"\rightarrow", r"\downarrow", r"\leftarrow")


def _text_scale(grid: GridWorld) -> float:
    """Smaller numbers and arrows in grids with many (and so narrower) cells."""
    return 1.0 if max(grid.shape) <= 5 else 0.8


def _cell_size(rows: int) -> int:
    return 100 if rows <= 4 else 72 if rows <= 6 else 58


def map_height(grid: GridWorld) -> int:
    """A height (px) that keeps the cells square and readable for any grid size."""
    return 130 + grid.shape[0] * _cell_size(grid.shape[0])


def _cell_text(grid: GridWorld, values: np.ndarray | None, digits: int) -> list[str]:
    texts = []
    for s in range(grid.n_states):
        letter = grid.letter(s)
        if letter == "T":
            texts.append("treasure<br>+1")
        elif letter == "D":
            texts.append("dragon<br>−1")
        elif values is None:
            texts.append("start" if letter == "S" else "")
        else:
            number = f"{values[s]:.{digits}f}".replace("-", "−")
            texts.append(f"start<br>{number}" if letter == "S" else number)
    return texts


def _table(grid: GridWorld, per_state, wall, dtype) -> np.ndarray:
    """A rows × columns array of per-state entries, ``wall`` on walls."""
    table = np.full(grid.shape, wall, dtype=dtype)
    table[grid.cells[:, 0], grid.cells[:, 1]] = per_state
    return table


def _arrow_trace(grid: GridWorld, probs: np.ndarray, colors: Sequence[str] | None) -> dict:
    live = np.flatnonzero(~grid.terminal)
    state, action = np.nonzero(probs[live] >= MIN_ARROW_PROB)
    state = live[state]
    p = probs[state, action]
    color = ARROW_COLOR if colors is None else np.asarray(colors, dtype=object)[state]
    return dict(type="scatter", mode="text", hoverinfo="skip", showlegend=False,
                x=grid.cells[state, 1] + 1 + ARROW_OFFSET * MOVES[action, 1],
                y=grid.cells[state, 0] + 1 + ARROW_OFFSET * MOVES[action, 0],
                text=np.array(ARROWS)[action], cliponaxis=False,
                textfont=dict(size=np.round((11 + 17 * p) * _text_scale(grid)), color=color))


def world_map(grid: GridWorld, title: str, values: np.ndarray | None = None,
              probs: np.ndarray | None = None, arrow_colors: Sequence[str] | None = None,
              path: dict | None = None, highlight: int | None = None, note: str = "",
              digits: int = 2) -> go.Figure:
    """The grid as a heat map: cell colours are values (or blank), end cells show their reward,
    arrows show a policy π(a|s) = probs[s, a], an optional path shows one episode.

    Cells sit at whole-number coordinates: column c and row r (counted from 1) at (c, r).
    Built from plain arrays: this figure is redrawn on every move of a slider.
    """
    rows, cols = grid.shape
    ends = np.where(grid.letters == "T", 1.0, -1.0)
    if values is None:
        z, limit = np.where(grid.terminal, ends, 0.0), 1.0
    else:
        z, limit = np.where(grid.terminal, ends, values), max(1.0, float(np.abs(values).max()))
    data = [dict(
        type="heatmap", x=np.arange(1, cols + 1), y=np.arange(1, rows + 1),
        z=_table(grid, z, np.nan, float),
        text=_table(grid, _cell_text(grid, values, digits), "", object),
        texttemplate="%{text}", textfont=dict(size=round(14 * _text_scale(grid))),
        showscale=False,
        hovertemplate="row %{y}, column %{x}<extra></extra>",
        colorscale=COLORSCALE, zmin=-limit, zmax=limit, xgap=3, ygap=3,
    )]
    if probs is not None:
        data.append(_arrow_trace(grid, probs, arrow_colors))
    shapes, annotations = [], []
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
    if highlight is not None:
        r, c = grid.cells[highlight] + 1
        shapes.append(dict(type="rect", x0=c - 0.47, x1=c + 0.47, y0=r - 0.47, y1=r + 0.47,
                           line=dict(color=theme.OKABE_ITO["orange"], width=5)))
    if note:
        annotations.append(dict(text=note, x=0, y=1.0, xref="paper", yref="paper",
                                xanchor="left", yanchor="bottom", yshift=6, showarrow=False,
                                font=dict(size=13, color="#4B5563")))
    layout = dict(
        title=dict(text=title, y=1.0, yanchor="top", yref="container", pad=dict(t=12)),
        height=map_height(grid), plot_bgcolor=WALL_COLOR, shapes=shapes,
        annotations=annotations, margin=dict(l=10, r=10, t=78, b=10),
        xaxis=dict(title=dict(text="column"), dtick=1, showgrid=False,
                   range=[0.5, cols + 0.5], constrain="domain"),
        yaxis=dict(title=dict(text="row"), dtick=1, showgrid=False,
                   range=[rows + 0.5, 0.5], scaleanchor="x", constrain="domain"),
    )
    return go.Figure(data=data, layout=layout)


def convergence(residuals: np.ndarray) -> go.Figure:
    """How much value iteration still changes the values, sweep after sweep (log scale)."""
    k = np.arange(1, residuals.size + 1)
    data = [dict(type="scatter", x=k, y=np.maximum(residuals, 1e-16), mode="lines+markers",
                 line=dict(color=theme.COLORS["exact"], width=3), marker=dict(size=5),
                 name="largest change")]
    layout = dict(title="Each sweep changes the values less",
                  xaxis=dict(title="sweep k"),
                  yaxis=dict(title="largest change of a value (reward)", type="log",
                             exponentformat="power"),
                  showlegend=False, height=320)
    return go.Figure(data=data, layout=layout)


def q_learning_curve(returns: np.ndarray, smooth: np.ndarray, snapshot_episodes: np.ndarray,
                     greedy_values: np.ndarray, optimum: float) -> go.Figure:
    """Return of every training episode, its running mean, and the exact value of the greedy
    policy at the snapshots, against the optimum V*(start)."""
    episodes = np.arange(1, returns.size + 1)
    data = [
        dict(type="scatter", x=episodes, y=returns, mode="markers", name="return of an episode",
             marker=dict(size=4, color=theme.COLORS["estimate"], opacity=0.45)),
        dict(type="scatter", x=episodes, y=smooth, mode="lines", name="running mean",
             line=dict(color=theme.COLORS["estimate"], width=3)),
        dict(type="scatter", x=snapshot_episodes, y=greedy_values, mode="lines+markers",
             name="greedy policy, exact value", line=dict(color=theme.COLORS["policy"], width=3),
             marker=dict(size=6)),
    ]
    layout = dict(title="Learning curve: return from the start",
                  xaxis=dict(title="episode"), yaxis=dict(title="discounted return G (reward)"),
                  shapes=[hline(optimum, "exact", dash="dash")],
                  annotations=[dict(x=1, xref="x domain", y=optimum, yref="y",
                                    text=f"optimum V*(start) = {fmt(optimum)}", showarrow=False,
                                    xanchor="right", yanchor="bottom")],
                  legend=dict(orientation="h", y=-0.22, x=0), height=380)
    return go.Figure(data=data, layout=layout)


def policy_gradient_curves(batch_returns: np.ndarray, exact: np.ndarray, entropy: np.ndarray,
                           optimum: float, titles=("Return from the start", "Policy entropy"),
                           ) -> go.Figure:
    """Two panels over the updates: the return (sampled and exact) and the policy's entropy."""
    updates = np.arange(len(exact))
    width, gap = 0.44, 0.12
    layout = dict(
        xaxis=dict(domain=[0, width], anchor="y", title=dict(text="update")),
        yaxis=dict(anchor="x", title=dict(text="discounted return G (reward)")),
        xaxis2=dict(domain=[width + gap, 1], anchor="y2", title=dict(text="update")),
        yaxis2=dict(anchor="x2", title=dict(text="entropy (bits)"), range=[0, 2.08]),
        annotations=[dict(text=t, x=x, y=1.0, xref="paper", yref="paper", xanchor="center",
                          yanchor="bottom", showarrow=False, font=dict(size=15))
                     for t, x in zip(titles, (width / 2, width + gap + (1 - width - gap) / 2),
                                     strict=True)],
        shapes=[hline(optimum, "exact", dash="dash")],
        legend=dict(orientation="h", y=-0.25, x=0), height=380,
        title="REINFORCE with a baseline, update by update",
    )
    x2, y2 = axis_refs(1)
    data = [
        dict(type="scatter", x=updates[:-1], y=batch_returns, mode="markers",
             name="mean return of the batch", marker=dict(size=5, color=theme.COLORS["estimate"],
                                                          opacity=0.6)),
        dict(type="scatter", x=updates, y=exact, mode="lines", name="exact value of the policy",
             line=dict(color=theme.COLORS["policy"], width=3)),
        dict(type="scatter", x=updates[:-1], y=entropy, mode="lines", name="entropy",
             line=dict(color=theme.COLORS["Q"], width=3), xaxis=x2, yaxis=y2),
    ]
    layout["annotations"].append(dict(x=1, xref="x domain", y=optimum, yref="y",
                                      text=f"optimum {fmt(optimum)}", showarrow=False,
                                      xanchor="right", yanchor="bottom"))
    return go.Figure(data=data, layout=layout)


def ratio_bars(old: np.ndarray, new: np.ndarray, ratios: np.ndarray, note: str) -> go.Figure:
    """π_old and π_new at one state, action by action, with the ratio above each pair."""
    names = ["up", "right", "down", "left"]
    text = [f"r = {fmt(r, 2)}" if np.isfinite(r) else "r = ∞" for r in ratios]
    data = [
        dict(type="bar", x=names, y=old, name="old policy π_old(a|s)",
             marker=dict(color=theme.COLORS["reference"])),
        dict(type="bar", x=names, y=new, name="new policy π_new(a|s)", text=text,
             textposition="outside", cliponaxis=False, marker=dict(color=theme.COLORS["policy"])),
    ]
    layout = dict(title="One update at the start cell: old and new probabilities",
                  barmode="group", xaxis=dict(title="action"),
                  yaxis=dict(title="probability", range=[0, 1.15]),
                  legend=dict(orientation="h", y=1.0, x=1, xanchor="right", yanchor="bottom"),
                  annotations=[dict(text=note, x=0, y=1.0, xref="paper", yref="paper",
                                    xanchor="left", yanchor="bottom", yshift=6, showarrow=False,
                                    font=dict(size=13, color="#4B5563"))],
                  margin=dict(l=10, r=10, t=80, b=10), height=380)
    return go.Figure(data=data, layout=layout)


def step_size_runs(runs: dict[str, np.ndarray], optimum: float) -> go.Figure:
    """The exact value of the policy after each update, one line per step size."""
    colors = [theme.COLORS["chosen"], theme.COLORS["rejected"]]
    data = [dict(type="scatter", x=np.arange(len(values)), y=values, mode="lines", name=name,
                 line=dict(color=color, width=3))
            for (name, values), color in zip(runs.items(), colors, strict=False)]
    layout = dict(title="A careful step size against a big one",
                  xaxis=dict(title="update"),
                  yaxis=dict(title="value of the policy V<sup>π</sup>(start) (reward)"),
                  shapes=[hline(optimum, "exact", dash="dash")],
                  annotations=[dict(x=1, xref="x domain", y=optimum, yref="y",
                                    text=f"optimum {fmt(optimum)}", showarrow=False,
                                    xanchor="right", yanchor="bottom")],
                  legend=dict(orientation="h", y=-0.22, x=0), height=360)
    return go.Figure(data=data, layout=layout)


def change_factors(factors: dict[str, np.ndarray], epsilon: float) -> go.Figure:
    """Per update, the largest factor by which any probability changed, one line per run, on a
    log scale, with the changes PPO's clip range allows shaded."""
    colors = [theme.COLORS["chosen"], theme.COLORS["rejected"]]
    data = [dict(type="scatter", x=np.arange(1, len(f) + 1), y=f, mode="lines", name=name,
                 line=dict(color=color, width=3))
            for (name, f), color in zip(factors.items(), colors, strict=False)]
    band = dict(type="rect", xref="x domain", x0=0, x1=1, yref="y", y0=1,
                y1=1 / (1 - epsilon), fillcolor=theme.COLORS["Q"], opacity=0.25, line_width=0)
    layout = dict(title="How far each update moves the policy",
                  xaxis=dict(title="update"),
                  yaxis=dict(title="largest change factor max(r, 1/r)", type="log",
                             exponentformat="power"),
                  shapes=[band],
                  legend=dict(orientation="h", y=-0.22, x=0), height=360)
    return go.Figure(data=data, layout=layout)


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
