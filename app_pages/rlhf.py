"""RLHF: the pipeline, a reward model fitted to preference pairs, the KL-penalised objective and
its closed-form optimum, PPO fine-tuning of the tiny LM, and a reward model that gets gamed."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from lessons import bradley_terry as bt
from lessons import rlhf
from lessons import toy_lm as lm
from ui import cards, code, course, explorable, quiz, shared, state, steps
from ui import rlhf_figures as rf
from ui.figures import fmt, show
from ui.state import Param
from ui.toy_llm_figures import token_label

SLUG = "rlhf"
TASK = lm.make_task()
PROMPTS = TASK.prompts

# Training settings. Choices are text so the link shows them exactly as on screen.
PAIR_COUNTS = ("10", "30", "100", "300", "1000", "3000")
NOISES = ("0", "0.5", "1", "2", "3")
HELD_OUT_PAIRS = 2000
HELD_OUT_SEED = 10_000  # held-out pairs use seed + this, a stream the training pairs never see
PPO_ITERATIONS = 40
RM_FRAMES = 41  # the reward model's replay stops at every 5th of its 200 gradient steps
REPLIES_SHOWN = 8  # PPO's replay: the replies to the first prompt that get the most probability
PPO_BETAS = ("0.1", "0.3", "1", "3")
OO_BETAS = ("0.03", "0.1", "0.3", "1", "3", "10")
ESTIMATORS = ("k1", "k3")
N_SAMPLES = 8
KL_TRENDS = ("Up", "Down", "Stays the same")  # the options of step 3's prediction
RUNS = "_rlhf_runs"  # the over-optimisation runs tried in this session (not part of the link)

# Step 3: a handful of replies, a reference that writes only these, and the hidden taste
HANDFUL = (("okay",), ("good",), ("bad",), ("great",), ("awful",), ("really", "great"))
HANDFUL_REF = np.array([0.30, 0.25, 0.15, 0.12, 0.10, 0.08])
HANDFUL_REWARD = np.array([lm.taste(list(words)) for words in HANDFUL])
HANDFUL_TEXT = tuple(lm.reply_text(tuple(TASK.words.index(w) for w in words))
                     for words in HANDFUL)
SWEEP_BETAS = np.geomspace(0.01, 100.0, 61)
# The β explorable's frames: every β the β control offers up to 2.5, where π* changes, then
# 3, 3.5, …, 5, where it has nearly settled on π_ref (the control opens the nearest frame).
BETA_GRID = np.round(np.concatenate([np.arange(1, 51) * 0.05, 2.5 + np.arange(1, 6) * 0.5]), 2)
FRONTIER_BETAS = np.geomspace(0.01, 100.0, 49)

# Step 1: the pipeline. models: (network, trains?) held in memory during the stage.
STAGES = (
    dict(name="Pretrain", does="predict the next token<br>of web text",
         models=[("policy", True)],
         text="A network reads a huge amount of text and learns to predict the next token. "
         "Afterwards it writes fluently, but it continues text rather than answering: ask it a "
         "question and it may well write three more questions."),
    dict(name="SFT", does="imitate written<br>demonstrations", models=[("policy", True)],
         text="Supervised fine-tuning: people write good answers to prompts, and the model is "
         "trained on them with the same next-token loss. The result, the **SFT model**, "
         "answers in the right format. It becomes both the starting policy and the frozen "
         "**reference** π_ref of the later stages. The tiny LM of the previous lesson plays "
         "this part here."),
    dict(name="Preferences", does="people pick the better<br>of two replies",
         models=[("policy", False)],
         text="The SFT model writes two replies to a prompt and a person picks the better one. "
         "Comparing is much easier and more consistent than giving scores. The result is a "
         "dataset of (prompt, chosen y_w, rejected y_l). Here the hidden reader of the previous "
         "lesson labels the pairs, with adjustable noise."),
    dict(name="Reward model", does="fit −log σ(r_w − r_l)", models=[("reward", True)],
         text="A **reward model** r_φ(x, y) is trained so that the chosen reply scores higher "
         "than the rejected one, with the Bradley–Terry loss. In practice it is a copy of the "
         "SFT model with a single number as output. Here it is a small linear model over word "
         "counts (step 2)."),
    dict(name="PPO + KL", does="max E[r_φ]<br>− β·KL(π_θ‖π_ref)",
         models=[("policy", True), ("reference", False), ("reward", False), ("value", True)],
         text="The policy π_θ (starting as the SFT model) writes replies, the frozen reward "
         "model scores them, and PPO raises the probability of replies that score well. Every "
         "token also pays a penalty for drifting from the frozen reference π_ref, and a "
         "**value** model (the critic) estimates how much reward is still to come, to turn "
         "rewards into advantages. Four networks at once, two of them training: that is the "
         "memory bill that DPO avoids."),
)
STAGE_NAMES = tuple(s["name"] for s in STAGES)

STEPS = steps.Steps("rlhf", (
    "The RLHF pipeline",
    "The reward model",
    "The KL-penalised objective",
    "PPO fine-tuning",
    "Over-optimisation",
    "Check yourself",
))

STAGE = Param("rlhf_stage", STAGE_NAMES[-1], options=STAGE_NAMES)
# The reward model: set in step 2, used again in step 4 (same keys, so the link carries it)
RM_PAIRS = Param("rlhf_rm_pairs", "300", options=PAIR_COUNTS)
RM_NOISE = Param("rlhf_rm_noise", "1", options=NOISES)
RM_SEED = Param("rlhf_rm_seed", 0, lo=0, hi=9999, step=1)
BETA = Param("rlhf_beta", 1.0, lo=0.05, hi=5.0, step=0.05)
BETA_GUESS = Param("rlhf_beta_guess", None, options=KL_TRENDS)
PPO_BETA = Param("rlhf_ppo_beta", "0.3", options=PPO_BETAS)
ESTIMATOR = Param("rlhf_kl_est", "k1", options=ESTIMATORS)
PPO_SEED = Param("rlhf_ppo_seed", 0, lo=0, hi=9999, step=1)
TOKEN_PROMPT = Param("rlhf_token_prompt", PROMPTS[0], options=PROMPTS)
TOKEN_SEED = Param("rlhf_token_seed", 1, lo=0, hi=9999, step=1)
SAMPLE_SEED = Param("rlhf_sample_seed", 0, lo=0, hi=9999, step=1)
OO_PAIRS = Param("rlhf_oo_pairs", "30", options=PAIR_COUNTS)
OO_NOISE = Param("rlhf_oo_noise", "1", options=NOISES)
OO_BETA = Param("rlhf_oo_beta", "0.1", options=OO_BETAS)
OO_SEED = Param("rlhf_oo_seed", 1, lo=0, hi=9999, step=1)

PARAMS = (STEPS.param, STAGE, RM_PAIRS, RM_NOISE, RM_SEED, BETA, BETA_GUESS, PPO_BETA,
          ESTIMATOR, PPO_SEED, TOKEN_PROMPT, TOKEN_SEED, SAMPLE_SEED, OO_PAIRS, OO_NOISE,
          OO_BETA, OO_SEED)


# Page-side caches: every result is a pure function of its settings (seeds included)


def _held_out_pairs(noise: float, seed: int) -> dict:
    """2000 fresh pairs from the same annotator, which the reward model never trains on."""
    return lm.preference_pairs(TASK, HELD_OUT_PAIRS, seed + HELD_OUT_SEED, noise)


def _held_out_loss(scores: np.ndarray, held: dict) -> float:
    """The reward model's loss on the held-out pairs ``held``."""
    return bt.reward_model_loss(scores[held["prompt"], held["chosen"]],
                                scores[held["prompt"], held["rejected"]])


@shared.cache_data(max_entries=32, show_spinner=False)
def reward_model(n_pairs: int, noise: float, seed: int) -> dict:
    """Train the reward model on n_pairs labelled pairs; score 2000 fresh pairs with its loss."""
    start = time.perf_counter()
    pairs = lm.preference_pairs(TASK, n_pairs, seed, noise)
    fit = lm.train_reward_model(TASK, pairs)
    fit["held_out_loss"] = _held_out_loss(fit["scores"], _held_out_pairs(noise, seed))
    fit["label_accuracy"] = lm.label_accuracy(TASK, noise)
    fit["seconds"] = time.perf_counter() - start
    return fit


@shared.cache_data(max_entries=32, show_spinner=False)
def reward_model_replay(n_pairs: int, noise: float, seed: int) -> dict:
    """The reward model's training, replayed: at each frame's step, the model trained for that
    many steps (gradient descent from w = 0 on all pairs is deterministic, so these are the
    run's own weights on the way, read from its path), scored on held-out pairs and on every
    pair exactly."""
    fit = reward_model(n_pairs, noise, seed)
    stops = lm.checkpoint_steps(int(fit["history"]["step"][-1]), RM_FRAMES)
    on_the_way = lm.reward_model_at(TASK, fit, stops)
    held = _held_out_pairs(noise, seed)  # the same pairs score every frame
    return rf.reward_model_replay(
        fit["history"], stops, [_held_out_loss(s, held) for s in on_the_way["scores"]],
        list(on_the_way["accuracy"]), fit["label_accuracy"])


@shared.cache_data(max_entries=48, show_spinner="Fine-tuning the tiny LM with PPO…")
def ppo_run(n_pairs: int, noise: float, rm_seed: int, beta: float, estimator: str,
            seed: int) -> dict:
    """PPO against the reward model's scores with the KL penalty, from π_ref (cached), with
    the policy's distribution kept at every iteration for the replays."""
    scores = reward_model(n_pairs, noise, rm_seed)["scores"]
    start = time.perf_counter()
    run = lm.train_ppo_rlhf(TASK, scores, beta=beta, iterations=PPO_ITERATIONS,
                            kl_estimator=estimator, seed=seed, checkpoints=PPO_ITERATIONS + 1)
    run["seconds"] = time.perf_counter() - start
    return run


def _leaders(probs: np.ndarray) -> list[int]:
    """The most likely reply of each kept distribution (c, S) of one prompt."""
    return [int(lm.most_likely(p, 1)[0]) for p in probs]


@shared.cache_data(max_entries=48, show_spinner=False)
def ppo_replay(n_pairs: int, noise: float, rm_seed: int, beta: float, estimator: str,
               seed: int) -> dict:
    """Step 4's replay of the PPO run: its curves, and the first prompt's replies that get the
    most probability on the way, ordered by their probability at the end."""
    run = ppo_run(n_pairs, noise, rm_seed, beta, estimator, seed)
    kept = run["checkpoints"]
    probs = kept["probs"][:, 0]
    shown = lm.most_likely(probs.max(axis=0), REPLIES_SHOWN)
    shown = shown[lm.most_likely(probs[-1, shown], len(shown))]
    leaders = [(TASK.texts[i], float(probs[k, i])) for k, i in enumerate(_leaders(probs))]
    return rf.ppo_replay(run["history"], kept["step"], [TASK.texts[i] for i in shown],
                         TASK.ref_probs[0, shown], probs[:, shown], leaders, PROMPTS[0])


@shared.cache_data(max_entries=48, show_spinner=False)
def overoptimisation_replay(n_pairs: int, noise: float, seed: int, beta: float) -> dict:
    """Step 5's replay: the run against KL beside the exact optimum of the proxy, and what the
    policy most often writes to the first prompt at each iteration."""
    run = ppo_run(n_pairs, noise, seed, beta, "k1", seed)
    scores = reward_model(n_pairs, noise, seed)["scores"]
    probs = run["checkpoints"]["probs"][:, 0]
    leaders = [(TASK.texts[i], float(probs[k, i]), float(scores[0, i]),
                float(TASK.true_rewards[0, i])) for k, i in enumerate(_leaders(probs))]
    return rf.overoptimisation_replay(run["history"], proxy_frontier(n_pairs, noise, seed),
                                      beta, leaders)


@shared.cache_data(max_entries=16, show_spinner=False)
def proxy_frontier(n_pairs: int, noise: float, seed: int) -> dict:
    """The exact optimum π*_β of the reward model's scores for β from 0.01 to 100: its KL, its
    proxy score and its true reward (where the best possible fine-tuning would land)."""
    scores = reward_model(n_pairs, noise, seed)["scores"]
    optima = [lm.optimum(TASK, beta, scores) for beta in FRONTIER_BETAS]
    return {"kl": np.array([lm.exact_kl(p, TASK.ref_probs) for p in optima]),
            "proxy": np.array([lm.expected_reward(p, scores) for p in optima]),
            "true": np.array([lm.expected_reward(p, TASK.true_rewards) for p in optima])}


@shared.cache_data(max_entries=1, show_spinner=False)
def handful_sweep() -> dict:
    return rlhf.beta_sweep(HANDFUL_REF, HANDFUL_REWARD, SWEEP_BETAS)


def kl_trend() -> str:
    """Step 3's answer: does the optimum's KL from π_ref rise or fall from the smallest β of
    the sweep to the largest?"""
    kl = handful_sweep()["kl"]
    return KL_TRENDS[0] if kl[-1] > kl[0] else KL_TRENDS[1] if kl[-1] < kl[0] else KL_TRENDS[2]


@shared.cache_data(max_entries=1, show_spinner=False)
def objective_explorable() -> dict:
    """Step 3's explorable: π*_β of the handful of replies and its numbers at every β of the
    grid, and the curve of every β from 0.01 to 100."""
    grid = rlhf.beta_sweep(HANDFUL_REF, HANDFUL_REWARD, BETA_GRID)
    numbers = {key: grid[key] for key in ("expected_reward", "kl", "objective")}
    numbers["z"] = np.array([rlhf.partition_function(HANDFUL_REF, HANDFUL_REWARD, beta)
                             for beta in BETA_GRID])
    labels = [f"{t.replace(' ', '<br>')}<br>r = {_signed(r)}"
              for t, r in zip(HANDFUL_TEXT, HANDFUL_REWARD, strict=True)]
    return rf.optimum_explorable(labels, HANDFUL_REF, BETA_GRID, grid["policy"], numbers,
                                 handful_sweep())


@shared.cache_data(max_entries=len(STAGES), show_spinner=False)
def pipeline_figure(index: int) -> dict:
    """Step 1's pipeline with stage ``index`` picked, as a plain spec built once."""
    return rf.pipeline(STAGES, index).to_plotly_json()


@shared.cache_data(max_entries=32, show_spinner=False)
def learned_vs_true_figure(n_pairs: int, noise: float, seed: int) -> dict:
    """Step 2's scatter of the trained reward model's scores against the hidden reward."""
    fit = reward_model(n_pairs, noise, seed)
    return rf.learned_vs_true(TASK.true_rewards[0], fit["scores"][0], TASK.texts,
                              repeats()).to_plotly_json()


@shared.cache_data(max_entries=1, show_spinner=False)
def repeats() -> np.ndarray:
    """True for the replies that say a word twice (the reward model cannot see it)."""
    features, _ = lm.reply_features(TASK, "words + repeats")
    return features[:, -1] > 0


def _signed(value: float) -> str:
    """+2, −1.5, 0: reward points as short as they can be."""
    return "0" if value == 0 else f"{value:+g}".replace("-", "−")


# The page

st.title("RLHF: reward model, KL penalty, PPO")
state.check_link(PARAMS)
st.markdown(
    "Reinforcement learning from human feedback is how a fluent language model was turned into "
    "a helpful assistant (InstructGPT, and ChatGPT after it). People compare replies; a "
    "**reward model** learns to predict their choices; then the language model is fine-tuned with "
    "**PPO** to earn a high reward while a **KL penalty** keeps it close to where it started. "
    "This lesson runs every stage on the tiny language model of the previous lesson, where "
    "everything can be computed exactly, including the hidden reward that the reward model only "
    "approximates."
)
st.caption(f"Accompanies *{course.VIDEOS['rlhf']}* and the “RLHF vs DPO” chapter of "
           f"*{course.VIDEOS['dpo']}* by {course.SERIES_AUTHOR}.")


# 1. The pipeline


def the_pipeline() -> None:
    st.header("1. The RLHF pipeline", divider="gray")
    st.markdown(
        "RLHF is the last part of a longer pipeline. Each stage starts from the model the "
        "previous one produced. The chips beside each stage are the networks it keeps in "
        "memory: filled ones are being trained, outlined ones are frozen copies. Pick a stage "
        "to read what happens there."
    )
    _pipeline_demo()
    cards.takeaway("RLHF turns comparisons into a reward model, then fine-tunes the policy "
                   "against it with PPO. During PPO four networks sit in memory: the policy, "
                   "the frozen reference, the frozen reward model and the value model.")


@st.fragment
def _pipeline_demo() -> None:
    name = state.choice(STAGE, "Look at a stage")
    index = STAGE_NAMES.index(name)
    show(pipeline_figure(index), key="rlhf_pipeline_chart",
         caption="Top to bottom: the stages of training an assistant. Beside each, the models "
         "it holds: filled = training, outlined = frozen. Only PPO needs all four at once.")
    stage = STAGES[index]
    held = ", ".join(f"{model} ({'trains' if trains else 'frozen'})"
                     for model, trains in stage["models"])
    st.markdown(f"**{index + 1}. {stage['name']}.** {stage['text']}  \nIn memory: {held}.")


# 2. The reward model


def the_reward_model() -> None:
    st.header("2. The reward model", divider="gray")
    st.markdown(
        "The reward model r_φ gives every reply a score. It never sees the hidden reward, only "
        "pairs: two replies the reference wrote to the same prompt and which one the annotator "
        "chose. Training pushes the chosen reply's score above the rejected one's. Ours is "
        "linear in the **word counts** of a reply: one weight per word, learnt by gradient "
        "descent. Choose how many pairs it gets and how noisy the annotator is; it trains in a "
        "blink and is kept, so coming back to the same settings is instant."
    )
    cards.equation_card(
        r"\mathcal{L}(\phi) = -\,\mathbb{E}_{(x,\,y_w,\,y_l)}\Big[\log \sigma\big(r_\phi(x, y_w)"
        r" - r_\phi(x, y_l)\big)\Big]",
        "The Bradley–Terry loss: small when the chosen reply y_w scores well above the rejected "
        "y_l; ln 2 ≈ 0.693 when the model cannot tell them apart.",
        "RLHF", "Ouyang et al. 2022, Eq. 1",
    )
    _reward_model_demo()
    code.show_code(lm.train_reward_model, bt.reward_model_loss)
    cards.takeaway("A reward model learns the annotators' taste from comparisons. It ranks most "
                   "replies well, but it only knows what its features can express: here it "
                   "cannot see a repeated word, so it loves “great great great”.")


def _reward_model_controls() -> tuple[int, float, int]:
    left, mid, right = st.columns([3, 3, 1.2])
    with left:
        n = int(state.choice(RM_PAIRS, "Preference pairs to train on"))
    with mid:
        noise = float(state.choice(RM_NOISE, "Annotator noise τ", help="0: the annotator "
                                   "always picks the reply with the higher hidden reward; 1: "
                                   "Bradley–Terry with the hidden reward; 3: close to guessing."))
    with right:
        seed = int(state.number(RM_SEED, "Seed", help="Draws other pairs and labels."))
    return n, noise, seed


@st.fragment
def _reward_model_demo() -> None:
    n, noise, seed = _reward_model_controls()
    fit = reward_model(n, noise, seed)
    one, two, three, four = st.columns(4)
    one.metric("Accuracy on new pairs", f"{100 * fit['accuracy']:.1f} %",
               help="Held-out accuracy, exactly: the chance that the reward model orders a "
               "fresh pair from the reference (two replies with different hidden rewards) "
               "the way the hidden reward does, summed over every pair the reference could "
               "write.")
    two.metric("The annotator's own labels", f"{100 * fit['label_accuracy']:.1f} %",
               help="How often a label agrees with the hidden reward at this noise. A reward "
               "model trained on many noisy labels can beat its teachers: the noise averages "
               "out.")
    three.metric("Held-out loss", f"{fit['held_out_loss']:.3f} nats",
                 help=f"The loss on {HELD_OUT_PAIRS} fresh pairs labelled by the same "
                 "annotator, which the model never trained on.")
    four.metric("Training time", f"{1000 * fit['seconds']:.0f} ms",
                help="Cached: the same settings replay instantly.")
    replay = reward_model_replay(n, noise, seed)
    explorable.show(
        replay, key="rlhf_rm_loss_chart", start=explorable.frame_count(replay) - 1,
        caption="Press play to train the reward model again from w = 0. Top: the loss starts "
        "at ln 2 (all scores 0) and falls as the weights learn the taste; with few pairs the "
        "training loss ends far below the held-out one: the model has memorised its pairs. "
        "Bottom: at step 0 every score is 0, so no training pair is ranked right yet (dotted, "
        "0 %) and a new pair is a tie, which counts half (green, 50 %). The green line is the "
        "exact share of new pairs ranked as the hidden reward ranks them, which can beat the "
        "annotator's own labels (grey dashes). The numbers above the chart are the trained "
        "model's: its last step.")
    show(learned_vs_true_figure(n, noise, seed),
         key="rlhf_rm_scatter_chart",
         caption="Each dot is one of the 399 replies, scored by the trained reward model. A "
         "perfect reward model would put them on a rising line. The red-orange ones repeat a "
         "word: the reader takes a point off, the reward model adds the word's weight again.")
    weights = dict(zip(fit["feature_names"], fit["weights"], strict=True))
    st.markdown("Learnt weight of each word: " + " · ".join(
        f"*{word}* {rf.points(w)}" for word, w in weights.items()))


# 3. The objective


def the_objective() -> None:
    st.header("3. The KL-penalised objective", divider="gray")
    st.markdown(
        "With a reward model in hand, why not just maximise its score? Because the best "
        "scoring policy writes one reply forever, forgets everything else it knew, and finds "
        "whatever the reward model gets wrong. RLHF therefore maximises the reward **minus β "
        "times the KL divergence** from the reference. For a policy over a list of replies "
        "the best policy has a closed form: the reference, reweighted by e^(r/β), divided by "
        "the **partition function** Z that makes it sum to 1."
    )
    cards.equation_card(
        r"\max_\pi\; \mathbb{E}_{y\sim\pi}[r(x, y)] - \beta\,\mathrm{KL}\big(\pi(\cdot\mid x)"
        r"\,\|\,\pi_{\text{ref}}(\cdot\mid x)\big)",
        "The RLHF objective: earn reward, but pay β for every nat of divergence from the "
        "reference.",
        "RLHF", "Rafailov et al. 2023, Eq. 3",
    )
    cards.equation_card(
        r"\pi^*(y\mid x) = \frac{\pi_{\text{ref}}(y\mid x)\,e^{r(x, y)/\beta}}{Z(x)},\qquad "
        r"Z(x) = \sum_y \pi_{\text{ref}}(y\mid x)\,e^{r(x, y)/\beta}",
        "The maximiser. Its objective value is β·log Z: the partition function is the "
        "objective in disguise.",
        "RLHF", "Rafailov et al. 2023, Eq. 4",
    )
    st.markdown(
        "Below, a reference that writes only six replies, each scored by the hidden reader. "
        "The top of the chart is the optimum π*_β itself, the bottom where it lands in reward "
        "and KL as β slides."
    )
    if cards.predict(
            BETA_GUESS, "As β grows, does the optimum's KL from the reference go up or down?",
            answer=kl_trend(),
            why="A larger β makes every nat of KL dearer, so π* buys less reward with it: it "
            "slides back towards π_ref (KL → 0 as β → ∞). A small β chases the reward and "
            "drifts far."):
        _objective_demo()
        sweep = handful_sweep()
        greedy = rlhf.greedy_policy(HANDFUL_REF, HANDFUL_REWARD)
        st.markdown(
            f"The two ends: as β → ∞, π* = π_ref, with E[r] = "
            f"{rlhf.expected_reward(HANDFUL_REF, HANDFUL_REWARD):.3f} and KL = 0. As β → 0, "
            f"π* puts everything on the best reply (*{HANDFUL_TEXT[int(np.argmax(greedy))]}*), "
            f"with E[r] = {rlhf.expected_reward(greedy, HANDFUL_REWARD):.3f} and KL = "
            f"{rlhf.policy_kl(greedy, HANDFUL_REF):.3f} nats (= −ln π_ref(best)). The curve at "
            f"the bottom of the chart runs from β = {sweep['beta'][0]:g} to "
            f"{sweep['beta'][-1]:g}, the slider under it from {BETA_GRID[0]:g} to "
            f"{BETA_GRID[-1]:g}."
        )
    code.show_code(rlhf.optimal_policy, rlhf.partition_function, rlhf.beta_sweep)
    cards.takeaway("β is the exchange rate between reward and staying close to π_ref. "
                   "The optimum reweights the reference by e^(r/β); the partition function Z "
                   "normalises it, and β·log Z is the best objective value.")


@st.fragment
def _objective_demo() -> None:
    beta = float(state.slider(BETA, "KL weight β", help="Sets the β the chart opens at, and "
                              "goes into the shared link. The slider under the chart moves β "
                              "at once."))
    explorable.show(
        objective_explorable(), key="rlhf_opt_chart", start=explorable.nearest(BETA_GRID, beta),
        caption="Top: π_ref (grey) and the optimum π*_β (pink); dividing π_ref·e^(r/β) by "
        "Z moves mass to the well-rewarded replies. Bottom: E[r] and KL of the optimum for "
        "every β, the yellow point at the slider's β: lowering β slides it up the curve, more "
        "reward bought with more KL. Drag the slider under the chart to change β.")


# 4. PPO fine-tuning


def ppo_fine_tuning() -> None:
    st.header("4. PPO fine-tuning", divider="gray")
    st.markdown(
        "A real language model has far too many replies for the closed form, so RLHF "
        "**samples**: the policy writes a batch of replies, the reward model scores them, and "
        "PPO (see the PPO lesson) nudges the policy towards the replies that did "
        "better than the critic expected. The KL term becomes a **per-token penalty**: every "
        "token pays β times an estimate of how much more likely the policy finds it than the "
        "reference does, and the reward model's score arrives with the last token."
    )
    cards.equation_card(
        r"R_t = -\beta\, k_t + \mathbb{1}[t = T]\; r_\phi(x, y),\qquad "
        r"k_t^{(1)} = \log \frac{\pi_\theta(y_t\mid s_t)}{\pi_{\text{ref}}(y_t\mid s_t)},\quad "
        r"k_t^{(3)} = \rho_t - 1 - \log \rho_t,\ \ \rho_t = "
        r"\frac{\pi_{\text{ref}}(y_t\mid s_t)}{\pi_\theta(y_t\mid s_t)}",
        "The reward PPO sees at token t: a KL penalty at every token, the reward model's score "
        "at the end. Summed over the reply, k1 gives exactly log π_θ(y|x) − log π_ref(y|x).",
        "RLHF", "Ouyang et al. 2022, Eq. 2; k3: Schulman 2020",
    )
    _ppo_demo()
    code.show_code(rlhf.kl_penalised_reward, lm.train_ppo_rlhf)
    cards.takeaway("PPO fine-tuning raises the reward model's score and, as long as the reward "
                   "model is right, the true reward too. The KL penalty is charged token by "
                   "token, and it is what keeps the policy from running off.")


def reward_model_bar() -> tuple[int, float, int]:
    """Step 4: the reward model of step 2, summarised, with its controls in a popover."""
    summary, button = st.columns([2.6, 1.4], vertical_alignment="center")
    with button, st.popover("Change the reward model", icon=":material/tune:",
                            width="stretch"):
        n, noise, seed = _reward_model_controls()
    summary.caption(f"The reward model of step 2: **{n} pairs**, annotator noise τ = "
                    f"{noise:g}, seed {seed}. PPO runs {PPO_ITERATIONS} iterations of 128 "
                    "replies each.")
    return n, noise, seed


@st.fragment
def _ppo_demo() -> None:
    n, noise, rm_seed = reward_model_bar()
    left, mid, right = st.columns([3, 2, 1.2])
    with left:
        beta = float(state.choice(PPO_BETA, "KL weight β"))
    with mid:
        estimator = state.choice(ESTIMATOR, "KL estimator", help="k1 = log π_θ − log π_ref "
                                 "(InstructGPT's choice); k3 = ρ − 1 − log ρ, never negative. "
                                 "Both estimate the KL without bias, but used as a reward, k3 "
                                 "pushes back less: the policy drifts further.")
    with right:
        seed = int(state.number(PPO_SEED, "Seed", help="Seeds the replies PPO samples."))
    run = ppo_run(n, noise, rm_seed, beta, estimator, seed)
    history = run["history"]
    one, two, three, four = st.columns(4)
    one.metric("True reward at the end", f"{history['true_reward'][-1]:.3f}",
               delta=f"{history['true_reward'][-1] - history['true_reward'][0]:+.3f}",
               delta_description="vs π_ref")
    two.metric("Reward model's score at the end", f"{history['score'][-1]:.3f}",
               delta=f"{history['score'][-1] - history['score'][0]:+.3f}",
               delta_description="vs π_ref")
    three.metric("KL(π_θ ‖ π_ref) at the end", f"{history['kl'][-1]:.3f} nats")
    four.metric("Training time", f"{1000 * run['seconds']:.0f} ms",
                help="Cached: the same settings replay instantly.")
    replay = ppo_replay(n, noise, rm_seed, beta, estimator, seed)
    explorable.show(
        replay, key="rlhf_ppo_chart", start=explorable.frame_count(replay) - 1,
        caption="Press play to run PPO again from π_ref. Top: exact expectations over all "
        "399 replies after each iteration: PPO maximises the light blue score; the green true "
        "reward is what the reader would give (where they part, the reward model is being "
        "gamed); the dotted pink KL from the reference (right axis) grows more with a small "
        "β. Bottom: the eight replies to the first prompt that get the most probability during "
        "the run, under π_ref and under the policy at the slider's iteration.")
    _token_demo(run, n, noise, rm_seed, beta, estimator)
    _samples_demo(run, n, noise, rm_seed)


@st.fragment
def _token_demo(run: dict, n: int, noise: float, rm_seed: int, beta: float,
                estimator: str) -> None:
    st.markdown("**One reply, token by token.** The fine-tuned policy writes a reply; here is "
                "the reward PPO saw for each of its tokens.")
    left, right = st.columns([3, 1])
    with left:
        prompt = state.choice(TOKEN_PROMPT, "Prompt")
    with right:
        seed = int(state.number(TOKEN_SEED, "Sample seed"))
    p = PROMPTS.index(prompt)
    chart, table = st.columns([1.1, 1])
    _, reply = lm.sample(TASK, run["logits"], 1, seed, 1.0, p)
    logp, mask = lm.token_logprobs(TASK, run["logits"], [p], reply)
    ref_logp, _ = lm.token_logprobs(TASK, TASK.ref_logits, [p], reply)
    score = reward_model(n, noise, rm_seed)["scores"][p, reply]
    out = rlhf.kl_penalised_reward(score, logp, ref_logp, beta, estimator, mask)
    real = mask[0]
    tokens = [token_label(TASK.tokens[a]) for a in TASK.step_action[reply[0]][real]]
    total = float(out["total_reward"][0])
    with chart:
        show(rf.token_rewards(tokens, out["kl_penalty"][0][real], out["score"][0][real], total,
                              estimator), key="rlhf_token_chart",
             caption=f"“{prompt} {TASK.texts[reply[0]]}”: reward-model score "
             f"{fmt(score[0])}, KL penalty {fmt(float(out['kl_penalty'][0].sum()))} in all. "
             "Tokens the policy now likes more than π_ref did pay for it.")
    table.dataframe(pd.DataFrame({
        "token": tokens,
        "log π_θ": [f"{v:.3f}" for v in logp[0][real]],
        "log π_ref": [f"{v:.3f}" for v in ref_logp[0][real]],
        f"{estimator} (KL estimate)": [f"{v:.3f}" for v in out["token_kl"][0][real]],
        "reward R_t": [f"{v:+.3f}" for v in out["token_rewards"][0][real]],
    }), hide_index=True, width="stretch")


@st.fragment
def _samples_demo(run: dict, n: int, noise: float, rm_seed: int) -> None:
    st.markdown(f"**Before and after.** {N_SAMPLES} replies to random prompts, drawn with the "
                "same seed from the reference and from the fine-tuned policy.")
    left, _ = st.columns([1, 3])
    with left:
        seed = int(state.number(SAMPLE_SEED, "Seed of the samples"))
    scores = reward_model(n, noise, rm_seed)["scores"]
    before_prompt, before = lm.sample(TASK, TASK.ref_logits, N_SAMPLES, seed)
    after_prompt, after = lm.sample(TASK, run["logits"], N_SAMPLES, seed)
    st.dataframe(pd.DataFrame({
        "prompt": [PROMPTS[i] for i in before_prompt],
        "π_ref wrote": [TASK.texts[s] for s in before],
        "score (before)": [rf.points(v) for v in scores[before_prompt, before]],
        "true (before)": [rf.points(v) for v in TASK.true_rewards[before_prompt, before]],
        "PPO policy wrote": [TASK.texts[s] for s in after],
        "score (after)": [rf.points(v) for v in scores[after_prompt, after]],
        "true (after)": [rf.points(v) for v in TASK.true_rewards[after_prompt, after]],
    }), hide_index=True, width="stretch")


# 5. Over-optimisation


def over_optimisation() -> None:
    st.header("5. Over-optimisation", divider="gray")
    st.markdown(
        "The reward model is a **proxy** for what people want. PPO is very good at raising the "
        "proxy, including where it is wrong. With a weak reward model (few or noisy pairs) and "
        "a small β, the proxy keeps rising while the true reward first rises, peaks and then "
        "falls: the policy learns to say what the reward model overrates, here repeated words "
        "the reader dislikes. This is Goodhart's law (“when a measure becomes a target, it "
        "ceases to be a good measure”), measured by Gao et al. (2023) on real reward models."
    )
    _overoptimisation_demo()
    code.show_code(lm.optimum)
    st.markdown("DPO aims at the same KL-regularised optimum without a reward model, a value "
                "model or sampling: the next lesson shows how.")
    for lesson in [lesson for lesson in course.LESSONS if lesson.slug == "dpo"]:
        st.page_link(lesson.page, label=lesson.title, icon=lesson.icon)
    cards.takeaway("A reward model is only trustworthy near the data it was trained on. The KL "
                   "penalty keeps the policy there: the best β is large enough to stop the "
                   "exploitation and small enough to let the policy improve. A better reward "
                   "model lets a smaller β pay off.")


@st.fragment
def _overoptimisation_demo() -> None:
    a, b = st.columns(2)
    with a:
        n = int(state.choice(OO_PAIRS, "Pairs for the reward model"))
    with b:
        noise = float(state.choice(OO_NOISE, "Annotator noise τ"))
    c, d, e = st.columns([2, 1, 1], vertical_alignment="bottom")
    with c:
        beta = float(state.choice(OO_BETA, "KL weight β"))
    with d:
        seed = int(state.number(OO_SEED, "Seed", help="Seeds the pairs and PPO."))
    with e:
        run_all = st.button("Run every β", key="rlhf_oo_all", icon=":material/play_arrow:",
                            width="stretch", help=f"Train PPO once for each of the "
                            f"{len(OO_BETAS)} values of β with this reward model, to compare "
                            "them in the table below.")
    if run_all:
        bar = st.progress(0.0, text="Training PPO for every β…")
        for i, choice in enumerate(OO_BETAS, start=1):
            _remember(n, noise, seed, float(choice), ppo_run(n, noise, seed, float(choice),
                                                            "k1", seed))
            bar.progress(i / len(OO_BETAS), text=f"β = {choice} done")
        bar.empty()
    fit = reward_model(n, noise, seed)
    run = ppo_run(n, noise, seed, beta, "k1", seed)
    _remember(n, noise, seed, beta, run)
    history = run["history"]
    peak = int(np.nanargmax(history["true_reward"]))
    replay = overoptimisation_replay(n, noise, seed, beta)
    explorable.show(
        replay, key="rlhf_oo_chart", start=explorable.frame_count(replay) - 1,
        caption=f"Press play to watch PPO at β = {beta:g} again: its thick lines, one dot per "
        "iteration, grow to the right as the policy drifts from π_ref. Dashed: the exact "
        "optimum of the proxy for every β. The yellow point is the best true reward so far; "
        "past it more KL buys proxy score but loses true reward. The top reply is the "
        f"policy's most likely reply to “{PROMPTS[0]}”. Only differences of the proxy mean "
        "something (it has no fixed zero): compare slopes, not heights.")
    one, two, three, four = st.columns(4)
    one.metric("Reward model accuracy", f"{100 * fit['accuracy']:.1f} %",
               help="On every pair the reference could write, as in step 2.")
    two.metric("Best true reward in the run", f"{history['true_reward'][peak]:.3f}",
               help=f"At iteration {peak}, KL {history['kl'][peak]:.2f} nats.")
    fell = peak < len(history["true_reward"]) - 1  # the best came before the end
    three.metric("True reward at the end", f"{history['true_reward'][-1]:.3f}",
                 delta=f"{history['true_reward'][-1] - history['true_reward'][peak]:+.3f}"
                 if fell else None, delta_description="vs the run's best" if fell else None)
    four.metric("Proxy score at the end", f"{history['score'][-1]:.3f}")
    _runs_table(n, noise, seed, beta)


def _remember(n: int, noise: float, seed: int, beta: float, run: dict) -> None:
    history = run["history"]
    runs = st.session_state.setdefault(RUNS, {})
    runs[(n, noise, seed, beta)] = {
        "final_true": float(history["true_reward"][-1]),
        "best_true": float(np.nanmax(history["true_reward"])),
        "final_proxy": float(history["score"][-1]),
        "final_kl": float(history["kl"][-1]),
    }


def _runs_table(n: int, noise: float, seed: int, beta: float) -> None:
    runs = st.session_state.get(RUNS, {})
    tried = sorted((b, r) for (n_, noise_, seed_, b), r in runs.items()
                   if (n_, noise_, seed_) == (n, noise, seed))
    best = max(tried, key=lambda item: item[1]["final_true"])[0]
    st.markdown(f"**The β values you have tried with this reward model** ({n} pairs, τ = "
                f"{noise:g}, seed {seed}). Which one ends with the highest true reward?")
    st.dataframe(pd.DataFrame({
        "β": [f"{b:g}" + (" ← shown" if b == beta else "") for b, _ in tried],
        "true reward at the end": [f"{r['final_true']:.3f}" for _, r in tried],
        "best true reward on the way": [f"{r['best_true']:.3f}" for _, r in tried],
        "proxy at the end": [f"{r['final_proxy']:.3f}" for _, r in tried],
        "KL at the end (nats)": [f"{r['final_kl']:.2f}" for _, r in tried],
    }), hide_index=True, width="stretch")
    if len(tried) > 1:
        st.caption(f"So far β = {best:g} ends best. Try the others, or “Run every β”.")
    else:
        st.caption("Pick another β above, or “Run every β”, to compare.")


# 6. Self-check

QUESTIONS = [
    quiz.Choice(
        qid="memory",
        prompt="Which networks does RLHF hold in memory during PPO fine-tuning?",
        options=["Only the policy and the reward model",
                 "The policy, the reference, the reward model and the value model",
                 "Only the policy and the reference"],
        answer="The policy, the reference, the reward model and the value model",
        explanation="The policy and the value model (critic) train; the reference (for the KL "
        "penalty) and the reward model (for the score) are frozen copies. DPO needs only the "
        "policy and the reference.",
    ),
    quiz.Numeric(
        qid="pistar",
        prompt="Two replies, π_ref = (0.5, 0.5), rewards (2, 0), β = 1. What probability does "
        "the optimal policy π* give the first reply?",
        answer=float(rlhf.optimal_policy([0.5, 0.5], [2.0, 0.0], 1.0)[0]), tolerance=0.005,
        explanation="π* ∝ π_ref·e^(r/β): 0.5·e² = 3.69 and 0.5·e⁰ = 0.5, so Z = 4.19 and "
        "π*(first) = 3.69 / 4.19 = 0.881.",
    ),
    quiz.Numeric(
        qid="partition",
        prompt="Same two replies and β = 1: what is the partition function Z?",
        answer=float(rlhf.partition_function([0.5, 0.5], [2.0, 0.0], 1.0)), tolerance=0.01,
        explanation="Z = Σ π_ref·e^(r/β) = 0.5·e² + 0.5 = 4.19. The best objective value is "
        "β·log Z = 1.43.",
    ),
    quiz.Choice(
        qid="limit",
        prompt="What does the optimal policy π* become as β grows without bound?",
        options=["All probability on the best reply", "Every reply equally likely",
                 "The reference π_ref"],
        answer="The reference π_ref",
        explanation="e^(r/β) → 1 for every reply, so π* → π_ref: the KL penalty outweighs any "
        "reward. As β → 0 it goes the other way, to the best reply.",
    ),
    quiz.Numeric(
        qid="token",
        prompt="A token has probability 0.5 under the policy and 0.25 under π_ref, and β = 0.1. "
        "With the k1 estimator, what does the KL penalty add to this token's reward?",
        answer=float(rlhf.kl_penalised_reward(0.0, np.log([0.5]), np.log([0.25]), 0.1)[
            "kl_penalty"][0]), tolerance=0.002,
        explanation="k1 = log(0.5/0.25) = ln 2 = 0.693, and the penalty is −β·k1 = −0.069. "
        "The policy likes this token more than the reference does, so it pays.",
    ),
    quiz.Choice(
        qid="goodhart",
        prompt="During PPO the reward model's score keeps rising while the true reward falls. "
        "What helps?",
        options=["A smaller β, so the policy reaches the high scores sooner",
                 "More PPO iterations",
                 "A larger β, stopping earlier, or a better reward model"],
        answer="A larger β, stopping earlier, or a better reward model",
        explanation="The policy is exploiting the reward model's errors far from the data. A "
        "larger β keeps it closer to π_ref, where the reward model is reliable; more or cleaner "
        "pairs make the reward model reliable further out.",
    ),
]


def check_yourself() -> None:
    quiz.lesson_check(SLUG, QUESTIONS, 6, takeaway=(
        "RLHF fits a reward model to preference pairs, then runs PPO against it with a KL penalty"
        " to the reference model; β sets how far the policy may drift to chase the reward, and "
        "drifting too far exploits the reward model's mistakes."))


STEPS.show((the_pipeline, the_reward_model, the_objective, ppo_fine_tuning, over_optimisation,
            check_yourself))
