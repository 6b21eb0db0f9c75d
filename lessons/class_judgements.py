"""A class's own judgements as preference data: which pairs students are shown, how their
choices become the (prompt, chosen, rejected) pairs the tiny LM trains on, how often they agree
with the hidden taste, and where they disagree with each other.

A judgement is what classroom.store keeps: an ``item`` naming the pair and a ``choice`` naming
the winner. For the tiny LM's replies the item is "replies:<prompt>:<a>:<b>" (reply indices of
lessons.toy_lm) and the choice is the winner's index; for the Bradley–Terry lesson's items it
is "items:<i>:<j>" with the winning item's index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from lessons import toy_lm as lm

REPLIES, ITEMS = "replies", "items"


def reply_item(prompt: int, first: int, second: int) -> str:
    """The store's name of a pair of replies to a prompt.

    Example: reply_item(1, 3, 17) -> "replies:1:3:17"
    """
    return f"{REPLIES}:{int(prompt)}:{int(first)}:{int(second)}"


def item_pair(first: int, second: int) -> str:
    """The store's name of a pair of items.

    Example: item_pair(2, 5) -> "items:2:5"
    """
    return f"{ITEMS}:{int(first)}:{int(second)}"


def parse_item(item: str) -> tuple[str, tuple[int, ...]]:
    """(kind, indices) of a pair's name; ValueError for anything else.

    Example: parse_item("replies:1:3:17") -> ("replies", (1, 3, 17))
    """
    kind, _, rest = str(item).partition(":")
    try:
        numbers = tuple(int(part) for part in rest.split(":"))
    except ValueError:
        numbers = ()
    if (kind, len(numbers)) not in ((REPLIES, 3), (ITEMS, 2)) or min(numbers, default=-1) < 0:
        raise ValueError(f"{str(item)[:40]!r} does not name a pair of replies or items.")
    return kind, numbers


def reply_pool(task: lm.Task, n_pairs: int, seed: int = 0) -> np.ndarray:
    """The pairs a class is shown: n_pairs (prompt, a, b) rows, a ≠ b drawn from π_ref, as
    the simulated annotator's pairs are (lessons.toy_lm.preference_pairs), but unlabelled:
    the class labels them. Shape (n_pairs, 3). Seeded, so every student sees the same pool.
    """
    pairs = lm.preference_pairs(task, n_pairs, seed=seed)
    # preference_pairs orders each pair by its own annotator's verdict; shuffle that away
    # its own stream ([seed, "pool"]), independent of any other draw seeded with ``seed``
    swap = np.random.default_rng([int(seed), 1]).random(n_pairs) < 0.5
    first = np.where(swap, pairs["rejected"], pairs["chosen"])
    second = np.where(swap, pairs["chosen"], pairs["rejected"])
    return np.stack([pairs["prompt"], first, second], axis=1)


def student_order(n_pairs: int, student: int, seed: int = 0) -> np.ndarray:
    """The order in which student number ``student`` meets the pool's pairs: a permutation,
    different for each student, so the whole pool is covered by a class quickly and most
    pairs are judged by several students.

    Example: sorted(student_order(4, 2)) -> [0, 1, 2, 3]
    """
    return np.random.default_rng([int(seed), 3, int(student)]).permutation(int(n_pairs))


def class_pairs(task: lm.Task, judgements: Iterable[Mapping]) -> dict:
    """The class's judgements of replies as lessons.toy_lm preference pairs.

    Judgements whose item names no pair of this task's replies, or whose choice is neither
    reply, are skipped. Returns {"prompt", "chosen", "rejected", "agrees", "student"} arrays,
    "agrees" as in preference_pairs (the chosen reply's true reward is at least the other's).
    """
    rows = []
    for judgement in judgements:
        try:
            kind, (prompt, first, second) = parse_item(judgement["item"])
            choice = int(judgement["choice"])
        except (ValueError, KeyError, TypeError):
            continue
        if kind != REPLIES or prompt >= len(task.prompts) or max(first, second) >= \
                task.n_replies or first == second or choice not in (first, second):
            continue
        rejected = second if choice == first else first
        rows.append((prompt, choice, rejected, str(judgement.get("student", ""))))
    prompt = np.array([r[0] for r in rows], dtype=int)
    chosen = np.array([r[1] for r in rows], dtype=int)
    rejected = np.array([r[2] for r in rows], dtype=int)
    rewards = task.true_rewards
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected,
            "agrees": rewards[prompt, chosen] >= rewards[prompt, rejected],
            "student": np.array([r[3] for r in rows], dtype=object)}


def agreement(pairs: Mapping) -> float:
    """The share of pairs in which the chosen reply is (at least as good) by the hidden taste;
    NaN without pairs.

    Example: agreement({"agrees": np.array([True, True, False, True])}) -> 0.75
    """
    agrees = np.asarray(pairs["agrees"], dtype=bool)
    return float(agrees.mean()) if agrees.size else float("nan")


def votes(judgements: Iterable[Mapping]) -> dict[str, dict[str, int]]:
    """For every item: how many judgements chose each answer, counting each student once
    (their latest answer).

    Example: votes([{"item": "p", "choice": "1", "student": "a"},
                    {"item": "p", "choice": "2", "student": "b"}]) -> {"p": {"1": 1, "2": 1}}
    """
    latest: dict[tuple[str, str], str] = {}
    for judgement in judgements:
        latest[(judgement["item"], str(judgement.get("student", "")))] = judgement["choice"]
    counts: dict[str, dict[str, int]] = {}
    for (item, _), choice in latest.items():
        counts.setdefault(item, {})
        counts[item][choice] = counts[item].get(choice, 0) + 1
    return counts


def split_items(counts: Mapping[str, Mapping[str, int]], min_votes: int = 2) -> list[tuple]:
    """Items the class disagreed on, most evenly split first: (item, votes of the majority,
    votes of the rest), for items with at least ``min_votes`` votes and more than one answer.

    Example: split_items({"p": {"1": 2, "2": 2}, "q": {"1": 3}}) -> [("p", 2, 2)]
    """
    split = []
    for item, by_choice in counts.items():
        total, top = sum(by_choice.values()), max(by_choice.values())
        if total >= min_votes and top < total:
            split.append((item, top, total - top))
    return sorted(split, key=lambda row: (row[1] / (row[1] + row[2]), -(row[1] + row[2])))


def item_wins(n_items: int, judgements: Iterable[Mapping]) -> np.ndarray:
    """wins[i, j] = how many judgements chose item i over item j (a Bradley–Terry win matrix,
    see lessons.bradley_terry.fit_scores); judgements of other pairs are skipped.

    Example: item_wins(2, [{"item": "items:0:1", "choice": "1"}]) -> array([[0, 0], [1, 0]])
    """
    wins = np.zeros((n_items, n_items), dtype=int)
    for judgement in judgements:
        try:
            kind, (first, second) = parse_item(judgement["item"])
            choice = int(judgement["choice"])
        except (ValueError, KeyError, TypeError):
            continue
        if kind != ITEMS or max(first, second) >= n_items or first == second \
                or choice not in (first, second):
            continue
        loser = second if choice == first else first
        wins[choice, loser] += 1
    return wins


def relabel(task: lm.Task, pairs: Mapping, seed: int = 0, noise: float = 1.0) -> dict:
    """The same pairs labelled by lessons.toy_lm's simulated annotator instead of the class:
    each pair keeps its prompt and its two replies, the annotator picks one with the
    Bradley–Terry probability σ((r_a − r_b)/noise) of their true rewards. Seeded.
    """
    prompt = np.asarray(pairs["prompt"], dtype=int)
    first, second = np.asarray(pairs["chosen"], dtype=int), np.asarray(pairs["rejected"], dtype=int)
    rewards = task.true_rewards
    p_first = lm.annotator_probability(rewards[prompt, first], rewards[prompt, second], noise)
    first_wins = np.random.default_rng([int(seed), 2]).random(prompt.size) < p_first
    chosen = np.where(first_wins, first, second)
    rejected = np.where(first_wins, second, first)
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected,
            "agrees": rewards[prompt, chosen] >= rewards[prompt, rejected]}


def what_the_class_taught(task: lm.Task, pairs: Mapping, beta: float = 1.0, seed: int = 0,
                          dpo_steps: int = 150) -> dict:
    """The class's pairs against the same pairs labelled by the simulated annotator: how often
    each agrees with the hidden taste, how well a reward model trained on each ranks every
    reply (lessons.toy_lm.train_reward_model), and where a DPO run on each ends on the exact
    reward–KL plane (expected true reward and KL(π‖π_ref), nats), next to π*_β, the best a
    policy can do at that β.

    Returns {"pairs": n, "agreement": {"class", "simulated"}, "reward_model_accuracy":
    {"class", "simulated"}, "dpo": {"class": {"true_reward", "kl"}, "simulated": {...}},
    "optimum": {"true_reward", "kl"}, "reference": {"true_reward", "kl"}}.
    """
    simulated = relabel(task, pairs, seed)
    report: dict = {"pairs": int(len(pairs["prompt"])), "agreement": {}, "dpo": {},
                    "reward_model_accuracy": {}}
    for name, labelled in (("class", pairs), ("simulated", simulated)):
        report["agreement"][name] = agreement(labelled)
        report["reward_model_accuracy"][name] = lm.train_reward_model(task, labelled)["accuracy"]
        final = lm.train_dpo(task, labelled, beta=beta, steps=dpo_steps)["history"]
        report["dpo"][name] = {"true_reward": float(final["true_reward"][-1]),
                               "kl": float(final["kl"][-1])}
    star = lm.optimum(task, beta)
    report["optimum"] = {"true_reward": lm.expected_reward(star, task.true_rewards),
                         "kl": lm.exact_kl(star, task.ref_probs)}
    report["reference"] = {"true_reward": lm.expected_reward(task.ref_probs,
                                                              task.true_rewards), "kl": 0.0}
    return report
