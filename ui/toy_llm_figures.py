"""Figures for the lesson "An LLM is a policy": the prefix tree, next-token bars, tempered
sampling, the hidden reward's spread, the annotator's accuracy and the optimum as a preview.

Hot figures (those a control redraws) are built from plain dicts with few traces; the sunburst
of the prefix tree is drawn only when the prompt changes. Sampling at a temperature T and the
optimum at a KL weight β are explorables: a slider under the chart moves T or β in the browser.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import explorable, theme
from ui.explorable import compact
from ui.figures import fmt, hline, label, vline

# The colour of a token in the tree: the sentiment of the word (green = positive, red-orange =
# negative, as chosen/rejected elsewhere), grey for the neutral word, sky for modifiers.
POSITIVE, NEGATIVE = ("great", "good"), ("bad", "awful")
MODIFIER_WORDS = ("really", "not")
END_TOKEN = "."
KL_COLOR = theme.OKABE_ITO["sky"]  # the KL curve beside the reward's (black) in one panel


def points(value: float) -> str:
    """+2, −1.5, 0: reward points with a real minus sign."""
    return "0" if value == 0 else f"{value:+g}".replace("-", "−")


def token_label(token: str) -> str:
    """How a token is written on buttons and axes: the end token gets a name."""
    return "end (.)" if token == END_TOKEN else token


def token_color(token: str) -> str:
    if token in POSITIVE:
        return theme.COLORS["chosen"]
    if token in NEGATIVE:
        return theme.COLORS["rejected"]
    if token in MODIFIER_WORDS:
        return theme.COLORS["estimate"]
    if token == END_TOKEN:
        return theme.COLORS["exact"]
    return theme.COLORS["reference"]


def _bar_layout(title: str, x_title: str, y_title: str, **extra) -> dict:
    layout = dict(title=dict(text=title), xaxis=dict(title=dict(text=x_title)),
                  yaxis=dict(title=dict(text=y_title)), showlegend=False)
    layout.update(extra)
    return layout


def prefix_tree(tree: dict, prompt: str, max_words: int) -> go.Figure:
    """The reference's prefix tree as a sunburst: a ring per position, each sector the
    probability of reaching that prefix; click a sector to zoom into its subtree."""
    leaf = [label == END_TOKEN or depth == max_words
            for label, depth in zip(tree["labels"], tree["depth"], strict=True)]
    values = [p if is_leaf else 0.0 for p, is_leaf in zip(tree["path_prob"], leaf, strict=True)]
    ids = ["root", *tree["ids"]]
    parents = ["", *[parent or "root" for parent in tree["parents"]]]
    colors = [theme.COLORS["muted"], *[token_color(t) for t in tree["labels"]]]
    labels = [prompt + " …", *["end" if t == END_TOKEN else t for t in tree["labels"]]]
    custom = [[1.0, 1.0, prompt], *[[p, q, i.replace("/", " ")] for p, q, i in zip(
        tree["path_prob"], tree["next_prob"], tree["ids"], strict=True)]]
    fig = go.Figure(go.Sunburst(
        ids=ids, parents=parents, labels=labels, values=[0.0, *values],
        branchvalues="remainder", textinfo="label", maxdepth=3,
        marker=dict(colors=colors, line=dict(color="white", width=1)),
        insidetextorientation="horizontal", sort=False,
        leaf=dict(opacity=1),  # plotly fades leaves by default: the end token stays black
        customdata=custom,
        hovertemplate="<b>%{customdata[2]}</b><br>P(this prefix) = %{customdata[0]:.4f}<br>"
        "P(last token | what came before) = %{customdata[1]:.3f}<extra></extra>",
    ))
    # Two short lines, so the title fits a phone's width
    fig.update_layout(title=f"Every reply after “{prompt}”,<br>a tree of next-token choices",
                      margin=dict(l=10, r=10, t=84, b=10), height=560)
    return fig


def next_token_bars(tokens: Sequence[str], probs: np.ndarray, context: str) -> go.Figure:
    """π(token | context) for every token of the vocabulary: one bar each."""
    data = [dict(type="bar", x=[token_label(t) for t in tokens], y=list(probs),
                 marker=dict(color=[token_color(t) for t in tokens]),
                 text=[f"{p:.2f}" for p in probs], textposition="outside", cliponaxis=False,
                 hovertemplate="%{x}: %{y:.3f}<extra></extra>")]
    layout = _bar_layout(f"What comes after<br>“{context}”?", "next token",
                         "probability π(token | text so far)", yaxis=dict(
                             title=dict(text="probability π(token | text so far)"),
                             range=[0, 1.08]), margin=dict(l=10, r=10, t=84, b=10))
    return go.Figure(data=data, layout=layout)


def reply_token_bars(tokens: Sequence[str], probs: Sequence[float]) -> go.Figure:
    """The probability of each token of a finished reply, in order: their product is π(y|x)."""
    labels = [f"{i + 1}. {token_label(t)}" for i, t in enumerate(tokens)]
    data = [dict(type="bar", x=labels, y=list(probs),
                 marker=dict(color=[token_color(t) for t in tokens]),
                 text=[f"{p:.3f}" for p in probs], textposition="outside", cliponaxis=False,
                 hovertemplate="%{x}: %{y:.3f}<extra></extra>")]
    layout = _bar_layout("The reply, one factor per token", "token of the reply (in order)",
                         "probability π(token | text so far)",
                         yaxis=dict(title=dict(text="probability π(token | text so far)"),
                                    range=[0, 1.08]))
    return go.Figure(data=data, layout=layout)


def reward_distribution(values: np.ndarray, probs: np.ndarray, mean: float,
                        prompt: str) -> go.Figure:
    """P(r = v) when the reference writes a reply: bars per reward value, the mean marked."""
    colors = [theme.COLORS["chosen"] if v > 0 else theme.COLORS["rejected"] if v < 0
              else theme.COLORS["reference"] for v in values]
    data = [dict(type="bar", x=list(values), y=list(probs), marker=dict(color=colors),
                 width=0.2, hovertemplate="reward %{x:g}: probability %{y:.3f}<extra></extra>")]
    top = float(np.max(probs))
    layout = _bar_layout(f"How the reader scores the reference's<br>replies to “{prompt}”",
                         "true reward r(x, y) (points)", "probability under π_ref",
                         yaxis=dict(title=dict(text="probability under π_ref"),
                                    range=[0, 1.18 * top]), margin=dict(l=10, r=10, t=100, b=10))
    # The title at the top edge, the mean's label under it, above the plot
    layout["title"].update(y=1, yref="container", yanchor="top", pad=dict(t=12))
    layout["shapes"] = [dict(type="line", xref="x", x0=mean, x1=mean, yref="y domain", y0=0,
                             y1=1, line=dict(color=theme.COLORS["exact"], dash="dash", width=2))]
    layout["annotations"] = [dict(x=mean, y=1, xref="x", yref="y domain", yanchor="bottom",
                                  text=f"mean {fmt(mean, 2)}", showarrow=False)]
    return go.Figure(data=data, layout=layout)


def label_accuracy_curve(noises: np.ndarray, accuracy: np.ndarray, noise: float,
                         accuracy_now: float) -> go.Figure:
    """The expected share of labels that agree with the true reward, against the annotator's
    noise, with a dot at the chosen noise (its label turns left near the right edge)."""
    data = [
        dict(type="scatter", x=list(noises), y=list(100 * accuracy), mode="lines",
             line=dict(color=theme.COLORS["exact"], width=3),
             hovertemplate="noise %{x:.1f}: %{y:.1f} % agree<extra></extra>"),
        dict(type="scatter", x=[noise], y=[100 * accuracy_now], mode="markers+text",
             text=[f"{100 * accuracy_now:.1f} % expected"],
             textposition="top left" if noise > 0.6 * float(noises[-1]) else "top right",
             marker=dict(size=15, color=theme.COLORS["highlight"],
                         line=dict(color=theme.COLORS["exact"], width=2)),
             hoverinfo="skip"),
    ]
    layout = _bar_layout("How often a label agrees with<br>the hidden reward, on average",
                         "annotator noise τ (reward points)",
                         "labels that agree (%)", margin=dict(l=10, r=10, t=84, b=10),
                         yaxis=dict(title=dict(text="labels that agree (%)"), range=[45, 103],
                                    ticksuffix=" %"))
    layout["shapes"] = [dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=50, y1=50,
                             line=dict(color=theme.COLORS["muted"], dash="dash", width=2))]
    return go.Figure(data=data, layout=layout)


# The two explorables: the replies' distribution as bars on top (the note sits above them), a
# curve over the explored value below with a dot at the slider's value.


def _two_panels(title: str, reply_title: str, probability_range: list, grid: Sequence[float],
                ticks: Sequence[float], grid_title: str, curve_title: str, curve_range: list,
                **extra) -> dict:
    """The replies (axes x, y) above a curve over a log-scaled grid (axes x2, y2). Fixed margins
    and label angles: measuring labels to fit them costs a layout pass on every redraw."""
    lo, hi = float(np.log10(grid[0])), float(np.log10(grid[-1]))
    layout = dict(
        # At the top edge, so presenter mode's larger note cannot run into it.
        title=dict(text=title, y=1, yref="container", yanchor="top", pad=dict(t=12)),
        xaxis=dict(domain=[0, 1], anchor="y", type="category", tickangle=-90,
                   automargin=False, title=dict(text=reply_title)),
        yaxis=dict(domain=[0.47, 1], anchor="x", range=probability_range, automargin=False,
                   title=dict(text="probability")),
        xaxis2=dict(domain=[0, 1], anchor="y2", type="log", range=[lo - 0.02, hi + 0.02],
                    tickmode="array", tickvals=list(ticks), tickangle=0,
                    ticktext=[f"{v:g}" for v in ticks], automargin=False,
                    title=dict(text=grid_title)),
        yaxis2=dict(domain=[0, 0.22], anchor="x2", range=curve_range, automargin=False,
                    title=dict(text=curve_title)),
        bargap=0.2, margin=dict(l=64, r=12, t=64, b=60))
    layout.update(extra)
    return layout


def _reply_columns(columns: Sequence[str], shown: np.ndarray, ref: np.ndarray,
                   names: tuple[str, str]) -> list[dict]:
    """Bars of one distribution over the replies in ``columns`` (the last one striped: all the
    other replies together) and grey ticks of the reference on them. Frames must carry the
    ticks too (as ``{}``, unchanged): plotly drops a subplot's scatter traces that a frame
    leaves out when it moves only that subplot's bars."""
    return [
        dict(type="bar", x=list(columns), y=compact(shown), name=names[0],
             marker=dict(color=theme.COLORS["policy"],
                         pattern=dict(shape=[""] * (len(columns) - 1) + ["/"])),
             hovertemplate="%{x}: %{y:.3f}<extra>" + names[0] + "</extra>"),
        dict(type="scatter", mode="markers", x=list(columns), y=compact(ref), name=names[1],
             marker=dict(symbol="line-ew", size=12, color=theme.COLORS["reference"],
                         line=dict(width=3, color=theme.COLORS["reference"])),
             hovertemplate="%{x}: %{y:.3f}<extra>" + names[1] + "</extra>"),
    ]


def _with_rest(probs: np.ndarray, shown: Sequence[int]) -> np.ndarray:
    """The probabilities of the replies ``shown``, then of all the others together."""
    top = probs[..., list(shown)]
    return np.concatenate([top, np.clip(1.0 - top.sum(-1, keepdims=True), 0.0, None)], -1)


def _dot(x: float, y: float, yaxis: str) -> dict:
    """The yellow dot that marks the slider's value on a curve of the lower panel."""
    return dict(type="scatter", mode="markers", x=[float(x)], y=compact(y), xaxis="x2",
                yaxis=yaxis, showlegend=False, hoverinfo="skip",
                marker=dict(size=13, color=theme.COLORS["highlight"],
                            line=dict(color=theme.COLORS["exact"], width=2)))


def tempering(temperatures: Sequence[float], texts: Sequence[str], ranked: Sequence[int],
              ref: np.ndarray, tempered: np.ndarray, best: Sequence[int],
              entropy: np.ndarray, prompt: str) -> dict:
    """The replies to one prompt sampled at temperature T: the most likely ones at T = 1 as bars
    (the last bar adds up all the others) with T = 1 marked on each, and the entropy over T
    below with a dot at the slider's T. An explorable over T.

    temperatures (G,); texts (S,) every reply; ranked (K,) the replies drawn, best first at
    T = 1; ref (S,) π(y|x) at T = 1; tempered (G, S) π_T(y|x) at each T; best (G,) the most
    likely reply at each T; entropy (G,) of π_T in nats.
    """
    n_replies, n_rest = len(texts), len(texts) - len(ranked)
    columns = [texts[s] for s in ranked] + [f"the other {n_rest}"]
    bars = _with_rest(tempered, ranked)
    max_entropy = float(np.log(n_replies))  # every reply equally likely
    lo = float(np.log10(temperatures[0]))
    layout = _two_panels(
        f"“{prompt} …” sampled at temperature T", "reply (ranked by probability at T = 1)",
        [0, 1.0], temperatures, (0.1, 0.2, 0.3, 0.5, 1, 2, 3), "temperature T (log scale)",
        "entropy (nats)",
        [0, 1.15 * max_entropy], legend=dict(orientation="h", x=0.5, xanchor="center", y=1,
                                             yanchor="top"), height=700)
    layout["shapes"] = [hline(max_entropy, "muted", panel=1), vline(1.0, "reference", panel=1)]
    # Short, and on white: on a phone it must end before the dotted line at T = 1
    layout["annotations"] = [label(lo, max_entropy, f"max: ln {n_replies} = {max_entropy:.2f}",
                                   panel=1, xanchor="left", yanchor="bottom",
                                   bgcolor="rgba(255,255,255,0.85)")]
    data = [
        *_reply_columns(columns, bars[0], _with_rest(ref, ranked),
                        ("at the slider's T", "T = 1, as trained")),
        dict(type="scatter", mode="lines", x=list(temperatures), y=compact(entropy),
             name="entropy H(π_T)", xaxis="x2", yaxis="y2", showlegend=False,
             line=dict(color=theme.COLORS["exact"], width=3),
             hovertemplate="T = %{x:g}: %{y:.2f} nats<extra></extra>"),
        _dot(temperatures[0], entropy[0], "y2"),
    ]
    frames, notes = [], []
    for k, t in enumerate(temperatures):
        frames.append([dict(y=compact(bars[k])), {}, dict(x=[float(t)], y=compact(entropy[k]))])
        notes.append(f"T = {t:g}: entropy {entropy[k]:.2f} nats<br>most likely "
                     f"“{texts[best[k]]}” ({tempered[k, best[k]]:.3f})<br>the other "
                     f"{n_rest} replies together {bars[k, -1]:.3f}")
    return explorable.build(dict(data=data, layout=layout),
                            values=[float(t) for t in temperatures], label="temperature T",
                            frames=frames, changing=[0, 1, 3], notes=notes)


def reweighting(betas: Sequence[float], texts: Sequence[str], shown: Sequence[int],
                rewards: np.ndarray, ref: np.ndarray, stars: np.ndarray, best: Sequence[int],
                expected: np.ndarray, kl: np.ndarray, entropy: np.ndarray,
                ref_expected: float, prompt: str) -> dict:
    """The optimum π* of one prompt as β moves: the replies it favours somewhere on the grid,
    best reward first, as bars beside the reference's ticks (top), and its expected reward and
    its KL from the reference over β, with dots at the slider's β (bottom). An explorable over β.

    betas (G,); texts, rewards, ref (S,): every reply, its reward, π_ref; shown (K,) the replies
    drawn; stars (G, S) π* at each β; best (G,) its most likely reply; expected, kl, entropy
    (G,): E[r] (points), KL(π*‖π_ref) and H(π*) (nats); ref_expected: E[r] under π_ref.
    """
    n_rest = len(texts) - len(shown)
    columns = [f"{points(rewards[s])} · {texts[s]}" for s in shown] + [f"the other {n_rest}"]
    bars = _with_rest(stars, shown)
    reward_range = [min(0.0, float(np.min(expected))) - 0.3, 1.15 * float(np.max(expected))]
    layout = _two_panels(
        f"“{prompt} …”: the optimum π* at β", "reward · reply (best first)",
        [0, 1.12 * float(np.max(bars))], betas, (0.1, 0.3, 1, 3, 10),
        "KL weight β (log scale)", "E[r] under π* (points)", reward_range,
        legend=dict(x=1, xanchor="right", y=1, yanchor="top"), height=740)
    layout["yaxis"]["domain"] = [0.5, 1]  # room for the long labels of the replies
    # The KL on its own scale, on the right of the same panel, in its curve's colour, with its
    # zero level with the reward's.
    below = -reward_range[0] / (reward_range[1] - reward_range[0])
    kl_top = 1.15 * float(np.max(kl))
    layout["yaxis3"] = dict(domain=[0, 0.22], anchor="x2", overlaying="y2", side="right",
                            range=[-below / (1 - below) * kl_top, kl_top], tickmode="auto",
                            automargin=False, showgrid=False, tickfont=dict(color=KL_COLOR),
                            title=dict(text="KL (nats)", font=dict(color=KL_COLOR)))
    layout["margin"]["r"] = 84
    # Dotted: the dashed KL curve runs along this line where β is large
    layout["shapes"] = [hline(ref_expected, "reference", panel=1, dash="dot")]
    data = [
        *_reply_columns(columns, bars[0], _with_rest(ref, shown),
                        ("π* at the slider's β", "π_ref, the reference")),
        dict(type="scatter", mode="lines", x=list(betas), y=compact(expected), xaxis="x2",
             yaxis="y2", name="E[r] under π*", showlegend=False,
             line=dict(color=theme.COLORS["exact"], width=3),
             hovertemplate="β = %{x:g}: E[r] %{y:.3f} points<extra></extra>"),
        dict(type="scatter", mode="lines", x=list(betas), y=compact(kl), xaxis="x2",
             yaxis="y3", name="KL(π* ‖ π_ref)", showlegend=False,
             line=dict(color=KL_COLOR, width=3, dash="dash"),
             hovertemplate="β = %{x:g}: KL %{y:.3f} nats<extra></extra>"),
        _dot(betas[0], expected[0], "y2"),
        _dot(betas[0], kl[0], "y3"),
    ]
    frames, notes = [], []
    for k, beta in enumerate(betas):
        frames.append([dict(y=compact(bars[k])), {},
                       dict(x=[float(beta)], y=compact(expected[k])),
                       dict(x=[float(beta)], y=compact(kl[k]))])
        notes.append(f"β = {beta:g}: E[r] {expected[k]:.3f} points (π_ref: "
                     f"{ref_expected:.3f})<br>KL(π*‖π_ref) {kl[k]:.3f} · entropy "
                     f"{entropy[k]:.2f} (nats)<br>most likely “{texts[best[k]]}” "
                     f"({stars[k, best[k]]:.3f})")
    return explorable.build(dict(data=data, layout=layout), values=[float(b) for b in betas],
                            label="β", frames=frames, changing=[0, 1, 4, 5], notes=notes)
