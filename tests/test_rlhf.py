"""Tests for lessons/rlhf.py: the closed-form optimum against a numerical maximisation over the
simplex, the β → 0 and β → ∞ limits, Z from its definition, the objective's identities, the
reward-model loss, and the per-token KL penalty with seeded Monte-Carlo checks of k1 and k3."""

import math

import numpy as np
import pytest
from scipy import optimize, special, stats

from lessons import bradley_terry, rlhf

RNG = np.random.default_rng(8)
CASES = [  # (ref_probs, rewards): a handful of responses each
    (np.array([0.5, 0.5]), np.array([1.0, 0.0])),
    (np.array([0.1, 0.2, 0.3, 0.25, 0.15]), np.array([2.0, -1.0, 0.5, 1.5, 0.0])),
    (RNG.dirichlet(np.ones(6)), RNG.normal(0, 1, 6)),
    (RNG.dirichlet(np.full(8, 0.5)), RNG.normal(0, 2, 8)),
]
BETAS = [0.1, 0.3, 1.0, 3.0]


def maximise_on_simplex(ref, rewards, beta):
    """argmax_p Σ p·r − β·Σ p·log(p/ref) over the probability simplex, by SLSQP."""
    def negative_objective(p):
        return -(p @ rewards - beta * np.sum(special.xlogy(p, p) - p * np.log(ref)))

    def gradient(p):
        return -(rewards - beta * (np.log(np.maximum(p, 1e-300) / ref) + 1))

    n = ref.size
    found = optimize.minimize(
        negative_objective, np.full(n, 1 / n), jac=gradient, method="SLSQP",
        bounds=[(1e-15, 1)] * n, constraints=[{"type": "eq", "fun": lambda p: p.sum() - 1}],
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    assert found.success, found.message
    return found.x


# The optimal policy (Eq. 4 of Rafailov et al.)


@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_optimum_matches_numerical_maximisation(case, beta):
    ref, rewards = CASES[case]
    numeric = maximise_on_simplex(ref, rewards, beta)
    assert rlhf.optimal_policy(ref, rewards, beta) == pytest.approx(numeric, abs=2e-5)
    # and no policy found numerically does better than the closed form
    best = rlhf.kl_regularised_objective(rlhf.optimal_policy(ref, rewards, beta), ref, rewards,
                                         beta)
    assert best >= rlhf.kl_regularised_objective(numeric / numeric.sum(), ref, rewards, beta) - 1e-9


def test_optimum_worked_example():
    # π_ref = (½, ½), r = (ln 3, 0), β = 1: π* ∝ (½·3, ½·1) = (3/4, 1/4), Z = 2
    assert rlhf.optimal_policy([0.5, 0.5], [math.log(3), 0.0], 1.0) == pytest.approx([0.75, 0.25])
    assert rlhf.partition_function([0.5, 0.5], [math.log(3), 0.0], 1.0) == pytest.approx(2.0)
    assert rlhf.optimal_objective([0.5, 0.5], [math.log(3), 0.0], 1.0) == pytest.approx(
        math.log(2))


@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_partition_function_from_its_definition(case, beta):
    ref, rewards = CASES[case]
    z = sum(p * math.exp(r / beta) for p, r in zip(ref, rewards, strict=True))
    assert rlhf.partition_function(ref, rewards, beta) == pytest.approx(z)
    assert rlhf.log_partition_function(ref, rewards, beta) == pytest.approx(math.log(z))
    assert rlhf.optimal_policy(ref, rewards, beta) == pytest.approx(
        ref * np.exp(rewards / beta) / z)


def test_huge_reward_over_beta_is_stable():
    # r/β = 1000: exp overflows, the log-space computation does not
    ref, rewards = np.array([0.5, 0.5]), np.array([1000.0, 0.0])
    assert rlhf.log_partition_function(ref, rewards, 1.0) == pytest.approx(1000 + math.log(0.5))
    assert rlhf.partition_function(ref, rewards, 1.0) == math.inf
    assert rlhf.optimal_policy(ref, rewards, 1.0) == pytest.approx([1.0, 0.0])
    assert rlhf.optimal_policy(ref, -rewards, 1e-6).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_objective_identity(case, beta):
    # J(π) = β·log Z − β·KL(π‖π*) for every π: π* is the unique maximiser and J(π*) = β·log Z.
    ref, rewards = CASES[case]
    star = rlhf.optimal_policy(ref, rewards, beta)
    log_z = rlhf.log_partition_function(ref, rewards, beta)
    assert rlhf.kl_regularised_objective(star, ref, rewards, beta) == pytest.approx(beta * log_z)
    assert rlhf.optimal_objective(ref, rewards, beta) == pytest.approx(beta * log_z)
    for p in np.random.default_rng(case).dirichlet(np.ones(ref.size), 20):
        expected = beta * log_z - beta * stats.entropy(p, star)
        assert rlhf.kl_regularised_objective(p, ref, rewards, beta) == pytest.approx(expected)


def test_objective_pieces_against_direct_sums():
    ref, rewards = CASES[2]
    p = RNG.dirichlet(np.ones(ref.size))
    assert rlhf.expected_reward(p, rewards) == pytest.approx(np.dot(p, rewards))
    assert rlhf.policy_kl(p, ref) == pytest.approx(np.sum(p * np.log(p / ref)))
    assert rlhf.kl_regularised_objective(p, ref, rewards, 0.7) == pytest.approx(
        np.dot(p, rewards) - 0.7 * np.sum(p * np.log(p / ref)))
    assert rlhf.kl_regularised_objective([0.75, 0.25], [0.5, 0.5], [1.0, 0.0], 1.0) == (
        pytest.approx(0.75 - (0.75 * math.log(1.5) + 0.25 * math.log(0.5))))


# Limits in β


@pytest.mark.parametrize("case", range(len(CASES)))
def test_small_beta_goes_greedy(case):
    ref, rewards = CASES[case]
    best = np.argmax(rewards)
    expected = np.zeros(ref.size)
    expected[best] = 1.0
    assert rlhf.greedy_policy(ref, rewards) == pytest.approx(expected)
    gap = np.sort(rewards)[-1] - np.sort(rewards)[-2]
    small = gap / 50  # exp(−50) ≈ 2e−22
    assert rlhf.optimal_policy(ref, rewards, small) == pytest.approx(expected, abs=1e-15)
    assert rlhf.expected_reward(rlhf.optimal_policy(ref, rewards, small), rewards) == (
        pytest.approx(rewards.max()))


@pytest.mark.parametrize("case", range(len(CASES)))
def test_large_beta_stays_at_the_reference(case):
    ref, rewards = CASES[case]
    star = rlhf.optimal_policy(ref, rewards, 1e7)
    assert star == pytest.approx(ref, abs=1e-6)
    assert rlhf.policy_kl(star, ref) < 1e-12


def test_greedy_ties_share_in_the_references_proportions():
    assert rlhf.greedy_policy([0.2, 0.3, 0.5], [1.0, 1.0, 0.0]) == pytest.approx([0.4, 0.6, 0.0])
    assert rlhf.optimal_policy([0.2, 0.3, 0.5], [1.0, 1.0, 0.0], 1e-3) == pytest.approx(
        [0.4, 0.6, 0.0])


def test_responses_the_reference_never_gives_stay_at_zero():
    # π_ref = 0 ⇒ π* = 0, whatever the reward: the KL would be infinite otherwise
    ref, rewards = [0.0, 0.5, 0.5], [100.0, 1.0, 0.0]
    for beta in [0.01, 1.0, 100.0]:
        assert rlhf.optimal_policy(ref, rewards, beta)[0] == 0.0
    assert rlhf.greedy_policy(ref, rewards) == pytest.approx([0.0, 1.0, 0.0])
    assert rlhf.partition_function(ref, rewards, 1.0) == pytest.approx(0.5 * math.e + 0.5)


def test_beta_sweep_moves_monotonically_between_the_limits():
    ref, rewards = CASES[1]
    betas = np.geomspace(1e-3, 1e4, 60)
    sweep = rlhf.beta_sweep(ref, rewards, betas)
    # E[r] and KL both fall as β grows (dE/d(1/β) = Var_π*(r) >= 0)
    assert np.all(np.diff(sweep["expected_reward"]) < 1e-12)
    assert np.all(np.diff(sweep["kl"]) < 1e-12)
    assert sweep["expected_reward"][0] == pytest.approx(rewards.max())
    assert sweep["expected_reward"][-1] == pytest.approx(ref @ rewards, abs=1e-3)
    assert sweep["kl"][0] == pytest.approx(-math.log(ref[np.argmax(rewards)]), rel=1e-6)
    for i in (0, 17, 59):
        star = rlhf.optimal_policy(ref, rewards, betas[i])
        assert sweep["policy"][i] == pytest.approx(star)
        assert sweep["kl"][i] == pytest.approx(stats.entropy(star, ref), abs=1e-12)
        assert sweep["objective"][i] == pytest.approx(
            sweep["expected_reward"][i] - betas[i] * sweep["kl"][i])


def test_batches_of_prompts():
    refs = RNG.dirichlet(np.ones(4), 3)
    rewards = RNG.normal(0, 1, (3, 4))
    batch = rlhf.optimal_policy(refs, rewards, 0.5)
    log_z = rlhf.log_partition_function(refs, rewards, 0.5)
    assert batch.shape == (3, 4) and log_z.shape == (3,)
    for i in range(3):
        assert batch[i] == pytest.approx(rlhf.optimal_policy(refs[i], rewards[i], 0.5))
    shared = rlhf.optimal_policy(refs, rewards[0], 0.5)  # one reward vector for every prompt
    assert shared[2] == pytest.approx(rlhf.optimal_policy(refs[2], rewards[0], 0.5))


# The reward model loss: defined once, in bradley_terry


def test_reward_model_loss_is_the_bradley_terry_one():
    assert rlhf.reward_model_loss is bradley_terry.reward_model_loss
    chosen, rejected = RNG.normal(0, 2, 50), RNG.normal(0, 2, 50)
    direct = np.mean([-math.log(1 / (1 + math.exp(-(w - lo))))
                      for w, lo in zip(chosen, rejected, strict=True)])
    assert rlhf.reward_model_loss(chosen, rejected) == pytest.approx(direct)
    assert rlhf.reward_model_loss([1.0], [1.0]) == pytest.approx(math.log(2))


# The per-token KL estimators


def test_kl_estimators_by_hand():
    logp, ref = math.log(0.5), math.log(0.25)  # ρ = π_ref/π = ½
    assert rlhf.kl_estimate(logp, ref, "k1") == pytest.approx(math.log(2))
    assert rlhf.kl_estimate(logp, ref, "k2") == pytest.approx(0.5 * math.log(2) ** 2)
    assert rlhf.kl_estimate(logp, ref, "k3") == pytest.approx(-0.5 + math.log(2))
    assert rlhf.kl_estimate(-1.0, -1.0, "k3") == 0.0


def test_k3_is_never_negative_while_k1_can_be():
    logp = -RNG.gamma(1.0, 3.0, 10_000)
    ref = -RNG.gamma(1.0, 3.0, 10_000)
    assert np.all(rlhf.kl_estimate(logp, ref, "k3") >= 0)
    assert np.any(rlhf.kl_estimate(logp, ref, "k1") < 0)
    # near ρ = 1 k3 ≈ (log ρ)²/2 without cancellation error
    tiny = rlhf.kl_estimate(-1.0, -1.0 - 1e-9, "k3")
    assert tiny == pytest.approx(0.5e-18, rel=1e-6)


@pytest.mark.parametrize("estimator", ["k1", "k3"])
@pytest.mark.parametrize("seed", [0, 1])
def test_k1_and_k3_are_unbiased_for_one_token(estimator, seed):
    rng = np.random.default_rng(seed)
    policy, ref = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    exact = stats.entropy(policy, ref)
    tokens = rng.choice(6, size=200_000, p=policy)
    k = rlhf.kl_estimate(np.log(policy[tokens]), np.log(ref[tokens]), estimator)
    standard_error = k.std() / math.sqrt(k.size)
    assert abs(k.mean() - exact) < 4 * standard_error


@pytest.mark.parametrize("estimator", ["k1", "k3"])
def test_summed_per_token_estimates_are_unbiased_for_the_sequence_kl(estimator):
    # A two-token language model: π(a)·π(b|a) against π_ref(a)·π_ref(b|a), 3 words each step.
    rng = np.random.default_rng(42)
    first, second = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3), 3)
    ref_first, ref_second = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3), 3)
    joint = (first[:, None] * second).ravel()
    ref_joint = (ref_first[:, None] * ref_second).ravel()
    exact = stats.entropy(joint, ref_joint)  # by enumerating all 9 sequences
    n = 200_000
    a = rng.choice(3, size=n, p=first)
    b = (rng.random(n)[:, None] > np.cumsum(second[a], axis=1)).sum(axis=1)
    logprobs = np.log(np.column_stack([first[a], second[a, b]]))
    ref_logprobs = np.log(np.column_stack([ref_first[a], ref_second[a, b]]))
    out = rlhf.kl_penalised_reward(np.zeros(n), logprobs, ref_logprobs, 1.0, estimator)
    standard_error = out["sequence_kl"].std() / math.sqrt(n)
    assert abs(out["sequence_kl"].mean() - exact) < 4 * standard_error


# The KL-penalised per-token reward


def test_kl_penalised_reward_worked_example():
    out = rlhf.kl_penalised_reward(1.0, np.log([0.5, 0.5]), np.log([0.25, 0.5]), 0.1)
    assert out["token_rewards"] == pytest.approx([-0.1 * math.log(2), 1.0])
    assert out["score"] == pytest.approx([0.0, 1.0])
    assert out["sequence_kl"] == pytest.approx(math.log(2))
    assert out["total_reward"] == pytest.approx(1.0 - 0.1 * math.log(2))


@pytest.mark.parametrize("estimator", rlhf.KL_ESTIMATORS)
def test_kl_penalised_reward_on_a_batch(estimator):
    beta, b, t = 0.05, 4, 7
    logprobs, ref_logprobs = -RNG.gamma(1.0, 2.0, (b, t)), -RNG.gamma(1.0, 2.0, (b, t))
    scores = RNG.normal(0, 1, b)
    out = rlhf.kl_penalised_reward(scores, logprobs, ref_logprobs, beta, estimator)
    k = rlhf.kl_estimate(logprobs, ref_logprobs, estimator)
    expected = -beta * k
    expected[:, -1] += scores  # the reward model's score arrives with the last token
    assert out["token_rewards"] == pytest.approx(expected)
    assert out["kl_penalty"] == pytest.approx(-beta * k)
    assert out["total_reward"] == pytest.approx(scores - beta * k.sum(axis=1))
    assert out["sequence_kl"] == pytest.approx(k.sum(axis=1))


def test_kl_penalised_reward_with_padding():
    logprobs = np.log([[0.5, 0.5, 0.9], [0.5, 0.9, 0.9]])
    ref_logprobs = np.log([[0.25, 0.5, 0.1], [0.25, 0.1, 0.1]])
    mask = [[1, 1, 0], [1, 0, 0]]  # lengths 2 and 1
    out = rlhf.kl_penalised_reward([2.0, 3.0], logprobs, ref_logprobs, 0.1, mask=mask)
    assert out["score"] == pytest.approx(np.array([[0.0, 2.0, 0.0], [3.0, 0.0, 0.0]]))
    log2 = math.log(2)
    assert out["token_kl"] == pytest.approx(np.array([[log2, 0.0, 0.0], [log2, 0.0, 0.0]]))
    assert out["total_reward"] == pytest.approx([2.0 - 0.1 * math.log(2), 3.0 - 0.1 * math.log(2)])


# Bad input: readable ValueErrors


@pytest.mark.parametrize("beta", [0, -1.0, float("nan"), float("inf"), True, None])
def test_bad_beta(beta):
    for call in (
        lambda: rlhf.optimal_policy([0.5, 0.5], [1.0, 0.0], beta),
        lambda: rlhf.partition_function([0.5, 0.5], [1.0, 0.0], beta),
        lambda: rlhf.kl_regularised_objective([0.5, 0.5], [0.5, 0.5], [1.0, 0.0], beta),
        lambda: rlhf.kl_penalised_reward(1.0, [-1.0], [-1.0], beta),
    ):
        with pytest.raises(ValueError, match="β"):
            call()


@pytest.mark.parametrize("betas", [[1.0, 0.0], [-1.0], [1.0, float("nan")], [], [[1.0]]])
def test_bad_beta_sweep(betas):
    with pytest.raises(ValueError, match="β|betas"):
        rlhf.beta_sweep([0.5, 0.5], [1.0, 0.0], betas)


def test_bad_distributions_and_rewards():
    with pytest.raises(ValueError, match="not 1"):
        rlhf.optimal_policy([0.5, 0.6], [1.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="negative"):
        rlhf.optimal_policy([1.5, -0.5], [1.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="one reward per response"):
        rlhf.optimal_policy([0.5, 0.5], [1.0, 0.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="NaN"):
        rlhf.optimal_policy([0.5, 0.5], [1.0, float("nan")], 1.0)
    with pytest.raises(ValueError, match="one per response"):
        rlhf.optimal_policy(1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="same responses"):
        rlhf.policy_kl([0.5, 0.5], [0.2, 0.3, 0.5])


def test_bad_token_inputs():
    with pytest.raises(ValueError, match="Unknown KL estimator"):
        rlhf.kl_estimate(-1.0, -1.0, "k4")
    with pytest.raises(ValueError, match="<= 0"):
        rlhf.kl_estimate(0.3, -1.0)
    with pytest.raises(ValueError, match="same tokens"):
        rlhf.kl_estimate([-1.0, -1.0], [-1.0, -1.0, -1.0])
    with pytest.raises(ValueError, match="one reward-model score per sequence"):
        rlhf.kl_penalised_reward([1.0, 2.0, 3.0], -np.ones((2, 4)), -np.ones((2, 4)), 0.1)
    with pytest.raises(ValueError, match="mask"):
        rlhf.kl_penalised_reward([1.0, 2.0], -np.ones((2, 3)), -np.ones((2, 3)), 0.1,
                                 mask=[[1, 1, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="mask"):
        rlhf.kl_penalised_reward(1.0, -np.ones(3), -np.ones(3), 0.1, mask=[1, 2, 0])
