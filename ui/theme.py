"""One look for the whole course: a colour-blind-safe palette with fixed meanings and a plotly
template that stays readable when a teacher projects a page.

Colours come from the Okabe–Ito palette. Each colour has one meaning everywhere in the course, so a
learner who has seen "blue = P, orange = Q" in the dice game reads every later chart the same way.
"""

import functools

import plotly.graph_objects as go
import plotly.io as pio

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour deficiency.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

# Fixed meanings, used by every lesson. Add a role here rather than picking a colour in a page.
COLORS = {
    "P": OKABE_ITO["blue"],  # the true / data distribution
    "Q": OKABE_ITO["orange"],  # the model / candidate distribution
    "policy": OKABE_ITO["purple"],  # the model being trained, pi_theta
    "reference": "#7A7A7A",  # the frozen reference, pi_ref
    "chosen": OKABE_ITO["green"],  # the preferred response, y_w
    "rejected": OKABE_ITO["vermillion"],  # the dispreferred response, y_l
    "exact": OKABE_ITO["black"],  # a closed-form or exact value
    "estimate": OKABE_ITO["sky"],  # a sampled or running estimate
    "highlight": OKABE_ITO["yellow"],  # the learner's current point or selection
    "muted": "#C9CED6",  # context that should recede
    "wall": "#3F444C",  # the grid world's walls
}

# What the course calls each colour in its captions, one name each (the policy's Okabe–Ito
# "reddish purple" looks pink on screen, so it is "pink" everywhere).
COLOR_WORDS = {
    "black": OKABE_ITO["black"],
    "orange": OKABE_ITO["orange"],
    "light blue": OKABE_ITO["sky"],
    "green": OKABE_ITO["green"],
    "yellow": OKABE_ITO["yellow"],
    "blue": OKABE_ITO["blue"],
    "red-orange": OKABE_ITO["vermillion"],
    "pink": OKABE_ITO["purple"],
    "grey": COLORS["reference"],
    "light grey": COLORS["muted"],
    "dark grey": COLORS["wall"],
}
# Other names a caption must not use for them.
COLOR_WORDS_AVOIDED = ("purple", "orange-red", "vermillion", "sky blue", "sky-blue", "violet")

# The badge colour of each method on equation cards (Streamlit's named badge colours).
METHOD_COLORS = {
    "LM": "yellow",  # a language model's own equations (chain rule, temperature)
    "KL": "blue",
    "Bradley–Terry": "violet",
    "RL": "gray",
    "PPO": "orange",
    "RLHF": "red",
    "DPO": "green",
}

TEXT = "#0E1116"  # body text, as in .streamlit/config.toml


def luminance(color: str) -> float:
    """Relative luminance of a "#RRGGBB" colour (WCAG 2.1, the sRGB formula)."""
    channels = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_on(background: str) -> str:
    """The text colour (white or the body text colour) that reads best on ``background``."""
    return max(("#FFFFFF", TEXT), key=lambda text: contrast(text, background))


FONT_FAMILY = "Source Sans Pro, Helvetica Neue, Arial, sans-serif"
BASE_FONT_SIZE = 15
PRESENTER_FONT_SIZE = 21
BASE_HEIGHT = 360
PRESENTER_HEIGHT_SCALE = 1.4

TEMPLATE = "dice2dpo"
PRESENTER_TEMPLATE = "dice2dpo_presenter"


def _template(font_size: int) -> go.layout.Template:
    colorway = [
        OKABE_ITO[c] for c in ("blue", "orange", "green", "vermillion", "purple", "sky", "black")
    ]
    axis = dict(
        showgrid=True,
        gridcolor="#E6E9EF",
        zeroline=False,
        linecolor="#9AA3AF",
        ticks="outside",
        title=dict(font=dict(size=font_size)),
        tickfont=dict(size=font_size - 2),
        automargin=True,
    )
    return go.layout.Template(
        layout=dict(
            font=dict(family=FONT_FAMILY, size=font_size, color=TEXT),
            title=dict(font=dict(size=font_size + 3), x=0, xanchor="left"),
            colorway=colorway,
            paper_bgcolor="white",
            plot_bgcolor="white",
            xaxis=axis,
            yaxis=axis,
            legend=dict(font=dict(size=font_size - 1), bgcolor="rgba(255,255,255,0.7)"),
            hoverlabel=dict(font=dict(size=font_size - 1)),
            margin=dict(l=10, r=10, t=56, b=10),
            height=BASE_HEIGHT,
        )
    )


@functools.cache
def template_spec(name: str) -> dict:
    """A registered template as the plain dict a figure spec carries (plotly.js has no names)."""
    return pio.templates[name].to_plotly_json()


def register_templates() -> None:
    """Register the course templates once per process and make the normal one the default."""
    if TEMPLATE not in pio.templates:
        pio.templates[TEMPLATE] = _template(BASE_FONT_SIZE)
        pio.templates[PRESENTER_TEMPLATE] = _template(PRESENTER_FONT_SIZE)
    pio.templates.default = TEMPLATE


register_templates()
