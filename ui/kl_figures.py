"""Figures and formula text for the KL-divergence lesson (the dice game)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import explorable, theme
from ui.explorable import compact
from ui.figures import fmt, hline, label, new_figure, panels, thin

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


def running_kl_replay(n: np.ndarray, estimates: np.ndarray, kl: float, unit: str) -> dict:
    """The dice game played roll by roll: each seeded run's running average of log(p/q) drawn
    up to the slider's n, settling on KL(P‖Q). An explorable over n (log-spaced) with play."""
    idx = thin(n.size, 80)
    grid = np.unique(np.geomspace(1, n.size, min(30, n.size)).round().astype(int))
    runs = estimates.shape[0]

    def lines(upto: int) -> tuple[list, list]:
        keep = idx[n[idx] <= upto]
        xs, ys = [], []
        for run in range(runs):
            xs += n[keep].tolist() + [None]
            ys += compact(estimates[run, keep]) + [None]
        return xs, ys

    full_x, full_y = lines(n[-1])
    data = [
        dict(type="scatter", x=full_x, y=full_y, mode="lines", name="the whole run",
             line=dict(color=theme.COLORS["muted"], width=1), hoverinfo="skip"),
        dict(type="scatter", x=full_x, y=full_y, mode="lines",
             name="running average, one line per seed",
             line=dict(color=theme.COLORS["estimate"], width=2)),
        dict(type="scatter", x=[int(n[-1])] * runs, y=compact(estimates[:, -1]),
             mode="markers", name="after n rolls",
             marker=dict(size=9, color=theme.COLORS["estimate"],
                         line=dict(color=theme.COLORS["exact"], width=1))),
    ]
    layout = dict(title="The game's average becomes KL(P‖Q) as n grows",
                  xaxis=dict(title="rolls n (log scale)", type="log"),
                  yaxis=dict(title=f"average log(p/q) ({unit} per roll)"),
                  legend=dict(orientation="h", x=1, xanchor="right", y=1, yanchor="top"),
                  shapes=[], annotations=[], height=380)
    if np.isfinite(kl):
        layout["shapes"].append(hline(kl, "exact", width=3))
        layout["annotations"].append(label(np.log10(n[-1]), kl, f"KL(P‖Q) = {fmt(kl)} {unit}",
                                           xanchor="right", yanchor="bottom"))
    frames, notes = [], []
    for upto in grid:
        xs, ys = lines(upto)
        now = estimates[:, upto - 1]
        frames.append([dict(x=xs, y=ys), dict(x=[int(upto)] * runs, y=compact(now))])
        spread = (f"the {runs} runs lie between {fmt(now.min())} and {fmt(now.max())}"
                  if runs > 1 else f"the run is at {fmt(now[0])}")
        notes.append(f"After {upto} rolls {spread} {unit} per roll; KL = {fmt(kl)}")
    return explorable.build(dict(data=data, layout=layout), values=[int(v) for v in grid],
                            label="rolls so far n", frames=frames, changing=[1, 2],
                            notes=notes, play=True, frame_ms=200)


DIVERGENCES = ("kl_pq", "kl_qp", "js", "tv", "wasserstein")
# The four measures drawn against the shift: label, colour and dash, each its own.
MEASURES = {"kl_pq": ("KL(P‖Q)", theme.OKABE_ITO["black"], "solid"),
            "js": ("Jensen–Shannon", theme.OKABE_ITO["green"], "dash"),
            "tv": ("total variation", theme.OKABE_ITO["purple"], "dot"),
            "wasserstein": ("Wasserstein", theme.OKABE_ITO["sky"], "dashdot")}


def sliding_divergences(support: np.ndarray, p: np.ndarray, qs: Sequence[np.ndarray],
                        curves: dict, unit: str) -> dict:
    """Q slides away from P (top) while four measures of the gap follow it (bottom): KL grows
    ever faster or jumps to ∞, JS and TV flatten, Wasserstein grows in step with the shift.

    The measures have different units, so the bottom panel draws each as a share of its
    largest finite value over the range (the shape is what differs); the line of numbers
    above the chart gives all five values, in their units, at the slider's shift. An
    explorable over the shift."""
    shift = curves["shift"]
    layout: dict = dict(
        title="Q slides away from P: four ways to measure the gap",
        xaxis=dict(domain=[0, 1], anchor="y", title=dict(text="position")),
        yaxis=dict(domain=[0.58, 1], anchor="x", title=dict(text="probability")),
        xaxis2=dict(domain=[0, 1], anchor="y2", title=dict(text="shift of Q (positions)")),
        yaxis2=dict(domain=[0, 0.4], anchor="x2", range=[-0.04, 1.08],
                    title=dict(text="share of its largest value")),
        legend=dict(orientation="h", x=1, xanchor="right", y=0.99, yanchor="top"),
        shapes=[], annotations=[], height=600)
    # Areas, not bars: one path per distribution keeps each frame's redraw quick.
    data = [dict(type="scatter", x=support, y=compact(p), name="P", mode="lines",
                 line=dict(color=theme.COLORS["P"], width=2, shape="hvh"), fill="tozeroy",
                 fillcolor="rgba(0, 114, 178, 0.35)"),
            dict(type="scatter", x=support, y=compact(qs[0]), name="Q", mode="lines",
                 line=dict(color=theme.COLORS["Q"], width=2, shape="hvh"), fill="tozeroy",
                 fillcolor="rgba(230, 159, 0, 0.35)")]
    shares = {}
    for key, (name, color, dash) in MEASURES.items():
        values = curves[key]
        finite = values[np.isfinite(values)]
        top = finite.max() if finite.size and finite.max() > 0 else 1.0
        shares[key] = values / top
        data.append(dict(type="scatter", x=shift, y=compact(shares[key]), mode="lines",
                         name=name, line=dict(color=color, dash=dash, width=3),
                         xaxis="x2", yaxis="y2", legendgroup="measures",
                         customdata=compact(values), hovertemplate=f"{name} %{{customdata:.3g}}"
                         "<extra></extra>"))
        infinite = ~np.isfinite(values)
        if infinite.any():
            layout["shapes"].append(dict(
                type="rect", xref="x2", yref="y2 domain", x0=shift[infinite].min(),
                x1=shift.max(), y0=0, y1=1, fillcolor=theme.COLORS["rejected"], opacity=0.12,
                line=dict(width=0)))
            layout["annotations"].append(dict(
                text=f"{name} = ∞", xref="x2", yref="y2 domain", x=shift[infinite].min(),
                y=0.97, xanchor="left", yanchor="top", showarrow=False,
                font=dict(color=theme.OKABE_ITO["vermillion"])))
    colors = [color for _, color, _ in MEASURES.values()]
    data.append(dict(type="scatter", x=[shift[0]] * len(MEASURES), y=[None] * len(MEASURES),
                     mode="markers", xaxis="x2", yaxis="y2", showlegend=False,
                     hoverinfo="skip", marker=dict(size=12, color=colors,
                                                   line=dict(color="white", width=2))))
    frames, notes = [], []
    for k, s in enumerate(shift):
        row = {key: float(curves[key][k]) for key in DIVERGENCES}
        frames.append([dict(y=compact(qs[k])),
                       dict(x=[float(s)] * len(MEASURES),
                            y=compact([shares[key][k] for key in MEASURES]))])
        notes.append(f"Shift {s:g}: KL(P‖Q) {fmt(row['kl_pq'])} · KL(Q‖P) {fmt(row['kl_qp'])} · "
                     f"JS {fmt(row['js'])} {unit} <br>total variation {fmt(row['tv'])} · "
                     f"Wasserstein {fmt(row['wasserstein'])} positions")
    return explorable.build(dict(data=data, layout=layout), values=[float(s) for s in shift],
                            label="shift of Q", frames=frames,
                            changing=[1, len(data) - 1], notes=notes)
