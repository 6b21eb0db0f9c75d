"""Tests for lessons/frontier.py: the exact frontier against a numerical constrained maximisation,
its shape (monotone, concave, its two ends), no policy above it, DPO hugging it on plentiful
clean data and falling below it on few pairs, PPO near it with the true reward, RLHF's
over-optimisation, determinism for a seed, and the summaries on hand-worked rows."""

import math

import numpy as np
import pytest
from scipy import optimize, special

from lessons import frontier as fr
from lessons import toy_lm as lm

TASK = lm.make_task()
SMALL = lm.make_task(max_words=1)  # 7 replies per prompt: small enough for SLSQP
REF_REWARD = lm.expected_reward(TASK.ref_probs, TASK.true_rewards)
TINY = fr.Budget(dpo_steps=15, ppo_iterations=4, ppo_batch=64, reward_model_steps=20,
                 preferred_steps=10)

# Tolerances of the acceptance test (DPO on 200 000 clean pairs): a run may sit above the
# frontier only by rounding (ON_OR_BELOW), and below it by at most CLOSE at β ≥ 1 and by
# CLOSE_SMALL_BETA at β < 1, where π* puts its mass on replies the reference rarely writes, so
# even 200 000 pairs show each of them only a few dozen times (measured, seed 0: at most
# 0.06 at β ≥ 1 and 0.23 at β = 0.25).
ON_OR_BELOW = 1e-9
CLOSE = 0.1
CLOSE_SMALL_BETA = 0.35
PLENTIFUL = 200_000


def best_reward_by_slsqp(task, k):
    """max over π of mean_x E_π[r] subject to mean_x KL(π‖π_ref) ≤ k, by SLSQP over the
    logits of π (softmax per prompt): an independent route to R*(k)."""
    log_ref, rewards = np.log(task.ref_probs), task.true_rewards

    def probs(z):
        return special.softmax(z.reshape(log_ref.shape), axis=1)

    def kl(z):
        p = probs(z)
        return np.mean(np.sum(p * (np.log(p) - log_ref), axis=1))

    found = optimize.minimize(lambda z: -np.mean(np.sum(probs(z) * rewards, axis=1)),
                              log_ref.ravel(), method="SLSQP",
                              constraints=[{"type": "ineq", "fun": lambda z: k - kl(z)}],
                              options={"ftol": 1e-12, "maxiter": 1000})
    assert found.success, found.message
    assert kl(found.x) <= k + 1e-6
    return -found.fun


# The exact frontier


@pytest.mark.parametrize("k", [0.05, 0.3, 1.0, 1.6])
def test_frontier_reward_matches_a_numerical_maximisation(k):
    assert fr.frontier_reward(SMALL, k) == pytest.approx(best_reward_by_slsqp(SMALL, k),
                                                         abs=1e-5)


def test_frontier_points_are_the_optimum_of_each_beta():
    for beta in (0.3, 1.0, 4.0):
        star = lm.optimum(TASK, beta)
        kl, reward = lm.exact_kl(star, TASK.ref_probs), lm.expected_reward(star,
                                                                           TASK.true_rewards)
        point = fr.optimal_frontier(TASK, [beta])
        assert point["kl"][0] == pytest.approx(kl, rel=1e-10)
        assert point["true_reward"][0] == pytest.approx(reward, rel=1e-10)
        # the inverse: at π*'s own KL the frontier is π*'s reward, so its gap is zero
        assert fr.frontier_reward(TASK, kl) == pytest.approx(reward, abs=1e-8)
        assert fr.frontier_gap(TASK, kl, reward) == pytest.approx(0.0, abs=1e-8)


def test_the_frontier_is_monotone_and_concave():
    front = fr.optimal_frontier(TASK, np.geomspace(0.05, 50, 200))
    assert np.all(np.diff(front["kl"]) < 0)  # larger β: closer to the reference...
    assert np.all(np.diff(front["true_reward"]) < 0)  # ...and less reward
    kls = np.linspace(0.0, 6.0, 61)
    rewards = fr.frontier_reward(TASK, kls)
    assert rewards.shape == kls.shape
    assert np.all(np.diff(rewards) >= -1e-12)  # more KL never buys less reward
    assert np.all(np.diff(rewards[kls < 5.5]) > 0)
    # KL is convex in π and E[r] linear, so the best reward per KL budget is concave
    assert np.all(np.diff(rewards, 2) <= 1e-8)


def test_the_frontier_runs_from_the_reference_to_the_greedy_corner():
    greedy_kl, greedy_reward = fr.greedy_corner(TASK)
    assert greedy_reward == TASK.true_rewards.max() == 4.0
    assert fr.frontier_reward(TASK, 0.0) == pytest.approx(REF_REWARD, abs=1e-12)
    assert fr.frontier_reward(TASK, 1e-9) == pytest.approx(REF_REWARD, abs=1e-3)
    assert fr.frontier_reward(TASK, greedy_kl + 1.0) == greedy_reward
    assert fr.frontier_reward(TASK, greedy_kl - 1e-3) < greedy_reward
    curve = fr.frontier_curve(TASK, kl_max=9.0)
    assert np.all(np.diff(curve["kl"]) > 0)
    assert curve["kl"][-1] == 9.0 and curve["true_reward"][-1] == greedy_reward
    assert curve["kl"][-2] == pytest.approx(greedy_kl) and curve["beta"][-2] == 0.0
    assert len(fr.frontier_curve(TASK)["kl"]) == len(fr.CURVE_BETAS) + 1  # no flat part


def test_no_policy_lies_above_the_frontier():
    rng = np.random.default_rng(5)
    policies = [lm.distribution(TASK, TASK.ref_logits, t) for t in (0.3, 0.7, 1.5, 3.0)]
    policies += [lm.distribution(TASK, rng.normal(0, scale, TASK.shape))
                 for scale in (0.5, 1, 2, 4) for _ in range(5)]
    for probs in policies:
        kl = lm.exact_kl(probs, TASK.ref_probs)
        gap = fr.frontier_gap(TASK, kl, lm.expected_reward(probs, TASK.true_rewards))
        assert gap >= -ON_OR_BELOW


def test_the_reward_distribution_mixes_each_prompt_s_histogram():
    policies = np.stack([TASK.ref_probs, lm.optimum(TASK, 1.0), lm.optimum(TASK, 0.05)])
    values, shares = fr.reward_distribution(TASK, policies)
    assert shares.shape == (3, values.size)
    assert np.all(np.diff(values) > 0) and values[-1] == TASK.true_rewards.max()
    for probs, row in zip(policies, shares, strict=True):
        # lm.reward_histogram per prompt, then the prompts' average, value by value
        mixed = {}
        for rewards, prompt_probs in zip(TASK.true_rewards, probs, strict=True):
            for v, share in zip(*lm.reward_histogram(rewards, prompt_probs), strict=True):
                mixed[v] = mixed.get(v, 0.0) + share / len(TASK.prompts)
        assert sorted(mixed) == list(values)
        np.testing.assert_allclose(row, [mixed[v] for v in values], atol=1e-12)
        assert row.sum() == pytest.approx(1.0, abs=1e-12)
        assert values @ row == pytest.approx(lm.expected_reward(probs, TASK.true_rewards),
                                             abs=1e-12)
    assert shares[2, -1] > 0.99  # a tiny β writes a best reply
    one = fr.reward_distribution(TASK, TASK.ref_probs)[1]
    np.testing.assert_array_equal(one, shares[0])
    with pytest.raises(ValueError, match="prompts, replies"):
        fr.reward_distribution(TASK, TASK.ref_probs[:, :10])


# The runs against the frontier


@pytest.fixture(scope="module")
def plentiful_dpo():
    pairs = fr.preference_data(TASK, PLENTIFUL, label_noise=0.0, seed=0)
    return [fr.run(TASK, "dpo", beta, pairs) for beta in fr.SWEEPS["full"]["dpo"]]


def test_dpo_on_plentiful_clean_data_lies_on_or_below_the_frontier_and_close(plentiful_dpo):
    for row in plentiful_dpo:
        assert row["gap"] >= -ON_OR_BELOW, row
        assert row["gap"] <= (CLOSE if row["coefficient"] >= 1 else CLOSE_SMALL_BETA), row
        assert row["gap"] == pytest.approx(fr.frontier_reward(TASK, row["kl"])
                                           - row["true_reward"])


def test_dpo_on_few_pairs_sits_further_below(plentiful_dpo):
    pairs = fr.preference_data(TASK, 300, label_noise=0.0, seed=0)
    few = [fr.run(TASK, "dpo", beta, pairs) for beta in (1.0, 2.0, 4.0)]
    plenty = [r for r in plentiful_dpo if r["coefficient"] >= 1]
    assert min(r["gap"] for r in few) > max(r["gap"] for r in plenty) + 0.3
    assert all(r["gap"] >= -ON_OR_BELOW for r in few)


def test_ppo_with_the_true_reward_stays_near_the_frontier():
    for beta in fr.SWEEPS["quick"]["ppo_true"]:
        row = fr.run(TASK, "ppo_true", beta, seed=1)
        assert -ON_OR_BELOW <= row["gap"] < 0.3
        assert row["samples"] == fr.BUDGET.ppo_iterations * fr.BUDGET.ppo_batch
        assert row["labels"] == 0 and math.isnan(row["rm_score"])


def test_rlhf_over_optimises_its_bag_of_words_reward_model():
    pairs = fr.preference_data(TASK, 3000, seed=0)
    model = fr.fit_reward_model(TASK, pairs)
    rows = [fr.run(TASK, "rlhf", beta, pairs, model) for beta in (0.1, 0.5, 2.0)]
    over = fr.overoptimisation(rows)
    assert over["happened"] and over["drop"] > 0.5 and over["score_rise"] > 0.5
    assert over["last_kl"] == max(r["kl"] for r in rows)
    gains = fr.reward_gains(TASK, rows, model)
    assert np.all(np.diff(gains["kl"]) > 0)
    assert np.all(np.diff(gains["score_gain"]) > 0)  # the reward model's score keeps rising
    assert gains["true_gain"][-1] < gains["true_gain"].max() - 0.5  # the reader's does not


def test_a_sweep_is_deterministic_for_a_seed():
    def strip(rows):
        return [{k: v for k, v in r.items() if k != "wall_ms"} for r in rows]

    a, model_a = fr.sweep(TASK, 300, 0.1, seed=3, quick=True, budget=TINY)
    b, model_b = fr.sweep(TASK, 300, 0.1, seed=3, quick=True, budget=TINY)
    c, _ = fr.sweep(TASK, 300, 0.1, seed=4, quick=True, budget=TINY)
    assert strip(a) == strip(b)
    assert np.array_equal(model_a["scores"], model_b["scores"])
    assert strip(a) != strip(c)
    assert all(r["wall_ms"] >= 0 for r in a)


def test_the_sweep_plan():
    full, quick = fr.sweep_plan(), fr.sweep_plan(quick=True)
    assert full[:2] == quick[:2] == [("reference", None), ("preferred_ft", None)]
    assert set(quick) <= set(full) and len(quick) < len(full)
    for key, betas in fr.SWEEPS["full"].items():
        assert [c for m, c in full if m == key] == list(betas)
    assert fr.sweep_plan(True, ("dpo",)) == [("dpo", b) for b in fr.SWEEPS["quick"]["dpo"]]


def test_each_run_reports_its_cost():
    pairs = fr.preference_data(TASK, 200, seed=1)
    model = fr.fit_reward_model(TASK, pairs, TINY)
    rows = {m: fr.run(TASK, m, 1.0 if fr.METHODS[m].coefficient else None, pairs, model,
                      budget=TINY) for m in fr.METHODS}
    assert rows["reference"]["kl"] == 0 and rows["reference"]["gap"] == pytest.approx(0)
    assert rows["reference"]["true_reward"] == pytest.approx(REF_REWARD)
    assert rows["dpo"]["steps"] == TINY.dpo_steps and rows["dpo"]["samples"] == 0
    assert rows["dpo"]["labels"] == 200 == rows["rlhf"]["labels"]
    assert rows["preferred_ft"]["steps"] == TINY.preferred_steps
    ppo_steps = TINY.ppo_iterations * TINY.ppo_epochs * TINY.ppo_minibatches
    assert rows["rlhf"]["steps"] == ppo_steps == rows["ppo_true"]["steps"]
    assert rows["rlhf"]["samples"] == TINY.ppo_iterations * TINY.ppo_batch
    assert model["steps"] == TINY.reward_model_steps
    assert model["ref_score"] == pytest.approx(lm.expected_reward(TASK.ref_probs,
                                                                  model["scores"]))
    assert np.isfinite(rows["rlhf"]["rm_score"]) and math.isnan(rows["dpo"]["rm_score"])
    assert math.isnan(rows["reference"]["coefficient"]) and rows["dpo"]["coefficient"] == 1.0


def test_the_shared_data_is_a_bradley_terry_annotator_with_flips():
    pairs = fr.preference_data(TASK, 500, label_noise=0.2, seed=9)
    expected = lm.preference_pairs(TASK, 500, seed=9, noise=1.0, flip=0.2)
    assert all(np.array_equal(pairs[k], expected[k]) for k in expected)


# Summaries, on hand-made rows


def row(method, kl, gap, reward=1.0, coefficient=1.0, rm_score=math.nan, wall_ms=10.0,
        steps=5, samples=0, labels=100):
    return {"method": method, "coefficient": coefficient, "kl": kl, "gap": gap,
            "true_reward": reward, "rm_score": rm_score, "wall_ms": wall_ms, "steps": steps,
            "samples": samples, "labels": labels, "frontier_reward": reward + gap}


def test_compare_methods_by_band_of_kl():
    rows = [row("dpo", 0.2, 0.10), row("dpo", 0.4, 0.30), row("rlhf", 0.3, 0.10),
            row("dpo", 1.0, 0.50), row("rlhf", 1.2, 0.20), row("rlhf", 1.4, 0.40),
            row("rlhf", 2.0, 1.00), row("ppo_true", 0.3, 0.0)]
    bands = fr.compare_methods(rows)
    assert [(b["lo"], b["hi"]) for b in bands] == [(0.0, 0.5), (0.5, 1.5)]  # 2.0: RLHF only
    low, mid = bands
    assert low["first_gap"] == pytest.approx(0.2) and low["second_gap"] == pytest.approx(0.1)
    assert low["closer"] == "rlhf" and low["by"] == pytest.approx(0.1)
    assert (low["first_runs"], low["second_runs"]) == (2, 1)
    assert mid["closer"] == "rlhf" and mid["by"] == pytest.approx(0.2)
    assert fr.compare_methods(rows, "ppo_true", "dpo")[0]["closer"] == "ppo_true"


def test_overoptimisation_on_hand_made_rows():
    rising = [row("rlhf", k, 0, reward=r, rm_score=s)
              for k, r, s in ((0.2, 0.5, 0.4), (1.0, 1.5, 1.2), (5.0, 0.3, 3.0))]
    over = fr.overoptimisation(rising)
    assert over["happened"] and over["peak_kl"] == 1.0 and over["last_kl"] == 5.0
    assert over["drop"] == pytest.approx(1.2) and over["score_rise"] == pytest.approx(1.8)
    honest = [row("rlhf", k, 0, reward=r, rm_score=r) for k, r in ((0.2, 0.5), (1.0, 1.5))]
    assert not fr.overoptimisation(honest)["happened"]
    assert fr.overoptimisation(honest)["drop"] == 0
    assert fr.overoptimisation(honest[:1]) is None


def test_cost_table_and_data_effect():
    rows = [row("reference", 0, 0, steps=0, labels=0, wall_ms=0.0),
            row("dpo", 1, 0.2, wall_ms=10.0), row("dpo", 2, 0.4, reward=2.0, wall_ms=30.0),
            row("rlhf", 1, 0.5, wall_ms=50.0, samples=64)]
    table = fr.cost_table(rows, {"steps": 20, "wall_ms": 7.0})
    assert [t["method"] for t in table] == ["DPO", "RLHF (reward model + PPO)",
                                            "Reference model"]
    dpo, rlhf, _ = table
    assert dpo["runs"] == 2 and dpo["wall_ms_per_run"] == 20.0 and dpo["wall_ms_total"] == 40.0
    assert dpo["models"] == 2 and dpo["reward_model_steps"] == 0
    assert rlhf["wall_ms_total"] == 57.0 and rlhf["reward_model_steps"] == 20
    assert rlhf["models"] == 4 and rlhf["samples_per_run"] == 64
    effect = fr.data_effect({"few": rows, "many": rows[:2]})
    assert [(e["dataset"], e["method"]) for e in effect] == [("few", "dpo"), ("few", "rlhf"),
                                                             ("many", "dpo")]
    assert effect[0]["mean_gap"] == pytest.approx(0.3) and effect[0]["best_reward"] == 2.0
    assert effect[0]["best_kl"] == 2 and effect[2]["runs"] == 1
    assert fr.best_run(rows, "ppo_true") is None
    assert fr.mean_gap(rows, "dpo") == pytest.approx(0.3) and math.isnan(fr.mean_gap(rows, "x"))
    assert fr.total_wall_ms(table) == pytest.approx(40.0 + 57.0 + 0.0)


# Bad input


@pytest.mark.parametrize("call", [
    lambda: fr.run(TASK, "kto", 1.0),
    lambda: fr.run(TASK, "dpo", 0.0, {"prompt": [0], "chosen": [1], "rejected": [2]}),
    lambda: fr.run(TASK, "dpo", -1.0),
    lambda: fr.run(TASK, "dpo", 1.0),  # no pairs
    lambda: fr.run(TASK, "rlhf", 1.0, fr.preference_data(TASK, 10)),  # no reward model
    lambda: fr.frontier_reward(TASK, math.nan),
    lambda: fr.optimal_frontier(TASK, [0.0]),
    lambda: fr.check_settings(0, 0.0, 0),
    lambda: fr.check_settings(100, 0.7, 0),
    lambda: fr.check_settings(100, 0.1, -1),
    lambda: fr.check_settings(True, 0.1, 0),
])
def test_bad_input_raises_a_readable_error(call):
    with pytest.raises(ValueError):
        call()


def test_check_settings_passes_good_values():
    assert fr.check_settings(3000, 0.1, 7) == (3000, 0.1, 7)
