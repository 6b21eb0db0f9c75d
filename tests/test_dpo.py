"""Tests for lessons/dpo.py: every loss type against its formula written out by hand, a worked
example, finite-difference gradients, stability for huge log-prob gaps, TRL's logged metrics,
and the derivation (Z cancels, the implicit reward is the true reward up to β·log Z, the
population DPO loss is minimised by the RLHF optimum)."""

import math

import numpy as np
import pytest
from scipy import optimize, special

from lessons import dpo

BETAS = [0.05, 0.1, 0.5, 2.0]
SMOOTHING = [0.0, 0.1, 0.3]
RNG = np.random.default_rng(2023)
M = 64
# A batch of pairs: completion log-probs between about −40 and −0.1
PC, PR, RC, RR = (-RNG.gamma(2.0, 5.0, M) - 0.1 for _ in range(4))


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def reference_loss(pc, pr, rc, rr, beta, loss_type, eps=0.0):
    """One pair, written out from the formulas with the math module only."""
    h = (pc - pr) - (rc - rr)
    if loss_type == "sigmoid":
        return -(1 - eps) * math.log(sigmoid(beta * h)) - eps * math.log(sigmoid(-beta * h))
    if loss_type == "ipo":
        return (h - 1 / (2 * beta)) ** 2
    if loss_type == "hinge":
        return max(0.0, 1 - beta * h)
    return -beta * h


# The worked example: π_θ(y_w) = 0.4, π_θ(y_l) = 0.1, π_ref = 0.2 for both, β = 0.5


def test_worked_example():
    out = dpo.dpo_loss(math.log(0.4), math.log(0.1), math.log(0.2), math.log(0.2), 0.5)
    # h = ln(0.4/0.1) − ln(0.2/0.2) = ln 4; margin = 0.5·ln 4 = ln 2; σ(ln 2) = 2/3
    assert out["h"] == pytest.approx(math.log(4))
    assert out["chosen_rewards"] == pytest.approx(0.5 * math.log(2))
    assert out["rejected_rewards"] == pytest.approx(-0.5 * math.log(2))
    assert out["margin"] == pytest.approx(math.log(2))
    assert out["loss"] == pytest.approx(math.log(1.5))
    assert out["gradient_weight"] == pytest.approx(1 / 3)
    assert out["grad_chosen"] == pytest.approx(-0.5 / 3)
    assert out["grad_rejected"] == pytest.approx(0.5 / 3)
    assert all(isinstance(out[k], float) for k in out)


@pytest.mark.parametrize("loss_type, expected", [
    # same pair, h = ln 4, β = 0.5
    ("ipo", (math.log(4) - 1.0) ** 2),
    ("hinge", 1 - math.log(2)),
    ("unweighted", -math.log(2)),
])
def test_worked_example_other_losses(loss_type, expected):
    out = dpo.dpo_loss(math.log(0.4), math.log(0.1), math.log(0.2), math.log(0.2), 0.5, loss_type)
    assert out["loss"] == pytest.approx(expected)


def test_label_smoothing_worked_example():
    # ε = 0.1 on the same pair: −0.9·ln(2/3) − 0.1·ln(1/3)
    out = dpo.dpo_loss(math.log(0.4), math.log(0.1), math.log(0.2), math.log(0.2), 0.5,
                       label_smoothing=0.1)
    assert out["loss"] == pytest.approx(-0.9 * math.log(2 / 3) - 0.1 * math.log(1 / 3))


# Each loss type against the formulas, over a batch


@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("loss_type", dpo.LOSS_TYPES)
def test_losses_match_the_formulas(beta, loss_type):
    out = dpo.dpo_loss(PC, PR, RC, RR, beta, loss_type)
    expected = [reference_loss(*args, beta, loss_type) for args in zip(PC, PR, RC, RR,
                                                                           strict=True)]
    assert out["losses"] == pytest.approx(expected, rel=1e-10, abs=1e-12)
    assert out["loss"] == pytest.approx(np.mean(expected))


@pytest.mark.parametrize("eps", SMOOTHING)
@pytest.mark.parametrize("beta", BETAS)
def test_conservative_dpo_matches_the_formula(beta, eps):
    out = dpo.dpo_loss(PC, PR, RC, RR, beta, "sigmoid", eps)
    expected = [reference_loss(*args, beta, "sigmoid", eps) for args in zip(PC, PR, RC, RR,
                                                                                strict=True)]
    assert out["losses"] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("beta", BETAS)
def test_sigmoid_loss_is_binary_cross_entropy_of_the_margin(beta):
    # −log σ(x) computed by scipy two other ways: log_expit and the softplus identity
    out = dpo.dpo_loss(PC, PR, RC, RR, beta)
    margin = beta * ((PC - PR) - (RC - RR))
    assert out["losses"] == pytest.approx(-special.log_expit(margin))
    assert out["losses"] == pytest.approx(np.logaddexp(0, -margin))


@pytest.mark.parametrize("beta", BETAS)
def test_rewards_margin_and_weight(beta):
    out = dpo.dpo_loss(PC, PR, RC, RR, beta)
    assert out["chosen_rewards"] == pytest.approx(beta * (PC - RC))
    assert out["rejected_rewards"] == pytest.approx(beta * (PR - RR))
    assert out["margin"] == pytest.approx(beta * (PC - RC) - beta * (PR - RR))
    assert out["margin"] == pytest.approx(beta * out["h"])
    assert out["gradient_weight"] == pytest.approx(special.expit(-out["margin"]))
    assert out["gradient_weight"] == pytest.approx(
        dpo.gradient_weight(out["chosen_rewards"], out["rejected_rewards"]))


@pytest.mark.parametrize("eps", SMOOTHING)
def test_label_smoothing_is_the_loss_under_flipped_labels(eps):
    # cDPO: with probability ε the label is flipped, so the loss is the mix of ℓ(h) and ℓ(−h).
    h = np.linspace(-30, 30, 121)
    mixed = (1 - eps) * dpo.losses_of_h(h, 0.1) + eps * dpo.losses_of_h(-h, 0.1)
    assert dpo.losses_of_h(h, 0.1, "sigmoid", eps) == pytest.approx(mixed)


@pytest.mark.parametrize("eps", [0.05, 0.1, 0.3])
def test_label_smoothing_minimum_is_finite(eps):
    # With ε > 0 the loss stops rewarding a bigger margin at σ(m) = 1 − ε.
    beta = 0.1
    found = optimize.minimize_scalar(lambda h: dpo.losses_of_h(h, beta, "sigmoid", eps),
                                     bracket=(0, 10), tol=1e-12)
    assert beta * found.x == pytest.approx(special.logit(1 - eps), rel=1e-5)


def test_properties_of_each_loss():
    h = np.linspace(-50, 50, 1001)
    beta = 0.2
    sig = dpo.losses_of_h(h, beta)
    assert dpo.losses_of_h(0.0, beta) == pytest.approx(math.log(2))
    assert np.all(np.diff(sig) < 0) and np.all(sig > 0)  # decreasing, never reaching 0
    ipo = dpo.losses_of_h(h, beta, "ipo")
    assert h[np.argmin(ipo)] == pytest.approx(1 / (2 * beta), abs=0.1)  # target h = 1/(2β)
    assert dpo.losses_of_h(1 / (2 * beta), beta, "ipo") == 0.0
    hinge = dpo.losses_of_h(h, beta, "hinge")
    assert np.all(hinge[beta * h >= 1] == 0) and np.all(hinge[beta * h < 1] > 0)
    # the hinge and the log-sigmoid agree on the sign of the push: both fall as h grows
    assert np.all(np.diff(hinge) <= 0)


def test_loss_of_margin_matches_dpo_loss():
    beta = 0.3
    margins = np.array([-4.0, -0.5, 0.0, 0.5, 1.0, 3.0])
    for loss_type in dpo.LOSS_TYPES:
        direct = [dpo.dpo_loss(m / beta - 30.0, -30.0, -0.5, -0.5, beta, loss_type)["loss"]
                  for m in margins]
        assert dpo.loss_of_margin(margins, beta, loss_type) == pytest.approx(direct)
    assert dpo.loss_of_margin(margins, beta, "ipo") == pytest.approx((margins - 0.5) ** 2
                                                                     / beta**2)
    assert dpo.loss_of_margin(margins, beta, "hinge") == pytest.approx(np.maximum(0, 1 - margins))


def test_swapping_chosen_and_rejected():
    out = dpo.dpo_loss(PC, PR, RC, RR, 0.1)
    swapped = dpo.dpo_loss(PR, PC, RR, RC, 0.1)
    assert swapped["margin"] == pytest.approx(-out["margin"])
    assert swapped["gradient_weight"] == pytest.approx(1 - out["gradient_weight"])
    # −log σ(x) − (−log σ(−x)) = −x
    assert out["losses"] - swapped["losses"] == pytest.approx(-out["margin"])


def test_reference_cancels_when_policy_equals_reference():
    out = dpo.dpo_loss(RC, RR, RC, RR, 0.1)
    assert out["margin"] == pytest.approx(0, abs=1e-12)
    assert out["losses"] == pytest.approx(np.full(M, math.log(2)))
    assert out["gradient_weight"] == pytest.approx(np.full(M, 0.5))


# Gradients: finite differences w.r.t. the policy log-probs


def finite_difference(f, x, step=1e-6):
    return (f(x + step) - f(x - step)) / (2 * step)


@pytest.mark.parametrize("eps", [0.0, 0.2])
@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("loss_type", dpo.LOSS_TYPES)
def test_gradients_match_finite_differences(loss_type, beta, eps):
    out = dpo.dpo_loss(PC, PR, RC, RR, beta, loss_type, eps)
    if loss_type == "hinge":  # stay off the kink at β·h = 1
        assert np.all(np.abs(beta * out["h"] - 1) > 1e-3)

    def losses_chosen(pc):
        return dpo.dpo_loss(np.minimum(pc, 0), PR, RC, RR, beta, loss_type, eps)["losses"]

    def losses_rejected(pr):
        return dpo.dpo_loss(PC, np.minimum(pr, 0), RC, RR, beta, loss_type, eps)["losses"]

    assert out["grad_chosen"] == pytest.approx(finite_difference(losses_chosen, PC),
                                               rel=1e-5, abs=1e-8)
    assert out["grad_rejected"] == pytest.approx(finite_difference(losses_rejected, PR),
                                                 rel=1e-5, abs=1e-8)


def test_gradient_of_the_mean_loss_by_finite_differences():
    # The gradient of L = mean ℓ_i w.r.t. one pair's log π_θ(y_w) is grad_chosen_i / m.
    out = dpo.dpo_loss(PC, PR, RC, RR, 0.1)
    i, step = 5, 1e-6
    up, down = PC.copy(), PC.copy()
    up[i] += step
    down[i] -= step
    numeric = (dpo.dpo_loss(up, PR, RC, RR, 0.1)["loss"]
               - dpo.dpo_loss(down, PR, RC, RR, 0.1)["loss"]) / (2 * step)
    assert numeric == pytest.approx(out["grad_chosen"][i] / M, rel=1e-5)


@pytest.mark.parametrize("beta", BETAS)
def test_dpo_gradient_is_minus_beta_times_the_weight(beta):
    # Section 4 of Rafailov et al.: ∇L = −β·σ(r̂_l − r̂_w)·(∇log π(y_w) − ∇log π(y_l))
    out = dpo.dpo_loss(PC, PR, RC, RR, beta)
    assert out["grad_chosen"] == pytest.approx(-beta * out["gradient_weight"])
    assert out["grad_rejected"] == pytest.approx(beta * out["gradient_weight"])


def test_weight_fades_for_well_ranked_pairs_but_unweighted_never_does():
    h = np.array([-20.0, 0.0, 20.0, 200.0])
    weighted = dpo.loss_gradient(h, 0.5)
    assert abs(weighted[0]) == pytest.approx(0.5, rel=1e-4)  # wrongly ranked: full push
    assert abs(weighted[-1]) < 1e-40  # ranked right by far: no push
    assert dpo.loss_gradient(h, 0.5, "unweighted") == pytest.approx(np.full(4, -0.5))
    # unweighted: the loss keeps falling linearly without bound
    assert dpo.losses_of_h(h, 0.5, "unweighted") == pytest.approx(-0.5 * h)


def test_gradient_weight_examples():
    assert dpo.gradient_weight(0.0, 0.0) == 0.5
    assert dpo.gradient_weight(-1.0, 1.0) == pytest.approx(sigmoid(2.0))
    assert dpo.gradient_weight([1.0, 2.0], 0.0) == pytest.approx([sigmoid(-1), sigmoid(-2)])


# Stability for huge log-prob gaps


@pytest.mark.parametrize("gap", [1e3, 1e5, 1e7])
def test_huge_gaps_stay_finite_and_exact(gap):
    beta = 1.0
    right = dpo.dpo_loss(-1.0, -1.0 - gap, -1.0, -1.0, beta)  # ranked right by a mile
    wrong = dpo.dpo_loss(-1.0 - gap, -1.0, -1.0, -1.0, beta)  # ranked wrong by a mile
    assert right["loss"] == pytest.approx(0.0, abs=1e-300)
    assert wrong["loss"] == pytest.approx(gap)  # −log σ(−x) → x
    assert wrong["gradient_weight"] == 1.0 and right["gradient_weight"] == pytest.approx(0.0)
    for out in (right, wrong):
        assert all(np.isfinite(out[key]) for key in out)
    smoothed = dpo.dpo_loss(-1.0, -1.0 - gap, -1.0, -1.0, beta, label_smoothing=0.1)
    assert smoothed["loss"] == pytest.approx(0.1 * gap)


def test_tiny_probabilities_in_log_space():
    # log-probs of long completions are large negative numbers; only their differences matter
    out = dpo.dpo_loss(-5000.0, -5003.0, -5001.0, -5001.0, 1.0)
    assert out["loss"] == pytest.approx(-special.log_expit(3.0))


# Implicit reward and TRL's logged metrics


def test_implicit_reward():
    reward = dpo.implicit_reward(math.log(0.2), math.log(0.1), 0.1)
    assert reward == pytest.approx(0.1 * math.log(2))
    assert dpo.implicit_reward(PC, RC, 0.3) == pytest.approx(0.3 * (PC - RC))
    assert dpo.implicit_reward(-1.0, -1.0, 5.0) == 0.0


def test_logratio_difference():
    assert dpo.logratio_difference(math.log(0.4), math.log(0.1), math.log(0.2),
                                   math.log(0.2)) == pytest.approx(math.log(4))
    assert dpo.logratio_difference(PC, PR, RC, RR) == pytest.approx(PC - PR - RC + RR)


def test_logged_metrics_as_trl_computes_them():
    beta = 0.1
    out = dpo.dpo_loss(PC, PR, RC, RR, beta)
    metrics = dpo.logged_metrics(out, PC, PR)
    chosen, rejected = beta * (PC - RC), beta * (PR - RR)
    assert metrics["rewards/chosen"] == pytest.approx(chosen.mean())
    assert metrics["rewards/rejected"] == pytest.approx(rejected.mean())
    assert metrics["rewards/accuracies"] == pytest.approx(np.mean(chosen > rejected))
    assert metrics["rewards/margins"] == pytest.approx((chosen - rejected).mean())
    assert metrics["logps/chosen"] == pytest.approx(PC.mean())
    assert metrics["logps/rejected"] == pytest.approx(PR.mean())
    assert metrics["loss"] == pytest.approx(out["loss"])
    assert 0 < metrics["rewards/accuracies"] < 1  # the random batch has both kinds of pair


def test_chosen_reward_can_fall_while_the_margin_grows():
    # Both completions lose probability, the rejected one faster: the loss still improves.
    before = dpo.dpo_loss(-10.0, -10.0, -10.0, -10.0, 0.1)
    after = dpo.dpo_loss(-12.0, -20.0, -10.0, -10.0, 0.1)
    assert after["chosen_rewards"] < 0 < after["margin"]
    assert after["loss"] < before["loss"]


# Shapes


def test_broadcasting_and_shapes():
    out = dpo.dpo_loss(PC, PR, -1.0, -1.0, 0.1)  # one reference value for every pair
    assert out["losses"].shape == out["chosen_rewards"].shape == out["rejected_rewards"].shape
    assert out["rejected_rewards"].shape == (M,)
    assert out["chosen_rewards"] == pytest.approx(0.1 * (PC + 1))
    grid = dpo.dpo_loss(-np.ones((3, 4)), -2.0, -1.5, -1.5, 0.1)
    assert grid["losses"].shape == (3, 4)
    assert isinstance(dpo.dpo_loss(-1.0, -2.0, -1.0, -1.0, 0.1)["losses"], float)


# Bad input: readable ValueErrors


@pytest.mark.parametrize("beta", [0, -0.1, float("nan"), float("inf"), True, "0.1", None])
def test_bad_beta(beta):
    with pytest.raises(ValueError, match="β"):
        dpo.dpo_loss(-1.0, -2.0, -1.0, -1.0, beta)
    with pytest.raises(ValueError, match="β"):
        dpo.implicit_reward(-1.0, -2.0, beta)


@pytest.mark.parametrize("eps", [-0.1, 0.5, 0.7, float("nan"), "a"])
def test_bad_label_smoothing(eps):
    with pytest.raises(ValueError, match="label_smoothing"):
        dpo.dpo_loss(-1.0, -2.0, -1.0, -1.0, 0.1, label_smoothing=eps)


def test_bad_loss_type():
    with pytest.raises(ValueError, match="sigmoid, ipo, hinge"):
        dpo.dpo_loss(-1.0, -2.0, -1.0, -1.0, 0.1, loss_type="kto")


def test_mismatched_shapes():
    with pytest.raises(ValueError, match="one value per pair"):
        dpo.dpo_loss(np.full(3, -1.0), np.full(4, -1.0), -1.0, -1.0, 0.1)
    with pytest.raises(ValueError, match="one value per pair"):
        dpo.implicit_reward(np.full(3, -1.0), np.full(2, -1.0), 0.1)


@pytest.mark.parametrize("bad", [0.5, float("nan"), -float("inf"), float("inf")])
def test_bad_log_probs(bad):
    with pytest.raises(ValueError, match="policy_chosen_logps"):
        dpo.dpo_loss(bad, -1.0, -1.0, -1.0, 0.1)
    with pytest.raises(ValueError, match="ref_rejected_logps"):
        dpo.dpo_loss(-1.0, -1.0, -1.0, [-1.0, bad], 0.1)


def test_empty_and_rounding():
    with pytest.raises(ValueError, match="empty"):
        dpo.dpo_loss([], [], [], [], 0.1)
    # a log-prob a hair above 0 from rounding is accepted as 0
    assert dpo.dpo_loss(1e-12, -1.0, 0.0, -1.0, 0.1)["loss"] == pytest.approx(math.log(2))


def test_logged_metrics_needs_a_dpo_result():
    with pytest.raises(ValueError, match="dpo_loss"):
        dpo.logged_metrics({"loss": 1.0}, -1.0, -2.0)


# The derivation: Eq. 4 → Eq. 5 → Eq. 6


REF = np.array([0.1, 0.2, 0.3, 0.25, 0.15])
REWARDS = np.array([2.0, -1.0, 0.5, 1.5, 0.0])


@pytest.mark.parametrize("beta", [0.1, 0.5, 1.0, 5.0])
def test_derivation_numbers(beta):
    check = dpo.derivation_check(REF, REWARDS, beta)
    z = np.sum(REF * np.exp(REWARDS / beta))  # Z from its definition
    assert check["partition"] == pytest.approx(z)
    assert check["log_partition"] == pytest.approx(math.log(z))
    assert check["policy"] == pytest.approx(REF * np.exp(REWARDS / beta) / z)
    # the implicit reward, from the optimal policy's probabilities
    assert check["implicit_rewards"] == pytest.approx(beta * np.log(check["policy"] / REF))
    # Eq. 5: the reward is recovered once β·log Z is added back...
    assert check["recovered_rewards"] == pytest.approx(REWARDS)
    # ...so r − r̂ is one constant, β·log Z, for every response
    assert check["reward_shift"] == pytest.approx(np.full(5, beta * math.log(z)))
    # Eq. 6: Bradley–Terry from the policy equals Bradley–Terry from the true reward
    assert check["preferences_policy"] == pytest.approx(
        special.expit(REWARDS[:, None] - REWARDS[None, :]))
    assert check["max_preference_gap"] < 1e-12


def test_derivation_at_tiny_beta_where_the_policy_underflows():
    check = dpo.derivation_check(REF, REWARDS, 1e-3)
    assert np.min(check["policy"]) == 0.0  # exp(−3000) underflows...
    assert check["recovered_rewards"] == pytest.approx(REWARDS)  # ...the log-space numbers don't
    assert np.ptp(check["reward_shift"]) < 1e-9


def test_reward_from_policy_and_preferences():
    assert dpo.reward_from_policy([0.75, 0.25], [0.5, 0.5], 1.0, math.log(2)) == pytest.approx(
        [math.log(3), 0.0])
    prefs = dpo.preference_from_policy([0.75, 0.25], [0.5, 0.5], 1.0)
    assert prefs[0, 1] == pytest.approx(0.75)
    p = RNG.dirichlet(np.ones(5))
    prefs = dpo.preference_from_policy(p, REF, 0.3)
    assert prefs + prefs.T == pytest.approx(np.ones((5, 5)))
    # Eq. 6 is Bradley–Terry on the implicit rewards
    r_hat = 0.3 * np.log(p / REF)
    assert prefs == pytest.approx(special.expit(r_hat[:, None] - r_hat[None, :]))


def test_a_policy_that_is_not_optimal_does_not_recover_the_reward():
    # The negative control: any other policy's implicit reward is not r + constant.
    p = np.array([0.2, 0.2, 0.2, 0.2, 0.2])
    shift = REWARDS - dpo.reward_from_policy(p, REF, 0.5)
    assert np.ptp(shift) > 0.5


@pytest.mark.parametrize("beta", [0.2, 1.0, 3.0])
def test_population_dpo_loss_is_minimised_by_the_rlhf_optimum(beta):
    # Minimise over softmax logits with scipy; the minimiser is π* ∝ π_ref·exp(r/β).
    def loss(logits):
        return dpo.population_dpo_loss(special.softmax(logits), REF, REWARDS, beta)

    found = optimize.minimize(loss, np.zeros(5), method="BFGS", options={"gtol": 1e-10})
    expected = REF * np.exp(REWARDS / beta) / np.sum(REF * np.exp(REWARDS / beta))
    assert special.softmax(found.x) == pytest.approx(expected, abs=1e-5)
    # at the minimum each term is −p·log p: the labels' binary entropies, per ordered pair
    p = special.expit(REWARDS[:, None] - REWARDS[None, :])
    entropies = -special.xlogy(p, p)[~np.eye(5, dtype=bool)]
    assert dpo.population_dpo_loss(expected, REF, REWARDS, beta) == pytest.approx(
        entropies.mean())


def test_derivation_bad_input():
    with pytest.raises(ValueError, match="> 0"):
        dpo.derivation_check([0.5, 0.5, 0.0], [1.0, 0.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="not 1"):
        dpo.derivation_check([0.5, 0.6], [1.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="one finite reward"):
        dpo.derivation_check([0.5, 0.5], [1.0, 0.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="β"):
        dpo.derivation_check([0.5, 0.5], [1.0, 0.0], 0.0)
    with pytest.raises(ValueError, match="same responses"):
        dpo.reward_from_policy([0.5, 0.5], [0.2, 0.3, 0.5], 1.0)
