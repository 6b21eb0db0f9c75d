"""DPO or RLHF? The reward–KL frontier of the tiny LM, and an experiment that measures both.

Every fine-tuned policy π lands somewhere on a plane: its exact expected true reward E_π[r]
against its exact divergence KL(π‖π_ref) from the reference (means over the prompts). No policy
can sit above the curve traced by the KL-regularised optimum

    π*_β(y|x) = π_ref(y|x)·exp(r(x, y)/β) / Z_β(x)          (Eq. 4 of Rafailov et al. 2023)

as β runs from ∞ (π_ref, KL = 0) to 0 (all mass on the best replies): π*_β maximises
E[r] − β·KL, so any π with KL(π) = KL(π*_β) has E_π[r] ≤ E_{π*_β}[r]. That curve is the exact
optimal frontier (`optimal_frontier`, `frontier_reward`); the distance of a run below it is its
gap (`frontier_gap`). Figure 2 of the DPO paper draws the same plane for sentiment generation.
Behind each point is a policy; `reward_distribution` shows how its reward is spread.

The experiment (`sweep_plan`, `run`) trains on one shared preference dataset
(`preference_data`): DPO over a range of β, RLHF = a reward model plus PPO over a range of the
KL coefficient, PPO with the true reward (the reward RLHF wishes it had), fine-tuning on the
preferred replies, and the reference itself. Each run returns one row of numbers and its cost;
`cost_table`, `compare_methods`, `data_effect` and `overoptimisation` summarise the rows for
the page. The training loops are those of lessons.toy_lm, unchanged.

Rewards are the hidden taste's points, KL in nats. Every function is deterministic for a seed
except the measured wall times.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from lessons import rlhf
from lessons import toy_lm as lm

# The methods


@dataclass(frozen=True)
class Method:
    """One contender: its name, the coefficient its sweep varies, and what it holds in memory."""

    key: str
    name: str
    coefficient: str  # the swept knob, "" for a method without one
    models: int  # networks held in memory while it trains
    models_what: str


DPO = Method("dpo", "DPO", "β", 2, "policy, frozen reference")
RLHF = Method("rlhf", "RLHF (reward model + PPO)", "KL coefficient β", 4,
              "policy, reference, reward model, value function")
PPO_TRUE = Method("ppo_true", "PPO with the true reward", "KL coefficient β", 3,
                  "policy, reference, value function (+ the true reward)")
PREFERRED = Method("preferred_ft", "Preferred-response fine-tuning", "", 1, "policy")
REFERENCE = Method("reference", "Reference model", "", 1, "reference")
METHODS = {m.key: m for m in (DPO, RLHF, PPO_TRUE, PREFERRED, REFERENCE)}


@dataclass(frozen=True)
class Budget:
    """The training budget of every run (the same for every setting of the sweep)."""

    dpo_steps: int = 150  # full-batch Adam steps on all pairs
    dpo_lr: float = 0.1
    ppo_iterations: int = 30  # rollouts; each is followed by epochs × minibatches updates
    ppo_batch: int = 512  # replies sampled per rollout
    ppo_epochs: int = 4
    ppo_minibatches: int = 2
    ppo_lr: float = 0.1
    reward_model_steps: int = 200  # full-batch gradient descent, once per dataset
    preferred_steps: int = 100
    preferred_lr: float = 0.1


BUDGET = Budget()
# The swept coefficients. DPO's β and PPO's KL coefficient play the same role (the β of the
# KL-regularised objective), so both sweeps cover the same stretch of the frontier; RLHF's
# sweep goes lower to show what a reward model does when little holds the policy back.
SWEEPS = {
    "full": {DPO.key: (0.25, 0.5, 1.0, 2.0, 4.0), RLHF.key: (0.1, 0.25, 0.5, 1.0, 2.0, 4.0),
             PPO_TRUE.key: (0.25, 0.5, 1.0, 2.0, 4.0)},
    "quick": {DPO.key: (0.5, 1.0, 2.0), RLHF.key: (0.1, 0.5, 2.0),
              PPO_TRUE.key: (0.5, 2.0)},
}
MAX_PAIRS = 200_000
LOG_BETA_RANGE = (-9.0, 12.0)  # where frontier_reward looks for β: e^-9 ≈ greedy, e^12 ≈ π_ref


def sweep_plan(quick=False, methods=None):
    """The runs of one sweep, in the order they train: a list of (method key, coefficient).

    The reference and preferred-response fine-tuning have no coefficient (None).
    Example: sweep_plan(True)[:2] -> [("reference", None), ("preferred_ft", None)]
    """
    grid = SWEEPS["quick" if quick else "full"]
    plan = [(REFERENCE.key, None), (PREFERRED.key, None)]
    plan += [(key, float(c)) for key in (DPO.key, RLHF.key, PPO_TRUE.key) for c in grid[key]]
    return [run for run in plan if methods is None or run[0] in methods]


# The exact optimal frontier


def optimal_frontier(task, betas):
    """KL(π*_β‖π_ref) and E_{π*_β}[r] for each β, π*_β ∝ π_ref·exp(r/β)   (Eq. 4, DPO paper)

    Means over the prompts, exact sums over every reply (rlhf.beta_sweep for each prompt).
    betas: (m,) numbers > 0. Returns {"beta" (m,), "kl" (m,), "true_reward" (m,)}; as β
    falls, both the KL and the reward rise.
    Example: optimal_frontier(t, [1e6])["kl"] -> [~0]; ["true_reward"] -> E_{π_ref}[r]
    """
    sweeps = [rlhf.beta_sweep(ref, r, betas) for ref, r in zip(task.ref_probs,
                                                                 task.true_rewards, strict=True)]
    return {"beta": sweeps[0]["beta"],
            "kl": np.mean([s["kl"] for s in sweeps], axis=0),
            "true_reward": np.mean([s["expected_reward"] for s in sweeps], axis=0)}


CURVE_BETAS = np.geomspace(0.03, 100.0, 240)


def frontier_curve(task, kl_max=None, betas=CURVE_BETAS):
    """The frontier as a curve to draw: `optimal_frontier` over betas, in order of rising KL,
    then the greedy corner, then (if kl_max is beyond it) flat at the best reward up to kl_max:
    past the corner more KL buys nothing. Returns {"beta", "kl", "true_reward"} arrays; β is
    0 at the corner and NaN on the flat part.
    """
    front = optimal_frontier(task, np.sort(np.asarray(betas, dtype=float))[::-1])
    corner_kl, corner_reward = greedy_corner(task)
    beta, kl, reward = ([*front["beta"], 0.0], [*front["kl"], corner_kl],
                        [*front["true_reward"], corner_reward])
    if kl_max is not None and kl_max > corner_kl:
        beta, kl, reward = [*beta, math.nan], [*kl, float(kl_max)], [*reward, corner_reward]
    return {"beta": np.array(beta), "kl": np.array(kl), "true_reward": np.array(reward)}


def greedy_corner(task):
    """The frontier's far end, β → 0: (KL(π*_0‖π_ref), max E[r]) with π*_0 = rlhf.greedy_policy.

    Beyond this KL the best reward cannot grow: it is already the best reply's reward.
    """
    greedy = rlhf.greedy_policy(task.ref_probs, task.true_rewards)
    return lm.exact_kl(greedy, task.ref_probs), lm.expected_reward(greedy, task.true_rewards)


def _optimum_point(task, log_beta):
    star = lm.optimum(task, math.exp(log_beta))
    return lm.exact_kl(star, task.ref_probs), lm.expected_reward(star, task.true_rewards)


def frontier_reward(task, kl):
    """R*(k) = max {E_π[r] : KL(π‖π_ref) ≤ k} = E_{π*_β}[r] with β solving KL(π*_β‖π_ref) = k.

    The Lagrangian of the constrained problem is the KL-regularised objective, so its solution
    is π*_β (the same β for every prompt: one multiplier for the mean KL). β is found by
    Brent's method on log β (the KL falls monotonically in β). k ≤ 0 gives π_ref's reward; k
    beyond KL(π*) at β = e^-9 (the greedy corner, to machine precision) the best reward; k
    below KL(π*) at β = e^12 (about 1e-11 nats) the reward there (off by less than 1e-5).
    kl: a float or an array; returns the same shape.
    """
    kls = np.asarray(kl, dtype=float)
    if not np.all(np.isfinite(kls)):
        raise ValueError("The KL must be a finite number of nats.")
    lo, hi = LOG_BETA_RANGE
    kl_hi, reward_hi = _optimum_point(task, hi)  # nearly π_ref
    kl_lo, _ = _optimum_point(task, lo)  # nearly greedy
    _, greedy_reward = greedy_corner(task)
    ref_reward = lm.expected_reward(task.ref_probs, task.true_rewards)

    def one(k):
        if k <= 0:
            return ref_reward
        if k <= kl_hi:
            return reward_hi
        if k >= kl_lo:  # π* at β = e^-9 is already greedy to machine precision
            return greedy_reward
        log_beta = optimize.brentq(lambda b: _optimum_point(task, b)[0] - k, lo, hi,
                                   xtol=1e-12, rtol=1e-12)
        return _optimum_point(task, log_beta)[1]

    out = np.array([one(k) for k in kls.ravel()]).reshape(kls.shape)
    return float(out) if out.ndim == 0 else out


def frontier_gap(task, kl, reward):
    """gap = R*(KL) − E_π[r]: how far a policy with this KL and expected reward sits below the
    frontier (≥ 0 for every policy, up to rounding). Floats or same-shape arrays.

    Example: frontier_gap(t, 0.0, E_{π_ref}[r]) -> 0.0 (the reference is on the frontier)
    """
    gap = np.asarray(frontier_reward(task, kl)) - np.asarray(reward, dtype=float)
    return float(gap) if gap.ndim == 0 else gap


def reward_distribution(task, probs):
    """P_π(r = v) = mean_x Σ_{y: r(x, y) = v} π(y|x): how the true reward is spread when the
    prompt is drawn uniformly and π writes the reply (lm.reward_histogram, mixed over prompts).

    probs: (..., P, S), one policy (P, S) or several, e.g. a run's checkpoints (c, P, S).
    Returns (values (m,), the distinct rewards in increasing order; shares (..., m), each row
    summing to 1, with Σ_v v·share = E_π[r]).
    Example: reward_distribution(t, t.ref_probs)[1].sum() -> 1.0
    """
    probs = np.asarray(probs, dtype=float)
    if probs.shape[-2:] != task.true_rewards.shape:
        raise ValueError(f"probs must end in the shape {task.true_rewards.shape} "
                         "(prompts, replies).")
    values, index = np.unique(task.true_rewards, return_inverse=True)
    members = index.reshape(task.true_rewards.shape)[..., None] == np.arange(values.size)
    return values, np.einsum("...ps,psm->...m", probs, members) / probs.shape[-2]


# The shared data


def preference_data(task, n_pairs, label_noise=0.0, seed=0):
    """The one preference dataset every method trains on: n_pairs pairs of replies drawn from
    π_ref, labelled by a Bradley–Terry annotator with the true reward (τ = 1), then a share
    label_noise of the labels written the wrong way round (lm.preference_pairs, flip).
    """
    return lm.preference_pairs(task, n_pairs, seed=seed, noise=1.0, flip=label_noise)


def fit_reward_model(task, pairs, budget=BUDGET):
    """RLHF's first stage: the bag-of-words Bradley–Terry reward model of lm.train_reward_model,
    with its measured wall time. Returns {"scores" (P, S), "ref_score" (E_{π_ref} of the
    scores), "accuracy" (lm.ranking_accuracy), "steps", "wall_ms"}."""
    start = time.perf_counter()
    model = lm.train_reward_model(task, pairs, steps=budget.reward_model_steps)
    wall_ms = 1e3 * (time.perf_counter() - start)
    return {"scores": model["scores"], "ref_score": lm.expected_reward(task.ref_probs,
                                                                        model["scores"]),
            "accuracy": model["accuracy"], "steps": budget.reward_model_steps,
            "wall_ms": wall_ms}


# One run


def _check_method(method, coefficient):
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}: use one of {', '.join(METHODS)}.")
    if METHODS[method].coefficient:
        rlhf.check_beta(coefficient)
    return METHODS[method]


def run(task, method, coefficient=None, pairs=None, reward_model=None, seed=0, budget=BUDGET):
    """Train one method at one coefficient and measure where it lands, and at what cost.

    method: a key of METHODS; coefficient: DPO's β or PPO's KL coefficient (None for the
    others); pairs: from `preference_data` (not needed by PPO with the true reward or the
    reference); reward_model: from `fit_reward_model` (RLHF only); seed: PPO's and the
    minibatches' randomness.
    Returns a row: method, coefficient (NaN if none), true_reward E_π[r], kl KL(π‖π_ref),
    frontier_reward R*(kl), gap, rm_score (E_π of the reward model's score, RLHF only, else
    NaN), steps (optimiser updates), samples (replies generated), labels (preference labels
    read), wall_ms (measured).
    """
    spec = _check_method(method, coefficient)
    if spec.key in (DPO.key, RLHF.key, PREFERRED.key) and pairs is None:
        raise ValueError(f"{spec.name} trains on preference pairs: pass pairs.")
    if spec.key == RLHF.key and reward_model is None:
        raise ValueError("RLHF needs a reward model: pass fit_reward_model(task, pairs).")
    start = time.perf_counter()
    steps = samples = labels = 0
    scores = reward_model["scores"] if spec.key == RLHF.key else None
    if spec.key == REFERENCE.key:
        logits = task.ref_logits
    elif spec.key == DPO.key:
        logits = lm.train_dpo(task, pairs, beta=coefficient, steps=budget.dpo_steps,
                              lr=budget.dpo_lr, seed=seed)["logits"]
        steps, labels = budget.dpo_steps, len(pairs["prompt"])
    elif spec.key == PREFERRED.key:
        logits = lm.train_preferred_ft(task, pairs, steps=budget.preferred_steps,
                                       lr=budget.preferred_lr, seed=seed)["logits"]
        steps, labels = budget.preferred_steps, len(pairs["prompt"])
    else:
        logits = lm.train_ppo_rlhf(task, scores, beta=coefficient,
                                   iterations=budget.ppo_iterations, batch_size=budget.ppo_batch,
                                   epochs=budget.ppo_epochs, minibatches=budget.ppo_minibatches,
                                   lr=budget.ppo_lr, seed=seed)["logits"]
        steps = budget.ppo_iterations * budget.ppo_epochs * budget.ppo_minibatches
        samples = budget.ppo_iterations * budget.ppo_batch
        labels = len(pairs["prompt"]) if spec.key == RLHF.key else 0
    wall_ms = 1e3 * (time.perf_counter() - start)
    metrics = lm.exact_metrics(task, logits, scores)
    best = frontier_reward(task, metrics["kl"])
    return {"method": spec.key, "coefficient": math.nan if coefficient is None
            else float(coefficient), "true_reward": metrics["true_reward"], "kl": metrics["kl"],
            "frontier_reward": best, "gap": best - metrics["true_reward"],
            "rm_score": metrics.get("score", math.nan), "steps": steps, "samples": samples,
            "labels": labels, "wall_ms": wall_ms}


def sweep(task, n_pairs, label_noise=0.0, seed=0, quick=False, methods=None, budget=BUDGET):
    """Every run of `sweep_plan` on one shared dataset: (rows, reward model). The page runs the
    same loop itself, one cached run at a time, to show a progress bar."""
    pairs = preference_data(task, n_pairs, label_noise, seed)
    model = fit_reward_model(task, pairs, budget)
    rows = [run(task, m, c, pairs, model, seed, budget) for m, c in sweep_plan(quick, methods)]
    return rows, model


# Summaries of the measured rows


def cost_table(rows, reward_model=None):
    """One row per method that ran: runs, models in memory, optimiser steps and sampled replies
    per run, preference labels, wall time per run and in total (RLHF's total includes fitting
    its reward model once, whose steps are listed apart). Lists of dicts, in METHODS order."""
    out = []
    for method in METHODS.values():
        mine = [r for r in rows if r["method"] == method.key]
        if not mine:
            continue
        extra = reward_model if method is RLHF and reward_model is not None else None
        wall = [r["wall_ms"] for r in mine]
        out.append({
            "method": method.name, "runs": len(mine), "models": method.models,
            "models_what": method.models_what, "steps_per_run": mine[0]["steps"],
            "reward_model_steps": extra["steps"] if extra else 0,
            "samples_per_run": mine[0]["samples"], "labels": mine[0]["labels"],
            "wall_ms_per_run": float(np.mean(wall)),
            "wall_ms_total": float(np.sum(wall) + (extra["wall_ms"] if extra else 0.0)),
        })
    return out


KL_BANDS = (0.0, 0.5, 1.5, 3.0, math.inf)  # nats: near the reference, moderate, far, very far


def compare_methods(rows, first=DPO.key, second=RLHF.key, bands=KL_BANDS):
    """Which of two methods sat closer to the frontier, band by band of KL: the mean gap of each
    method's runs whose KL falls in [lo, hi), in bands where both have runs.

    Returns a list of dicts: lo, hi, first_gap, second_gap, first_runs, second_runs, closer
    (the method key with the smaller mean gap) and by (the difference of the mean gaps, ≥ 0).
    """
    out = []
    for lo, hi in zip(bands[:-1], bands[1:], strict=True):
        gaps = {key: [r["gap"] for r in rows if r["method"] == key and lo <= r["kl"] < hi]
                for key in (first, second)}
        if not gaps[first] or not gaps[second]:
            continue
        a, b = float(np.mean(gaps[first])), float(np.mean(gaps[second]))
        out.append({"lo": lo, "hi": hi, "first_gap": a, "second_gap": b,
                    "first_runs": len(gaps[first]), "second_runs": len(gaps[second]),
                    "closer": first if a <= b else second, "by": abs(a - b)})
    return out


def mean_gap(rows, method):
    """mean over the method's runs of R*(KL) − E_π[r]: how far below the frontier it sat on
    average (NaN if it has no runs). Example: mean_gap([{"method": "dpo", "gap": 0.2}, ...])"""
    gaps = [r["gap"] for r in rows if r["method"] == method]
    return float(np.mean(gaps)) if gaps else math.nan


def total_wall_ms(table):
    """The measured training time of a whole sweep: Σ wall_ms_total over `cost_table` rows."""
    return float(sum(c["wall_ms_total"] for c in table))


def best_run(rows, method):
    """The run of `method` with the highest true reward (None if it has none)."""
    mine = [r for r in rows if r["method"] == method]
    return max(mine, key=lambda r: r["true_reward"]) if mine else None


def overoptimisation(rows, method=RLHF.key):
    """Reward-model over-optimisation in a sweep: sorted by KL, did the true reward peak and then
    fall while the reward model's score kept rising?

    Returns None if the method has fewer than two runs, else a dict: peak_kl, peak_reward (the
    run with the highest true reward), last_kl, last_reward (the run with the largest KL), drop
    (peak_reward − last_reward, ≥ 0), score_rise (the reward model's score at the last run
    minus at the peak), and happened (drop > 0.05 while score_rise > 0).
    """
    mine = sorted((r for r in rows if r["method"] == method), key=lambda r: r["kl"])
    if len(mine) < 2:
        return None
    peak = max(mine, key=lambda r: r["true_reward"])
    last = mine[-1]
    drop = peak["true_reward"] - last["true_reward"]
    rise = last["rm_score"] - peak["rm_score"]
    return {"peak_kl": peak["kl"], "peak_reward": peak["true_reward"], "last_kl": last["kl"],
            "last_reward": last["true_reward"], "drop": drop, "score_rise": rise,
            "happened": bool(drop > 0.05 and rise > 0)}


def reward_gains(task, rows, reward_model, method=RLHF.key):
    """What the reward model promised against what the reader gave, run by run, by rising KL:
    score_gain = E_π[r̂] − E_{π_ref}[r̂] and true_gain = E_π[r] − E_{π_ref}[r] (reward points).

    Returns {"kl", "coefficient", "score_gain", "true_gain"} arrays (empty if no runs).
    """
    mine = sorted((r for r in rows if r["method"] == method), key=lambda r: r["kl"])
    ref_reward = lm.expected_reward(task.ref_probs, task.true_rewards)
    return {"kl": np.array([r["kl"] for r in mine]),
            "coefficient": np.array([r["coefficient"] for r in mine]),
            "score_gain": np.array([r["rm_score"] - reward_model["ref_score"] for r in mine]),
            "true_gain": np.array([r["true_reward"] - ref_reward for r in mine])}


def data_effect(rows_by_dataset, methods=(DPO.key, RLHF.key)):
    """For each dataset (a dict label -> rows) and method: the mean gap of its runs and its best
    run's true reward and KL. Returns a list of dicts: dataset, method, mean_gap, best_reward,
    best_kl, runs."""
    out = []
    for label, rows in rows_by_dataset.items():
        for key in methods:
            mine = [r for r in rows if r["method"] == key]
            if not mine:
                continue
            best = best_run(rows, key)
            out.append({"dataset": label, "method": key, "mean_gap": mean_gap(rows, key),
                        "best_reward": best["true_reward"], "best_kl": best["kl"],
                        "runs": len(mine)})
    return out


def check_settings(n_pairs, label_noise, seed):
    """The sweep's settings, validated: (n_pairs, label_noise, seed) as int, float, int."""
    if isinstance(n_pairs, bool) or not isinstance(n_pairs, numbers.Integral) \
            or not 1 <= n_pairs <= MAX_PAIRS:
        raise ValueError(f"The number of pairs must be a whole number from 1 to {MAX_PAIRS}.")
    if isinstance(label_noise, bool) or not isinstance(label_noise, numbers.Real) \
            or not 0 <= label_noise <= 0.5:
        raise ValueError("The label noise must be a share from 0 to 0.5.")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError("The seed must be a whole number ≥ 0.")
    return int(n_pairs), float(label_noise), int(seed)
