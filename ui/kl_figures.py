"""Figures and formula text for the KL-divergence lesson (the dice game)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import plotly.graph_objects as go

from ui import explorable, theme
from ui.explorable import compact
from ui.figures import fmt, label, new_figure, thin

DIE_COLORS = {"Die 1": theme.OKABE_ITO["blue"], "Die 2": theme.OKABE_ITO["orange"],
              "Die 3": theme.OKABE_ITO["green"], "Fair die": theme.COLORS["reference"]}
EXACT_DIGITS = 6  # a product with at most this many significant digits is written out in full
ROUNDED_DIGITS = 4  # a longer one is rounded to this many, with ≈
BAR_WIDTH = 0.4  # two bars side by side per outcome: P's (or KL(P‖Q)'s) left, Q's right
# An explorable's line of numbers sits between its title and the plot: the title stays at the top.
TOP_TITLE = dict(y=0.99, yanchor="top", yref="container")
# The legend between the title (pinned to the top) and the plot, where it never covers data
# or an axis title; two rows of it fit on a phone.
LEGEND_ON_TOP = dict(legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"),
                     margin=dict(t=100), title_y=0.99, title_yanchor="top",
                     title_yref="container")


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


def _scientific(mantissa: str, exponent: int) -> str:
    return mantissa if exponent == 0 else rf"{mantissa}\times 10^{{{exponent}}}"


def decimal_latex(value: Decimal | None, log10_value: float) -> str:
    """The value after "=" with every digit it has (4.096·10⁻⁷, 3.2·10⁻⁹, 0.0256), or after "≈"
    rounded to four digits when it has more than six; from log10_value when value is None (too
    long to write out).

    Example: decimal_latex(Decimal("4.096E-7"), -6.39) -> "= 4.096\\times 10^{-7}"
    """
    if value is None:
        if not np.isfinite(log10_value):
            return "= 0"
        exponent = int(np.floor(log10_value))
        mantissa = f"{10 ** (log10_value - exponent):.{ROUNDED_DIGITS - 1}f}"
        if mantissa.startswith("10"):  # 9.9996 rounds up to the next power of ten
            mantissa, exponent = f"{1:.{ROUNDED_DIGITS - 1}f}", exponent + 1
        return r"\approx " + _scientific(mantissa, exponent)
    if value == 0:
        return "= 0"
    digits = len(value.normalize().as_tuple().digits)
    exact = digits <= EXACT_DIGITS
    relation = "= " if exact else r"\approx "
    if exact and -4 < value.adjusted() <= 0:
        return relation + f"{value.normalize():f}"
    shown = f"{value:E}" if exact else f"{value:.{ROUNDED_DIGITS - 1}E}"
    mantissa, exponent = shown.split("E")
    return relation + _scientific(mantissa, int(exponent))


def likelihood_latex(counts: Sequence[int], probs: Sequence[float], value: Decimal | None,
                     log10_value: float) -> str:
    """The product written out face by face, then its value on the next line."""
    return product_latex(counts, probs) + r"\\ " + decimal_latex(value, log10_value)


def average_loglik_bars(names: Sequence[str], values: Sequence[float], unit: str, best: str):
    """One bar per die: the average log-likelihood per roll; the most likely die stands out."""
    fig = new_figure("Log-likelihood per roll: higher wins", "die",
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


WHY_PANELS = ("1. The product of the probabilities", "2. Its log: falls without end",
              "3. Its log ÷ n: settles")


def why_divide_by_n(curve: dict, unit: str, model: str) -> go.Figure:
    """Three panels over n, one under the other (they stay readable on a phone): the
    probability (vanishes), its log (falls), its log ÷ n (settles at −CE)."""
    n = curve["n"]
    early, idx = n <= 40, thin(n.size)
    line = dict(color=theme.COLORS["Q"], width=3)
    y_titles = ("probability", f"log ({unit})", f"log ÷ n<br>({unit} per roll)")
    layout: dict = dict(title=f"Ever longer sequences, scored by {model}", showlegend=False,
                        height=720, annotations=[], shapes=[])
    # room between panels for one panel's axis title and the next one's heading
    gap = 0.16
    height = (1 - 2 * gap) / 3
    for i, (heading, y_title) in enumerate(zip(WHY_PANELS, y_titles, strict=True)):
        suffix = "" if i == 0 else str(i + 1)
        top = 1 - i * (height + gap)
        layout[f"xaxis{suffix}"] = dict(anchor=f"y{suffix}", title=dict(text="rolls n"),
                                        domain=[0, 1])
        layout[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}",
                                        domain=[max(0.0, top - height), min(1.0, top)],
                                        title=dict(text=y_title))
        layout["annotations"].append(dict(
            text=heading, xref=f"x{suffix} domain", yref=f"y{suffix} domain", x=0, y=1,
            xanchor="left", yanchor="bottom", showarrow=False))
    data = [
        dict(type="scatter", x=n[early], y=curve["likelihood"][early], mode="lines+markers",
             line=line, marker=dict(size=5), name="product of probabilities"),
        dict(type="scatter", x=n[idx], y=curve["log_likelihood"][idx], mode="lines",
             line=line, name="log of the product", xaxis="x2", yaxis="y2"),
        dict(type="scatter", x=n[idx], y=curve["average_log_likelihood"][idx], mode="lines",
             line=dict(color=theme.COLORS["estimate"], width=3), name="average per roll",
             xaxis="x3", yaxis="y3"),
    ]
    limit = curve["limit"]
    layout["shapes"].append(dict(type="line", xref="x3 domain", x0=0, x1=1, yref="y3", y0=limit,
                                 y1=limit, line=dict(color=theme.COLORS["exact"], dash="dash",
                                                     width=2)))
    # Above the dashed line, on a white ground: the curve has settled on it by then
    layout["annotations"].append(label(n[-1], limit, f"−CE = {fmt(limit).replace('-', '−')}",
                                       panel=2,
                                       xanchor="right", yanchor="bottom", yshift=4,
                                       bgcolor="rgba(255,255,255,0.85)"))
    return go.Figure(data=data, layout=layout)


def decomposition(rows: Sequence[tuple[str, float, float]], unit: str):
    """Stacked bars: entropy H(P) plus KL(P‖Q) makes the cross-entropy CE(P, Q)."""
    fig = new_figure("Cross-entropy = entropy + KL", f"{unit} per roll", "the model Q")
    labels = [r[0] for r in rows]
    fig.add_bar(y=labels, x=[r[1] for r in rows], orientation="h", name="entropy H(P)",
                marker_color=theme.COLORS["P"], texttemplate="H = %{x:.3f}",
                textposition="inside")
    fig.add_bar(y=labels, x=[r[2] for r in rows], orientation="h", name="KL(P‖Q): the extra",
                marker_color=theme.COLORS["Q"], texttemplate="+%{x:.3f}",
                textposition="outside", cliponaxis=False)
    widest = max(r[1] + r[2] for r in rows)
    fig.update_layout(barmode="stack", height=340, **LEGEND_ON_TOP)
    fig.update_layout(legend_traceorder="normal")
    fig.update_xaxes(range=[0, widest * 1.3])  # room for the KL's number beside its bar
    fig.update_yaxes(autorange="reversed")
    return fig


def pair_bars(p: np.ndarray, q: np.ndarray):
    """P and Q side by side, outcome by outcome (outcomes 1..k on a numeric axis)."""
    outcomes = np.arange(1, p.size + 1)
    fig = new_figure("The two distributions", "outcome", "probability")
    for name, values, offset in (("P", p, -BAR_WIDTH), ("Q", q, 0.0)):
        fig.add_bar(x=outcomes, y=values, name=name, marker_color=theme.COLORS[name],
                    width=BAR_WIDTH, offset=offset,
                    hovertemplate=f"{name}(%{{x}}) = %{{y:.3g}}<extra></extra>")
    fig.update_layout(**LEGEND_ON_TOP)
    fig.update_xaxes(tickmode="array", tickvals=outcomes, range=[0.4, p.size + 0.6])
    return fig


def contributions(terms_pq: np.ndarray, terms_qp: np.ndarray, unit: str):
    """Each outcome's share of KL(P‖Q) (left bar) and of KL(Q‖P) (right bar). An infinite share
    has no bar: an ∞ stands at its place, over its outcome."""
    outcomes = np.arange(1, terms_pq.size + 1)
    fig = new_figure("Where each direction's KL comes from", "outcome", f"contribution ({unit})")
    for name, terms, role, offset in (("p·log(p/q): KL(P‖Q)", terms_pq, "P", -BAR_WIDTH),
                                      ("q·log(q/p): KL(Q‖P)", terms_qp, "Q", 0.0)):
        shown = [fmt(t) for t in terms]
        fig.add_bar(x=outcomes, y=[float(t) if np.isfinite(t) else None for t in terms],
                    name=name, marker_color=theme.COLORS[role], width=BAR_WIDTH, offset=offset,
                    customdata=shown, hovertemplate=f"outcome %{{x}}: %{{customdata}} {unit}"
                    "<extra></extra>")
        for outcome, term in zip(outcomes, terms, strict=True):
            if not np.isfinite(term):
                fig.add_annotation(x=outcome + offset + BAR_WIDTH / 2, y=0, text="∞",
                                   showarrow=False, yanchor="bottom", name="infinite term",
                                   font=dict(size=26, color=theme.COLORS[role]))
    fig.update_layout(**LEGEND_ON_TOP)
    fig.update_xaxes(tickmode="array", tickvals=outcomes, range=[0.4, terms_pq.size + 0.6])
    return fig


def empirical_vs_model(empirical: np.ndarray, model: np.ndarray, expected: np.ndarray):
    """Observed face frequencies against the model's probabilities."""
    faces = np.arange(1, model.size + 1)
    fig = new_figure("What was rolled, and the model", "face", "probability")
    fig.add_bar(x=faces, y=empirical, name="observed frequency", marker_color=theme.COLORS["P"],
                width=BAR_WIDTH, offset=-BAR_WIDTH)
    fig.add_bar(x=faces, y=model, name="model probability", marker_color=theme.COLORS["Q"],
                width=BAR_WIDTH, offset=0.0, customdata=expected,
                hovertemplate="model %{y:.3f}<br>expected count %{customdata:.1f}<extra></extra>")
    fig.update_layout(**LEGEND_ON_TOP)
    fig.update_xaxes(tickmode="array", tickvals=faces, range=[0.4, model.size + 0.6])
    return fig


def p_value_text(p: float, alpha: float = 0.05) -> str:
    """A p-value with three significant digits, and more if rounding would put it on the other
    side of alpha. Example: p_value_text(0.0584) -> "0.0584"; p_value_text(0.049996) -> "0.049996"
    """
    for digits in range(3, 12):
        text = f"{p:.{digits}g}"
        if (float(text) < alpha) == (p < alpha):
            break
    return text.replace("e-0", "e-")


def p_value_vs_n(n: np.ndarray, p_values: np.ndarray, n_now: int, p_now: float,
                 exact: tuple[float, str] | None = None) -> go.Figure:
    """How the G-test's p-value for one fixed KL falls as the sample grows; the rolls' own
    χ² p-value on the curve, and, when the approximation is poor, the exact one above it."""
    data = [
        dict(type="scatter", x=n, y=p_values, mode="lines", name="p-value (χ²)",
             line=dict(color=theme.COLORS["estimate"], width=3)),
        dict(type="scatter", x=[n_now], y=[p_now], mode="markers", name="your rolls (χ²)",
             marker=dict(size=14, color=theme.COLORS["highlight"],
                         line=dict(color=theme.COLORS["exact"], width=2))),
    ]
    if exact is not None:
        value, method = exact
        data.append(dict(type="scatter", x=[n_now], y=[value], mode="markers",
                         name=f"your rolls ({method})",
                         marker=dict(size=12, symbol="diamond", color=theme.COLORS["exact"])))
    layout = dict(title=dict(text="The same KL, more and more rolls", y=0.99, yanchor="top",
                             yref="container"),
                  xaxis=dict(title="rolls n (log scale)", type="log"),
                  yaxis=dict(title="p-value", range=[-0.02, 1.02]),
                  legend=LEGEND_ON_TOP["legend"], margin=LEGEND_ON_TOP["margin"],
                  shapes=[dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=0.05,
                               y1=0.05, line=dict(color=theme.COLORS["rejected"], dash="dot",
                                                  width=2))],
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
        # the thinned points so far, and the roll at the slider, where the dots sit
        keep = np.union1d(idx[n[idx] <= upto], [upto - 1])
        xs, ys = [], []
        for run in range(runs):
            xs += n[keep].tolist() + [None]
            ys += compact(estimates[run, keep]) + [None]
        return xs, ys

    full_x, full_y = lines(n[-1])
    data = [
        dict(type="scatter", x=full_x, y=full_y, mode="lines", name="the whole run",
             showlegend=False, line=dict(color=theme.COLORS["muted"], width=1),
             hoverinfo="skip"),
        dict(type="scatter", x=full_x, y=full_y, mode="lines",
             name="running average (one line per seed)",
             line=dict(color=theme.COLORS["estimate"], width=2)),
        dict(type="scatter", x=[int(n[-1])] * runs, y=compact(estimates[:, -1]),
             mode="markers", name="after n rolls",
             marker=dict(size=9, color=theme.COLORS["estimate"],
                         line=dict(color=theme.COLORS["exact"], width=1))),
    ]
    if np.isfinite(kl):
        # The exact value as a legend entry, not a label on the line the runs close in on
        data.append(dict(type="scatter", x=[1, int(n[-1])], y=[kl, kl], mode="lines",
                         name=f"KL(P‖Q) = {fmt(kl)} {unit}", hoverinfo="skip",
                         line=dict(color=theme.COLORS["exact"], dash="dash", width=3)))
    finite = estimates[np.isfinite(estimates)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    span = max(high - low, 0.5)
    layout = dict(title=TOP_TITLE | dict(text="The game's average settles on KL(P‖Q)"),
                  xaxis=dict(title="rolls n (log scale)", type="log"),
                  # an empty band under the runs holds the legend
                  yaxis=dict(title=f"average log(p/q) ({unit} per roll)",
                             range=[low - 0.5 * span, high + 0.05 * span]),
                  legend=dict(x=1, xanchor="right", y=0, yanchor="bottom"),
                  shapes=[], annotations=[], height=400)
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
# Short names: the legend shares a phone's width with the curves.
MEASURES = {"kl_pq": ("KL(P‖Q)", theme.OKABE_ITO["black"], "solid"),
            "js": ("JS", theme.OKABE_ITO["green"], "dash"),
            "tv": ("TV", theme.OKABE_ITO["purple"], "dot"),
            "wasserstein": ("Wasserstein", theme.OKABE_ITO["sky"], "dashdot")}
SHARE_TOP = 1.65  # the bottom panel's headroom above 1 holds its legend and the ∞ label


def _bump_label(text: str, x: float, y: float, role: str, side: str) -> dict:
    """P's or Q's name over the top of its bump: P's to the left, Q's to the right."""
    return dict(text=f"<b>{text}</b>", x=x, y=y, xref="x", yref="y", showarrow=False,
                xanchor="right" if side == "left" else "left", yanchor="bottom",
                xshift=-3 if side == "left" else 3, font=dict(color=theme.COLORS[role], size=16),
                name=f"{text} at its peak")


def sliding_divergences(support: np.ndarray, p: np.ndarray, qs: Sequence[np.ndarray],
                        curves: dict, unit: str) -> dict:
    """Q slides away from P (top) while four measures of the gap follow it (bottom): KL grows
    ever faster or jumps to ∞, JS and TV flatten, Wasserstein grows in step with the shift.

    The measures have different units, so the bottom panel draws each as a share of its
    largest finite value over the range (the shape is what differs); the line of numbers
    above the chart gives all five values, in their units, at the slider's shift; a dot on
    each curve and a dotted line mark the slider's shift. An explorable over the shift."""
    shift = curves["shift"]
    peak = max(float(np.max(p)), max(float(np.max(q)) for q in qs))
    layout: dict = dict(
        title=TOP_TITLE | dict(text="Q slides away: four measures of the gap"),
        xaxis=dict(domain=[0, 1], anchor="y", title=dict(text="position")),
        yaxis=dict(domain=[0.6, 1], anchor="x", title=dict(text="probability"),
                   range=[0, peak * 1.3]),
        xaxis2=dict(domain=[0, 1], anchor="y2", title=dict(text="shift of Q (positions)")),
        yaxis2=dict(domain=[0, 0.42], anchor="x2", range=[-0.04, SHARE_TOP],
                    tickvals=[0, 0.5, 1], title=dict(text="share of its<br>largest value")),
        legend=dict(orientation="h", x=0, xanchor="left", y=0.42, yanchor="top",
                    bgcolor="rgba(255,255,255,0)"),
        shapes=[], annotations=[_bump_label("P", float(support[np.argmax(p)]),
                                            float(np.max(p)), "P", "left")],
        height=520)
    # Areas, not bars: one path per distribution keeps each frame's redraw quick.
    data = [dict(type="scatter", x=support, y=compact(p), name="P", mode="lines",
                 showlegend=False, line=dict(color=theme.COLORS["P"], width=2, shape="hvh"),
                 fill="tozeroy", fillcolor="rgba(0, 114, 178, 0.35)"),
            dict(type="scatter", x=support, y=compact(qs[0]), name="Q", mode="lines",
                 showlegend=False, line=dict(color=theme.COLORS["Q"], width=2, shape="hvh"),
                 fill="tozeroy", fillcolor="rgba(230, 159, 0, 0.35)")]
    shares = {}
    for key, (name, color, dash) in MEASURES.items():
        values = curves[key]
        finite = values[np.isfinite(values)]
        top = finite.max() if finite.size and finite.max() > 0 else 1.0
        shares[key] = values / top
        data.append(dict(type="scatter", x=shift, y=compact(shares[key]), mode="lines",
                         name=name, line=dict(color=color, dash=dash, width=3),
                         xaxis="x2", yaxis="y2",
                         customdata=compact(values), hovertemplate=f"{name} %{{customdata:.3g}}"
                         "<extra></extra>"))
        infinite = ~np.isfinite(values)
        if infinite.any():
            layout["shapes"].append(dict(
                type="rect", xref="x2", yref="y2", x0=shift[infinite].min(),
                x1=shift.max(), y0=-0.04, y1=1.04, fillcolor=theme.COLORS["rejected"],
                opacity=0.12, line=dict(width=0)))
            # On the shading's top left corner: above every curve (shares are at most 1),
            # under the legend
            layout["annotations"].append(dict(
                text=f"{name} = ∞ from here", xref="x2", yref="y2", x=shift[infinite].min(),
                y=1.04, xanchor="left", yanchor="bottom", showarrow=False,
                name="infinite from", font=dict(color=theme.OKABE_ITO["vermillion"])))
    colors = [color for _, color, _ in MEASURES.values()]
    data.append(dict(type="scatter", x=[shift[0]] * 2, y=[-0.04, 1.04], mode="lines",
                     xaxis="x2", yaxis="y2", name="Q's shift now", showlegend=False,
                     hoverinfo="skip", line=dict(color=theme.COLORS["exact"], dash="dot",
                                                 width=1.5)))
    data.append(dict(type="scatter", x=[shift[0]] * len(MEASURES), y=[None] * len(MEASURES),
                     mode="markers", xaxis="x2", yaxis="y2", showlegend=False,
                     name="each measure at Q's shift", hoverinfo="skip",
                     marker=dict(size=12, color=colors, line=dict(color="white", width=2))))
    frames, notes, labels = [], [], []
    for k, s in enumerate(shift):
        row = {key: float(curves[key][k]) for key in DIVERGENCES}
        frames.append([dict(y=compact(qs[k])), dict(x=[float(s)] * 2),
                       dict(x=[float(s)] * len(MEASURES),
                            y=compact([shares[key][k] for key in MEASURES]))])
        labels.append([_bump_label("Q", float(support[np.argmax(qs[k])]), float(np.max(qs[k])),
                                   "Q", "right")])
        # short lines, so that a phone shows them whole
        notes.append(f"Shift {s:g}: KL(P‖Q) {fmt(row['kl_pq'])} {unit}<br>"
                     f"KL(Q‖P) {fmt(row['kl_qp'])} · JS {fmt(row['js'])} {unit}<br>"
                     f"total variation {fmt(row['tv'])}<br>"
                     f"Wasserstein {fmt(row['wasserstein'])} positions")
    return explorable.build(dict(data=data, layout=layout), values=[float(s) for s in shift],
                            label="shift of Q", frames=frames,
                            changing=[1, len(data) - 2, len(data) - 1], notes=notes,
                            annotations=labels)
