"""Figures for the lesson "An LLM is a policy": the prefix tree, next-token bars, tempered
sampling, the hidden reward's spread, the annotator's accuracy and the optimum as a preview.

Hot figures (those a slider redraws) are built from plain dicts with few traces; the sunburst
of the prefix tree is drawn only when the prompt changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import explorable, theme
from ui.explorable import compact
from ui.figures import fmt, hline, label, vline

# The colour of a token in the tree: the sentiment of the word (green = positive, vermillion =
# negative, as chosen/rejected elsewhere), grey for the neutral word, sky for modifiers.
POSITIVE, NEGATIVE = ("great", "good"), ("bad", "awful")
MODIFIER_WORDS = ("really", "not")
END_TOKEN = "."


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
        customdata=custom,
        hovertemplate="<b>%{customdata[2]}</b><br>P(this prefix) = %{customdata[0]:.4f}<br>"
        "P(last token | what came before) = %{customdata[1]:.3f}<extra></extra>",
    ))
    fig.update_layout(title=f"Every reply after “{prompt}”, as a tree of next-token choices",
                      margin=dict(l=10, r=10, t=56, b=10), height=560)
    return fig


def next_token_bars(tokens: Sequence[str], probs: np.ndarray, context: str) -> go.Figure:
    """π(token | context) for every token of the vocabulary: one bar each."""
    data = [dict(type="bar", x=[token_label(t) for t in tokens], y=list(probs),
                 marker=dict(color=[token_color(t) for t in tokens]),
                 text=[f"{p:.2f}" for p in probs], textposition="outside", cliponaxis=False,
                 hovertemplate="%{x}: %{y:.3f}<extra></extra>")]
    layout = _bar_layout(f"What comes after “{context}”?", "next token",
                         "probability π(token | text so far)", yaxis=dict(
                             title=dict(text="probability π(token | text so far)"),
                             range=[0, 1.08]))
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


def _reply_bars(texts: Sequence[str], first: np.ndarray, second: np.ndarray,
                names: tuple[str, str], title: str) -> go.Figure:
    """Two probabilities per reply as horizontal bars, the first reply on top: grey = the
    reference, purple = the other distribution."""
    labels = list(texts)
    data = [
        dict(type="bar", orientation="h", y=labels, x=list(first), name=names[0],
             marker=dict(color=theme.COLORS["reference"]),
             hovertemplate="%{y}: %{x:.3f}<extra>" + names[0] + "</extra>"),
        dict(type="bar", orientation="h", y=labels, x=list(second), name=names[1],
             marker=dict(color=theme.COLORS["policy"]),
             hovertemplate="%{y}: %{x:.3f}<extra>" + names[1] + "</extra>"),
    ]
    top = max(float(np.max(first)), float(np.max(second)))
    # Fixed margins instead of automargin: a slider redraws this chart, and measuring the
    # labels to fit the margins costs a second layout pass on every redraw.
    layout = _bar_layout(title, "probability of the whole reply", "",
                         barmode="group", showlegend=True, height=440,
                         margin=dict(l=200, r=20, t=70, b=60),
                         legend=dict(orientation="h", y=1.0, x=1, xanchor="right",
                                     yanchor="bottom"),
                         xaxis=dict(title=dict(text="probability of the whole reply"),
                                    range=[0, 1.08 * top], automargin=False),
                         yaxis=dict(title=dict(text="reply", standoff=12), autorange="reversed",
                                    automargin=False))
    return go.Figure(data=data, layout=layout)


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
    ranked = list(ranked)
    n_replies, n_rest = len(texts), len(texts) - len(ranked)
    columns = [texts[s] for s in ranked] + [f"the other {n_rest}"]

    def shown(probs: np.ndarray) -> np.ndarray:
        top = probs[ranked]
        return np.append(top, max(0.0, 1.0 - float(top.sum())))

    bars = np.array([shown(row) for row in tempered])
    max_entropy = float(np.log(n_replies))  # every reply equally likely
    lo, hi = float(np.log10(temperatures[0])), float(np.log10(temperatures[-1]))
    ticks = [v for v in (0.1, 0.2, 0.3, 0.5, 1, 2, 3, 5, 10)
             if temperatures[0] <= v <= temperatures[-1]]
    # Two panels, the replies on top (the note sits above them), the entropy below. Fixed
    # margins and label angles: measuring labels to fit them costs a layout pass per redraw.
    layout: dict = dict(
        # At the top edge, so presenter mode's larger note cannot run into it.
        title=dict(text=f"“{prompt} …” sampled at temperature T", y=1, yref="container",
                   yanchor="top", pad=dict(t=12)),
        xaxis=dict(domain=[0, 1], anchor="y", type="category", tickangle=-90,
                   automargin=False, title=dict(text="reply (ranked by probability at T = 1)")),
        yaxis=dict(domain=[0.47, 1], anchor="x", range=[0, 1.0], automargin=False,
                   title=dict(text="probability")),
        xaxis2=dict(domain=[0, 1], anchor="y2", type="log", range=[lo - 0.02, hi + 0.02],
                    tickmode="array", tickvals=ticks, ticktext=[f"{v:g}" for v in ticks],
                    automargin=False, title=dict(text="temperature T (log scale)")),
        yaxis2=dict(domain=[0, 0.2], anchor="x2", range=[0, 1.15 * max_entropy],
                    automargin=False, title=dict(text="entropy (nats)")),
        legend=dict(orientation="h", x=0.5, xanchor="center", y=1, yanchor="top"),
        bargap=0.2, height=700, margin=dict(l=64, r=12, t=64, b=60),
        shapes=[hline(max_entropy, "muted", panel=1), vline(1.0, "reference", panel=1)],
        annotations=[label(lo, max_entropy, f"all equally likely: ln {n_replies} = "
                           f"{max_entropy:.2f}", panel=1, xanchor="left", yanchor="bottom")])
    data = [
        dict(type="bar", x=columns, y=compact(bars[0]), name="at the slider's T",
             marker=dict(color=theme.COLORS["policy"],
                         pattern=dict(shape=[""] * len(ranked) + ["/"])),
             hovertemplate="%{x}: %{y:.3f}<extra>at the slider's T</extra>"),
        dict(type="scatter", mode="markers", x=columns, y=compact(shown(ref)),
             name="T = 1, as trained",
             marker=dict(symbol="line-ew", size=12, color=theme.COLORS["reference"],
                         line=dict(width=3, color=theme.COLORS["reference"])),
             hovertemplate="%{x}: %{y:.3f}<extra>T = 1</extra>"),
        dict(type="scatter", mode="lines", x=list(temperatures), y=compact(entropy),
             name="entropy H(π_T)", xaxis="x2", yaxis="y2", showlegend=False,
             line=dict(color=theme.COLORS["exact"], width=3),
             hovertemplate="T = %{x:g}: %{y:.2f} nats<extra></extra>"),
        dict(type="scatter", mode="markers", x=[temperatures[0]], y=compact(entropy[:1]),
             xaxis="x2", yaxis="y2", showlegend=False, hoverinfo="skip",
             marker=dict(size=13, color=theme.COLORS["highlight"],
                         line=dict(color=theme.COLORS["exact"], width=2))),
    ]
    frames, notes = [], []
    for k, t in enumerate(temperatures):
        # The T = 1 ticks take part in every frame, with nothing new: plotly drops a subplot's
        # scatter traces that a frame leaves out when it moves only that subplot's bars.
        frames.append([dict(y=compact(bars[k])), {},
                       dict(x=[float(t)], y=compact(entropy[k:k + 1]))])
        notes.append(f"T = {t:g}: entropy {entropy[k]:.2f} nats<br>most likely "
                     f"“{texts[best[k]]}” ({tempered[k, best[k]]:.3f})<br>the other "
                     f"{n_rest} replies together {bars[k, -1]:.3f}")
    return explorable.build(dict(data=data, layout=layout),
                            values=[float(t) for t in temperatures], label="temperature T",
                            frames=frames, changing=[0, 1, 3], notes=notes)


def reward_distribution(values: np.ndarray, probs: np.ndarray, mean: float,
                        prompt: str) -> go.Figure:
    """P(r = v) when the reference writes a reply: bars per reward value, the mean marked."""
    colors = [theme.COLORS["chosen"] if v > 0 else theme.COLORS["rejected"] if v < 0
              else theme.COLORS["reference"] for v in values]
    data = [dict(type="bar", x=list(values), y=list(probs), marker=dict(color=colors),
                 width=0.2, hovertemplate="reward %{x:g}: probability %{y:.3f}<extra></extra>")]
    top = float(np.max(probs))
    layout = _bar_layout(f"How the reader scores the reference's replies to “{prompt}”",
                         "true reward r(x, y) (points)", "probability under π_ref",
                         yaxis=dict(title=dict(text="probability under π_ref"),
                                    range=[0, 1.18 * top]))
    layout["shapes"] = [dict(type="line", xref="x", x0=mean, x1=mean, yref="y domain", y0=0,
                             y1=1, line=dict(color=theme.COLORS["exact"], dash="dash", width=2))]
    layout["annotations"] = [dict(x=mean, y=1, xref="x", yref="y domain", yanchor="bottom",
                                  text=f"mean {fmt(mean, 2)}", showarrow=False)]
    return go.Figure(data=data, layout=layout)


def label_accuracy_curve(noises: np.ndarray, accuracy: np.ndarray, noise: float,
                         accuracy_now: float) -> go.Figure:
    """The share of labels that agree with the true reward, against the annotator's noise."""
    data = [
        dict(type="scatter", x=list(noises), y=list(100 * accuracy), mode="lines",
             line=dict(color=theme.COLORS["exact"], width=3),
             hovertemplate="noise %{x:.1f}: %{y:.1f} % agree<extra></extra>"),
        dict(type="scatter", x=[noise], y=[100 * accuracy_now], mode="markers+text",
             text=[f"{100 * accuracy_now:.1f} %"], textposition="top right",
             marker=dict(size=15, color=theme.COLORS["highlight"],
                         line=dict(color=theme.COLORS["exact"], width=2)),
             hoverinfo="skip"),
    ]
    layout = _bar_layout("How often the label agrees with the hidden reward",
                         "annotator noise τ (reward points)", "labels that agree (%)",
                         yaxis=dict(title=dict(text="labels that agree (%)"), range=[45, 103],
                                    ticksuffix=" %"))
    layout["shapes"] = [dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=50, y1=50,
                             line=dict(color=theme.COLORS["muted"], dash="dash", width=2))]
    return go.Figure(data=data, layout=layout)


def optimum_replies(texts: Sequence[str], ref: np.ndarray, star: np.ndarray,
                    beta: float) -> go.Figure:
    """The most likely replies under the optimum π* (purple) beside π_ref (grey)."""
    return _reply_bars(texts, ref, star, ("π_ref, the reference", f"π* at β = {beta:g}"),
                       f"Where fine-tuning should end up at β = {beta:g}")
