"""Tests for lessons/toy_lm.py: against hand-walked token products, finite differences, the closed
form π* ∝ π_ref·exp(r/β), Monte Carlo frequencies and worked examples of the hidden taste."""

import itertools
import math

import numpy as np
import pytest
from scipy import special

from lessons import dpo, ppo
from lessons import toy_lm as lm

TASK = lm.make_task()
P, N, A = TASK.shape
S = TASK.n_replies


def random_logits(seed, scale=1.0):
    return TASK.ref_logits + scale * np.random.default_rng(seed).standard_normal(TASK.shape)


def walk_logprob(logits, prompt, words, temperature=1.0):
    """log π(y|x) by walking the tree token by token with scipy's softmax (independent path)."""
    total, prefix = 0.0, ()
    actions = list(words) + ([len(TASK.words)] if len(words) < TASK.max_words else [])
    for action in actions:
        row = logits[prompt, lm.node_index(TASK, prefix)] / temperature
        row = np.where(TASK.allowed[lm.node_index(TASK, prefix)], row, -np.inf)
        total += math.log(special.softmax(row)[action])
        prefix = prefix + (action,)
    return total


def finite_difference(f, x, eps=1e-6):
    """Central differences of the scalar f at every allowed logit."""
    grad = np.zeros_like(x)
    for index in zip(*np.nonzero(np.broadcast_to(TASK.allowed, x.shape)), strict=True):
        step = np.zeros_like(x)
        step[index] = eps
        grad[index] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


# The task and the prefix tree


def test_sizes_follow_from_the_vocabulary():
    assert TASK.shape == (2, 1 + 7 + 49, 8)
    assert S == 7 + 7**2 + 7**3 == 399
    assert len(set(TASK.texts)) == S
    assert lm.make_task(max_words=2).n_replies == 7 + 49
    assert lm.make_task() is TASK  # cached


def test_indices_match_the_enumeration():
    for s, reply in enumerate(TASK.replies):
        assert lm.reply_index(TASK, reply) == s
    for n, prefix in enumerate(TASK.prefixes):
        assert lm.node_index(TASK, prefix) == n
    assert TASK.texts[lm.reply_index(TASK, (5, 0))] == "really great."
    assert TASK.texts[lm.reply_index(TASK, (0, 0, 0))] == "great great great"  # cut, no "."


@pytest.mark.parametrize("text, expected", [("really good", (5, 1)), ("Really good.", (5, 1)),
                                            ("", ()), ("  not  bad ", (6, 3))])
def test_parse_reply(text, expected):
    assert lm.parse_reply(TASK, text) == expected


@pytest.mark.parametrize("text", ["tasty", "good good good good", "good, bad"])
def test_parse_reply_rejects_what_the_model_cannot_say(text):
    with pytest.raises(ValueError):
        lm.parse_reply(TASK, text)


def test_reference_is_the_bigram_table():
    probs = np.exp(lm.next_token_logprobs(TASK, TASK.ref_logits))
    assert probs[0, 0, :7] == pytest.approx(lm.OPENINGS["The food was"])
    assert probs[0, 0, 7] == 0  # a reply never starts with the end token
    really = lm.node_index(TASK, (5,))
    assert probs[1, really] == pytest.approx(lm.BIGRAMS["really"])
    assert all(sum(row) == pytest.approx(1) for row in (*lm.OPENINGS.values(),
                                                        *lm.BIGRAMS.values()))


# The chain rule and the exact distribution


@pytest.mark.parametrize("seed", [0, 1])
def test_distribution_sums_to_one(seed):
    for logits in (TASK.ref_logits, random_logits(seed, 3.0)):
        for temperature in (0.3, 1.0, 4.0):
            probs = lm.distribution(TASK, logits, temperature)
            assert probs.shape == (P, S)
            assert probs.sum(axis=1) == pytest.approx(np.ones(P), abs=1e-12)
            assert np.all(probs > 0)


@pytest.mark.parametrize("temperature", [1.0, 0.5, 2.5])
def test_sequence_logprob_is_the_sum_of_token_logprobs(temperature):
    logits = random_logits(7, 2.0)
    logps = lm.sequence_logprobs(TASK, logits, temperature)
    rng = np.random.default_rng(1)
    for s in rng.choice(S, 40, replace=False):
        for prompt in range(P):
            assert logps[prompt, s] == pytest.approx(
                walk_logprob(logits, prompt, TASK.replies[s], temperature), abs=1e-12)


def test_reference_probability_is_the_product_of_the_table():
    # "really great." after "The food was": 0.12 · 0.30 · 0.72
    s = lm.reply_index(TASK, (5, 0))
    assert TASK.ref_probs[0, s] == pytest.approx(0.12 * 0.30 * 0.72)
    # a cut reply has no end token: "good good good" = 0.22 · 0.04 · 0.04
    s = lm.reply_index(TASK, (1, 1, 1))
    assert TASK.ref_probs[0, s] == pytest.approx(0.22 * 0.04 * 0.04)


def test_token_logprobs_add_up_to_the_sequence():
    logits = random_logits(3)
    prompt, reply = np.array([0, 1, 1]), np.array([0, 60, 398])
    tokens, mask = lm.token_logprobs(TASK, logits, prompt, reply)
    assert tokens.sum(axis=1) == pytest.approx(lm.sequence_logprobs(TASK, logits)[prompt, reply])
    assert mask.sum(axis=1).tolist() == [2, 3, 3]  # "great." = great + end


def test_temperature_sharpens_and_flattens():
    ent = [lm.entropy(lm.distribution(TASK, TASK.ref_logits, t)).mean() for t in (0.5, 1, 2)]
    assert ent[0] < ent[1] < ent[2]
    cold = lm.distribution(TASK, TASK.ref_logits, 0.05)
    assert TASK.texts[np.argmax(cold[0])] == "good." and cold[0].max() > 0.99


def test_every_distribution_is_representable():
    rng = np.random.default_rng(0)
    for alpha in (0.1, 1.0):
        target = rng.dirichlet(np.full(S, alpha), size=P)
        back = lm.distribution(TASK, lm.logits_for(TASK, target))
        assert back == pytest.approx(target, abs=1e-12)


def test_sampling_matches_the_exact_distribution():
    logits = random_logits(2)
    for temperature in (1.0, 2.0):
        prompt, reply = lm.sample(TASK, logits, 200_000, seed=5, temperature=temperature)
        exact = lm.distribution(TASK, logits, temperature)
        for p in range(P):
            freq = np.bincount(reply[prompt == p], minlength=S) / np.sum(prompt == p)
            n = np.sum(prompt == p)
            assert np.all(np.abs(freq - exact[p]) < 5 * np.sqrt(exact[p] / n) + 1e-4)
    again = lm.sample(TASK, logits, 50, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(again, lm.sample(TASK, logits, 50, seed=5),
                                                    strict=True))
    prompt, _ = lm.sample(TASK, logits, 20, seed=0, prompt=1)
    assert set(prompt) == {1}


# The hidden taste


@pytest.mark.parametrize("words, reward", [
    ("great", 2.0), ("really great", 3.0), ("not bad", 0.5), ("not good", -0.5),
    ("great great", 1.0), ("great great great", 0.0), ("really", -1.0), ("good really", 0.0),
    ("not really good", -0.75), ("really awful", -3.0), ("okay", 0.0), ("good great", 3.0),
    ("really really great", 2.0),
])
def test_taste_worked_examples(words, reward):
    assert lm.taste(words.split()) == pytest.approx(reward)
    s = lm.reply_index(TASK, lm.parse_reply(TASK, words))
    assert TASK.true_rewards[0, s] == TASK.true_rewards[1, s] == pytest.approx(reward)


def test_taste_terms_explain_the_total():
    terms = lm.taste_terms(["good", "good", "not"])
    assert [p for _, p, _ in terms] == [1.0, -1.0, 0.0, -1.0]
    assert "dangling" in terms[-1][2]


def test_reference_is_fluent_but_not_aligned():
    ref_reward = lm.expected_reward(TASK.ref_probs, TASK.true_rewards)
    assert abs(ref_reward) < 0.2  # mixed sentiment on average
    best = np.argmax(TASK.ref_probs, axis=1)
    assert [TASK.texts[s] for s in best] == ["good.", "bad."]


# Exact expectations and the optimum


def test_expected_reward_and_kl_are_exact_sums():
    probs = lm.distribution(TASK, random_logits(4))
    r = TASK.true_rewards
    assert lm.expected_reward(probs, r) == pytest.approx(np.mean(np.sum(probs * r, axis=1)))
    manual = np.mean(np.sum(probs * np.log(probs / TASK.ref_probs), axis=1))
    assert lm.exact_kl(probs, TASK.ref_probs) == pytest.approx(manual)
    assert lm.exact_kl(TASK.ref_probs, TASK.ref_probs) == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("beta", [0.3, 1.0, 5.0])
def test_optimum_is_the_closed_form_and_beats_other_policies(beta):
    star = lm.optimum(TASK, beta)
    weights = TASK.ref_probs * np.exp(TASK.true_rewards / beta)
    assert star == pytest.approx(weights / weights.sum(axis=1, keepdims=True))

    def objective(probs):
        return lm.expected_reward(probs, TASK.true_rewards) - beta * lm.exact_kl(
            probs, TASK.ref_probs)

    best = objective(star)
    log_z = np.log(weights.sum(axis=1)).mean()
    assert best == pytest.approx(beta * log_z)  # J(π*) = β·log Z
    for seed in range(5):
        other = lm.distribution(TASK, lm.logits_for(TASK, star) + 0.3 * np.random.default_rng(
            seed).standard_normal(TASK.shape))
        assert objective(other) < best


# Gradients against finite differences


def test_sequence_gradient_matches_finite_differences():
    logits = random_logits(11)
    weights = np.random.default_rng(12).standard_normal((P, S))
    f = lambda x: np.sum(weights * lm.sequence_logprobs(TASK, x))  # noqa: E731
    analytic = lm.sequence_gradient(TASK, logits, weights)
    assert analytic == pytest.approx(finite_difference(f, logits), abs=1e-6)
    assert np.all(analytic[:, ~TASK.allowed] == 0)


def test_token_gradient_matches_finite_differences():
    logits = random_logits(13)
    rng = np.random.default_rng(14)
    prompt, reply = rng.integers(P, size=30), rng.integers(S, size=30)
    node, action = TASK.step_node[reply], TASK.step_action[reply]
    weights = rng.standard_normal(node.shape) * TASK.step_mask[reply]
    rows = np.broadcast_to(prompt[:, None], node.shape)

    def f(x):
        return np.sum(weights * lm.next_token_logprobs(TASK, x)[rows, node, action])

    analytic = lm.token_gradient(TASK, logits, rows, node, action, weights)
    assert analytic == pytest.approx(finite_difference(f, logits), abs=1e-6)


PAIRS = lm.preference_pairs(TASK, 300, seed=0)


@pytest.mark.parametrize("loss_type, smoothing", [("sigmoid", 0.0), ("sigmoid", 0.2),
                                                  ("ipo", 0.0), ("hinge", 0.0)])
def test_dpo_gradient_matches_finite_differences(loss_type, smoothing):
    logits = random_logits(15, 0.5)
    args = (PAIRS["prompt"], PAIRS["chosen"], PAIRS["rejected"], 0.7, loss_type, smoothing)
    loss, logged, analytic = lm.dpo_objective(TASK, logits, *args)
    f = lambda x: lm.dpo_objective(TASK, x, *args)[0]  # noqa: E731
    assert analytic == pytest.approx(finite_difference(f, logits), abs=1e-6)
    # the loss is lessons.dpo's, on the chain-rule log-probs
    logp = lm.sequence_logprobs(TASK, logits)
    p, c, r = PAIRS["prompt"], PAIRS["chosen"], PAIRS["rejected"]
    direct = dpo.dpo_loss(logp[p, c], logp[p, r], TASK.ref_logps[p, c], TASK.ref_logps[p, r],
                          0.7, loss_type, smoothing)
    assert loss == pytest.approx(direct["loss"])
    assert logged == pytest.approx(dpo.logged_metrics(direct, logp[p, c], logp[p, r]))


def test_merged_pairs_give_the_same_loss_and_gradient():
    pairs = lm.preference_pairs(TASK, 3000, seed=2)
    merged = lm.merge_pairs(pairs)
    assert len(merged["prompt"]) < 3000 and merged["weight"].sum() == 3000
    logits = random_logits(16, 0.5)
    full = lm.dpo_objective(TASK, logits, pairs["prompt"], pairs["chosen"], pairs["rejected"], 1.0)
    short = lm.dpo_objective(TASK, logits, merged["prompt"], merged["chosen"],
                             merged["rejected"], 1.0, weight=merged["weight"])
    assert short[0] == pytest.approx(full[0])
    assert short[1] == pytest.approx(full[1])
    assert short[2] == pytest.approx(full[2], abs=1e-12)


def test_sft_gradient_matches_finite_differences():
    logits = random_logits(17)
    loss, analytic = lm.sft_objective(TASK, logits, PAIRS["prompt"], PAIRS["chosen"])
    f = lambda x: lm.sft_objective(TASK, x, PAIRS["prompt"], PAIRS["chosen"])[0]  # noqa: E731
    assert analytic == pytest.approx(finite_difference(f, logits), abs=1e-6)
    logp = lm.sequence_logprobs(TASK, logits)
    assert loss == pytest.approx(-np.mean(logp[PAIRS["prompt"], PAIRS["chosen"]]))


def test_ppo_gradient_matches_finite_differences():
    old = random_logits(18)
    logits = old + 0.15 * np.random.default_rng(19).standard_normal(TASK.shape)
    rng = np.random.default_rng(20)
    prompt, reply = lm.sample(TASK, old, 40, seed=21)
    mask = TASK.step_mask[reply]
    rows = np.broadcast_to(prompt[:, None], mask.shape)[mask]
    node, action = TASK.step_node[reply][mask], TASK.step_action[reply][mask]
    logp_old = lm.next_token_logprobs(TASK, old)[rows, node, action]
    advantage = rng.standard_normal(len(node))
    args = (rows, node, action, logp_old, advantage, 0.2)
    loss, ratio, analytic = lm.ppo_objective(TASK, logits, *args)
    # the kinks of the clip (|r − 1| = ε exactly) are measure zero; make sure we are off them
    assert np.min(np.abs(np.abs(ratio - 1) - 0.2)) > 1e-4
    assert np.any(np.abs(ratio - 1) > 0.2)  # some tokens are clipped: their gradient is 0
    f = lambda x: lm.ppo_objective(TASK, x, *args)[0]  # noqa: E731
    assert analytic == pytest.approx(finite_difference(f, logits), abs=1e-6)
    assert loss == pytest.approx(-np.mean(ppo.clipped_objective(ratio, advantage, 0.2)))


def test_returns_to_go():
    token_rewards = np.array([[-0.1, -0.2, 1.0], [0.3, 2.0, 9.0]])
    mask = np.array([[1, 1, 1], [1, 1, 0]], dtype=bool)
    assert lm.returns_to_go(token_rewards, mask) == pytest.approx(
        np.array([[0.7, 0.8, 1.0], [2.3, 2.0, 0.0]]))


# The annotator and the pairs


def test_annotator_is_bradley_terry_with_noise_and_flips():
    assert lm.annotator_probability(1.0, 0.0) == pytest.approx(special.expit(1.0))
    assert lm.annotator_probability(1.0, 0.0, noise=2.0) == pytest.approx(special.expit(0.5))
    assert lm.annotator_probability(1.0, 0.0, noise=0.0) == 1.0
    assert lm.annotator_probability(0.0, 0.0, noise=0.0) == 0.5
    assert lm.annotator_probability(1.0, 0.0, noise=0.0, flip=0.1) == pytest.approx(0.9)
    a, b = lm.annotator_probability([2.0, -1.0], [0.5, 3.0], 1.5, 0.2), \
        lm.annotator_probability([0.5, 3.0], [2.0, -1.0], 1.5, 0.2)
    assert a + b == pytest.approx([1.0, 1.0])


def test_pairs_are_two_different_replies_and_seeded():
    pairs = lm.preference_pairs(TASK, 2000, seed=4)
    assert np.all(pairs["chosen"] != pairs["rejected"])
    again = lm.preference_pairs(TASK, 2000, seed=4)
    assert all(np.array_equal(pairs[k], again[k]) for k in pairs)
    other = lm.preference_pairs(TASK, 2000, seed=5)
    assert not np.array_equal(pairs["chosen"], other["chosen"])
    assert lm.preference_pairs(TASK, 500, seed=1, noise=0.0)["agrees"].all()


@pytest.mark.parametrize("noise, flip", [(1.0, 0.0), (0.3, 0.1), (3.0, 0.0)])
def test_label_accuracy_matches_simulated_labels(noise, flip):
    pairs = lm.preference_pairs(TASK, 40_000, seed=6, noise=noise, flip=flip)
    r = TASK.true_rewards[pairs["prompt"], pairs["chosen"]] - \
        TASK.true_rewards[pairs["prompt"], pairs["rejected"]]
    simulated = np.mean(r[r != 0] > 0)
    # pairs of identical replies are excluded by preference_pairs, only unequal rewards count;
    # label_accuracy conditions on the same event, so the two agree within sampling error
    assert lm.label_accuracy(TASK, noise, flip) == pytest.approx(simulated, abs=0.012)
    assert lm.label_accuracy(TASK, 0.0) == 1.0


# Training


def test_dpo_history_follows_trl_conventions():
    result = lm.train_dpo(TASK, PAIRS, steps=5)
    h = result["history"]
    assert np.isnan(h["loss"][0]) and h["loss"][1] == pytest.approx(math.log(2))  # π = π_ref
    assert h["rewards/margins"][1] == pytest.approx(0) and h["kl"][0] == 0
    assert h["rewards/margins"] == pytest.approx(h["rewards/chosen"] - h["rewards/rejected"],
                                                 nan_ok=True)
    assert h["true_reward"][0] == pytest.approx(lm.expected_reward(TASK.ref_probs,
                                                                   TASK.true_rewards))
    final = lm.distribution(TASK, result["logits"])
    assert h["kl"][-1] == pytest.approx(lm.exact_kl(final, TASK.ref_probs))
    assert all(len(v) == 6 for v in h.values())


def test_dpo_with_plenty_of_clean_pairs_reaches_the_optimum():
    # Pairs labelled by Bradley–Terry with the true reward (noise 1, no flips) are the data DPO
    # assumes; its population minimiser is then exactly π* at the same β. With 200 000 pairs the
    # replies that carry π*'s mass are seen thousands of times, but rare ones (π_ref ~ 1e-4) only
    # a few dozen, so their implicit rewards keep a sampling error: we ask for a total-variation
    # distance below 0.08 (it is about 0.04) and the expected reward and KL within 0.1.
    beta = 1.0
    pairs = lm.preference_pairs(TASK, 200_000, seed=3)
    result = lm.train_dpo(TASK, pairs, beta=beta, steps=150, lr=0.1)
    probs, star = lm.distribution(TASK, result["logits"]), lm.optimum(TASK, beta)
    assert 0.5 * np.abs(probs - star).sum(axis=1).mean() < 0.08
    h = result["history"]
    assert h["true_reward"][-1] == pytest.approx(lm.expected_reward(star, TASK.true_rewards),
                                                 abs=0.1)
    assert h["kl"][-1] == pytest.approx(lm.exact_kl(star, TASK.ref_probs), abs=0.1)


def test_dpo_on_few_pairs_drifts_past_the_optimum():
    # The known failure with finite data: the KL keeps growing long after π*'s KL is passed.
    result = lm.train_dpo(TASK, lm.preference_pairs(TASK, 2000, seed=1), steps=150, lr=0.1)
    star_kl = lm.exact_kl(lm.optimum(TASK, 1.0), TASK.ref_probs)
    assert result["history"]["kl"][-1] > 2 * star_kl


def test_ppo_with_the_true_reward_climbs_and_keeps_its_kl():
    beta = 1.0
    star = lm.optimum(TASK, beta)
    star_kl = lm.exact_kl(star, TASK.ref_probs)
    for seed in (0, 1):
        h = lm.train_ppo_rlhf(TASK, beta=beta, seed=seed)["history"]
        assert h["true_reward"][-1] > h["true_reward"][0] + 1.7
        assert h["true_reward"][-1] == pytest.approx(
            lm.expected_reward(star, TASK.true_rewards), abs=0.3)
        # sampling noise keeps PPO a little off π*; its KL stays within ±40 % of π*'s
        assert 0.6 * star_kl < h["kl"][-1] < 1.4 * star_kl
        assert h["objective"][-1] <= lm.expected_reward(star, TASK.true_rewards) - \
            beta * star_kl + 1e-9  # nothing beats the optimum
        assert np.all(h["clip_fraction"][1:] >= 0) and np.isnan(h["clip_fraction"][0])


def test_ppo_against_a_bag_of_words_reward_model_is_fooled():
    pairs = lm.preference_pairs(TASK, 2000, seed=0)
    rm = lm.train_reward_model(TASK, pairs)
    h = lm.train_ppo_rlhf(TASK, rm["scores"], beta=0.1, iterations=60)["history"]
    assert h["score"][-1] > h["score"][5]  # the reward model's score keeps rising...
    assert h["true_reward"][-1] < h["true_reward"].max() - 0.4  # ...while the true one falls


def test_reward_model_learns_the_sentiment_but_not_the_twist():
    pairs = lm.preference_pairs(TASK, 2000, seed=0)
    words = lm.train_reward_model(TASK, pairs)
    w = dict(zip(words["feature_names"], words["weights"], strict=True))
    assert w["great"] > w["good"] > w["okay"] > w["bad"] > w["awful"]
    assert words["history"]["loss"][-1] < words["history"]["loss"][0] == pytest.approx(math.log(2))
    assert words["accuracy"] > 0.8
    s = lm.reply_index(TASK, (0, 0, 0))
    assert words["scores"][0, s] == pytest.approx(3 * w["great"])  # "great great great" wins
    repeats = lm.train_reward_model(TASK, pairs, features="words + repeats")
    assert dict(zip(repeats["feature_names"], repeats["weights"], strict=True))["repeats"] < 0
    assert repeats["accuracy"] > words["accuracy"]


@pytest.mark.parametrize("step", [0, 1, 35, 200])
def test_the_reward_model_after_some_steps_is_the_model_a_shorter_run_ends_with(step):
    pairs = lm.preference_pairs(TASK, 300, seed=4, noise=0.2)
    run = lm.train_reward_model(TASK, pairs)
    shorter = lm.train_reward_model(TASK, pairs, steps=step)
    at = lm.reward_model_at(TASK, run, [step, 200])
    np.testing.assert_allclose(at["scores"][0], shorter["scores"], atol=1e-12)
    assert at["accuracy"][0] == pytest.approx(shorter["accuracy"])
    assert np.array_equal(at["scores"][1], run["scores"])  # the last step: the run's own model
    assert at["accuracy"][1] == run["accuracy"]
    if step == 0:  # w = 0: every reply scores 0, every pair is a tie
        assert np.all(at["scores"][0] == 0) and at["accuracy"][0] == 0.5
    with pytest.raises(ValueError, match="step must be a whole number from 0 to 200"):
        lm.reward_model_at(TASK, run, [201])


def _ranking_accuracy_by_all_pairs(scores):
    """ranking_accuracy written out pair by pair over every (x, y, y'), for comparison."""
    right = total = 0.0
    for x in range(len(TASK.prompts)):
        for y in range(TASK.true_rewards.shape[1]):
            for z in range(TASK.true_rewards.shape[1]):
                if TASK.true_rewards[x, y] > TASK.true_rewards[x, z]:
                    w = TASK.ref_probs[x, y] * TASK.ref_probs[x, z]
                    total += w
                    right += w * (1.0 if scores[x, y] > scores[x, z] else
                                  0.5 if scores[x, y] == scores[x, z] else 0.0)
    return right / total


def test_ranking_accuracy_matches_a_pair_by_pair_count_and_takes_a_stack():
    rng = np.random.default_rng(3)
    noisy = TASK.true_rewards + rng.normal(0, 1.0, TASK.true_rewards.shape)
    tied = np.round(noisy)  # many ties, which count half
    both = np.stack([noisy, tied])
    expected = [_ranking_accuracy_by_all_pairs(s) for s in both]
    assert lm.ranking_accuracy(TASK, noisy) == pytest.approx(expected[0], rel=1e-12)
    assert lm.ranking_accuracy(TASK, tied) == pytest.approx(expected[1], rel=1e-12)
    np.testing.assert_allclose(lm.ranking_accuracy(TASK, both), expected, rtol=1e-12)
    assert 0.5 < min(expected) < max(expected) < 1  # neither trivial nor equal


def test_ranking_accuracy_of_the_truth_is_one():
    assert lm.ranking_accuracy(TASK, TASK.true_rewards) == 1.0
    assert lm.ranking_accuracy(TASK, np.zeros((P, S))) == 0.5


def test_preferred_fine_tuning_imitates_the_chosen_replies():
    pairs = lm.preference_pairs(TASK, 4000, seed=8)
    h = lm.train_preferred_ft(TASK, pairs, steps=300, lr=0.1)["history"]
    assert np.all(np.diff(h["loss"][1:]) < 1e-9)
    assert h["true_reward"][-1] > h["true_reward"][0] + 0.3 and h["kl"][-1] > 0
    # its optimum is the chosen replies' empirical distribution, the floor of its loss
    counts = np.zeros((P, S))
    np.add.at(counts, (pairs["prompt"], pairs["chosen"]), 1)
    empirical = counts / counts.sum(axis=1, keepdims=True)
    floor = -np.sum(counts * special.xlogy(1, np.where(counts > 0, empirical, 1))) / 4000
    assert h["loss"][-1] == pytest.approx(floor, abs=0.05)


@pytest.mark.parametrize("train", ["dpo", "ppo", "sft"])
def test_training_is_deterministic_for_a_seed(train):
    runs = {
        "dpo": lambda seed: lm.train_dpo(TASK, PAIRS, steps=8, batch_size=64, seed=seed),
        "ppo": lambda seed: lm.train_ppo_rlhf(TASK, iterations=3, seed=seed),
        "sft": lambda seed: lm.train_preferred_ft(TASK, PAIRS, steps=8, batch_size=64,
                                                  seed=seed),
    }[train]
    a, b, c = runs(1), runs(1), runs(2)
    assert np.array_equal(a["logits"], b["logits"])
    assert all(np.array_equal(a["history"][k], b["history"][k], equal_nan=True)
               for k in a["history"])
    assert not np.array_equal(a["logits"], c["logits"])


# Bad input


@pytest.mark.parametrize("call", [
    lambda: lm.distribution(TASK, np.zeros((2, 3, 4))),
    lambda: lm.distribution(TASK, TASK.ref_logits, temperature=0),
    lambda: lm.distribution(TASK, TASK.ref_logits, temperature=math.nan),
    lambda: lm.distribution(TASK, np.full(TASK.shape, np.nan)),
    lambda: lm.optimum(TASK, 0.0),
    lambda: lm.sample(TASK, TASK.ref_logits, 0),
    lambda: lm.sample(TASK, TASK.ref_logits, 5, prompt=2),
    lambda: lm.preference_pairs(TASK, 10, noise=-1),
    lambda: lm.preference_pairs(TASK, 10, flip=0.7),
    lambda: lm.train_dpo(TASK, {"prompt": [0], "chosen": [400], "rejected": [1]}),
    lambda: lm.train_dpo(TASK, {"prompt": [0]}),
    lambda: lm.train_dpo(TASK, PAIRS, beta=-1),
    lambda: lm.train_dpo(TASK, PAIRS, loss_type="kto"),
    lambda: lm.train_dpo(TASK, PAIRS, lr=0),
    lambda: lm.train_ppo_rlhf(TASK, np.zeros(3)),
    lambda: lm.train_ppo_rlhf(TASK, epsilon=1.5),
    lambda: lm.train_reward_model(TASK, PAIRS, features="bigrams"),
    lambda: lm.make_task(prompts=("The weather was",)),
    lambda: lm.make_task(max_words=9),
    lambda: lm.reply_index(TASK, ()),
    lambda: lm.taste(["tasty"]),
])
def test_bad_input_raises_a_readable_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_every_reply_has_one_path_through_the_tree():
    # each reply's decisions are distinct edges, and every edge below the root is used
    used = np.zeros((N, A), dtype=int)
    for s in range(S):
        m = TASK.step_mask[s]
        for node, action in zip(TASK.step_node[s][m], TASK.step_action[s][m], strict=True):
            used[node, action] += 1
    assert np.all(used[TASK.allowed] >= 1) and np.all(used[~TASK.allowed] == 0)
    leaves = sum(1 for k in range(1, 4) for _ in itertools.product(range(7), repeat=k))
    assert leaves == S


# What the lesson page shows


def test_prefix_tree_probabilities_multiply_along_the_path():
    tree = lm.prefix_tree(TASK, TASK.ref_logits, 0)
    rows = dict(zip(tree["ids"], zip(tree["path_prob"], tree["next_prob"], strict=True),
                    strict=True))
    assert len(tree["ids"]) == N * A - 1  # every edge of the tree: N·A minus the root's END
    assert rows["really"] == pytest.approx((0.12, 0.12))
    assert rows["really/great"] == pytest.approx((0.12 * 0.30, 0.30))
    assert rows["really/great/."] == pytest.approx((0.12 * 0.30 * 0.72, 0.72))
    # the leaves (end tokens and third words) are the replies: their mass adds up to 1
    leaves = [p for label, d, p in zip(tree["labels"], tree["depth"], tree["path_prob"],
                                       strict=True) if label == lm.END or d == TASK.max_words]
    assert len(leaves) == S and sum(leaves) == pytest.approx(1.0)
    assert sorted(leaves) == pytest.approx(sorted(TASK.ref_probs[0]))


def test_decision_steps_are_the_chain_rule_one_term_at_a_time():
    logits = random_logits(22)
    walk = lm.decision_steps(TASK, logits, 1, (5, 0), finished=True)
    assert walk["token"] == ["really", "great", "."]
    assert walk["context"] == ["The service was", "The service was really",
                               "The service was really great"]
    assert walk["cumulative"][-1] == pytest.approx(walk_logprob(logits, 1, (5, 0)))
    assert walk["total_prob"] == pytest.approx(np.prod(walk["prob"]))
    assert np.all(walk["next_probs"] == 0)
    open_reply = lm.decision_steps(TASK, logits, 1, (5,))
    assert open_reply["next_probs"] == pytest.approx(
        special.softmax(logits[1, lm.node_index(TASK, (5,))]))
    assert lm.decision_steps(TASK, logits, 0, ())["token"] == []
    with pytest.raises(ValueError):
        lm.decision_steps(TASK, logits, 0, (), finished=True)


def test_most_likely_and_reward_histogram():
    assert lm.most_likely([0.2, 0.5, 0.3], 2).tolist() == [1, 2]
    values, probs = lm.reward_histogram(TASK.true_rewards[0], TASK.ref_probs[0])
    assert probs.sum() == pytest.approx(1.0)
    assert np.dot(values, probs) == pytest.approx(
        lm.expected_reward(TASK.ref_probs[:1], TASK.true_rewards[:1]))
    assert set(values) == set(TASK.true_rewards[0])


def test_histories_can_track_the_distance_to_a_target():
    star = lm.optimum(TASK, 1.0)
    dpo_h = lm.train_dpo(TASK, PAIRS, steps=3, target=star)["history"]
    ppo_h = lm.train_ppo_rlhf(TASK, iterations=2, target=star)["history"]
    assert dpo_h["kl_to_target"][0] == pytest.approx(lm.exact_kl(TASK.ref_probs, star))
    assert ppo_h["kl_to_target"][0] == dpo_h["kl_to_target"][0]
    # the objective is rlhf's E[r] − β·KL, and at π_ref the KL is 0
    assert ppo_h["objective"][0] == pytest.approx(ppo_h["score"][0])
    with pytest.raises(ValueError):
        lm.logits_for(TASK, np.full((P, S), 0.5))


# Checkpoints for replays


def test_checkpoint_steps_spread_from_the_start_to_the_end():
    assert lm.checkpoint_steps(150, 4).tolist() == [0, 50, 100, 150]
    assert lm.checkpoint_steps(3, 10).tolist() == [0, 1, 2, 3]
    assert lm.checkpoint_steps(10, 0).tolist() == []
    with pytest.raises(ValueError, match="checkpoints"):
        lm.checkpoint_steps(10, -1)


@pytest.mark.parametrize("trainer", ["dpo", "sft", "ppo"])
def test_checkpoints_hold_the_policy_at_their_steps_without_changing_the_run(trainer):
    task = lm.make_task()
    pairs = lm.preference_pairs(task, 300, seed=1)
    runs = {
        "dpo": lambda **kw: lm.train_dpo(task, pairs, steps=12, **kw),
        "sft": lambda **kw: lm.train_preferred_ft(task, pairs, steps=12, **kw),
        "ppo": lambda **kw: lm.train_ppo_rlhf(task, iterations=4, batch_size=32, **kw),
    }[trainer]
    plain, kept = runs(), runs(checkpoints=3)
    assert "checkpoints" not in plain
    np.testing.assert_array_equal(plain["logits"], kept["logits"])  # same run, same result
    steps, probs = kept["checkpoints"]["step"], kept["checkpoints"]["probs"]
    last = 12 if trainer != "ppo" else 4
    assert steps.tolist() == lm.checkpoint_steps(last, 3).tolist()
    assert probs.shape == (len(steps), *task.true_rewards.shape)
    np.testing.assert_allclose(probs[0], lm.distribution(task, task.ref_logits))
    np.testing.assert_allclose(probs[-1], lm.distribution(task, kept["logits"]))
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0)
    # the exact reward logged at a checkpoint's step is the checkpoint's expected reward
    middle = steps[1]
    np.testing.assert_allclose(kept["history"]["true_reward"][middle],
                               lm.expected_reward(probs[1], task.true_rewards))
