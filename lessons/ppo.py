"""Proximal Policy Optimization: the probability ratio, the advantage, clipping, and GAE.

The PPO lesson tells one story. A policy collected a batch with its old parameters; for each
sample we know the probability ratio r = π_new(a|s) / π_old(a|s) and an advantage estimate A
(how much better the action was than expected). The surrogate objective r·A (`surrogate_objective`)
has the policy gradient as its slope at r = 1, but taken at face value it rewards moving r
without limit, far beyond where the batch says anything. PPO's clipped objective
(`clipped_objective`, Eq. 7 of Schulman et al. 2017) takes the minimum of r·A and clip(r)·A: a
pessimistic bound that is flat (gradient zero, `objective_gradient`) exactly where the policy has
already moved far enough in the direction the advantage asks for, and keeps the full slope where
it moved the wrong way.

A learner asked whether the formula should rather be max(1−ε, min(r, 1+ε)). That expression is
`clip_ratio` itself; using it alone as the objective (`learner_objective`) drops the outer min
and with it the pull back from the wrong side. Code usually minimises the negated objective,
max(−A·r, −A·clip(r)) (`policy_loss`), which is the same thing.

Advantages come from generalized advantage estimation (`td_errors`, `gae`; Eq. 11–12 of the PPO
paper, Schulman et al. 2016). The training diagnostics PPO implementations log are
`approx_kl` (the k1 and k3 estimators of KL(π_old‖π_new)) and `clip_fraction`.

Finally, a tiny contextual bandit (prompts with three features, five possible responses, one of
them a long shot with a rare jackpot) and a vectorised PPO loop on a linear-softmax policy
(`ppo_run`, `one_batch_ascent`), so the page can show real runs of PPO, of the unclipped
surrogate and of the learner's version, with exact expected rewards and exact KLs to check
the estimates against.

All functions are pure numpy; bad input raises ValueError with a message a learner can act on.
"""

from __future__ import annotations

import numpy as np

OBJECTIVES = ("ppo", "unclipped", "learner")
KL_ESTIMATORS = ("k1", "k2", "k3")
SIGNS = ("A > 0", "A < 0")
REGIONS = ("r < 1−ε", "1−ε ≤ r ≤ 1+ε", "r > 1+ε")


# Validation


def _check_epsilon(epsilon):
    """ε must be a number strictly between 0 and 1 (the band [1−ε, 1+ε] must hold positive r)."""
    try:
        epsilon = float(epsilon)
    except (TypeError, ValueError):
        raise ValueError(f"ε must be a number, not {epsilon!r}.") from None
    if not 0 < epsilon < 1:
        raise ValueError(
            f"ε = {epsilon:g} is outside (0, 1): the clip range [1−ε, 1+ε] needs 0 < ε < 1 "
            "(PPO uses values around 0.1–0.3)."
        )
    return epsilon


def _check_ratio(ratio):
    """Probability ratios are finite and non-negative."""
    r = np.asarray(ratio, dtype=float)
    if not np.all(np.isfinite(r)):
        raise ValueError("The ratio contains NaN or infinity: r = π_new/π_old must be a number.")
    if np.any(r < 0):
        raise ValueError(
            f"The ratio {r.min():g} is negative: r = π_new/π_old is a ratio of probabilities, "
            "so r ≥ 0."
        )
    return r


def _check_advantage(advantage):
    a = np.asarray(advantage, dtype=float)
    if not np.all(np.isfinite(a)):
        raise ValueError("The advantage contains NaN or infinity: every A must be a number.")
    return a


def _check_pair(ratio, advantage):
    r, a = _check_ratio(ratio), _check_advantage(advantage)
    try:
        np.broadcast_shapes(r.shape, a.shape)
    except ValueError:
        raise ValueError(
            f"ratio (shape {r.shape}) and advantage (shape {a.shape}) must have the same length."
        ) from None
    return r, a


def _frozen(values):
    """A read-only float array: module constants are shared by every page."""
    array = np.array(values, dtype=float)
    array.setflags(write=False)
    return array


def _out(x):
    """A float for scalar input, an array otherwise."""
    return float(x) if np.ndim(x) == 0 else x


# The surrogate and the clipped objective


def clip_ratio(ratio, epsilon):
    """clip(r, 1−ε, 1+ε) = max(1−ε, min(r, 1+ε)).

    ratio: float or array of r ≥ 0; epsilon: 0 < ε < 1. Same shape as ratio.
    Example: clip_ratio(0.4, 0.3) -> 0.7
    """
    epsilon = _check_epsilon(epsilon)
    return _out(np.clip(_check_ratio(ratio), 1 - epsilon, 1 + epsilon))


def surrogate_objective(ratio, advantage):
    """L^CPI = r·A, the unclipped surrogate (Eq. 6 of Schulman et al. 2017).

    Its derivative in the policy parameters at r = 1 is the policy gradient; away from r = 1 the
    batch's advantages no longer describe the new policy, yet r·A keeps growing linearly.
    Example: surrogate_objective(1.5, 2.0) -> 3.0
    """
    r, a = _check_pair(ratio, advantage)
    return _out(r * a)


def clipped_objective(ratio, advantage, epsilon):
    """L^CLIP = min(r·A, clip(r, 1−ε, 1+ε)·A) (Eq. 7 of Schulman et al. 2017).

    ratio, advantage: floats or arrays of one shape; 0 < ε < 1.
    Example: clipped_objective(0.4, 1.0, 0.3) -> 0.4 (the clip alone would give 0.7)
    """
    r, a = _check_pair(ratio, advantage)
    return _out(np.minimum(r * a, clip_ratio(r, epsilon) * a))


def objective_gradient(ratio, advantage, epsilon):
    """dL^CLIP/dr = A where the min picks r·A, and 0 where it picks the flat clip(r)·A.

    Zero exactly when A > 0 and r > 1+ε, or A < 0 and r < 1−ε: the policy already moved far
    enough in the direction A asks for. Convention at the kinks r = 1±ε: the slope from inside
    the band (A), which is also what automatic differentiation gives (torch.clamp passes the
    gradient at its bounds, and a tie in the max splits it between two equal slopes).
    Example: objective_gradient(0.4, 1.0, 0.3) -> 1.0 (pushes r back up)
    """
    epsilon = _check_epsilon(epsilon)
    r, a = _check_pair(ratio, advantage)
    flat = ((a > 0) & (r > 1 + epsilon)) | ((a < 0) & (r < 1 - epsilon))
    return _out(np.where(flat, 0.0, a * np.ones_like(r)))


def learner_objective(ratio, advantage, epsilon):
    """The learner's proposal: max(1−ε, min(r, 1+ε))·A, which is clip(r, 1−ε, 1+ε)·A.

    It drops PPO's outer min between r·A and clip(r)·A, so it is flat outside the band on both
    sides: a policy that moved the wrong way is not pulled back.
    Example: learner_objective(0.4, 1.0, 0.3) -> 0.7
    """
    r, a = _check_pair(ratio, advantage)
    return _out(clip_ratio(r, epsilon) * a)


def learner_gradient(ratio, advantage, epsilon):
    """d/dr of clip(r)·A: A inside the band [1−ε, 1+ε] (bounds included), 0 outside it.

    Example: learner_gradient(0.4, 1.0, 0.3) -> 0.0 (nothing pulls r back up)
    """
    epsilon = _check_epsilon(epsilon)
    r, a = _check_pair(ratio, advantage)
    inside = (r >= 1 - epsilon) & (r <= 1 + epsilon)
    return _out(np.where(inside, a * np.ones_like(r), 0.0))


def policy_loss(ratio, advantage, epsilon):
    """The form in code: max(−A·r, −A·clip(r, 1−ε, 1+ε)), to be minimised; equals −L^CLIP.

    This is cleanrl's pg_loss = torch.max(pg_loss1, pg_loss2) before the mean (min(x, y) =
    −max(−x, −y)). Example: policy_loss(0.4, 1.0, 0.3) -> -0.4
    """
    r, a = _check_pair(ratio, advantage)
    return _out(np.maximum(-a * r, -a * clip_ratio(r, epsilon)))


def code_form_gap(epsilon, n=10_000, seed=0):
    """max |(−policy_loss) − clipped_objective| over n random (r, A): how far the code form and
    Eq. 7 ever disagree (0 up to rounding). r ~ U(0, 3), A ~ N(0, 2²).

    Example: code_form_gap(0.2) -> 0.0
    """
    rng = np.random.default_rng(seed)
    r, a = rng.uniform(0, 3, n), rng.normal(0, 2, n)
    return float(np.max(np.abs(-policy_loss(r, a, epsilon) - clipped_objective(r, a, epsilon))))


# The six sign/region cases


def case_of(ratio, advantage, epsilon):
    """(sign, region) of one (r, A): sign is "A > 0", "A < 0" or "A = 0"; region one of REGIONS.

    Example: case_of(0.4, 1.0, 0.3) -> ("A > 0", "r < 1−ε")
    """
    epsilon = _check_epsilon(epsilon)
    r, a = float(_check_ratio(ratio)), float(_check_advantage(advantage))
    sign = "A > 0" if a > 0 else "A < 0" if a < 0 else "A = 0"
    region = REGIONS[0] if r < 1 - epsilon else REGIONS[2] if r > 1 + epsilon else REGIONS[1]
    return sign, region


def _representative_ratio(region, epsilon):
    """A ratio in the middle of a region, for the table rows the learner is not in."""
    if region == REGIONS[0]:
        return (1 - epsilon) / 2
    if region == REGIONS[2]:
        return 1 + 2 * epsilon
    return 1.0


def six_cases(ratio, advantage, epsilon):
    """The six cases A ≷ 0 × {r < 1−ε, 1−ε ≤ r ≤ 1+ε, r > 1+ε}, one dict per case.

    Each row evaluates L^CLIP at the learner's (r, A) if that is the row's case, else at a
    representative r of the region and A = ±|A| (±1 if A = 0). Keys: sign, region, ratio,
    advantage, picks (which term the min picks), value, gradient, zero_gradient, current.
    Example: [row["zero_gradient"] for row in six_cases(1, 1, 0.2)]
             -> [False, False, True, True, False, False]
    """
    epsilon = _check_epsilon(epsilon)
    here = case_of(ratio, advantage, epsilon)
    size = abs(float(advantage)) or 1.0
    rows = []
    for sign in SIGNS:
        a = size if sign == "A > 0" else -size
        for region in REGIONS:
            current = (sign, region) == here
            r = float(ratio) if region == here[1] else _representative_ratio(region, epsilon)
            unclipped, clipped = r * a, clip_ratio(r, epsilon) * a
            if region == REGIONS[1]:
                picks = "both equal (clip does nothing)"
            elif unclipped < clipped:
                picks = "unclipped r·A"
            else:
                picks = "clipped (1−ε)·A" if region == REGIONS[0] else "clipped (1+ε)·A"
            gradient = objective_gradient(r, a, epsilon)
            rows.append({
                "sign": sign, "region": region, "ratio": r, "advantage": a, "picks": picks,
                "value": min(unclipped, clipped), "gradient": gradient,
                "zero_gradient": gradient == 0.0, "current": current,
            })
    return rows


def wrong_side_fraction(ratio, advantage, epsilon):
    """Share of samples beyond the band on the wrong side: A > 0 with r < 1−ε, or A < 0 with
    r > 1+ε (the policy moved against the advantage by more than ε).

    Example: wrong_side_fraction([0.5, 1.0, 1.5], [1.0, 1.0, -1.0], 0.2) -> 0.6666666666666666
    """
    epsilon = _check_epsilon(epsilon)
    r, a = _check_pair(ratio, advantage)
    r, a = np.broadcast_arrays(r, a)
    if r.size == 0:
        raise ValueError("No samples: give at least one ratio.")
    wrong = ((a > 0) & (r < 1 - epsilon)) | ((a < 0) & (r > 1 + epsilon))
    return float(np.mean(wrong))


# Training diagnostics


def clip_fraction(ratio, epsilon):
    """mean(|r − 1| > ε): the share of samples whose ratio left the band [1−ε, 1+ε].

    As logged by cleanrl's ppo.py (clipfracs). Example: clip_fraction([0.7, 1.0, 1.3], 0.2) -> 2/3
    """
    epsilon = _check_epsilon(epsilon)
    r = np.ravel(_check_ratio(ratio))
    if r.size == 0:
        raise ValueError("No ratios: give at least one.")
    return float(np.mean(np.abs(r - 1) > epsilon))


def approx_kl(ratio, estimator="k3"):
    """Estimate KL(π_old‖π_new) from ratios r = π_new/π_old of actions sampled from π_old.

    k1 = mean(−log r) (unbiased, can be negative), k2 = mean((log r)²/2) (low variance, biased),
    k3 = mean((r − 1) − log r) (unbiased and ≥ 0): J. Schulman, "Approximating KL divergence"
    (2020), http://joschu.net/blog/kl-approx.html; cleanrl logs k1 as old_approx_kl and k3 as
    approx_kl. Example: approx_kl([0.5, 2.0], "k3") -> 0.25
    """
    if estimator not in KL_ESTIMATORS:
        raise ValueError(f"Unknown estimator {estimator!r}: use one of {', '.join(KL_ESTIMATORS)}.")
    r = np.ravel(_check_ratio(ratio))
    if r.size == 0:
        raise ValueError("No ratios: give at least one.")
    if np.any(r == 0):
        raise ValueError(
            "A ratio is 0, so log r is −∞: the new policy gave a sampled action probability 0."
        )
    logr = np.log(r)
    terms = {"k1": -logr, "k2": 0.5 * logr**2, "k3": (r - 1) - logr}[estimator]
    return float(np.mean(terms))


# Advantages: TD errors and GAE


def _check_trajectory(rewards, values, gamma, lam=0.0):
    r = np.asarray(rewards, dtype=float)
    v = np.asarray(values, dtype=float)
    if r.ndim != 1 or v.ndim != 1 or r.size == 0:
        raise ValueError("Rewards and values must be non-empty lists of numbers.")
    if v.size != r.size + 1:
        raise ValueError(
            f"{r.size} rewards need {r.size + 1} values (one per state, plus the bootstrap value "
            f"of the state after the last step; 0 if the episode ended), not {v.size}."
        )
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(v))):
        raise ValueError("Rewards and values must be finite numbers.")
    for name, x in (("γ", gamma), ("λ", lam)):
        if not (np.isfinite(x) and 0 <= x <= 1):
            raise ValueError(f"{name} = {x:g} must lie between 0 and 1.")
    return r, v


def td_errors(rewards, values, gamma):
    """δ_t = r_t + γ·V(s_{t+1}) − V(s_t) (Eq. 12 of Schulman et al. 2017).

    rewards: (T,); values: (T+1,), the last one the bootstrap V(s_T). Returns (T,).
    Example: td_errors([1.0], [0.5, 2.0], 0.9) -> [2.3]
    """
    r, v = _check_trajectory(rewards, values, gamma)
    return r + gamma * v[1:] - v[:-1]


def gae(rewards, values, gamma, lam):
    """Â_t = Σ_l (γλ)^l δ_{t+l} (Eq. 11 of Schulman et al. 2017; Schulman et al. 2016).

    Computed backwards: Â_t = δ_t + γλ·Â_{t+1}. λ = 0 gives the one-step TD error δ_t; λ = 1
    gives the Monte Carlo advantage G_t − V(s_t) with the return bootstrapped by V(s_T).
    rewards: (T,); values: (T+1,). Returns (T,).
    Example: gae([0, 1], [0, 0, 0], 0.5, 1.0) -> [0.5, 1.0]
    """
    r, v = _check_trajectory(rewards, values, gamma, lam)
    delta = r + gamma * v[1:] - v[:-1]
    advantages = np.empty_like(delta)
    running = 0.0
    for t in range(delta.size - 1, -1, -1):
        running = delta[t] + gamma * lam * running
        advantages[t] = running
    return advantages


def lambda_returns(rewards, values, gamma, lam):
    """G^λ_t = Â_t + V(s_t): the λ-return, which PPO trains the critic towards.

    Example: lambda_returns([0, 1], [0, 0, 0], 0.5, 1.0) -> [0.5, 1.0]
    """
    return gae(rewards, values, gamma, lam) + np.asarray(values, dtype=float)[:-1]


def gae_over_lambda(rewards, values, gamma, lams, t=0):
    """Â_t for each λ in ``lams``: the bias–variance dial from one-step TD (0) to Monte Carlo (1).

    Â_t is a polynomial in λ: Σ_l (γλ)^l δ_{t+l}. Example: gae_over_lambda([0, 1], [0, 0, 0],
    0.5, [0.0, 1.0]) -> [0.0, 0.5]
    """
    lams = np.asarray(lams, dtype=float)
    if lams.ndim != 1 or np.any((lams < 0) | (lams > 1)) or not np.all(np.isfinite(lams)):
        raise ValueError("Every λ must lie between 0 and 1.")
    delta = td_errors(rewards, values, gamma)
    if not 0 <= t < delta.size:
        raise ValueError(f"Step t = {t} is outside the trajectory (0 to {delta.size - 1}).")
    powers = (gamma * lams[:, None]) ** np.arange(delta.size - t)[None, :]
    return powers @ delta[t:]


# A tiny contextual bandit and PPO on it
#
# Each "prompt" x = [1, x1, x2] has a bias and two features; the policy picks one of five
# "responses" with a linear softmax π(a|x) ∝ exp(θ_a·x). Four responses pay their mean
# q(x, a) = w_a·x plus a little Gaussian noise; the fifth is a long shot that usually pays −1
# and now and then a jackpot (mean −0.3, like a judge that is sometimes fooled). Episodes last
# one step, so the GAE advantage reduces to Â = R − V(x), with V a linear critic.

N_FEATURES = 3
N_ACTIONS = 5
TRUE_WEIGHTS = _frozen([  # mean reward q(x, a) = TRUE_WEIGHTS[a] · [1, x1, x2]
    [0.2, 1.0, 0.0],
    [0.2, -1.0, 0.0],
    [0.0, 0.0, 1.0],
    [0.4, 0.0, 0.0],
    [-0.3, 0.0, 0.0],
])
START_LOGITS = _frozen([  # the starting ("reference") policy prefers the safe response
    [0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0],
    [1.0, 0.0, 0.0],
    [0.0, 0.0, 0.0],
])
REWARD_NOISE = 0.5
LONG_SHOT = 4
JACKPOT, JACKPOT_P, MISS = 6.0, 0.1, -1.0  # the long shot's mean: 0.1·6 − 0.9·1 = −0.3
EVAL_SIZE = 256
EVAL_SEED = 2017


def bandit_contexts(n, seed):
    """n prompts as rows [1, x1, x2] with x ~ N(0, I). Returns (n, 3).

    Example: bandit_contexts(2, 0)[:, 0] -> [1.0, 1.0]
    """
    rng = np.random.default_rng(seed)
    return np.column_stack([np.ones(n), rng.standard_normal((n, N_FEATURES - 1))])


EVAL_CONTEXTS = _frozen(bandit_contexts(EVAL_SIZE, EVAL_SEED))
_EVAL_Q = _frozen(EVAL_CONTEXTS @ TRUE_WEIGHTS.T)


def policy_logprobs(logits_weights, contexts):
    """log π(a|x) = θ_a·x − log Σ_b exp(θ_b·x). logits_weights: (..., 5, 3); contexts:
    (..., n, 3). Returns (..., n, 5); leading axes broadcast, so many runs evaluate at once.

    Example: np.exp(policy_logprobs(np.zeros((5, 3)), bandit_contexts(1, 0))) -> [[0.2] * 5]
    """
    z = contexts @ np.swapaxes(logits_weights, -1, -2)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


def expected_return(logits_weights, contexts=EVAL_CONTEXTS):
    """J(π) = mean over prompts of Σ_a π(a|x)·q(x, a), with q the mean reward: exact, no sampling.

    logits_weights: (..., 5, 3) -> a float, or an array over the leading axes.
    Example: round(expected_return(START_LOGITS), 2) -> 0.18
    """
    q = _EVAL_Q if contexts is EVAL_CONTEXTS else contexts @ TRUE_WEIGHTS.T
    probs = np.exp(policy_logprobs(logits_weights, contexts))
    return _out(np.mean(np.sum(probs * q, axis=-1), axis=-1))


def optimal_return(contexts=EVAL_CONTEXTS):
    """J* = mean over prompts of max_a q(x, a): the best any policy can do.

    Example: round(optimal_return(), 2) -> 1.15
    """
    return float(np.mean(np.max(contexts @ TRUE_WEIGHTS.T, axis=1)))


def _ascent_direction(theta, x, onehot, logp_old, adv, log_lo, log_hi):
    """∇θ of the batch-mean objective, via dr/dθ_k = r·(1[a = k] − π_k)·x; also log r.

    theta (R, 5, 3); x (R, m, 3); onehot (R, m, 5) the actions; logp_old, adv (R, m).
    Every objective here has slope A in r except where it is flat; log_lo and log_hi (R, m)
    mark, per sample, the log-ratios beyond which it is flat (see _flat_bounds).
    """
    z = x @ np.swapaxes(theta, -1, -2)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    total = e.sum(axis=-1)
    logr = np.sum(z * onehot, axis=-1) - np.log(total) - logp_old
    ratio = np.exp(logr)
    coef = adv * ratio * ((logr <= log_hi) & (logr >= log_lo))
    grad = np.swapaxes(onehot * coef[..., None] - e * (coef / total)[..., None], -1, -2) @ x
    return grad / x.shape[-2], logr


def _flat_bounds(objectives, n_seeds, adv, epsilon):
    """Per run and sample, the log-ratio interval where the objective still has slope A.

    PPO (Eq. 7) is flat where A > 0 and r > 1+ε, or A < 0 and r < 1−ε; the learner's
    clip(r)·A wherever r leaves [1−ε, 1+ε]; the unclipped r·A nowhere. adv: (R, n).
    """
    codes = np.repeat([OBJECTIVES.index(o) for o in objectives], n_seeds)[:, None]
    lo, hi = np.log(1 - epsilon), np.log(1 + epsilon)
    log_lo = np.where((codes == 2) | ((codes == 0) & (adv < 0)), lo, -np.inf)
    log_hi = np.where((codes == 2) | ((codes == 0) & (adv > 0)), hi, np.inf)
    return log_lo, log_hi


def _sample_batch(theta, uniforms, normals, jackpots, normalize=True):
    """One batch per run from its current policy: prompts, actions (one-hot), log π_old(a|x) and
    advantages. The random draws are given, so runs of several objectives with one seed see the
    same prompts and the same luck."""
    x = np.concatenate([np.ones(normals.shape[:-1] + (1,)), normals[..., :2]], axis=-1)
    logp = policy_logprobs(theta, x)
    cdf = np.cumsum(np.exp(logp), axis=-1)
    actions = np.minimum((uniforms[..., None] > cdf).sum(axis=-1), N_ACTIONS - 1)
    rewards = np.sum(x * TRUE_WEIGHTS[actions], axis=-1) + REWARD_NOISE * normals[..., 2]
    rewards = np.where(actions == LONG_SHOT, np.where(jackpots < JACKPOT_P, JACKPOT, MISS),
                       rewards)
    # The critic: a least-squares linear value V(x) fitted to the batch. Episodes last one
    # step, so the GAE advantage is R − V(x); normalised per batch, as most PPO code does.
    xt = np.swapaxes(x, -1, -2)
    coef = np.linalg.solve(xt @ x + 1e-6 * np.eye(N_FEATURES), xt @ rewards[..., None])
    adv = rewards - (x @ coef)[..., 0]
    if normalize:
        adv = (adv - adv.mean(axis=-1, keepdims=True)) / (adv.std(axis=-1, keepdims=True) + 1e-8)
    onehot = np.eye(N_ACTIONS)[actions]
    return x, onehot, np.sum(logp * onehot, axis=-1), adv


def _draws(rng, shape):
    """The random numbers of one batch: a uniform for the action, normals for the prompt and
    the reward noise, a uniform for the long shot's jackpot."""
    return rng.random(shape), rng.standard_normal(shape + (3,)), rng.random(shape)


def _exact_kl(logp_old, logp_new):
    """KL(π_old‖π_new) per run, exactly: Σ_a π_old log(π_old/π_new), averaged over prompts."""
    return np.mean(np.sum(np.exp(logp_old) * (logp_old - logp_new), axis=-1), axis=-1)


def _check_objectives(objectives):
    objectives = (objectives,) if isinstance(objectives, str) else tuple(objectives)
    unknown = [o for o in objectives if o not in OBJECTIVES]
    if not objectives or unknown:
        raise ValueError(f"Unknown objective {unknown or objectives!r}: use some of "
                         f"{', '.join(OBJECTIVES)}.")
    return objectives


def _check_count(name, value, lo, hi=10_000):
    if isinstance(value, bool) or not float(value).is_integer() or not lo <= value <= hi:
        raise ValueError(f"{name} = {value} must be a whole number from {lo} to {hi}.")
    return int(value)


def _check_lr(lr):
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"The learning rate {lr} must be a positive number.")
    return float(lr)


def ppo_run(objectives=("ppo",), epsilon=0.2, epochs=4, lr=1.0, seed=0, n_seeds=8,
            updates=40, batch_size=64, minibatches=4):
    """Train the bandit policy from START_LOGITS as in Algorithm 1 of Schulman et al. 2017:
    each update samples a batch, then makes ``epochs`` passes of minibatch gradient ascent on
    the objective, ratios r = π_θ/π_old measured against the policy that sampled the batch.

    objectives: some of "ppo" (L^CLIP), "unclipped" (r·A), "learner" (clip(r)·A); each runs
    ``n_seeds`` times, all runs at once; runs with the same seed share every random draw.
    Returns a dict of arrays with leading axes (objective, seed): returns (.., updates+1), the
    exact expected return before and after each update; clip_fraction (.., updates), the mean
    over the update's minibatch steps of mean(|r − 1| > ε), as cleanrl logs it; kl_k1, kl_k3
    (estimated from the batch after the update), kl_exact and wrong_side (.., updates); for the
    first seed only, ratios (objective, updates, epochs, batch_size) after each epoch and
    advantages (objective, updates, batch_size); and optimal (float), the best possible return.
    Example: ppo_run(updates=2, n_seeds=1)["returns"].shape -> (1, 1, 3)
    """
    objectives = _check_objectives(objectives)
    epsilon, lr = _check_epsilon(epsilon), _check_lr(lr)
    epochs, updates = _check_count("epochs", epochs, 1, 100), _check_count("updates", updates, 1)
    n_seeds = _check_count("n_seeds", n_seeds, 1, 1000)
    batch_size = _check_count("batch_size", batch_size, 4)
    minibatches = _check_count("minibatches", minibatches, 1, batch_size // 2)
    if batch_size % minibatches:
        raise ValueError(f"A batch of {batch_size} does not split into {minibatches} "
                         "equal minibatches.")
    n_obj, size = len(objectives), batch_size // minibatches
    runs = n_obj * n_seeds
    log_band_lo, log_band_hi = np.log(1 - epsilon), np.log(1 + epsilon)
    rng = np.random.default_rng(seed)
    theta = np.broadcast_to(START_LOGITS, (runs, N_ACTIONS, N_FEATURES)).copy()
    stats = {k: np.zeros((runs, updates)) for k in
             ("clip_fraction", "wrong_side", "kl_k1", "kl_k3", "kl_exact")}
    returns = np.zeros((runs, updates + 1))
    returns[:, 0] = expected_return(theta)
    ratios = np.zeros((n_obj, updates, epochs, batch_size))
    advantages = np.zeros((n_obj, updates, batch_size))
    for u in range(updates):
        draws = [np.tile(d, (n_obj,) + (1,) * (d.ndim - 1))
                 for d in _draws(rng, (n_seeds, batch_size))]
        x, onehot, logp_old, adv = _sample_batch(theta, *draws)
        logp_batch = policy_logprobs(theta, x)
        log_lo, log_hi = _flat_bounds(objectives, n_seeds, adv, epsilon)
        clipped = 0.0
        for e in range(epochs):
            # Shuffle once per epoch (each seed its own order), then walk the minibatches.
            order = np.tile(np.argsort(rng.random((n_seeds, batch_size)), axis=1), (n_obj, 1))
            xs = np.take_along_axis(x, order[..., None], 1)
            hs = np.take_along_axis(onehot, order[..., None], 1)
            ls, As, los, his = (np.take_along_axis(a, order, 1)
                                for a in (logp_old, adv, log_lo, log_hi))
            for m in range(minibatches):
                mb = slice(m * size, (m + 1) * size)
                step, logr = _ascent_direction(theta, xs[:, mb], hs[:, mb], ls[:, mb], As[:, mb],
                                               los[:, mb], his[:, mb])
                clipped = clipped + np.mean((logr > log_band_hi) | (logr < log_band_lo), axis=1)
                theta = theta + lr * step
            logp = policy_logprobs(theta, x)
            logr = np.sum(logp * onehot, axis=-1) - logp_old
            ratios[:, u, e] = np.exp(logr[::n_seeds])
        ratio = np.exp(logr)
        advantages[:, u] = adv[::n_seeds]
        stats["clip_fraction"][:, u] = clipped / (epochs * minibatches)
        stats["wrong_side"][:, u] = np.mean(((adv > 0) & (ratio < 1 - epsilon)) |
                                            ((adv < 0) & (ratio > 1 + epsilon)), axis=1)
        stats["kl_k1"][:, u] = np.mean(-logr, axis=1)
        stats["kl_k3"][:, u] = np.mean(ratio - 1 - logr, axis=1)
        stats["kl_exact"][:, u] = _exact_kl(logp_batch, logp)
        returns[:, u + 1] = expected_return(theta)
    shape = (n_obj, n_seeds)
    out = {k: v.reshape(shape + v.shape[1:]) for k, v in stats.items()}
    out["returns"] = returns.reshape(shape + (updates + 1,))
    out["ratios"], out["advantages"], out["optimal"] = ratios, advantages, optimal_return()
    return out


def one_batch_ascent(objectives=("unclipped",), steps=40, lr=1.0, seed=0, epsilon=0.2,
                     knock=0.0, batch_size=64):
    """Full-batch gradient ascent on one batch, ``steps`` times, for each objective: what the
    optimiser sees (the batch's objective) against what happens (the exact gain in return).

    knock > 0 first moves the policy that far (in parameter space) against the surrogate's
    gradient: a bad step, as a noisy minibatch or a too-large learning rate can take, after
    which the objectives differ in whether they pull the policy back.
    Returns a dict of arrays with a leading objective axis, over steps 0..steps: surrogate
    (mean r·A), objective (the batch mean of the optimised objective), true_gain
    (J(π) − J(π_old)), kl_exact, wrong_side; ratios (objective, steps+1, batch_size); and
    advantages (batch_size,).
    Example: one_batch_ascent(steps=0)["true_gain"] -> [[0.0]]
    """
    objectives = _check_objectives(objectives)
    epsilon, lr = _check_epsilon(epsilon), _check_lr(lr)
    steps, batch_size = _check_count("steps", steps, 0), _check_count("batch_size", batch_size, 4)
    if not (np.isfinite(knock) and knock >= 0):
        raise ValueError(f"The knock {knock} must be a number ≥ 0.")
    runs = len(objectives)
    rng = np.random.default_rng(seed)
    theta = np.broadcast_to(START_LOGITS, (runs, N_ACTIONS, N_FEATURES)).copy()
    j_old = expected_return(START_LOGITS)
    draws = [np.tile(d, (runs,) + (1,) * (d.ndim - 1)) for d in _draws(rng, (1, batch_size))]
    # Advantages in reward units (not normalised), so the batch's mean r·Â and the true gain
    # J(π) − J(π_old) can be compared on one axis.
    x, onehot, logp_old, adv = _sample_batch(theta, *draws, normalize=False)
    logp_batch = policy_logprobs(theta, x)
    log_lo, log_hi = _flat_bounds(objectives, 1, adv, epsilon)
    codes = np.array([OBJECTIVES.index(o) for o in objectives])[:, None]
    if knock > 0:
        grad, _ = _ascent_direction(theta, x, onehot, logp_old, adv, -np.inf, np.inf)
        theta = theta - knock * grad / np.linalg.norm(grad[0])
    keys = ("surrogate", "objective", "true_gain", "kl_exact", "wrong_side")
    out = {k: np.zeros((runs, steps + 1)) for k in keys}
    out["ratios"] = np.zeros((runs, steps + 1, batch_size))
    for s in range(steps + 1):
        step, logr = _ascent_direction(theta, x, onehot, logp_old, adv, log_lo, log_hi)
        ratio = np.exp(logr)
        clipped = np.clip(ratio, 1 - epsilon, 1 + epsilon) * adv
        value = np.where(codes == 0, np.minimum(ratio * adv, clipped),
                         np.where(codes == 2, clipped, ratio * adv))
        out["surrogate"][:, s] = np.mean(ratio * adv, axis=1)
        out["objective"][:, s] = np.mean(value, axis=1)
        out["true_gain"][:, s] = expected_return(theta) - j_old
        out["kl_exact"][:, s] = _exact_kl(logp_batch, policy_logprobs(theta, x))
        out["wrong_side"][:, s] = np.mean(((adv > 0) & (ratio < 1 - epsilon)) |
                                          ((adv < 0) & (ratio > 1 + epsilon)), axis=1)
        out["ratios"][:, s] = ratio
        theta = theta + lr * step
    out["advantages"] = adv[0]
    return out


def summarize_run(run, crash_level=0.8, after=10):
    """Per objective of a ``ppo_run``: the final expected reward (mean over seeds), how many
    seeds crashed (expected reward below ``crash_level`` at some update after ``after``), and
    the mean exact KL per update. Returns a dict of arrays of length n_objectives.

    Example: summarize_run(ppo_run(updates=12, n_seeds=2))["crashed"] -> [0]
    """
    returns = run["returns"]
    if not 0 <= after < returns.shape[-1]:
        raise ValueError(f"after = {after} must be an update of the run (0 to "
                         f"{returns.shape[-1] - 1}).")
    return {
        "final": returns[..., -1].mean(axis=1),
        "crashed": (returns[..., after:].min(axis=-1) < crash_level).sum(axis=1),
        "kl": run["kl_exact"].mean(axis=(1, 2)),
    }
