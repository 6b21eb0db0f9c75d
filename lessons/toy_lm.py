"""A tiny language model you can read in full: the lab of the RLHF, PPO and DPO lessons.

The task. After a prompt such as "The food was", the model writes a short review: up to
MAX_WORDS words from a vocabulary of seven (great, good, okay, bad, awful, really, not), then the
end token "." (a reply that reaches MAX_WORDS words is cut there, as max_new_tokens does). Every
reply can be listed, 7 + 49 + 343 = 399 per prompt, so expected rewards and KL divergences are
exact sums over all replies, never estimates.

The model is a policy. The state is the prompt plus the words so far (a node of the prefix tree),
the action is the next token, and by the chain rule

    π(y|x) = Π_t π(y_t | x, y_<t),     log π(y|x) = Σ_t log π(y_t | x, y_<t)

(`next_token_logprobs`, `sequence_logprobs`, `distribution`). The policy is a table: one vector
of logits for every (prompt, node), an array of shape (P, N, A) = (prompts, tree nodes, tokens).
So any distribution over replies can be represented (`logits_for`), including the optimum
π*(y|x) ∝ π_ref(y|x)·exp(r(x, y)/β) of RLHF (Eq. 4 of Rafailov et al. 2023, `optimum`).

The reference ("SFT") model is a bigram model written by hand: fluent (after "really" comes a
sentiment word, after a sentiment word usually the end) but not aligned: it says "awful" about as
readily as "great". The hidden true reward (`taste`) is a reader's sentiment with a twist: a
repeated word or a dangling "really"/"not" costs a point, which a reward model that only counts
words cannot see (`reply_features`). A Bradley–Terry annotator (`annotator_probability`,
`preference_pairs`) labels pairs sampled from the reference, with adjustable noise.

Training loops, all on the same tabular policy with analytic gradients (`sequence_gradient`,
`token_gradient`: softmax at every visited node, checked against finite differences in the
tests) and Adam:
  - `train_dpo`            DPO and its TRL loss types, on a fixed set of pairs;
  - `train_reward_model`   a linear Bradley–Terry reward model over reply features;
  - `train_ppo_rlhf`       PPO against a reward-model score (or the true reward) minus β·KL;
  - `train_preferred_ft`   supervised fine-tuning on the chosen replies only.
Each returns {"logits": the final policy, "history": a dict of numpy arrays per step}. History
convention: "step" = 0..steps; exact metrics ("true_reward", "kl", ...) describe the policy after
that many updates (step 0 is the starting policy); batch metrics ("loss", "rewards/chosen", ...)
are logged by update `step` on its batch before it updates, as TRL logs them (NaN at step 0).

Probabilities and KL are in nats; prompts are equally likely, so an expectation over prompts is
the mean over the P prompts. Everything is numpy; randomness takes an explicit seed. Bad input
raises ValueError with a message a learner can act on.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy import special

from lessons import bradley_terry as bt
from lessons import dpo, ppo, rlhf

# The vocabulary, the prompts and the reference model

WORDS = ("great", "good", "okay", "bad", "awful", "really", "not")
END = "."
MAX_WORDS = 3
# How the reference model opens a reply after each prompt: P(first word), in the order of WORDS.
OPENINGS = {
    "The food was": (0.14, 0.22, 0.16, 0.16, 0.10, 0.12, 0.10),
    "The service was": (0.08, 0.16, 0.18, 0.20, 0.14, 0.12, 0.12),
}
PROMPTS = tuple(OPENINGS)
# P(next token | previous word) of the reference: columns WORDS + (END,).
_AFTER_SENTIMENT = (0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.72)
BIGRAMS = {
    "great": _AFTER_SENTIMENT,
    "good": _AFTER_SENTIMENT,
    "okay": _AFTER_SENTIMENT,
    "bad": _AFTER_SENTIMENT,
    "awful": _AFTER_SENTIMENT,
    "really": (0.30, 0.30, 0.04, 0.14, 0.14, 0.04, 0.02, 0.02),
    "not": (0.14, 0.28, 0.12, 0.30, 0.06, 0.06, 0.02, 0.02),
}

# The hidden human taste
SENTIMENT = {"great": 2.0, "good": 1.0, "okay": 0.0, "bad": -1.0, "awful": -2.0}
MODIFIERS = {"really": 1.5, "not": -0.5}  # multiply the next sentiment word
REPEAT_PENALTY = 1.0  # a word said again adds nothing and costs this
DANGLING_PENALTY = 1.0  # a "really"/"not" with no sentiment word after it

FEATURE_SETS = ("words", "words + repeats")
MAX_TEMPERATURE = 100.0
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


def _frozen(array):
    array = np.asarray(array)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Task:
    """The toy task: prompts, vocabulary, every reply, the prefix tree, π_ref and the true reward.

    Shapes: P prompts, V words, A = V + 1 tokens (the words, then END), N tree nodes (every
    prefix of fewer than max_words words), S replies, T = max_words decisions at most per reply.
    """

    prompts: tuple[str, ...]
    words: tuple[str, ...]
    max_words: int
    replies: tuple[tuple[int, ...], ...]  # (S,) word ids of every reply, shortest first
    texts: tuple[str, ...]  # (S,) "really good." ("." marks the end token)
    prefixes: tuple[tuple[int, ...], ...]  # (N,) the words so far at every node; node 0 = root
    step_node: np.ndarray  # (S, T) node of each decision of each reply (0 where padded)
    step_action: np.ndarray  # (S, T) token chosen at that decision (0 where padded)
    step_mask: np.ndarray  # (S, T) True for a real decision
    step_flat: np.ndarray  # (S, T) node·A + token: the decision's index in a flattened node row
    allowed: np.ndarray  # (N, A) False for END at the root: a reply has at least one word
    ref_logits: np.ndarray  # (P, N, A) the reference model (log-probabilities)
    true_rewards: np.ndarray  # (P, S) the hidden taste of every reply
    ref_logps: np.ndarray  # (P, S) log π_ref(y|x) of every reply
    ref_probs: np.ndarray  # (P, S) π_ref(y|x)

    @property
    def tokens(self) -> tuple[str, ...]:
        return (*self.words, END)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(P, N, A): the shape of a policy's logits."""
        return self.ref_logits.shape

    @property
    def n_replies(self) -> int:
        return len(self.replies)


def _check_prompts(prompts):
    prompts = tuple(prompts)
    unknown = [p for p in prompts if p not in OPENINGS]
    if not prompts or unknown or len(set(prompts)) != len(prompts):
        raise ValueError(f"Prompts must be distinct ones of: {', '.join(OPENINGS)}.")
    return prompts


def make_task(prompts=PROMPTS, max_words=MAX_WORDS):
    """The toy task for these prompts, with replies of 1..max_words words (cached; read-only).

    Example: make_task().n_replies -> 399 (7 + 49 + 343);  make_task().shape -> (2, 57, 8)
    """
    prompts = _check_prompts(prompts)
    if isinstance(max_words, bool) or not isinstance(max_words, numbers.Integral) \
            or not 1 <= max_words <= 4:
        raise ValueError(f"max_words must be a whole number from 1 to 4, got {max_words!r}.")
    return _build_task(prompts, int(max_words))


@functools.cache
def _build_task(prompts, max_words):
    n_words, n_tokens, end = len(WORDS), len(WORDS) + 1, len(WORDS)
    prefixes = [p for k in range(max_words) for p in itertools.product(range(n_words), repeat=k)]
    node_of = {p: i for i, p in enumerate(prefixes)}
    replies = [r for k in range(1, max_words + 1)
               for r in itertools.product(range(n_words), repeat=k)]
    n_nodes, n_replies = len(prefixes), len(replies)
    step_node = np.zeros((n_replies, max_words), dtype=int)
    step_action = np.zeros((n_replies, max_words), dtype=int)
    step_mask = np.zeros((n_replies, max_words), dtype=bool)
    for s, reply in enumerate(replies):
        actions = list(reply) + ([end] if len(reply) < max_words else [])
        for t, action in enumerate(actions):
            step_node[s, t], step_action[s, t], step_mask[s, t] = node_of[reply[:t]], action, True
    flat = step_node * n_tokens + step_action
    allowed = np.ones((n_nodes, n_tokens), dtype=bool)
    allowed[0, end] = False
    ref = np.empty((len(prompts), n_nodes, n_tokens))
    for i, prefix in enumerate(prefixes):
        if prefix:
            ref[:, i] = np.log(BIGRAMS[WORDS[prefix[-1]]])
        else:
            ref[:, i, :end] = np.log([OPENINGS[p] for p in prompts])
            ref[:, i, end] = 0.0  # masked: END cannot start a reply
    texts = tuple(reply_text(r, max_words) for r in replies)
    rewards = np.array([taste([WORDS[w] for w in r]) for r in replies])
    ref_logps = _gather(_log_softmax(allowed, ref), np.where(step_mask, flat, 0), step_mask)
    return Task(
        prompts=prompts, words=WORDS, max_words=max_words, replies=tuple(replies), texts=texts,
        prefixes=tuple(prefixes), step_node=_frozen(step_node), step_action=_frozen(step_action),
        step_mask=_frozen(step_mask), step_flat=_frozen(np.where(step_mask, flat, 0)),
        allowed=_frozen(allowed), ref_logits=_frozen(ref),
        true_rewards=_frozen(np.tile(rewards, (len(prompts), 1))),
        ref_logps=_frozen(ref_logps), ref_probs=_frozen(np.exp(ref_logps)),
    )


def reply_text(word_ids, max_words=MAX_WORDS):
    """The reply as text: its words, then "." if it ended before max_words words.

    Example: reply_text((5, 0)) -> "really great."
    """
    text = " ".join(WORDS[w] for w in word_ids)
    return text + END if len(word_ids) < max_words else text


def parse_reply(task, text):
    """Word ids of a typed reply ("really good" or "really good."); ValueError if it is not one.

    The end token may be typed as a final "." (it is implied anyway). An empty text is the
    empty prefix (). Example: parse_reply(make_task(), "really good.") -> (5, 1)
    """
    if not isinstance(text, str):
        raise ValueError("A reply must be text.")
    cleaned = text.strip().lower()
    cleaned = cleaned[:-1].rstrip() if cleaned.endswith(END) else cleaned
    words = cleaned.split()
    unknown = [w for w in words if w not in task.words]
    if unknown:
        raise ValueError(f"'{unknown[0][:20]}' is not in the vocabulary: use only "
                         f"{', '.join(task.words)}.")
    if len(words) > task.max_words:
        raise ValueError(f"That is {len(words)} words: replies have at most {task.max_words}.")
    return tuple(task.words.index(w) for w in words)


def reply_index(task, word_ids):
    """The index (0..S−1) of the reply with these word ids. Example: reply_index(t, (0,)) -> 0"""
    word_ids = tuple(int(w) for w in word_ids)
    if not 1 <= len(word_ids) <= task.max_words:
        raise ValueError(f"A reply has 1 to {task.max_words} words, not {len(word_ids)}.")
    n = len(task.words)
    before = sum(n**k for k in range(1, len(word_ids)))
    return before + sum(w * n ** (len(word_ids) - 1 - i) for i, w in enumerate(word_ids))


def node_index(task, prefix):
    """The tree node (0..N−1) of the prefix (word ids so far). Example: node_index(t, ()) -> 0"""
    prefix = tuple(int(w) for w in prefix)
    if len(prefix) >= task.max_words:
        raise ValueError(f"A prefix of {len(prefix)} words is already a finished reply.")
    n = len(task.words)
    return sum(n**k for k in range(len(prefix))) + sum(
        w * n ** (len(prefix) - 1 - i) for i, w in enumerate(prefix))


# The hidden human taste


def taste_terms(words):
    """The reader's verdict on a reply, word by word: a list of (word, points, why).

    sentiment word: its SENTIMENT value, times the product of MODIFIERS just before it;
    a word said before: −REPEAT_PENALTY and nothing else; a "really"/"not" left without a
    sentiment word after it: −DANGLING_PENALTY (charged at the end).
    Example: [p for _, p, _ in taste_terms(["not", "bad"])] -> [0.0, 0.5]
    """
    terms, seen, factor, pending = [], set(), 1.0, []
    for word in words:
        if word not in SENTIMENT and word not in MODIFIERS:
            raise ValueError(f"'{word}' is not in the vocabulary.")
        if word in seen:
            terms.append((word, -REPEAT_PENALTY, "said before"))
        elif word in MODIFIERS:
            factor *= MODIFIERS[word]
            pending.append(word)
            terms.append((word, 0.0, f"×{MODIFIERS[word]:g} on the next sentiment word"))
        else:
            points = factor * SENTIMENT[word]
            why = "sentiment" if factor == 1 else f"sentiment {SENTIMENT[word]:g} × {factor:g}"
            terms.append((word, points, why))
            factor, pending = 1.0, []
        seen.add(word)
    if pending:
        terms.append((END, -DANGLING_PENALTY, f"'{pending[-1]}' left dangling"))
    return terms


def taste(words):
    """r(y) = Σ points of `taste_terms`: the hidden reward of a reply (a list of words).

    Example: taste(["really", "great"]) -> 3.0;  taste(["great", "great"]) -> 1.0
    """
    return float(sum(points for _, points, _ in taste_terms(words)))


# The policy: next-token probabilities, sequence log-probabilities, the exact distribution


def _check_logits(task, logits):
    logits = np.asarray(logits, dtype=float)
    if logits.shape != task.shape:
        raise ValueError(f"logits must have shape {task.shape} (prompts, nodes, tokens), "
                         f"got {logits.shape}.")
    if not np.isfinite(np.where(task.allowed, logits, 0.0)).all():
        raise ValueError("logits contain NaN or infinity.")
    return logits


def _check_temperature(temperature):
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) \
            or not 0 < temperature <= MAX_TEMPERATURE:
        raise ValueError(f"The temperature must be a number in (0, {MAX_TEMPERATURE:g}], got "
                         f"{temperature!r}.")
    return float(temperature)


def _log_softmax(allowed, logits):
    """log softmax over the last axis, −inf where not allowed (no input checks: the hot path)."""
    z = np.where(allowed, logits, -np.inf)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _gather(logp, step_flat, step_mask):
    """Σ_t log π(decision t) of every reply: (P, N, A) table -> (P, S)."""
    table = logp.reshape(logp.shape[0], -1)
    return np.where(step_mask, table[:, step_flat], 0.0).sum(axis=-1)


def next_token_logprobs(task, logits, temperature=1.0):
    """log π(a | x, node) = log softmax(logits/T) over the allowed tokens of every node.

    logits: (P, N, A). Returns (P, N, A), −inf where a token is not allowed (END at the root).
    Example: np.exp(next_token_logprobs(t, t.ref_logits))[0, 0, :3] -> [0.14, 0.22, 0.16]
    """
    logits = _check_logits(task, logits) / _check_temperature(temperature)
    return _log_softmax(task.allowed, logits)


def sequence_logprobs(task, logits, temperature=1.0):
    """log π(y|x) = Σ_t log π(y_t | x, y_<t) for every prompt and reply (the chain rule).

    Vectorised: gather each reply's decisions from the table of next-token log-probs and add.
    Returns (P, S). Example: sequence_logprobs(t, t.ref_logits)[0, 0] -> log(0.14·0.72)
    """
    logp = next_token_logprobs(task, logits, temperature)
    return _gather(logp, task.step_flat, task.step_mask)


def distribution(task, logits, temperature=1.0):
    """π(y|x) for every prompt and reply: exact, (P, S), each row sums to 1.

    With T ≠ 1 every next-token softmax is tempered (as a sampler does), so this is the
    distribution of replies sampled at temperature T.
    """
    return np.exp(sequence_logprobs(task, logits, temperature))


def token_logprobs(task, logits, prompt, reply):
    """log π(y_t | x, y_<t) of each decision of the given replies, 0 where padded.

    prompt, reply: (B,) indices. Returns (logps (B, T), mask (B, T)); logps.sum(1) is the
    reply's log-probability.
    """
    prompt, reply = np.asarray(prompt, dtype=int), np.asarray(reply, dtype=int)
    logp = next_token_logprobs(task, logits)
    nodes, actions, mask = task.step_node[reply], task.step_action[reply], task.step_mask[reply]
    values = logp[prompt[:, None], nodes, actions]
    return np.where(mask, values, 0.0), mask


def logits_for(task, probs):
    """Tabular logits whose distribution over replies is `probs` (P, S): any π is representable.

    π(a | node) = (mass of replies through node then a) / (mass through node); a node no reply
    reaches gets the uniform distribution. Example: distribution(t, logits_for(t, p)) ≈ p
    """
    probs = np.asarray(probs, dtype=float)
    if probs.shape != (len(task.prompts), task.n_replies):
        raise ValueError(f"probs must have shape {(len(task.prompts), task.n_replies)}.")
    if not np.all(np.isfinite(probs)) or np.any(probs < 0) \
            or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("probs must be a distribution over the replies for every prompt: "
                         "numbers >= 0 that add up to 1 per row.")
    flow = _decision_totals(task, probs)
    mass = flow.sum(axis=-1, keepdims=True)
    uniform = task.allowed / task.allowed.sum(axis=-1, keepdims=True)
    cond = np.where(mass > 0, flow / np.where(mass > 0, mass, 1.0), uniform)
    with np.errstate(divide="ignore"):
        return np.where(task.allowed, np.log(np.maximum(cond, 1e-300)), 0.0)


def sample(task, logits, n, seed=0, temperature=1.0, prompt=None):
    """Draw n replies at temperature T: (prompt (n,), reply (n,)) index arrays, seeded.

    Drawing from the exact distribution over replies is the same as sampling token by token
    (chain rule), only vectorised. prompt: an index to use one prompt, None for a uniform one.
    """
    n = _check_count("n", n, 1, 1_000_000)
    rng = np.random.default_rng(seed)
    probs = distribution(task, logits, temperature)
    prompts = (rng.integers(len(task.prompts), size=n) if prompt is None
               else np.full(n, _check_prompt_index(task, prompt)))
    return prompts, _draw(probs, prompts, rng.random(n))


def _draw(probs, prompts, uniforms):
    """Inverse-CDF draws: reply indices for the given prompts and uniforms in [0, 1)."""
    cdf = np.cumsum(probs, axis=-1)
    out = np.empty(len(prompts), dtype=int)
    for p in range(probs.shape[0]):
        rows = prompts == p
        out[rows] = np.searchsorted(cdf[p], uniforms[rows] * cdf[p, -1], side="right")
    return np.minimum(out, probs.shape[1] - 1)


def _check_prompt_index(task, prompt):
    if isinstance(prompt, bool) or not isinstance(prompt, numbers.Integral) \
            or not 0 <= prompt < len(task.prompts):
        raise ValueError(f"prompt must be an index 0..{len(task.prompts) - 1}, got {prompt!r}.")
    return int(prompt)


# Exact expectations over all replies


def expected_reward(probs, rewards):
    """E_x E_{y~π(·|x)}[r(x, y)], prompts equally likely: mean over prompts of Σ_y π·r.

    probs, rewards: (P, S). Example: expected_reward(distribution(t, t.ref_logits),
    t.true_rewards) is the reference's average taste.
    """
    return float(np.mean(rlhf.expected_reward(probs, rewards)))


def exact_kl(probs, ref_probs):
    """E_x KL(π(·|x) ‖ π_ref(·|x)) in nats, summed exactly over every reply; (P, S) inputs."""
    return float(np.mean(rlhf.policy_kl(probs, ref_probs)))


def optimum(task, beta, rewards=None):
    """π*(y|x) = π_ref(y|x)·exp(r(x, y)/β) / Z(x)   (Eq. 4 of Rafailov et al. 2023), (P, S).

    rewards: (P, S) scores (default: the true reward). The maximiser of E[r] − β·KL(π‖π_ref).
    """
    rewards = task.true_rewards if rewards is None else rewards
    return rlhf.optimal_policy(task.ref_probs, rewards, beta)


def entropy(probs):
    """H(π(·|x)) = −Σ_y π·log π per prompt, in nats: (P,) for probs (P, S)."""
    return -special.xlogy(probs, probs).sum(axis=-1)


def exact_metrics(task, logits, scores=None, beta=None, target=None):
    """The exact numbers a training history records for a policy, means over prompts:
    true_reward E[r], kl KL(π‖π_ref), entropy H(π); with scores (P, S): score E[scores]; with
    scores and β: objective E[scores] − β·KL (rlhf.kl_regularised_objective); with a target
    distribution (P, S), e.g. the optimum π*: kl_to_target KL(π‖target)."""
    probs = distribution(task, logits)
    out = {"true_reward": expected_reward(probs, task.true_rewards),
           "kl": exact_kl(probs, task.ref_probs), "entropy": float(np.mean(entropy(probs)))}
    if scores is not None:
        out["score"] = expected_reward(probs, scores)
        if beta is not None:
            out["objective"] = float(np.mean(rlhf.kl_regularised_objective(
                probs, task.ref_probs, scores, beta)))
    if target is not None:
        out["kl_to_target"] = exact_kl(probs, target)
    return out


# What the lesson page shows: the tree, a reply decision by decision, the reward's spread


def prefix_tree(task, logits, prompt, temperature=1.0):
    """The prefix tree of one prompt, for a sunburst/icicle: one row per node and per leaf.

    Returns a dict of equal-length lists: ids ("really/great"), parents ("" for the root's
    children, whose parent is the prompt), labels (the token), path_prob (probability of
    reaching it from the prompt = product of next-token probabilities on the way), next_prob
    (the last step's π(token | parent)), depth (1 = first token).
    """
    prompt = _check_prompt_index(task, prompt)
    probs = distribution(task, logits, temperature)
    flow = _decision_totals(task, probs)[prompt]  # probability of every (node, token) edge
    cond = np.exp(next_token_logprobs(task, logits, temperature))[prompt]
    out = {k: [] for k in ("ids", "parents", "labels", "path_prob", "next_prob", "depth")}
    tokens = task.tokens
    for node, prefix in enumerate(task.prefixes):
        parent = "/".join(task.words[w] for w in prefix)
        for action in np.flatnonzero(task.allowed[node]):
            out["ids"].append(f"{parent}/{tokens[action]}" if parent else tokens[action])
            out["parents"].append(parent)
            out["labels"].append(tokens[action])
            out["path_prob"].append(float(flow[node, action]))
            out["next_prob"].append(float(cond[node, action]))
            out["depth"].append(len(prefix) + 1)
    return out


def decision_steps(task, logits, prompt, word_ids, finished=False):
    """A reply written decision by decision: for each token, π(token | prompt, words so far),
    its log and the running sum Σ log π (the chain rule, one term at a time).

    word_ids: the words so far; finished: the end token was chosen (implied at max_words).
    Returns a dict of lists: context (the text before the token), token, prob, logprob,
    cumulative; total_logprob (the last running sum, 0 for no tokens) and total_prob (its
    exponential, the product of the probs); and next_probs (A,): the next-token distribution
    where the reply stands (all 0 when it is finished).
    Example: decision_steps(t, t.ref_logits, 0, (5, 0), True)["cumulative"][-1]
             -> log(0.12·0.30·0.72)
    """
    prompt = _check_prompt_index(task, prompt)
    word_ids = tuple(int(w) for w in word_ids)
    if len(word_ids) > task.max_words or (finished and not word_ids):
        raise ValueError(f"A reply has 1 to {task.max_words} words before it ends.")
    logp = next_token_logprobs(task, logits)[prompt]
    end = len(task.words)
    actions = list(word_ids) + ([end] if finished and len(word_ids) < task.max_words else [])
    out = {k: [] for k in ("context", "token", "prob", "logprob", "cumulative")}
    total = 0.0
    for t, action in enumerate(actions):
        value = float(logp[node_index(task, word_ids[:t]), action])
        total += value
        out["context"].append(" ".join([task.prompts[prompt], *(task.words[w]
                                                                for w in word_ids[:t])]))
        out["token"].append(task.tokens[action])
        out["prob"].append(math.exp(value))
        out["logprob"].append(value)
        out["cumulative"].append(total)
    out["total_logprob"], out["total_prob"] = total, math.exp(total)
    done = finished or len(word_ids) == task.max_words
    out["next_probs"] = (np.zeros(len(task.tokens)) if done
                         else np.exp(logp[node_index(task, word_ids)]))
    return out


def most_likely(probs, k):
    """Indices of the k most probable replies of one prompt's distribution (S,), best first.

    Ties keep the enumeration order. Example: most_likely([0.2, 0.5, 0.3], 2) -> [1, 2]
    """
    return np.argsort(-np.asarray(probs, dtype=float), kind="stable")[:k]


def reward_histogram(rewards, probs):
    """The distribution of the reward when y ~ π: (distinct values (m,), P(r = value) (m,)).

    rewards, probs: (S,) of one prompt. Example: reward_histogram([1, 0, 1], [.2, .5, .3])
    -> ([0, 1], [0.5, 0.5])
    """
    values, inverse = np.unique(np.asarray(rewards, dtype=float), return_inverse=True)
    return values, np.bincount(inverse, weights=np.asarray(probs, dtype=float),
                               minlength=len(values))


# Gradients: softmax at every visited node


def sequence_gradient(task, logits, weights):
    """∂/∂logits of Σ_{x,y} W[x, y]·log π(y|x):  Σ over the decisions (node, a) of each reply
    of W·(onehot(a) − π(·|node))   (d log softmax(z)_a / dz = onehot(a) − softmax(z)).

    weights: (P, S). Returns (P, N, A), zero at tokens that are not allowed.
    """
    return _from_counts(task, logits, _decision_totals(task, np.asarray(weights, dtype=float)))


def _decision_totals(task, weights):
    """counts[x, n, a] = Σ of W[x, y] over the replies y that take token a at node n: (P, N, A).

    With W = π this is the probability flowing through each edge of the prefix tree."""
    index, source = _decisions(task)
    counts = np.bincount(index, weights=weights.ravel()[source], minlength=math.prod(task.shape))
    return counts.reshape(task.shape)


@functools.cache
def _decisions(task):
    """For every (prompt, reply, decision): its index in the flattened (P, N, A) table, and the
    index of its (prompt, reply) in a flattened (P, S) array."""
    n_prompts, n_nodes, n_tokens = task.shape
    prompt = np.arange(n_prompts)[:, None, None]
    index = prompt * n_nodes * n_tokens + task.step_flat[None]
    source = prompt * task.n_replies + np.arange(task.n_replies)[None, :, None]
    mask = np.broadcast_to(task.step_mask, index.shape)
    return index[mask], np.broadcast_to(source, index.shape)[mask]


def token_gradient(task, logits, prompt, node, action, weights):
    """∂/∂logits of Σ_i w_i·log π(a_i | x_i, node_i) for a batch of single decisions.

    prompt, node, action, weights: same-shape arrays (padding: weight 0). Returns (P, N, A).
    """
    n_prompts, n_nodes, n_tokens = task.shape
    flat = (np.asarray(prompt) * n_nodes + np.asarray(node)) * n_tokens + np.asarray(action)
    counts = np.bincount(flat.ravel(), weights=np.asarray(weights, dtype=float).ravel(),
                         minlength=n_prompts * n_nodes * n_tokens).reshape(task.shape)
    return _from_counts(task, logits, counts)


def _from_counts(task, logits, counts):
    """counts[x, n, a] = total weight of decisions (n, a): gradient = counts − Σ_a counts·π."""
    probs = np.exp(_log_softmax(task.allowed, _check_logits(task, logits)))
    return counts - counts.sum(axis=-1, keepdims=True) * probs


def _adam(params, grad, state, lr):
    """One Adam step (Kingma & Ba 2015, Algorithm 1) on a loss's gradient; state is updated."""
    b1, b2 = ADAM_BETAS
    state["t"] += 1
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad**2
    m_hat = state["m"] / (1 - b1 ** state["t"])
    v_hat = state["v"] / (1 - b2 ** state["t"])
    return params - lr * m_hat / (np.sqrt(v_hat) + ADAM_EPS)


def _adam_state(params):
    return {"t": 0, "m": np.zeros_like(params), "v": np.zeros_like(params)}


# The annotator and the preference data


def annotator_probability(reward_first, reward_second, noise=1.0, flip=0.0):
    """P(first ≻ second) = (1 − f)·σ((r₁ − r₂)/τ) + f·σ((r₂ − r₁)/τ)   (Bradley–Terry, noise τ)

    τ = noise: 0 always picks the higher reward (a tie is a coin flip), 1 is Bradley–Terry with
    the true reward, larger is more random. f = flip: the chance a label is then written the
    wrong way round (a careless annotator; conservative DPO's label_smoothing assumes it).
    Example: annotator_probability(1.0, 0.0) -> 0.7311
    """
    noise, flip = _check_noise(noise), _check_flip(flip)
    gap = np.asarray(reward_first, dtype=float) - np.asarray(reward_second, dtype=float)
    if noise == 0:
        p = np.where(gap > 0, 1.0, np.where(gap < 0, 0.0, 0.5))
    else:
        p = bt.win_probability(gap / noise, 0.0)
    p = (1 - flip) * np.asarray(p) + flip * (1 - np.asarray(p))
    return float(p) if np.ndim(p) == 0 else p


def preference_pairs(task, n_pairs, seed=0, noise=1.0, flip=0.0, logits=None):
    """n_pairs labelled pairs: a prompt, two different replies sampled from the policy (the
    reference by default), and the annotator's verdict. Seeded.

    Returns a dict of (n_pairs,) arrays: prompt, chosen, rejected (reply indices), agrees (the
    chosen reply has the higher true reward, or an equal one).
    """
    n_pairs = _check_count("n_pairs", n_pairs, 1, 1_000_000)
    noise, flip = _check_noise(noise), _check_flip(flip)
    rng = np.random.default_rng(seed)
    probs = distribution(task, task.ref_logits if logits is None else logits)
    prompt = rng.integers(len(task.prompts), size=n_pairs)
    first = _draw(probs, prompt, rng.random(n_pairs))
    second = _draw(probs, prompt, rng.random(n_pairs))
    for _ in range(1000):  # two different replies: redraw the second of identical pairs
        same = first == second
        if not same.any():
            break
        second[same] = _draw(probs, prompt[same], rng.random(int(same.sum())))
    rewards = task.true_rewards
    r_first, r_second = rewards[prompt, first], rewards[prompt, second]
    first_wins = rng.random(n_pairs) < annotator_probability(r_first, r_second, noise, flip)
    chosen = np.where(first_wins, first, second)
    rejected = np.where(first_wins, second, first)
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected,
            "agrees": rewards[prompt, chosen] >= rewards[prompt, rejected]}


def label_accuracy(task, noise, flip=0.0):
    """The exact share of labels that agree with the true reward, over pairs of two different
    replies of unequal reward drawn from the reference (a float; a (k,) array for k noises).

    Σ over reward gaps g > 0 of P(gap = g)·P(annotator picks the better | g), normalised.
    """
    gaps, weights = _reward_gaps(task)
    noises = np.atleast_1d(np.asarray(noise, dtype=float))
    right = [np.sum(weights * annotator_probability(gaps, 0.0, tau, flip)) for tau in noises]
    out = np.array(right) / weights.sum()
    return float(out[0]) if np.ndim(noise) == 0 else out


@functools.cache
def _reward_gaps(task):
    """The distinct positive reward gaps r(y₁) − r(y₂) of reference pairs, and how likely each
    is: pairs (y₁, y₂) ~ π_ref × π_ref ordered so that y₁ is the better reply."""
    probs = task.ref_probs
    gap = task.true_rewards[:, :, None] - task.true_rewards[:, None, :]
    weight = probs[:, :, None] * probs[:, None, :] / len(task.prompts)
    values, inverse = np.unique(gap[gap > 0], return_inverse=True)
    return _frozen(values), _frozen(np.bincount(inverse, weights=weight[gap > 0]))


def _check_noise(noise):
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) \
            or not 0 <= noise <= 100 or math.isnan(noise):
        raise ValueError(f"The annotator's noise must be a number from 0 to 100, got {noise!r}.")
    return float(noise)


def _check_flip(flip):
    if isinstance(flip, bool) or not isinstance(flip, numbers.Real) or not 0 <= flip <= 0.5:
        raise ValueError(f"The flip rate must be a number from 0 to 0.5, got {flip!r}.")
    return float(flip)


def _check_pairs(task, pairs):
    try:
        prompt, chosen, rejected = (np.asarray(pairs[k]) for k in ("prompt", "chosen",
                                                                    "rejected"))
    except (KeyError, TypeError, IndexError):
        raise ValueError("pairs must be a dict with prompt, chosen and rejected arrays "
                         "(see preference_pairs).") from None
    if not (prompt.shape == chosen.shape == rejected.shape) or prompt.ndim != 1 \
            or prompt.size == 0:
        raise ValueError("prompt, chosen and rejected must be equal-length, non-empty lists.")
    for name, values, hi in (("prompt", prompt, len(task.prompts)),
                             ("chosen", chosen, task.n_replies),
                             ("rejected", rejected, task.n_replies)):
        if not np.issubdtype(values.dtype, np.integer) or values.min() < 0 or values.max() >= hi:
            raise ValueError(f"{name} must hold indices 0..{hi - 1}.")
    return prompt, chosen, rejected


def _check_count(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not float(value).is_integer() or not lo <= value <= hi:
        raise ValueError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}.")
    return int(value)


def _check_lr(lr):
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 < lr <= 10:
        raise ValueError(f"The learning rate must be a number in (0, 10], got {lr!r}.")
    return float(lr)


def _start(task, logits):
    return np.array(task.ref_logits if logits is None else _check_logits(task, logits))


def _batches(rng, n, batch_size, steps):
    """Indices of the pairs each step uses: all of them (batch_size None), or a fresh shuffle
    of the data walked in minibatches of batch_size."""
    if batch_size is None:
        return [slice(None)] * steps
    batch_size = _check_count("batch_size", batch_size, 1, n)
    per_epoch = n // batch_size
    out = []
    while len(out) < steps:
        order = rng.permutation(n)
        out.extend(order[i * batch_size:(i + 1) * batch_size] for i in range(per_epoch))
    return out[:steps]


def _exact_keys(target, scores=False):
    keys = ("true_reward", "kl", "entropy") + (("score", "objective") if scores else ())
    return keys + (("kl_to_target",) if target is not None else ())


def _history(keys, steps):
    return {k: np.full(steps + 1, np.nan) for k in keys} | {"step": np.arange(steps + 1)}


def _record(history, step, values):
    for key, value in values.items():
        history[key][step] = value


def checkpoint_steps(steps, count):
    """The training steps a run keeps the policy's distribution at: ``count`` of them, evenly
    spread from 0 (π_ref) to ``steps`` (the end), for replaying the run.

    Example: checkpoint_steps(150, 4) -> array([  0,  50, 100, 150])
    """
    count = _check_count("checkpoints", count, 0, 1000)
    if count == 0:
        return np.array([], dtype=int)
    return np.unique(np.linspace(0, steps, min(count, steps + 1)).round().astype(int))


class _Checkpoints:
    """π(y|x) of the policy at the steps of `checkpoint_steps`, collected during a run."""

    def __init__(self, task, steps, count):
        self.task, self.steps, self.probs = task, checkpoint_steps(steps, count), []

    def see(self, step, logits):
        if step in self.steps:
            self.probs.append(distribution(self.task, logits))

    def result(self):
        return {"step": self.steps, "probs": np.array(self.probs).reshape(
            len(self.steps), *self.task.true_rewards.shape)}


# DPO


def dpo_objective(task, logits, prompt, chosen, rejected, beta, loss_type="sigmoid",
                  label_smoothing=0.0, weight=None):
    """The DPO loss of a batch of pairs (lessons.dpo.dpo_loss, Eq. 7 of Rafailov et al. 2023) and
    its gradient in the logits: Σ_i (∂ℓ_i/∂log π(y_w) ∇log π(y_w) + ∂ℓ_i/∂log π(y_l) ∇log π(y_l))
    / m, the sequence log-probs' gradients from `sequence_gradient`.

    weight: optional (m,) counts, when identical pairs were merged (the loss is then the
    weighted mean, as if each pair appeared that many times).
    Returns (loss, TRL's logged metrics of the batch, gradient (P, N, A)).
    """
    weight = np.ones(len(prompt)) if weight is None else np.asarray(weight, dtype=float)
    share = weight / weight.sum()
    logp = sequence_logprobs(task, logits)
    pc, pr = logp[prompt, chosen], logp[prompt, rejected]
    result = dpo.dpo_loss(pc, pr, task.ref_logps[prompt, chosen],
                          task.ref_logps[prompt, rejected], beta, loss_type, label_smoothing)
    n_prompts, n_replies = logp.shape
    size = n_prompts * n_replies
    dlogp = (np.bincount(prompt * n_replies + chosen, share * result["grad_chosen"], size)
             + np.bincount(prompt * n_replies + rejected, share * result["grad_rejected"], size))
    gradient = sequence_gradient(task, logits, dlogp.reshape(n_prompts, n_replies))
    chosen_rewards, rejected_rewards = result["chosen_rewards"], result["rejected_rewards"]
    logged = {  # the means TRL's DPOTrainer logs (lessons.dpo.logged_metrics), pair-weighted
        "loss": np.sum(share * result["losses"]),
        "rewards/chosen": np.sum(share * chosen_rewards),
        "rewards/rejected": np.sum(share * rejected_rewards),
        "rewards/accuracies": np.sum(share * (chosen_rewards > rejected_rewards)),
        "rewards/margins": np.sum(share * result["margin"]),
        "logps/chosen": np.sum(share * pc),
        "logps/rejected": np.sum(share * pr),
    }
    return float(logged["loss"]), logged, gradient


def merge_pairs(pairs):
    """Identical (prompt, chosen, rejected) triples merged into one with a count: the same loss
    and gradient at a fraction of the cost. Returns a pairs dict with a "weight" array."""
    prompt, chosen, rejected = (np.asarray(pairs[k], dtype=int)
                                for k in ("prompt", "chosen", "rejected"))
    size = int(max(chosen.max(), rejected.max())) + 1
    key = (prompt * size + chosen) * size + rejected
    unique, counts = np.unique(key, return_counts=True)
    return {"prompt": unique // size**2, "chosen": unique // size % size,
            "rejected": unique % size, "weight": counts.astype(float)}


DPO_METRICS = ("loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies",
               "rewards/margins", "logps/chosen", "logps/rejected")


def train_dpo(task, pairs, beta=1.0, loss_type="sigmoid", label_smoothing=0.0, steps=150,
              lr=0.1, batch_size=None, seed=0, logits=None, target=None, checkpoints=0):
    """Fine-tune the policy with DPO on fixed preference pairs, with Adam from π_ref.

    pairs: from `preference_pairs`; loss_type, label_smoothing: as in lessons.dpo (TRL's
    conventions); batch_size None = every pair in every step (identical pairs merged, see
    `merge_pairs`), else seeded minibatches of that many pairs.
    logits: the starting policy (default π_ref; the reference of the loss is always π_ref);
    target: a distribution (P, S) to measure the distance to, e.g. optimum(task, beta).
    History: TRL's metrics (DPO_METRICS) per batch, and the exact true_reward, kl, entropy
    (and kl_to_target). Returns {"logits": (P, N, A), "history": dict of (steps + 1,) arrays};
    with ``checkpoints`` > 0 also "checkpoints": {"step": (c,), "probs": (c, P, S)}, the
    policy's distribution over replies at `checkpoint_steps(steps, checkpoints)`.
    """
    prompt, chosen, rejected = _check_pairs(task, pairs)
    steps = _check_count("steps", steps, 0, 100_000)
    lr = _check_lr(lr)
    theta = _start(task, logits)
    rng = np.random.default_rng(seed)
    if batch_size is None:
        merged = merge_pairs(pairs)
        data, batches = merged, [slice(None)] * steps
    else:
        data = {"prompt": prompt, "chosen": chosen, "rejected": rejected,
                "weight": np.ones(len(prompt))}
        batches = _batches(rng, len(prompt), batch_size, steps)
    history = _history((*DPO_METRICS, *_exact_keys(target)), steps)
    kept = _Checkpoints(task, steps, checkpoints)
    state = _adam_state(theta)
    _record(history, 0, exact_metrics(task, theta, target=target))
    kept.see(0, theta)
    for step, batch in enumerate(batches, start=1):
        _, logged, grad = dpo_objective(task, theta, data["prompt"][batch], data["chosen"][batch],
                                        data["rejected"][batch], beta, loss_type,
                                        label_smoothing, data["weight"][batch])
        theta = _adam(theta, grad, state, lr)
        _record(history, step, logged | exact_metrics(task, theta, target=target))
        kept.see(step, theta)
    return {"logits": theta, "history": history} | (
        {"checkpoints": kept.result()} if checkpoints else {})


# Supervised fine-tuning on the preferred replies


def sft_objective(task, logits, prompt, reply):
    """L = −mean_i log π(y_i | x_i) (the negative log-likelihood of the replies) and its gradient.

    Returns (loss, gradient (P, N, A)).
    """
    logp = sequence_logprobs(task, logits)
    n_prompts, n_replies = logp.shape
    weights = -np.bincount(prompt * n_replies + reply, minlength=n_prompts * n_replies) \
        / len(prompt)
    loss = -float(np.mean(logp[prompt, reply]))
    return loss, sequence_gradient(task, logits, weights.reshape(n_prompts, n_replies))


def train_preferred_ft(task, pairs, steps=100, lr=0.1, batch_size=None, seed=0, logits=None,
                       target=None, checkpoints=0):
    """Supervised fine-tuning on the chosen replies only (the rejected ones are thrown away),
    with Adam from π_ref. Nothing keeps it near the reference: it drifts towards the chosen
    replies' empirical distribution.

    History: loss (NLL of the batch, nats), true_reward, kl, entropy (and kl_to_target).
    Returns {"logits": (P, N, A), "history": dict of (steps + 1,) arrays}, and "checkpoints"
    as `train_dpo` does.
    """
    prompt, chosen, _ = _check_pairs(task, pairs)
    steps = _check_count("steps", steps, 0, 100_000)
    lr = _check_lr(lr)
    theta = _start(task, logits)
    rng = np.random.default_rng(seed)
    batches = _batches(rng, len(prompt), batch_size, steps)
    history = _history(("loss", *_exact_keys(target)), steps)
    kept = _Checkpoints(task, steps, checkpoints)
    state = _adam_state(theta)
    _record(history, 0, exact_metrics(task, theta, target=target))
    kept.see(0, theta)
    for step, batch in enumerate(batches, start=1):
        loss, grad = sft_objective(task, theta, prompt[batch], chosen[batch])
        theta = _adam(theta, grad, state, lr)
        _record(history, step, {"loss": loss} | exact_metrics(task, theta, target=target))
        kept.see(step, theta)
    return {"logits": theta, "history": history} | (
        {"checkpoints": kept.result()} if checkpoints else {})


# The reward model


def reply_features(task, kind="words"):
    """φ(y) for every reply: (S, d) features and their d names.

    "words": how often each word occurs (a bag of words: blind to repeats and to order);
    "words + repeats": also the number of words said again.
    Example: reply_features(t)[0][reply_index(t, (0, 0))] -> [2, 0, 0, 0, 0, 0, 0]
    """
    if kind not in FEATURE_SETS:
        raise ValueError(f"Unknown feature set {kind!r}: use one of {', '.join(FEATURE_SETS)}.")
    counts = np.zeros((task.n_replies, len(task.words)))
    for s, reply in enumerate(task.replies):
        np.add.at(counts[s], list(reply), 1.0)
    if kind == "words":
        return counts, task.words
    repeats = np.array([len(r) - len(set(r)) for r in task.replies], dtype=float)
    return np.column_stack([counts, repeats]), (*task.words, "repeats")


def ranking_accuracy(task, scores):
    """The exact share of pairs (two replies from π_ref with unequal true rewards) that the
    scores (P, S) order the same way as the true reward (ties in the scores count half).

    scores may also be a stack (K, P, S), for example a model at K steps of its training: then
    the K shares, as an array. Pairs are weighted by π_ref(y|x)·π_ref(y'|x), the chance of
    drawing them, and only pairs whose true rewards differ count.
    """
    probs = task.ref_probs
    gap = task.true_rewards[:, :, None] - task.true_rewards[:, None, :]
    prompt, better, worse = np.nonzero(gap > 0)  # y better than y' for prompt x
    weight = probs[prompt, better] * probs[prompt, worse]
    stack = np.asarray(scores, dtype=float)
    shares = []
    for one in stack.reshape(-1, *stack.shape[-2:]):
        score_gap = one[prompt, better] - one[prompt, worse]
        right = (score_gap > 0) + 0.5 * (score_gap == 0)
        shares.append(float(np.sum(weight * right) / np.sum(weight)))
    return shares[0] if stack.ndim == 2 else np.array(shares)


def train_reward_model(task, pairs, features="words", lr=0.5, steps=200, l2=0.01):
    """A linear reward model r(y) = w·φ(y) fitted to the pairs with the Bradley–Terry loss,
    by lessons.bradley_terry.fit_reward_model (full-batch gradient descent from w = 0).

    Returns {"weights" (d,), "feature_names", "scores" (P, S) the model's reward of every reply,
    "accuracy" (ranking_accuracy against the true reward), "history": step, loss, accuracy (the
    share of training pairs it ranks right), "rewards_path" (steps + 1, S): every reply's reward
    after each step (see reward_model_at)}.
    """
    prompt, chosen, rejected = _check_pairs(task, pairs)
    phi, names = reply_features(task, features)
    fit = bt.fit_reward_model(phi, chosen, rejected, lr, _check_count("steps", steps, 0, 100_000),
                              l2)
    scores = np.tile(fit["rewards"], (len(task.prompts), 1))
    return {
        "weights": fit["weights"],
        "feature_names": names,
        "scores": scores,
        "accuracy": ranking_accuracy(task, scores),
        "history": {"step": np.arange(len(fit["loss"])), "loss": fit["loss"],
                    "accuracy": fit["agreement"]},
        # φ·w after each step, computed as the run computes its final rewards (so a reply's
        # reward at the last step is exactly the one in "scores", ties included)
        "rewards_path": np.array([phi @ w for w in fit["weights_path"]]),
    }


def reward_model_at(task, fit, steps):
    """The reward model of a train_reward_model run after each of `steps` (K,) of its gradient
    steps: {"scores" (K, P, S), "accuracy" (K,)}. Gradient descent from w = 0 is deterministic,
    so these are the models runs of those lengths end with, read from the one run instead of
    trained again.
    """
    path = fit["rewards_path"]
    steps = [_check_count("step", step, 0, len(path) - 1) for step in np.atleast_1d(steps)]
    scores = np.repeat(path[steps][:, None, :], len(task.prompts), axis=1)
    return {"scores": scores, "accuracy": ranking_accuracy(task, scores)}


# PPO against a reward (RLHF)


def returns_to_go(token_rewards, mask):
    """G_t = Σ_{t' ≥ t} R_t'   (γ = 1: the reward arrives at the end, no discount), 0 at padding.

    token_rewards, mask: (B, T). Example: returns_to_go([[0., 1.]], [[1, 1]]) -> [[1., 1.]]
    """
    rewards = np.where(mask, np.asarray(token_rewards, dtype=float), 0.0)
    return np.where(mask, np.cumsum(rewards[:, ::-1], axis=1)[:, ::-1], 0.0)


def ppo_objective(task, logits, prompt, node, action, logp_old, advantage, epsilon):
    """PPO's clipped objective on a batch of tokens (lessons.ppo.clipped_objective, Eq. 7 of
    Schulman et al. 2017) as a loss to minimise, −mean_t min(r_t·A_t, clip(r_t)·A_t) with
    r_t = π(a_t|s_t)/π_old(a_t|s_t), and its gradient: dL/dr_t · r_t · ∇log π(a_t|s_t).

    All batch arrays: (n,) over real tokens. Returns (loss, ratio (n,), gradient (P, N, A)).
    """
    logp = next_token_logprobs(task, logits)[prompt, node, action]
    ratio = np.exp(logp - logp_old)
    loss = -float(np.mean(ppo.clipped_objective(ratio, advantage, epsilon)))
    slope = np.asarray(ppo.objective_gradient(ratio, advantage, epsilon))
    gradient = token_gradient(task, logits, prompt, node, action, -slope * ratio / len(ratio))
    return loss, ratio, gradient


PPO_METRICS = ("loss", "batch_reward", "batch_score", "batch_kl", "clip_fraction", "approx_kl",
               "value_error")


def train_ppo_rlhf(task, scores=None, beta=1.0, iterations=40, batch_size=128, epochs=4,
                   minibatches=2, lr=0.1, epsilon=0.2, value_lr=0.5, kl_estimator="k1",
                   whiten=True, seed=0, logits=None, target=None, checkpoints=0):
    """RLHF's RL step: PPO on the KL-penalised reward, from π_ref (Ouyang et al. 2022, Eq. 2).

    Each iteration samples batch_size replies from π_old (prompts uniform), scores them with
    `scores` (P, S): a reward model's scores, or None for the true reward ("PPO with the
    ground-truth reward"). Every token pays −β·k_t (rlhf.kl_penalised_reward, k1 by default) and
    the score comes at the last token; the return G_t is the sum of what follows. The advantage
    is G_t − V(s_t) (GAE with γ = λ = 1, lessons.ppo.gae) with a tabular value V(x, node) (the
    critic, moved towards the batch's mean return at each node with step value_lr), whitened
    per batch if `whiten`. Then `epochs` passes of minibatch Adam steps on the clipped
    objective (`ppo_objective`).
    History per iteration: loss, batch_reward (mean total KL-penalised reward), batch_score,
    batch_kl (mean sequence KL estimate), clip_fraction, approx_kl (k3 of π_old‖π_new, as
    cleanrl logs), value_error (mean |G − V| before the critic's update); exact: true_reward,
    score (E[scores]), kl, objective (score − β·kl), entropy, and kl_to_target if a target
    distribution (P, S) is given (e.g. optimum(task, beta, scores)).
    Returns {"logits": (P, N, A), "values": (P, N), "history": dict of (iterations + 1,) arrays},
    and "checkpoints" (at iterations) as `train_dpo` does.
    """
    scores = task.true_rewards if scores is None else np.asarray(scores, dtype=float)
    if scores.shape != (len(task.prompts), task.n_replies) or not np.all(np.isfinite(scores)):
        raise ValueError(f"scores must be finite, shape {(len(task.prompts), task.n_replies)}.")
    iterations = _check_count("iterations", iterations, 0, 10_000)
    batch_size = _check_count("batch_size", batch_size, 2, 100_000)
    epochs = _check_count("epochs", epochs, 1, 100)
    minibatches = _check_count("minibatches", minibatches, 1, batch_size)
    lr = _check_lr(lr)
    if isinstance(value_lr, bool) or not isinstance(value_lr, numbers.Real) \
            or not 0 < value_lr <= 1:
        raise ValueError(f"value_lr must be a number in (0, 1], got {value_lr!r}.")
    ppo.clip_ratio(1.0, epsilon)  # checks 0 < ε < 1
    theta = _start(task, logits)
    values = np.zeros(task.shape[:2])
    rng = np.random.default_rng(seed)
    state = _adam_state(theta)
    history = _history((*PPO_METRICS, *_exact_keys(target, scores=True)), iterations)

    def exact(theta):
        return exact_metrics(task, theta, scores, beta, target)

    kept = _Checkpoints(task, iterations, checkpoints)
    _record(history, 0, exact(theta))
    kept.see(0, theta)
    for it in range(1, iterations + 1):
        # Rollouts from π_old, and their KL-penalised rewards
        prompt, reply = prompt_reply = _draw_batch(task, theta, batch_size, rng)
        logp_old, mask = token_logprobs(task, theta, *prompt_reply)
        logp_ref, _ = token_logprobs(task, task.ref_logits, *prompt_reply)
        penalised = rlhf.kl_penalised_reward(scores[prompt, reply], logp_old, logp_ref, beta,
                                             kl_estimator, mask)
        # Advantages: return-to-go minus the critic's value of the state
        node = task.step_node[reply]
        action = task.step_action[reply]
        ret = returns_to_go(penalised["token_rewards"], mask)
        rows = np.broadcast_to(prompt[:, None], mask.shape)
        baseline = values[rows, node]
        advantage = ret - baseline
        value_error = float(np.mean(np.abs(advantage[mask])))
        values = _critic_update(values, rows[mask], node[mask], ret[mask], value_lr)
        flat = {"prompt": rows[mask], "node": node[mask], "action": action[mask],
                "logp_old": logp_old[mask], "advantage": advantage[mask]}
        if whiten:
            adv = flat["advantage"]
            flat["advantage"] = (adv - adv.mean()) / (adv.std() + 1e-8)
        # PPO epochs over minibatches of tokens
        n_tokens = len(flat["node"])
        losses, clipped, size = [], [], max(1, n_tokens // minibatches)
        for _ in range(epochs):
            order = rng.permutation(n_tokens)
            for m in range(minibatches):
                idx = order[m * size:(m + 1) * size] if m < minibatches - 1 else \
                    order[m * size:]
                if idx.size == 0:
                    continue
                loss, ratio, grad = ppo_objective(
                    task, theta, flat["prompt"][idx], flat["node"][idx], flat["action"][idx],
                    flat["logp_old"][idx], flat["advantage"][idx], epsilon)
                theta = _adam(theta, grad, state, lr)
                losses.append(loss)
                clipped.append(ppo.clip_fraction(ratio, epsilon))
        logp_new = next_token_logprobs(task, theta)[flat["prompt"], flat["node"], flat["action"]]
        _record(history, it, {
            "loss": np.mean(losses), "clip_fraction": np.mean(clipped),
            "approx_kl": ppo.approx_kl(np.exp(logp_new - flat["logp_old"]), "k3"),
            "batch_reward": np.mean(penalised["total_reward"]),
            "batch_score": np.mean(scores[prompt, reply]),
            "batch_kl": np.mean(penalised["sequence_kl"]), "value_error": value_error,
        } | exact(theta))
        kept.see(it, theta)
    return {"logits": theta, "values": values, "history": history} | (
        {"checkpoints": kept.result()} if checkpoints else {})


def _draw_batch(task, logits, n, rng):
    probs = distribution(task, logits)
    prompt = rng.integers(len(task.prompts), size=n)
    return prompt, _draw(probs, prompt, rng.random(n))


def _critic_update(values, prompt, node, returns, value_lr):
    """V(x, n) ← V + α·(mean of the batch's returns at (x, n) − V), at every visited state."""
    n_prompts, n_nodes = values.shape
    flat = prompt * n_nodes + node
    total = np.bincount(flat, weights=returns, minlength=n_prompts * n_nodes)
    count = np.bincount(flat, minlength=n_prompts * n_nodes)
    visited = count > 0
    new = values.ravel().copy()
    new[visited] += value_lr * (total[visited] / count[visited] - new[visited])
    return new.reshape(values.shape)
