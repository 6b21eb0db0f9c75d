"""The Bradley–Terry model: from scores to preferences, and back from preferences to scores.

Give every item (a chess player, a reply of a chatbot) a real-valued score s. Bradley and Terry
(1952) model the chance that item i beats item j as

    P(i ≻ j) = e^{s_i} / (e^{s_i} + e^{s_j}) = σ(s_i − s_j),

a two-way softmax, so only the difference of the scores matters (`win_probability`,
`two_way_softmax`, `win_matrix`; `strength` is Bradley and Terry's own parameter e^s). Elo
ratings are the same model on another scale: one Elo point is ln(10)/400 of a score unit
(`elo_expected`, `elo_to_score`), and Elo's update rule is a stochastic gradient step on the
Bradley–Terry log-likelihood (`elo_update`).

Going backwards, a table wins[i, j] = "how often i beat j" gives scores by maximum likelihood
(`log_likelihood`, `fit_scores`, and Newton step by Newton step `newton_path`), with standard
errors from the Fisher information (`information_matrix`, `score_covariance`) and a
goodness-of-fit test against the model that gives every pair its own win rate (`fit_report`).
The maximum-likelihood scores exist only when the "who beat whom" graph is strongly connected
(Zermelo 1929, Ford 1957): an item that won every game would need the score +∞.
`diagnose_wins` finds such tables and says why, and an L2 penalty (a Gaussian prior on the
scores) gives finite scores for every table.

The reward model of RLHF is Bradley–Terry with a score computed from the reply: r(y) = w·φ(y)
here, a neural network there, trained with `reward_model_loss` = mean of −log σ(r_w − r_l)
(Eq. 1 of Ouyang et al. 2022, "Training language models to follow instructions with human
feedback"). `reply_features`, `fit_reward_model` and `annotate` make that runnable on a handful of
short replies. Everything is numpy/scipy; bad input raises ValueError with a readable message.
"""

import math
import numbers
import re

import numpy as np
from scipy import optimize, special, stats
from scipy.sparse.csgraph import connected_components

ELO_SCALE = 400.0  # Elo: a 400-point gap means 10:1 odds
MAX_ITEMS = 12
LOG2 = math.log(2.0)


# Validation


def _check_scores(x, name="score"):
    """Return x as a float array after checking it holds finite numbers."""
    array = np.asarray(x, dtype=float)
    if array.size == 0:
        raise ValueError(f"{name} is empty: give at least one number.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity: scores must be finite numbers.")
    return array


def _scalar_or_array(x):
    """A float for a single result, an array for a batch of them."""
    return float(x) if np.ndim(x) == 0 else x


def _check_wins(wins):
    """Return wins as a float (n, n) array of counts >= 0 with an empty diagonal."""
    wins = np.asarray(wins, dtype=float)
    if wins.ndim != 2 or wins.shape[0] != wins.shape[1]:
        raise ValueError(
            f"The win table must be square (one row and one column per item), got shape "
            f"{wins.shape}."
        )
    n = wins.shape[0]
    if not 2 <= n <= MAX_ITEMS:
        raise ValueError(f"The win table needs between 2 and {MAX_ITEMS} items, got {n}.")
    if not np.all(np.isfinite(wins)):
        raise ValueError("The win table contains NaN or infinity: counts must be numbers.")
    if np.any(wins < 0):
        raise ValueError("The win table has a negative count: wins are counted from 0 up.")
    if np.any(np.diag(wins) != 0):
        raise ValueError("The win table's diagonal must be 0: an item cannot play itself.")
    return wins


def _check_l2(l2):
    if isinstance(l2, bool) or not isinstance(l2, numbers.Real) or not math.isfinite(l2) or l2 < 0:
        raise ValueError(f"The L2 strength must be a finite number >= 0, got {l2!r}.")
    return float(l2)


def _names(n, names):
    if names is None:
        return [f"item {i + 1}" for i in range(n)]
    names = [str(name) for name in names]
    if len(names) != n:
        raise ValueError(f"Got {len(names)} names for {n} items: give one name per item.")
    return names


# Scores to win probabilities


def win_probability(score_a, score_b):
    """P(a ≻ b) = e^a / (e^a + e^b) = σ(a − b)   (Eq. 1 of Bradley & Terry 1952, as a logistic)

    score_a, score_b: floats or broadcastable arrays. Stable for any gap (expit never overflows).
    Example: win_probability(2.0, 1.0) -> 0.7311
    """
    a, b = _check_scores(score_a, "score_a"), _check_scores(score_b, "score_b")
    return _scalar_or_array(special.expit(a - b))


def strength(score):
    """π = e^s   (Bradley & Terry's own parameter: P(i ≻ j) = π_i / (π_i + π_j))

    The numerator of the softmax: adding c to every score multiplies every strength by e^c
    and leaves every ratio of strengths, so every win probability, as it was.
    Example: strength(1.0) -> 2.7183
    """
    return _scalar_or_array(np.exp(_check_scores(score, "score")))


def two_way_softmax(score_a, score_b):
    """softmax(a, b)₀ = e^a / (e^a + e^b)   (the first entry of a softmax over two scores)

    Computed with scipy's softmax over the pair, independently of `win_probability`.
    Example: two_way_softmax(2.0, 1.0) -> 0.7311
    """
    a, b = np.broadcast_arrays(_check_scores(score_a, "score_a"), _check_scores(score_b, "score_b"))
    return _scalar_or_array(special.softmax(np.stack([a, b]), axis=0)[0])


def choice_probabilities(scores):
    """P(i is picked from all n) = e^{s_i} / Σ_j e^{s_j}   (Luce's choice rule: a softmax)

    With n = 2 this is Bradley–Terry. scores: (n,) floats.
    Example: choice_probabilities([0, 0, np.log(2)]) -> array([0.25, 0.25, 0.5])
    """
    scores = _check_scores(scores, "scores")
    if scores.ndim != 1:
        raise ValueError("scores must be a flat list, one score per item.")
    return special.softmax(scores)


def win_matrix(scores):
    """P[i, j] = σ(s_i − s_j)   (every pairwise win probability; P + Pᵀ = 1, diagonal ½)

    scores: (n,) floats. Returns (n, n).
    Example: win_matrix([1.0, 0.0])[0, 1] -> 0.7311
    """
    scores = _check_scores(scores, "scores")
    if scores.ndim != 1:
        raise ValueError("scores must be a flat list, one score per item.")
    return special.expit(scores[:, None] - scores[None, :])


def log_odds(probability):
    """logit(p) = ln(p / (1 − p))   (the score gap that gives win probability p)

    Example: log_odds(0.75) -> 1.0986 (= ln 3)
    """
    p = np.asarray(probability, dtype=float)
    if not np.all((p > 0) & (p < 1)):
        raise ValueError("A win probability must lie strictly between 0 and 1.")
    return _scalar_or_array(special.logit(p))


# Elo: Bradley–Terry in base 10 with 400 points per decade of odds


def elo_expected(rating_a, rating_b, scale=ELO_SCALE):
    """E_A = 1 / (1 + 10^((R_B − R_A)/400))   (= σ((R_A − R_B)·ln 10 / 400))

    The expected score of A: its win probability, a draw counting ½.
    Example: elo_expected(1600, 1400) -> 0.7597
    """
    if not isinstance(scale, numbers.Real) or not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"The Elo scale must be a positive number, got {scale!r}.")
    ra, rb = _check_scores(rating_a, "rating_a"), _check_scores(rating_b, "rating_b")
    return _scalar_or_array(special.expit((ra - rb) * math.log(10) / scale))


def elo_to_score(rating, scale=ELO_SCALE):
    """s = R · ln(10) / 400   (an Elo rating as a Bradley–Terry score)

    Example: elo_to_score(400) -> 2.3026 (= ln 10: a 400-point gap is odds of 10 to 1)
    """
    return _scalar_or_array(_check_scores(rating, "rating") * math.log(10) / scale)


def elo_update(rating_a, rating_b, result_a, k=32.0):
    """R_A' = R_A + K·(S_A − E_A)   (S_A = 1 win, ½ draw, 0 loss)

    This is one step of stochastic gradient ascent on A's Bradley–Terry log-likelihood:
    d/dR_A log σ((R_A − R_B)·c) = c·(1 − E_A) after a win, with c = ln 10 / 400.
    Example: elo_update(1600, 1400, 1.0) -> 1607.69
    """
    if not isinstance(k, numbers.Real) or not math.isfinite(k) or k <= 0:
        raise ValueError(f"K must be a positive number, got {k!r}.")
    result = np.asarray(result_a, dtype=float)
    if not np.all((result >= 0) & (result <= 1)):
        raise ValueError("The result of a game is 1 (win), 0.5 (draw) or 0 (loss).")
    expected = elo_expected(rating_a, rating_b)
    return _scalar_or_array(np.asarray(rating_a, dtype=float) + k * (result - expected))


# From a table of wins back to scores: maximum likelihood


def games_played(wins):
    """n_ij = w_ij + w_ji   (games between i and j, whoever won)

    Example: games_played([[0, 3], [1, 0]]) -> array([[0., 4.], [4., 0.]])
    """
    wins = _check_wins(wins)
    return wins + wins.T


def log_likelihood(scores, wins):
    """ℓ(s) = Σ_ij w_ij · log σ(s_i − s_j)   (natural log; every game's log-probability, summed)

    scores: (n,) floats; wins: (n, n) counts, wins[i, j] = times i beat j.
    Example: log_likelihood([0, 0], [[0, 1], [1, 0]]) -> -1.3863 (= 2·ln ½)
    """
    wins = _check_wins(wins)
    scores = _check_scores(scores, "scores")
    if scores.shape != (wins.shape[0],):
        raise ValueError(f"Give one score per item: {wins.shape[0]} scores, got {scores.shape}.")
    return float(np.sum(wins * special.log_expit(scores[:, None] - scores[None, :])))


def log_likelihood_gradient(scores, wins):
    """∂ℓ/∂s_i = Σ_j (w_ij − n_ij · σ(s_i − s_j))   (wins minus expected wins of item i)

    Example: log_likelihood_gradient([0, 0], [[0, 3], [1, 0]]) -> array([ 1., -1.])
    """
    wins = _check_wins(wins)
    scores = _check_scores(scores, "scores")
    expected = (wins + wins.T) * special.expit(scores[:, None] - scores[None, :])
    return (wins - expected).sum(axis=1)


def information_matrix(scores, wins, l2=0.0):
    """I(s) = −∇²ℓ(s) + λ·Id,  I_ii = Σ_j n_ij p_ij (1 − p_ij),  I_ij = −n_ij p_ij (1 − p_ij)

    The observed Fisher information: the curvature of the log-likelihood, a weighted graph
    Laplacian. For the logistic model it does not depend on who won, only on the games played,
    so observed and expected information coincide. l2 adds the prior's curvature λ.
    Example: information_matrix([0, 0], [[0, 2], [2, 0]]) -> array([[ 1., -1.], [-1.,  1.]])
    """
    wins = _check_wins(wins)
    scores = _check_scores(scores, "scores")
    p = special.expit(scores[:, None] - scores[None, :])
    weights = (wins + wins.T) * p * (1 - p)
    return np.diag(weights.sum(axis=1)) - weights + _check_l2(l2) * np.eye(len(scores))


def score_covariance(scores, wins, l2=0.0):
    """Cov(ŝ) ≈ C · I(ŝ)⁺ · C,  C = Id − 11ᵀ/n   (Fisher covariance of the centred scores)

    Scores are only defined up to a common shift, so the information is singular along 1 = (1, …,
    1); the pseudo-inverse is the covariance of the scores constrained to mean 0. Without a prior
    (l2 = 0) every item must be linked to every other by a chain of games.
    Example: np.diag(score_covariance([0, 0], [[0, 8], [8, 0]])) -> array([0.0625, 0.0625])
    """
    info = information_matrix(scores, wins, l2)
    n = info.shape[0]
    centre = np.eye(n) - np.ones((n, n)) / n
    if l2 > 0:
        return centre @ np.linalg.inv(info) @ centre
    games = np.asarray(wins, dtype=float) + np.asarray(wins, dtype=float).T
    if connected_components(games > 0, directed=False)[0] > 1:
        raise ValueError("Some items never met the others (directly or through a chain of "
                         "games), so their scores have no common scale: use l2 > 0.")
    return np.linalg.pinv(info, rcond=1e-12, hermitian=True)


def _objective(scores, wins, l2):
    """−ℓ(s) + λ/2·|s|² + ½(Σs)²: the last term only picks the centred one of equal optima."""
    diff = scores[:, None] - scores[None, :]
    value = -np.sum(wins * special.log_expit(diff)) + 0.5 * l2 * scores @ scores
    return value + 0.5 * scores.sum() ** 2


def _objective_gradient(scores, wins, l2):
    expected = (wins + wins.T) * special.expit(scores[:, None] - scores[None, :])
    return -(wins - expected).sum(axis=1) + l2 * scores + scores.sum()


def _objective_hessian(scores, wins, l2):
    return information_matrix(scores, wins, l2) + 1.0


def _require_mle(wins):
    """Raise a ValueError that says why, when the table has no maximum-likelihood scores."""
    diagnosis = diagnose_wins(wins)
    if not diagnosis["mle_exists"]:
        reasons = " ".join(problem["message"] for problem in diagnosis["problems"])
        raise ValueError(
            f"The maximum-likelihood scores do not exist for this table. {reasons} "
            "A small L2 penalty (l2 > 0) gives finite scores."
        )


def fit_scores(wins, l2=0.0):
    """ŝ = argmax_s ℓ(s) − λ/2·|s|²,  then centred so that Σ ŝ_i = 0   (maximum likelihood)

    wins: (n, n) counts, wins[i, j] = times item i beat item j. l2 = λ ≥ 0 is a Gaussian prior
    s_i ~ N(0, 1/λ) (a MAP fit); with λ = 0 this is the plain MLE, which exists only when every
    item both won and lost against the rest in a connected way (see `diagnose_wins`); otherwise
    a ValueError says why and suggests λ > 0. Solved with scipy's Newton-CG (exact Hessian).
    Example: fit_scores([[0, 3], [1, 0]]) -> array([ 0.5493, -0.5493])   (σ(1.0986) = 3/4)
    """
    wins = _check_wins(wins)
    l2 = _check_l2(l2)
    if l2 == 0:
        _require_mle(wins)
    result = optimize.minimize(
        _objective, np.zeros(wins.shape[0]), args=(wins, l2), method="Newton-CG",
        jac=_objective_gradient, hess=_objective_hessian, options={"xtol": 1e-12},
    )
    return result.x - result.x.mean()


def newton_path(wins, l2=0.0, max_steps=30, tol=1e-10):
    """s ← s + t·I(s)⁺·∇J(s),  J(s) = ℓ(s) − λ/2·|s|², from s = 0   (Newton–Raphson, halving t
    until J rises)

    The fit of `fit_scores`, one Newton step at a time: each step solves the quadratic that
    matches ℓ's slope and curvature (the Fisher information I) at the current scores. Scores
    stay centred (I's null direction 1 is never entered). Stops when |∇J| < tol.
    Returns dict: scores (k + 1, n) from all zeros to the fit, log_likelihood and objective
    (k + 1,) ℓ(s) and J(s) at each, gradient_norm (k + 1,), step_size (k + 1,) (t of the step
    that led there; 0 for the start).
    Example: newton_path([[0, 3], [1, 0]])["scores"][1] -> array([ 0.5, -0.5])
    """
    wins = _check_wins(wins)
    l2 = _check_l2(l2)
    if l2 == 0:
        _require_mle(wins)

    def objective(s):
        return log_likelihood(s, wins) - 0.5 * l2 * s @ s

    scores, sizes = [np.zeros(wins.shape[0])], [0.0]
    for _ in range(max_steps):
        s = scores[-1]
        gradient = log_likelihood_gradient(s, wins) - l2 * s
        if np.linalg.norm(gradient) < tol:
            break
        direction = np.linalg.pinv(information_matrix(s, wins, l2), hermitian=True) @ gradient
        t = 1.0
        while objective(s + t * direction) < objective(s) and t > 1e-6:
            t /= 2
        scores.append(s + t * direction)
        sizes.append(t)
    scores = np.array(scores)
    loglik = np.array([log_likelihood(s, wins) for s in scores])
    return {
        "scores": scores,
        "log_likelihood": loglik,
        "objective": loglik - 0.5 * l2 * np.sum(scores**2, axis=1),
        "gradient_norm": np.array([np.linalg.norm(log_likelihood_gradient(s, wins) - l2 * s)
                                   for s in scores]),
        "step_size": np.array(sizes),
    }


def regularization_path(wins, l2_values):
    """ŝ(λ) for each λ   (how the fitted scores move as the prior weakens)

    As λ → 0 the scores settle at the MLE when it exists, and drift off to ±∞ (slowly, like
    ±log(1/λ)) when it does not. l2_values: (m,) numbers > 0. Returns (m, n).
    Example: regularization_path([[0, 3], [1, 0]], [1e-6])[0] -> array([ 0.5493, -0.5493])
    """
    wins = _check_wins(wins)
    l2_values = _check_scores(l2_values, "l2_values")
    if l2_values.ndim != 1 or np.any(l2_values <= 0):
        raise ValueError("l2_values must be a list of numbers > 0.")
    return np.array([fit_scores(wins, float(l2)) for l2 in l2_values])


def diagnose_wins(wins, names=None):
    """Does the maximum-likelihood fit exist? A dict with ``mle_exists`` and ``problems``.

    The MLE exists and is unique exactly when, for every split of the items into two groups,
    each group beat the other at least once: the directed "i beat j" graph is strongly
    connected (Zermelo 1929; Ford 1957, "Solution of a ranking problem from binary
    comparisons"). Each problem is {"kind", "items", "message"} with kind one of "empty",
    "never_plays", "disconnected", "unbeaten", "winless", "separated".
    Example: diagnose_wins([[0, 2], [0, 0]])["problems"][0]["kind"] -> "unbeaten"
    """
    wins = _check_wins(wins)
    n = wins.shape[0]
    names = _names(n, names)
    games = wins + wins.T
    played = games.sum(axis=1) > 0
    problems = []

    def listed(items):
        return ", ".join(names[i] for i in items)

    if not played.any():
        problems.append({
            "kind": "empty", "items": list(range(n)),
            "message": "The table has no games at all, so it says nothing about any score.",
        })
        return {"mle_exists": False, "problems": problems}
    idle = [int(i) for i in np.flatnonzero(~played)]
    if idle:
        problems.append({
            "kind": "never_plays", "items": idle,
            "message": f"{listed(idle)} never played, so the data say nothing about "
            f"{'its' if len(idle) == 1 else 'their'} score: any value fits equally well.",
        })
    active = np.flatnonzero(played)
    sub_games, sub_wins = games[np.ix_(active, active)], wins[np.ix_(active, active)]
    n_groups, group = connected_components(sub_games > 0, directed=False)
    if n_groups > 1:
        groups = [active[group == g] for g in range(n_groups)]
        problems.append({
            "kind": "disconnected", "items": [int(i) for i in active],
            "message": "The items fall into groups that never met ("
            + "; ".join(listed(g) for g in groups)
            + "): nothing compares one group with another, so any shift between them fits.",
        })
    # Strongly connected components of "i beat j": a component nobody outside ever beat has
    # scores that can rise forever; one that never beat an outsider can fall forever.
    _, strong = connected_components(sub_wins > 0, directed=True, connection="strong")
    for g in range(n_groups):
        members = np.flatnonzero(group == g)
        parts = np.unique(strong[members])
        if parts.size == 1:
            continue
        for part in parts:
            inside = members[strong[members] == part]
            outside = np.setdiff1d(members, inside)
            lost_to_outside = sub_wins[np.ix_(outside, inside)].sum() > 0
            beat_outside = sub_wins[np.ix_(inside, outside)].sum() > 0
            items = [int(active[i]) for i in inside]
            if not lost_to_outside and inside.size == 1:
                i = int(inside[0])
                problems.append({
                    "kind": "unbeaten", "items": items,
                    "message": f"{names[items[0]]} won all {int(sub_games[i].sum())} of its "
                    "games: the higher its score, the likelier those wins, so the best "
                    "score is +∞.",
                })
            elif not beat_outside and inside.size == 1:
                i = int(inside[0])
                problems.append({
                    "kind": "winless", "items": items,
                    "message": f"{names[items[0]]} lost all {int(sub_games[i].sum())} of its "
                    "games: the lower its score, the likelier those losses, so the best "
                    "score is −∞.",
                })
            elif not lost_to_outside:
                problems.append({
                    "kind": "separated", "items": items,
                    "message": f"{listed(items)} never lost to anyone outside their group: "
                    "the gap between them and the rest can grow forever.",
                })
    order = ("empty", "never_plays", "disconnected", "unbeaten", "separated", "winless")
    problems.sort(key=lambda problem: order.index(problem["kind"]))
    return {"mle_exists": not problems, "problems": problems}


def fit_report(wins, l2=0.0, names=None):
    """Everything the scoring demo shows: scores, standard errors, fit and likelihoods.

    Returns a dict: scores (n,), std_errors (n,) from the Fisher information (inf where the
    data leave a score open), covariance, log_likelihood ℓ(ŝ), null_log_likelihood (all scores
    0: every game a coin flip, −N·ln 2), saturated_log_likelihood (each pair its own win rate),
    deviance G = 2·(ℓ_sat − ℓ(ŝ)) with df = pairs that met − (items that played − 1) and its
    chi-square p_value (None for regularised fits), games, observed (win rate, NaN where a
    pair never met), predicted σ(ŝ_i − ŝ_j), and the diagnosis.
    Example: fit_report([[0, 3], [1, 0]])["std_errors"] -> array([0.5774, 0.5774])
    """
    wins = _check_wins(wins)
    l2 = _check_l2(l2)
    diagnosis = diagnose_wins(wins, names)
    scores = fit_scores(wins, l2)
    games = wins + wins.T
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = np.where(games > 0, wins / games, np.nan)
    loglik = log_likelihood(scores, wins)
    saturated = float(np.sum(special.xlogy(wins, np.where(games > 0, wins / np.maximum(games, 1),
                                                              1.0))))
    pairs = int(np.count_nonzero(np.triu(games) > 0))
    active = int(np.count_nonzero(games.sum(axis=1) > 0))
    df = pairs - max(active - 1, 0)
    deviance = max(2.0 * (saturated - loglik), 0.0)
    p_value = float(stats.chi2.sf(deviance, df)) if l2 == 0 and df > 0 else None
    covariance = score_covariance(scores, wins, l2)
    return {
        "scores": scores,
        "std_errors": np.sqrt(np.diag(covariance)),
        "covariance": covariance,
        "log_likelihood": loglik,
        "null_log_likelihood": -float(wins.sum()) * LOG2 + 0.0,
        "saturated_log_likelihood": saturated,
        "deviance": deviance,
        "df": df,
        "p_value": p_value,
        "games": games,
        "observed": observed,
        "predicted": win_matrix(scores),
        "l2": l2,
        "diagnosis": diagnosis,
    }


def likelihood_profile(scores, wins, item, offsets):
    """ℓ(ŝ + δ·e_k) for each δ, and its quadratic approximation ℓ(ŝ) − ½·I_kk·δ²

    How the log-likelihood falls when one score moves and the others stay: the curvature
    I_kk is the Fisher information that sets the error bars.
    Example: likelihood_profile([0.5493, -0.5493], [[0, 3], [1, 0]], 0, [0.0])["exact"]
             -> array([-2.2493])
    """
    wins = _check_wins(wins)
    scores = _check_scores(scores, "scores")
    offsets = _check_scores(offsets, "offsets")
    if not (isinstance(item, numbers.Integral) and 0 <= item < len(scores)):
        raise ValueError(f"item must be an index between 0 and {len(scores) - 1}.")
    moved = np.repeat(scores[None, :], offsets.size, axis=0)
    moved[:, item] += offsets
    diff = moved[:, :, None] - moved[:, None, :]
    exact = np.sum(wins * special.log_expit(diff), axis=(1, 2))
    curvature = information_matrix(scores, wins)[item, item]
    quadratic = log_likelihood(scores, wins) + log_likelihood_gradient(scores, wins)[item] * \
        offsets - 0.5 * curvature * offsets**2
    return {"offsets": offsets, "exact": exact, "quadratic": quadratic, "curvature": curvature}


def simulate_wins(scores, games_per_pair, seed=0):
    """w_ij ~ Binomial(n, σ(s_i − s_j)) for i < j, and w_ji = n − w_ij   (a round robin)

    scores: (n,) true scores; games_per_pair: whole number ≥ 0; seed: for numpy's default_rng.
    Example: simulate_wins([0, 0], 10, seed=0).sum() -> 10.0
    """
    scores = _check_scores(scores, "scores")
    if isinstance(games_per_pair, bool) or not isinstance(games_per_pair, numbers.Integral) \
            or games_per_pair < 0:
        raise ValueError(f"games_per_pair must be a whole number >= 0, got {games_per_pair!r}.")
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.binomial(games_per_pair, win_matrix(scores)), k=1)
    lower = np.triu(games_per_pair - upper, k=1).T
    return (upper + lower).astype(float)


# The table's text form (links carry it)


def format_wins(wins):
    """The table as text, one row per item, rows split by "/".

    Example: format_wins([[0, 3], [1, 0]]) -> "0 3 / 1 0"
    """
    wins = _check_wins(wins)
    return " / ".join(" ".join(f"{int(w)}" if w == int(w) else f"{w:g}" for w in row)
                      for row in wins)


def parse_wins(text, max_count=999, max_items=MAX_ITEMS):
    """Read "0 3 / 1 0" (rows split by "/" or ";", numbers by spaces or commas) into a table.

    Raises ValueError with a message a learner can act on: wrong shape, fewer than 2 or more
    than max_items rows, a non-number, a negative or fractional count, a count above
    max_count, a non-zero diagonal.
    Example: parse_wins("0 3 / 1 0") -> array([[0., 3.], [1., 0.]])
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("The table is empty: type one row per item, rows split by '/'.")
    rows = [row.strip() for row in re.split(r"[/;|\n]", text.strip())]
    if any(not row for row in rows):
        raise ValueError("The table has an empty row: check for a doubled or trailing '/'.")
    table = []
    for r, row in enumerate(rows, start=1):
        values = []
        for cell in re.split(r"[\s,]+", row):
            if not re.fullmatch(r"[0-9]+", cell):
                shown = cell[:12]
                if re.fullmatch(r"[+-]?[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?", cell, re.IGNORECASE):
                    raise ValueError(f"Row {r}: '{shown}' is not a whole number >= 0; a count "
                                     "of wins is 0, 1, 2, ...")
                raise ValueError(f"Row {r}: '{shown}' is not a number.")
            if int(cell) > max_count:
                raise ValueError(f"Row {r}: {int(cell)} is more than the {max_count} games a "
                                 "cell can hold here.")
            values.append(float(cell))
        table.append(values)
    n = len(table)
    if not 2 <= n <= max_items:
        raise ValueError(f"The table has {n} row{'s' * (n != 1)}; this lesson takes 2 to "
                         f"{max_items} items, one row each.")
    bad = [r + 1 for r, row in enumerate(table) if len(row) != n]
    if bad:
        raise ValueError(f"There are {n} rows, so every row needs {n} numbers; row "
                         f"{bad[0]} has {len(table[bad[0] - 1])}.")
    wins = np.array(table)
    if np.any(np.diag(wins) != 0):
        i = int(np.flatnonzero(np.diag(wins))[0])
        raise ValueError(f"Row {i + 1}, column {i + 1} must be 0: an item cannot play itself.")
    return wins


# The reward model: Bradley–Terry with a score computed from the reply


def reward_model_loss(chosen_rewards, rejected_rewards):
    """L = mean over pairs of −log σ(r_w − r_l)   (Eq. 1 of Ouyang et al. 2022; natural log)

    chosen_rewards, rejected_rewards: (m,) rewards of the preferred (y_w) and the other (y_l)
    reply of each of m pairs. log_expit keeps it exact for huge gaps (no log(0)).
    Example: reward_model_loss([1.0], [1.0]) -> 0.6931 (= ln 2: no preference yet)
    """
    chosen = _check_scores(chosen_rewards, "chosen_rewards")
    rejected = _check_scores(rejected_rewards, "rejected_rewards")
    if chosen.shape != rejected.shape:
        raise ValueError(
            f"chosen_rewards has shape {chosen.shape} but rejected_rewards {rejected.shape}: "
            "give one chosen and one rejected reward per pair."
        )
    return float(np.mean(-special.log_expit(chosen - rejected)))


# Features of a reply: each one is a plain count a reader can check by eye.
# The annotation example (the Bradley–Terry lesson's "You are the annotator" step and class
# mode's "items" activity): one prompt, six replies, and the pairs shown, in that order.
EXAMPLE_PROMPT = "My basil plant is wilting. What should I do?"
EXAMPLE_REPLIES = (
    "Water it.",
    "Check the soil first. If the top 2 cm are dry, water slowly until water runs out of the "
    "drainage holes. Then give it 6 hours of sunlight a day and keep it away from cold drafts.",
    "It might be too little water, or maybe too much. It could possibly be the light as well. "
    "Perhaps try changing one thing and see what happens.",
    "Sorry to hear that! Happy to help. How often do you water it, and does the pot have holes "
    "in the bottom?",
    "Basil is a popular herb that many people enjoy growing at home, and wilting is one of the "
    "most common things that gardeners notice. Plants wilt for many different reasons, including "
    "watering habits, light levels, temperature, the size of the pot and the health of the "
    "roots, and each of these deserves careful thought before you decide what to change.",
    "Good news: basil usually bounces back. Water it when the top 2 cm of soil feel dry, move it "
    "to a spot with 6 or more hours of sun, and pinch off any flower buds. Hope it perks up soon!",
)
EXAMPLE_PAIRS = ((0, 1), (2, 3), (4, 5), (1, 2), (3, 4), (5, 0), (1, 5), (0, 3),
                 (0, 2), (0, 4), (1, 3), (1, 4), (2, 4), (2, 5), (3, 5))

FEATURES = ("length", "numbers", "hedges", "warmth", "asks back")
FEATURE_HELP = {
    "length": "words in the reply, divided by 10",
    "numbers": "how many numbers it gives (2 cm, 6 hours): a sign of concrete advice",
    "hedges": "hedging words: maybe, might, perhaps, possibly, probably, could",
    "warmth": "friendly words: sorry, happy, hope, glad, good news, thanks",
    "asks back": "1 if it asks the user a question, else 0",
}
_HEDGES = ("maybe", "might", "perhaps", "possibly", "probably", "could")
_WARMTH = ("sorry", "happy", "hope", "glad", "good news", "thanks")


def reply_features(text):
    """φ(y) = (words/10, numbers, hedging words, warm words, asks a question)   (see FEATURES)

    text: the reply. Returns (5,) floats, in the order of FEATURES.
    Example: reply_features("Maybe water it 2 times?") -> array([0.5, 1., 1., 0., 1.])
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("A reply must be non-empty text.")
    lower = text.lower()
    words = re.findall(r"[a-z0-9]+(?:['.,][a-z0-9]+)*", lower)  # "1.5" and "don't" are one word
    numbers_given = re.findall(r"\b\d+(?:[.,]\d+)?\b", lower)
    hedges = sum(words.count(word) for word in _HEDGES)
    warmth = sum(len(re.findall(rf"\b{phrase}\b", lower)) for phrase in _WARMTH)
    return np.array([len(words) / 10, len(numbers_given), hedges, warmth, float("?" in text)])


def standardize(features):
    """z = (φ − mean) / std   (per feature over the replies; a constant feature becomes 0)

    features: (k, d). A common scale lets one learning rate suit every weight, and a weight
    then reads "reward per standard deviation of the feature".
    Example: standardize([[1.0], [3.0]]) -> array([[-1.], [ 1.]])
    """
    features = _check_scores(features, "features")
    if features.ndim != 2:
        raise ValueError("features must be a (replies, features) table.")
    std = features.std(axis=0)
    return (features - features.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _check_pairs(features, chosen, rejected):
    features = _check_scores(features, "features")
    if features.ndim != 2:
        raise ValueError("features must be a (replies, features) table.")
    chosen, rejected = np.asarray(chosen), np.asarray(rejected)
    if chosen.shape != rejected.shape or chosen.ndim != 1:
        raise ValueError("chosen and rejected must be equal-length lists of reply indices.")
    for index in (chosen, rejected):
        if index.size and (not np.issubdtype(index.dtype, np.integer) or index.min() < 0
                           or index.max() >= features.shape[0]):
            raise ValueError(f"Reply indices must be whole numbers 0..{features.shape[0] - 1}.")
    return features, chosen.astype(int), rejected.astype(int)


def reward_model_objective(weights, features, chosen, rejected, l2=0.0):
    """J(w) = mean_pairs −log σ(w·(φ_w − φ_l)) + λ/2·|w|²   (the reward-model loss, r = w·φ)

    weights: (d,); features: (k, d); chosen, rejected: (m,) indices of each pair's replies.
    Example: reward_model_objective([0.0], [[1.0], [0.0]], [0], [1]) -> 0.6931
    """
    features, chosen, rejected = _check_pairs(features, chosen, rejected)
    rewards = features @ _check_scores(weights, "weights")
    w = np.asarray(weights, dtype=float)
    return reward_model_loss(rewards[chosen], rewards[rejected]) + 0.5 * _check_l2(l2) * w @ w


def reward_model_gradient(weights, features, chosen, rejected, l2=0.0):
    """∇J(w) = −mean_pairs σ(−w·Δφ)·Δφ + λ·w,  Δφ = φ_w − φ_l   (d/dm −log σ(m) = −σ(−m))

    Example: reward_model_gradient([0.0], [[1.0], [0.0]], [0], [1]) -> array([-0.5])
    """
    features, chosen, rejected = _check_pairs(features, chosen, rejected)
    w = _check_scores(weights, "weights")
    delta = features[chosen] - features[rejected]
    return -(special.expit(-(delta @ w)) @ delta) / len(chosen) + _check_l2(l2) * w


def fit_reward_model(features, chosen, rejected, learning_rate=0.5, steps=200, l2=0.01):
    """w ← w − η·∇J(w) from w = 0, `steps` times   (full-batch gradient descent)

    features: (k, d) features of the k replies (standardise them first); chosen, rejected:
    (m,) indices of the preferred and the other reply of each judged pair.
    Returns dict: weights (d,), rewards (k,) = features·w, loss (steps + 1,) curve of J,
    agreement (steps + 1,) fraction of pairs with r_w > r_l, reproduced (pairs it gets right
    at the end), ranking (reply indices, best first), and the run step by step:
    weights_path (steps + 1, d) and rewards_path (steps + 1, k), row t after t steps.
    Example: fit_reward_model([[1.0], [0.0]], [0], [1], steps=1)["loss"] -> array([0.6931, 0.5763])
    """
    features, chosen, rejected = _check_pairs(features, chosen, rejected)
    if chosen.size == 0:
        raise ValueError("Judge at least one pair: the reward model learns from your choices.")
    if not (isinstance(learning_rate, numbers.Real) and 0 < learning_rate < math.inf):
        raise ValueError(f"The learning rate must be a positive number, got {learning_rate!r}.")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0, got {steps!r}.")
    l2 = _check_l2(l2)
    w = np.zeros(features.shape[1])
    delta = features[chosen] - features[rejected]
    loss, agreement = np.empty(steps + 1), np.empty(steps + 1)
    weights_path = np.empty((steps + 1, features.shape[1]))
    for step in range(steps + 1):
        weights_path[step] = w
        margin = delta @ w
        loss[step] = np.mean(-special.log_expit(margin)) + 0.5 * l2 * w @ w
        agreement[step] = np.mean(margin > 0)
        if step < steps:
            w = w - learning_rate * (-(special.expit(-margin) @ delta) / len(margin) + l2 * w)
    rewards = features @ w
    reproduced = rewards[chosen] > rewards[rejected]
    return {
        "weights": w,
        "rewards": rewards,
        "loss": loss,
        "agreement": agreement,
        "reproduced": reproduced,
        "ranking": np.argsort(-rewards, kind="stable"),
        "weights_path": weights_path,
        "rewards_path": weights_path @ features.T,
    }


def annotate(features, pairs, utility_weights):
    """For each pair (a, b): 0 if u(a) ≥ u(b) else 1, with u = φ·v   (a rule-following judge)

    A stand-in annotator with hidden tastes v: it picks the reply of higher utility (the first
    on a tie). features: (k, d); pairs: (m, 2) reply indices. Returns (m,) 0 = first, 1 = second.
    Example: annotate([[1.0], [2.0]], [(0, 1)], [1.0]) -> array([1])
    """
    features = _check_scores(features, "features")
    pairs = np.asarray(pairs)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError("pairs must be a list of (first, second) reply indices.")
    utility = features @ _check_scores(utility_weights, "utility_weights")
    return (utility[pairs[:, 1]] > utility[pairs[:, 0]]).astype(int)
