"""Direct Preference Optimization: the loss, its implicit reward, its gradient, and the derivation.

RLHF fits a reward model and then runs RL against it. DPO (Rafailov et al. 2023, "Direct
Preference Optimization: Your Language Model is Secretly a Reward Model") skips both. The
KL-regularised objective max E[r] − β·KL(π‖π_ref) (Eq. 3) has the optimum
π*(y) = π_ref(y)·exp(r(y)/β)/Z (Eq. 4), so the reward can be read off the policy:

    r(y) = β·log(π*(y)/π_ref(y)) + β·log Z          (Eq. 5, `reward_from_policy`)

Bradley–Terry only looks at reward differences, so β·log Z cancels (Eq. 6,
`preference_from_policy`; checked numerically by `derivation_check`), and fitting the preferences
by maximum likelihood becomes a loss on the policy itself (Eq. 7):

    L_DPO = −log σ(β·h),   h = (log π_θ(y_w) − log π_θ(y_l)) − (log π_ref(y_w) − log π_ref(y_l))

(`logratio_difference`, `dpo_loss`). The policy "secretly" holds a reward model: the implicit
reward r̂(y) = β·log(π_θ(y)/π_ref(y)) (`implicit_reward`). The gradient pushes log π_θ(y_w) up
and log π_θ(y_l) down with the weight σ(r̂_l − r̂_w) (`gradient_weight`): large when the pair is
ranked wrongly, vanishing once it is ranked right by a wide margin (`loss_gradient`).

The loss types follow Hugging Face TRL's `DPOTrainer`, so numbers can be compared with its logs:
"sigmoid" (DPO; with label smoothing ε, conservative DPO), "ipo" (Azar et al. 2023), "hinge"
(SLiC, Zhao et al. 2023). "unweighted" is not a TRL loss: it is the DPO update without the weight
σ(r̂_l − r̂_w), the naive version the DPO paper reports to degenerate (its Section 4).

All log-probabilities are natural logs of whole completions (sums over tokens). Functions take
floats or numpy arrays (a batch of pairs, broadcast together) and raise ValueError with a
readable message on bad input.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy import special

from lessons import rlhf

__all__ = [
    "LOSS_TYPES",
    "TRL_LOSS_TYPES",
    "derivation_check",
    "dpo_loss",
    "gradient_weight",
    "implicit_reward",
    "logged_metrics",
    "logratio_difference",
    "loss_gradient",
    "loss_of_margin",
    "losses_of_h",
    "population_dpo_loss",
    "preference_from_policy",
    "reward_from_policy",
]

TRL_LOSS_TYPES = ("sigmoid", "ipo", "hinge")
LOSS_TYPES = (*TRL_LOSS_TYPES, "unweighted")


# Validation


def _check_label_smoothing(label_smoothing):
    """ε in [0, 0.5): the assumed chance that a preference label is flipped."""
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real):
        raise ValueError(f"label_smoothing must be a number in [0, 0.5), got {label_smoothing!r}.")
    if not 0 <= label_smoothing < 0.5:
        raise ValueError(
            f"label_smoothing = {label_smoothing:g} is outside [0, 0.5): it is the chance that a "
            "label is flipped, and at 0.5 the labels would carry no information."
        )
    return float(label_smoothing)


def _check_loss_type(loss_type):
    if loss_type not in LOSS_TYPES:
        raise ValueError(f"Unknown loss_type {loss_type!r}: use one of {', '.join(LOSS_TYPES)}.")
    return loss_type


def _check_logps(x, name):
    """Finite log-probabilities, each <= 0 (a probability is at most 1)."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        raise ValueError(f"{name} is empty: give at least one log-probability.")
    lowest, highest = float(x.min()), float(x.max())  # NaN anywhere makes both NaN
    if not (math.isfinite(lowest) and math.isfinite(highest)):
        raise ValueError(
            f"{name} contains NaN or infinity: a completion with probability 0 has log-prob −∞, "
            "and the loss is not defined for it."
        )
    if highest > rlhf.LOGP_TOLERANCE:
        raise ValueError(
            f"{name} has the value {highest:g} > 0: log-probabilities are <= 0 (probability <= 1)."
        )
    return np.minimum(x, 0.0) if highest > 0 else x


def _broadcast(arrays, names):
    """Broadcast a batch of pairs together, or say which shapes do not fit."""
    try:
        return np.broadcast_arrays(*arrays)
    except ValueError:
        shapes = ", ".join(f"{n} {a.shape}" for n, a in zip(names, arrays, strict=True))
        raise ValueError(
            f"The inputs have shapes that do not match ({shapes}): give one value per pair."
        ) from None


def _check_h(h, name="h"):
    h = np.asarray(h, dtype=float)
    if not np.all(np.isfinite(h)):
        raise ValueError(f"{name} contains NaN or infinity: every value must be a number.")
    return h


def _out(x):
    """A float for a single result, an array for a batch of them."""
    return float(x) if np.ndim(x) == 0 else x


# The implicit reward and the log-ratio difference


def implicit_reward(policy_logps, ref_logps, beta):
    """r̂(y) = β·log(π_θ(y)/π_ref(y))   (Rafailov et al. 2023, Sections 4–5: Eq. 5 without β·log Z)

    TRL logs it as rewards/chosen and rewards/rejected. policy_logps, ref_logps: floats or
    broadcastable arrays of completion log-probs (<= 0); β > 0.
    Example: implicit_reward(np.log(0.2), np.log(0.1), 0.1) -> 0.0693 (= 0.1·ln 2)
    """
    beta = rlhf.check_beta(beta)
    policy, ref = _broadcast(
        (_check_logps(policy_logps, "policy_logps"), _check_logps(ref_logps, "ref_logps")),
        ("policy_logps", "ref_logps"),
    )
    return _out(beta * (policy - ref))


def _check_pairs(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                 ref_rejected_logps):
    """The four log-prob arrays of a batch of pairs, checked and broadcast together."""
    names = ("policy_chosen_logps", "policy_rejected_logps", "ref_chosen_logps",
             "ref_rejected_logps")
    values = (policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps)
    return _broadcast([_check_logps(x, n) for x, n in zip(values, names, strict=True)], names)


def logratio_difference(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                        ref_rejected_logps):
    """h = (log π_θ(y_w) − log π_θ(y_l)) − (log π_ref(y_w) − log π_ref(y_l))

    How much more the policy prefers the chosen completion than the reference does (TRL calls it
    `logits`, Azar et al. 2023 h_π). All four: floats or broadcastable arrays of log-probs <= 0.
    Example: logratio_difference(np.log(0.4), np.log(0.1), np.log(0.2), np.log(0.2)) -> 1.3863
    """
    pc, pr, rc, rr = _check_pairs(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                                  ref_rejected_logps)
    return _out((pc - pr) - (rc - rr))


def gradient_weight(chosen_rewards, rejected_rewards):
    """w = σ(r̂_l − r̂_w)   (the weight in the DPO gradient, Section 4 of Rafailov et al. 2023)

    ∇L_DPO = −β·E[σ(r̂_l − r̂_w)·(∇log π_θ(y_w) − ∇log π_θ(y_l))]: a pair counts fully when the
    implicit reward ranks it wrongly and hardly at all when it ranks it right by a wide margin.
    chosen_rewards, rejected_rewards: implicit rewards, floats or broadcastable arrays.
    Example: gradient_weight(0.0, 0.0) -> 0.5;  gradient_weight(-1.0, 1.0) -> 0.8808
    """
    chosen = np.asarray(chosen_rewards, dtype=float)
    rejected = np.asarray(rejected_rewards, dtype=float)
    if not (np.all(np.isfinite(chosen)) and np.all(np.isfinite(rejected))):
        raise ValueError("The rewards contain NaN or infinity: every reward must be a number.")
    chosen, rejected = _broadcast((chosen, rejected), ("chosen_rewards", "rejected_rewards"))
    return _out(special.expit(rejected - chosen))


# The losses as functions of h (one pair each)


def _losses(h, beta, loss_type, eps):
    if loss_type == "sigmoid":
        return -(1 - eps) * special.log_expit(beta * h) - eps * special.log_expit(-beta * h)
    if loss_type == "ipo":
        return (h - 1 / (2 * beta)) ** 2
    if loss_type == "hinge":
        return np.maximum(0.0, 1 - beta * h)
    return -beta * h


def _dloss_dh(h, beta, loss_type, eps):
    if loss_type == "sigmoid":
        return -beta * ((1 - eps) * special.expit(-beta * h) - eps * special.expit(beta * h))
    if loss_type == "ipo":
        return 2 * (h - 1 / (2 * beta))
    if loss_type == "hinge":
        return np.where(beta * h < 1, -beta, 0.0)
    return -beta * np.ones_like(h)


def _check_loss_args(beta, loss_type, label_smoothing):
    return (rlhf.check_beta(beta), _check_loss_type(loss_type),
            _check_label_smoothing(label_smoothing))


def losses_of_h(h, beta, loss_type="sigmoid", label_smoothing=0.0):
    """ℓ(h) per pair, with TRL's conventions:

        sigmoid:     −(1−ε)·log σ(β·h) − ε·log σ(−β·h)  (Eq. 7 of Rafailov et al. 2023; ε > 0:
                      conservative DPO, Mitchell 2023, "A note on DPO with noisy preferences")
        ipo:         (h − 1/(2β))²                       (Eq. 17 of Azar et al. 2023, β = τ)
        hinge:       max(0, 1 − β·h)                     (SLiC, Zhao et al. 2023, β = 1/δ)
        unweighted:  −β·h                                (the DPO update without its weight)

    label_smoothing ε ∈ [0, 0.5) is used by "sigmoid" only (TRL ignores it for the others).
    log σ is scipy's log_expit, exact for any |β·h| (no log(0)). TRL's IPO averages token
    log-probs per completion before this step; here h is whatever log-probs you pass in.
    h: float or array. Example: losses_of_h(0.0, 0.1) -> 0.6931 (= ln 2)
    """
    beta, loss_type, eps = _check_loss_args(beta, loss_type, label_smoothing)
    return _out(_losses(_check_h(h), beta, loss_type, eps))


def loss_gradient(h, beta, loss_type="sigmoid", label_smoothing=0.0):
    """dℓ/dh per pair (= ∂ℓ/∂log π_θ(y_w) = −∂ℓ/∂log π_θ(y_l), since h is linear in both):

        sigmoid:     −β·[(1−ε)·σ(−β·h) − ε·σ(β·h)]   (ε = 0: −β·σ(r̂_l − r̂_w), the DPO weight)
        ipo:         2·(h − 1/(2β))
        hinge:       −β where β·h < 1, else 0
        unweighted:  −β   (never fades, however well the pair is already ranked)

    Negative dℓ/dh means gradient descent raises h: more probability to y_w, less to y_l.
    Example: loss_gradient(0.0, 0.1) -> -0.05
    """
    beta, loss_type, eps = _check_loss_args(beta, loss_type, label_smoothing)
    return _out(_dloss_dh(_check_h(h), beta, loss_type, eps))


def loss_of_margin(margin, beta, loss_type="sigmoid", label_smoothing=0.0):
    """ℓ as a function of the reward margin m = r̂_w − r̂_l = β·h   (for a loss-vs-margin plot)

    sigmoid −log σ(m), ipo (m − ½)²/β², hinge max(0, 1 − m), unweighted −m.
    margin: float or array. Example: loss_of_margin(1.0, 0.5, "hinge") -> 0.0
    """
    return losses_of_h(_check_h(margin, "margin") / rlhf.check_beta(beta), beta, loss_type,
                       label_smoothing)


# The DPO loss on a batch of pairs


def dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps,
             beta, loss_type="sigmoid", label_smoothing=0.0):
    """L = mean over pairs of ℓ(h),  h = log(π_θ(y_w)/π_θ(y_l)) − log(π_ref(y_w)/π_ref(y_l))

    Eq. 7 of Rafailov et al. 2023 for loss_type="sigmoid": L_DPO = −E[log σ(β·h)]; the other
    types as in `losses_of_h` (TRL's conventions). The four inputs: completion log-probs (<= 0)
    under the policy and the frozen reference, floats or broadcastable (m,) arrays, one per pair.
    Returns a dict; per-pair entries have the inputs' broadcast shape (floats for one pair):
      "loss"              the mean loss over pairs (float)
      "losses"            ℓ_i per pair
      "chosen_rewards"    r̂_w = β·(log π_θ(y_w) − log π_ref(y_w))
      "rejected_rewards"  r̂_l = β·(log π_θ(y_l) − log π_ref(y_l))
      "margin"            r̂_w − r̂_l = β·h
      "gradient_weight"   σ(−margin) = σ(r̂_l − r̂_w)
      "h"                 the log-ratio difference
      "grad_chosen", "grad_rejected"  ∂ℓ_i/∂log π_θ(y_w,i) and ∂ℓ_i/∂log π_θ(y_l,i) (of each
                          pair's own loss; divide by the number of pairs for the mean's gradient)
    Example: dpo_loss(np.log(0.4), np.log(0.1), np.log(0.2), np.log(0.2), 0.5)["loss"] -> 0.4055
             (h = ln 4, margin = ln 2, σ(ln 2) = 2/3, loss = ln 1.5)
    """
    beta, loss_type, eps = _check_loss_args(beta, loss_type, label_smoothing)
    pc, pr, rc, rr = _check_pairs(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                                  ref_rejected_logps)
    chosen = beta * (pc - rc)
    rejected = beta * (pr - rr)
    h = (pc - pr) - (rc - rr)
    losses = _losses(h, beta, loss_type, eps)
    grad = _dloss_dh(h, beta, loss_type, eps)
    return {
        "loss": float(np.mean(losses)),
        "losses": _out(losses),
        "chosen_rewards": _out(chosen),
        "rejected_rewards": _out(rejected),
        "margin": _out(chosen - rejected),
        "gradient_weight": _out(special.expit(rejected - chosen)),
        "h": _out(h),
        "grad_chosen": _out(grad),
        "grad_rejected": _out(-grad),
    }


def logged_metrics(result, policy_chosen_logps, policy_rejected_logps):
    """The numbers TRL's DPOTrainer logs for a batch, under its names.

    rewards/chosen, rewards/rejected (means of the implicit rewards), rewards/accuracies
    (fraction of pairs with r̂_w > r̂_l), rewards/margins (mean of r̂_w − r̂_l), logps/chosen,
    logps/rejected (means of the policy's log-probs), loss.
    result: the dict from `dpo_loss`; the log-probs: as given to it.
    Example: logged_metrics(dpo_loss(-1.0, -2.0, -1.5, -1.5, 0.1), -1.0, -2.0)["rewards/margins"]
             -> 0.1
    """
    missing = {"loss", "chosen_rewards", "rejected_rewards", "margin"} - set(result)
    if missing:
        raise ValueError(
            f"result must be the dict returned by dpo_loss (missing {sorted(missing)})."
        )
    chosen = np.asarray(result["chosen_rewards"], dtype=float)
    rejected = np.asarray(result["rejected_rewards"], dtype=float)
    return {
        "loss": float(result["loss"]),
        "rewards/chosen": float(np.mean(chosen)),
        "rewards/rejected": float(np.mean(rejected)),
        "rewards/accuracies": float(np.mean(chosen > rejected)),
        "rewards/margins": float(np.mean(result["margin"])),
        "logps/chosen": float(np.mean(_check_logps(policy_chosen_logps, "policy_chosen_logps"))),
        "logps/rejected": float(np.mean(_check_logps(policy_rejected_logps,
                                                     "policy_rejected_logps"))),
    }


# The derivation, step by step, on a handful of responses


def _check_positive_probs(p, name):
    p = np.asarray(p, dtype=float)
    if p.ndim != 1 or p.size < 2:
        raise ValueError(f"{name} must be a flat list of at least two probabilities.")
    if not np.all(np.isfinite(p)) or np.any(p <= 0):
        raise ValueError(
            f"{name} must hold numbers > 0: log(π/π_ref) is undefined for a response with "
            "probability 0."
        )
    if abs(p.sum() - 1) > rlhf.SUM_TOLERANCE:
        raise ValueError(
            f"{name} adds up to {p.sum():.6g}, not 1: divide the numbers by their sum."
        )
    return p / p.sum()


def reward_from_policy(policy_probs, ref_probs, beta, log_partition=0.0):
    """r(y) = β·log(π(y)/π_ref(y)) + β·log Z   (Eq. 5 of Rafailov et al. 2023)

    Eq. 4 solved for the reward. With π = π* and the right log Z this gives r back exactly;
    with log_partition = 0 it is the implicit reward, off by the same β·log Z for every y.
    policy_probs, ref_probs: (n,) probabilities > 0. Returns (n,).
    Example: reward_from_policy([0.75, 0.25], [0.5, 0.5], 1.0, np.log(2)) -> array([1.0986, 0.0])
    """
    beta = rlhf.check_beta(beta)
    policy = _check_positive_probs(policy_probs, "policy_probs")
    ref = _check_positive_probs(ref_probs, "ref_probs")
    if policy.shape != ref.shape:
        raise ValueError(
            f"policy_probs has {policy.size} responses but ref_probs {ref.size}: give both over "
            "the same responses."
        )
    if not isinstance(log_partition, numbers.Real) or not math.isfinite(log_partition):
        raise ValueError(f"log_partition must be a finite number, got {log_partition!r}.")
    return beta * np.log(policy / ref) + beta * log_partition


def preference_from_policy(policy_probs, ref_probs, beta):
    """P[i, j] = σ(β·log(π(y_i)/π_ref(y_i)) − β·log(π(y_j)/π_ref(y_j)))   (Eq. 6 of Rafailov et al.)

    Bradley–Terry written with the policy in place of the reward: Z no longer appears.
    policy_probs, ref_probs: (n,) probabilities > 0. Returns (n, n), P + Pᵀ = 1.
    Example: preference_from_policy([0.75, 0.25], [0.5, 0.5], 1.0)[0, 1] -> 0.75
    """
    r_hat = reward_from_policy(policy_probs, ref_probs, beta)
    return special.expit(r_hat[:, None] - r_hat[None, :])


def derivation_check(ref_probs, rewards, beta):
    """The DPO derivation in numbers: Eq. 4 → Eq. 5 → Eq. 6 for a handful of responses.

    ref_probs: (n,) reference probabilities > 0; rewards: (n,) true rewards; β > 0.
    Returns a dict:
      "policy"            π* = π_ref·exp(r/β)/Z (Eq. 4)
      "partition", "log_partition"   Z and log Z
      "implicit_rewards"  r̂ = β·log(π*/π_ref)
      "recovered_rewards" r̂ + β·log Z (Eq. 5): equal to the rewards
      "reward_shift"      r − r̂, the same number β·log Z for every response
      "preferences_true"  σ(r_i − r_j), Bradley–Terry with the true rewards (Eq. 1)
      "preferences_policy" σ(r̂_i − r̂_j), Eq. 6: Z has cancelled
      "max_preference_gap" the largest |difference| of the two preference tables (≈ 0)
    Example: derivation_check([0.5, 0.5], [np.log(3), 0.0], 1.0)["reward_shift"]
             -> array([0.6931, 0.6931])
    """
    beta = rlhf.check_beta(beta)
    ref = _check_positive_probs(ref_probs, "ref_probs")
    r = np.asarray(rewards, dtype=float)
    if r.shape != ref.shape or not np.all(np.isfinite(r)):
        raise ValueError(f"Give one finite reward per response: {ref.size} rewards.")
    policy = rlhf.optimal_policy(ref, r, beta)
    log_z = rlhf.log_partition_function(ref, r, beta)
    # log π* by log-softmax: exact even where π* itself underflows to 0 (tiny β)
    log_policy = special.log_softmax(np.log(ref) + r / beta)
    implicit = beta * (log_policy - np.log(ref))
    true_prefs = special.expit(r[:, None] - r[None, :])
    policy_prefs = special.expit(implicit[:, None] - implicit[None, :])
    return {
        "policy": policy,
        "partition": rlhf.partition_function(ref, r, beta),
        "log_partition": log_z,
        "implicit_rewards": implicit,
        "recovered_rewards": implicit + beta * log_z,
        "reward_shift": r - implicit,
        "preferences_true": true_prefs,
        "preferences_policy": policy_prefs,
        "max_preference_gap": float(np.max(np.abs(true_prefs - policy_prefs))),
    }


def population_dpo_loss(policy_probs, ref_probs, rewards, beta):
    """E[L_DPO] over every ordered pair (i, j), i ≠ j, labelled by a Bradley–Terry annotator:

        L(π) = mean_{i≠j} σ(r_i − r_j)·(−log σ(β·h_ij)),  h_ij = log(π_i/π_ref,i) − log(π_j/π_ref,j)

    The DPO loss with unlimited comparisons. Its minimiser over policies is π* of Eq. 4 (each
    pair's term is a cross-entropy, smallest when σ(β·h_ij) = σ(r_i − r_j)).
    policy_probs, ref_probs: (n,) probabilities > 0; rewards: (n,). Returns a float.
    Example: population_dpo_loss([0.75, 0.25], [0.5, 0.5], [np.log(3), 0.0], 1.0) -> 0.2812
    """
    r_hat = reward_from_policy(policy_probs, ref_probs, beta)
    r = np.asarray(rewards, dtype=float)
    if r.shape != r_hat.shape or not np.all(np.isfinite(r)):
        raise ValueError(f"Give one finite reward per response: {r_hat.size} rewards.")
    labels = special.expit(r[:, None] - r[None, :])
    terms = -labels * special.log_expit(r_hat[:, None] - r_hat[None, :])
    off_diagonal = ~np.eye(r.size, dtype=bool)
    return float(terms[off_diagonal].mean())
