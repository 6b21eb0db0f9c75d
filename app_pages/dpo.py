"""DPO: the two pipelines, the loss with sliders, where the reward goes in the derivation, what
the gradient does, and DPO training of the tiny LM from a good and from a poor start.

The loss demo of step 2 has five sliders and one chart. They live in three nested fragments
(β, then the chosen pair, then the rejected pair with the chart), at most two sliders each, so a
slider reruns its own fragment and the ones inside it: the chart always shows all five values.
The chart is an explorable over β (ui/explorable.py): the slider under it moves β in the
browser, and the β slider above sets where it opens. Every training run on the page is replayed
step by step from the distributions and metrics the run recorded.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pandas as pd
import streamlit as st

from lessons import dpo, rlhf
from lessons import toy_lm as lm
from ui import cards, code, course, explorable, quiz, shared, state, steps
from ui import dpo_figures as df
from ui.figures import fmt, show
from ui.state import Param

SLUG = "dpo"
TASK = lm.make_task()

# 2. The loss
UNITS = ("probabilities", "log-probabilities")
EPSILONS = ("0.05", "0.1", "0.2", "0.3")
H_HALF_WIDTH = 4.0  # the loss chart spans at least −4..4 nats of h
H_POINTS = 41  # points of each smooth loss curve (the hinge is drawn through its corners)

# 3. The derivation
DERIVATION = ("a. The goal", "b. Its best policy", "c. Solve for the reward",
              "d. Into Bradley–Terry", "e. The DPO loss")
DERIVATION_BETAS = ("0.25", "0.5", "1", "2")
PATH_T = np.round(np.linspace(0.0, 2.5, 51), 2)  # π_t ∝ π_ref·exp(t·r/β): 0 = π_ref, 1 = π*

# 4. The gradient (a small batch, so every pair is a visible dot)
GRADIENT_PAIRS = 48
GRADIENT_BETA = 1.0
GRADIENT_LR = 0.1
GRADIENT_NOISE = 1.0
GRADIENT_SEED = 2  # a batch with a few pairs that also appear with the opposite label
GRADIENT_MAX_STEPS = 60  # the replay shows the batch after every one of these steps
WEIGHT_REACH = 8.0  # the weight curve spans at least −8..8 in margin

# 5. Training
TRAIN_STEPS = 150
REPLAY_FRAMES = 51  # a run keeps the policy at every third step (lm.checkpoint_steps)
SHOWN_REPLIES = 30  # replies drawn in the distribution replay
BETAS = ("0.1", "0.3", "1", "3")
RATES = ("0.03", "0.1", "0.3")
PAIR_COUNTS = (32, 128, 512, 2000)
NOISES = ("0", "0.5", "1", "2", "4")
SMOOTHINGS = ("0", "0.1", "0.2", "0.3")
LOSS_NAMES = {"sigmoid": "sigmoid (DPO)", "ipo": "ipo (IPO)", "hinge": "hinge (SLiC)",
              "unweighted": "unweighted (no weight)"}
TRACKED = 2  # most frequent chosen and rejected replies marked in the distribution replay
CHOSEN_ENDS = ("Above 0", "Below 0")  # the options of step 5's prediction

# 6. The starting model
START_BETAS = ("0.3", "1", "3")
TILTS = ("2", "1", "0.5")  # the poor start: π_ref·exp(−r/τ), smaller τ = poorer
BEST_REWARD = 3.0  # "the best replies": a reward of 3 or more

STEPS = steps.Steps("dpo", (
    "RLHF vs DPO",
    "The loss, with sliders",
    "Where does the reward go?",
    "What the gradient does",
    "Train the tiny LM with DPO",
    "Does the starting model matter?",
    "Check yourself",
))

# 2. The loss
UNIT = Param("dpo_units", UNITS[0], options=UNITS)
BETA = Param("dpo_beta", 1.0, lo=0.05, hi=3.0, step=0.05)
P_W = Param("dpo_pw", 0.30, lo=0.01, hi=1.0, step=0.01)
R_W = Param("dpo_rw", 0.20, lo=0.01, hi=1.0, step=0.01)
P_L = Param("dpo_pl", 0.10, lo=0.01, hi=1.0, step=0.01)
R_L = Param("dpo_rl", 0.15, lo=0.01, hi=1.0, step=0.01)
LP_W = Param("dpo_lpw", -1.2, lo=-10.0, hi=0.0, step=0.1)
LR_W = Param("dpo_lrw", -1.6, lo=-10.0, hi=0.0, step=0.1)
LP_L = Param("dpo_lpl", -2.3, lo=-10.0, hi=0.0, step=0.1)
LR_L = Param("dpo_lrl", -1.9, lo=-10.0, hi=0.0, step=0.1)
VARIANTS = Param("dpo_variants", True)
EPSILON = Param("dpo_eps", "0.1", options=EPSILONS)
# 3. The derivation
SUBSTEP = Param("dpo_deriv", DERIVATION[0], options=DERIVATION)
D_REWARDS = Param("dpo_d_rewards", "2, 1, 0, -1", max_chars=80)
D_REF = Param("dpo_d_ref", "0.1, 0.3, 0.4, 0.2", max_chars=80)
D_BETA = Param("dpo_d_beta", "1", options=DERIVATION_BETAS)
# 4. The gradient
G_AT = Param("dpo_g_at", 10, lo=0, hi=GRADIENT_MAX_STEPS, step=5)
# 5. Training
T_BETA = Param("dpo_t_beta", "1", options=BETAS)
T_LR = Param("dpo_t_lr", "0.1", options=RATES)
T_PAIRS = Param("dpo_t_pairs", 128, options=PAIR_COUNTS)
T_NOISE = Param("dpo_t_noise", "1", options=NOISES)
T_LOSS = Param("dpo_t_loss", "sigmoid", options=dpo.LOSS_TYPES)
T_SMOOTH = Param("dpo_t_eps", "0", options=SMOOTHINGS)
T_SEED = Param("dpo_t_seed", 0, lo=0, hi=9999, step=1)
CHOSEN_GUESS = Param("dpo_chosen_guess", None, options=CHOSEN_ENDS)
# 6. The starting model
S_BETA = Param("dpo_s_beta", "1", options=START_BETAS)
S_TILT = Param("dpo_s_tau", "1", options=TILTS)

PARAMS = (STEPS.param, UNIT, BETA, P_W, R_W, P_L, R_L, LP_W, LR_W, LP_L, LR_L, VARIANTS,
          EPSILON, SUBSTEP, D_REWARDS, D_REF, D_BETA, G_AT, T_BETA, T_LR, T_PAIRS, T_NOISE,
          T_LOSS, T_SMOOTH, T_SEED, CHOSEN_GUESS, S_BETA, S_TILT)
PROBABILITY_SLIDERS = (P_W, P_L, R_W, R_L)  # the order of dpo_loss's arguments
LOG_SLIDERS = (LP_W, LP_L, LR_W, LR_L)
BETA_GRID = np.round(np.arange(BETA.lo, BETA.hi + BETA.step / 2, BETA.step), 2)  # the frames
GRADIENT_GRID = lm.checkpoint_steps(GRADIENT_MAX_STEPS, GRADIENT_MAX_STEPS + 1)  # 0, 1, ..., 60
REPLAY_STEPS = lm.checkpoint_steps(TRAIN_STEPS, REPLAY_FRAMES)  # 0, 3, ..., 150

DEFAULT_RUN = (float(T_BETA.default), float(T_LR.default), T_PAIRS.default,
               float(T_NOISE.default), T_LOSS.default, float(T_SMOOTH.default), T_SEED.default)


# Page-side caches: every result is a pure function of its settings


@shared.cache_data(max_entries=16, show_spinner=False)
def _pairs(n_pairs: int, noise: float, seed: int) -> dict:
    return lm.preference_pairs(TASK, n_pairs, seed, noise)


@shared.cache_resource(max_entries=4, show_spinner=False)
def _start_task(tilt: str | None) -> lm.Task:
    """The tiny LM with its usual reference (tilt None), or with a poor one: the reference
    tilted away from the hidden taste, π_ref·exp(−r/τ)/Z, so the best replies get little
    probability (written into a copy of the task, so the DPO loss uses it as π_ref).
    A resource, not data: the same object every time, so the task's own caches stay warm."""
    if tilt is None:
        return TASK
    poor = rlhf.optimal_policy(TASK.ref_probs, -TASK.true_rewards, float(tilt))
    logits = lm.logits_for(TASK, poor)
    return dataclasses.replace(TASK, ref_logits=logits,
                               ref_logps=lm.sequence_logprobs(TASK, logits),
                               ref_probs=lm.distribution(TASK, logits))


def _after_each_step(task: lm.Task, run: dict, pairs: dict, beta: float, loss_type: str,
                     smoothing: float) -> dict:
    """TRL's metrics of the policy after 0, 1, ..., TRAIN_STEPS steps, next to the exact ones.

    A step logs TRL's metrics for the policy it starts from, before it updates: the metrics
    after s steps are logged by step s + 1, and the trained policy's come from its own
    log-probabilities. The exact true_reward and kl are recorded after each step already."""
    history = run["history"]
    logps = lm.sequence_logprobs(task, run["logits"])
    prompt, chosen, rejected = pairs["prompt"], pairs["chosen"], pairs["rejected"]
    policy_chosen, policy_rejected = logps[prompt, chosen], logps[prompt, rejected]
    final = dpo.logged_metrics(dpo.dpo_loss(
        policy_chosen, policy_rejected, task.ref_logps[prompt, chosen],
        task.ref_logps[prompt, rejected], beta, loss_type, smoothing), policy_chosen,
        policy_rejected)
    return {key: np.append(history[key][1:], final[key]) for key in lm.DPO_METRICS} | {
        key: history[key] for key in ("step", "true_reward", "kl")}


@shared.cache_data(max_entries=24, show_spinner="Training with DPO…")
def _run(beta: float, lr: float, n_pairs: int, noise: float, loss_type: str, smoothing: float,
         seed: int, start: str | None = None) -> dict:
    """One full-batch DPO run of TRAIN_STEPS steps with Adam from the start's reference, on the
    pairs of these settings: the policy at REPLAY_STEPS, the metrics after every step (see
    `_after_each_step`) and the run's wall time."""
    began = time.perf_counter()
    task, pairs = _start_task(start), _pairs(n_pairs, noise, seed)
    run = lm.train_dpo(task, pairs, beta=beta, loss_type=loss_type, label_smoothing=smoothing,
                       steps=TRAIN_STEPS, lr=lr, checkpoints=REPLAY_FRAMES)
    run["after"] = _after_each_step(task, run, pairs, beta, loss_type, smoothing)
    run["seconds"] = time.perf_counter() - began
    return run


def _loss_kinds(variants: bool, epsilon: float) -> dict[str, tuple[str, float]]:
    """The curves of step 2's chart: name -> (loss_type, label_smoothing)."""
    return {"DPO": ("sigmoid", 0.0)} | ({
        "IPO": ("ipo", 0.0), "hinge": ("hinge", 0.0), "cDPO": ("sigmoid", epsilon)}
        if variants else {})


@shared.cache_data(max_entries=16, show_spinner=False)
def _loss_curves(half: int, variants: bool, epsilon: float) -> tuple[np.ndarray, dict]:
    """Step 2's loss curves over h in [−half, half] at every β of the grid, ready to draw:
    the same for every pair whose h fits, so a probability slider only recomputes the pair."""
    grid = np.linspace(-half, half, H_POINTS)
    curves = {}
    for name, (kind, eps) in _loss_kinds(variants, epsilon).items():
        curves[name] = []
        for beta in BETA_GRID:
            # max(0, 1 − β·h) is straight but for its corner at h = 1/β
            x = None if kind != "hinge" else np.array([-half, min(1 / beta, half), half])
            curves[name].append((x, dpo.losses_of_h(grid if x is None else x, beta, kind, eps)))
    return grid, df.loss_curves(curves)


@shared.cache_data(max_entries=64, show_spinner=False)
def _loss_explorable(logps: tuple[float, float, float, float], variants: bool,
                     epsilon: float) -> dict:
    """Step 2's chart for one pair, logps = (log π_θ(y_w), log π_θ(y_l), log π_ref(y_w),
    log π_ref(y_l)), at every β of the slider's grid."""
    policy_chosen, policy_rejected, ref_chosen, ref_rejected = logps
    h = dpo.logratio_difference(*logps)
    log_ratios = (dpo.implicit_reward(policy_chosen, ref_chosen, 1.0),
                  dpo.implicit_reward(policy_rejected, ref_rejected, 1.0))
    half = math.ceil(max(H_HALF_WIDTH, abs(h) + 1, *(abs(r) + 1 for r in log_ratios)))
    grid, curves = _loss_curves(half, variants, epsilon)
    kinds = _loss_kinds(variants, epsilon)
    points = []
    for beta in BETA_GRID:
        result = dpo.dpo_loss(*logps, beta)
        points.append({
            "loss": result["loss"], "slope": dpo.loss_gradient(h, beta),
            "chosen": result["chosen_rewards"], "rejected": result["rejected_rewards"],
            "margin": result["margin"], "weight": result["gradient_weight"],
            "variants": {name: dpo.losses_of_h(h, beta, kind, eps)
                         for name, (kind, eps) in list(kinds.items())[1:]}})
    return df.loss_explorable(grid, h, log_ratios, BETA_GRID, curves, points)


@shared.cache_data(show_spinner="Training the step-4 batch…")
def _weights_replay() -> dict:
    """The step-4 batch after every step of its run: DPO's margin and weight for every pair."""
    pairs = _pairs(GRADIENT_PAIRS, GRADIENT_NOISE, GRADIENT_SEED)
    prompt, chosen, rejected = pairs["prompt"], pairs["chosen"], pairs["rejected"]
    run = lm.train_dpo(TASK, pairs, beta=GRADIENT_BETA, steps=GRADIENT_MAX_STEPS,
                       lr=GRADIENT_LR, checkpoints=len(GRADIENT_GRID))
    margins, weights, accuracies, losses = [], [], [], []
    for probs in run["checkpoints"]["probs"]:
        logps = np.log(probs)
        policy_chosen, policy_rejected = logps[prompt, chosen], logps[prompt, rejected]
        result = dpo.dpo_loss(policy_chosen, policy_rejected, TASK.ref_logps[prompt, chosen],
                              TASK.ref_logps[prompt, rejected], GRADIENT_BETA)
        metrics = dpo.logged_metrics(result, policy_chosen, policy_rejected)
        margins.append(result["margin"])
        weights.append(result["gradient_weight"])
        accuracies.append(metrics["rewards/accuracies"])
        losses.append(metrics["loss"])
    margins = np.array(margins)
    curve = np.linspace(min(-WEIGHT_REACH, margins.min() - 0.5),
                        max(WEIGHT_REACH, margins.max() + 0.5), 121)
    return df.weights_replay(curve, dpo.gradient_weight(curve, 0.0), run["checkpoints"]["step"],
                             margins, np.array(weights), pairs["agrees"], accuracies, losses)


@shared.cache_data(max_entries=4, show_spinner=False)
def _unweighted_replay() -> dict:
    """Step 4's comparison, DPO and the update without its weight, replayed."""
    beta, lr, n_pairs, noise, _, _, seed = DEFAULT_RUN
    runs = {name: _run(beta, lr, n_pairs, noise, name, 0.0, seed)["after"]
            for name in ("sigmoid", "unweighted")}
    series = []
    for name, dash, label in (("sigmoid", "solid", "DPO"), ("unweighted", "dash", "no weight")):
        series.append(dict(name=f"{label}: logps/chosen", y=runs[name]["logps/chosen"],
                           role="chosen", dash=dash))
        series.append(dict(name=f"{label}: logps/rejected", y=runs[name]["logps/rejected"],
                           role="rejected", dash=dash))
    notes = [f"After {s} steps (mean log π_θ, nats):<br>" + "<br>".join(
        f"{label} chosen {df.signed(runs[name]['logps/chosen'][s], 2)} · rejected "
        f"{df.signed(runs[name]['logps/rejected'][s], 2)}"
        for name, label in (("sigmoid", "DPO"), ("unweighted", "no weight")))
        for s in REPLAY_STEPS]
    return df.curves_replay(runs["sigmoid"]["step"], [dict(
        y_title="mean log π_θ(y) over the pairs (nats)", series=series,
        legend="bottom left")],
        REPLAY_STEPS, notes, "Log-probabilities of chosen and rejected")


@shared.cache_data(max_entries=16, show_spinner=False)
def _training_replays(beta: float, lr: float, n_pairs: int, noise: float, loss_type: str,
                      smoothing: float, seed: int) -> tuple[dict, dict, dict]:
    """Step 5's three replays of one run: the distribution over replies with the implicit
    rewards, TRL's accuracy and loss, and the exact reward and KL."""
    run = _run(beta, lr, n_pairs, noise, loss_type, smoothing, seed)
    after, probs = run["after"], run["checkpoints"]["probs"]
    pairs = _pairs(n_pairs, noise, seed)
    star = lm.optimum(TASK, beta)
    star_reward = lm.expected_reward(star, TASK.true_rewards)
    star_kl = lm.exact_kl(star, TASK.ref_probs)
    tracked = _tracked_replies(pairs)
    shown = df.shown_replies(TASK.ref_probs, star, probs[-1], [r for r, _ in tracked],
                             SHOWN_REPLIES)
    index = tuple(np.array(shown).T)
    notes = []
    for k, s in enumerate(REPLAY_STEPS):
        prompt, reply = (int(i) for i in np.unravel_index(int(np.argmax(probs[k])),
                                                            probs[k].shape))
        notes.append(
            f"After {s} steps: rewards/chosen {df.signed(after['rewards/chosen'][s], 3)}<br>"
            f"rewards/rejected {df.signed(after['rewards/rejected'][s], 3)}, margins "
            f"{df.signed(after['rewards/margins'][s], 3)}<br>favourite reply "
            f"({_share(probs[k][prompt, reply])}):<br>{_quoted(prompt, reply)}")
    rewards = dict(y_title="mean over the pairs (β·nats)", legend="above",
                   levels=[(0.0, "", "muted")], series=[
                       dict(name="rewards/chosen", y=after["rewards/chosen"], role="chosen"),
                       dict(name="rewards/rejected", y=after["rewards/rejected"],
                            role="rejected"),
                       dict(name="rewards/margins", y=after["rewards/margins"], role="exact",
                            dash="dash")])
    distribution = df.training_replay(
        [_quoted(p, r) for p, r in shown], TASK.ref_probs[index], star[index],
        probs[(slice(None), *index)], [(shown.index(r), role) for r, role in tracked],
        REPLAY_STEPS, after["step"], rewards, notes)
    logged = df.curves_replay(after["step"], [
        dict(y_title="pairs ranked right (%)", range=[-4, 104], series=[dict(
            name="rewards/accuracies", y=100 * after["rewards/accuracies"], role="policy")]),
        dict(y_title="mean loss over the pairs", legend="above", series=[dict(
            name=f"loss ({LOSS_NAMES[loss_type]})", y=after["loss"], role="policy",
            dash="dash")])],
        REPLAY_STEPS, [f"After {s} steps: rewards/accuracies "
                       f"{100 * after['rewards/accuracies'][s]:.0f} %<br>loss "
                       f"{after['loss'][s]:.3f}" for s in REPLAY_STEPS],
        "TRL's accuracy and loss on the pairs", one_legend=True)
    exact = df.curves_replay(after["step"], [
        dict(y_title="E[r] over all replies (points)",
             series=[dict(name="E[r] of π_θ", y=after["true_reward"], role="policy")],
             levels=[(star_reward, f"π* at β = {beta:g}: {star_reward:.2f}", "exact")]),
        dict(y_title="KL(π_θ ‖ π_ref) (nats)", legend="above",
             series=[dict(name="KL(π_θ ‖ π_ref)", y=after["kl"], role="policy", dash="dash")],
             levels=[(star_kl, f"π* at β = {beta:g}: {star_kl:.2f}", "exact")])],
        REPLAY_STEPS, [f"After {s} steps: E[r] {_number(after['true_reward'][s])} (π*: "
                       f"{_number(star_reward)})<br>KL {after['kl'][s]:.3f} nats (π*: "
                       f"{star_kl:.3f})" for s in REPLAY_STEPS],
        "The exact reward and KL of the model", one_legend=True)
    return distribution, logged, exact


@shared.cache_data(max_entries=16, show_spinner=False)
def _start_replay(beta: float, tilt: str) -> dict:
    """Step 6's two runs, from the good and from the poor reference, replayed side by side."""
    _, lr, n_pairs, noise, _, _, seed = DEFAULT_RUN
    runs = {name: _run(beta, lr, n_pairs, noise, "sigmoid", 0.0, seed,
                       start=None if name == "good" else tilt) for name in ("good", "poor")}
    best = (TASK.true_rewards >= BEST_REWARD).astype(float)
    best_share = {name: [lm.expected_reward(probs, best) for probs in run["checkpoints"]["probs"]]
                  for name, run in runs.items()}
    runs = {name: run["after"] for name, run in runs.items()}
    star_rewards = {name: lm.expected_reward(lm.optimum(_start_task(start), beta),
                                             TASK.true_rewards)
                    for name, start in (("good", None), ("poor", tilt))}
    styles = {"good": dict(role="policy"), "poor": dict(role="Q", dash="dash")}
    notes = [f"After {s} steps: E[r] · KL (nats) · P(r ≥ {BEST_REWARD:g})<br>" + "<br>".join(
        f"{name} start: {_number(runs[name]['true_reward'][s])} · {runs[name]['kl'][s]:.3f} · "
        f"{_share(best_share[name][k])}" for name in runs) for k, s in enumerate(REPLAY_STEPS)]
    return df.curves_replay(runs["good"]["step"], [
        dict(y_title="E[r] (points)", legend=None, series=[
            dict(name=f"{name} start", y=runs[name]["true_reward"], **styles[name])
            for name in runs], levels=[
            (star_rewards[name], f"π* from the {name} start", styles[name]["role"])
            for name in runs]),
        dict(y_title="KL(π_θ ‖ its π_ref) (nats)", legend="bottom right", series=[
            dict(name=f"{name} start", y=runs[name]["kl"], **styles[name]) for name in runs])],
        REPLAY_STEPS, notes, "One DPO run from a good and a poor start")


# Small formatting helpers


def _quoted(prompt: int, reply: int) -> str:
    return f"“{TASK.prompts[prompt]} {TASK.texts[reply]}”"


def _snap(value: float, p: Param) -> float:
    """A value moved onto a slider's range and grid (when the units switch)."""
    steps_from_lo = round((min(max(value, p.lo), p.hi) - p.lo) / p.step)
    return round(p.lo + steps_from_lo * p.step, 4)


def _number(value: float, digits: int = 3) -> str:
    """A number with a real minus sign."""
    return f"{value:.{digits}f}".replace("-", "−")


def _share(value: float) -> str:
    return f"{100 * value:.1f} %" if value >= 0.001 else f"{100 * value:.2g} %"


# The page

st.title("DPO: the loss, the derivation, the training")
state.check_link(PARAMS)
st.markdown(
    "RLHF needs a reward model and a reinforcement learning loop. **Direct Preference "
    "Optimization** (DPO) gets to the same goal with neither: it trains the language model "
    "directly on the preference pairs, with one loss that only needs log-probabilities. This "
    "lesson takes that loss apart with sliders, derives it one line at a time (and shows where "
    "the reward model went), then trains the course's tiny language model with it."
)
st.caption(f"Accompanies *{course.VIDEOS['dpo']}* by {course.SERIES_AUTHOR}. Equations follow "
           "Rafailov et al. (2023), *Direct Preference Optimization: Your Language Model is "
           "Secretly a Reward Model*; the loss variants follow Hugging Face TRL's `DPOTrainer`.")


# 1. RLHF vs DPO


def pipelines() -> None:
    st.header("1. RLHF vs DPO", divider="gray")
    st.markdown(
        "Both methods start from the same two things: a language model that already writes "
        "fluently (the **reference** π_ref, usually the model after supervised fine-tuning) and "
        "a dataset of **preference pairs**: a prompt x, two replies, and which one people "
        "preferred (y_w, the winner, over y_l, the loser). Both aim at the same policy too. "
        "They differ in how they get there."
    )
    for column, (method, (summary, stages)) in zip(st.columns(2, gap="medium"),
                                                   PIPELINES.items(), strict=True):
        with column:
            _pipeline(method, summary, stages)
    st.caption("Each box says what it is: data (blue), the reward model (orange), a network "
               "that is trained (violet) or kept frozen (grey). The arrows say what flows.")
    cards.equation_card(
        r"\max_{\pi_\theta}\; \mathbb{E}_{x,\; y \sim \pi_\theta}\big[r_\phi(x, y)\big]"
        r" - \beta\, \mathrm{KL}\big(\pi_\theta \,\|\, \pi_{\text{ref}}\big)",
        "RLHF's goal: a high reward from the reward model, paying β for every nat of KL "
        "divergence from the reference. PPO climbs it by sampling.",
        "RLHF", "Rafailov et al. 2023, Eq. 3",
    )
    cards.equation_card(
        r"\mathcal{L}_\text{DPO} = -\,\mathbb{E}_{(x, y_w, y_l)}\Big[\log \sigma\Big("
        r"\beta \log \tfrac{\pi_\theta(y_w \mid x)}{\pi_\text{ref}(y_w \mid x)} - "
        r"\beta \log \tfrac{\pi_\theta(y_l \mid x)}{\pi_\text{ref}(y_l \mid x)}\Big)\Big]",
        "DPO's loss: a classification loss on the pairs, written with the policy's and the "
        "reference's log-probabilities. No reward model, no sampling.",
        "DPO", "Rafailov et al. 2023, Eq. 7",
    )
    st.markdown(
        "| | RLHF with PPO | DPO |\n|---|---|---|\n"
        "| Networks in memory while training | 4: policy π_θ, value net V (both trained), "
        "reference π_ref, reward model r_φ (both frozen) | 2: policy π_θ (trained), "
        "reference π_ref (frozen) |\n"
        "| Training stages after SFT | 2: fit r_φ, then PPO | 1 |\n"
        "| Generates replies during training | yes, every PPO iteration | no: it only scores "
        "the replies already in the pairs |\n"
        "| Where the KL to π_ref enters | a penalty on every sampled token | inside the loss, "
        "through log π_θ/π_ref |\n"
        "| What the data must cover | prompts (replies are sampled) | prompts *and* replies "
        "(offline pairs) |"
    )
    cards.takeaway("DPO and RLHF aim at the same KL-regularised target. DPO gets there with "
                   "a single supervised loss on two networks' log-probabilities; step 3 shows "
                   "why that is allowed.")


# Each pipeline: a summary, then its parts top to bottom as (name, role, what it does, the
# arrow to the next box); a part without an arrow shares its box with the next part (π_ref
# sits beside the stage that reads it). A role is one of PIPELINE_ROLES.
PIPELINE_ROLES = {"data": ("blue", "data"), "reward": ("orange", "reward model"),
                  "trained": ("violet", "trained"), "frozen": ("gray", "frozen")}
PIPELINES = {
    "RLHF": ("4 networks in memory (π_θ and the value net V trained; π_ref and r_φ frozen), "
             "and it samples from π_θ at every step.", (
                 ("Preference pairs", "data", "a prompt x, y_w preferred to y_l",
                  "fit with Bradley–Terry"),
                 ("Reward model r_φ", "reward", "scores any reply: r_φ(x, y)",
                  "scores every reply that PPO samples"),
                 ("PPO loop", "trained", "sample y from π_θ, score it with r_φ, pay β·KL to "
                  "π_ref; a value net V estimates the gain", None),
                 ("π_ref", "frozen", "a frozen copy of the SFT model, for the KL",
                  "many PPO iterations"),
                 ("π_θ", "trained", "fine-tuned", None))),
    "DPO": ("2 networks (π_θ trained, π_ref frozen); no reward model, no sampling, no RL.", (
        ("Preference pairs", "data", "the same data",
         "log-probabilities of y_w and y_l under π_θ and π_ref"),
        ("DPO loss", "trained", "−log σ(β·log π_θ(y_w)/π_ref(y_w) − β·log π_θ(y_l)/π_ref(y_l)), "
         "one supervised loss on the pairs", None),
        ("π_ref", "frozen", "its log-probabilities can be computed once, before training",
         "gradient steps on π_θ"),
        ("π_θ", "trained", "fine-tuned", None))),
}


def _pipeline(method: str, summary: str, parts: tuple) -> None:
    """One pipeline, top to bottom: a box per stage, and the arrows between them."""
    st.markdown(f"**{method}**: {summary}")
    box = None
    for name, role, text, arrow in parts:
        if box is None:
            box = st.container(border=True)
        color, word = PIPELINE_ROLES[role]
        box.markdown(f":{color}-background[**{name}** · {word}] {text}")
        if arrow is not None:
            box = None
            st.caption(f"↓ {arrow}")


# 2. The loss, with sliders


def loss_with_sliders() -> None:
    st.header("2. The loss, with sliders", divider="gray")
    st.markdown(
        "Everything DPO needs from one pair is four numbers: how likely the policy and the "
        "frozen reference find the chosen reply y_w and the rejected reply y_l. From them it "
        "builds an **implicit reward** for each reply, the log-ratio of policy to reference "
        "times β, and asks, like a Bradley–Terry model, that the chosen reply's reward beat the "
        "rejected one's. The chart puts the pair where its four probabilities place it, at "
        "h = ρ_w − ρ_l, the difference of its two log-ratios ρ = log π_θ/π_ref; the slider "
        "under the chart changes β, and with it how steeply the loss reads that h."
    )
    one, two, three = st.columns(3)
    with one:
        cards.equation_card(
            r"\hat r(y) = \beta \log \frac{\pi_\theta(y \mid x)}{\pi_\text{ref}(y \mid x)}",
            "The implicit reward of a reply (y_w gives r̂_w, y_l gives r̂_l): positive when "
            "the policy likes it more than the reference does. TRL logs rewards/chosen and "
            "rewards/rejected.",
            "DPO", "Rafailov et al. 2023, §5",
        )
    with two:
        cards.equation_card(
            r"\begin{aligned} m &= \hat r_w - \hat r_l \\ \mathcal{L}_\text{DPO} &= "
            r"-\log \sigma(m) \end{aligned}",
            "The margin and the loss of one pair: Bradley–Terry's log-likelihood that the "
            "chosen reply wins, with implicit rewards as the scores.",
            "DPO", "Rafailov et al. 2023, Eq. 7",
        )
    with three:
        cards.equation_card(
            r"\begin{aligned} -\frac{\partial \mathcal{L}_\text{DPO}}{\partial m} &= "
            r"\sigma(-m) \\ &= \sigma(\hat r_l - \hat r_w) \end{aligned}",
            "The gradient weight: how hard this pair still pushes, the steepness of the loss "
            "at the pair's margin (against h, the chart's axis, the slope is β·σ(−m)).",
            "DPO", "Rafailov et al. 2023, §4",
        )
    top = st.columns([1.4, 1, 1], vertical_alignment="bottom")
    with top[0]:
        units = state.choice(UNIT, "Set the four probabilities as", on_change=_convert_units,
                             help="Real replies have tiny probabilities; log-probabilities "
                             "(natural logs, nats) are what training code works with.")
    with top[1]:
        variants = state.toggle(VARIANTS, "Show the variants",
                                help="Overlay IPO, hinge (SLiC) and conservative DPO.")
    with top[2]:
        epsilon = float(state.choice(EPSILON, "cDPO's label smoothing ε",
                                     help="The chance, assumed by conservative DPO, that a "
                                     "label is flipped."))
    _loss_demo(units, variants, epsilon)
    st.markdown(
        "**The variants**, all against the same h (the loss types of TRL's `DPOTrainer`, "
        "which computes them from h):\n"
        "- **DPO** (`sigmoid`, pink): never zero, so it keeps pushing every pair's margin "
        "up, ever more gently (the weight σ(−m) fades but never reaches 0).\n"
        "- **IPO** (`ipo`, Azar et al. 2023, black dashes): a square around a target margin of "
        "½, that is h = 1/(2β): slide β and watch its lowest point move. It stops pushing "
        "there and even pulls back pairs that overshoot, so margins cannot run off to "
        "infinity on a few pairs.\n"
        "- **hinge** (`hinge`, SLiC, Zhao et al. 2023, blue dots): exactly zero once the "
        "margin passes 1 (h beyond 1/β), so pairs ranked right by a clear margin drop out of "
        "training entirely.\n"
        "- **conservative DPO** (`sigmoid` with `label_smoothing` ε, orange dash-dots): "
        "assumes a share ε of labels is flipped, so its curve turns up again for large "
        "margins: its lowest point is where σ(m) = 1 − ε, a finite margin, instead of "
        "infinity."
    )
    cards.equation_card(
        r"\begin{aligned} \text{IPO: } & \Big(h - \frac{1}{2\beta}\Big)^2 = "
        r"\frac{(m - \frac12)^2}{\beta^2} \\ \text{hinge: } & \max(0,\, 1 - m) \\ "
        r"\text{cDPO: } & -(1-\varepsilon)\log\sigma(m) - \varepsilon \log \sigma(-m) "
        r"\end{aligned}",
        "The three variants as functions of h, the log-ratio difference "
        "log π_θ(y_w)/π_θ(y_l) − log π_ref(y_w)/π_ref(y_l), and of the margin m = β·h.",
        "DPO", "variants: IPO (Azar et al. 2023, Eq. 17), SLiC hinge, conservative DPO",
    )
    code.show_code(dpo.implicit_reward, dpo.dpo_loss, dpo.loss_of_margin)
    cards.takeaway("The loss sees one number per pair, the margin between two implicit "
                   "rewards. Raising π_θ(y_w) or lowering π_θ(y_l) both widen it, and β "
                   "stretches it: the same probabilities give a larger margin at a larger β.")


def _convert_units() -> None:
    """Carry the four probabilities over to the other units when the switch changes."""
    to_log = st.session_state[UNIT.key] == UNITS[1]
    pairs = zip(PROBABILITY_SLIDERS, LOG_SLIDERS, strict=True)
    for prob, logp in pairs:
        if to_log:
            value = float(st.session_state.get(prob.key, prob.default))
            st.session_state[logp.key] = _snap(math.log(value), logp)
        else:
            value = float(st.session_state.get(logp.key, logp.default))
            st.session_state[prob.key] = _snap(math.exp(value), prob)


# Five sliders, at most two per fragment, and one chart that always shows all five: the
# fragments are nested (β ⊃ chosen pair ⊃ rejected pair ⊃ chart), so whichever slider moves,
# its fragment reruns the chart inside it, and nothing else.


@st.fragment
def _loss_demo(units: str, variants: bool, epsilon: float) -> None:
    beta = float(state.slider(BETA, "β, the strength of the KL leash",
                              help="Sets the β the chart opens at, and goes into the shared "
                              "link; the slider under the chart moves β at once. TRL's "
                              "default is 0.1. Larger β: the same probabilities make larger "
                              "rewards and margins."))
    _chosen_pair(units, variants, epsilon, beta)


@st.fragment
def _chosen_pair(units: str, variants: bool, epsilon: float, beta: float) -> None:
    chosen = _pair_sliders(units, "y_w", P_W, R_W, LP_W, LR_W)
    _rejected_pair(units, variants, epsilon, beta, chosen)


def _pair_sliders(units: str, reply: str, *params: Param) -> tuple[float, float]:
    """(log π_θ, log π_ref) of one reply, from its two sliders in the chosen units."""
    policy, ref, log_policy, log_ref = params
    role = "chosen" if reply == "y_w" else "rejected"
    left, right = st.columns(2)
    if units == UNITS[0]:
        with left:
            logp = math.log(state.slider(policy, f"π_θ({reply} | x), the policy ({role})"))
        with right:
            ref_logp = math.log(state.slider(ref, f"π_ref({reply} | x), the reference ({role})"))
        return logp, ref_logp
    with left:
        logp = float(state.slider(log_policy, f"log π_θ({reply} | x), the policy ({role}), nats"))
    with right:
        ref_logp = float(state.slider(log_ref, f"log π_ref({reply} | x), the reference ({role}), "
                                      "nats"))
    return logp, ref_logp


@st.fragment
def _rejected_pair(units: str, variants: bool, epsilon: float, beta: float,
                   chosen: tuple[float, float]) -> None:
    rejected = _pair_sliders(units, "y_l", P_L, R_L, LP_L, LR_L)
    logps = (chosen[0], rejected[0], chosen[1], rejected[1])
    h = dpo.logratio_difference(*logps)
    explorable.show(
        _loss_explorable(logps, variants, epsilon), key="dpo_loss_chart",
        start=explorable.nearest(BETA_GRID, beta),
        caption=f"Your four probabilities fix h = {df.signed(h)} nats (the dotted line); β "
        "only decides how the loss reads it, through the margin m = β·h. Drag the slider under "
        "the chart: the curves steepen as β grows, and the yellow point, your pair, rides the "
        "pink DPO curve, its black tangent falling with slope β·σ(−m). The numbers above the "
        "chart are for the β under it. Below the curves: the pair's two log-ratios; h is the "
        "gap between them.")


# 3. Where does the reward go?


def derivation() -> None:
    st.header("3. Where does the reward go?", divider="gray")
    st.markdown(
        "A learner asked how human preferences end up inside the network's own probabilities. "
        "The answer is a five-line derivation: the reward model does not disappear, it is "
        "*solved for* and written in terms of the policy. Step through it one line per click; "
        "each line is checked with numbers on a handful of replies whose rewards you choose."
    )
    sub = state.choice(SUBSTEP, "Line of the derivation")
    number = DERIVATION.index(sub)
    back, _, forward = st.columns([1, 2, 1])
    if number > 0:
        back.button("Previous line", key="dpo_deriv_back", on_click=_move_substep, args=(-1,),
                    icon=":material/arrow_back:", width="stretch")
    if number < len(DERIVATION) - 1:
        forward.button("Next line", key="dpo_deriv_next", on_click=_move_substep, args=(1,),
                       icon=":material/arrow_forward:", type="primary", width="stretch")
    a, b, c = st.columns([2, 2, 1.2])
    with a:
        rewards_text = state.text(D_REWARDS, "True rewards r(y) of the replies",
                                  help="Two to six numbers, separated by commas.")
    with b:
        ref_text = state.text(D_REF, "Their reference probabilities π_ref(y)",
                              help="As many numbers, each > 0, adding up to 1.")
    with c:
        beta = float(state.choice(D_BETA, "β"))
    try:
        rewards = np.array(state.parse_numbers(rewards_text, "The rewards", 2, 6))
        ref = np.array(state.parse_numbers(ref_text, "The reference probabilities", 2, 6))
        check = dpo.derivation_check(ref, rewards, beta)
    except ValueError as error:
        st.error(str(error), icon=":material/error:")
        return
    names = [f"y{i + 1}" for i in range(len(rewards))]
    if number:
        with st.container(border=True):
            st.caption("The derivation so far")
            for done in range(number):
                _derivation_line(done, DERIVATION[done])
    SUBSTEPS[number](names, ref, rewards, beta, check)
    code.show_code(dpo.derivation_check, dpo.population_dpo_loss)
    cards.takeaway("The reward model is still there, in disguise: r̂ = β·log(π/π_ref) is a "
                   "reward, and at the optimum it equals the true reward up to β·log Z(x), a "
                   "constant per prompt that no preference can see.")


def _move_substep(by: int) -> None:
    now = DERIVATION.index(st.session_state.get(SUBSTEP.key, SUBSTEP.default))
    st.session_state[SUBSTEP.key] = DERIVATION[min(max(now + by, 0), len(DERIVATION) - 1)]


# Each line of the derivation belongs to a method: RLHF's goal and its optimum, DPO's change of
# variables, the Bradley–Terry model of preferences, the DPO loss.
DERIVATION_METHODS = ("RLHF", "RLHF", "DPO", "Bradley–Terry", "DPO")
DERIVATION_SOURCES = tuple(f"Rafailov et al. 2023, Eq. {n}" for n in (3, 4, 5, 6, 7))
DERIVATION_LINES = (
    r"\max_\pi\; \mathbb{E}_{y \sim \pi}[r(y)] - \beta\, \mathrm{KL}(\pi \,\|\, \pi_\text{ref})",
    r"\begin{aligned} \pi^*(y) &= \frac{\pi_\text{ref}(y)\, e^{r(y)/\beta}}{Z} \\ Z &= "
    r"\sum_y \pi_\text{ref}(y)\, e^{r(y)/\beta} \end{aligned}",
    r"r(y) = \beta \log \frac{\pi^*(y)}{\pi_\text{ref}(y)} + \beta \log Z",
    r"\begin{aligned} P(y_w \succ y_l) &= \sigma\big(r(y_w) - r(y_l)\big) \\ &= \sigma\Big("
    r"\beta \log \frac{\pi^*(y_w)}{\pi_\text{ref}(y_w)} - \beta \log "
    r"\frac{\pi^*(y_l)}{\pi_\text{ref}(y_l)}\Big) \end{aligned}",
    r"\mathcal{L}_\text{DPO}(\pi_\theta) = -\mathbb{E}\Big[\log \sigma\Big(\beta \log "
    r"\frac{\pi_\theta(y_w)}{\pi_\text{ref}(y_w)} - \beta \log \frac{\pi_\theta(y_l)}"
    r"{\pi_\text{ref}(y_l)}\Big)\Big]",
)


def _derivation_line(number: int, reading: str) -> None:
    cards.equation_card(DERIVATION_LINES[number], reading, DERIVATION_METHODS[number],
                        DERIVATION_SOURCES[number])


def _goal(names, ref, rewards, beta, check) -> None:
    _derivation_line(0, "Start from RLHF's goal: a high expected reward, paying β per nat of "
                     "KL divergence from the reference.")
    st.markdown(
        "**Check.** Three candidate policies over your replies. The reference pays no KL but "
        "earns only its average reward; going all in on the best reply earns the most reward "
        "but pays the most KL. The policy of the next line beats both."
    )
    policies = {"π_ref, the reference": ref, "all on the best reply": rlhf.greedy_policy(
        ref, rewards), "π*, the next line's answer": check["policy"]}
    st.dataframe(pd.DataFrame({
        "policy": list(policies),
        "E[r]": [_number(rlhf.expected_reward(p, rewards)) for p in policies.values()],
        "KL(π ‖ π_ref) (nats)": [_number(rlhf.policy_kl(p, ref)) for p in policies.values()],
        "E[r] − β·KL": [_number(rlhf.kl_regularised_objective(p, ref, rewards, beta))
                        for p in policies.values()],
    }), hide_index=True, width="stretch")


def _best_policy(names, ref, rewards, beta, check) -> None:
    _derivation_line(1, "This goal has a closed-form winner: reweight the reference by e^(r/β) "
                     "and divide by Z, the sum that makes the probabilities add up to 1.")
    best = rlhf.optimal_objective(ref, rewards, beta)
    direct = rlhf.kl_regularised_objective(check["policy"], ref, rewards, beta)
    st.markdown(
        f"**Check.** With your rewards and β = {beta:g}, Z = **{fmt(check['partition'], 4)}** "
        f"(log Z = {check['log_partition']:.4f}). The goal's value at π*, computed directly "
        f"as E[r] − β·KL, is **{direct:.4f}**; the closed form says it must be β·log Z = "
        f"**{best:.4f}**, and no other policy reaches it."
    )
    show(df.response_bars(names, [("π_ref", ref, "reference"),
                                  ("π*", check["policy"], "policy")],
                          f"π* favours high rewards (β = {beta:g})",
                          "probability"),
         key="dpo_deriv_policy_chart",
         caption="Grey: the reference. Pink: the optimum. A smaller β moves more probability "
         "to the best replies; a larger β stays closer to grey.")


def _solve_for_reward(names, ref, rewards, beta, check) -> None:
    _derivation_line(2, "Take the log of the previous line and solve for r: the reward is "
                     "written with the optimal policy and the reference, plus a constant.")
    shift = check["reward_shift"]
    st.markdown(
        f"**Check.** The implicit reward r̂ = β·log(π*/π_ref) differs from your reward by "
        f"the same amount for every reply: β·log Z = **{shift[0]:.4f}**. So the optimal "
        "policy knows the reward completely, except for one constant."
    )
    st.dataframe(pd.DataFrame({
        "reply": names,
        "true reward r": [_number(v, 2) for v in rewards],
        "π_ref": [f"{v:.4f}" for v in ref],
        "π*": [f"{v:.4f}" for v in check["policy"]],
        "r̂ = β·log(π*/π_ref)": [_number(v, 4) for v in check["implicit_rewards"]],
        "r − r̂": [_number(v, 4) for v in shift],
        "r̂ + β·log Z": [_number(v, 4) for v in check["recovered_rewards"]],
    }), hide_index=True, width="stretch")
    show(df.response_bars(names, [("true reward r", rewards, "P"),
                                  ("implicit reward r̂", check["implicit_rewards"], "policy")],
                          f"r̂ = r − β·log Z, with β·log Z = {shift[0]:.3f}", "reward",
                          ".2f"),
         key="dpo_deriv_reward_chart",
         caption="Every pink bar sits the same distance below (or above) its blue bar: "
         "the differences between replies are exactly the true ones.")


def _into_bradley_terry(names, ref, rewards, beta, check) -> None:
    _derivation_line(3, "Preferences only see reward differences, so the β·log Z of the two "
                     "replies cancels: Z, the sum over all replies that nobody can compute for "
                     "a real LLM, is gone.")
    rows = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
    true_prefs, policy_prefs = check["preferences_true"], check["preferences_policy"]
    st.markdown(
        f"**Check.** For every pair of your replies: the preference computed from the true "
        f"rewards and from the policy's implicit rewards. β·log Z = "
        f"{check['reward_shift'][0]:.4f} was added to both rewards of each pair and "
        f"cancelled; the largest difference between the two columns is "
        f"**{fmt(check['max_preference_gap'], 2)}** (rounding only)."
    )
    st.dataframe(pd.DataFrame({
        "pair": [f"{names[i]} ≻ {names[j]}" for i, j in rows],
        "r_i": [_number(rewards[i], 2) for i, _ in rows],
        "r_j": [_number(rewards[j], 2) for _, j in rows],
        "r̂_i": [_number(check["implicit_rewards"][i], 4) for i, _ in rows],
        "r̂_j": [_number(check["implicit_rewards"][j], 4) for _, j in rows],
        "σ(r_i − r_j)": [f"{true_prefs[i, j]:.4f}" for i, j in rows],
        "σ(r̂_i − r̂_j)": [f"{policy_prefs[i, j]:.4f}" for i, j in rows],
    }), hide_index=True, width="stretch")


def _dpo_line(names, ref, rewards, beta, check) -> None:
    _derivation_line(4, "Now fit the policy to the preference data by maximum likelihood, "
                     "exactly as a reward model is fitted, but with π_θ in place of π*: that "
                     "is the DPO loss.")
    path = [ref, *(rlhf.optimal_policy(ref, rewards, beta / t) for t in PATH_T[1:])]
    losses, ts = [], []
    for t, policy in zip(PATH_T, path, strict=True):
        try:
            losses.append(dpo.population_dpo_loss(policy, ref, rewards, beta))
            ts.append(t)
        except ValueError:  # a probability underflowed to 0: the loss is undefined there
            break
    at_ref = dpo.population_dpo_loss(ref, ref, rewards, beta)
    at_star = dpo.population_dpo_loss(check["policy"], ref, rewards, beta)
    st.markdown(
        "**Check.** Label every ordered pair of your replies the way a Bradley–Terry annotator "
        "with your rewards would, as often as you like, and compute the DPO loss of a policy "
        f"on all of them. At the reference it is **{at_ref:.4f}**; at π* it is "
        f"**{at_star:.4f}**, and no policy on the path from π_ref through π* and beyond does "
        "better: minimising the DPO loss lands on the same policy as RLHF's goal."
    )
    show(df.family_loss(np.array(ts), np.array(losses), 1.0, at_star, at_ref),
         key="dpo_deriv_loss_chart",
         caption="The expected DPO loss along π_t ∝ π_ref·exp(t·r/β): lowest at t = 1, π* "
         "itself. Going past it (t > 1) over-fits the preferences and the loss rises again.")


SUBSTEPS = (_goal, _best_policy, _solve_for_reward, _into_bradley_terry, _dpo_line)


# 4. What the gradient does


def gradient() -> None:
    st.header("4. What the gradient does", divider="gray")
    st.markdown(
        "Differentiate the loss and every pair contributes the same two moves: raise "
        "log π_θ(y_w), lower log π_θ(y_l). What differs from pair to pair is the **weight** in "
        "front, σ(r̂_l − r̂_w): close to 1 when the implicit rewards rank the pair the wrong "
        "way round, ½ when they tie, close to 0 when the pair is already ranked right by a "
        "wide margin."
    )
    cards.equation_card(
        r"\nabla_\theta \mathcal{L}_\text{DPO} = -\beta\, \mathbb{E}\Big[\underbrace{\sigma"
        r"(\hat r_l - \hat r_w)}_{\text{weight}}\,\big(\nabla_\theta \log \pi_\theta(y_w) - "
        r"\nabla_\theta \log \pi_\theta(y_l)\big)\Big]",
        "The DPO gradient: each pair pulls its chosen reply up and its rejected reply down, "
        "weighted by how wrong the current ranking is.",
        "DPO", "Rafailov et al. 2023, §4",
    )
    st.markdown(
        f"Below: a batch of {GRADIENT_PAIRS} pairs of the tiny language model (two replies "
        "from the reference, labelled by the Bradley–Terry annotator with noise "
        f"τ = {GRADIENT_NOISE:g}, so some labels go against the hidden reward), trained with "
        f"DPO at β = {GRADIENT_BETA:g}. Move the slider through training and watch the weights."
    )
    _weights_demo()
    st.subheader("Take the weight away")
    beta, lr, n_pairs, noise, _, _, _ = DEFAULT_RUN
    st.markdown(
        "Why not push every pair equally hard? Drop the weight and the loss becomes −β·h, the "
        "log-ratio difference itself, which has no lower bound. The DPO paper reports that "
        "this naive version (it resembles unlikelihood training) makes the model degenerate. "
        f"Here are both, on a larger set than the batch above: the {n_pairs} pairs of step 5's "
        f"first run (noise τ = {noise:g}), each trained for {TRAIN_STEPS} steps with the same "
        f"settings, β = {beta:g} and learning rate {lr:g}."
    )
    _unweighted_comparison()
    code.show_code(dpo.gradient_weight, dpo.loss_gradient)
    cards.takeaway("The weight σ(r̂_l − r̂_w) makes DPO spend its effort on the pairs it "
                   "still ranks wrongly. Without it, pairs that are already right keep "
                   "pulling forever, and the easiest way to widen a margin is to crush every "
                   "reply in the data.")


@st.fragment
def _weights_demo() -> None:
    at = int(state.slider(G_AT, "Training steps taken", help="Full-batch DPO steps on these "
                          "pairs, with Adam. Sets the step the replay opens at, and goes into "
                          "the shared link; the slider under the chart (or play) moves through "
                          "the steps at once."))
    explorable.show(
        _weights_replay(), key="dpo_weights_chart", start=explorable.nearest(GRADIENT_GRID, at),
        caption="At step 0 every pair sits at margin 0 with weight ½. Press play, or drag the "
        "slider under the chart: the pairs ranked right slide down the curve and stop "
        "counting; the few that keep a high weight are pairs whose two replies also appear "
        "with the opposite label, which no policy can rank right both ways. Green dots: the "
        "label agrees with the hidden reward; red-orange crosses: the label was flipped, it "
        "goes against it.")


def _unweighted_comparison() -> None:
    replay = _unweighted_replay()
    explorable.show(
        replay, key="dpo_unweighted_chart", start=explorable.frame_count(replay) - 1,
        caption="Solid: DPO. Dashed: the same update without the weight. Both lower the "
        "rejected replies faster than the chosen ones, but without the weight nothing ever "
        "says stop. Press play to watch both runs from the first step.")
    beta, lr, n_pairs, noise, _, _, seed = DEFAULT_RUN
    dpo_h, raw = (_run(beta, lr, n_pairs, noise, name, 0.0, seed)["after"]
                  for name in ("sigmoid", "unweighted"))
    st.markdown(
        f"After {TRAIN_STEPS} steps, without the weight the mean log-probability of the "
        f"**chosen** replies has fallen to {df.signed(raw['logps/chosen'][-1], 1)} nats (DPO: "
        f"{df.signed(dpo_h['logps/chosen'][-1], 1)}), the margins have grown to "
        f"{raw['rewards/margins'][-1]:.1f} (DPO: {dpo_h['rewards/margins'][-1]:.1f}) and keep "
        f"growing linearly, yet the share of pairs ranked right is "
        f"{100 * raw['rewards/accuracies'][-1]:.0f} % (DPO: "
        f"{100 * dpo_h['rewards/accuracies'][-1]:.0f} %). Every pair pulls with the same force "
        "forever, so each reply just drifts by how often it was chosen minus how often it was "
        "rejected, and the pairs at odds with that count end up ranked wrong."
    )


# 5. Train the tiny LM with DPO


def training() -> None:
    st.header("5. Train the tiny LM with DPO", divider="gray")
    st.markdown(
        "Now the real thing on the course's tiny language model: preference pairs sampled "
        "from the reference and labelled by the hidden reader, then full-batch DPO with Adam "
        f"for {TRAIN_STEPS} steps. The charts show what TRL's `DPOTrainer` logs during training "
        "(implicit rewards, margins, accuracies, loss on the training pairs) and, because this "
        "model is small enough, what nobody can compute for a real LLM: the exact expected "
        "reward and the exact KL divergence from the reference."
    )
    with st.form("dpo_train_form", border=True):
        one, two, three = st.columns(3)
        with one:
            beta = float(state.choice(T_BETA, "β"))
            n_pairs = int(state.choice(T_PAIRS, "Number of pairs"))
        with two:
            lr = float(state.choice(T_LR, "Learning rate (Adam)"))
            noise = float(state.choice(T_NOISE, "Label noise τ", help="The annotator's noise: "
                                       "0 always prefers the better reply, 1 is Bradley–"
                                       "Terry with the hidden reward, 4 is close to guessing."))
        with three:
            smoothing = float(state.choice(T_SMOOTH, "Label smoothing ε (sigmoid only)"))
            seed = int(state.number(T_SEED, "Seed of the pairs"))
        loss_type = state.choice(T_LOSS, "Loss type (TRL's loss_type)", help="sigmoid: DPO; "
                                 "ipo: IPO; hinge: SLiC; unweighted: the DPO update without "
                                 "its weight (not a TRL option), as in step 4.")
        st.form_submit_button("Train", icon=":material/play_arrow:", type="primary")
    if smoothing and loss_type != "sigmoid":
        st.caption("Label smoothing only changes the sigmoid loss (as in TRL); it is ignored "
                   "for this loss type.")
    settings = (beta, lr, n_pairs, noise, loss_type, smoothing, seed)
    run = _run(*settings)
    after = run["after"]
    if cards.predict(
            CHOSEN_GUESS, "At the start π_θ = π_ref, so rewards/chosen, the chosen replies' "
            "mean implicit reward β·log π_θ/π_ref, is 0. DPO teaches the model to prefer the "
            f"chosen replies: after {TRAIN_STEPS} steps, is rewards/chosen above or below 0?",
            answer=_chosen_end(after), why=_chosen_why(after)):
        _training_results(settings, run)
    cards.class_mode("Let the students be the annotators: in class mode they judge the "
                     "tiny LM's replies on their phones, and DPO trains on their labels on "
                     "the projected screen, next to the simulated annotator's.")
    code.show_code(lm.train_dpo, lm.dpo_objective)
    cards.takeaway("DPO only asks for a margin between chosen and rejected, so rewards/chosen "
                   "alone says little, whichever way it goes. Judge a run by its margins and "
                   "accuracies on held-out pairs, and here by the exact reward and KL.")


def _chosen_end(after: dict) -> str:
    """The answer of step 5's question: where this run's rewards/chosen ends, against 0."""
    return CHOSEN_ENDS[1] if after["rewards/chosen"][-1] < 0 else CHOSEN_ENDS[0]


def _chosen_why(after: dict) -> str:
    return (f"The loss only sees the margin r̂_w − r̂_l: it grew to "
            f"{after['rewards/margins'][-1]:.2f}, with rewards/rejected at "
            f"{df.signed(after['rewards/rejected'][-1], 2)} and rewards/chosen at "
            f"{df.signed(after['rewards/chosen'][-1], 2)}. Pushing the rejected replies down "
            "widens it as well as lifting the chosen ones, and probability is one budget shared "
            "by every reply, so the chosen replies often lose some too.")


def _training_results(settings: tuple, run: dict) -> None:
    """Step 5's run: its numbers, its three replays and what they show."""
    beta, _, n_pairs, noise, _, _, seed = settings
    after = run["after"]
    star_kl = lm.exact_kl(lm.optimum(TASK, beta), TASK.ref_probs)
    st.caption(f"The model after {TRAIN_STEPS} steps of DPO:")
    a, b, c, d = st.columns(4)
    a.metric("E[r]", f"{after['true_reward'][-1]:.3f}",
             delta=f"{after['true_reward'][-1] - after['true_reward'][0]:+.3f}",
             delta_description="vs π_ref", help="The expected true reward of the trained model.")
    b.metric("KL(π_θ ‖ π_ref)", f"{after['kl'][-1]:.3f} nats",
             delta=f"{after['kl'][-1] - star_kl:+.3f} nats", delta_color="off",
             delta_description="vs π*",
             help=f"The optimum π* at this β has KL {star_kl:.3f} nats.")
    c.metric("rewards/accuracies", f"{100 * after['rewards/accuracies'][-1]:.0f} %",
             help="The share of the training pairs whose chosen reply has the larger implicit "
             "reward.")
    d.metric("Training time", f"{1000 * run['seconds']:.0f} ms",
             help=f"One run of {TRAIN_STEPS} steps that keeps the model's distribution over "
             f"replies at {REPLAY_FRAMES} of them for the replays. Cached: the same settings "
             "replay instantly.")
    distribution, logged, exact = _training_replays(*settings)
    last = explorable.frame_count(distribution) - 1
    explorable.show(
        distribution, key="dpo_train_chart", start=last,
        caption="Top: the model's probability of each shown reply (grey: the reference it "
        "starts from; black dots: π*, the best policy at this β; pink: the model at the "
        f"slider's step). Green diamonds: the {TRACKED} replies the pairs chose most often; "
        f"red-orange crosses: the {TRACKED} they rejected most often. Bottom: the implicit "
        "rewards as TRL logs them; the margin (dashed) is chosen minus rejected. Press play: "
        "the green line can turn down while the margin keeps growing (explained below).")
    explorable.show(
        logged, key="dpo_train_logged_chart", start=last,
        caption="The share of training pairs the implicit reward ranks the labelled way "
        "(solid), and the training loss on the pairs (dashed), for the model after each step. "
        "With label noise, 100 % means it also learned the wrong labels.")
    explorable.show(
        exact, key="dpo_train_exact_chart", start=last,
        caption="What the hidden reader would score, on average, over every reply the model "
        "can write (solid), and how far the model moved from the reference (dashed): both "
        "computed exactly, not sampled. DPO on finite data often overshoots the optimum's KL "
        "(dotted): nothing in the loss measures it directly.")
    st.subheader("Why can the chosen reward go down while the margin grows?")
    st.markdown(_chosen_story(after, run["checkpoints"]["probs"], _pairs(n_pairs, noise, seed),
                              beta))


def _tracked_replies(pairs: dict) -> list[tuple[tuple[int, int], str]]:
    """((prompt, reply), "chosen" or "rejected") of the replies marked in the replay: the
    TRACKED most frequent chosen replies of the pairs, then the most frequent rejected ones."""
    out, seen = [], set()
    for side in ("chosen", "rejected"):
        keys, counts = np.unique(np.stack([pairs["prompt"], pairs[side]]), axis=1,
                                 return_counts=True)
        found = 0
        for k in np.argsort(-counts, kind="stable"):
            key = (int(keys[0, k]), int(keys[1, k]))
            if key in seen:
                continue
            seen.add(key)
            out.append((key, side))
            found += 1
            if found == TRACKED:
                break
    return out


def _chosen_story(after: dict, probs: np.ndarray, pairs: dict, beta: float) -> str:
    """The explanation, written from this run's numbers (after[key][s]: after s steps; probs:
    the model's distribution at REPLAY_STEPS, from π_ref to the trained model)."""
    chosen, rejected = after["rewards/chosen"], after["rewards/rejected"]
    margins = after["rewards/margins"]
    peak = int(np.nanargmax(chosen))
    in_data = np.zeros(TASK.ref_probs.shape)
    in_data[pairs["prompt"], pairs["chosen"]] = 1.0
    in_data[pairs["prompt"], pairs["rejected"]] = 1.0
    mass_ref = lm.expected_reward(TASK.ref_probs, in_data)
    mass_now = lm.expected_reward(probs[-1], in_data)
    start_logp, end_logp = after["logps/chosen"][0], after["logps/chosen"][-1]
    lines = []
    if chosen[-1] < chosen[peak] - 1e-9:
        lines.append(
            f"In this run rewards/chosen rose to {df.signed(chosen[peak], 2)} after {peak} "
            f"steps, then fell to **{df.signed(chosen[-1], 2)}** by step {TRAIN_STEPS}, while "
            f"rewards/rejected fell much further, to **{df.signed(rejected[-1], 2)}**. So the "
            f"margin kept growing, to **{margins[-1]:.2f}**, and the loss kept falling.")
    else:
        lines.append(
            f"In this run rewards/chosen ended at {df.signed(chosen[-1], 2)} and "
            f"rewards/rejected at {df.signed(rejected[-1], 2)}, a margin of "
            f"{margins[-1]:.2f}. Here the chosen reward did not turn down; with more pairs, a "
            "larger learning rate or a smaller β it usually does.")
    lines.append(
        "The loss only sees the **difference** r̂_w − r̂_l. Lowering the rejected reply's "
        "probability widens it just as well as raising the chosen one's, and probability is a "
        "fixed budget shared by all replies. On average the policy's log-probability of the "
        f"chosen replies went from {df.signed(start_logp, 2)} nats (the reference's) to "
        f"{df.signed(end_logp, 2)}, a change of {df.signed(end_logp - start_logp, 2)}: that is "
        f"rewards/chosen ÷ β, with β = {beta:g}.")
    prompt, reply = _most_chosen(pairs)
    times_chosen, times_rejected = _times(pairs, prompt, reply)
    if times_rejected:
        lines.append(
            f"The pairs pull single replies both ways. {_quoted(prompt, reply)} (a green "
            f"diamond in the chart) is the chosen reply of {times_chosen} pairs but the "
            f"rejected one of {times_rejected} (against better replies); its probability went "
            f"from {_share(probs[0][prompt, reply])} to {_share(probs[-1][prompt, reply])}: a "
            "chosen reply can lose probability too, to the replies that beat it.")
    prompt, reply = np.unravel_index(int(np.argmax(probs[-1])), probs[-1].shape)
    prompt, reply = int(prompt), int(reply)
    where = ("Mostly to a few replies that win their comparisons: the replies in the pairs held "
             f"{_share(mass_ref)} of the reference's probability and hold {_share(mass_now)} "
             "now, on fewer of them." if mass_now >= mass_ref else
             f"Partly out of the data: the replies in the pairs held {_share(mass_ref)} of the "
             f"reference's probability and hold only {_share(mass_now)} now.")
    lines.append(
        f"Where did the probability go? {where} The model's favourite at the end is "
        f"{_quoted(prompt, reply)} with {_share(probs[-1][prompt, reply])} (hidden reward "
        f"{df.signed(TASK.true_rewards[prompt, reply], 1)}). "
        + _favourite_note(*_times(pairs, prompt, reply)))
    return "\n\n".join(lines)


def _times(pairs: dict, prompt: int, reply: int) -> tuple[int, int]:
    """How often a reply is the chosen and the rejected one in the pairs."""
    same_prompt = pairs["prompt"] == prompt
    return (int(np.sum(same_prompt & (pairs["chosen"] == reply))),
            int(np.sum(same_prompt & (pairs["rejected"] == reply))))


def _most_chosen(pairs: dict) -> tuple[int, int]:
    keys, counts = np.unique(np.stack([pairs["prompt"], pairs["chosen"]]), axis=1,
                             return_counts=True)
    best = int(np.argmax(counts))
    return int(keys[0, best]), int(keys[1, best])


def _favourite_note(as_chosen: int, as_rejected: int) -> str:
    if as_chosen + as_rejected == 0:
        return ("It appears in **no** pair: DPO never saw it, yet pushing the data's replies "
                "apart moved probability there.")
    if as_rejected == 0:
        return (f"It was the chosen reply in {as_chosen} pair{'s' * (as_chosen != 1)} and "
                "never the rejected one. DPO only learns comparisons: a reply that only ever "
                "met worse ones keeps climbing, whatever its own quality, until the KL term "
                "holds it back.")
    return (f"It was chosen in {as_chosen} pair{'s' * (as_chosen != 1)} and rejected in "
            f"{as_rejected}.")


# 6. Does the starting model matter?


def starting_model() -> None:
    st.header("6. Does the starting model matter?", divider="gray")
    st.markdown(
        "A learner asked how much the reference model matters. In DPO the starting model is "
        "also the reference of the loss, so it matters twice: it is where training starts, and "
        "it is the anchor of the KL leash. Below, the same DPO run on the same "
        f"{T_PAIRS.default} pairs starts from two references: the course's usual one (fluent, "
        "neutral), and a **poor** one that gives the best replies little probability, "
        "π_poor ∝ π_ref·e^(−r/τ)."
    )
    left, right = st.columns(2)
    with left:
        beta = float(state.choice(S_BETA, "β"))
    with right:
        tilt = state.choice(S_TILT, "How poor the poor start is: τ",
                            help="Smaller τ: the poor reference avoids the good replies more.")
    _, lr, n_pairs, noise, _, _, seed = DEFAULT_RUN
    tasks = {"good": _start_task(None), "poor": _start_task(tilt)}
    runs = {name: _run(beta, lr, n_pairs, noise, "sigmoid", 0.0, seed,
                       start=None if name == "good" else tilt)
            for name in tasks}
    stars = {name: lm.optimum(task, beta) for name, task in tasks.items()}
    best = (TASK.true_rewards >= BEST_REWARD).astype(float)
    final = {name: lm.distribution(TASK, run["logits"]) for name, run in runs.items()}
    numbers = {name: {
        "ref_reward": lm.expected_reward(task.ref_probs, TASK.true_rewards),
        "ref_best": lm.expected_reward(task.ref_probs, best),
        "reward": runs[name]["history"]["true_reward"][-1],
        "kl": runs[name]["history"]["kl"][-1],
        "best": lm.expected_reward(final[name], best),
        "star_reward": lm.expected_reward(stars[name], TASK.true_rewards),
        "star_kl": lm.exact_kl(stars[name], task.ref_probs),
        "star_best": lm.expected_reward(stars[name], best),
    } for name, task in tasks.items()}
    replay = _start_replay(beta, tilt)
    explorable.show(
        replay, key="dpo_start_chart", start=explorable.frame_count(replay) - 1,
        caption="Top: the expected true reward of each run; dotted, the best each run can aim "
        "for at this β, π* ∝ π_ref·e^(r/β) with its own reference (the poor start's target is "
        "lower). Bottom: each run's KL divergence from the reference it started from, the KL "
        "leash of the loss. Press play to watch both runs from the first step.")
    st.table(pd.DataFrame({
        "": ["E[r] of the reference", f"P(a reply with reward ≥ {BEST_REWARD:g}) under the "
             "reference", f"E[r] after DPO ({TRAIN_STEPS} steps)",
             f"P(reward ≥ {BEST_REWARD:g}) after DPO",
             "KL from its reference after DPO (nats)", f"E[r] of π* at β = {beta:g}",
             f"P(reward ≥ {BEST_REWARD:g}) under π*"],
        **{f"{name} start": [_number(n["ref_reward"]), _share(n["ref_best"]),
                             _number(n["reward"]), _share(n["best"]), _number(n["kl"]),
                             _number(n["star_reward"]), _share(n["star_best"])]
           for name, n in numbers.items()},
    }).set_index(""))  # a static table: its two columns fit side by side on a phone
    st.markdown(_start_story(numbers, beta, float(tilt)))
    code.show_code(rlhf.optimal_policy, lm.logits_for)
    cards.takeaway("DPO can only reweight what the reference already says: the KL term ties "
                   "the result to π_ref·e^(r/β). A good starting model (a good SFT stage) "
                   "matters as much as the preference data.")


def _start_story(numbers: dict, beta: float, tilt: float) -> str:
    good, poor = numbers["good"], numbers["poor"]
    text = (
        f"From the good start DPO reached E[r] = **{_number(good['reward'], 2)}**; from the "
        f"poor start, with the same pairs and settings, **{_number(poor['reward'], 2)}**. "
        "Why? The KL term of the goal, which DPO's loss carries inside log π_θ/π_ref, ties "
        "the answer to the reference: the best policy at β is π* ∝ π_ref·e^(r/β). A reply "
        "the reference almost never writes gets multiplied by e^(r/β), but it starts from "
        f"almost nothing: the poor reference writes a reply with reward ≥ {BEST_REWARD:g} "
        f"with probability {_share(poor['ref_best'])} (the good one "
        f"{_share(good['ref_best'])}), and even π* from the poor start only gets to "
        f"{_share(poor['star_best'])} (from the good start: {_share(good['star_best'])}).")
    if math.isclose(beta, tilt):
        text += (
            f"\n\nWith τ = β = {beta:g} it is even starker: π_poor·e^(r/β) ∝ π_ref·e^(−r/β)·"
            "e^(r/β) = π_ref, so the very best DPO can aim for from this poor start is the "
            "usual reference, the starting point of the other run.")
    text += (
        "\n\nA smaller β loosens the leash and lets the poor start move further (at the "
        "price of a larger KL, the drift that makes fluent models odd); a larger β holds it "
        "even closer to its poor reference.")
    return text


# 7. Check yourself

QUIZ_LOGPS = (math.log(0.4), math.log(0.1), math.log(0.2), math.log(0.2))  # θ_w, θ_l, ref_w, ref_l
QUIZ_BETA = 0.5
QUESTIONS = [
    quiz.Numeric(
        qid="loss",
        prompt="β = 0.5, π_θ(y_w|x) = 0.4, π_ref(y_w|x) = 0.2, π_θ(y_l|x) = 0.1, "
        "π_ref(y_l|x) = 0.2. What is the DPO loss of this pair?",
        answer=dpo.dpo_loss(*QUIZ_LOGPS, QUIZ_BETA)["loss"], tolerance=0.005, unit="nats",
        explanation="r̂_w = 0.5·ln 2 = 0.347, r̂_l = 0.5·ln 0.5 = −0.347, margin = ln 2 = "
        "0.693, loss = −log σ(0.693) = ln 1.5 = 0.405.",
    ),
    quiz.Numeric(
        qid="weight",
        prompt="A pair has implicit rewards r̂_w = −0.5 and r̂_l = +0.5. What is its gradient "
        "weight σ(r̂_l − r̂_w)?",
        answer=dpo.gradient_weight(-0.5, 0.5), tolerance=0.005,
        explanation="σ(1) = 0.731: the pair is ranked the wrong way round, so it counts a lot.",
    ),
    quiz.Choice(
        qid="beta",
        prompt="You train with DPO again on the same pairs, with β = 1 instead of β = 0.1. "
        "Where does the trained model end up?",
        options=["Further from the reference model", "Closer to the reference model",
                 "In the same place: β only rescales the loss"],
        answer="Closer to the reference model",
        explanation="β weighs the KL term: the target π* ∝ π_ref·e^(r/β) is flatter for large "
        "β, and the same margin needs a smaller change of log π_θ/π_ref.",
    ),
    quiz.Choice(
        qid="partition",
        prompt="Why does DPO never need to compute the partition function Z(x)?",
        options=["Z(x) is always 1 for a language model",
                 "DPO estimates Z(x) by sampling replies",
                 "Preferences depend only on reward differences, so β·log Z(x) cancels"],
        answer="Preferences depend only on reward differences, so β·log Z(x) cancels",
        explanation="Both replies of a pair share the prompt x, so both rewards carry the same "
        "β·log Z(x), and Bradley–Terry only sees r_w − r_l.",
    ),
    quiz.Choice(
        qid="chosen",
        prompt="During DPO training rewards/chosen turns negative while rewards/margins keeps "
        "growing. What does that mean?",
        options=["The learning rate is too high and training diverged",
                 "Nothing is broken: the rejected replies lost probability even faster",
                 "The labels must be flipped"],
        answer="Nothing is broken: the rejected replies lost probability even faster",
        explanation="The loss only sees the margin. The chosen replies can lose probability "
        "(to replies outside the data) as long as the rejected ones lose more.",
    ),
    quiz.Choice(
        qid="networks",
        prompt="How many networks must be in memory while DPO trains (the reference's "
        "log-probabilities not precomputed)?",
        options=["One: the policy",
                 "Four: policy, reference, reward model and value network",
                 "Two: the policy and the frozen reference"],
        answer="Two: the policy and the frozen reference",
        explanation="RLHF with PPO needs four; DPO needs the policy it trains and the frozen "
        "reference for log π_ref (and not even that, if those are computed once beforehand).",
    ),
]


def check_yourself() -> None:
    quiz.lesson_check(SLUG, QUESTIONS, 7, takeaway=(
        "DPO needs no reward model: the policy's own log-ratio to the reference is an implicit "
        "reward, and a Bradley–Terry loss on chosen and rejected replies trains towards the same "
        "optimum RLHF aims at."))


STEPS.show((pipelines, loss_with_sliders, derivation, gradient, training, starting_model,
            check_yourself))
