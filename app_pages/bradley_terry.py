"""Bradley–Terry: from scores to win probabilities, from a table of wins back to scores, and a
tiny reward model trained on the learner's own judgements."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from lessons import bradley_terry as bt
from ui import bradley_terry_figures as btf
from ui import cards, code, course, explorable, quiz, shared, state, steps
from ui.figures import show
from ui.state import Param

SLUG = "bradley-terry"

# Section 1: scores to win probabilities
REPLY_NAMES = ("A", "B", "C", "D", "E", "F")
SCORE_KEYS = tuple(f"bt_{name.lower()}" for name in REPLY_NAMES)
SCORE_DEFAULTS = (1.0, 0.0, -1.0, 0.5, -0.5, 2.0)
SCORE_RANGE = (-4.0, 4.0)
SCORE_GRID = np.round(np.arange(-4.0, 4.05, 0.1), 1)  # every value of a score slider

# Section 2: the softmax and its shift; section 3: Elo
SHIFT_GRID = np.round(np.arange(-10.0, 10.25, 0.5), 1)  # every value of the shift slider
GUESS_SHIFT = 5.0  # the shift of the "predict first" question
ELO_RATINGS = np.arange(800, 2801, 50)  # A's rating on the Elo chart's own slider
ELO_CURVE_POINTS = 101
ELO_K = 32

# Section 3: scores from a table of wins
TEAM_NAMES = ("Atlas", "Birch", "Cedar", "Delta", "Ember", "Fjord")
MAX_TEAMS = len(TEAM_NAMES)  # the one limit on the table's size in this lesson
TABLE_SIZE = f"2 to {MAX_TEAMS} items, one row each"
MAX_CELL = 999
TRUE_SCORES = np.array([1.2, 0.5, 0.0, -0.4, -1.3])  # centred: they add up to 0
FALLBACK_L2 = 0.1
L2_OPTIONS = ("0", "0.01", "0.1", "1")  # strings: the link shows them as they are
L2_PATH = np.geomspace(10, 1e-4, 21)
PROFILE_OFFSETS = np.linspace(-2.5, 2.5, 51)
# The preset's label is also its value in the link.
SIMULATED = "Simulated from known scores"
PRESETS = {
    "Balanced league": [[0, 6, 7, 8], [4, 0, 6, 7], [3, 4, 0, 5], [2, 3, 5, 0]],
    "Dominant item": [[0, 9, 9, 10], [1, 0, 5, 6], [1, 5, 0, 5], [0, 4, 5, 0]],
    "Cycle: A > B > C > A": [[0, 8, 2], [2, 0, 8], [8, 2, 0]],
    "Sparse data": [[0, 2, 0, 0, 0, 0], [1, 0, 1, 0, 0, 1], [1, 1, 0, 2, 0, 0],
                    [0, 0, 1, 0, 1, 0], [1, 0, 0, 1, 0, 2], [0, 1, 0, 0, 1, 0]],
    SIMULATED: None,
    "Bad: one item wins every game": [[0, 9, 10, 10], [0, 0, 5, 6], [0, 5, 0, 5], [0, 4, 5, 0]],
    "Bad: one item never plays": [[0, 6, 7, 0], [4, 0, 6, 0], [3, 4, 0, 0], [0, 0, 0, 0]],
    "Bad: no games at all": [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
}

# Section 4: you are the annotator (the example lives in lessons, shared with class mode)
PROMPT, REPLIES, PAIRS = bt.EXAMPLE_PROMPT, bt.EXAMPLE_REPLIES, bt.EXAMPLE_PAIRS
REPLY_LABELS = tuple(f"R{i + 1}" for i in range(len(REPLIES)))
# Example annotators: hidden tastes over the raw features (length, numbers, hedges, warmth, asks).
ANNOTATORS = {
    "detail": ("a detail lover", (0.3, 1.0, -0.5, 0.0, -0.5)),
    "busy": ("a busy reader", (-0.4, 0.8, -1.0, 0.0, 0.0)),
    "warm": ("a warmth seeker", (0.0, 0.3, -0.3, 1.0, 0.5)),
}
RM_L2_OPTIONS = ("0", "0.01", "0.1", "1")  # strings: the link shows them as they are

N_ITEMS = Param("bt_n", 3, lo=2, hi=6, step=1)
SCORES = tuple(Param(key, default, lo=SCORE_RANGE[0], hi=SCORE_RANGE[1], step=0.1)
               for key, default in zip(SCORE_KEYS, SCORE_DEFAULTS, strict=True))
SOFT_A = Param("bt_sa", 1.0, lo=-5.0, hi=5.0, step=0.1)
SOFT_B = Param("bt_sb", 0.0, lo=-5.0, hi=5.0, step=0.1)
SHIFT = Param("bt_shift", 0.0, lo=-10.0, hi=10.0, step=0.5)
SHIFT_GUESSES = ("Goes up", "Goes down", "Stays the same")
SHIFT_GUESS = Param("bt_shift_guess", None, options=SHIFT_GUESSES)
SHIFT_ANSWER = "Stays the same"  # σ(a − b) sees only the gap (the page test checks the lessons)
ELO_A = Param("bt_elo_a", 1600, lo=800, hi=2800, step=10)
ELO_B = Param("bt_elo_b", 1400, lo=800, hi=2800, step=10)
PRESET = Param("bt_preset", "Balanced league", options=tuple(PRESETS))
GAMES = Param("bt_games", 20, lo=1, hi=200, step=1)
SEED = Param("bt_seed", 0, lo=0, hi=9999, step=1)
WINS = Param("bt_wins", "", max_chars=200)
L2 = Param("bt_l2", "0", options=L2_OPTIONS)
LEARNING_RATE = Param("bt_lr", 0.5, lo=0.05, hi=2.0, step=0.05)
STEPS = Param("bt_steps", 200, lo=10, hi=500, step=10)
RM_L2 = Param("bt_rm_l2", "0.01", options=RM_L2_OPTIONS)
LESSON_STEPS = steps.Steps("bt", (
    "Scores to win probabilities", "It is a softmax", "Elo ratings", "Scores from data",
    "You are the annotator", "Check yourself",
))
PARAMS = (LESSON_STEPS.param, N_ITEMS, *SCORES, SOFT_A, SOFT_B, SHIFT, SHIFT_GUESS, ELO_A,
          ELO_B, PRESET, GAMES, SEED, WINS, L2, LEARNING_RATE, STEPS, RM_L2)


# Page-side caches: the fits are pure functions of hashable inputs


@shared.cache_data(max_entries=96, show_spinner=False)
def win_explorable(score_b: float) -> dict:
    """Reply A's score sliding over every value of its slider, B's fixed."""
    return btf.win_probability_explorable(SCORE_GRID, bt.win_probability(SCORE_GRID, score_b),
                                          bt.win_probability(score_b, SCORE_GRID), score_b)


@shared.cache_data(max_entries=64, show_spinner=False)
def shift_explorable(a: float, b: float) -> dict:
    """The same c added to both scores, for every value of the shift slider."""
    return btf.shift_explorable(SHIFT_GRID, bt.two_way_softmax(a + SHIFT_GRID, b + SHIFT_GRID),
                                bt.win_probability(a, b), bt.strength(a + SHIFT_GRID),
                                bt.strength(b + SHIFT_GRID), a, b)


@shared.cache_data(max_entries=64, show_spinner=False)
def elo_explorable(rating_b: float) -> dict:
    """Player A's rating sliding in steps of 50 points, B's fixed."""
    gaps = np.linspace(ELO_RATINGS[0] - rating_b, ELO_RATINGS[-1] - rating_b, ELO_CURVE_POINTS)
    return btf.elo_explorable(
        ELO_RATINGS, rating_b, gaps, bt.elo_expected(gaps, 0.0),
        bt.elo_expected(ELO_RATINGS, rating_b), bt.elo_to_score(ELO_RATINGS - rating_b),
        bt.elo_update(ELO_RATINGS, rating_b, 1.0, ELO_K),
        bt.elo_update(ELO_RATINGS, rating_b, 0.0, ELO_K))


@shared.cache_data(max_entries=64, show_spinner=False)
def _fit(table_text: str, l2: float) -> dict:
    wins = bt.parse_wins(table_text)
    return bt.fit_report(wins, l2, names=TEAM_NAMES[:len(wins)])


@shared.cache_data(max_entries=64, show_spinner=False)
def _path(table_text: str) -> np.ndarray:
    return bt.regularization_path(bt.parse_wins(table_text), L2_PATH)


@shared.cache_data(max_entries=64, show_spinner=False)
def _profiles(table_text: str, l2: float) -> np.ndarray:
    wins = bt.parse_wins(table_text)
    scores = _fit(table_text, l2)["scores"]
    base = bt.log_likelihood(scores, wins)
    return np.array([bt.likelihood_profile(scores, wins, k, PROFILE_OFFSETS)["exact"] - base
                     for k in range(len(scores))])


@shared.cache_data(max_entries=64, show_spinner=False)
def newton_replay(table_text: str, l2: float, simulated: bool) -> dict:
    """Newton's method from all-zero scores to the fit, step by step."""
    wins = bt.parse_wins(table_text)
    report = _fit(table_text, l2)
    true_scores = TRUE_SCORES if simulated and len(wins) == len(TRUE_SCORES) else None
    return btf.newton_replay(TEAM_NAMES[:len(wins)], bt.newton_path(wins, l2),
                             report["scores"], report["std_errors"], l2, true_scores)


@shared.cache_data(max_entries=16, show_spinner=False)
def _simulated_text(games: int, seed: int) -> str:
    return bt.format_wins(bt.simulate_wins(TRUE_SCORES, games, seed))


@shared.cache_data(show_spinner=False)
def _reply_features() -> tuple[np.ndarray, np.ndarray]:
    raw = np.array([bt.reply_features(reply) for reply in REPLIES])
    return raw, bt.standardize(raw)


@shared.cache_data(max_entries=128, show_spinner=False)
def _train(chosen: tuple, rejected: tuple, learning_rate: float, steps: int, l2: float) -> dict:
    _, features = _reply_features()
    return bt.fit_reward_model(features, list(chosen), list(rejected), learning_rate, steps, l2)


@shared.cache_data(max_entries=64, show_spinner=False)
def training_replays(chosen: tuple, rejected: tuple, learning_rate: float, steps: int,
                     l2: float) -> tuple[dict, dict]:
    """The reward model's run replayed: its loss and rewards, and its feature weights."""
    result = _train(chosen, rejected, learning_rate, steps, l2)
    shown = btf.replay_steps(steps)
    return (btf.reward_model_replay(result["loss"], result["agreement"], result["rewards_path"],
                                    REPLY_LABELS, len(chosen), shown),
            btf.weights_replay(bt.FEATURES, result["weights_path"], shown))


def _rerun_section() -> None:
    """Rerun only this section when it is running as a fragment, else the whole page."""
    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:
        st.rerun()


st.title("Bradley–Terry: from scores to preferences")
state.check_link(PARAMS)
st.markdown(
    "A reward model gives every reply a single number. People, though, never hand out numbers: "
    "they look at two replies and say which one they prefer. The **Bradley–Terry model** is the "
    "bridge between the two. It turns scores into the probability of a preference, and, read "
    "backwards, turns a pile of preferences into scores. RLHF trains its reward model with it, "
    "and DPO is built on it."
)
st.caption(
    f"Accompanies the Bradley–Terry chapter of *{course.VIDEOS['dpo']}* and the reward-model "
    f"part of *{course.VIDEOS['rlhf']}* by {course.SERIES_AUTHOR}."
)


# 1. Scores to win probabilities


def scores_to_probabilities() -> None:
    st.header("1. Scores to win probabilities", anchor="scores", divider="gray")
    st.markdown(
        "A chatbot wrote several replies to one prompt, and a reward model scored each of them. "
        "Which one would a person prefer? Bradley–Terry says: raise *e* to each score and "
        "compare. A reply with score *a* beats one with score *b* with probability "
        "e^a / (e^a + e^b). Equal scores give a coin flip; a gap of one unit gives about 73 %."
    )
    cards.equation_card(
        r"P(A \succ B) \;=\; \frac{e^{a}}{e^{a} + e^{b}}",
        "The probability that a person prefers reply A to reply B, from their scores a and b.",
        "Bradley–Terry", "Bradley & Terry 1952",
    )
    _scores_demo()
    code.show_code(bt.win_probability, bt.strength, bt.win_matrix, bt.choice_probabilities)
    cards.takeaway("Scores become preferences through e^score: P(A ≻ B) = e^a / (e^a + e^b). "
                   "Two replies with equal scores are a coin flip.")


@st.fragment
def _scores_demo() -> None:
    n = state.slider(N_ITEMS, "How many replies", help="Up to six replies, A to F.")
    columns = st.columns(3)
    scores = []
    for i in range(n):
        with columns[i % 3]:
            scores.append(state.slider(
                SCORES[i], f"Score of reply {REPLY_NAMES[i]}",
                help="The slider under the chart moves A's score at once; this one sets where "
                "the chart opens and goes into the link." if i == 0 else None))
    scores = np.array(scores)
    names = REPLY_NAMES[:n]
    try:
        p_ab = bt.win_probability(scores[0], scores[1])
        e_a, e_b = bt.strength(scores[:2])
        matrix = bt.win_matrix(scores)
        picked = bt.choice_probabilities(scores)
    except ValueError as error:
        st.error(str(error))
        return
    st.latex(
        rf"P(A \succ B) = \frac{{e^{{{scores[0]:.1f}}}}}{{e^{{{scores[0]:.1f}}} + "
        rf"e^{{{scores[1]:.1f}}}}} = \frac{{{e_a:.3f}}}{{{e_a:.3f} + {e_b:.3f}}} = {p_ab:.3f}"
    )
    explorable.show(
        win_explorable(float(scores[1])), key="bt_win_chart",
        start=explorable.nearest(SCORE_GRID, scores[0]),
        caption="Drag the slider under the chart: A's score moves and its chance of being "
        "preferred runs along the S-shaped curve σ(a − b), while B's chance mirrors it. At the "
        "dotted line the scores are equal and each reply wins half the time; a gap of one unit "
        "gives 73 %. It opens at the scores set above.")
    show(btf.win_heatmap(names, matrix), key="bt_heatmap", height=340 + 20 * n,
         caption="At the scores set above: each cell and its mirror across the diagonal add up "
         "to 1; the row of the highest score is the greenest.")
    if n > 2:
        st.markdown(
            "**Pick one of all of them.** With more than two replies, the chance that each one "
            "is picked as the best of all is a softmax of the scores (Luce's choice rule; "
            "Bradley–Terry is the case of two): "
            + ", ".join(f"{name} **{p:.2f}**" for name, p in zip(names, picked, strict=True))
            + ".")


# 2. It is a softmax (and Elo)


def softmax_view() -> None:
    st.header("2. Bradley–Terry is a softmax, and a sigmoid", anchor="softmax", divider="gray")
    st.markdown(
        "A learner was surprised that the Bradley–Terry formula turned out to be a softmax. It "
        "is one: e^a / (e^a + e^b) is the first entry of the softmax of the two scores (a, b). "
        "Divide the top and the bottom by e^a and it becomes 1 / (1 + e^−(a−b)), the logistic "
        "sigmoid σ of the *gap* a − b."
    )
    cards.equation_card(
        r"\operatorname{softmax}(a, b)_1 = \frac{e^{a}}{e^{a}+e^{b}}"
        r"= \frac{1}{1 + e^{-(a-b)}} = \sigma(a-b)",
        "The two-way softmax is the sigmoid of the score gap a − b.",
        "Bradley–Terry",
    )
    if cards.predict(
            SHIFT_GUESS, f"Reply A has the higher score. Add {GUESS_SHIFT:g} to *both* scores: "
            "does A's chance of being preferred go up, go down or stay the same?",
            SHIFT_ANSWER,
            f"Both strengths e^score grow by the same factor e^{GUESS_SHIFT:g}, and the factor "
            "cancels in the fraction: only the gap a − b is left, and adding the same number "
            "to both scores leaves the gap as it was."):
        st.markdown(
            "So the scores themselves never matter, only their difference: add the same "
            "number c to both and nothing changes. Try any c below."
        )
        cards.equation_card(
            r"\frac{e^{a+c}}{e^{a+c}+e^{b+c}} = \frac{e^{c}\,e^{a}}{e^{c}\,(e^{a}+e^{b})}"
            r"= \sigma(a-b)",
            "A shift c that both scores share multiplies both strengths by e^c, which cancels.",
            "Bradley–Terry",
        )
        _softmax_demo()
    code.show_code(bt.two_way_softmax, bt.win_probability)
    cards.takeaway("Bradley–Terry = a softmax over two scores = σ(a − b). Only differences of "
                   "scores carry meaning, which is why a reward model's scale has no zero point.")


@st.fragment
def _softmax_demo() -> None:
    one, two, three = st.columns(3)
    with one:
        a = state.slider(SOFT_A, "Score a")
    with two:
        b = state.slider(SOFT_B, "Score b")
    with three:
        c = state.slider(SHIFT, "Add c to both scores",
                         help="The slider under the chart moves c at once; this one sets where "
                         "the chart opens and goes into the link.")
    try:
        spec = shift_explorable(float(a), float(b))
    except ValueError as error:
        st.error(str(error))
        return
    explorable.show(
        spec, key="bt_shift_chart", start=explorable.nearest(SHIFT_GRID, c),
        caption="Drag the slider under the chart to add more or less to both scores. Bottom: "
        "the strengths e^(a + c) and e^(b + c) grow or shrink by the same factor e^c, so the two "
        "lines stay the same distance apart on the log scale. Top: the softmax of the shifted "
        "scores (the thick light-blue line) stays exactly on σ(a − b), the dotted black line, "
        "whatever c is.")


def elo_view() -> None:
    st.header("3. Elo ratings are the same model", anchor="elo", divider="gray")
    st.markdown(
        "Chess ratings use Bradley–Terry with base 10 instead of *e* and 400 rating points per "
        "factor of 10 in the odds. A 1600 player meets a 1400 player: the expected score of the "
        "stronger one is 1 / (1 + 10^(−200/400)) ≈ 0.76. After each game Elo moves the ratings by "
        "K·(result − expected), which is a small gradient step on the Bradley–Terry "
        "log-likelihood of that game."
    )
    cards.equation_card(
        r"E_A = \frac{1}{1 + 10^{(R_B - R_A)/400}} = \sigma\!\Big((R_A - R_B)\,"
        r"\tfrac{\ln 10}{400}\Big), \qquad R_A \leftarrow R_A + K\,(S_A - E_A)",
        "Elo's expected score is Bradley–Terry with score = rating × ln(10)/400; the update "
        "nudges the rating by how surprising the result was.",
        "Bradley–Terry", "Elo 1978",
    )
    _elo_demo()
    code.show_code(bt.elo_expected, bt.elo_update)
    cards.takeaway("Elo is Bradley–Terry in other units: 400/ln 10 ≈ 174 rating points make one "
                   "score unit, and only the rating gap sets the expected score. Each game "
                   "moves a rating by K times the surprise, result − expected.")


@st.fragment
def _elo_demo() -> None:
    one, two = st.columns(2)
    with one:
        rating_a = state.slider(ELO_A, "Rating of player A (Elo points)",
                                help="The slider under the chart moves A's rating at once, in "
                                "steps of 50; this one sets where the chart opens and goes into "
                                "the link.")
    with two:
        rating_b = state.slider(ELO_B, "Rating of player B (Elo points)")
    try:
        spec = elo_explorable(float(rating_b))
    except ValueError as error:
        st.error(str(error))
        return
    start = explorable.nearest(ELO_RATINGS, rating_a)
    explorable.show(
        spec, key="bt_elo", start=start,
        caption="Drag the slider under the chart: A's rating moves and the gap slides along "
        "the curve; the numbers above it give A's rating after a win or a loss with "
        f"K = {ELO_K}. Only the rating gap matters, as in every Bradley–Terry model: 200 "
        "points mean about 76 %, 400 points mean odds of 10 to 1 (91 %).")
    if ELO_RATINGS[start] != rating_a:
        st.caption(f"The chart's slider moves in steps of 50 points, so it opens at "
                   f"{ELO_RATINGS[start]}, the nearest to the {rating_a} set above.")


# 3. Scores from data


def _preset_text(preset: str) -> str:
    if preset == SIMULATED:
        return _simulated_text(int(st.session_state.get(GAMES.key, GAMES.default)),
                               int(st.session_state.get(SEED.key, SEED.default)))
    return bt.format_wins(PRESETS[preset])


def _load_preset() -> None:
    """A new preset (or new simulation settings) replaces the table."""
    st.session_state[WINS.key] = _preset_text(st.session_state.get(PRESET.key, PRESET.default))


def _table_in_use(preset: str) -> tuple[np.ndarray, str | None]:
    """The table the learner has (from the text state or the link), or the preset's on a typo."""
    text = st.session_state.get(WINS.key)
    if text is None:
        text = st.query_params.get(WINS.key, "")[:WINS.max_chars]
    if not text:
        return bt.parse_wins(_preset_text(preset)), None
    try:  # the lesson's own limit: bt.parse_wins would accept up to bt.MAX_ITEMS items
        wins = bt.parse_wins(text, max_count=MAX_CELL, max_items=MAX_TEAMS)
    except ValueError as error:
        return bt.parse_wins(_preset_text(preset)), str(error)
    return wins, None


def _edited_table(edited: pd.DataFrame) -> np.ndarray:
    """The editor's cells as whole counts: blanks count 0, the diagonal stays 0."""
    table = edited.apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy(dtype=float)
    table = np.clip(np.round(table), 0, MAX_CELL)
    np.fill_diagonal(table, 0)
    return table


@st.fragment
def scores_from_data() -> None:
    st.header("4. Scores from data: fitting Bradley–Terry", anchor="fitting", divider="gray")
    st.markdown(
        "Now go backwards. In a chatbot arena, people ask a question, see the answers of two "
        "anonymous models, and vote for the better one; public leaderboards turn those votes "
        "into scores with exactly this model. The table below counts the votes: the cell in row "
        "*i*, column *j* is how often *i* beat *j*. The scores that make the observed votes most "
        "probable are the **maximum-likelihood** scores. Try the presets, then edit any cell."
    )
    cards.equation_card(
        r"\ell(s) = \sum_{i,j} w_{ij}\,\log \sigma(s_i - s_j), \qquad "
        r"\hat s = \arg\max_s \; \ell(s) - \tfrac{\lambda}{2}\lVert s\rVert^2, \qquad "
        r"\operatorname{SE}(\hat s_i) = \sqrt{\big[I(\hat s)^{+}\big]_{ii}}",
        "Every recorded game adds the log-probability of its result. The best scores maximise "
        "the total (λ > 0 adds a Gaussian prior); the curvature of ℓ, the Fisher information I, "
        "sets the error bars.",
        "Bradley–Terry", "Zermelo 1929; Ford 1957",
    )
    left, right = st.columns([3, 2])
    with left:
        preset = state.choice(PRESET, "Preset table", widget="selectbox",
                              on_change=_load_preset)
    with right:
        l2 = float(state.choice(L2, "L2 prior strength λ (0 = pure maximum likelihood)",
                                help="λ/2·Σs² pulls every score towards 0, like a Gaussian prior "
                                "s ~ N(0, 1/λ). Bad tables need it."))
    true_scores = None
    if preset == SIMULATED:
        one, two = st.columns(2)
        with one:
            state.slider(GAMES, "Games per pair", on_change=_load_preset,
                         help="A round robin: every pair plays this many games, each won "
                         "with the Bradley–Terry probability of the true scores.")
        with two:
            state.number(SEED, "Random seed", on_change=_load_preset)
        true_scores = TRUE_SCORES

    wins, problem = _table_in_use(preset)
    if problem:
        st.error(f"The table text could not be read: {problem} The preset's table is used "
                 "instead; edit a cell below to start again from it.",
                 icon=":material/table_view:")
    n = len(wins)
    names = list(TEAM_NAMES[:n])
    shown_text = bt.format_wins(wins)
    edited = st.data_editor(
        pd.DataFrame(wins.astype(int), index=names, columns=names),
        key=f"bt_table_{zlib.crc32(shown_text.encode()):08x}",
        column_config={name: st.column_config.NumberColumn(
            name, min_value=0, max_value=MAX_CELL, step=1, format="%d") for name in names},
        width="stretch",
    )
    new_text = bt.format_wins(_edited_table(edited))
    if new_text != shown_text:
        st.session_state[WINS.key] = new_text
        _rerun_section()
    edited_note, reset = st.columns([5, 1], vertical_alignment="center")
    edited_note.caption("Row beats column: the cell (Atlas, Birch) counts Atlas's wins over "
                        "Birch. The diagonal stays 0, since an item cannot play itself."
                        + ("" if shown_text == _preset_text(preset) else
                           f" You have edited the preset *{preset}*."))
    reset.button("Reset table", key="bt_reset_table", on_click=_load_preset, width="stretch",
                 icon=":material/undo:", help="Back to the preset's own table.")
    with st.expander("The table as text (it travels in this page's link)",
                     icon=":material/link:"):
        st.text_input(
            f"Rows split by '/', numbers by spaces ({TABLE_SIZE})", value=_preset_text(preset),
            key=WINS.key,
            max_chars=WINS.max_chars, bind="query-params",
            help="For example 0 8 2 / 2 0 8 / 8 2 0 is the cycle. Edits here and in the table "
            "are the same thing.",
        )

    diagnosis = bt.diagnose_wins(wins, names)
    l2_used = l2 if diagnosis["mle_exists"] or l2 > 0 else FALLBACK_L2
    if not diagnosis["mle_exists"]:
        reasons = "\n".join(f"- {p['message']}" for p in diagnosis["problems"])
        if l2 == 0:
            remedy = (f"So the fit below adds a weak prior, **λ = {FALLBACK_L2:g}** (every score "
                      f"~ N(0, {1 / FALLBACK_L2:g})), which keeps every score finite and sends "
                      "scores the data say nothing about to 0, the average.")
        else:
            remedy = (f"The prior λ = {l2:g} you chose keeps every score finite. Watch the "
                      "path chart below: as λ shrinks, the affected scores run away.")
        st.warning(f"**No maximum-likelihood fit exists for this table.**\n\n{reasons}\n\n"
                   f"{remedy}", icon=":material/warning:")
    text_key = bt.format_wins(wins)
    try:
        report = _fit(text_key, l2_used)
        path = _path(text_key)
        profiles = _profiles(text_key, l2_used)
    except ValueError as error:
        st.error(str(error))
        return

    order = np.argsort(-report["scores"], kind="stable")
    st.markdown("**Ranking:** " + " > ".join(
        f"{names[i]} ({report['scores'][i]:+.2f})" for i in order))
    left, right = st.columns(2)
    with left:
        replay = newton_replay(text_key, l2_used, true_scores is not None)
        explorable.show(
            replay, key="bt_fitted", start=explorable.frame_count(replay) - 1,
            caption="Press play to watch Newton's method start from all-zero scores and "
            "climb to the fit (the black marks) in a few steps. "
            + ("Diamonds: the true scores the games were drawn from; they fall inside most "
               "error bars, and more games shrink the bars like 1/√games."
               if true_scores is not None else
               "Error bars: 95 % intervals from the Fisher information. Few games, or games "
               "only against much weaker or stronger opponents, make them wide."
               + (f" With the prior (λ = {l2_used:g}) the curvature includes λ: the bars "
                  "show the spread of the approximate posterior." if l2_used > 0 else "")))
    with right:
        pair_i, pair_j = np.nonzero(np.triu(report["games"]) > 0)
        show(btf.predicted_vs_observed(
            [f"{names[i]} vs {names[j]}" for i, j in zip(pair_i, pair_j, strict=True)],
            report["observed"][pair_i, pair_j], report["predicted"][pair_i, pair_j],
            report["games"][pair_i, pair_j]), key="bt_fit_check",
            caption="A dot on the diagonal is a pair whose win rate the scores reproduce. A "
            "cycle cannot be reproduced: one score per item cannot make A > B, B > C and C > A.")

    total_games = float(report["games"].sum() / 2)
    one, two, three, four = st.columns(4)
    one.metric("Log-likelihood ℓ(ŝ)", f"{report['log_likelihood']:.2f} nats",
               help="The log-probability of every recorded result under the fitted scores.")
    two.metric("Coin-flip baseline", f"{report['null_log_likelihood']:.2f} nats",
               help="All scores 0: every game is a coin flip, ℓ = −(games)·ln 2.")
    three.metric("Per game", f"{report['log_likelihood'] / total_games:.3f} nats"
                 if total_games else "no games",
                 help="ℓ(ŝ) divided by the number of games, as in the dice game: −ln 2 = "
                 "−0.693 is a coin flip, 0 would be certainty.")
    p_value = report["p_value"]
    four.metric("Misfit G (df)", f"{report['deviance']:.2f} ({report['df']})",
                help="G = 2·(ℓ of a model that gives every pair its own win rate − ℓ(ŝ)), the "
                "G-test of the KL lesson. Large G with a small p-value: Bradley–Terry does not "
                "fit this table.")
    if p_value is not None:
        verdict = ("the table is consistent with Bradley–Terry" if p_value >= 0.05 else
                   "Bradley–Terry does not fit this table well")
        st.caption(f"G-test of the fit: G = {report['deviance']:.2f} on {report['df']} degrees "
                   f"of freedom, p = {p_value:.3g}: {verdict}. The chi-square approximation "
                   "is rough when pairs played only a few games.")
    else:
        st.caption("No G-test p-value: it needs the unregularised fit (λ = 0) and more pairs "
                   "that met than free scores.")
    left, right = st.columns(2)
    with left:
        show(btf.regularization_path(L2_PATH, path, names, l2_used), key="bt_path",
             caption="For a healthy table every line levels off at the maximum-likelihood "
             "score. An unbeaten item's line keeps climbing: its best score is +∞.")
    with right:
        show(btf.likelihood_profiles(PROFILE_OFFSETS, profiles, names), key="bt_profile",
             caption="The sharper an item's peak, the more its games pin its score down; that "
             "curvature is the Fisher information behind the error bars.")
    code.show_code(bt.fit_scores, bt.newton_path, bt.diagnose_wins, bt.score_covariance)
    cards.takeaway("Preferences determine scores only up to a shift, and only when everyone "
                   "both won and lost against a connected field; otherwise a prior (L2) has to "
                   "fill the gap. The log-likelihood's curvature says how sure the scores are.")


# 4. You are the annotator


JUDGED = "bt_judged"  # session state: {pair index: index of the preferred reply}
CURRENT = "bt_current_pair"  # session state: the pair on screen


def _judged() -> dict[int, int]:
    return st.session_state.setdefault(JUDGED, {})


def _pick(pair: int, reply: int) -> None:
    """Record a judgement and move on to the next pair not judged yet."""
    judged = _judged()
    judged[pair] = reply
    open_pairs = [k for k in range(len(PAIRS)) if k not in judged]
    later = [k for k in open_pairs if k > pair] or open_pairs
    st.session_state[CURRENT] = later[0] if later else pair


def _step(delta: int) -> None:
    st.session_state[CURRENT] = (st.session_state.get(CURRENT, 0) + delta) % len(PAIRS)


def _fill_judgements(annotator: str | None) -> None:
    """Answer every pair as an example annotator would (or clear them all)."""
    st.session_state[CURRENT] = 0
    if annotator is None:
        st.session_state[JUDGED] = {}
        return
    raw, _ = _reply_features()
    picks = bt.annotate(raw, np.array(PAIRS), ANNOTATORS[annotator][1])
    st.session_state[JUDGED] = {k: PAIRS[k][pick] for k, pick in enumerate(picks)}


def _judgements() -> tuple[list[int], list[int]]:
    """(chosen, rejected) reply indices of every pair the learner judged, in pair order."""
    judged = _judged()
    chosen, rejected = [], []
    for k in sorted(judged):
        first, second = PAIRS[k]
        chosen.append(judged[k])
        rejected.append(second if judged[k] == first else first)
    return chosen, rejected


@st.fragment
def annotator_section() -> None:
    st.header("5. You are the annotator", anchor="annotator", divider="gray")
    st.markdown(
        "This is how the reward model of RLHF is made. A chatbot wrote six replies to one "
        "prompt; you say which of two replies is better, pair after pair. A reward model "
        "r(y) = w·φ(y) then learns from your choices: it sees only five simple features φ of "
        "each reply, and it is trained with the Bradley–Terry loss, −log σ(r_w − r_l) for the "
        "reply you chose (w) and the other (l)."
    )
    judged = _judged()
    current = st.session_state.get(CURRENT, 0) % len(PAIRS)
    first, second = PAIRS[current]
    with st.container(border=True):
        st.markdown(f"**Prompt:** *{PROMPT}*")
        st.caption(f"Pair {current + 1} of {len(PAIRS)}. Which reply is better?")
        left, right = st.columns(2)
        for column, reply, side in ((left, first, "left"), (right, second, "right")):
            with column:
                mine = judged.get(current) == reply
                with st.container(border=True, height="stretch"):
                    st.markdown(f"**{REPLY_LABELS[reply]}**" + ("  · your choice" if mine
                                                                 else ""))
                    st.markdown(REPLIES[reply])
                st.button(f"{REPLY_LABELS[reply]} is better", key=f"bt_pick_{side}",
                          on_click=_pick, args=(current, reply), width="stretch",
                          type="primary" if mine else "secondary",
                          icon=":material/thumb_up:")
        back, progress_bar, forward = st.columns([1, 4, 1], vertical_alignment="center")
        back.button("Previous", key="bt_prev", on_click=_step, args=(-1,), width="stretch",
                    icon=":material/arrow_back:")
        forward.button("Next", key="bt_next", on_click=_step, args=(1,), width="stretch",
                       icon=":material/arrow_forward:")
        progress_bar.progress(len(judged) / len(PAIRS),
                              text=f"You judged {len(judged)} of {len(PAIRS)} pairs (they stay "
                              "in this browser tab)")
    st.markdown("No time to judge them all? Let an example annotator answer every pair, then "
                "change the choices you disagree with.")
    buttons = st.columns(len(ANNOTATORS) + 1)
    for column, (key, (label, _)) in zip(buttons, ANNOTATORS.items(), strict=False):
        column.button(f"Answer as {label}", key=f"bt_fill_{key}", on_click=_fill_judgements,
                      args=(key,), width="stretch", icon=":material/person:")
    buttons[-1].button("Clear my answers", key="bt_fill_clear", on_click=_fill_judgements,
                       args=(None,), width="stretch", icon=":material/restart_alt:")
    raw, _ = _reply_features()
    with st.expander("All six replies, and the five features the reward model sees",
                     icon=":material/visibility:"):
        for row in range(0, len(REPLIES), 3):
            for column, i in zip(st.columns(3), range(row, row + 3), strict=False):
                with column, st.container(border=True, height="stretch"):
                    st.markdown(f"**{REPLY_LABELS[i]}**  \n{REPLIES[i]}")
        st.dataframe(pd.DataFrame(raw, index=list(REPLY_LABELS), columns=list(bt.FEATURES)),
                     width="stretch")
        st.markdown("\n".join(f"- **{name}**: {bt.FEATURE_HELP[name]}"
                              for name in bt.FEATURES))
        st.caption("Before training, each feature is standardised over the six replies (mean 0, "
                   "standard deviation 1), so one learning rate suits every weight.")
    reward_model_view()
    code.show_code(bt.reward_model_loss, bt.fit_reward_model)
    cards.class_mode("Open a room of these basil replies: every student judges pairs on a "
                     "phone, and the projected screen fits the class's Bradley–Terry scores "
                     "as the judgements come in.")
    cards.takeaway(
        "A reward model is Bradley–Terry with the score computed from the reply. It learns "
        "only what its features can express; a real one swaps φ for a language model. DPO "
        "keeps this very loss and uses β·log(π/π_ref) as the reward."
    )


@st.fragment
def reward_model_view() -> None:
    cards.equation_card(
        r"\mathcal{L}(w) = -\frac{1}{m}\sum_{(y_w,\,y_l)} \log \sigma\big(r(y_w) - r(y_l)\big)"
        r" + \tfrac{\lambda}{2}\lVert w\rVert^2, \qquad r(y) = w \cdot \varphi(y)",
        "The reward-model loss: Bradley–Terry's negative log-likelihood of your choices. It is "
        "ln 2 before training and falls as the chosen replies' rewards pull ahead.",
        "RLHF", "Ouyang et al. 2022, Eq. 1",
    )
    one, two, three = st.columns(3)
    with one:
        learning_rate = state.number(LEARNING_RATE, "Learning rate η")
    with two:
        steps = state.number(STEPS, "Gradient steps",
                             help="How long it trains. The charts below replay the run step "
                             "by step (press play, or drag their sliders); they open at the "
                             "last step.")
    with three:
        l2 = float(state.choice(RM_L2, "Weight decay λ", help="Without it, choices that a line "
                                "can separate perfectly push the weights (and the rewards) "
                                "up forever."))
    chosen, rejected = _judgements()
    if not chosen:
        st.info("Judge at least one pair above (or let an example annotator answer) and the "
                "reward model trains on your choices right here.", icon=":material/touch_app:")
        return
    try:
        result = _train(tuple(chosen), tuple(rejected), learning_rate, steps, l2)
        training, weights = training_replays(tuple(chosen), tuple(rejected), learning_rate,
                                             steps, l2)
    except ValueError as error:
        st.error(str(error))
        return
    reproduced = int(result["reproduced"].sum())
    one, two, three = st.columns(3)
    one.metric(f"Your judgements it reproduces after {steps} steps",
               f"{reproduced} of {len(chosen)}")
    two.metric(f"Loss after {steps} steps", f"{result['loss'][-1]:.3f} nats",
               delta=f"{result['loss'][-1] - result['loss'][0]:+.3f} nats",
               delta_description="vs ln 2 (the start)", delta_color="inverse")
    three.metric(f"Top reply after {steps} steps", REPLY_LABELS[int(result["ranking"][0])])
    unjudged = len(PAIRS) - len(chosen)
    explorable.show(
        training, key="bt_training", start=explorable.frame_count(training) - 1,
        caption="Press play to replay the training. The loss starts at ln 2 (all rewards equal: "
        "every choice a coin flip) and falls, while the six replies' rewards spread out into a "
        "ranking. " + (f"It ranks all six, so it also decides the {unjudged} pairs you did "
                       "not judge." if unjudged else "That order is what it would hand on to "
                       "RLHF."))
    explorable.show(
        weights, key="bt_weights", start=explorable.frame_count(weights) - 1,
        caption="Each weight is the reward for one standard deviation (SD) more of a feature. "
        "Green: the reward model learned that you like more of this feature; red-orange: less. "
        "Press play to watch the weights grow from 0 during the same run.")
    missed = [k for k, ok in enumerate(result["reproduced"]) if not ok]
    if missed:
        shown = ", ".join(f"{REPLY_LABELS[chosen[k]]} over {REPLY_LABELS[rejected[k]]}"
                          for k in missed[:6])
        st.caption(
            f"Choices it does not reproduce: {shown}. A reward that adds up five features "
            "cannot follow every taste (and no single score can follow a cycle of choices); "
            "more steps or a larger learning rate may also help."
        )


QUESTIONS = [
    quiz.Numeric(
        qid="prob",
        prompt="Reply A has score 2 and reply B has score 1. What is P(A beats B)?",
        answer=float(bt.win_probability(2.0, 1.0)), tolerance=0.005,
        explanation="σ(2 − 1) = 1 / (1 + e^−1) ≈ 0.731.",
    ),
    quiz.Choice(
        qid="shift",
        prompt="Add 10 to the scores of both replies. What happens to P(A beats B)?",
        options=["It grows towards 1", "It stays the same", "It shrinks towards ½"],
        answer="It stays the same",
        explanation="Bradley–Terry depends only on the gap a − b: e^(a+10)/(e^(a+10)+e^(b+10)) "
        "is the same fraction.",
    ),
    quiz.Numeric(
        qid="elo",
        prompt="In Elo, a 1800 player meets a 1600 player. What is the stronger player's "
        "expected score?",
        answer=float(bt.elo_expected(1800, 1600)), tolerance=0.01,
        explanation="1 / (1 + 10^(−200/400)) ≈ 0.760: only the 200-point gap matters.",
    ),
    quiz.Choice(
        qid="unbeaten",
        prompt="One item won all of its games. What is its maximum-likelihood score?",
        options=["The largest score in the table plus 1", "+∞: no finite score is best",
                 "0, the average"],
        answer="+∞: no finite score is best",
        explanation="Every increase of its score makes its wins likelier, so the likelihood has "
        "no maximum; an L2 prior gives a finite answer.",
    ),
    quiz.Choice(
        qid="cycle",
        prompt="A beat B 8–2, B beat C 8–2, C beat A 8–2. What does the Bradley–Terry fit say?",
        options=["A > B > C", "All three scores are equal", "The fit does not exist"],
        answer="All three scores are equal",
        explanation="By symmetry the best scores are equal, so every pair is predicted 50/50: "
        "one score per item cannot express a cycle, and the G-test flags the misfit.",
    ),
    quiz.Numeric(
        qid="loss",
        prompt="Before training, the reward model gives every reply the same reward. What is "
        "the loss −log σ(r_w − r_l) of one pair, in nats?",
        answer=float(bt.reward_model_loss([0.0], [0.0])), tolerance=0.005,
        explanation="σ(0) = ½ and −ln ½ = ln 2 ≈ 0.693: the loss of a model with no "
        "preference yet.",
    ),
]


def check_yourself() -> None:
    quiz.lesson_check(SLUG, QUESTIONS, 6, takeaway=(
        "Bradley–Terry turns a gap in scores into a win probability, σ(a − b): the same model as "
        "a two-way softmax and as Elo, and fitting it to who-beat-whom data is how a reward model"
        " learns from preferences."))


LESSON_STEPS.show((scores_to_probabilities, softmax_view, elo_view, scores_from_data,
                   annotator_section, check_yourself))
