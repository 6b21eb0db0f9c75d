"""A class's judgements as preference data (lessons/class_judgements.py): pair names, the
pool and each student's order, pairs for the tiny LM, agreement with the hidden taste, split
votes and Bradley–Terry wins, each checked by hand or against lessons.toy_lm."""

import numpy as np
import pytest

from lessons import bradley_terry as bt
from lessons import class_judgements as cj
from lessons import toy_lm as lm

TASK = lm.make_task()


def test_pair_names_round_trip():
    assert cj.parse_item(cj.reply_item(1, 3, 17)) == ("replies", (1, 3, 17))
    assert cj.parse_item(cj.item_pair(2, 5)) == ("items", (2, 5))


@pytest.mark.parametrize("item", ["", "replies:1:2", "items:1:x", "poems:1:2", "items:-1:2",
                                  "replies:1:2:3:4"])
def test_other_names_are_refused(item):
    with pytest.raises(ValueError, match="does not name a pair"):
        cj.parse_item(item)


def test_the_pool_is_pairs_of_different_replies_from_the_reference_seeded():
    pool = cj.reply_pool(TASK, 500, seed=3)
    assert pool.shape == (500, 3)
    assert np.all(pool[:, 1] != pool[:, 2])
    np.testing.assert_array_equal(pool, cj.reply_pool(TASK, 500, seed=3))
    assert not np.array_equal(pool, cj.reply_pool(TASK, 500, seed=4))
    # both orders appear: the pool does not give away which reply an annotator preferred
    rewards = TASK.true_rewards[pool[:, 0][:, None], pool[:, 1:]]
    first_better = np.mean(rewards[:, 0] > rewards[:, 1])
    assert 0.35 < first_better < 0.65
    # replies come from π_ref: the most likely first replies are the most common
    counts = np.bincount(pool[pool[:, 0] == 0, 1], minlength=TASK.n_replies)
    assert counts[np.argmax(TASK.ref_probs[0])] >= np.median(counts[counts > 0])


def test_every_student_meets_every_pair_in_an_order_of_their_own():
    orders = [cj.student_order(40, s, seed=7) for s in range(5)]
    for order in orders:
        assert sorted(order) == list(range(40))
    assert len({tuple(o[:5]) for o in orders}) == 5
    np.testing.assert_array_equal(orders[2], cj.student_order(40, 2, seed=7))


def _judgement(item, choice, student="s"):
    return {"item": item, "choice": str(choice), "student": student}


def test_judgements_become_pairs_and_agreement_follows_the_hidden_taste():
    rewards = TASK.true_rewards[0]
    best, worst = int(np.argmax(rewards)), int(np.argmin(rewards))
    judgements = [
        _judgement(cj.reply_item(0, best, worst), best, "a"),   # agrees with the taste
        _judgement(cj.reply_item(0, best, worst), worst, "b"),  # disagrees
        _judgement(cj.reply_item(0, worst, best), best, "c"),   # agrees
        _judgement(cj.item_pair(0, 1), 0),                       # another activity: skipped
        _judgement(cj.reply_item(0, best, worst), 5),            # neither reply: skipped
        _judgement(cj.reply_item(9, best, worst), best),         # no such prompt: skipped
        _judgement("nonsense", 1),
    ]
    pairs = cj.class_pairs(TASK, judgements)
    assert pairs["chosen"].tolist() == [best, worst, best]
    assert pairs["rejected"].tolist() == [worst, best, worst]
    assert pairs["prompt"].tolist() == [0, 0, 0]
    assert pairs["agrees"].tolist() == [True, False, True]
    assert pairs["student"].tolist() == ["a", "b", "c"]
    assert cj.agreement(pairs) == pytest.approx(2 / 3)
    assert np.isnan(cj.agreement(cj.class_pairs(TASK, [])))


def test_class_pairs_train_the_tiny_lm_like_simulated_ones():
    simulated = lm.preference_pairs(TASK, 200, seed=0)
    judgements = [_judgement(cj.reply_item(p, c, r), c, f"s{k}") for k, (p, c, r) in
                  enumerate(zip(simulated["prompt"], simulated["chosen"],
                                simulated["rejected"], strict=True))]
    pairs = cj.class_pairs(TASK, judgements)
    for key in ("prompt", "chosen", "rejected", "agrees"):
        np.testing.assert_array_equal(pairs[key], simulated[key])
    assert cj.agreement(pairs) == pytest.approx(simulated["agrees"].mean())
    ours = lm.train_dpo(TASK, pairs, steps=20)["logits"]
    theirs = lm.train_dpo(TASK, simulated, steps=20)["logits"]
    np.testing.assert_allclose(ours, theirs)


def test_votes_count_each_student_once_and_split_items_come_first_when_even():
    judgements = [_judgement("p", 1, "a"), _judgement("p", 2, "b"), _judgement("p", 1, "c"),
                  _judgement("p", 2, "c"),  # c changed their mind: the latest counts
                  _judgement("q", 1, "a"), _judgement("q", 1, "b"),
                  _judgement("r", 1, "a"), _judgement("r", 2, "b"), _judgement("r", 1, "c"),
                  _judgement("s", 2, "a")]
    counts = cj.votes(judgements)
    assert counts == {"p": {"1": 1, "2": 2}, "q": {"1": 2}, "r": {"1": 2, "2": 1},
                      "s": {"2": 1}}
    assert cj.split_items(counts) == [("p", 2, 1), ("r", 2, 1)]
    assert cj.split_items({"e": {"1": 2, "2": 2}, "p": {"1": 1, "2": 2}}) == [
        ("e", 2, 2), ("p", 2, 1)]


def test_item_wins_feed_the_bradley_terry_fit():
    judgements = [_judgement(cj.item_pair(0, 1), 0)] * 3 + \
        [_judgement(cj.item_pair(1, 0), 1)] + [_judgement(cj.item_pair(0, 2), 2),
                                               _judgement(cj.item_pair(3, 0), 3)]
    wins = cj.item_wins(3, judgements)  # item 3 is beyond n_items: skipped
    np.testing.assert_array_equal(wins, [[0, 3, 0], [1, 0, 0], [1, 0, 0]])
    scores = bt.fit_scores(wins, l2=0.1)
    # 2 beat 0 and never lost; 0 beat 1 three times in four
    assert np.argsort(-scores).tolist() == [2, 0, 1]


def test_relabelling_keeps_the_pairs_and_follows_the_annotator():
    pool = cj.reply_pool(TASK, 4000, seed=1)
    pairs = {"prompt": pool[:, 0], "chosen": pool[:, 1], "rejected": pool[:, 2]}
    labelled = cj.relabel(TASK, pairs, seed=2)
    np.testing.assert_array_equal(labelled["prompt"], pool[:, 0])
    same = {frozenset(p) for p in zip(pool[:, 1], pool[:, 2], strict=True)}
    assert {frozenset(p) for p in zip(labelled["chosen"], labelled["rejected"],
                                      strict=True)} == same
    # the share agreeing with the taste matches the annotator's exact accuracy on such pairs
    unequal = TASK.true_rewards[pool[:, 0], pool[:, 1]] != TASK.true_rewards[pool[:, 0],
                                                                             pool[:, 2]]
    assert labelled["agrees"][unequal].mean() == pytest.approx(
        lm.label_accuracy(TASK, noise=1.0), abs=0.03)


def test_what_the_class_taught_puts_both_runs_next_to_the_optimum():
    pool = cj.reply_pool(TASK, 300, seed=5)
    rewards = TASK.true_rewards[pool[:, 0][:, None], pool[:, 1:]]
    # a careful class: always the reply with the higher true reward
    better_first = rewards[:, 0] >= rewards[:, 1]
    careful = {"prompt": pool[:, 0], "chosen": np.where(better_first, pool[:, 1], pool[:, 2]),
               "rejected": np.where(better_first, pool[:, 2], pool[:, 1])}
    careful["agrees"] = np.ones(300, dtype=bool)
    report = cj.what_the_class_taught(TASK, careful, beta=1.0, seed=0, dpo_steps=60)
    assert report["pairs"] == 300
    assert report["agreement"]["class"] == 1.0
    assert report["agreement"]["simulated"] < 1.0
    assert report["reward_model_accuracy"]["class"] >= \
        report["reward_model_accuracy"]["simulated"] - 0.02
    star, ref = report["optimum"], report["reference"]
    assert ref == {"true_reward": pytest.approx(lm.expected_reward(TASK.ref_probs,
                                                                   TASK.true_rewards)),
                   "kl": 0.0}
    for run in report["dpo"].values():
        assert run["true_reward"] > ref["true_reward"] and run["kl"] > 0
    # the optimum at β = 1 is the best E[r] − KL: no run beats it on that objective
    for run in report["dpo"].values():
        assert run["true_reward"] - run["kl"] <= star["true_reward"] - star["kl"] + 1e-9
