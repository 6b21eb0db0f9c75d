"""Information theory for the dice game: entropy, cross-entropy, KL divergence and friends.

The KL-divergence lesson tells one story. Three dice, a sequence of ten rolls, and a question:
which die most likely produced it? The probability of the sequence is a product of face
probabilities (`sequence_likelihood`). That product shrinks towards 0 as the sequence grows, so we
take its log (`sequence_log_likelihood`) and divide by the number of rolls n
(`average_log_likelihood`). For long sequences rolled from a die P, that average settles at
-CE(P, Q), and the gap to the best possible value -H(P) is the KL divergence KL(P‖Q) =
CE(P, Q) - H(P) (`running_average_logratio`, `likelihood_vs_n`).

Around that core sit the other ways to compare two distributions (Jensen–Shannon, total
variation, Wasserstein) and the G-test, which answers "how large a KL is significant?":
G = 2·n·KL(empirical‖model) is approximately chi-square with k-1 degrees of freedom.

Every function is pure numpy/scipy. Distributions are arrays of k probabilities (one per face);
entropies and divergences are in bits by default (`base=2`); pass `base=np.e` (or "nats") for
nats. Bad input raises ValueError with a message a learner can act on.
"""

import math
import numbers
from decimal import Decimal, localcontext
from itertools import combinations

import numpy as np
from scipy import special, stats


def _frozen(values):
    """A read-only array: the constants below are shared by every page, so nobody edits them."""
    array = np.array(values)
    array.setflags(write=False)
    return array


DICE = {
    "Die 1": _frozen([0.4, 0.2, 0.1, 0.1, 0.2]),
    "Die 2": _frozen([0.4, 0.1, 0.2, 0.2, 0.1]),
    "Die 3": _frozen([0.1, 0.2, 0.4, 0.2, 0.1]),
}
# How many times each face 1..5 shows up in the dice game's sequence of 10 rolls.
DICE_COUNTS = _frozen([4, 2, 1, 1, 2])

UNITS = {"bits": 2.0, "nats": math.e}
SUM_TOLERANCE = 1e-6
TIE_TOLERANCE = 1e-9  # G values this close count as "at least as extreme"
MAX_EXACT_COUNT_VECTORS = 50_000
# The chi-square approximation of the G-test is trusted when every expected count n·q is at
# least this (Cochran 1954's rule of thumb); below it the exact multinomial p-value is used.
MIN_EXPECTED_COUNT = 5
SIGNIFICANCE_LEVEL = 0.05
MAX_EXACT_DIGITS = 10_000  # an exact decimal product longer than this is not worth writing out


# Validation


def _check_distribution(p, name="P"):
    """Return p as a float array (..., k) after checking it is a probability distribution."""
    p = np.asarray(p, dtype=float)
    if p.ndim == 0:
        raise ValueError(
            f"{name} must be a list of probabilities, one per outcome, not one number."
        )
    if p.shape[-1] == 0:
        raise ValueError(f"{name} is empty: give at least one probability.")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name} contains NaN or infinity: every probability must be a number.")
    if np.any(p < 0):
        raise ValueError(
            f"{name} has a negative probability ({p.min():g}): probabilities are >= 0."
        )
    total = p.sum(axis=-1)
    if np.any(np.abs(total - 1) > SUM_TOLERANCE):
        bad = np.ravel(total)[np.argmax(np.ravel(np.abs(total - 1)))]
        raise ValueError(
            f"{name}'s probabilities add up to {bad:.6g}, not 1: divide them by their sum."
        )
    return p


def _check_pair(p, q, names=("P", "Q")):
    """Check two distributions over the same k outcomes."""
    p, q = _check_distribution(p, names[0]), _check_distribution(q, names[1])
    if p.shape[-1] != q.shape[-1]:
        raise ValueError(
            f"{names[0]} has {p.shape[-1]} outcomes but {names[1]} has {q.shape[-1]}: "
            "both must give one probability per outcome."
        )
    return p, q


def _check_counts(counts, k, name="counts"):
    """Return counts as a float array (k,) of non-negative whole numbers."""
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(f"{name} must be a non-empty list with one count per outcome.")
    if not np.all(np.isfinite(counts)):
        raise ValueError(f"{name} contains NaN or infinity: counts must be whole numbers.")
    if np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise ValueError(f"{name} must be whole numbers >= 0 (how many times each face came up).")
    if counts.size != k:
        raise ValueError(
            f"There are {counts.size} counts but {k} probabilities: give one per face."
        )
    return counts


def _check_n(n, name="n"):
    """Return n as an int, checking it is a whole number >= 1."""
    if isinstance(n, bool) or not isinstance(n, numbers.Real) or not float(n).is_integer() or n < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {n!r}.")
    return int(n)


def _log_base(base):
    """ln(base): the divisor that turns natural logs into logs in the given base."""
    base = UNITS.get(base, base) if isinstance(base, str) else base
    if not isinstance(base, numbers.Real) or not np.isfinite(base) or base <= 0 or base == 1:
        raise ValueError(
            f"The log base must be a number > 0 and not 1 (2 for bits, e for nats), got {base!r}."
        )
    return math.log(base)


def _scalar_or_array(x):
    """A float for a single result, an array for a batch of them."""
    return float(x) if np.ndim(x) == 0 else x


def _check_rolls(rolls, k):
    """Return rolls as an int array of face indices in 0..k-1."""
    rolls = np.asarray(rolls)
    if rolls.size == 0 and rolls.ndim <= 1:
        return rolls.astype(int)
    if not np.issubdtype(rolls.dtype, np.integer):
        if not np.all(np.isfinite(rolls)) or np.any(rolls != np.round(rolls)):
            raise ValueError("rolls must be whole-number face indices 0, 1, ..., k-1.")
        rolls = rolls.astype(int)
    if np.any(rolls < 0) or np.any(rolls >= k):
        raise ValueError(f"rolls must be face indices between 0 and {k - 1} (faces are 0-based).")
    return rolls


# Entropy, cross-entropy, KL divergence


def entropy(p, base=2):
    """H(P) = -Σ p·log p   (with 0·log 0 = 0)

    p: (k,) probabilities, or (..., k) for a batch of distributions.
    Example: entropy([0.5, 0.25, 0.25]) -> 1.5 (bits)
    """
    p = _check_distribution(p, "P")
    return _scalar_or_array(-special.xlogy(p, p).sum(axis=-1) / _log_base(base))


def cross_entropy(p, q, base=2):
    """CE(P, Q) = -Σ p·log q   (inf where q = 0 < p)

    p, q: (k,) probabilities over the same outcomes, or broadcastable (..., k) batches.
    Example: cross_entropy([0.5, 0.5], [0.25, 0.75]) -> 1.2075 (bits)
    """
    p, q = _check_pair(p, q)
    return _scalar_or_array(-special.xlogy(p, q).sum(axis=-1) / _log_base(base))


def kl_divergence(p, q, base=2):
    """KL(P‖Q) = Σ p·log(p/q)   (inf where q = 0 < p; terms with p = 0 are 0)

    p, q: (k,) probabilities over the same outcomes, or broadcastable (..., k) batches.
    Example: kl_divergence([0.5, 0.5], [0.25, 0.75]) -> 0.2075 (bits)
    """
    p, q = _check_pair(p, q)
    return _scalar_or_array(special.rel_entr(p, q).sum(axis=-1) / _log_base(base))


def kl_terms(p, q, base=2):
    """t_i = p_i·log(p_i/q_i)   (each outcome's share of KL(P‖Q); Σ t_i = KL(P‖Q))

    A share is negative where q > p, inf where q = 0 < p, and 0 where p = 0.
    p, q: (k,) probabilities. Returns (k,) array.
    Example: kl_terms([0.5, 0.5], [0.25, 0.75]) -> array([0.5, -0.2925])
    """
    p, q = _check_pair(p, q)
    return special.rel_entr(p, q) / _log_base(base)


def kl_both_ways(p, q, base=2, rtol=1e-9):
    """KL(P‖Q) and KL(Q‖P) with their terms, and which direction is larger

    p, q: (k,) probabilities over the same outcomes.
    Returns a dict: kl_pq, kl_qp (floats), terms_pq, terms_qp ((k,) arrays, see `kl_terms`),
    infinite_pq, infinite_qp (0-based outcomes whose term is inf) and larger ("pq", "qp" or
    "equal": within rtol, or both infinite).
    Example: kl_both_ways([0.5, 0.5], [0.9, 0.1])["larger"] -> "pq"  (0.737 vs 0.531 bits)
    """
    terms_pq, terms_qp = kl_terms(p, q, base), kl_terms(q, p, base)
    kl_pq, kl_qp = float(terms_pq.sum()), float(terms_qp.sum())
    if kl_pq == kl_qp or math.isclose(kl_pq, kl_qp, rel_tol=rtol, abs_tol=rtol):
        larger = "equal"
    else:
        larger = "pq" if kl_pq > kl_qp else "qp"
    return {
        "kl_pq": kl_pq,
        "kl_qp": kl_qp,
        "terms_pq": terms_pq,
        "terms_qp": terms_qp,
        "infinite_pq": np.flatnonzero(np.isinf(terms_pq)),
        "infinite_qp": np.flatnonzero(np.isinf(terms_qp)),
        "larger": larger,
    }


def js_divergence(p, q, base=2):
    """JS(P, Q) = ½·KL(P‖M) + ½·KL(Q‖M),  M = (P + Q)/2   (symmetric, at most 1 bit)

    p, q: (k,) probabilities over the same outcomes, or broadcastable (..., k) batches.
    Example: js_divergence([1, 0], [0, 1]) -> 1.0 (bits)
    """
    p, q = _check_pair(p, q)
    m = (p + q) / 2  # Lin 1991, "Divergence measures based on the Shannon entropy"
    return 0.5 * kl_divergence(p, m, base) + 0.5 * kl_divergence(q, m, base)


def total_variation(p, q):
    """TV(P, Q) = ½·Σ |p - q|   (between 0 and 1)

    p, q: (k,) probabilities over the same outcomes, or broadcastable (..., k) batches.
    Example: total_variation([0.5, 0.5], [0.25, 0.75]) -> 0.25
    """
    p, q = _check_pair(p, q)
    return _scalar_or_array(0.5 * np.abs(p - q).sum(axis=-1))


def wasserstein(p, q, support):
    """W1(P, Q) = ∫ |F_P(x) - F_Q(x)| dx   (earth mover's distance on the real line)

    The mass that has to move times the distance it moves, computed from the two CDFs.
    p, q: (k,) probabilities (or (..., k) batches); support: (k,) positions of the outcomes.
    Example: wasserstein([1, 0, 0], [0, 0, 1], support=[0, 1, 2]) -> 2.0
    """
    p, q = _check_pair(p, q)
    support = np.asarray(support, dtype=float)
    if support.ndim != 1 or support.size != p.shape[-1] or not np.all(np.isfinite(support)):
        raise ValueError(f"support must be {p.shape[-1]} finite positions, one per outcome.")
    # On the line, W1 is the L1 distance between the CDFs (Vallender 1973)
    order = np.argsort(support)
    cdf_gap = np.cumsum(p[..., order] - q[..., order], axis=-1)[..., :-1]
    return _scalar_or_array(np.abs(cdf_gap) @ np.diff(support[order]))


# The dice game: likelihood of a sequence


def sequence_likelihood(counts, probs):
    """L = Π p_i^c_i   (probability of one particular sequence with these face counts)

    Not the multinomial probability of the counts: there is no binomial coefficient, because the
    dice game asks about the exact sequence that was rolled.
    counts: (k,) whole numbers; probs: (k,) probabilities.
    Example: sequence_likelihood([4, 2, 1, 1, 2], DICE["Die 1"]) -> 4.096e-07
    """
    probs = _check_distribution(probs, "probs")
    counts = _check_counts(counts, probs.size)
    return float(np.prod(probs**counts))


def exact_sequence_likelihood(counts, probs, max_digits=MAX_EXACT_DIGITS):
    """L = Π p_i^c_i   in exact decimal arithmetic, each p_i read as the decimal it prints as

    `sequence_likelihood` multiplies binary floats, so 0.4^4·0.2^2·... comes out as
    4.0960000000000014e-07; the product of the decimals 0.4, 0.2, ... is exactly 4.096e-07.
    counts: (k,) whole numbers; probs: (k,) probabilities.
    Returns a Decimal, or None when the exact product would have more than `max_digits`
    significant digits (then use `sequence_log_likelihood`).
    Example: exact_sequence_likelihood([4, 2, 1, 1, 2], DICE["Die 1"]) -> Decimal("4.096E-7")
    """
    probs = _check_distribution(probs, "probs")
    counts = _check_counts(counts, probs.size)
    factors = [(Decimal(repr(float(p))), int(c)) for p, c in zip(probs, counts, strict=True)
               if c > 0]
    digits = sum(c * len(p.as_tuple().digits) for p, c in factors)
    if digits > max_digits:
        return None
    with localcontext() as context:
        context.prec = digits + 2  # enough for every digit: the product is exact
        context.Emin = -(10 * digits + 10)
        product = Decimal(1)
        for p, c in factors:
            product *= p**c
        return product.normalize()


def sequence_log_likelihood(counts, probs, base=2):
    """log L = Σ c_i·log p_i   (-inf where p = 0 < c)

    counts: (k,) whole numbers; probs: (k,) probabilities.
    Example: sequence_log_likelihood([4, 2, 1, 1, 2], DICE["Die 1"]) -> -21.2193 (bits)
    """
    probs = _check_distribution(probs, "probs")
    counts = _check_counts(counts, probs.size)
    return float(special.xlogy(counts, probs).sum() / _log_base(base))


def average_log_likelihood(counts, probs, base=2):
    """(1/n)·Σ c_i·log p_i,  n = Σ c_i   (the dice game's "divide by n" step)

    Dividing by n makes sequences of different lengths comparable: for long sequences rolled from
    P it tends to -CE(P, probs), a number that does not shrink with n.
    counts: (k,) whole numbers; probs: (k,) probabilities.
    Example: average_log_likelihood([4, 2, 1, 1, 2], DICE["Die 1"]) -> -2.12193 (bits)
    """
    log_likelihood = sequence_log_likelihood(counts, probs, base)  # validates
    n = np.sum(counts)
    if n < 1:
        raise ValueError("The counts add up to 0: averaging over n rolls needs at least one roll.")
    return float(log_likelihood / n)


# Is the difference significant? The G-test


def _g_statistic(counts, probs):
    """G = 2·Σ c·ln(c / (n·p)) = 2·n·KL_nats(empirical‖model), row-wise for counts (..., k)."""
    n = counts.sum(axis=-1, keepdims=True)
    return 2 * n[..., 0] * special.rel_entr(counts / n, probs).sum(axis=-1)


def _check_test_input(counts, probs):
    """Check counts and model probabilities for a goodness-of-fit test; also return n."""
    probs = _check_distribution(probs, "probs")
    if probs.ndim != 1 or probs.size < 2:
        raise ValueError("A goodness-of-fit test needs one distribution with at least 2 outcomes.")
    counts = _check_counts(counts, probs.size)
    n = counts.sum()
    if n < 1:
        raise ValueError("The counts add up to 0: the test needs at least one roll (n >= 1).")
    return counts, probs, int(n)


def g_test(counts, probs):
    """G = 2·n·KL(empirical‖model) in nats;  p-value = P(χ²_{k-1} >= G)

    The chi-square approximation is poor when expected counts n·p are small (< 5): see
    `min_expected_count` and `multinomial_p_value`.
    counts: (k,) whole numbers; probs: (k,) model probabilities. Returns (G, p_value).
    Example: g_test([4, 2, 1, 1, 2], DICE["Die 3"]) -> (9.7041, 0.0457)
    """
    counts, probs, _ = _check_test_input(counts, probs)
    # A likelihood-ratio test: G -> chi-square as n grows (Wilks 1938)
    g = float(_g_statistic(counts, probs))
    return g, float(stats.chi2.sf(g, df=probs.size - 1))


def p_value_for_kl(kl_nats, n, k):
    """p = P(χ²_{k-1} >= 2·n·KL)   (the G-test's p-value if the empirical KL stayed at kl_nats)

    Shows why no KL value is "significant" on its own: the same KL is noise for small n and
    overwhelming evidence for large n.
    kl_nats: KL(empirical‖model) in nats, >= 0; n: (m,) sample sizes or one; k: outcomes >= 2.
    Example: p_value_for_kl(0.1, [10, 100], 5) -> array([0.7358, 0.000499])
    """
    if not np.isfinite(kl_nats) or kl_nats < 0:
        raise ValueError("kl_nats must be a finite number >= 0.")
    if int(k) != k or k < 2:
        raise ValueError("k, the number of outcomes, must be a whole number >= 2.")
    n = np.asarray(n, dtype=float)
    if np.any(n < 1):
        raise ValueError("Sample sizes n must be >= 1.")
    return _scalar_or_array(stats.chi2.sf(2 * n * kl_nats, df=k - 1))


def _all_count_vectors(n, k):
    """Every (c_1, ..., c_k) of whole numbers >= 0 adding up to n, by stars and bars: (M, k)."""
    bars = np.array(list(combinations(range(n + k - 1), k - 1)), dtype=int).reshape(-1, k - 1)
    edges = np.column_stack([np.full(len(bars), -1), bars, np.full(len(bars), n + k - 1)])
    return np.diff(edges, axis=1) - 1


def _exact_tail(counts, probs, g_obs):
    """Σ Multinomial(c; n, probs) over every count vector c with G(c) >= G_obs."""
    sims = _all_count_vectors(int(counts.sum()), probs.size)
    extreme = _g_statistic(sims, probs) >= g_obs - TIE_TOLERANCE
    return float(min(1.0, stats.multinomial.pmf(sims[extreme], int(counts.sum()), probs).sum()))


def _monte_carlo_tail(counts, probs, g_obs, n_samples, seed):
    """Fraction of n_samples seeded Multinomial(n, probs) draws with G >= G_obs."""
    rng = np.random.default_rng(seed)
    sims = rng.multinomial(int(counts.sum()), probs, size=n_samples)
    return float(np.mean(_g_statistic(sims, probs) >= g_obs - TIE_TOLERANCE))


def multinomial_p_value(counts, probs, n_samples=20_000, seed=0, max_exact=MAX_EXACT_COUNT_VECTORS):
    """p-value = P(G_sim >= G_obs), counts_sim ~ Multinomial(n, probs)   (no χ² approximation)

    Exact (summing multinomial probabilities over every possible count vector) when there are at
    most `max_exact` (50,000) of them, otherwise Monte Carlo with `n_samples` seeded draws.
    counts: (k,) whole numbers; probs: (k,) model probabilities.
    Returns a dict: p_value, method ("exact" or "monte carlo"), G, chi2_p_value (the g_test
    approximation, for comparison), n_count_vectors, n_samples (None when exact), standard_error.
    Example: multinomial_p_value([4, 2, 1, 1, 2], DICE["Die 3"])["p_value"] -> 0.0584 (exact)
    """
    counts, probs, n = _check_test_input(counts, probs)
    n_samples = _check_n(n_samples, "n_samples")
    probs = probs / probs.sum()  # sums to 1 exactly, as the samplers require
    g_obs, chi2_p_value = g_test(counts, probs)
    n_count_vectors = math.comb(n + probs.size - 1, probs.size - 1)
    exact = n_count_vectors <= max_exact
    if exact:
        p_value = _exact_tail(counts, probs, g_obs)
    else:
        p_value = _monte_carlo_tail(counts, probs, g_obs, n_samples, seed)
    return {
        "p_value": p_value,
        "method": "exact" if exact else "monte carlo",
        "G": g_obs,
        "chi2_p_value": chi2_p_value,
        "n_count_vectors": n_count_vectors,
        "n_samples": None if exact else n_samples,
        "standard_error": 0.0 if exact else math.sqrt(p_value * (1 - p_value) / n_samples),
    }


def min_expected_count(counts, probs):
    """n·min(p),  n = Σ counts   (the χ² approximation of the G-test wants this >= 5)

    counts: (k,) whole numbers; probs: (k,) model probabilities.
    Example: min_expected_count([4, 2, 1, 1, 2], DICE["Die 1"]) -> 1.0
    """
    probs = _check_distribution(probs, "probs")
    counts = _check_counts(counts, probs.size)
    return float(counts.sum() * probs.min())


def significance(counts, probs, alpha=SIGNIFICANCE_LEVEL, min_expected=MIN_EXPECTED_COUNT):
    """The G-test's verdict on the p-value to trust: P(χ²_{k-1} >= G) when every expected count
    n·q is at least `min_expected`, else the multinomial p-value without the approximation.

    counts: (k,) whole numbers; probs: (k,) model probabilities.
    Returns a dict: G, chi2_p_value, min_expected (n·min q), method ("chi-square", "exact" or
    "monte carlo"), p_value (the one to trust), rare (p_value < alpha), alpha, and "exact" (the
    `multinomial_p_value` dict, or None when the approximation is good).
    Example: significance([4, 2, 1, 1, 2], DICE["Die 3"]) -> {"p_value": 0.0584,
             "chi2_p_value": 0.0457, "method": "exact", "rare": False, ...}
    """
    g, chi2_p_value = g_test(counts, probs)  # validates
    smallest = min_expected_count(counts, probs)
    exact = multinomial_p_value(counts, probs) if smallest < min_expected else None
    p_value = chi2_p_value if exact is None else exact["p_value"]
    return {
        "G": g,
        "chi2_p_value": chi2_p_value,
        "min_expected": smallest,
        "method": "chi-square" if exact is None else exact["method"],
        "p_value": p_value,
        "rare": bool(p_value < alpha),
        "alpha": alpha,
        "exact": exact,
    }


# Rolling dice and watching averages settle


def roll_dice(probs, n, seed):
    """x_1, ..., x_n ~ P   (n independent rolls, faces 0-based)

    probs: (k,) face probabilities. Returns (n,) ints in 0..k-1.
    Example: roll_dice(DICE["Die 1"], 5, seed=0) -> array([2, 0, 0, 0, 4])
    """
    probs = _check_distribution(probs, "probs")
    if probs.ndim != 1:
        raise ValueError(
            "probs must be one distribution: a flat list with one probability per face."
        )
    rng = np.random.default_rng(seed)
    return rng.choice(probs.size, size=_check_n(n), p=probs / probs.sum())


def face_counts(rolls, k):
    """c_i = #{t : x_t = i}   (how many times each face came up)

    rolls: (n,) face indices in 0..k-1. Returns (k,) ints.
    Example: face_counts([0, 0, 2, 1, 0], k=4) -> array([3, 1, 1, 0])
    """
    k = _check_n(k, "k")
    rolls = _check_rolls(rolls, k)
    if rolls.ndim != 1:
        raise ValueError("rolls must be a flat list of face indices.")
    return np.bincount(rolls, minlength=k)


def running_average_logratio(rolls, p, q, base=2):
    """A_t = (1/t)·Σ_{s<=t} log(p[x_s] / q[x_s]),  t = 1..n   (-> KL(P‖Q) when x ~ P)

    The law of large numbers at work: the average of the log-ratio over rolls from P settles at its
    expected value, which is KL(P‖Q).
    rolls: (n,) or (seeds, n) face indices; p, q: (k,) probabilities. Returns rolls' shape.
    Example: running_average_logratio([0, 1], [0.5, 0.5], [0.25, 0.75]) -> array([1.0, 0.2075])
    """
    p, q = _check_pair(p, q)
    rolls = _check_rolls(rolls, p.size)
    if rolls.ndim not in (1, 2) or rolls.shape[-1] == 0:
        raise ValueError("rolls must be a non-empty (n,) or (seeds, n) array of face indices.")
    with np.errstate(divide="ignore", invalid="ignore"):
        logratio = (np.log(p) - np.log(q)) / _log_base(base)
        t = np.arange(1, rolls.shape[-1] + 1)
        return np.cumsum(logratio[rolls], axis=-1) / t


def likelihood_vs_n(probs_true, probs_model, n_max, seed, base=2):
    """L_n = Π_{t<=n} q[x_t],  log L_n,  (1/n)·log L_n  for n = 1..n_max,  x ~ P

    One seeded sequence of rolls from P scored by the model Q: the likelihood underflows to 0
    (that is why we take logs), the log-likelihood keeps falling (that is why we divide by n),
    and the average settles at -CE(P, Q).
    probs_true, probs_model: (k,) probabilities. Returns a dict of (n_max,) arrays "n", "rolls",
    "likelihood", "log_likelihood", "average_log_likelihood", and the float "limit" = -CE(P, Q).
    Example: likelihood_vs_n(DICE["Die 1"], DICE["Die 1"], 5000, 0)["likelihood"][-1] -> 0.0
    """
    probs_true, probs_model = _check_pair(probs_true, probs_model, ("probs_true", "probs_model"))
    rolls = roll_dice(probs_true, n_max, seed)
    n = np.arange(1, rolls.size + 1)
    with np.errstate(divide="ignore"):
        log_likelihood = np.cumsum(np.log(probs_model[rolls])) / _log_base(base)
    return {
        "n": n,
        "rolls": rolls,
        "likelihood": np.cumprod(probs_model[rolls]),
        "log_likelihood": log_likelihood,
        "average_log_likelihood": log_likelihood / n,
        "limit": -cross_entropy(probs_true, probs_model, base),
    }


# Editing distributions on a page


def normalise(weights, name=None):
    """p_i = w_i / Σ w   (turn non-negative weights into probabilities)

    weights: (k,) numbers >= 0, not all 0; name: whose weights they are ("P", "Q"), for the
    error messages.
    Example: normalise([2, 1, 1]) -> array([0.5, 0.25, 0.25])
    """
    whose = "weights" if name is None else f"{name}'s weights"
    weights = np.asarray(weights, dtype=float)
    if weights.ndim != 1 or weights.size == 0:
        raise ValueError(f"{whose} must be a non-empty list of numbers, one per outcome.")
    if not np.all(np.isfinite(weights)):
        raise ValueError(f"{whose} must be finite numbers >= 0: NaN and infinity are not.")
    if np.any(weights < 0):
        raise ValueError(f"{whose} must be finite numbers >= 0, and "
                         f"{weights[weights < 0][0]:g} is negative.")
    if weights.sum() == 0:
        raise ValueError(f"All {whose} are 0: at least one outcome needs a positive weight.")
    return weights / weights.sum()


def renormalised(p, tol=SUM_TOLERANCE, name=None):
    """p / Σ p if Σ p is not 1 (within tol), else p unchanged   -> (p, was_changed)

    For an editor whose sliders need not add up to 1: the page shows a note when was_changed.
    p: (k,) numbers >= 0, not all 0; name: whose numbers they are, for the error messages.
    Example: renormalised([0.2, 0.2, 0.2]) -> (array([0.3333, 0.3333, 0.3333]), True)
    """
    weights = normalise(p, name)  # validates
    p = np.asarray(p, dtype=float)
    if abs(p.sum() - 1) <= tol:
        return p.copy(), False
    return weights, True


def convert_units(value, from_base, to_base):
    """value_to = value_from · ln(from_base) / ln(to_base)   (e.g. bits -> nats: × ln 2)

    value: a float or array; bases: numbers (2, e, 10) or "bits" / "nats".
    Example: convert_units(1.0, "bits", "nats") -> 0.6931
    """
    converted = np.asarray(value, dtype=float) * _log_base(from_base) / _log_base(to_base)
    return _scalar_or_array(converted)


# Sliding one distribution away from another


SHAPES = ("normal", "triangle")


def shifted_distribution(support, center, width, shape="triangle"):
    """p_i ∝ max(0, 1 - |x_i - center| / width)  or  p_i ∝ exp(-(x_i - center)² / (2·width²))

    A bump on the support, normalised. "triangle" is zero beyond `width` from the center, so two
    bumps at least 2·width apart do not overlap: KL becomes inf and JS and TV stop growing,
    while Wasserstein keeps measuring the distance. "normal" (a discretised Gaussian with
    standard deviation `width`) is never exactly zero, so KL stays finite but grows with the
    square of the shift: s²/(2·width²) nats on a wide enough support.
    support: (k,) positions; center: where the bump peaks; width: half-width or sd > 0.
    Example: shifted_distribution([0, 1, 2, 3, 4], 2, 2) -> array([0, 0.25, 0.5, 0.25, 0])
    """
    support = np.asarray(support, dtype=float)
    if support.ndim != 1 or support.size == 0 or not np.all(np.isfinite(support)):
        raise ValueError("support must be a non-empty list of finite positions.")
    if not np.isfinite(center) or not np.isfinite(width) or width <= 0:
        raise ValueError("center must be a finite number and width a number > 0.")
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}, not {shape!r}.")
    if shape == "normal":
        bump = np.exp(-0.5 * ((support - center) / width) ** 2)
    else:
        bump = np.maximum(0.0, 1 - np.abs(support - center) / width)
    if bump.sum() == 0:
        raise ValueError("The bump misses every support point: move its center or widen it.")
    return bump / bump.sum()


def divergence_table(p, q, support, base=2):
    """KL(P‖Q), KL(Q‖P), JS, TV and W1 for one pair, so a page shows them without recomputing.

    p, q: (k,) probabilities; support: (k,) positions (for Wasserstein only).
    Returns a dict of floats: "kl_pq", "kl_qp", "js", "tv", "wasserstein".
    Example: divergence_table([1, 0], [0.5, 0.5], [0, 1]) -> {"kl_pq": 1.0, "kl_qp": inf, ...}
    """
    return {
        "kl_pq": kl_divergence(p, q, base),
        "kl_qp": kl_divergence(q, p, base),
        "js": js_divergence(p, q, base),
        "tv": total_variation(p, q),
        "wasserstein": wasserstein(p, q, support),
    }


def divergence_curves(support, center, width, shifts, base=2, shape="triangle"):
    """KL(P‖Q), KL(Q‖P), JS, TV and W1 as Q's bump slides away from P's, for each shift.

    P = shifted_distribution(support, center, width, shape); Q the same bump moved by each
    shift.
    support: (k,) positions; shifts: (m,) offsets. Returns a dict of (m,) arrays, keyed as in
    `divergence_table`, plus "shift".
    Example: divergence_curves(range(21), 5, 3, [0, 10])["wasserstein"] -> array([0., 10.])
    """
    p = shifted_distribution(support, center, width, shape)
    rows = [
        divergence_table(p, shifted_distribution(support, center + s, width, shape), support, base)
        for s in shifts
    ]
    curves = {key: np.array([row[key] for row in rows]) for key in rows[0]}
    curves["shift"] = np.asarray(shifts, dtype=float)
    return curves
