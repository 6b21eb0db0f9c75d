"""Tests for lessons/information.py: against scipy, closed forms and the dice game's own numbers."""

import ast
import itertools
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

from lessons import information as info
from lessons.information import DICE, DICE_COUNTS

ROOT = Path(__file__).resolve().parents[1]
BASES = [2, np.e]


def random_pairs(n_pairs=100, seed=0):
    """Seeded Dirichlet pairs (p, q) of varied sizes; alpha < 1 gives near-zero probabilities."""
    rng = np.random.default_rng(seed)
    pairs = []
    for i in range(n_pairs):
        k, alpha = [2, 3, 5, 10][i % 4], [0.3, 1.0, 5.0][i % 3]
        pairs.append((rng.dirichlet(np.full(k, alpha)), rng.dirichlet(np.full(k, alpha))))
    return pairs


PAIRS = random_pairs()


# Against scipy


@pytest.mark.parametrize("base", BASES)
def test_entropy_matches_scipy(base):
    for p, _ in PAIRS:
        assert info.entropy(p, base) == pytest.approx(stats.entropy(p, base=base), abs=1e-12)


@pytest.mark.parametrize("base", BASES)
def test_kl_matches_scipy_entropy_with_qk(base):
    for p, q in PAIRS:
        assert info.kl_divergence(p, q, base) == pytest.approx(stats.entropy(p, q, base=base))


def test_kl_matches_rel_entr():
    for p, q in PAIRS:
        assert info.kl_divergence(p, q, np.e) == pytest.approx(special.rel_entr(p, q).sum())


@pytest.mark.parametrize("base", BASES)
def test_cross_entropy_matches_direct_sum(base):
    for p, q in PAIRS:
        expected = -np.sum(p * np.log(q)) / np.log(base)
        assert info.cross_entropy(p, q, base) == pytest.approx(expected)


@pytest.mark.parametrize("base", BASES)
def test_js_is_the_square_of_scipy_jensenshannon(base):
    for p, q in PAIRS:
        expected = jensenshannon(p, q, base=base) ** 2
        assert info.js_divergence(p, q, base) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("spacing", ["uniform", "uneven", "unsorted"])
def test_wasserstein_matches_scipy(spacing):
    rng = np.random.default_rng(1)
    for p, q in PAIRS:
        support = {
            "uniform": np.arange(p.size, dtype=float),
            "uneven": np.cumsum(rng.uniform(0.1, 3, p.size)),
            "unsorted": rng.permutation(p.size) * 1.5 - 2,
        }[spacing]
        expected = stats.wasserstein_distance(support, support, p, q)
        assert info.wasserstein(p, q, support) == pytest.approx(expected, abs=1e-12)


def test_wasserstein_moving_all_mass():
    assert info.wasserstein([1, 0, 0], [0, 0, 1], support=[0, 1, 2]) == 2.0
    assert info.wasserstein([1, 0], [0, 1], support=[0, 10]) == 10.0


def test_g_test_matches_power_divergence():
    rng = np.random.default_rng(2)
    for p, _ in PAIRS:
        counts = rng.multinomial(int(rng.integers(5, 200)), p)
        g, p_value = info.g_test(counts, p)
        expected = stats.power_divergence(counts, counts.sum() * p, lambda_="log-likelihood")
        assert g == pytest.approx(expected.statistic, abs=1e-9)
        assert p_value == pytest.approx(expected.pvalue, abs=1e-12)
        assert 0 <= p_value <= 1


def test_sequence_likelihood_is_the_multinomial_pmf_without_the_coefficient():
    for name, die in DICE.items():
        coefficient = math.factorial(10) / np.prod([math.factorial(c) for c in DICE_COUNTS])
        pmf = stats.multinomial.pmf(DICE_COUNTS, 10, die)
        assert info.sequence_likelihood(DICE_COUNTS, die) == pytest.approx(pmf / coefficient), name


# Properties over many random distributions


def test_kl_is_non_negative_and_zero_only_against_itself():
    for p, q in PAIRS:
        assert info.kl_divergence(p, q) >= 0
        assert info.kl_divergence(p, p) == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("base", BASES)
def test_cross_entropy_is_entropy_plus_kl(base):
    for p, q in PAIRS:
        expected = info.entropy(p, base) + info.kl_divergence(p, q, base)
        assert info.cross_entropy(p, q, base) == pytest.approx(expected)
        assert info.cross_entropy(p, p, base) == pytest.approx(info.entropy(p, base))


def test_js_is_symmetric_and_at_most_one_bit():
    for p, q in PAIRS:
        assert info.js_divergence(p, q) == pytest.approx(info.js_divergence(q, p), abs=1e-15)
        assert 0 <= info.js_divergence(p, q) <= 1
    assert info.js_divergence([1, 0], [0, 1]) == 1.0


def test_total_variation_is_between_0_and_1():
    for p, q in PAIRS:
        assert 0 <= info.total_variation(p, q) <= 1
    assert info.total_variation([1, 0], [0, 1]) == 1.0
    assert info.total_variation([0.5, 0.5], [0.25, 0.75]) == 0.25


def test_bits_and_nats():
    for p, q in PAIRS:
        kl_bits, kl_nats = info.kl_divergence(p, q, 2), info.kl_divergence(p, q, np.e)
        assert kl_bits * np.log(2) == pytest.approx(kl_nats)
        assert info.convert_units(kl_bits, "bits", "nats") == pytest.approx(kl_nats)
        assert info.kl_divergence(p, q, "nats") == pytest.approx(kl_nats)


def test_convert_units():
    assert info.convert_units(1.0, 2, np.e) == pytest.approx(np.log(2))
    assert info.convert_units(1.0, "nats", "bits") == pytest.approx(1 / np.log(2))
    assert info.convert_units(1.0, 10, 2) == pytest.approx(np.log2(10))
    np.testing.assert_allclose(info.convert_units([1.0, 2.0], 2, 4), [0.5, 1.0])


def test_batches_give_the_same_numbers_as_one_pair_at_a_time():
    rng = np.random.default_rng(3)
    p, q = rng.dirichlet(np.ones(4), size=50), rng.dirichlet(np.ones(4), size=50)
    for function in (info.entropy, info.total_variation):
        args = (p,) if function is info.entropy else (p, q)
        batch = function(*args)
        assert batch.shape == (50,)
        np.testing.assert_allclose(batch, [function(*row) for row in zip(*args, strict=True)])
    for function in (info.cross_entropy, info.kl_divergence, info.js_divergence):
        np.testing.assert_allclose(
            function(p, q), [function(a, b) for a, b in zip(p, q, strict=True)]
        )
    support = np.arange(4.0)
    batch = info.wasserstein(p, q, support)
    np.testing.assert_allclose(
        batch, [info.wasserstein(a, b, support) for a, b in zip(p, q, strict=True)]
    )


# The dice game (Design item 11: the corrected numbers of the KL video)


def test_dice_sequence_likelihoods():
    expected = {
        "Die 1": 0.4**4 * 0.2**2 * 0.1 * 0.1 * 0.2**2,
        "Die 2": 0.4**4 * 0.1**2 * 0.2 * 0.2 * 0.1**2,
        "Die 3": 0.1**4 * 0.2**2 * 0.4 * 0.2 * 0.1**2,
    }
    for name, value in expected.items():
        assert info.sequence_likelihood(DICE_COUNTS, DICE[name]) == pytest.approx(value)
    assert info.sequence_likelihood(DICE_COUNTS, DICE["Die 1"]) == pytest.approx(4.096e-07)
    assert info.sequence_likelihood(DICE_COUNTS, DICE["Die 2"]) == pytest.approx(1.024e-07)
    assert info.sequence_likelihood(DICE_COUNTS, DICE["Die 3"]) == pytest.approx(3.2e-09)


def test_die_1_is_the_most_likely():
    likelihoods = {name: info.sequence_likelihood(DICE_COUNTS, die) for name, die in DICE.items()}
    assert max(likelihoods, key=likelihoods.get) == "Die 1"


@pytest.mark.parametrize("name", list(DICE))
@pytest.mark.parametrize("base", BASES)
def test_dice_log_likelihoods_and_averages(name, base):
    likelihood = info.sequence_likelihood(DICE_COUNTS, DICE[name])
    log_likelihood = info.sequence_log_likelihood(DICE_COUNTS, DICE[name], base)
    assert log_likelihood == pytest.approx(np.log(likelihood) / np.log(base))
    average = info.average_log_likelihood(DICE_COUNTS, DICE[name], base)
    assert average == pytest.approx(log_likelihood / 10)


def test_die_1_average_log_likelihood_in_bits():
    # 4·log2(0.4) + 4·log2(0.2) + 2·log2(0.1), divided by 10 rolls
    expected = (4 * np.log2(0.4) + 4 * np.log2(0.2) + 2 * np.log2(0.1)) / 10
    assert info.average_log_likelihood(DICE_COUNTS, DICE["Die 1"]) == pytest.approx(expected)
    assert expected == pytest.approx(-2.1219280948873624)


def test_the_three_dice_are_permutations_of_each_other():
    entropies = [info.entropy(die) for die in DICE.values()]
    assert entropies == pytest.approx([entropies[0]] * 3)
    for die in DICE.values():
        np.testing.assert_allclose(np.sort(die), np.sort(DICE["Die 1"]))


@pytest.mark.parametrize(
    "first, second, kl_forward, kl_backward",
    [
        ("Die 1", "Die 2", 0.2, 0.2),  # swapping faces 2<->3 and 4<->5: symmetric
        ("Die 1", "Die 3", 0.7, 0.7),
        ("Die 2", "Die 3", 0.5, 0.4),  # a 3-cycle of faces: not symmetric
    ],
)
def test_kl_between_dice(first, second, kl_forward, kl_backward):
    assert info.kl_divergence(DICE[first], DICE[second]) == pytest.approx(kl_forward)
    assert info.kl_divergence(DICE[second], DICE[first]) == pytest.approx(kl_backward)


def test_kl_is_not_symmetric():
    p, q = [0.5, 0.5], [0.9, 0.1]
    assert info.kl_divergence(p, q) == pytest.approx(0.5 * np.log2(0.5 / 0.9) + 0.5 * np.log2(5))
    assert info.kl_divergence(q, p) == pytest.approx(0.9 * np.log2(1.8) + 0.1 * np.log2(0.2))
    assert info.kl_divergence(p, q) != pytest.approx(info.kl_divergence(q, p))


def test_dice_constants_are_read_only():
    with pytest.raises(ValueError):
        DICE["Die 1"][0] = 0.5
    with pytest.raises(ValueError):
        DICE_COUNTS[0] = 5


# Zeros: infinities where they belong, and no warnings


@pytest.mark.filterwarnings("error")
def test_zero_probabilities():
    assert info.entropy([1, 0, 0]) == 0
    assert info.kl_divergence([0.5, 0.5], [1, 0]) == np.inf
    assert info.cross_entropy([0.5, 0.5], [1, 0]) == np.inf
    assert info.kl_divergence([1, 0], [0.5, 0.5]) == pytest.approx(1.0)
    assert info.cross_entropy([1, 0], [0.5, 0.5]) == pytest.approx(1.0)
    assert info.js_divergence([1, 0], [0, 1]) == pytest.approx(1.0)
    assert info.sequence_likelihood([1, 2], [0, 1]) == 0
    assert info.sequence_likelihood([0, 2], [0, 1]) == 1
    assert info.sequence_log_likelihood([1, 2], [0, 1]) == -np.inf
    assert info.sequence_log_likelihood([0, 2], [0, 1]) == 0
    assert info.g_test([1, 2], [0, 1]) == (np.inf, 0.0)
    averages = info.running_average_logratio([0, 1, 0], [0.5, 0.5], [0, 1])
    assert np.all(averages == np.inf)
    curve = info.likelihood_vs_n([0.5, 0.5], [1, 0], 50, seed=0)
    assert curve["limit"] == -np.inf
    assert curve["log_likelihood"][-1] == -np.inf


# Input validation


BAD_INPUT = [
    (info.entropy, ([0.5, -0.1, 0.6],), "negative"),
    (info.entropy, ([0.5, np.nan, 0.5],), "NaN"),
    (info.entropy, ([0.5, np.inf],), "NaN or infinity"),
    (info.entropy, ([0.5, 0.4],), "add up to 0.9"),
    (info.entropy, ([],), "empty"),
    (info.entropy, (0.5,), "list of probabilities"),
    (info.entropy, ([0.5, 0.5], 1), "base"),
    (info.entropy, ([0.5, 0.5], 0), "base"),
    (info.entropy, ([0.5, 0.5], -2), "base"),
    (info.entropy, ([0.5, 0.5], "furlongs"), "base"),
    (info.kl_divergence, ([0.5, 0.5], [0.2, 0.3, 0.5]), "2 outcomes but Q has 3"),
    (info.kl_divergence, ([0.5, 0.5], [1.5, -0.5]), "negative"),
    (info.cross_entropy, ([0.5, 0.5], [0.5, 0.6]), "add up to 1.1"),
    (info.js_divergence, ([0.5, 0.5], [1.0]), "outcomes"),
    (info.total_variation, ([0.5, 0.5], []), "empty"),
    (info.wasserstein, ([0.5, 0.5], [1, 0], [0, 1, 2]), "support"),
    (info.wasserstein, ([0.5, 0.5], [1, 0], [0, np.nan]), "support"),
    (info.sequence_likelihood, ([4, -2], [0.5, 0.5]), "whole numbers >= 0"),
    (info.sequence_likelihood, ([4, 2.5], [0.5, 0.5]), "whole numbers >= 0"),
    (info.sequence_likelihood, ([4, 2, 1], [0.5, 0.5]), "3 counts but 2 probabilities"),
    (info.sequence_log_likelihood, ([4, 2], [0.5, 0.5], 1), "base"),
    (info.average_log_likelihood, ([0, 0], [0.5, 0.5]), "add up to 0"),
    (info.average_log_likelihood, ([1, np.nan], [0.5, 0.5]), "NaN"),
    (info.g_test, ([0, 0], [0.5, 0.5]), "n >= 1"),
    (info.g_test, ([3], [1.0]), "at least 2 outcomes"),
    (info.multinomial_p_value, ([1, 2], [0.5, 0.5], 0), "n_samples"),
    (info.min_expected_count, ([1, 2], [1.0]), "counts but"),
    (info.roll_dice, ([0.5, 0.5], 0, 0), "n must be a whole number >= 1"),
    (info.roll_dice, ([0.5, 0.5], 2.5, 0), "n must be a whole number >= 1"),
    (info.face_counts, ([0, 1, 5], 3), "between 0 and 2"),
    (info.face_counts, ([0, 1], 0), "k must be"),
    (info.running_average_logratio, ([0, 2], [0.5, 0.5], [0.5, 0.5]), "between 0 and 1"),
    (info.running_average_logratio, ([], [0.5, 0.5], [0.5, 0.5]), "non-empty"),
    (info.likelihood_vs_n, ([0.5, 0.5], [1.0], 10, 0), "outcomes"),
    (info.likelihood_vs_n, ([0.5, 0.5], [0.5, 0.5], 0, 0), "n must be"),
    (info.normalise, ([0, 0, 0],), "All weights are 0"),
    (info.normalise, ([1, -1, 1],), ">= 0"),
    (info.normalise, ([1, np.nan],), "finite"),
    (info.normalise, ([1, -1, 1], "Q"), "Q's weights must be finite numbers >= 0, and -1"),
    (info.normalise, ([0, 0], "P"), "All P's weights are 0"),
    (info.renormalised, ([1, np.inf], 1e-6, "P"), "P's weights must be finite"),
    (info.exact_sequence_likelihood, ([4, 2], [0.5, 0.4]), "add up to 0.9"),
    (info.significance, ([0, 0], [0.5, 0.5]), "n >= 1"),
    (info.kl_both_ways, ([0.5, 0.5], [1.0]), "outcomes"),
    (info.renormalised, ([],), "non-empty"),
    (info.convert_units, (1.0, 2, 1), "base"),
    (info.shifted_distribution, ([0, 1, 2], 1, 0), "width"),
    (info.shifted_distribution, ([0, 1, 2], 10, 1), "misses every support point"),
]


@pytest.mark.parametrize(
    "function, args, message", BAD_INPUT, ids=[f"{f.__name__}-{m}" for f, _, m in BAD_INPUT]
)
def test_bad_input_raises_a_readable_value_error(function, args, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        function(*args)


def test_sums_within_the_tolerance_are_accepted():
    assert info.entropy([0.5, 0.5 + 1e-7]) == pytest.approx(1.0)


# Significance: G-test and the exact multinomial p-value


def brute_force_p_value(counts, probs):
    """P(G >= G_obs) by listing every count vector and its multinomial probability by hand."""
    n, probs = sum(counts), np.asarray(probs)

    def g(c):
        return 2 * sum(
            ci * math.log(ci / (n * pi)) for ci, pi in zip(c, probs, strict=True) if ci > 0
        )

    total = 0.0
    for c in itertools.product(range(n + 1), repeat=len(probs)):
        if sum(c) == n and g(c) >= g(counts) - 1e-9:
            coefficient = math.factorial(n) / math.prod(math.factorial(ci) for ci in c)
            total += coefficient * math.prod(pi**ci for pi, ci in zip(probs, c, strict=True))
    return total


@pytest.mark.parametrize(
    "counts, probs",
    [
        ([5, 0], [0.5, 0.5]),
        ([3, 2], [0.5, 0.5]),
        ([1, 4], [0.3, 0.7]),
        ([2, 2, 1], [0.2, 0.3, 0.5]),
        ([0, 0, 5], [0.2, 0.3, 0.5]),
        ([1, 3, 1], [1 / 3, 1 / 3, 1 / 3]),
    ],
)
def test_exact_p_value_matches_brute_force(counts, probs):
    result = info.multinomial_p_value(counts, probs)
    assert result["method"] == "exact"
    assert result["p_value"] == pytest.approx(brute_force_p_value(counts, probs), abs=1e-12)


def test_ties_count_as_extreme():
    # A fair coin tossed 4 times: (3, 1) is as extreme as (1, 3), and (4, 0), (0, 4) more so.
    assert info.multinomial_p_value([3, 1], [0.5, 0.5])["p_value"] == pytest.approx(10 / 16)
    assert info.multinomial_p_value([4, 0], [0.5, 0.5])["p_value"] == pytest.approx(2 / 16)
    assert info.multinomial_p_value([2, 2], [0.5, 0.5])["p_value"] == pytest.approx(1.0)


@pytest.mark.parametrize("name", list(DICE))
def test_exact_and_monte_carlo_agree(name):
    exact = info.multinomial_p_value(DICE_COUNTS, DICE[name])
    monte_carlo = info.multinomial_p_value(DICE_COUNTS, DICE[name], max_exact=0)
    assert exact["method"] == "exact" and exact["n_count_vectors"] == math.comb(14, 4)
    assert monte_carlo["method"] == "monte carlo" and monte_carlo["n_samples"] == 20_000
    assert monte_carlo["p_value"] == pytest.approx(exact["p_value"], abs=0.02)
    assert exact["G"] == monte_carlo["G"] == pytest.approx(info.g_test(DICE_COUNTS, DICE[name])[0])


def test_monte_carlo_is_reproducible_and_used_for_large_n():
    counts, die = [30, 20, 10, 20, 20], DICE["Die 1"]
    first = info.multinomial_p_value(counts, die, seed=7)
    assert first["method"] == "monte carlo"
    assert first == info.multinomial_p_value(counts, die, seed=7)
    assert 0 <= first["p_value"] <= 1 and first["standard_error"] < 0.004


def test_the_chi_square_approximation_can_mislead_for_small_n():
    # Die 3 and the game's 10 rolls: chi-square says "significant at 5%", the exact test does not.
    result = info.multinomial_p_value(DICE_COUNTS, DICE["Die 3"])
    assert result["chi2_p_value"] < 0.05 < result["p_value"]
    assert info.min_expected_count(DICE_COUNTS, DICE["Die 3"]) == pytest.approx(1.0)


def test_g_is_twice_n_times_kl_in_nats():
    empirical = DICE_COUNTS / DICE_COUNTS.sum()
    g, _ = info.g_test(DICE_COUNTS, DICE["Die 2"])
    assert g == pytest.approx(2 * 10 * info.kl_divergence(empirical, DICE["Die 2"], np.e))
    assert info.g_test(DICE_COUNTS, empirical) == pytest.approx((0.0, 1.0))


@pytest.mark.parametrize("counts, die", [(DICE_COUNTS, "Die 3"), (DICE_COUNTS, "Die 1"),
                                         ([40, 25, 10, 10, 15], "Die 1"),
                                         ([5, 20, 40, 20, 15], "Die 1"),
                                         ([2, 3, 30, 10, 5], "Die 3")])
def test_significance_trusts_chi_square_only_with_expected_counts_of_5(counts, die):
    result = info.significance(counts, DICE[die])
    g, chi2_p = info.g_test(counts, DICE[die])
    smallest = info.min_expected_count(counts, DICE[die])
    assert result["G"] == g and result["chi2_p_value"] == chi2_p
    assert result["min_expected"] == smallest
    if smallest >= 5:
        assert result["method"] == "chi-square" and result["exact"] is None
        assert result["p_value"] == chi2_p
    else:
        assert result["method"] == result["exact"]["method"] == "exact"
        assert result["p_value"] == pytest.approx(brute_force_p_value(list(counts),
                                                                      DICE[die]), abs=1e-12)
    assert result["rare"] == (result["p_value"] < 0.05)


def test_significance_follows_the_exact_p_value_for_the_video_rolls():
    # Die 3: chi-square says 0.046 (< 0.05), the exact test 0.058: not rare.
    result = info.significance(DICE_COUNTS, DICE["Die 3"])
    assert result["chi2_p_value"] < 0.05 < result["p_value"]
    assert result["p_value"] == pytest.approx(0.0584, abs=1e-4)
    assert not result["rare"]
    assert info.significance(DICE_COUNTS, DICE["Die 3"], alpha=0.1)["rare"]


def test_min_expected_count():
    assert info.min_expected_count([50, 30, 20], [0.5, 0.3, 0.2]) == pytest.approx(20.0)


# Rolling dice, the law of large numbers, and underflow


def test_roll_dice_is_reproducible():
    first = info.roll_dice(DICE["Die 1"], 1000, seed=3)
    np.testing.assert_array_equal(first, info.roll_dice(DICE["Die 1"], 1000, seed=3))
    assert not np.array_equal(first, info.roll_dice(DICE["Die 1"], 1000, seed=4))
    assert first.shape == (1000,) and first.min() >= 0 and first.max() <= 4


def test_roll_dice_follows_the_probabilities():
    rolls = info.roll_dice(DICE["Die 3"], 100_000, seed=0)
    np.testing.assert_allclose(np.bincount(rolls) / rolls.size, DICE["Die 3"], atol=0.01)


def test_face_counts():
    np.testing.assert_array_equal(info.face_counts([0, 0, 2, 1, 0], k=4), [3, 1, 1, 0])
    np.testing.assert_array_equal(info.face_counts([], k=3), [0, 0, 0])
    rolls = info.roll_dice(DICE["Die 1"], 500, seed=1)
    counts = info.face_counts(rolls, 5)
    np.testing.assert_array_equal(counts, [np.sum(rolls == face) for face in range(5)])


def test_running_average_logratio_converges_to_kl():
    p, q = DICE["Die 1"], DICE["Die 3"]
    rolls = info.roll_dice(p, 200_000, seed=0)
    averages = info.running_average_logratio(rolls, p, q)
    assert averages.shape == (200_000,)
    assert averages[0] == pytest.approx(np.log2(p[rolls[0]] / q[rolls[0]]))
    assert averages[-1] == pytest.approx(info.kl_divergence(p, q), abs=0.01)


def test_running_average_logratio_keeps_the_shape_of_2d_rolls():
    p, q = DICE["Die 2"], DICE["Die 1"]
    rolls = np.stack([info.roll_dice(p, 300, seed=seed) for seed in range(4)])
    averages = info.running_average_logratio(rolls, p, q, base=np.e)
    assert averages.shape == (4, 300)
    for row, seed_rolls in zip(averages, rolls, strict=True):
        np.testing.assert_allclose(row, info.running_average_logratio(seed_rolls, p, q, np.e))
    expected = np.cumsum(np.log(p[rolls[0]] / q[rolls[0]])) / np.arange(1, 301)
    np.testing.assert_allclose(averages[0], expected)


def test_likelihood_underflows_while_the_average_settles():
    curve = info.likelihood_vs_n(DICE["Die 1"], DICE["Die 2"], 20_000, seed=0)
    assert set(curve) >= {"n", "likelihood", "log_likelihood", "average_log_likelihood"}
    assert curve["n"][0] == 1 and curve["n"][-1] == 20_000
    assert curve["likelihood"][0] == DICE["Die 2"][curve["rolls"][0]]
    assert curve["likelihood"][-1] == 0.0  # underflow: the reason for taking logs
    early = slice(0, 100)
    np.testing.assert_allclose(curve["log_likelihood"][early], np.log2(curve["likelihood"][early]))
    assert curve["limit"] == pytest.approx(-info.cross_entropy(DICE["Die 1"], DICE["Die 2"]))
    assert curve["average_log_likelihood"][-1] == pytest.approx(curve["limit"], abs=0.03)


# The dice game's products, written out exactly


def fraction_product(counts, probs) -> Fraction:
    """Π p^c with each p read as the decimal it prints as, in exact rational arithmetic."""
    return math.prod((Fraction(repr(float(p))) ** int(c) for p, c in zip(probs, counts,
                                                                          strict=True)),
                     start=Fraction(1))


@pytest.mark.parametrize("name, expected", [("Die 1", "4.096E-7"), ("Die 2", "1.024E-7"),
                                            ("Die 3", "3.2E-9")])
def test_the_video_products_are_exact_short_decimals(name, expected):
    value = info.exact_sequence_likelihood(DICE_COUNTS, DICE[name])
    assert value == Decimal(expected) and str(value) == expected
    assert Fraction(value) == fraction_product(DICE_COUNTS, DICE[name])
    assert float(value) == pytest.approx(info.sequence_likelihood(DICE_COUNTS, DICE[name]))


@pytest.mark.parametrize("seed", range(5))
def test_exact_products_of_long_sequences_keep_every_digit(seed):
    die = DICE[f"Die {seed % 3 + 1}"]
    counts = info.face_counts(info.roll_dice(die, 300, seed), 5)
    value = info.exact_sequence_likelihood(counts, die)
    assert Fraction(value) == fraction_product(counts, die)  # hundreds of digits, all exact
    assert math.log10(value) == pytest.approx(info.sequence_log_likelihood(counts, die, 10))


def test_exact_products_too_long_to_write_out_are_none():
    assert info.exact_sequence_likelihood([3000, 0], [0.5, 0.5], max_digits=2000) is None
    long = info.exact_sequence_likelihood([1000, 0], [0.5, 0.5], max_digits=2000)
    assert Fraction(long) == Fraction(1, 2**1000)  # 0.5^1000 has 1000 significant digits
    assert info.exact_sequence_likelihood([0, 0, 0], [0.2, 0.3, 0.5]) == 1
    assert info.exact_sequence_likelihood([1, 2], [0, 1]) == 0


# KL in both directions


@pytest.mark.parametrize("p, q", PAIRS[:20] + [([0.5, 0.3, 0.2], [0.6, 0.4, 0]),
                                               ([0.6, 0.4, 0], [0.5, 0.3, 0.2])])
def test_kl_both_ways_matches_each_direction(p, q):
    both = info.kl_both_ways(p, q, base=np.e)
    assert both["kl_pq"] == pytest.approx(stats.entropy(p, q))
    assert both["kl_qp"] == pytest.approx(stats.entropy(q, p))
    np.testing.assert_allclose(both["terms_pq"], special.rel_entr(p, q))
    np.testing.assert_array_equal(both["infinite_qp"], np.flatnonzero(
        (np.asarray(q) > 0) & (np.asarray(p) == 0)))
    larger = "pq" if both["kl_pq"] > both["kl_qp"] else "qp"
    assert both["larger"] == larger


def test_kl_both_ways_says_which_direction_is_larger():
    assert info.kl_both_ways([0.5, 0.5], [0.9, 0.1])["larger"] == "pq"  # 0.737 > 0.531 bits
    assert info.kl_both_ways([0.9, 0.1], [0.5, 0.5])["larger"] == "qp"
    assert info.kl_both_ways([0.2, 0.8], [0.8, 0.2])["larger"] == "equal"  # a mirror image
    assert info.kl_both_ways([0.3, 0.7], [0.3, 0.7])["larger"] == "equal"
    both = info.kl_both_ways([0.5, 0.5, 0], [0, 0.5, 0.5])  # each misses one of the other's
    assert both["kl_pq"] == both["kl_qp"] == np.inf and both["larger"] == "equal"
    np.testing.assert_array_equal(both["infinite_pq"], [0])
    np.testing.assert_array_equal(both["infinite_qp"], [2])


# Editing distributions


def test_normalise():
    np.testing.assert_allclose(info.normalise([2, 1, 1]), [0.5, 0.25, 0.25])
    np.testing.assert_allclose(info.normalise([0, 3]), [0, 1])


def test_renormalised():
    p, changed = info.renormalised([0.2, 0.2, 0.2])
    np.testing.assert_allclose(p, [1 / 3] * 3)
    assert changed
    original = [0.5, 0.3, 0.2 + 1e-8]
    p, changed = info.renormalised(original)
    np.testing.assert_array_equal(p, original)
    assert not changed
    assert info.renormalised([0.5, 0.5 + 1e-3], tol=1e-2)[1] is False


# Sliding one distribution away from another


def test_shifted_distribution():
    np.testing.assert_allclose(
        info.shifted_distribution([0, 1, 2, 3, 4], center=2, width=2), [0, 0.25, 0.5, 0.25, 0]
    )
    bump = info.shifted_distribution(np.linspace(0, 10, 101), center=3.3, width=1.5)
    assert bump.sum() == pytest.approx(1.0) and bump.argmax() == 33
    assert np.all(bump[np.abs(np.linspace(0, 10, 101) - 3.3) >= 1.5] == 0)


@pytest.mark.parametrize("shift", [0, 1, 2, 3, 6, 8])
def test_sliding_bumps_apart(shift):
    support = np.arange(30.0)
    p = info.shifted_distribution(support, center=8, width=3)
    q = info.shifted_distribution(support, center=8 + shift, width=3)
    table = info.divergence_table(p, q, support)
    assert table["wasserstein"] == pytest.approx(shift)  # keeps growing with the distance
    if shift >= 6:  # supports no longer overlap
        assert table["kl_pq"] == table["kl_qp"] == np.inf
        assert table["js"] == pytest.approx(1.0) and table["tv"] == pytest.approx(1.0)
    else:
        assert np.isfinite(table["kl_pq"]) == (shift == 0)


def test_divergence_table_matches_the_functions():
    p, q, support = DICE["Die 1"], DICE["Die 3"], np.arange(1, 6)
    table = info.divergence_table(p, q, support, base=np.e)
    assert table == {
        "kl_pq": info.kl_divergence(p, q, np.e),
        "kl_qp": info.kl_divergence(q, p, np.e),
        "js": info.js_divergence(p, q, np.e),
        "tv": info.total_variation(p, q),
        "wasserstein": info.wasserstein(p, q, support),
    }
    assert all(isinstance(value, float) for value in table.values())


# The module itself


def test_lessons_module_imports_numpy_and_scipy_only():
    tree = ast.parse((ROOT / "lessons" / "information.py").read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    # and the standard library's arithmetic: decimal writes the dice game's products exactly
    assert imported <= {"numpy", "scipy", "math", "numbers", "itertools", "decimal"}


# p-value curve and divergence curves used by the page


def test_p_value_for_kl_matches_the_g_test():
    counts = np.array([4, 2, 1, 1, 2])
    probs = info.DICE["Die 3"]
    kl_nats = info.kl_divergence(counts / counts.sum(), probs, base=np.e)
    g, p = info.g_test(counts, probs)
    assert info.p_value_for_kl(kl_nats, 10, 5) == pytest.approx(p, rel=1e-12)
    assert g == pytest.approx(2 * 10 * kl_nats)


def test_p_value_for_kl_falls_with_n_and_is_one_at_zero():
    p = info.p_value_for_kl(0.05, np.array([1, 10, 100, 1000]), 5)
    assert np.all(np.diff(p) < 0)
    assert p[-1] == pytest.approx(stats.chi2.sf(100.0, 4))
    assert info.p_value_for_kl(0.0, 50, 3) == pytest.approx(1.0)


@pytest.mark.parametrize(("kl", "n", "k"), [(-0.1, 10, 5), (np.inf, 10, 5), (0.1, 0, 5),
                                            (0.1, 10, 1), (0.1, 10, 2.5)])
def test_p_value_for_kl_rejects_bad_input(kl, n, k):
    with pytest.raises(ValueError):
        info.p_value_for_kl(kl, n, k)


def test_divergence_curves_follow_the_table_and_the_closed_form():
    support = np.arange(21)
    curves = info.divergence_curves(support, 5, 3, [0, 2, 6, 10])
    p = info.shifted_distribution(support, 5, 3)
    q = info.shifted_distribution(support, 7, 3)
    table = info.divergence_table(p, q, support)
    for key, value in table.items():
        assert curves[key][1] == pytest.approx(value)
    # Shifting a whole bump (still inside the support) moves it by exactly the shift: W1 = shift
    assert curves["wasserstein"] == pytest.approx([0, 2, 6, 10])
    # Once the bumps no longer overlap, KL is infinite while JS and TV are at their maximum
    assert np.isinf(curves["kl_pq"][2:]).all()
    assert curves["js"][2:] == pytest.approx([1.0, 1.0])
    assert curves["tv"][2:] == pytest.approx([1.0, 1.0])


def test_kl_terms_add_up_to_kl_and_mark_the_infinite_outcome():
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.6, 0.4, 0.0])
    terms = info.kl_terms(p, q)
    assert terms[:2] == pytest.approx([0.5 * np.log2(0.5 / 0.6), 0.3 * np.log2(0.3 / 0.4)])
    assert np.isinf(terms[2])
    finite_p, finite_q = DICE["Die 2"], DICE["Die 3"]
    assert info.kl_terms(finite_p, finite_q).sum() == pytest.approx(
        info.kl_divergence(finite_p, finite_q))
    assert info.kl_terms([0.5, 0.5], [0.25, 0.75], base=np.e) == pytest.approx(
        special.rel_entr([0.5, 0.5], [0.25, 0.75]))


@pytest.mark.parametrize("shift", [1, 2, 4])
def test_normal_bumps_give_the_closed_form_kl(shift):
    # Two Gaussians with the same sd: KL = s² / (2·sd²) nats (exact on an unbounded lattice)
    support = np.arange(-40, 61)
    p = info.shifted_distribution(support, 10, 2.0, shape="normal")
    q = info.shifted_distribution(support, 10 + shift, 2.0, shape="normal")
    assert info.kl_divergence(p, q, base=np.e) == pytest.approx(shift**2 / 8, rel=1e-6)
    assert info.wasserstein(p, q, support) == pytest.approx(shift, rel=1e-6)


def test_shifted_distribution_rejects_unknown_shape():
    with pytest.raises(ValueError, match="shape"):
        info.shifted_distribution([0, 1, 2], 1, 1, shape="square")
