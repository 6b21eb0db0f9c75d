"""An LLM is a policy: a tiny language model read in full, token by token, with a hidden taste."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from lessons import toy_lm as lm
from ui import cards, code, course, explorable, quiz, shared, state, steps
from ui import toy_llm_figures as tf
from ui.figures import fmt, show
from ui.state import Param

SLUG = "toy-llm"
TASK = lm.make_task()
PROMPTS = TASK.prompts
TOKENS = TASK.tokens

OPTIMUM_TOP = 8  # the optimum chart shows every reply among π*'s 8 likeliest at some β
TEMPERED_TOP = 20  # replies drawn one by one in the temperature chart (the rest as one bar)
# The temperature chart's grid: steps of about 10 % below T = 1 (where the distribution changes
# fastest), then every value of the page's temperature control, so a link opens on its frame.
TEMPERATURES = (0.1, 0.11, 0.12, 0.14, 0.16, 0.18, 0.2, 0.22, 0.25, 0.27, 0.3, 0.33, 0.36,
                0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9,
                *(float(round(t, 1)) for t in np.arange(1.0, 3.01, 0.1)))
# The optimum chart's grid of β: steps of 10–25 %, every choice of the page's β control on it.
OPTIMUM_BETAS = (0.1, 0.12, 0.14, 0.16, 0.18, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7,
                 0.8, 0.9, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0,
                 7.0, 8.0, 9.0, 10.0)
NOISE_GRID = np.round(np.arange(0.0, 3.01, 0.1), 2)
BETAS = ("0.3", "1", "3", "10")  # strings: the link shows them as they are
NOISES = ("0", "0.5", "1", "2", "3")
SHOWN_PAIRS_MAX = 40
ENTROPY_TRENDS = ("Up", "Down", "Stays the same")  # the options of step 3's prediction

STEPS = steps.Steps("lm", (
    "A tiny language model",
    "Write a reply token by token",
    "Sampling with a temperature",
    "The policy view",
    "A hidden human taste",
    "Preference pairs",
    "Where fine-tuning is headed",
    "Check yourself",
))

TREE_PROMPT = Param("lm_tree_prompt", PROMPTS[0], options=PROMPTS)
PROMPT = Param("lm_prompt", PROMPTS[0], options=PROMPTS)
REPLY = Param("lm_reply", "really great", max_chars=60)
TEMP_PROMPT = Param("lm_temp_prompt", PROMPTS[0], options=PROMPTS)
TEMPERATURE = Param("lm_temp", 1.0, lo=0.1, hi=3.0, step=0.1)
TEMP_GUESS = Param("lm_temp_guess", None, options=ENTROPY_TRENDS)
N_SAMPLES = Param("lm_n", 8, lo=1, hi=50, step=1)
SEED = Param("lm_seed", 0, lo=0, hi=9999, step=1)
EP_PROMPT = Param("lm_ep_prompt", PROMPTS[0], options=PROMPTS)
EP_SEED = Param("lm_ep_seed", 3, lo=0, hi=9999, step=1)
TASTE_REPLY = Param("lm_taste_reply", "great great great", max_chars=60)
TASTE_PROMPT = Param("lm_taste_prompt", PROMPTS[0], options=PROMPTS)
NOISE = Param("lm_noise", "1", options=NOISES)
N_PAIRS = Param("lm_pairs", 8, lo=1, hi=SHOWN_PAIRS_MAX, step=1)
PAIR_SEED = Param("lm_pair_seed", 1, lo=0, hi=9999, step=1)
BETA = Param("lm_beta", "1", options=BETAS)
OPT_PROMPT = Param("lm_opt_prompt", PROMPTS[0], options=PROMPTS)

PARAMS = (STEPS.param, TREE_PROMPT, PROMPT, REPLY, TEMP_PROMPT, TEMPERATURE, TEMP_GUESS,
          N_SAMPLES, SEED, EP_PROMPT, EP_SEED, TASTE_REPLY, TASTE_PROMPT, NOISE, N_PAIRS,
          PAIR_SEED, BETA, OPT_PROMPT)


# Page-side caches: the lessons functions stay pure


@shared.cache_data(max_entries=4, show_spinner=False)
def _tree(prompt: int) -> dict:
    return lm.prefix_tree(TASK, TASK.ref_logits, prompt)


@shared.cache_data(max_entries=4, show_spinner=False)
def _tree_figure(prompt: int, text: str) -> dict:
    """The sunburst of prompt number ``prompt`` (``text``) as a plain spec, built once."""
    return tf.prefix_tree(_tree(prompt), text, TASK.max_words).to_plotly_json()


@shared.cache_data(max_entries=len(PROMPTS), show_spinner=False)
def temperature_explorable(prompt: int) -> dict:
    tempered = np.stack([lm.distribution(TASK, TASK.ref_logits, t)[prompt]
                         for t in TEMPERATURES])
    best = [int(lm.most_likely(row, 1)[0]) for row in tempered]
    return tf.tempering(TEMPERATURES, TASK.texts, lm.most_likely(TASK.ref_probs[prompt],
                                                                 TEMPERED_TOP),
                        TASK.ref_probs[prompt], tempered, best, lm.entropy(tempered),
                        PROMPTS[prompt])


@shared.cache_data(max_entries=len(PROMPTS), show_spinner=False)
def entropy_trend(prompt: int) -> str:
    """Step 3's answer: does the replies' entropy rise or fall from T = 1 to the hottest T?"""
    hot, trained = (lm.entropy(lm.distribution(TASK, TASK.ref_logits, t)[prompt])
                    for t in (TEMPERATURES[-1], 1.0))
    return ENTROPY_TRENDS[0] if hot > trained else ENTROPY_TRENDS[1] if hot < trained \
        else ENTROPY_TRENDS[2]


@shared.cache_data(max_entries=1, show_spinner=False)
def _accuracy_curve() -> np.ndarray:
    return lm.label_accuracy(TASK, NOISE_GRID)


@shared.cache_data(max_entries=64, show_spinner=False)
def _accuracy(noise: float) -> float:
    return lm.label_accuracy(TASK, noise)


@shared.cache_data(max_entries=16, show_spinner=False)
def _pairs(n: int, seed: int, noise: float) -> dict:
    return lm.preference_pairs(TASK, n, seed, noise)


@shared.cache_data(max_entries=len(PROMPTS), show_spinner=False)
def optimum_explorable(prompt: int) -> dict:
    p = slice(prompt, prompt + 1)
    rewards, ref = TASK.true_rewards[prompt], TASK.ref_probs[prompt]
    optima = [lm.optimum(TASK, beta) for beta in OPTIMUM_BETAS]
    stars = np.stack([star[prompt] for star in optima])
    shown = sorted({int(s) for star in stars for s in lm.most_likely(star, OPTIMUM_TOP)},
                   key=lambda s: (-rewards[s], -ref[s]))
    return tf.reweighting(
        OPTIMUM_BETAS, TASK.texts, shown, rewards, ref, stars,
        best=[int(lm.most_likely(star, 1)[0]) for star in stars],
        expected=np.array([lm.expected_reward(star[p], TASK.true_rewards[p]) for star in optima]),
        kl=np.array([lm.exact_kl(star[p], TASK.ref_probs[p]) for star in optima]),
        entropy=lm.entropy(stars), ref_expected=lm.expected_reward(TASK.ref_probs[p],
                                                                   TASK.true_rewards[p]),
        prompt=PROMPTS[prompt])


def _prompt_index(prompt: str) -> int:
    return PROMPTS.index(prompt)


def _quoted(text: str) -> str:
    return f"“{text}”"


# The reply builder's buttons change the URL-bound text box before the page reruns


def _reply_state() -> tuple[tuple[int, ...], bool]:
    """(word ids, finished) of the reply in the text box; ValueError if it is not one."""
    text = st.session_state.get(REPLY.key, REPLY.default)
    words = lm.parse_reply(TASK, text)
    ended = text.strip().endswith(lm.END)
    if ended and not words:
        raise ValueError("A reply needs at least one word before the end token “.”.")
    return words, ended or len(words) == TASK.max_words


def _set_reply(words: tuple[int, ...], finished: bool) -> None:
    st.session_state[REPLY.key] = lm.reply_text(words, TASK.max_words) if finished and words \
        else " ".join(TASK.words[w] for w in words)


def _add(token: int) -> None:
    try:
        words, finished = _reply_state()
    except ValueError:
        words, finished = (), False
    if finished:
        return
    if token == len(TASK.words):
        _set_reply(words, bool(words))
    else:
        _set_reply(words + (token,), len(words) + 1 == TASK.max_words)


def _undo() -> None:
    try:
        words, finished = _reply_state()
    except ValueError:
        words, finished = (), False
    _set_reply(words if finished and len(words) < TASK.max_words else words[:-1], False)


def _clear() -> None:
    st.session_state[REPLY.key] = ""


# The page

st.title("An LLM is a policy")
state.check_link(PARAMS)
st.markdown(
    "A large language model writes one token at a time: it looks at the text so far and gives "
    "every possible next token a probability. That makes it a **policy** in the sense of "
    "reinforcement learning, and that is why RLHF, PPO and DPO can fine-tune it. This lesson "
    "opens up a language model small enough to read in full: seven words, replies of at most "
    "three of them, and every probability on screen. The lessons on RLHF and DPO fine-tune this "
    "very model."
)
st.caption(f"Accompanies the “LLMs” part of *{course.VIDEOS['rlhf']}* by "
           f"{course.SERIES_AUTHOR}.")


# 1. The model


def tiny_model() -> None:
    st.header("1. A tiny language model", divider="gray")
    st.markdown(
        f"The model finishes a short review. It sees one of two prompts, {_quoted(PROMPTS[0])} "
        f"or {_quoted(PROMPTS[1])}, and writes up to {TASK.max_words} words from a vocabulary "
        f"of {len(TASK.words)}, then the end token “.”. That is all it can say: "
        f"{len(TASK.words)} + {len(TASK.words)}² + {len(TASK.words)}³ = **{TASK.n_replies}** "
        "different replies per prompt, so every probability on these pages is an exact sum, "
        "never a guess from samples."
    )
    st.markdown("Vocabulary: " + " ".join(f"`{t}`" for t in TOKENS))
    st.markdown(
        "This is the **reference model**, the starting point of fine-tuning (in a real pipeline, "
        "the model after supervised fine-tuning, “SFT”). It is fluent: after *really* comes a "
        "strong word, after a sentiment word usually the end. But nobody has told it what "
        "people like, so it says *awful* about as readily as *great*."
    )
    _tree_demo()
    code.show_code(lm.prefix_tree)
    cards.takeaway("A language model is a tree of choices: each branch is a next token with "
                   "its probability, and each reply is one path from the prompt to an end.")


@st.fragment
def _tree_demo() -> None:
    prompt = state.choice(TREE_PROMPT, "Prompt")
    show(_tree_figure(_prompt_index(prompt), prompt), key="lm_tree_chart", height=560,
         caption="Inner ring: the first word; outer rings: what follows. A sector's size is the "
         "probability of that prefix; black sectors are the end token. Click a sector to zoom "
         "in, the centre to zoom out; hover for the numbers.")
    ranked = lm.most_likely(TASK.ref_probs[_prompt_index(prompt)], 8)
    st.markdown("Most likely replies: " + " · ".join(
        f"*{TASK.texts[s]}* ({TASK.ref_probs[_prompt_index(prompt), s]:.3f})" for s in ranked))


# 2. The chain rule, one token at a time


def token_by_token() -> None:
    st.header("2. Write a reply token by token", divider="gray")
    st.markdown(
        "Build a reply yourself: pick the next token with the buttons (or type the reply) and "
        "watch the model's probability for each choice. The probability of the whole reply is "
        "the product of the probabilities of its tokens, so its log is a **sum**: that running "
        "sum is what training code calls the reply's log-probability, `logps`."
    )
    cards.equation_card(
        r"\pi(y \mid x) = \prod_{t=1}^{T} \pi(y_t \mid x, y_{<t}), \qquad "
        r"\log \pi(y \mid x) = \sum_{t=1}^{T} \log \pi(y_t \mid x, y_{<t})",
        "The chain rule: the probability of a reply y after the prompt x is the product of the "
        "next-token probabilities along its path; its log is their sum.",
        "LM",
    )
    _builder_demo()
    code.show_code(lm.decision_steps, lm.sequence_logprobs)
    cards.takeaway("log π(y|x) is a sum over the reply's tokens. Every method in this course "
                   "(RLHF's KL penalty, PPO's ratio, DPO's loss) is built from these sums.")


@st.fragment
def _builder_demo() -> None:
    prompt = state.choice(PROMPT, "Prompt")
    state.text(REPLY, "The reply so far (words separated by spaces; end it with a “.”)")
    try:
        words, finished = _reply_state()
    except ValueError as error:
        st.error(str(error), icon=":material/error:")
        st.button("Start over", key="lm_clear", on_click=_clear, icon=":material/restart_alt:")
        return
    if not finished:
        st.caption("Next token:" if words else "First word:")
        columns = st.columns(len(TOKENS))
        for i, (column, token) in enumerate(zip(columns, TOKENS, strict=True)):
            if i < len(TASK.words) or words:  # a reply cannot start with the end token
                column.button(tf.token_label(token), key=f"lm_add_{i}", on_click=_add,
                              args=(i,), width="stretch")
    if words:
        left, right, _ = st.columns([1, 1, 4])
        left.button("Undo", key="lm_undo", on_click=_undo, width="stretch",
                    icon=":material/undo:")
        right.button("Start over", key="lm_clear", on_click=_clear, width="stretch",
                     icon=":material/restart_alt:")
    p = _prompt_index(prompt)
    walk = lm.decision_steps(TASK, TASK.ref_logits, p, words, finished)
    text = lm.reply_text(words, TASK.max_words) if finished else " ".join(
        TASK.words[w] for w in words)
    prob = walk["total_prob"]
    one, two, three = st.columns(3)
    one.metric("Tokens so far", len(walk["token"]))
    two.metric("log π (sum of the log-probs)", f"{walk['total_logprob']:.3f} nats")
    three.metric("π = e^sum", f"{prob:.4f}" if prob >= 1e-4 else f"{prob:.2e}")
    if finished:
        st.success(f"Finished: *{prompt} {text}* has probability {prob:.4f} under the "
                   "reference model.", icon=":material/check_circle:")
        show(tf.reply_token_bars(walk["token"], walk["prob"]), key="lm_builder_chart",
             caption="Multiply these bars and you get the probability of the whole reply; add "
             "their logs and you get its log-probability.")
    else:
        context = f"{prompt} {text}".strip()
        show(tf.next_token_bars(TOKENS, walk["next_probs"], context), key="lm_builder_chart",
             caption="The model's next-token distribution at this point of the tree: the "
             "bars add up to 1. Pick one with the buttons above.")
    if walk["token"]:
        st.dataframe(pd.DataFrame({
            "text so far (the state)": walk["context"],
            "next token": [tf.token_label(t) for t in walk["token"]],
            "π(token | text so far)": [f"{q:.3f}" for q in walk["prob"]],
            "log π": [f"{v:.3f}" for v in walk["logprob"]],
            "running sum of log π": [f"{v:.3f}" for v in walk["cumulative"]],
        }), hide_index=True, width="stretch")


# 3. Sampling with a temperature


def sampling() -> None:
    st.header("3. Sampling with a temperature", divider="gray")
    st.markdown(
        "To write, the model **samples**: at every step it draws the next token from its "
        "distribution. A temperature T divides the logits before the softmax; T = 1 is the "
        "model as trained. The **entropy** of the replies measures how spread out the model's "
        "choices are: 0 nats when it always writes the same reply, the most when every reply "
        "is equally likely."
    )
    cards.equation_card(
        r"\pi_T(a \mid s) = \frac{e^{z_a / T}}{\sum_b e^{z_b / T}}, \qquad "
        r"\pi_T(y \mid x) = \prod_t \pi_T(y_t \mid x, y_{<t})",
        "Each next-token softmax is taken of the logits z divided by T; the reply's probability "
        "is still the product along its path.",
        "LM",
    )
    prompt = state.choice(TEMP_PROMPT, "Prompt")
    if cards.predict(
            TEMP_GUESS, "When the temperature T goes up, does the entropy of the replies go "
            "up or down?", answer=entropy_trend(_prompt_index(prompt)),
            why="Dividing the logits by a larger T flattens every next-token softmax: rare, "
            "odd replies turn up and the entropy climbs towards its maximum. Below 1 the likely "
            "get likelier, until the model always says the same thing."):
        _sampling_demo(prompt)
        _samples_demo()
    code.show_code(lm.next_token_logprobs, lm.sample)
    cards.takeaway("The same model writes differently at different temperatures. Training "
                   "always uses T = 1: the temperature is a choice made when sampling.")


@st.fragment
def _sampling_demo(prompt: str) -> None:
    temperature = state.slider(
        TEMPERATURE, "Temperature T",
        help="The slider under the chart changes the temperature at once. This one sets the "
        "temperature the chart opens at and the samples below use, and it goes into the "
        "shared link.")
    explorable.show(
        temperature_explorable(_prompt_index(prompt)), key="lm_temp_chart",
        start=explorable.nearest(TEMPERATURES, temperature),
        caption="Pink: the probability of each reply at the temperature of the slider under "
        "the chart; grey ticks: the model as trained (T = 1). Below 1 the top replies grow "
        "until one takes almost everything; above 1 the probability spreads out to the "
        f"{TASK.n_replies - TEMPERED_TOP} other replies (the striped bar). Bottom: the entropy "
        f"of all {TASK.n_replies} replies, from 0 (the model always writes the same reply) "
        f"towards ln {TASK.n_replies} (every reply equally likely); the dot is the slider's T.")


@st.fragment
def _samples_demo() -> None:
    st.markdown("**Let it write.** Sample replies at the temperature set with the control "
                "above the chart.")
    a, b, c = st.columns([2, 2, 1], vertical_alignment="bottom")
    with a:
        n = state.number(N_SAMPLES, "How many replies to sample")
    with b:
        seed = state.number(SEED, "Random seed", help="The same seed draws the same replies; "
                            "it is part of the shared link.")
    c.button("Sample", key="lm_draw", icon=":material/casino:", width="stretch",
             help="Draw again at the temperature the control above the chart shows now.")
    temperature = float(st.session_state.get(TEMPERATURE.key, TEMPERATURE.default))
    prompt = st.session_state.get(TEMP_PROMPT.key, TEMP_PROMPT.default)
    _, replies = lm.sample(TASK, TASK.ref_logits, int(n), int(seed), temperature,
                           _prompt_index(prompt))
    st.markdown(f"*{prompt}* … sampled at T = {temperature:g}: " + " · ".join(
        f"*{TASK.texts[s]}*" for s in replies))


# 4. The policy view


def policy_view() -> None:
    st.header("4. The policy view", divider="gray")
    st.markdown(
        "Read the same thing in the language of reinforcement learning. The **state** is the "
        "prompt plus the words written so far (a node of the tree); the **action** is the next "
        "token; the **policy** π(a | s) is the model's next-token distribution. An episode ends "
        "with the end token, and the **reward** comes only then, for the whole reply: nobody "
        "scores half a sentence."
    )
    cards.equation_card(
        r"s_t = (x, y_1, \dots, y_{t-1}),\quad a_t = y_t \sim \pi_\theta(\cdot \mid s_t),\quad "
        r"r_t = \begin{cases} 0 & t < T \\ r(x, y) & t = T \end{cases}",
        "States are prompt-plus-prefix, actions are tokens, and the only non-zero reward "
        "arrives with the last token.",
        "RL",
    )
    n_prompts, n_nodes, n_tokens = TASK.shape
    one, two, three, four = st.columns(4)
    one.metric("States (prompt + prefix)", n_prompts * n_nodes)
    two.metric("Actions per state", n_tokens)
    three.metric("Replies per prompt", TASK.n_replies)
    four.metric("Parameters (logits)", n_prompts * n_nodes * n_tokens,
                help="One logit per state and token: a table. A real LLM computes its logits "
                "with one network shared by all states instead.")
    st.markdown(
        "This policy is a **table**: one row of logits per state. That is what makes it small "
        "enough to read, and it also means it can represent *any* distribution over replies, "
        "including the best one fine-tuning aims for (step 7). A real LLM has far too many "
        "states for a table, so a network computes the logits from the text."
    )
    _episode_demo()
    code.show_code(lm.taste)
    cards.takeaway("An LLM is a policy: state = prompt + text so far, action = next token, "
                   "reward = one number for the finished reply. That is why reinforcement "
                   "learning methods such as PPO can train it.")


@st.fragment
def _episode_demo() -> None:
    left, right = st.columns([1.4, 1])
    with left:
        prompt = state.choice(EP_PROMPT, "Prompt")
    with right:
        seed = state.number(EP_SEED, "Episode seed", help="Each seed samples another reply.")
    p = _prompt_index(prompt)
    _, reply = lm.sample(TASK, TASK.ref_logits, 1, int(seed), 1.0, p)
    words = TASK.replies[int(reply[0])]
    walk = lm.decision_steps(TASK, TASK.ref_logits, p, words, True)
    reward = TASK.true_rewards[p, int(reply[0])]
    rewards = [0.0] * (len(walk["token"]) - 1) + [reward]
    st.markdown(f"One episode: *{prompt} {TASK.texts[int(reply[0])]}*")
    st.dataframe(pd.DataFrame({
        "t": np.arange(1, len(walk["token"]) + 1),
        "state s_t": walk["context"],
        "action a_t": [tf.token_label(t) for t in walk["token"]],
        "π(a_t | s_t)": [f"{q:.3f}" for q in walk["prob"]],
        "reward r_t": [fmt(r, 2) for r in rewards],
    }), hide_index=True, width="stretch")
    st.caption(f"Return of the episode: {fmt(reward, 2)}, all of it at the last step. The "
               "reward is the hidden taste of step 5.")


# 5. The hidden reward


def hidden_taste() -> None:
    st.header("5. A hidden human taste", divider="gray")
    st.markdown(
        "Fine-tuning needs to know what people like. Here that is a hidden reader with simple "
        "rules. Each sentiment word scores points; *really* multiplies the next sentiment word "
        "by 1.5 and *not* by −0.5; and the twist: the reader is annoyed by **repetition** and "
        "by a *really* or *not* left **dangling** at the end, one point off each. In real RLHF "
        "nobody can write this function down, which is why people are asked to compare replies "
        "instead (step 6)."
    )
    st.dataframe(pd.DataFrame({
        "rule": [*(f"“{w}”" for w in lm.SENTIMENT), "“really” before a sentiment word",
                 "“not” before a sentiment word", "a word said again",
                 "“really”/“not” with nothing to modify"],
        "points": [*(tf.points(v) for v in lm.SENTIMENT.values()),
                   f"× {lm.MODIFIERS['really']:g}",
                   f"× {lm.MODIFIERS['not']:g}".replace("-", "−"),
                   tf.points(-lm.REPEAT_PENALTY), tf.points(-lm.DANGLING_PENALTY)],
    }), hide_index=True)
    _taste_demo()
    _reward_spread_demo()
    code.show_code(lm.taste_terms, lm.reward_histogram)
    cards.takeaway("The reward judges whole replies, and only at the end. The reference model "
                   "earns about zero on average: fluent, but not yet what the reader wants.")


@st.fragment
def _taste_demo() -> None:
    text = state.text(TASTE_REPLY, "Score a reply of your own (up to three words)")
    try:
        words = lm.parse_reply(TASK, text)
        if not words:
            raise ValueError("Type at least one word.")
        terms = lm.taste_terms([TASK.words[w] for w in words])
    except ValueError as error:
        st.error(str(error), icon=":material/error:")
        return
    total = sum(points for _, points, _ in terms)
    st.markdown(" · ".join(f"*{tf.token_label(w)}* **{tf.points(points)}** ({why})"
                           for w, points, why in terms) + f"  \n**Reward: {tf.points(total)}**")
    if len(set(words)) < len(words):
        st.caption("A model that only counts words cannot see the repetition: to it, "
                   "*great great great* looks three times as good as *great*. Keep that in mind "
                   "for the reward model of RLHF.")


@st.fragment
def _reward_spread_demo() -> None:
    prompt = state.choice(TASTE_PROMPT, "Prompt")
    p = _prompt_index(prompt)
    values, probs = lm.reward_histogram(TASK.true_rewards[p], TASK.ref_probs[p])
    mean = lm.expected_reward(TASK.ref_probs[p:p + 1], TASK.true_rewards[p:p + 1])
    show(tf.reward_distribution(values, probs, mean, prompt), key="lm_reward_chart",
         caption="Each bar is the probability that the reference writes a reply with that "
         "reward. Its average (dashed) is the number fine-tuning will try to raise.")
    best = int(np.argmax(TASK.true_rewards[p]))
    one, two, three = st.columns(3)
    one.metric("Average reward E[r] under π_ref", fmt(mean, 3))
    two.metric("Best possible reward", f"{TASK.true_rewards[p, best]:g}",
               help=f"For example *{TASK.texts[best]}*.")
    three.metric("P(reward ≥ 2)", f"{probs[values >= 2].sum():.3f}")


# 6. Preference pairs


def preference_pairs() -> None:
    st.header("6. Preference pairs", divider="gray")
    st.markdown(
        "People cannot hand out reward points consistently, but they can say which of two "
        "replies they prefer. So RLHF and DPO start from a dataset of **pairs**: a prompt, two "
        "replies sampled from the reference, and which one the annotator chose (y_w, the "
        "winner) over the other (y_l). Our annotator follows Bradley–Terry with the hidden "
        "reward, plus noise τ: with τ = 0 they always pick the better reply, with τ = 1 a "
        "one-point difference wins 73 % of the time, and larger τ means more coin flips."
    )
    cards.equation_card(
        r"P(y_1 \succ y_2 \mid x) = \sigma\!\left(\frac{r(x, y_1) - r(x, y_2)}{\tau}\right)",
        "The chance the annotator prefers y₁: a sigmoid of the reward gap, divided by the "
        "annotator's noise τ.",
        "Bradley–Terry",
    )
    _pairs_demo()
    code.show_code(lm.annotator_probability, lm.label_accuracy, lm.preference_pairs)
    cards.takeaway("A preference dataset is a noisy record of a hidden reward. The RLHF lesson "
                   "fits a reward model to it; the DPO lesson trains the policy on it directly.")


@st.fragment
def _pairs_demo() -> None:
    left, mid, right = st.columns([2, 1, 1])
    with left:
        noise = float(state.choice(NOISE, "Annotator noise τ", help="0: always picks the reply "
                                   "with the higher hidden reward; 1: Bradley–Terry with the "
                                   "hidden reward; 3: close to guessing."))
    with mid:
        n = int(state.number(N_PAIRS, "Pairs to show"))
    with right:
        seed = int(state.number(PAIR_SEED, "Random seed"))
    accuracy = _accuracy(noise)
    show(tf.label_accuracy_curve(NOISE_GRID, _accuracy_curve(), noise, accuracy),
         key="lm_pairs_chart",
         caption="The share of labels that pick the better reply, expected over every pair of "
         "replies with different rewards that the reference can write (exact: the annotator's "
         "probability of picking the better one, averaged). At large τ it sinks towards a coin "
         "flip (50 %, dashed).")
    pairs = _pairs(n, seed, noise)
    prompt, chosen, rejected = pairs["prompt"], pairs["chosen"], pairs["rejected"]
    r_w, r_l = TASK.true_rewards[prompt, chosen], TASK.true_rewards[prompt, rejected]
    # Each reply beside its hidden reward, the prompt last: a phone shows the first four
    st.dataframe(pd.DataFrame({
        "chosen y_w": [TASK.texts[s] for s in chosen],
        "r(y_w)": [tf.points(v) for v in r_w],
        "rejected y_l": [TASK.texts[s] for s in rejected],
        "r(y_l)": [tf.points(v) for v in r_l],
        "P(annotator picks y_w)": [f"{v:.2f}" for v in
                                    lm.annotator_probability(r_w, r_l, noise)],
        "prompt x": [PROMPTS[i] for i in prompt],
    }), hide_index=True, width="stretch")
    st.caption(_sample_count(r_w, r_l, accuracy))


def _sample_count(r_w: np.ndarray, r_l: np.ndarray, accuracy: float) -> str:
    """The sample's labels counted against the hidden reward, beside the curve's expectation."""
    agree, against = int(np.sum(r_w > r_l)), int(np.sum(r_w < r_l))
    ties = len(r_w) - agree - against
    differ = agree + against
    share = f", {100 * agree / differ:.0f} % of the {differ} pairs whose rewards differ" \
        if differ else ""
    agreeing = "1 label agrees" if agree == 1 else f"{agree} labels agree"
    tied = "no pair is" if not ties else "1 is" if ties == 1 else f"{ties} are"
    return (f"The hidden reward columns are for you only: the training methods see just the "
            f"chosen and rejected replies. In these {len(r_w)} pairs, **{agreeing}** with the "
            f"hidden reward{share}; {against} go{'es' if against == 1 else ''} against it; "
            f"{tied} a tie (equal rewards, neither label is wrong). The curve's "
            f"**{100 * accuracy:.1f} %** is not counted from this table: it is what the "
            "annotator gets right on average over every pair the reference can write. A few "
            "pairs stray from that average; more pairs, or other seeds, come closer.")


# 7. The target of fine-tuning


def target() -> None:
    st.header("7. Where fine-tuning is headed", divider="gray")
    st.markdown(
        "RLHF and DPO both aim at the same policy: raise the expected reward, but pay β for "
        "every nat of KL divergence from the reference. Because this model is a table over a "
        "list of replies, that best policy can be written down exactly: reweight the reference "
        "by e^(r/β). Small β chases the reward (and drifts far from the reference); large β "
        "barely moves."
    )
    cards.equation_card(
        r"\pi^*(y \mid x) = \frac{\pi_{\text{ref}}(y \mid x)\, e^{r(x, y)/\beta}}{Z(x)}"
        r" = \arg\max_\pi \; \mathbb{E}_{y\sim\pi}[r(x, y)] - \beta\,"
        r"\mathrm{KL}(\pi \,\|\, \pi_{\text{ref}})",
        "The KL-regularised optimum: the reference reweighted by the exponentiated reward.",
        "RLHF", "Rafailov et al. 2023, Eq. 4",
    )
    _target_demo()
    code.show_code(lm.optimum)
    links = [lesson for lesson in course.LESSONS if lesson.slug in ("rlhf", "dpo")]
    for lesson in links:
        st.page_link(lesson.page, label=lesson.title, icon=lesson.icon)
    cards.takeaway("Fine-tuning moves probability towards replies the reader likes, and β "
                   "decides how far from the reference it may go. The next lessons train this "
                   "model with RLHF and DPO and compare where they land with π*.")


@st.fragment
def _target_demo() -> None:
    left, right = st.columns(2)
    with left:
        beta = float(state.choice(
            BETA, "KL weight β", help="The slider under the chart changes β at once. This one "
            "sets the β the chart opens at, and it goes into the shared link."))
    with right:
        prompt = state.choice(OPT_PROMPT, "Prompt")
    explorable.show(
        optimum_explorable(_prompt_index(prompt)), key="lm_opt_chart",
        start=explorable.nearest(OPTIMUM_BETAS, beta),
        caption="Pink: π* at the β of the slider under the chart; grey ticks: the reference. "
        "The replies are the ones π* favours at some β, the best reward first; the striped bar "
        "adds up all the others. As β shrinks, probability flows left to the replies the "
        "reader likes, odd three-word ones included; at β = 10 almost nothing changes. Bottom: "
        "the expected reward under π* (black; grey dotted line: under the reference) and its "
        "KL from the reference (light blue, dashed, right axis) over β; the yellow dots are the "
        "slider's β.")


# 8. Self-check

QUESTIONS = [
    quiz.Numeric(
        qid="logprob",
        prompt="After “The food was”, the reference gives *really* probability 0.12, then "
        "*great* 0.30, then the end token 0.72. What is log π(“really great.”)?",
        answer=float(np.log(0.12 * 0.30 * 0.72)), tolerance=0.01, unit="nats",
        explanation="ln 0.12 + ln 0.30 + ln 0.72 = −2.120 − 1.204 − 0.329 = −3.653: the log of "
        "the product is the sum of the logs.",
    ),
    quiz.Choice(
        qid="state",
        prompt="In the policy view, what is the state when the model picks its third token?",
        options=["The prompt and the first two tokens", "Only the second token",
                 "The whole finished reply"],
        answer="The prompt and the first two tokens",
        explanation="The state is everything the model conditions on: the prompt plus the text "
        "written so far.",
    ),
    quiz.Choice(
        qid="temperature",
        prompt="You sample at temperature T = 0.3 instead of 1. What happens?",
        options=["The most likely replies become even more likely",
                 "Every reply becomes equally likely", "The model's parameters change"],
        answer="The most likely replies become even more likely",
        explanation="Dividing the logits by T < 1 sharpens every softmax; the trained model is "
        "the same, only the sampling changes.",
    ),
    quiz.Numeric(
        qid="taste",
        prompt="What reward does the hidden reader give “not really bad”?",
        answer=lm.taste(["not", "really", "bad"]), tolerance=0.01, unit="points",
        explanation="The modifiers multiply: −1 (bad) × 1.5 (really) × −0.5 (not) = +0.75.",
    ),
    quiz.Choice(
        qid="fooled",
        prompt="Why would a reward model that only counts words love “great great great”?",
        options=["It cannot see that the words repeat", "Because the reader likes it",
                 "Because the reference model writes it often"],
        answer="It cannot see that the words repeat",
        explanation="Counting gives three times the score of “great”; the reader actually gives "
        "2 − 1 − 1 = 0. A policy trained against such a reward model can exploit the gap.",
    ),
    quiz.Numeric(
        qid="count",
        prompt="How many different replies of at most three words can the model write after "
        "one prompt (seven words to choose from)?",
        answer=float(TASK.n_replies), tolerance=0.5,
        explanation="7 one-word + 49 two-word + 343 three-word replies = 399.",
    ),
]


def check_yourself() -> None:
    quiz.lesson_check(SLUG, QUESTIONS, 8, takeaway=(
        "A language model is a policy over words; fine-tuning it is reinforcement learning on "
        "whole replies, and the KL-regularised optimum π* ∝ π_ref·exp(r/β) says where any method "
        "should end up."))


STEPS.show((tiny_model, token_by_token, sampling, policy_view, hidden_taste, preference_pairs,
            target, check_yourself))
