"""The dice game: from "which die rolled this?" to KL divergence, and when a KL is significant."""

import numpy as np
import streamlit as st

from lessons import information as info
from ui import cards, code, course, explorable, figures, quiz, shared, state, steps
from ui import kl_figures as kf
from ui.state import Param

SLUG = "kl-divergence"
DICE = {**info.DICE, "Fair die": np.full(5, 0.2)}
DIE_NAMES = tuple(info.DICE)
ALL_DICE = tuple(DICE)
FACES = 5

SOURCES = ("The video's sequence", "Roll a new one", "Type the counts")
G_SOURCES = ("The video's 10 rolls", "Roll new ones")
PAIR_PRESETS = {
    "Even P, lopsided Q": ("0.25, 0.25, 0.25, 0.25", "0.97, 0.01, 0.01, 0.01"),
    "Q misses an outcome": ("0.5, 0.3, 0.2", "0.6, 0.4, 0"),
    "P misses an outcome": ("0.6, 0.4, 0", "0.5, 0.3, 0.2"),
    "Die 2 and Die 3": ("0.4, 0.1, 0.2, 0.2, 0.1", "0.1, 0.2, 0.4, 0.2, 0.1"),
}
CUSTOM = "Your own"
SUPPORT = np.arange(41)
BUMP_CENTER, BUMP_WIDTH = 10.0, 3.0
SHAPES = {"Smooth": "normal", "Hard edges": "triangle"}  # label -> lessons shape
SHIFTS = np.arange(0.0, 16.5, 0.5)
P_VALUE_N = np.unique(np.geomspace(1, 20_000, 240).astype(int))

STEPS = steps.Steps("kl", (
    "Which die rolled it?", "Why divide by n?", "From the game to the formula",
    "Entropy, cross-entropy, KL", "KL is not symmetric", "When is a KL significant?",
    "Beyond KL", "Why it matters for LLMs", "Check yourself",
))
UNIT = Param("kl_unit", "bits", options=("bits", "nats"))
SOURCE = Param("kl_source", SOURCES[0], options=SOURCES)
ROLL_DIE = Param("kl_die", "Die 1", options=DIE_NAMES)
ROLL_N = Param("kl_n", 10, lo=1, hi=1000, step=1)
ROLL_SEED = Param("kl_seed", 0, lo=0, hi=9999, step=1)
COUNTS = Param("kl_counts", "4, 2, 1, 1, 2", max_chars=60)
WHY_TRUE = Param("kl_why_true", "Die 1", options=DIE_NAMES)
WHY_MODEL = Param("kl_why_model", "Die 1", options=DIE_NAMES)
WHY_N = Param("kl_why_n", 1000, options=(100, 1000, 5000))
WHY_SEED = Param("kl_why_seed", 0, lo=0, hi=9999, step=1)
LLN_P = Param("kl_lln_p", "Die 2", options=ALL_DICE)
LLN_Q = Param("kl_lln_q", "Die 3", options=ALL_DICE)
LLN_N = Param("kl_lln_n", 2000, lo=10, hi=20000, step=10)
LLN_RUNS = Param("kl_lln_runs", 5, lo=1, hi=20, step=1)
LLN_SEED = Param("kl_lln_seed", 0, lo=0, hi=9999, step=1)
CE_P = Param("kl_ce_p", "Die 1", options=ALL_DICE)
CE_Q = Param("kl_ce_q", "Fair die", options=ALL_DICE)
PRESET = Param("kl_preset", "Even P, lopsided Q", options=(*PAIR_PRESETS, CUSTOM))
P_TEXT = Param("kl_p", PAIR_PRESETS["Even P, lopsided Q"][0], max_chars=120)
Q_TEXT = Param("kl_q", PAIR_PRESETS["Even P, lopsided Q"][1], max_chars=120)
G_SOURCE = Param("kl_g_source", G_SOURCES[0], options=G_SOURCES)
G_MODEL = Param("kl_g_model", "Die 3", options=ALL_DICE)
G_TRUE = Param("kl_g_true", "Die 1", options=ALL_DICE)
G_N = Param("kl_g_n", 10, lo=5, hi=2000, step=5)
G_SEED = Param("kl_g_seed", 0, lo=0, hi=9999, step=1)
SHAPE = Param("kl_shape", "Smooth", options=tuple(SHAPES))
SHIFT = Param("kl_shift", 2.0, lo=0.0, hi=16.0, step=0.5)
# "Predict first" in step 5: which direction of KL is larger for the two distributions?
LARGER = {"pq": "KL(P‖Q)", "qp": "KL(Q‖P)", "equal": "They are equal"}
DIRECTION_GUESS = Param("kl_direction_guess", None, options=tuple(LARGER.values()))

PARAMS = (STEPS.param, UNIT, SOURCE, ROLL_DIE, ROLL_N, ROLL_SEED, COUNTS, WHY_TRUE, WHY_MODEL,
          WHY_N, WHY_SEED, LLN_P, LLN_Q, LLN_N, LLN_RUNS, LLN_SEED, CE_P, CE_Q, PRESET, P_TEXT,
          Q_TEXT, DIRECTION_GUESS, G_SOURCE, G_MODEL, G_TRUE, G_N, G_SEED, SHAPE, SHIFT)


# Cached wrappers: the lessons functions stay pure; the page keeps their results per setting.


@shared.cache_data(max_entries=64)
def rolled_counts(die: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rolls = info.roll_dice(DICE[die], n, seed)
    return rolls, info.face_counts(rolls, FACES)


@shared.cache_data(max_entries=32)
def likelihood_curve(true: str, model: str, n: int, seed: int, unit: str) -> dict:
    return info.likelihood_vs_n(DICE[true], DICE[model], n, seed, base=unit)


@shared.cache_data(max_entries=32)
def why_divide_by_n_figure(true: str, model: str, n: int, seed: int, unit: str) -> dict:
    """Step 2's three panels for these settings, as a plain spec built once and shared."""
    return kf.why_divide_by_n(likelihood_curve(true, model, n, seed, unit), unit,
                              model).to_plotly_json()


@shared.cache_data(max_entries=32)
def running_estimates(p: str, q: str, n: int, runs: int, seed: int, unit: str) -> np.ndarray:
    rolls = np.stack([info.roll_dice(DICE[p], n, seed + r) for r in range(runs)])
    return info.running_average_logratio(rolls, DICE[p], DICE[q], base=unit)


@shared.cache_data(max_entries=32)
def running_replay(p: str, q: str, n: int, runs: int, seed: int, unit: str) -> dict:
    estimates = running_estimates(p, q, n, runs, seed, unit)
    kl = info.kl_divergence(DICE[p], DICE[q], base=unit)
    return kf.running_kl_replay(np.arange(1, n + 1), estimates, kl, unit)


@shared.cache_data(max_entries=32)
def significance(counts: tuple, model: str) -> dict:
    return info.significance(np.array(counts), DICE[model])


@shared.cache_data(max_entries=8)
def shift_explorable(unit: str, shape: str) -> dict:
    curves = info.divergence_curves(SUPPORT, BUMP_CENTER, BUMP_WIDTH, SHIFTS, base=unit,
                                    shape=shape)
    p = info.shifted_distribution(SUPPORT, BUMP_CENTER, BUMP_WIDTH, shape)
    qs = [info.shifted_distribution(SUPPORT, BUMP_CENTER + s, BUMP_WIDTH, shape) for s in SHIFTS]
    return kf.sliding_divergences(SUPPORT, p, qs, curves, unit)


def dice_caption(names) -> None:
    rows = " · ".join(f"**{n}** ({', '.join(f'{p:g}' for p in DICE[n])})" for n in names)
    st.caption(f"Face probabilities for faces 1–5: {rows}")


# The page

st.title("The dice game: KL divergence")
st.markdown(
    "Someone rolled a five-faced die ten times and wrote down the faces. You know the die was "
    "one of three, each loaded differently. Which one was it? Answering that question carefully "
    "leads, step by step, to the formula for **KL divergence**, the distance between "
    "distributions that keeps a fine-tuned language model close to where it started. "
    f"This lesson accompanies *{course.VIDEOS['kl']}* and the KL chapter of *"
    f"{course.VIDEOS['dpo']}*."
)
state.check_link(PARAMS)
unit = state.choice(UNIT, "Units for logs, entropies and divergences",
                    help="Bits use log base 2: one bit answers one yes/no question. Nats use "
                    "the natural log. 1 nat = 1.4427 bits. Every number on this page follows "
                    "this switch.")
per_roll = f"{unit} per roll"


def dice_game(unit: str) -> None:
    st.header("1. Which die rolled the sequence?", divider="gray")
    st.markdown(
        "If the rolls are independent, the probability that a die produces a particular "
        "sequence is the product of its face probabilities, one factor per roll. Faces that came "
        "up several times contribute a power. The die that gives the sequence the highest "
        "probability is the best explanation of it: that is **maximum likelihood**."
    )
    cards.equation_card(
        r"P(\text{sequence}\mid\text{die}) = \prod_{t=1}^{n} p_{x_t} = \prod_{i=1}^{5} "
        r"p_i^{\,c_i}",
        "Multiply one probability per roll; equivalently, raise each face's probability to "
        "the number of times c_i that face came up.",
        "KL",
    )
    dice_caption(DIE_NAMES)
    _dice_game_demo(unit)
    code.show_code(info.exact_sequence_likelihood, info.sequence_log_likelihood,
                   info.average_log_likelihood)
    cards.takeaway("The probability of a sequence is a product. Its log is a sum, and the "
                   "most likely die has the highest log-likelihood.")


@st.fragment
def _dice_game_demo(unit: str) -> None:
    source = state.choice(SOURCE, "The sequence")
    rolled_by = None
    try:
        if source == SOURCES[0]:
            counts = np.array(info.DICE_COUNTS)
            st.markdown("Faces 1, 2, 3, 4, 5 came up **4, 2, 1, 1 and 2** times in ten rolls.")
        elif source == SOURCES[1]:
            left, mid, right = st.columns(3)
            with left:
                rolled_by = state.choice(ROLL_DIE, "Roll with", widget="selectbox")
            with mid:
                n = state.slider(ROLL_N, "Number of rolls n")
            with right:
                seed = state.number(ROLL_SEED, "Random seed", help="The same seed rolls the "
                                    "same sequence; it is part of the shared link.")
            rolls, counts = rolled_counts(rolled_by, n, seed)
            shown = " ".join(str(face + 1) for face in rolls[:60])
            st.markdown(f"Rolled: `{shown}{' …' if n > 60 else ''}`  \nCounts of faces 1–5: "
                        f"**{', '.join(str(int(c)) for c in counts)}**")
        else:
            text = state.text(COUNTS, "How many times did each face 1–5 come up?",
                              help="Five whole numbers separated by commas.")
            counts = np.array(state.parse_numbers(text, "The counts", 5, 5))
        n_rolls = int(counts.sum())
        names = list(DIE_NAMES)
        averages = [info.average_log_likelihood(counts, DICE[d], base=unit) for d in names]
    except ValueError as error:
        st.error(str(error), icon=":material/error:")
        return

    best = names[int(np.argmax(averages))]
    columns = st.columns(3)
    for column, name in zip(columns, names, strict=True):
        probs = DICE[name]
        log_l = info.sequence_log_likelihood(counts, probs, base=unit)
        log10_l = info.sequence_log_likelihood(counts, probs, base=10)
        exact = info.exact_sequence_likelihood(counts, probs)
        with column, st.container(border=True):
            st.markdown(f"**{name}**" + ("  :green-badge[most likely]" if name == best else ""))
            st.latex(kf.likelihood_latex(counts, probs, exact, log10_l))
            st.markdown(f"log = **{figures.fmt(log_l)}** {unit}  \n"
                        f"log ÷ n = **{figures.fmt(log_l / n_rolls)}** {per_roll}")
    figures.show(
        kf.average_loglik_bars(names, averages, unit, best),
        key="kl_game_chart",
        caption=f"With n = {n_rolls} rolls, {best} explains the sequence best (outlined). "
        "Dividing by n does not change which die wins.",
    )
    if rolled_by is not None:
        verdict = "matches" if best == rolled_by else "does not match"
        st.markdown(f"The sequence was rolled with **{rolled_by}**; the most likely die "
                    f"{verdict}. Short sequences can fool maximum likelihood; long ones rarely "
                    "do. Try n = 5, then n = 200.")


def why_divide_by_n(unit: str) -> None:
    st.header("2. Why divide by n?", divider="gray")
    st.markdown(
        "A learner asked why the game takes the *average* log-probability instead of the "
        "probability itself. Roll more and more times and watch: the product of probabilities "
        "collapses towards 0 within a few dozen rolls (and a computer rounds it to exactly 0 "
        "after about a thousand), its log falls without end, but the log divided by n settles "
        "on a number that describes the pair of dice, not the length of the sequence. That "
        "number is what lets us compare sequences of different lengths."
    )
    cards.equation_card(
        r"\frac{1}{n}\log P(\text{sequence}\mid Q) = \sum_{i} \frac{c_i}{n}\log q_i "
        r"\;\xrightarrow[n\to\infty]{}\; \sum_i p_i \log q_i = -\mathrm{CE}(P, Q)",
        "As n grows the share of each face c_i/n approaches its true probability p_i, so the "
        "average log-probability approaches minus the cross-entropy.",
        "KL",
    )
    _why_divide_by_n_demo(unit)
    code.show_code(info.likelihood_vs_n)
    cards.takeaway("Dividing by n turns a number that depends on the sequence's length into "
                   "a per-roll rate, which converges to a property of the two distributions.")


@st.fragment
def _why_divide_by_n_demo(unit: str) -> None:
    left, mid, right, far = st.columns(4)
    with left:
        true = state.choice(WHY_TRUE, "Rolled with (P)", widget="selectbox")
    with mid:
        model = state.choice(WHY_MODEL, "Scored by (Q)", widget="selectbox")
    with right:
        n = state.choice(WHY_N, "Longest sequence n")
    with far:
        seed = state.number(WHY_SEED, "Random seed")
    figures.show(
        why_divide_by_n_figure(true, model, n, seed, unit),
        key="kl_why_chart",
        caption="Top: the product is already tiny after 20 rolls. Middle: its log keeps "
        "falling. Bottom: the average per roll settles at −CE(P, Q), the dashed line.",
    )


def game_to_formula(unit: str) -> None:
    st.header("3. From the game to the formula", divider="gray")
    st.markdown(
        "Now compare the true die P with a candidate Q on the same rolls: average, over the "
        "rolls, the log of how much more likely each roll is under P than under Q. By the law "
        "of large numbers this average converges to its expectation under P, which is the "
        "KL divergence. Several seeds show that every run ends up at the same value."
    )
    cards.equation_card(
        r"\frac{1}{n}\sum_{t=1}^{n}\log\frac{p_{x_t}}{q_{x_t}} \;\xrightarrow[n\to\infty]{}\; "
        r"\mathrm{KL}(P\,\|\,Q) = \sum_i p_i \log\frac{p_i}{q_i}",
        "KL(P‖Q) is the average extra log-likelihood per roll that the true distribution earns "
        "over the candidate, when the data come from P.",
        "KL",
    )
    _game_to_formula_demo(unit)
    code.show_code(info.running_average_logratio, info.kl_divergence)
    cards.takeaway("KL divergence is the dice game played forever: the long-run average "
                   "log-likelihood ratio between the true distribution and a candidate.")


@st.fragment
def _game_to_formula_demo(unit: str) -> None:
    cols = st.columns(5)
    with cols[0]:
        p = state.choice(LLN_P, "True die P", widget="selectbox")
    with cols[1]:
        q = state.choice(LLN_Q, "Candidate Q", widget="selectbox")
    with cols[2]:
        n = state.slider(LLN_N, "Rolls n")
    with cols[3]:
        runs = state.slider(LLN_RUNS, "Runs (seeds)")
    with cols[4]:
        seed = state.number(LLN_SEED, "First seed")
    estimates = running_estimates(p, q, n, runs, seed, unit)
    kl = info.kl_divergence(DICE[p], DICE[q], base=unit)
    replay = running_replay(p, q, n, runs, seed, unit)
    explorable.show(
        replay, key="kl_lln_chart", start=explorable.frame_count(replay) - 1,
        caption=f"Each light blue line is one seeded run up to the slider's n (light grey: the "
        f"rest of it); all of them close in on KL({p}‖{q}) = {figures.fmt(kl)} {unit} (the "
        "dashed black line) as n grows. Press play, or drag the slider under the chart, to "
        "roll the dice again from the first roll.",
    )
    spread = np.ptp(estimates[:, -1]) if runs > 1 else 0.0
    st.markdown(f"After {n} rolls the runs end between **{figures.fmt(estimates[:, -1].min())}** "
                f"and **{figures.fmt(estimates[:, -1].max())}** {per_roll} (a spread of "
                f"{figures.fmt(spread)}); the exact value is **{figures.fmt(kl)}**.")


def entropy_cross_entropy(unit: str) -> None:
    st.header("4. Entropy, cross-entropy and KL", divider="gray")
    st.markdown(
        "A learner asked why we use KL rather than cross-entropy. Split the game's per-roll "
        "score in two. **Entropy** H(P) is the best any model can do on data from P: the "
        f"average surprise, in {unit}, of P's own rolls (in bits, the average number of yes/no "
        "answers an optimal code needs per roll). **Cross-entropy** CE(P, Q) is what you pay "
        "with the model Q instead. **KL** is the extra: zero exactly when Q = P. Cross-entropy "
        "of P with itself is not zero but H(P), so as a distance, KL is the honest one; as a "
        "training loss they differ by H(P), a constant that does not depend on the model, so "
        "minimising either gives the same model."
    )
    cards.equation_card(
        r"\underbrace{-\sum_i p_i\log q_i}_{\mathrm{CE}(P,Q)} = "
        r"\underbrace{-\sum_i p_i\log p_i}_{H(P)} + "
        r"\underbrace{\sum_i p_i\log\frac{p_i}{q_i}}_{\mathrm{KL}(P\|Q)}",
        "The cost of describing P's data with Q is the unavoidable cost H(P) plus the penalty "
        "KL(P‖Q) for using the wrong distribution.",
        "KL",
    )
    _entropy_cross_entropy_demo(unit)
    code.show_code(info.entropy, info.cross_entropy)
    cards.takeaway("CE = H + KL. KL is zero only for a perfect model, which makes it the "
                   "distance; cross-entropy is the same objective shifted by a constant.")


@st.fragment
def _entropy_cross_entropy_demo(unit: str) -> None:
    left, right = st.columns(2)
    with left:
        p = state.choice(CE_P, "P (the data)", widget="selectbox")
    with right:
        q = state.choice(CE_Q, "Q (the model)", widget="selectbox")
    h = info.entropy(DICE[p], base=unit)
    ce = info.cross_entropy(DICE[p], DICE[q], base=unit)
    kl = info.kl_divergence(DICE[p], DICE[q], base=unit)
    a, b, c = st.columns(3)
    a.metric(f"Entropy H({p})", f"{figures.fmt(h)} {unit}")
    b.metric(f"Cross-entropy CE({p}, {q})", f"{figures.fmt(ce)} {unit}",
             delta=f"+{figures.fmt(kl)} {unit}", delta_color="off",
             delta_description="vs H(P)")
    c.metric(f"KL({p}‖{q})", f"{figures.fmt(kl)} {unit}")
    rows = [(q, h, kl), (f"{p} = P", h, 0.0)]
    figures.show(
        kf.decomposition(rows, unit),
        key="kl_ce_chart",
        caption="Both bars start with the same entropy; only the model changes the extra. "
        "With Q = P the extra vanishes and the cross-entropy equals the entropy.",
        height=300,
    )
    other = "nats" if unit == "bits" else "bits"
    st.caption(f"The same entropy in {other}: "
               f"{figures.fmt(info.convert_units(h, unit, other))} {other} "
               "(1 nat = 1/ln 2 ≈ 1.4427 bits).")


def _use_preset() -> None:
    """A new preset brings its own numbers, and a fresh question about them."""
    preset = st.session_state.get(PRESET.key)
    if preset in PAIR_PRESETS:
        st.session_state[P_TEXT.key], st.session_state[Q_TEXT.key] = PAIR_PRESETS[preset]
        st.session_state[DIRECTION_GUESS.key] = None


def _typed_own() -> None:
    st.session_state[PRESET.key] = CUSTOM


def _pair_from_link() -> None:
    """On the first run, make the link's preset and numbers agree: a preset brings its own
    numbers where the link gives none; numbers that are not the preset's make it "Your own"."""
    if any(p.key in st.session_state for p in (PRESET, P_TEXT, Q_TEXT)):
        return
    preset = st.query_params.get(PRESET.key, PRESET.default)
    if preset not in PAIR_PRESETS:
        return  # "Your own", or a bad value that check_link has reported
    linked = []
    for param, own in zip((P_TEXT, Q_TEXT), PAIR_PRESETS[preset], strict=True):
        if param.key in st.query_params:
            linked.append(st.query_params[param.key][:param.max_chars])
        else:
            linked.append(own)
            if own != param.default:
                st.session_state[param.key] = own
    if [t.replace(" ", "") for t in linked] != [t.replace(" ", "") for t in
                                                 PAIR_PRESETS[preset]]:
        st.session_state[PRESET.key] = CUSTOM
        if PRESET.key in st.query_params:  # the selectbox starts from the link as opened
            st.query_params[PRESET.key] = CUSTOM
            state.replace_in_opened_link(PRESET.key, CUSTOM)


def asymmetry(unit: str) -> None:
    st.header("5. KL is not symmetric", divider="gray")
    st.markdown(
        "The three dice of the game are reshufflings of the same five numbers, which makes "
        "their KL divergences come out nearly symmetric. That is a coincidence. In general "
        "KL(P‖Q) and KL(Q‖P) differ, sometimes enormously: KL(P‖Q) punishes Q for giving low "
        "probability to outcomes that P produces often, and is **infinite** if Q calls "
        "impossible something P can do. Edit the two distributions (2 to 10 outcomes; any "
        "non-negative weights, which are rescaled to add up to 1; zeros allowed)."
    )
    cards.equation_card(
        r"\mathrm{KL}(P\,\|\,Q) = \sum_i p_i\log\frac{p_i}{q_i} \;\neq\; "
        r"\mathrm{KL}(Q\,\|\,P) = \sum_i q_i\log\frac{q_i}{p_i}",
        "Each direction weighs the log-ratio by a different distribution, so they answer "
        "different questions.",
        "KL",
    )
    _asymmetry_demo(unit)
    code.show_code(info.kl_terms, info.kl_both_ways)
    cards.takeaway("KL is a divergence, not a distance: swap the arguments and the value "
                   "changes. Which direction to use is a modelling choice; RLHF and DPO "
                   "penalise KL(π‖π_ref), measured on the fine-tuned model's own outputs.")


@st.fragment
def _asymmetry_demo(unit: str) -> None:
    _pair_from_link()
    state.choice(PRESET, "Start from", widget="selectbox", on_change=_use_preset)
    left, right = st.columns(2)
    with left:
        p_text = state.text(P_TEXT, "P: weights separated by commas", on_change=_typed_own)
    with right:
        q_text = state.text(Q_TEXT, "Q: weights separated by commas", on_change=_typed_own)
    try:
        p_raw = state.parse_numbers(p_text, "P", 2, 10)
        q_raw = state.parse_numbers(q_text, "Q", 2, 10)
        if len(p_raw) != len(q_raw):
            raise ValueError(f"P has {len(p_raw)} outcomes but Q has {len(q_raw)}: give both "
                             "the same number of weights.")
        p, p_changed = info.renormalised(p_raw, name="P")
        q, q_changed = info.renormalised(q_raw, name="Q")
        both = info.kl_both_ways(p, q, base=unit)
    except ValueError as error:
        st.error(str(error), icon=":material/error:")
        return
    for name, changed, values in (("P", p_changed, p), ("Q", q_changed, q)):
        if changed:
            st.caption(f"{name}'s weights did not add up to 1, so they were rescaled to "
                       f"({', '.join(f'{v:.3g}' for v in values)}).")
    figures.show(kf.pair_bars(p, q), key="kl_pair_chart",
                 caption="The two distributions you typed, after rescaling: P's bar on the "
                 "left of each outcome, Q's on the right.")
    kl_pq, kl_qp = both["kl_pq"], both["kl_qp"]
    if not cards.predict(
        DIRECTION_GUESS, "Look at the two distributions above. Which direction is larger?",
        LARGER[both["larger"]],
        f"KL(P‖Q) = {figures.fmt(kl_pq)} and KL(Q‖P) = {figures.fmt(kl_qp)} {unit}. Each "
        "direction weighs the log-ratio by its first distribution, so it is large where "
        "that one is likely and the other is not.",
    ):
        return
    a, b = st.columns(2)
    a.metric("KL(P‖Q)", f"{figures.fmt(kl_pq)} {unit}")
    b.metric("KL(Q‖P)", f"{figures.fmt(kl_qp)} {unit}")
    for name, value, first, second, infinite in (
            ("KL(P‖Q)", kl_pq, "Q", "P", both["infinite_pq"]),
            ("KL(Q‖P)", kl_qp, "P", "Q", both["infinite_qp"])):
        if np.isinf(value):
            where = ", ".join(str(i + 1) for i in infinite)
            st.warning(
                f"{name} is infinite: {first} gives probability 0 to outcome {where}, which "
                f"{second} produces. One such roll makes {first}'s likelihood exactly 0, so "
                f"the log-likelihood ratio is unbounded. (The other direction is finite: "
                f"outcomes with zero probability under the weighting distribution add "
                "nothing.)",
                icon=":material/all_inclusive:",
            )
    figures.show(kf.contributions(both["terms_pq"], both["terms_qp"], unit),
                 key="kl_terms_chart",
                 caption="Each outcome's term of the two sums: KL(P‖Q)'s on the left (blue), "
                 "KL(Q‖P)'s on the right (orange); they add up to the two KL values above. An ∞ "
                 "stands where a term is infinite.")


def threshold(unit: str) -> None:
    st.header("6. Is there a threshold for “significantly different”?", divider="gray")
    st.markdown(
        "A learner asked whether some standard KL value means two distributions are "
        "significantly different. No single value does, because evidence grows with the "
        "amount of data. The **G-test** makes this precise: roll n times, compare the "
        "observed frequencies with the model, and 2·n·KL (in nats) is approximately "
        "chi-square distributed with k − 1 degrees of freedom if the model is right. A small "
        "p-value means data this far from the model would be rare if the model were true."
    )
    cards.equation_card(
        r"G = 2\,n\,\mathrm{KL}_{\text{nats}}(\hat P\,\|\,Q) \;\approx\; \chi^2_{k-1},"
        r"\qquad p = \Pr\left[\chi^2_{k-1} \ge G\right]",
        "Twice the number of rolls times the KL between what was rolled and the model; the "
        "p-value is the chance of a G at least this large if the model is right.",
        "KL",
    )
    _threshold_demo(unit)
    code.show_code(info.g_test, info.significance, info.multinomial_p_value)
    cards.takeaway("There is no universal KL threshold. With enough data any non-zero KL is "
                   "significant, and with little data even a large one is not: the G-test "
                   "turns KL and n into a p-value.")


@st.fragment
def _threshold_demo(unit: str) -> None:
    source = state.choice(G_SOURCE, "Data")
    cols = st.columns(4)
    with cols[0]:
        model = state.choice(G_MODEL, "Model die to test", widget="selectbox")
    try:
        if source == G_SOURCES[0]:
            counts = np.array(info.DICE_COUNTS)
        else:
            with cols[1]:
                true = state.choice(G_TRUE, "Rolled with", widget="selectbox")
            with cols[2]:
                n = state.slider(G_N, "Rolls n")
            with cols[3]:
                seed = state.number(G_SEED, "Random seed")
            counts = rolled_counts(true, n, seed)[1]
        n = int(counts.sum())
        empirical = info.normalise(counts)
        kl_nats = info.kl_divergence(empirical, DICE[model], base="nats")
        test = significance(tuple(int(x) for x in counts), model)
        curve = info.p_value_for_kl(kl_nats, P_VALUE_N, FACES)
    except ValueError as error:
        st.error(str(error), icon=":material/error:")
        return
    exact = test["exact"]
    alpha = kf.p_value_text(test["alpha"])
    a, b, c, d = st.columns(4)
    a.metric("Rolls n", n)
    b.metric("KL(observed‖model)", f"{figures.fmt(info.convert_units(kl_nats, 'nats', unit))} "
             f"{unit}")
    c.metric("G = 2·n·KL (nats)", figures.fmt(test["G"]))
    d.metric("p-value (χ², 4 d.o.f.)", kf.p_value_text(test["chi2_p_value"]))
    if exact is not None:
        method = "exact" if exact["method"] == "exact" else "simulated"
        how = ("summing the multinomial probability of every possible count vector "
               f"({exact['n_count_vectors']:,} of them)" if method == "exact" else
               f"{exact['n_samples']:,} simulated experiments (± "
               f"{figures.fmt(exact['standard_error'])})")
        st.warning(
            f"Some expected counts are small (the smallest, n·q, is {test['min_expected']:.1f}; "
            "the usual rule of thumb wants at least 5), so the chi-square approximation is "
            f"poor here. Without it, by {how}, the p-value is "
            f"**{kf.p_value_text(exact['p_value'])}** instead of "
            f"{kf.p_value_text(test['chi2_p_value'])}: the verdict below uses that one.",
            icon=":material/warning:",
        )
        st.metric(f"p-value ({method}, no χ²)", kf.p_value_text(exact["p_value"]),
                  delta=f"{exact['p_value'] - test['chi2_p_value']:+.2g}", delta_color="off",
                  delta_description="vs the χ² p-value")
    else:
        method = "χ²"
    shown = f"{method} p = {kf.p_value_text(test['p_value'])}"
    counts_text = ", ".join(str(int(x)) for x in counts)
    if test["rare"]:
        verdict = (f"would be rare under {model} ({shown} < {alpha}): evidence that the die "
                   f"is not {model}")
    else:
        verdict = (f"are compatible with {model} ({shown} ≥ {alpha}): no evidence against "
                   "it, which is not proof that it is right")
    st.markdown(f"**Verdict.** The observed counts **{counts_text}** {verdict}.")
    left, right = st.columns(2)
    with left:
        figures.show(kf.empirical_vs_model(empirical, DICE[model], n * DICE[model]),
                     key="kl_g_counts_chart",
                     caption="Observed frequencies (blue, left) against the model's "
                     "probabilities (orange, right); hover for the expected counts n·q.")
    with right:
        kl_shown = figures.fmt(info.convert_units(kl_nats, "nats", unit))
        figures.show(kf.p_value_vs_n(P_VALUE_N, curve, n, test["chi2_p_value"],
                                     None if exact is None else (exact["p_value"], method)),
                     key="kl_g_curve_chart",
                     caption=f"Keep this KL ({kl_shown} {unit}) fixed and add rolls: the "
                     "χ² p-value drops below 0.05 once n is large enough. Significance is about "
                     "KL and n together."
                     + ("" if exact is None else " The diamond is your rolls' p-value without "
                        "the approximation."))


def beyond_kl(unit: str) -> None:
    st.header("7. Beyond KL: Jensen–Shannon, total variation, Wasserstein", divider="gray")
    st.markdown(
        "A learner asked about the Wasserstein or earth mover's distance. Slide Q away from "
        "P. KL compares probabilities outcome by outcome: with smooth bumps it grows with the "
        "*square* of the shift, and with hard-edged bumps it is infinite as soon as Q puts "
        "zero probability anywhere P does not. Jensen–Shannon (JS) and total variation (TV) "
        "stay finite but stop growing once the bumps no longer overlap: they say “completely "
        "different” and nothing more. **Wasserstein** measures how far probability mass has "
        "to travel, so it grows in step with the distance."
    )
    cards.equation_card(
        r"W_1(P,Q) = \int \left|F_P(x) - F_Q(x)\right|\,dx,\qquad "
        r"\mathrm{JS}(P,Q) = \tfrac12\mathrm{KL}(P\|M) + \tfrac12\mathrm{KL}(Q\|M),\;"
        r"M=\tfrac{P+Q}{2}",
        "Wasserstein: the area between the two cumulative distributions, i.e. mass times "
        "distance moved. Jensen–Shannon: KL of each to their average, which is never infinite.",
        "KL",
    )
    shape = SHAPES[state.choice(SHAPE, "Shape of the bumps",
                                help="Smooth: discretised normal curves, never exactly zero. "
                                "Hard edges: triangles that are zero away from their centre.")]
    _beyond_kl_demo(unit, shape)
    code.show_code(info.wasserstein, info.js_divergence, info.total_variation)
    cards.takeaway("KL is sensitive to where probabilities are zero; Wasserstein to how far "
                   "mass is apart. Choose the measure that matches the question.")


@st.fragment
def _beyond_kl_demo(unit: str, shape: str) -> None:
    shift = state.slider(SHIFT, "Shift of Q to the right (positions)",
                         help="Sets where the chart opens, and goes into the shared link. "
                         "The slider under the chart moves Q at once.")
    explorable.show(
        shift_explorable(unit, shape), key="kl_shift_chart",
        start=explorable.nearest(SHIFTS, shift),
        caption="Top: P (blue) stays put while Q (orange) slides; the overlap shrinks as the "
        "shift grows. Bottom: each measure against the shift, with a dot on each curve and a "
        "dotted line at Q's shift now (shaded where KL is infinite). KL grows ever faster "
        "(smooth bumps) or jumps to ∞ (hard edges); JS and TV flatten at their maximum; "
        "Wasserstein grows in step with the shift. Drag the slider under the chart to move Q.",
    )


def why_it_matters() -> None:
    st.header("8. Why this matters for language models", divider="gray")
    st.markdown(
        "A language model is a distribution over next words, and over whole replies. When we "
        "fine-tune it with human preferences, we want it to change *just enough*: become more "
        "helpful without drifting into text the original model would never write. RLHF and "
        "DPO both measure that drift with the KL divergence between the fine-tuned model π "
        "and the reference model π_ref, and trade it off against reward with a weight β. "
        "Everything on this page, the log-ratios, the averages and the asymmetry, reappears "
        "there with replies in place of dice rolls."
    )
    for slug in ("rlhf", "dpo"):
        for lesson in course.LESSONS:
            if lesson.slug == slug:
                st.page_link(lesson.page, label=lesson.title, icon=lesson.icon)
    cards.takeaway("Fine-tuning with preferences is a tug of war between reward and "
                   "KL(π‖π_ref): the dice game's average log-ratio, with replies for rolls, "
                   "keeps the model close to where it started.")


QUESTIONS = [
    quiz.Numeric(
        qid="kl13", prompt="Compute KL(Die 1‖Die 3). Die 1 = (0.4, 0.2, 0.1, 0.1, "
        "0.2), Die 3 = (0.1, 0.2, 0.4, 0.2, 0.1).", answer=0.7, tolerance=0.01, unit="bits",
        explanation="0.4·log₂4 + 0.2·log₂1 + 0.1·log₂¼ + 0.1·log₂½ + 0.2·log₂2 = 0.8 + 0 − 0.2 "
        "− 0.1 + 0.2 = 0.7 bits.",
    ),
    quiz.Choice(
        qid="direction", prompt="P = (0.5, 0.5) and Q = (0.9, 0.1). Which is larger?",
        options=["KL(P‖Q)", "KL(Q‖P)", "They are equal"], answer="KL(P‖Q)",
        explanation="KL(P‖Q) ≈ 0.74 bits and KL(Q‖P) ≈ 0.53 bits: P often produces the "
        "outcome that Q thinks is rare (0.1), and KL(P‖Q) weighs that by P's 0.5.",
    ),
    quiz.Choice(
        qid="divide", prompt="Why does the dice game divide the log-probability by n?",
        options=["To turn it into a per-roll rate that does not shrink with the sequence's "
                 "length", "Because logs of probabilities must be between 0 and 1",
                 "To change which die is the most likely"],
        answer="To turn it into a per-roll rate that does not shrink with the sequence's "
        "length",
        explanation="The log-probability of a sequence keeps falling as it grows; the average "
        "per roll converges to −CE(P, Q), a property of the dice. Dividing by the same n never "
        "changes which die wins.",
    ),
    quiz.Numeric(
        qid="ce_self", prompt="What is the cross-entropy CE(P, P) of a fair four-sided die "
        "with itself?", answer=2.0, tolerance=0.01, unit="bits",
        explanation="CE(P, P) = H(P) = log₂4 = 2 bits, not 0. KL(P‖P) is the quantity that is "
        "0, which is why KL, not cross-entropy, measures the gap between distributions.",
    ),
    quiz.Choice(
        qid="g_test", prompt="The KL between observed frequencies and a model stays the same "
        "while you collect 10 times more rolls. What happens to the G-test's p-value?",
        options=["It gets smaller", "It stays the same", "It gets larger"],
        answer="It gets smaller",
        explanation="G = 2·n·KL grows with n, so the same gap becomes stronger evidence "
        "against the model: significance depends on KL and n together.",
    ),
]


def check_yourself() -> None:
    quiz.lesson_check(SLUG, QUESTIONS, 9, takeaway=(
        "KL(P‖Q) is the average log-ratio of P's probabilities to Q's, weighed by P: the evidence"
        " per roll that P, not Q, rolled the dice. It is 0 only when the two agree, it is not "
        "symmetric, and 2·n·KL tells whether a gap is more than chance."))


STEPS.show((
    lambda: dice_game(unit), lambda: why_divide_by_n(unit), lambda: game_to_formula(unit),
    lambda: entropy_cross_entropy(unit), lambda: asymmetry(unit), lambda: threshold(unit),
    lambda: beyond_kl(unit), why_it_matters, check_yourself,
))
