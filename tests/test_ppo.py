"""Tests for lessons/ppo.py: the PPO paper's Figure 1, the learner's case, the code form, finite
differences, GAE against a plain loop, KL estimators against exact KL, and the bandit runs."""

import numpy as np
import pytest
from scipy import stats

from lessons import ppo

EPS = [0.1, 0.2, 0.3]
RNG = np.random.default_rng(7)
RANDOM_R = RNG.uniform(0, 3, 5000)
RANDOM_A = RNG.normal(0, 2, 5000)


# Figure 1 of Schulman et al. 2017: L^CLIP against r, for A > 0 and A < 0


@pytest.mark.parametrize("epsilon", EPS)
@pytest.mark.parametrize("r", [0.0, 0.3, 0.75, 0.9, 1.0, 1.1, 1.25, 2.0, 3.0])
def test_figure_1_positive_advantage(r, epsilon):
    # A > 0: the line r·A up to 1+ε, then flat at (1+ε)·A.
    a = 1.7
    expected = r * a if r <= 1 + epsilon else (1 + epsilon) * a
    assert ppo.clipped_objective(r, a, epsilon) == pytest.approx(expected)


@pytest.mark.parametrize("epsilon", EPS)
@pytest.mark.parametrize("r", [0.0, 0.3, 0.75, 0.9, 1.0, 1.1, 1.25, 2.0, 3.0])
def test_figure_1_negative_advantage(r, epsilon):
    # A < 0: flat at (1−ε)·A below 1−ε, then the line r·A.
    a = -0.8
    expected = (1 - epsilon) * a if r < 1 - epsilon else r * a
    assert ppo.clipped_objective(r, a, epsilon) == pytest.approx(expected)


def test_figure_1_paper_numbers():
    # ε = 0.2, A = ±1: the kinks sit at r = 1.2 (value 1.2) and r = 0.8 (value −0.8).
    assert ppo.clipped_objective([1.2, 1.5, 3.0], 1.0, 0.2) == pytest.approx([1.2, 1.2, 1.2])
    assert ppo.clipped_objective([0.0, 0.5, 0.8], -1.0, 0.2) == pytest.approx([-0.8] * 3)
    assert ppo.clipped_objective(1.0, 1.0, 0.2) == 1.0


@pytest.mark.parametrize("epsilon", EPS)
def test_flat_beyond_the_band_where_the_advantage_is_satisfied(epsilon):
    high = np.linspace(1 + epsilon, 5, 50)
    low = np.linspace(0, 1 - epsilon, 50)
    assert np.ptp(ppo.clipped_objective(high, 2.0, epsilon)) == pytest.approx(0, abs=1e-12)
    assert np.ptp(ppo.clipped_objective(low, -2.0, epsilon)) == pytest.approx(0, abs=1e-12)
    # ...and the full slope where the policy moved the wrong way.
    assert np.diff(ppo.clipped_objective(low, 2.0, epsilon)) == pytest.approx(2.0 * np.diff(low))


# The learner's question


def test_learners_case():
    # r = 0.4, ε = 0.3, A = 1: the clip alone gives 0.7, PPO's objective 0.4.
    assert ppo.clip_ratio(0.4, 0.3) == pytest.approx(0.7)
    assert ppo.learner_objective(0.4, 1.0, 0.3) == pytest.approx(0.7)
    assert ppo.clipped_objective(0.4, 1.0, 0.3) == pytest.approx(0.4)
    assert ppo.objective_gradient(0.4, 1.0, 0.3) == 1.0  # pushes r back up
    assert ppo.learner_gradient(0.4, 1.0, 0.3) == 0.0  # nothing pulls it back


@pytest.mark.parametrize("epsilon", EPS)
def test_learners_expression_is_the_clip(epsilon):
    learner = np.maximum(1 - epsilon, np.minimum(RANDOM_R, 1 + epsilon))
    assert ppo.clip_ratio(RANDOM_R, epsilon) == pytest.approx(learner)
    assert ppo.learner_objective(RANDOM_R, RANDOM_A, epsilon) == pytest.approx(learner * RANDOM_A)


@pytest.mark.parametrize("epsilon", EPS)
def test_code_form_is_the_same_objective(epsilon):
    # minimise max(−A·r, −A·clip(r)) ⇔ maximise min(A·r, A·clip(r)), on random inputs.
    loss = ppo.policy_loss(RANDOM_R, RANDOM_A, epsilon)
    assert -loss == pytest.approx(ppo.clipped_objective(RANDOM_R, RANDOM_A, epsilon), abs=1e-12)
    # and cleanrl's two lines, written out independently
    pg_loss1 = -RANDOM_A * RANDOM_R
    pg_loss2 = -RANDOM_A * np.clip(RANDOM_R, 1 - epsilon, 1 + epsilon)
    assert loss == pytest.approx(np.maximum(pg_loss1, pg_loss2))


@pytest.mark.parametrize("epsilon", EPS)
def test_pessimistic_bound(epsilon):
    clipped = ppo.clipped_objective(RANDOM_R, RANDOM_A, epsilon)
    assert np.all(clipped <= ppo.surrogate_objective(RANDOM_R, RANDOM_A) + 1e-12)
    assert np.all(clipped <= ppo.learner_objective(RANDOM_R, RANDOM_A, epsilon) + 1e-12)
    inside = np.abs(RANDOM_R - 1) <= epsilon
    assert clipped[inside] == pytest.approx(RANDOM_R[inside] * RANDOM_A[inside])


# Gradients against finite differences


def _away_from_kinks(r, epsilon, h):
    return (np.abs(r - (1 - epsilon)) > 10 * h) & (np.abs(r - (1 + epsilon)) > 10 * h)


@pytest.mark.parametrize("epsilon", EPS)
@pytest.mark.parametrize(
    ("objective", "gradient"),
    [(ppo.clipped_objective, ppo.objective_gradient),
     (ppo.learner_objective, ppo.learner_gradient)],
)
def test_gradient_matches_finite_differences(objective, gradient, epsilon):
    h = 1e-6
    r = RANDOM_R[_away_from_kinks(RANDOM_R, epsilon, h) & (RANDOM_R >= 1e-4)]
    a = RANDOM_A[: r.size]
    numeric = (objective(r + h, a, epsilon) - objective(r - h, a, epsilon)) / (2 * h)
    assert gradient(r, a, epsilon) == pytest.approx(numeric, abs=1e-6)


@pytest.mark.parametrize("a", [1.5, -1.5])
def test_gradient_at_the_kinks_uses_the_slope_from_inside(a):
    for r in (0.8, 1.2):
        assert ppo.objective_gradient(r, a, 0.2) == a
        assert ppo.learner_gradient(r, a, 0.2) == a
    assert ppo.objective_gradient(1.0, 0.0, 0.2) == 0.0


@pytest.mark.parametrize(
    ("r", "a", "zero"),
    [(0.5, 1, False), (1.0, 1, False), (1.5, 1, True),
     (0.5, -1, True), (1.0, -1, False), (1.5, -1, False)],
)
def test_zero_gradient_exactly_where_clipping_removes_the_incentive(r, a, zero):
    assert (ppo.objective_gradient(r, a, 0.2) == 0) is zero


# The six cases


@pytest.mark.parametrize("r", [0.1, 0.5, 0.8, 1.0, 1.2, 1.3, 2.9])
@pytest.mark.parametrize("a", [-2.0, -0.5, 0.5, 2.0])
@pytest.mark.parametrize("epsilon", [0.2, 0.45])
def test_six_cases(r, a, epsilon):
    rows = ppo.six_cases(r, a, epsilon)
    assert [(row["sign"], row["region"]) for row in rows] == [
        (s, g) for s in ppo.SIGNS for g in ppo.REGIONS]
    current = [row for row in rows if row["current"]]
    assert len(current) == 1
    assert (current[0]["sign"], current[0]["region"]) == ppo.case_of(r, a, epsilon)
    assert current[0]["ratio"] == r and current[0]["advantage"] == a
    for row in rows:
        value = ppo.clipped_objective(row["ratio"], row["advantage"], epsilon)
        assert row["value"] == pytest.approx(value)
        assert ppo.case_of(row["ratio"], row["advantage"], epsilon) == (row["sign"], row["region"])
        flat = (row["sign"], row["region"]) in {("A > 0", "r > 1+ε"), ("A < 0", "r < 1−ε")}
        assert row["zero_gradient"] is flat
        assert row["picks"].startswith("clipped") is flat


def test_six_cases_with_zero_advantage_highlights_nothing():
    rows = ppo.six_cases(1.0, 0.0, 0.2)
    assert not any(row["current"] for row in rows)
    assert {abs(row["advantage"]) for row in rows} == {1.0}


def test_wrong_side_fraction():
    assert ppo.wrong_side_fraction([0.5, 1.0, 1.5], [1.0, 1.0, -1.0], 0.2) == pytest.approx(2 / 3)
    assert ppo.wrong_side_fraction([1.5, 0.5], [1.0, -1.0], 0.2) == 0.0


# Diagnostics: clip fraction and approximate KL


def test_clip_fraction():
    assert ppo.clip_fraction([0.7, 1.0, 1.3], 0.2) == pytest.approx(2 / 3)
    assert ppo.clip_fraction([0.8, 1.2], 0.2) == 0.0
    assert ppo.clip_fraction(RANDOM_R, 0.2) == pytest.approx(np.mean(np.abs(RANDOM_R - 1) > 0.2))


@pytest.mark.parametrize("seed", range(5))
def test_kl_estimators_are_unbiased_in_expectation(seed):
    # Weight each action's estimate by its probability under π_old: the exact expectation.
    rng = np.random.default_rng(seed)
    p_old, p_new = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    exact = stats.entropy(p_old, p_new)
    r = p_new / p_old
    for estimator in ("k1", "k3"):
        per_action = np.array([ppo.approx_kl([ri], estimator) for ri in r])
        assert per_action @ p_old == pytest.approx(exact)
    assert all(ppo.approx_kl([ri], "k3") >= 0 for ri in r)


def test_kl_estimators_from_samples():
    rng = np.random.default_rng(3)
    p_old, p_new = np.array([0.5, 0.3, 0.2]), np.array([0.4, 0.4, 0.2])
    actions = rng.choice(3, size=200_000, p=p_old)
    r = p_new[actions] / p_old[actions]
    exact = stats.entropy(p_old, p_new)
    assert ppo.approx_kl(r, "k1") == pytest.approx(exact, rel=0.05)
    assert ppo.approx_kl(r, "k3") == pytest.approx(exact, rel=0.05)
    assert ppo.approx_kl([1.0, 1.0], "k2") == 0.0


def test_approx_kl_worked_example():
    assert ppo.approx_kl([0.5, 2.0], "k3") == pytest.approx(0.25)
    assert ppo.approx_kl([0.5, 2.0], "k1") == pytest.approx(0.0)


# GAE


def gae_plain(rewards, values, gamma, lam):
    """Eq. 11 written as the double sum Σ_l (γλ)^l δ_{t+l}, no recursion."""
    t_max = len(rewards)
    delta = [rewards[t] + gamma * values[t + 1] - values[t] for t in range(t_max)]
    return [sum((gamma * lam) ** k * delta[t + k] for k in range(t_max - t))
            for t in range(t_max)]


TRAJECTORIES = [
    ([1.0], [0.5, 2.0]),
    ([0, 0, 0, 1], [0.2, 0.3, 0.5, 0.8, 0.0]),
    ([0, 1, 0, 0, 4], [1.5, 1.8, 1.2, 2.0, 3.5, 0.0]),
    (list(RNG.normal(size=12)), list(RNG.normal(size=13))),
]


@pytest.mark.parametrize(("rewards", "values"), TRAJECTORIES)
@pytest.mark.parametrize(("gamma", "lam"), [(0.99, 0.95), (0.9, 0.5), (0.5, 1.0), (1.0, 0.0)])
def test_gae_matches_a_plain_loop(rewards, values, gamma, lam):
    assert ppo.gae(rewards, values, gamma, lam) == pytest.approx(
        gae_plain(rewards, values, gamma, lam))


@pytest.mark.parametrize(("rewards", "values"), TRAJECTORIES)
@pytest.mark.parametrize("gamma", [0.5, 0.9, 1.0])
def test_gae_ends_are_td_and_monte_carlo(rewards, values, gamma):
    rewards, values = np.array(rewards, float), np.array(values, float)
    assert ppo.gae(rewards, values, gamma, 0.0) == pytest.approx(
        ppo.td_errors(rewards, values, gamma))
    t_max = rewards.size
    mc = [sum(gamma ** (k - t) * rewards[k] for k in range(t, t_max))
          + gamma ** (t_max - t) * values[-1] - values[t] for t in range(t_max)]
    assert ppo.gae(rewards, values, gamma, 1.0) == pytest.approx(mc)


@pytest.mark.parametrize(("rewards", "values"), TRAJECTORIES)
def test_gae_over_lambda_agrees_with_gae(rewards, values):
    lams = np.linspace(0, 1, 11)
    curve = ppo.gae_over_lambda(rewards, values, 0.9, lams)
    assert curve == pytest.approx([ppo.gae(rewards, values, 0.9, lam)[0] for lam in lams])
    if len(rewards) > 1:
        last = ppo.gae_over_lambda(rewards, values, 0.9, lams, t=len(rewards) - 1)
        assert last == pytest.approx(np.full(lams.size, ppo.td_errors(rewards, values, 0.9)[-1]))


def test_td_error_worked_example():
    assert ppo.td_errors([1.0], [0.5, 2.0], 0.9) == pytest.approx([2.3])


# Bad input


@pytest.mark.parametrize("epsilon", [0, -0.1, 1, 1.5, float("nan"), "abc", None])
def test_invalid_epsilon_raises(epsilon):
    for function in (ppo.clip_ratio, ppo.clip_fraction):
        with pytest.raises(ValueError, match="ε"):
            function(1.0, epsilon)
    for function in (ppo.clipped_objective, ppo.objective_gradient, ppo.learner_objective,
                     ppo.policy_loss, ppo.six_cases):
        with pytest.raises(ValueError, match="ε"):
            function(1.0, 1.0, epsilon)


@pytest.mark.parametrize(
    ("function", "args", "message"),
    [
        (ppo.clipped_objective, (-0.1, 1.0, 0.2), "negative"),
        (ppo.clipped_objective, (float("nan"), 1.0, 0.2), "NaN"),
        (ppo.clipped_objective, (1.0, float("inf"), 0.2), "advantage"),
        (ppo.clipped_objective, ([1.0, 2.0], [1.0, 2.0, 3.0], 0.2), "same length"),
        (ppo.surrogate_objective, (-1.0, 1.0), "negative"),
        (ppo.approx_kl, ([1.0], "k9"), "estimator"),
        (ppo.approx_kl, ([],), "No ratios"),
        (ppo.approx_kl, ([0.0, 1.0],), "probability 0"),
        (ppo.clip_fraction, ([], 0.2), "No ratios"),
        (ppo.wrong_side_fraction, ([], [], 0.2), "No samples"),
        (ppo.gae, ([1, 2], [0, 0], 0.9, 0.9), "3 values"),
        (ppo.gae, ([], [0], 0.9, 0.9), "non-empty"),
        (ppo.gae, ([1], [0, 0], 1.5, 0.9), "γ"),
        (ppo.gae, ([1], [0, 0], 0.9, -0.1), "λ"),
        (ppo.gae, ([float("nan")], [0, 0], 0.9, 0.9), "finite"),
        (ppo.gae_over_lambda, ([1], [0, 0], 0.9, [0.5, 2.0]), "λ"),
        (ppo.gae_over_lambda, ([1], [0, 0], 0.9, [0.5], 3), "outside"),
        (ppo.ppo_run, ("adam",), "Unknown objective"),
        (ppo.ppo_run, ((),), "Unknown objective"),
        (ppo.ppo_run, (("ppo",), 0.2, 0), "epochs"),
        (ppo.ppo_run, (("ppo",), 0.2, 2.5), "epochs"),
        (ppo.ppo_run, (("ppo",), 0.2, 4, -1.0), "learning rate"),
        (ppo.ppo_run, (("ppo",), 0.2, 4, 1.0, 0, 1, 5, 10, 3), "equal minibatches"),
        (ppo.one_batch_ascent, (("ppo",), 10, 1.0, 0, 0.2, -1.0), "knock"),
        (ppo.one_batch_ascent, (("ppo",), -1), "steps"),
    ],
)
def test_bad_input_raises_a_readable_value_error(function, args, message):
    with pytest.raises(ValueError, match=message):
        function(*args)


# The bandit and the training loop


def test_expected_return_against_a_plain_loop():
    rng = np.random.default_rng(1)
    theta = rng.normal(size=(ppo.N_ACTIONS, ppo.N_FEATURES))
    total = 0.0
    for x in ppo.EVAL_CONTEXTS:
        logits = theta @ x
        probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        total += sum(probs[a] * (ppo.TRUE_WEIGHTS[a] @ x) for a in range(ppo.N_ACTIONS))
    assert ppo.expected_return(theta) == pytest.approx(total / ppo.EVAL_SIZE)
    assert ppo.expected_return(np.stack([theta, theta])) == pytest.approx([total / 256] * 2)
    assert ppo.expected_return(theta) <= ppo.optimal_return()


def test_long_shot_has_the_documented_mean():
    mean = ppo.JACKPOT_P * ppo.JACKPOT + (1 - ppo.JACKPOT_P) * ppo.MISS
    assert mean == pytest.approx(ppo.TRUE_WEIGHTS[ppo.LONG_SHOT, 0])


@pytest.mark.parametrize("objective", ppo.OBJECTIVES)
def test_ascent_direction_matches_finite_differences(objective):
    # The hand-written gradient of the batch-mean objective against central differences in θ.
    rng = np.random.default_rng(4)
    theta0 = ppo.START_LOGITS[None]
    x, onehot, logp_old, adv = ppo._sample_batch(theta0, *ppo._draws(rng, (1, 32)))
    theta = theta0 + 0.3 * rng.normal(size=theta0.shape)
    log_lo, log_hi = ppo._flat_bounds((objective,), 1, adv, 0.2)
    grad, _ = ppo._ascent_direction(theta, x, onehot, logp_old, adv, log_lo, log_hi)

    def mean_objective(t):
        r = np.exp(np.sum(ppo.policy_logprobs(t, x) * onehot, axis=-1) - logp_old)
        return {"ppo": ppo.clipped_objective, "learner": ppo.learner_objective,
                "unclipped": lambda r, a, e: ppo.surrogate_objective(r, a)}[objective](
            r[0], adv[0], 0.2).mean()

    h = 1e-6
    numeric = np.zeros_like(theta)
    for idx in np.ndindex(theta.shape):
        step = np.zeros_like(theta)
        step[idx] = h
        numeric[idx] = (mean_objective(theta + step) - mean_objective(theta - step)) / (2 * h)
    assert grad == pytest.approx(numeric, abs=1e-5)


def test_run_shapes_and_reproducibility():
    run = ppo.ppo_run(("ppo", "unclipped"), epochs=3, updates=5, n_seeds=2)
    assert run["returns"].shape == (2, 2, 6)
    assert run["kl_exact"].shape == (2, 2, 5)
    assert run["ratios"].shape == (2, 5, 3, 64)
    assert run["advantages"].shape == (2, 5, 64)
    assert run["returns"][..., 0] == pytest.approx(ppo.expected_return(ppo.START_LOGITS))
    again = ppo.ppo_run(("ppo", "unclipped"), epochs=3, updates=5, n_seeds=2)
    assert np.array_equal(run["returns"], again["returns"])
    assert not np.array_equal(
        run["returns"], ppo.ppo_run(("ppo", "unclipped"), epochs=3, updates=5, n_seeds=2,
                                    seed=1)["returns"])


def test_objectives_with_one_seed_share_their_random_draws():
    alone = ppo.ppo_run(("ppo",), updates=6, n_seeds=3)
    together = ppo.ppo_run(("unclipped", "ppo"), updates=6, n_seeds=3)
    assert together["returns"][1] == pytest.approx(alone["returns"][0])
    assert together["ratios"][1] == pytest.approx(alone["ratios"][0])


def test_run_diagnostics_agree_with_the_diagnostic_functions():
    run = ppo.ppo_run(("ppo",), updates=4, n_seeds=1)
    for u in range(4):
        ratio, adv = run["ratios"][0, u, -1], run["advantages"][0, u]
        assert run["kl_k3"][0, 0, u] == pytest.approx(ppo.approx_kl(ratio, "k3"))
        assert run["kl_k1"][0, 0, u] == pytest.approx(ppo.approx_kl(ratio, "k1"))
        assert run["wrong_side"][0, 0, u] == pytest.approx(ppo.wrong_side_fraction(ratio, adv, 0.2))
        assert 0 <= run["clip_fraction"][0, 0, u] <= 1
        assert run["kl_exact"][0, 0, u] >= 0


def test_first_epoch_starts_at_ratio_one():
    # With one minibatch and one epoch, the only step is taken at r = 1, where every objective
    # has the same gradient: all three runs coincide after the first update.
    run = ppo.ppo_run(ppo.OBJECTIVES, epochs=1, minibatches=1, updates=1, n_seeds=2)
    assert run["returns"][0] == pytest.approx(run["returns"][1])
    assert run["returns"][0] == pytest.approx(run["returns"][2])


def test_page_defaults_clipping_keeps_updates_small_and_runs_safe():
    # The claims section 5 makes at its defaults (ε 0.2, 4 epochs, learning rate 1, seed 0).
    run = ppo.ppo_run(("ppo", "unclipped", "learner"))
    ppo_kl, unclipped_kl, learner_kl = run["kl_exact"].mean(axis=(1, 2))
    assert ppo_kl < unclipped_kl / 4 and learner_kl < unclipped_kl / 4
    late_worst = run["returns"][:, :, 10:].min(axis=2)  # (objective, seed)
    assert np.all(late_worst[0] > 0.9)  # PPO: every seed keeps learning
    assert np.sum(late_worst[1] < 0.8) >= 2  # without clipping, several seeds crash
    assert run["returns"][0, :, -1].mean() > 0.9 * run["optimal"]


def test_one_batch_promise_outgrows_the_real_gain():
    # Section 1's claim: maximising r·A on one batch, the batch's estimate keeps rising while
    # the true gain falls behind (for every seed), and the ratios leave the band.
    for seed in range(8):
        out = ppo.one_batch_ascent(("unclipped",), steps=40, seed=seed)
        assert out["surrogate"][0, -1] > out["true_gain"][0, -1] + 0.15
        assert np.all(np.diff(out["surrogate"][0]) > -1e-9)
        assert np.mean(np.abs(out["ratios"][0, -1] - 1) > 0.2) > 0.5


def test_knocked_policy_is_pulled_back_by_ppo_only():
    # Section 3's claim: after a bad step, PPO's gradient pulls the policy back; the learner's
    # clip(r)·A leaves the wrong-side samples where they are.
    for seed in range(4):
        out = ppo.one_batch_ascent(("ppo", "learner"), steps=30, seed=seed, knock=1.5)
        gain, wrong = out["true_gain"], out["wrong_side"]
        assert gain[0, 0] == gain[1, 0] < 0
        assert gain[0, -1] > 0 > gain[1, -1]
        assert wrong[0, -1] < 0.15 < 0.3 < wrong[1, -1]
