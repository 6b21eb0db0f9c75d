"""RLHF: a reward model, the KL-regularised objective, its closed-form optimum, and the KL penalty.

Reinforcement learning from human feedback fine-tunes a language model π_θ in three moves. First a
reward model r(x, y) is fitted to human comparisons with the Bradley–Terry loss
−log σ(r_w − r_l) (`reward_model_loss`, imported from `lessons.bradley_terry`, where it is
defined). Then the policy maximises the reward while staying close to the reference (SFT) model:

    max_π  E_{y~π}[r(y)] − β·KL(π‖π_ref)          (Eq. 3 of Rafailov et al. 2023)

(`expected_reward`, `policy_kl`, `kl_regularised_objective`). Over a handful of responses this
has a closed-form solution, a re-weighting of the reference by the exponentiated reward:

    π*(y) = π_ref(y)·exp(r(y)/β) / Z,   Z = Σ_y π_ref(y)·exp(r(y)/β)   (Eq. 4 of Rafailov et al.)

(`optimal_policy`, `partition_function`, `log_partition_function`), and the best objective value
is β·log Z (`optimal_objective`). As β → ∞ π* stays at π_ref; as β → 0 it puts all its mass on the
best responses (`greedy_policy`). `beta_sweep` traces E[r] and KL between these limits.

A real LM is too big for the closed form, so PPO maximises the objective by sampling. The KL
term then becomes a per-token penalty: every sampled token t pays −β·k_t, where k_t estimates
KL(π‖π_ref) from the two log-probabilities of that token (`kl_estimate`: k1 = log π − log π_ref,
unbiased but often negative; k3 = (ρ − 1) − log ρ with ρ = π_ref/π, unbiased and ≥ 0), and the
reward model's score arrives at the last token only (`kl_penalised_reward`).

Everything is in nats. Functions take numpy arrays (a batch along the leading axes, responses
along the last) or plain floats, and raise ValueError with a readable message on bad input.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy import special

from lessons.bradley_terry import reward_model_loss
from lessons.information import kl_divergence

__all__ = [
    "check_beta",
    "KL_ESTIMATORS",
    "beta_sweep",
    "expected_reward",
    "greedy_policy",
    "kl_estimate",
    "kl_penalised_reward",
    "kl_regularised_objective",
    "log_partition_function",
    "optimal_objective",
    "optimal_policy",
    "partition_function",
    "policy_kl",
    "reward_model_loss",
]

KL_ESTIMATORS = ("k1", "k2", "k3")
SUM_TOLERANCE = 1e-6
LOGP_TOLERANCE = 1e-9  # a log-probability may exceed 0 by rounding, never by more


# Validation


def check_beta(beta):
    """β must be a finite number > 0 (it weighs the KL penalty and divides the reward).

    Shared by the RLHF and DPO math, where β plays the same role (Eq. 3 of the DPO paper).
    """
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not math.isfinite(beta):
        raise ValueError(f"β must be a finite number > 0, got {beta!r}.")
    if beta <= 0:
        raise ValueError(
            f"β = {beta:g} is not > 0: β weighs the KL penalty and divides the reward in "
            "exp(r/β), so it must be positive (small β: chase the reward; large β: stay near "
            "the reference)."
        )
    return float(beta)


def _check_probs(p, name="ref_probs"):
    """A distribution (or a batch of them) over the last axis, renormalised to sum exactly 1."""
    p = np.asarray(p, dtype=float)
    if p.ndim == 0 or p.shape[-1] == 0:
        raise ValueError(f"{name} must be a list of probabilities, one per response.")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name} contains NaN or infinity: every probability must be a number.")
    if np.any(p < 0):
        raise ValueError(
            f"{name} has a negative probability ({p.min():g}): probabilities are >= 0."
        )
    total = p.sum(axis=-1, keepdims=True)
    if np.any(np.abs(total - 1) > SUM_TOLERANCE):
        bad = np.ravel(total)[np.argmax(np.ravel(np.abs(total - 1)))]
        raise ValueError(f"{name} adds up to {bad:.6g}, not 1: divide the numbers by their sum.")
    return p / total


def _check_rewards(rewards, shape, name="rewards"):
    """Finite rewards, one per response (the last axis), broadcastable with the probabilities."""
    r = np.asarray(rewards, dtype=float)
    if not np.all(np.isfinite(r)):
        raise ValueError(f"{name} contains NaN or infinity: every reward must be a number.")
    try:
        np.broadcast_shapes(r.shape, shape)
        fits = r.ndim == 0 or r.shape[-1] == shape[-1]
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{name} has shape {r.shape} but the probabilities have shape {shape}: give one "
            "reward per response."
        )
    return r


def _check_logps(x, name):
    """Finite log-probabilities, each <= 0 (a probability is at most 1)."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        raise ValueError(f"{name} is empty: give at least one log-probability.")
    if not np.all(np.isfinite(x)):
        raise ValueError(
            f"{name} contains NaN or infinity: a log-probability of −∞ means probability 0, "
            "which a sampled token cannot have."
        )
    if np.any(x > LOGP_TOLERANCE):
        raise ValueError(
            f"{name} has the value {x.max():g} > 0: log-probabilities are <= 0 (probability <= 1)."
        )
    return np.minimum(x, 0.0)


def _out(x):
    """A float for a single result, an array for a batch of them."""
    return float(x) if np.ndim(x) == 0 else x


# The closed-form optimum of the KL-regularised objective


def _logits(ref_probs, rewards, beta):
    """log π_ref(y) + r(y)/β, with log 0 = −∞ for responses the reference never produces."""
    beta = check_beta(beta)
    ref = _check_probs(ref_probs)
    r = _check_rewards(rewards, ref.shape)
    with np.errstate(divide="ignore"):
        return np.log(ref) + r / beta


def optimal_policy(ref_probs, rewards, beta):
    """π*(y) = π_ref(y)·exp(r(y)/β) / Z   (Eq. 4 of Rafailov et al. 2023)

    The maximiser of E_π[r] − β·KL(π‖π_ref). Computed as a softmax of log π_ref + r/β, which is
    exact for any β (no overflow of exp(r/β)); responses with π_ref = 0 keep probability 0.
    ref_probs: (n,) or (..., n) probabilities; rewards: broadcastable to it; β > 0.
    Returns the shape of ref_probs.
    Example: optimal_policy([0.5, 0.5], [np.log(3), 0.0], 1.0) -> array([0.75, 0.25])
    """
    return special.softmax(_logits(ref_probs, rewards, beta), axis=-1)


def log_partition_function(ref_probs, rewards, beta):
    """log Z = log Σ_y π_ref(y)·exp(r(y)/β)   (the normaliser of Eq. 4, via log-sum-exp)

    ref_probs: (n,) or (..., n); rewards broadcastable to it. Returns a float or (...,) array.
    Example: log_partition_function([0.5, 0.5], [np.log(3), 0.0], 1.0) -> 0.6931 (Z = 2)
    """
    return _out(special.logsumexp(_logits(ref_probs, rewards, beta), axis=-1))


def partition_function(ref_probs, rewards, beta):
    """Z = Σ_y π_ref(y)·exp(r(y)/β)   (Eq. 4 of Rafailov et al. 2023; E_{π_ref}[exp(r/β)])

    Overflows to inf for large r/β (about r/β > 709): use `log_partition_function` there.
    Example: partition_function([0.5, 0.5], [np.log(3), 0.0], 1.0) -> 2.0
    """
    with np.errstate(over="ignore"):
        return _out(np.exp(log_partition_function(ref_probs, rewards, beta)))


def optimal_objective(ref_probs, rewards, beta):
    """max_π E_π[r] − β·KL(π‖π_ref) = β·log Z   (the objective's value at π*)

    For any π, E_π[r] − β·KL(π‖π_ref) = β·log Z − β·KL(π‖π*), so π* is the unique maximiser.
    Example: optimal_objective([0.5, 0.5], [np.log(3), 0.0], 1.0) -> 0.6931
    """
    return _out(check_beta(beta) * np.asarray(log_partition_function(ref_probs, rewards, beta)))


def greedy_policy(ref_probs, rewards):
    """lim_{β→0} π*(y) = π_ref(y)·[r(y) = max r] / Σ_{y': r(y') = max r} π_ref(y')

    With no KL penalty all mass goes to the best responses the reference can produce, shared in
    the reference's proportions. ref_probs: (n,) or (..., n); rewards broadcastable to it.
    Example: greedy_policy([0.2, 0.3, 0.5], [1.0, 1.0, 0.0]) -> array([0.4, 0.6, 0.0])
    """
    ref = _check_probs(ref_probs)
    r = _check_rewards(rewards, ref.shape)
    ref, r = np.broadcast_arrays(ref, r)
    best = np.max(np.where(ref > 0, r, -np.inf), axis=-1, keepdims=True)
    weights = np.where(r == best, ref, 0.0)
    return weights / weights.sum(axis=-1, keepdims=True)


# The KL-regularised objective of any policy


def expected_reward(probs, rewards):
    """E_{y~π}[r(y)] = Σ_y π(y)·r(y)

    probs: (n,) or (..., n); rewards broadcastable to it. Returns a float or (...,) array.
    Example: expected_reward([0.75, 0.25], [1.0, 0.0]) -> 0.75
    """
    p = _check_probs(probs, "probs")
    r = _check_rewards(rewards, p.shape)
    return _out(np.sum(p * r, axis=-1))


def policy_kl(probs, ref_probs):
    """KL(π‖π_ref) = Σ_y π(y)·log(π(y)/π_ref(y))   (nats; inf where π_ref = 0 < π)

    Example: policy_kl([0.75, 0.25], [0.5, 0.5]) -> 0.1308
    """
    p, ref = _check_probs(probs, "probs"), _check_probs(ref_probs)
    if p.shape[-1] != ref.shape[-1]:
        raise ValueError(
            f"probs has {p.shape[-1]} responses but ref_probs has {ref.shape[-1]}: give both "
            "over the same responses."
        )
    return kl_divergence(p, ref, base=math.e)


def kl_regularised_objective(probs, ref_probs, rewards, beta):
    """J(π) = E_{y~π}[r(y)] − β·KL(π‖π_ref)   (Eq. 3 of Rafailov et al. 2023; nats)

    probs, ref_probs: (n,) or (..., n); rewards broadcastable to them; β > 0.
    Example: kl_regularised_objective([0.75, 0.25], [0.5, 0.5], [1.0, 0.0], 1.0) -> 0.6192
    """
    beta = check_beta(beta)
    return _out(np.asarray(expected_reward(probs, rewards)) - beta * np.asarray(
        policy_kl(probs, ref_probs)))


def beta_sweep(ref_probs, rewards, betas):
    """π*_β, E_{π*}[r], KL(π*‖π_ref), J(π*) = β·log Z  for each β   (from greedy to reference)

    ref_probs: (n,) probabilities; rewards: (n,); betas: (m,) numbers > 0.
    Returns a dict: "beta" (m,), "policy" (m, n), "expected_reward" (m,), "kl" (m,),
    "objective" (m,), "log_partition" (m,).
    Example: beta_sweep([0.5, 0.5], [1.0, 0.0], [1e-3, 1e3])["expected_reward"] -> [1.0, 0.50025]
    """
    ref = _check_probs(ref_probs)
    if ref.ndim != 1:
        raise ValueError("ref_probs must be one distribution: a flat list, one per response.")
    r = np.broadcast_to(_check_rewards(rewards, ref.shape), ref.shape)
    betas = np.atleast_1d(np.asarray(betas, dtype=float))
    if betas.ndim != 1 or betas.size == 0:
        raise ValueError("betas must be a non-empty list of numbers > 0.")
    for beta in betas:
        check_beta(float(beta))
    logits = np.log(np.where(ref > 0, ref, 1.0)) + r / betas[:, None]
    logits = np.where(ref > 0, logits, -np.inf)
    policy = special.softmax(logits, axis=-1)
    kl = kl_divergence(policy, np.broadcast_to(ref, policy.shape), base=math.e)
    log_z = special.logsumexp(logits, axis=-1)
    return {
        "beta": betas,
        "policy": policy,
        "expected_reward": policy @ r,
        "kl": np.atleast_1d(kl),
        "objective": betas * log_z,
        "log_partition": log_z,
    }


# The per-token KL penalty of PPO fine-tuning


def kl_estimate(logprobs, ref_logprobs, estimator="k1"):
    """Per-token estimates of KL(π‖π_ref) from a token sampled from π, with ρ = π_ref/π:

        k1 = log π − log π_ref = −log ρ            (unbiased; negative for some tokens)
        k2 = ½·(log ρ)²                            (biased, low variance)
        k3 = (ρ − 1) − log ρ                       (unbiased and >= 0)

    J. Schulman, "Approximating KL divergence" (2020), http://joschu.net/blog/kl-approx.html.
    Summed over a sequence's tokens, k1 and k3 are unbiased for the KL between the sequence
    distributions. logprobs, ref_logprobs: same-shape arrays of the sampled tokens' log-probs.
    Example: kl_estimate(np.log(0.5), np.log(0.25), "k3") -> 0.1931 (= −0.5 + ln 2)
    """
    if estimator not in KL_ESTIMATORS:
        raise ValueError(
            f"Unknown KL estimator {estimator!r}: use one of {', '.join(KL_ESTIMATORS)}."
        )
    logp = _check_logps(logprobs, "logprobs")
    ref = _check_logps(ref_logprobs, "ref_logprobs")
    if logp.shape != ref.shape:
        raise ValueError(
            f"logprobs has shape {logp.shape} but ref_logprobs {ref.shape}: give the policy's "
            "and the reference's log-probability of the same tokens."
        )
    log_rho = ref - logp
    if estimator == "k1":
        return _out(0.0 - log_rho)  # 0.0 − x: no −0.0 on screen
    if estimator == "k2":
        return _out(0.5 * log_rho**2)
    with np.errstate(over="ignore"):
        return _out(np.maximum(np.expm1(log_rho) - log_rho, 0.0))  # expm1: exact near ρ = 1


def _check_mask(mask, shape):
    if mask is None:
        return np.ones(shape, dtype=bool)
    m = np.asarray(mask)
    if m.shape != shape:
        raise ValueError(f"mask has shape {m.shape} but logprobs {shape}: one flag per token.")
    if not np.all((m == 0) | (m == 1)):
        raise ValueError("mask must hold 1 (a real token) or 0 (padding) for each token.")
    m = m.astype(bool)
    if not np.all(m.any(axis=-1)):
        raise ValueError("A sequence has no tokens left after the mask: each needs at least one.")
    return m


def kl_penalised_reward(rewards, logprobs, ref_logprobs, beta, estimator="k1", mask=None):
    """R_t = −β·k_t + [t = T]·r(x, y)   (per token; Σ_t R_t = r − β·KL estimate of the sequence)

    The reward PPO maximises in RLHF: every generated token pays the KL penalty −β·k_t
    (`kl_estimate`, k1 by default as in Ouyang et al. 2022 Eq. 2 and Stiennon et al. 2020, or k3),
    and the reward model's score r(x, y) of the whole completion is added at its last token.
    rewards: (B,) scores, one per sequence (a float for one sequence); logprobs, ref_logprobs:
    (B, T) (or (T,)) log-probs of the sampled tokens under π and π_ref; mask: optional (B, T) of
    1 (token) / 0 (padding) — the score goes to each row's last 1, padding gets 0.
    Returns a dict: "token_rewards" (B, T), "token_kl" (B, T), "kl_penalty" (B, T) = −β·k_t,
    "score" (B, T) (the score at the last token, else 0), "sequence_kl" (B,), "total_reward" (B,).
    Example: kl_penalised_reward(1.0, np.log([0.5, 0.5]), np.log([0.25, 0.5]), 0.1)["token_rewards"]
             -> array([-0.0693, 1.0])
    """
    beta = check_beta(beta)
    k = np.asarray(kl_estimate(logprobs, ref_logprobs, estimator), dtype=float)
    if k.ndim not in (1, 2):
        raise ValueError("logprobs must be (T,) for one sequence or (B, T) for a batch.")
    scores = np.asarray(rewards, dtype=float)
    batch_shape = k.shape[:-1]
    if not np.all(np.isfinite(scores)):
        raise ValueError("rewards contains NaN or infinity: every score must be a number.")
    if scores.shape != batch_shape:
        raise ValueError(
            f"rewards has shape {scores.shape} but logprobs has {k.shape[0] if k.ndim == 2 else 1}"
            " sequence(s): give one reward-model score per sequence."
        )
    m = _check_mask(mask, k.shape)
    k = np.where(m, k, 0.0)
    last = k.shape[-1] - 1 - np.argmax(m[..., ::-1], axis=-1)
    score = np.zeros_like(k)
    np.put_along_axis(score, np.expand_dims(last, -1), np.expand_dims(scores, -1), axis=-1)
    penalty = -beta * k
    token_rewards = penalty + score
    return {
        "token_rewards": token_rewards,
        "token_kl": k,
        "kl_penalty": penalty,
        "score": score,
        "sequence_kl": _out(k.sum(axis=-1)),
        "total_reward": _out(token_rewards.sum(axis=-1)),
    }
