"""Figures and formula text for the KL-divergence lesson (the dice game)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import theme
from ui.figures import axis_refs, fmt, hline, label, new_figure, panels, thin

DIE_COLORS = {"Die 1": theme.OKABE_ITO["blue"], "Die 2": theme.OKABE_ITO["orange"],
              "Die 3": theme.OKABE_ITO["green"], "Fair die": theme.COLORS["reference"]}


def _number(p: float) -> str:
    return f"{p:g}"


def product_latex(counts: Sequence[int], probs: Sequence[float]) -> str:
    """The sequence's probability written out face by face, e.g. 0.4^{4}·0.2^{2}·0.1·0.1·0.2^{2}.

    Faces that never came up contribute p^0 = 1 and are left out.
    """
    factors = []
    for count, p in zip(counts, probs, strict=True):
        if count == 1:
            factors.append(_number(p))
        elif count > 1:
            factors.append(f"{_number(p)}^{{{int(count)}}}")
    return r" \cdot ".join(factors) if factors else "1"


def average_loglik_bars(names: Sequence[str], values: Sequence[float], unit: str, best: str):
    """One bar per die: the average log-likelihood per roll; the most likely die stands out."""
    fig = new_figure("Average log-likelihood per roll: higher is more likely", "die",
                     f"log-likelihood ÷ n ({unit} per roll)")
    finite = [v if np.isfinite(v) else None for v in values]
    fig.add_bar(
        x=list(names), y=finite,
        marker_color=[DIE_COLORS.get(n, theme.COLORS["P"]) for n in names],
        marker_line=dict(color=[theme.COLORS["exact"] if n == best else "white" for n in names],
                         width=[4 if n == best else 0 for n in names]),
        text=[fmt(v) for v in values], textposition="outside", cliponaxis=False,
        showlegend=False,
    )
    fig.update_yaxes(rangemode="tozero")
    return fig


def why_divide_by_n(curve: dict, unit: str, model: str) -> go.Figure:
    """Three panels over n: the probability (vanishes), its log (falls), its log ÷ n (settles)."""
    layout = panels(("Probability of the sequence", f"Log-probability ({unit})",
                     f"Log-probability ÷ n ({unit} per roll)"), "rolls n", gap=0.08)
    n = curve["n"]
    early, idx = n <= 40, thin(n.size)
    line = dict(color=theme.COLORS["Q"], width=3)
    data = [
        dict(type="scatter", x=n[early], y=curve["likelihood"][early], mode="lines+markers",
             line=line, marker=dict(size=5), name="product of probabilities"),
        dict(type="scatter", x=n[idx], y=curve["log_likelihood"][idx], mode="lines",
             line=line, name="log of the product", xaxis="x2", yaxis="y2"),
        dict(type="scatter", x=n[idx], y=curve["average_log_likelihood"][idx], mode="lines",
             line=dict(color=theme.COLORS["estimate"], width=3), name="average per roll",
             xaxis="x3", yaxis="y3"),
    ]
    layout["shapes"].append(hline(curve["limit"], "exact", panel=2))
    layout["annotations"].append(label(n[-1], curve["limit"], f"−CE = {fmt(curve['limit'])}",
                                       panel=2, xanchor="right", yanchor="top"))
    layout.update(title=f"Scoring ever longer sequences with {model}", showlegend=False,
                  height=380)
    return go.Figure(data=data, layout=layout)


def running_kl(n: np.ndarray, estimates: np.ndarray, kl: float, unit: str) -> go.Figure:
    """Running averages of log(p/q) for several seeds, converging to the exact KL."""
    idx = thin(n.size)
    # All seeds in one trace, separated by gaps: one line per seed, drawn as one object.
    gap = np.full((estimates.shape[0], 1), np.nan)
    x = np.hstack([np.broadcast_to(n[idx], (estimates.shape[0], idx.size)), gap]).ravel()
    y = np.hstack([estimates[:, idx], gap]).ravel()
    data = [dict(type="scatter", x=x, y=np.where(np.isfinite(y), y, None), mode="lines",
                 name="running average, one line per seed",
                 line=dict(color=theme.COLORS["estimate"], width=1.5), opacity=0.75,
                 showlegend=True, connectgaps=False)]
    layout = dict(title="The game's average becomes KL(P‖Q) as n grows",
                  xaxis=dict(title="rolls n (log scale)", type="log"),
                  yaxis=dict(title=f"average log(p/q) ({unit} per roll)"),
                  legend=dict(orientation="h", y=-0.25), shapes=[], annotations=[])
    if np.isfinite(kl):
        layout["shapes"].append(hline(kl, "exact", width=3))
        layout["annotations"].append(label(np.log10(n[-1]), kl, f"KL(P‖Q) = {fmt(kl)} {unit}",
                                           xanchor="right", yanchor="bottom"))
    return go.Figure(data=data, layout=layout)


def decomposition(rows: Sequence[tuple[str, float, float]], unit: str):
    """Stacked bars: entropy H(P) plus KL(P‖Q) makes the cross-entropy CE(P, Q)."""
    fig = new_figure("Cross-entropy = entropy + KL divergence", f"{unit} per roll",
                     "the pair of distributions")
    labels = [r[0] for r in rows]
    fig.add_bar(y=labels, x=[r[1] for r in rows], orientation="h", name="entropy H(P)",
                marker_color=theme.COLORS["P"], texttemplate="H = %{x:.3f}",
                textposition="inside")
    fig.add_bar(y=labels, x=[r[2] for r in rows], orientation="h", name="KL(P‖Q): the extra",
                marker_color=theme.COLORS["Q"], texttemplate="%{x:.3f}",
                textposition="outside", cliponaxis=False)
    fig.update_layout(barmode="stack", height=300, legend=dict(orientation="h", y=-0.3))
    fig.update_yaxes(autorange="reversed")
    return fig


def pair_bars(p: np.ndarray, q: np.ndarray):
    """P and Q side by side, outcome by outcome."""
    outcomes = [str(i + 1) for i in range(p.size)]
    fig = new_figure("The two distributions", "outcome", "probability")
    fig.add_bar(x=outcomes, y=p, name="P", marker_color=theme.COLORS["P"])
    fig.add_bar(x=outcomes, y=q, name="Q", marker_color=theme.COLORS["Q"])
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=1.12, x=0))
    return fig


def contributions(terms_pq: np.ndarray, terms_qp: np.ndarray, unit: str):
    """Each outcome's share of KL(P‖Q) and of KL(Q‖P); infinite shares are marked, not drawn."""
    outcomes = [str(i + 1) for i in range(terms_pq.size)]
    fig = new_figure("Where each direction's KL comes from", "outcome", f"contribution ({unit})")
    for name, terms, role in (("p·log(p/q): KL(P‖Q)", terms_pq, "P"),
                              ("q·log(q/p): KL(Q‖P)", terms_qp, "Q")):
        fig.add_bar(x=outcomes, y=np.where(np.isfinite(terms), terms, np.nan), name=name,
                    marker_color=theme.COLORS[role])
    for i, (a, b) in enumerate(zip(terms_pq, terms_qp, strict=True)):
        for value, shift in ((a, -0.2), (b, 0.2)):
            if not np.isfinite(value):
                fig.add_annotation(x=i + shift, y=0, text="∞", showarrow=False, yshift=14,
                                   font=dict(size=20, color=theme.COLORS["rejected"]))
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=1.12, x=0))
    return fig


def empirical_vs_model(empirical: np.ndarray, model: np.ndarray, expected: np.ndarray):
    """Observed face frequencies against the model's probabilities."""
    faces = [str(i + 1) for i in range(model.size)]
    fig = new_figure("What was rolled, against what the model says", "face", "probability")
    fig.add_bar(x=faces, y=empirical, name="observed frequency", marker_color=theme.COLORS["P"])
    fig.add_bar(x=faces, y=model, name="model probability", marker_color=theme.COLORS["Q"],
                customdata=expected, hovertemplate="model %{y:.3f}<br>expected count "
                "%{customdata:.1f}<extra></extra>")
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=1.12, x=0))
    return fig


def p_value_vs_n(n: np.ndarray, p_values: np.ndarray, n_now: int, p_now: float,
                 kl_nats: float) -> go.Figure:
    """How the G-test's p-value for one fixed KL falls as the sample grows."""
    data = [
        dict(type="scatter", x=n, y=p_values, mode="lines", name="p-value",
             line=dict(color=theme.COLORS["estimate"], width=3)),
        dict(type="scatter", x=[n_now], y=[p_now], mode="markers", name="your rolls",
             marker=dict(size=14, color=theme.COLORS["highlight"],
                         line=dict(color=theme.COLORS["exact"], width=2))),
    ]
    layout = dict(title=f"The same KL ({fmt(kl_nats)} nats), more and more rolls",
                  xaxis=dict(title="rolls n (log scale)", type="log"),
                  yaxis=dict(title="p-value", range=[-0.02, 1.02]),
                  legend=dict(orientation="h", y=-0.25),
                  shapes=[hline(0.05, "rejected", dash="dot")],
                  annotations=[label(np.log10(n[-1]), 0.05, "0.05", xanchor="right",
                                     yanchor="bottom")])
    return go.Figure(data=data, layout=layout)


def sliding_bumps(support: np.ndarray, p: np.ndarray, q: np.ndarray):
    """P fixed, Q slid along the axis."""
    fig = new_figure("P stays, Q slides to the right", "position", "probability")
    fig.add_bar(x=support, y=p, name="P", marker_color=theme.COLORS["P"], opacity=0.85)
    fig.add_bar(x=support, y=q, name="Q", marker_color=theme.COLORS["Q"], opacity=0.85)
    fig.update_layout(barmode="overlay", legend=dict(orientation="h", y=1.12, x=0))
    return fig


def divergences_vs_shift(curves: dict, unit: str) -> go.Figure:
    """Four panels: each measure against the shift; KL's infinite stretch is shaded."""
    labels = {"kl_pq": f"KL(P‖Q) ({unit})", "js": f"Jensen–Shannon ({unit})",
              "tv": "total variation", "wasserstein": "Wasserstein (positions)"}
    layout = panels(tuple(labels.values()), "shift of Q", gap=0.06)
    shift = curves["shift"]
    data = []
    for panel, key in enumerate(labels):
        values = curves[key]
        x, y = axis_refs(panel)
        data.append(dict(type="scatter", x=shift, y=np.where(np.isfinite(values), values, None),
                         mode="lines", line=dict(color=theme.COLORS["exact"], width=3),
                         showlegend=False, xaxis=x, yaxis=y))
        infinite = ~np.isfinite(values)
        if infinite.any():
            layout["shapes"].append(dict(
                type="rect", xref=x, yref=f"{y} domain", x0=shift[infinite].min(),
                x1=shift.max(), y0=0, y1=1, fillcolor=theme.COLORS["rejected"], opacity=0.12,
                line_width=0))
            layout["annotations"].append(dict(
                text="∞", xref=x, yref=f"{y} domain", x=shift[infinite].min(), y=0.95,
                xanchor="left", showarrow=False, font=dict(size=18,
                                                           color=theme.COLORS["rejected"])))
    layout.update(title="Four ways to measure the gap, as Q slides away", height=340)
    return go.Figure(data=data, layout=layout)
