"""Tests for lessons/bradley_terry.py: against closed forms, scipy, finite differences, a plain-loop
reference, Hunter's MM algorithm and large simulated tournaments."""

import math

import numpy as np
import pytest
from scipy import optimize, special, stats

from lessons import bradley_terry as bt

BALANCED = np.array([[0, 6, 7, 8], [4, 0, 6, 7], [3, 4, 0, 5], [2, 3, 5, 0]], dtype=float)
CYCLE = np.array([[0, 8, 2], [2, 0, 8], [8, 2, 0]], dtype=float)
SPARSE = np.array([[0, 2, 0, 0, 0, 0], [1, 0, 1, 0, 0, 1], [1, 1, 0, 2, 0, 0],
                   [0, 0, 1, 0, 1, 0], [1, 0, 0, 1, 0, 2], [0, 1, 0, 0, 1, 0]], dtype=float)
UNBEATEN = np.array([[0, 9, 10, 10], [0, 0, 5, 6], [0, 5, 0, 5], [0, 4, 5, 0]], dtype=float)
WINLESS = UNBEATEN.T.copy()
IDLE = np.array([[0, 6, 7, 0], [4, 0, 6, 0], [3, 4, 0, 0], [0, 0, 0, 0]], dtype=float)
EMPTY = np.zeros((3, 3))
DISCONNECTED = np.array([[0, 3, 0, 0], [1, 0, 0, 0], [0, 0, 0, 2], [0, 0, 1, 0]], dtype=float)
# Atlas and Birch beat Cedar and Delta in every game between the two groups.
SEPARATED = np.array([[0, 3, 2, 2], [1, 0, 2, 2], [0, 0, 0, 3], [0, 0, 1, 0]], dtype=float)
HEALTHY = {"balanced": BALANCED, "cycle": CYCLE, "sparse": SPARSE}
DEGENERATE = {
    "empty": (EMPTY, "empty"),
    "idle": (IDLE, "never_plays"),
    "unbeaten": (UNBEATEN, "unbeaten"),
    "winless": (WINLESS, "winless"),
    "disconnected": (DISCONNECTED, "disconnected"),
    "separated": (SEPARATED, "separated"),
}


def numeric_gradient(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    grad = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        grad[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def numeric_hessian(f, x, h=1e-4):
    x = np.asarray(x, dtype=float)
    n = x.size
    hess = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ei, ej = np.eye(n)[i] * h, np.eye(n)[j] * h
            hess[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * h * h)
    return hess


def hunter_mm(wins, iterations=20_000):
    """Zermelo's / Hunter's (2004) minorise-maximise iteration for the BT strengths π = e^s."""
    games = wins + wins.T
    strength = np.ones(len(wins))
    for _ in range(iterations):
        denominators = (games / (strength[:, None] + strength[None, :])).sum(axis=1)
        strength = wins.sum(axis=1) / denominators
        strength /= np.exp(np.log(strength).mean())
    scores = np.log(strength)
    return scores - scores.mean()


# Scores to win probabilities


GAPS = [(0.0, 0.0), (2.0, 1.0), (-3.5, 4.25), (30.0, -30.0), (800.0, -800.0), (-1e4, 1e4)]


@pytest.mark.parametrize(("a", "b"), GAPS)
def test_the_two_win_probabilities_add_up_to_one(a, b):
    assert bt.win_probability(a, b) + bt.win_probability(b, a) == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize(("a", "b"), GAPS)
def test_win_probability_is_the_two_way_softmax(a, b):
    assert bt.win_probability(a, b) == pytest.approx(bt.two_way_softmax(a, b), abs=1e-15)


@pytest.mark.parametrize(("a", "b"), [(0.0, 0.0), (2.0, 1.0), (-3.5, 4.25), (0.3, 0.2)])
def test_win_probability_is_the_bradley_terry_fraction(a, b):
    assert bt.win_probability(a, b) == pytest.approx(math.exp(a) / (math.exp(a) + math.exp(b)))


def test_worked_examples():
    assert bt.win_probability(2.0, 1.0) == pytest.approx(0.7310585786)
    assert bt.win_probability(1.0, 1.0) == 0.5
    assert bt.log_odds(0.75) == pytest.approx(math.log(3))


@pytest.mark.parametrize("shift", [-100.0, -1.0, 0.5, 7.0, 700.0])
def test_only_the_gap_matters(shift):
    a, b = np.array([1.3, -0.2, 4.0]), np.array([0.0, 0.8, -2.0])
    shifted = bt.two_way_softmax(a + shift, b + shift)
    np.testing.assert_allclose(shifted, bt.win_probability(a, b), atol=1e-12)


@pytest.mark.parametrize("score", [-4.0, 0.0, 1.0, 2.5])
def test_strength_is_e_to_the_score_and_its_ratio_is_the_win_probability(score):
    assert bt.strength(score) == pytest.approx(math.exp(score), rel=1e-15)
    a, b = bt.strength(score), bt.strength(0.7)
    assert a / (a + b) == pytest.approx(bt.win_probability(score, 0.7), rel=1e-12)
    # adding c to both scores multiplies both strengths by e^c
    assert bt.strength(score + 3.0) / bt.strength(score) == pytest.approx(math.exp(3.0))
    np.testing.assert_allclose(bt.strength([0.0, 1.0]), [1.0, math.e])
    with pytest.raises(ValueError):
        bt.strength(np.nan)


def test_huge_gaps_stay_finite():
    p = bt.win_probability(np.array([1e4, -1e4, 745.0]), 0.0)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p[:2], [1.0, 0.0])


def test_win_probability_broadcasts():
    p = bt.win_probability(np.array([[0.0], [1.0]]), np.array([0.0, 1.0, 2.0]))
    assert p.shape == (2, 3)
    assert isinstance(bt.win_probability(1, 0), float)


def test_win_matrix_is_complementary_with_half_on_the_diagonal():
    scores = np.array([1.0, -0.5, 0.2, 3.0])
    matrix = bt.win_matrix(scores)
    np.testing.assert_allclose(matrix + matrix.T, 1.0)
    np.testing.assert_allclose(np.diag(matrix), 0.5)
    assert matrix[0, 1] == pytest.approx(bt.win_probability(1.0, -0.5))


def test_choice_probabilities_is_a_softmax_and_bradley_terry_for_two():
    scores = np.array([0.3, -1.0, 2.2])
    np.testing.assert_allclose(bt.choice_probabilities(scores), special.softmax(scores))
    assert bt.choice_probabilities([2.0, 1.0])[0] == pytest.approx(bt.win_probability(2.0, 1.0))
    np.testing.assert_allclose(bt.choice_probabilities([0, 0, np.log(2)]), [0.25, 0.25, 0.5])


@pytest.mark.parametrize("bad", [np.nan, np.inf, [], [1.0, np.nan]])
def test_bad_scores_raise(bad):
    with pytest.raises(ValueError):
        bt.win_probability(bad, 0.0)


@pytest.mark.parametrize("p", [0.0, 1.0, 1.5, -0.1])
def test_log_odds_needs_an_open_interval(p):
    with pytest.raises(ValueError):
        bt.log_odds(p)


# Elo


def test_elo_expected_of_1600_against_1400():
    assert bt.elo_expected(1600, 1400) == pytest.approx(1 / (1 + 10 ** (-200 / 400)))
    assert bt.elo_expected(1600, 1400) == pytest.approx(0.7597469)


@pytest.mark.parametrize(("ra", "rb", "expected"), [
    (1500, 1500, 0.5), (1900, 1500, 10 / 11), (1500, 1900, 1 / 11), (2800, 800, 1 / (1 + 1e-5)),
])
def test_elo_expected_closed_forms(ra, rb, expected):
    assert bt.elo_expected(ra, rb) == pytest.approx(expected)


@pytest.mark.parametrize(("ra", "rb"), [(1600, 1400), (1200, 2000), (1500, 1500)])
def test_elo_is_bradley_terry_on_another_scale(ra, rb):
    assert bt.elo_expected(ra, rb) == pytest.approx(
        bt.win_probability(bt.elo_to_score(ra), bt.elo_to_score(rb)))
    assert bt.elo_expected(ra, rb) + bt.elo_expected(rb, ra) == pytest.approx(1.0)


def test_elo_to_score_of_400_points_is_ln_10():
    assert bt.elo_to_score(400) == pytest.approx(math.log(10))


@pytest.mark.parametrize("result", [0.0, 0.5, 1.0])
def test_elo_update_is_a_gradient_step_on_the_log_likelihood(result):
    ra, rb, k = 1600.0, 1400.0, 32.0
    c = math.log(10) / 400

    def game_log_likelihood(rating):  # a draw counts half a win and half a loss
        gap = (rating - rb) * c
        return result * special.log_expit(gap) + (1 - result) * special.log_expit(-gap)

    gradient = numeric_gradient(lambda r: game_log_likelihood(r[0]), [ra])[0]
    assert bt.elo_update(ra, rb, result, k) == pytest.approx(ra + k / c * gradient)
    assert bt.elo_update(ra, rb, result, k) == pytest.approx(
        ra + k * (result - bt.elo_expected(ra, rb)))


def test_elo_rejects_bad_results_and_k():
    with pytest.raises(ValueError):
        bt.elo_update(1500, 1500, 2.0)
    with pytest.raises(ValueError):
        bt.elo_update(1500, 1500, 1.0, k=0)
    with pytest.raises(ValueError):
        bt.elo_expected(1500, 1500, scale=-400)


# The log-likelihood, its gradient and its curvature


def loop_log_likelihood(scores, wins):
    total = 0.0
    for i in range(len(scores)):
        for j in range(len(scores)):
            for _ in range(int(wins[i, j])):
                total += math.log(math.exp(scores[i]) / (math.exp(scores[i]) + math.exp(scores[j])))
    return total


@pytest.mark.parametrize("name", list(HEALTHY))
def test_log_likelihood_matches_a_game_by_game_loop(name):
    wins = HEALTHY[name]
    scores = np.random.default_rng(1).normal(size=len(wins))
    assert bt.log_likelihood(scores, wins) == pytest.approx(loop_log_likelihood(scores, wins))


def test_log_likelihood_of_equal_scores_is_coin_flips():
    assert bt.log_likelihood(np.zeros(4), BALANCED) == pytest.approx(-BALANCED.sum() * math.log(2))


@pytest.mark.parametrize("name", list(HEALTHY))
def test_gradient_matches_finite_differences(name):
    wins = HEALTHY[name]
    scores = np.random.default_rng(2).normal(size=len(wins))
    np.testing.assert_allclose(
        bt.log_likelihood_gradient(scores, wins),
        numeric_gradient(lambda s: bt.log_likelihood(s, wins), scores), atol=1e-6)


@pytest.mark.parametrize("name", list(HEALTHY))
def test_information_is_minus_the_finite_difference_hessian_at_the_mle(name):
    wins = HEALTHY[name]
    mle = bt.fit_scores(wins)
    hessian = numeric_hessian(lambda s: bt.log_likelihood(s, wins), mle)
    np.testing.assert_allclose(bt.information_matrix(mle, wins), -hessian, atol=1e-4)


def test_information_matrix_is_a_laplacian_plus_the_prior():
    info = bt.information_matrix(np.array([0.4, -0.1, 0.3, -0.6]), BALANCED)
    np.testing.assert_allclose(info.sum(axis=1), 0, atol=1e-12)
    assert np.all(np.linalg.eigvalsh(info) > -1e-12)
    np.testing.assert_allclose(
        bt.information_matrix(np.zeros(4), BALANCED, l2=0.5) - bt.information_matrix(
            np.zeros(4), BALANCED), 0.5 * np.eye(4))


# Maximum likelihood


@pytest.mark.parametrize(("won", "lost"), [(3, 1), (7, 2), (50, 50), (1, 9)])
def test_two_items_fit_the_log_odds_of_their_win_rate(won, lost):
    scores = bt.fit_scores([[0, won], [lost, 0]])
    assert scores[0] - scores[1] == pytest.approx(math.log(won / lost), abs=1e-8)
    assert scores.sum() == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("name", list(HEALTHY))
def test_fit_matches_hunters_mm_algorithm(name):
    wins = HEALTHY[name]
    np.testing.assert_allclose(bt.fit_scores(wins), hunter_mm(wins), atol=1e-6)


@pytest.mark.parametrize("name", list(HEALTHY))
def test_fit_is_a_centred_stationary_point(name):
    wins = HEALTHY[name]
    scores = bt.fit_scores(wins)
    assert scores.mean() == pytest.approx(0, abs=1e-12)
    np.testing.assert_allclose(bt.log_likelihood_gradient(scores, wins), 0, atol=1e-7)


def test_fit_does_not_depend_on_the_order_of_the_items():
    order = np.array([2, 0, 3, 1])
    np.testing.assert_allclose(bt.fit_scores(BALANCED[np.ix_(order, order)]),
                               bt.fit_scores(BALANCED)[order], atol=1e-9)


def test_doubling_every_count_keeps_the_scores_and_halves_the_variance():
    single, double = bt.fit_report(BALANCED), bt.fit_report(2 * BALANCED)
    np.testing.assert_allclose(double["scores"], single["scores"], atol=1e-9)
    np.testing.assert_allclose(double["std_errors"], single["std_errors"] / math.sqrt(2))


def test_cycle_gets_equal_scores():
    np.testing.assert_allclose(bt.fit_scores(CYCLE), 0, atol=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_known_scores_from_a_large_simulated_tournament(seed):
    true = np.array([1.2, 0.5, 0.0, -0.4, -1.3])
    wins = bt.simulate_wins(true, 4000, seed=seed)
    fitted = bt.fit_report(wins)
    np.testing.assert_allclose(fitted["scores"], true, atol=0.08)
    # and within four of its own standard errors
    assert np.all(np.abs(fitted["scores"] - true) < 4 * fitted["std_errors"])


def test_fisher_standard_errors_match_the_spread_over_many_tournaments():
    true = np.array([0.8, 0.1, -0.2, -0.7])
    fits = np.array([bt.fit_scores(bt.simulate_wins(true, 60, seed=s)) for s in range(300)])
    # The information depends on the games played (60 per pair), not on who won them.
    round_robin = 30 * (1 - np.eye(4))
    predicted = np.sqrt(np.diag(bt.score_covariance(true, round_robin)))
    np.testing.assert_allclose(fits.std(axis=0), predicted, rtol=0.15)


def test_covariance_of_two_items_has_a_closed_form():
    # var(s1 − s2) = 1 / (n p (1 − p)); with s1 = −s2 each score has a quarter of it.
    wins = np.array([[0, 30], [10, 0]])
    report = bt.fit_report(wins)
    p = 0.75
    assert report["std_errors"][0] == pytest.approx(math.sqrt(1 / (40 * p * (1 - p)) / 4))
    np.testing.assert_allclose(report["covariance"].sum(axis=1), 0, atol=1e-12)


def test_covariance_needs_a_connected_table_without_a_prior():
    with pytest.raises(ValueError, match="common scale"):
        bt.score_covariance(np.zeros(4), DISCONNECTED)
    assert np.all(np.isfinite(bt.score_covariance(np.zeros(4), DISCONNECTED, l2=0.1)))


@pytest.mark.parametrize("name", list(DEGENERATE))
def test_bad_tables_are_diagnosed(name):
    wins, kind = DEGENERATE[name]
    diagnosis = bt.diagnose_wins(wins, names=["Atlas", "Birch", "Cedar", "Delta"][:len(wins)])
    assert not diagnosis["mle_exists"]
    assert kind in [problem["kind"] for problem in diagnosis["problems"]]
    assert all(problem["message"] for problem in diagnosis["problems"])


def test_diagnosis_names_the_culprit():
    diagnosis = bt.diagnose_wins(UNBEATEN, names=["Atlas", "Birch", "Cedar", "Delta"])
    assert diagnosis["problems"][0]["items"] == [0]
    assert "Atlas won all 29" in diagnosis["problems"][0]["message"]
    assert "+∞" in diagnosis["problems"][0]["message"]
    assert bt.diagnose_wins(IDLE)["problems"][0]["items"] == [3]


@pytest.mark.parametrize("name", list(HEALTHY))
def test_healthy_tables_pass_the_diagnosis(name):
    assert bt.diagnose_wins(HEALTHY[name]) == {"mle_exists": True, "problems": []}


@pytest.mark.parametrize("name", list(DEGENERATE))
def test_bad_tables_raise_without_a_prior_and_fit_with_one(name):
    wins, _ = DEGENERATE[name]
    with pytest.raises(ValueError, match="do not exist"):
        bt.fit_scores(wins)
    report = bt.fit_report(wins, l2=0.1)
    assert np.all(np.isfinite(report["scores"])) and np.all(np.isfinite(report["std_errors"]))
    assert report["scores"].sum() == pytest.approx(0, abs=1e-9)
    assert report["p_value"] is None


def test_the_prior_sends_an_idle_item_to_the_average():
    scores = bt.fit_scores(IDLE, l2=0.1)
    assert scores[3] == pytest.approx(0, abs=1e-9)


def test_the_map_fit_solves_the_penalised_problem():
    def penalised(s):
        return -bt.log_likelihood(s, UNBEATEN) + 0.05 * s @ s

    reference = optimize.minimize(penalised, np.zeros(4), method="BFGS", options={"gtol": 1e-9}).x
    np.testing.assert_allclose(bt.fit_scores(UNBEATEN, l2=0.1), reference, atol=1e-5)


NEWTON_CASES = [(BALANCED, 0.0), (CYCLE, 0.0), (SPARSE, 0.0), (UNBEATEN, 0.1),
                (UNBEATEN, 0.01), (IDLE, 0.1), (EMPTY, 0.1), (BALANCED, 1.0)]


@pytest.mark.parametrize(("wins", "l2"), NEWTON_CASES)
def test_newton_steps_end_at_the_fit_found_by_scipy(wins, l2):
    path = bt.newton_path(wins, l2)
    np.testing.assert_allclose(path["scores"][0], 0)
    np.testing.assert_allclose(path["scores"][-1], bt.fit_scores(wins, l2), atol=1e-8)
    assert path["gradient_norm"][-1] < 1e-10
    assert len(path["scores"]) <= 12  # Newton converges in a handful of steps


@pytest.mark.parametrize(("wins", "l2"), NEWTON_CASES)
def test_newton_steps_climb_the_penalised_likelihood_and_stay_centred(wins, l2):
    path = bt.newton_path(wins, l2)
    assert np.all(np.diff(path["objective"]) >= -1e-12)
    np.testing.assert_allclose(path["scores"].sum(axis=1), 0, atol=1e-9)
    for s, loglik, objective in zip(path["scores"], path["log_likelihood"], path["objective"],
                                    strict=True):
        assert loglik == pytest.approx(bt.log_likelihood(s, wins))
        assert objective == pytest.approx(loglik - 0.5 * l2 * s @ s)
    assert path["step_size"][0] == 0 and np.all(path["step_size"][1:] > 0)


@pytest.mark.parametrize(("won", "lost"), [(3, 1), (7, 2), (1, 9)])
def test_the_first_newton_step_of_two_items_is_twice_the_win_rate_minus_one(won, lost):
    # At s = 0: ∇ℓ = ±(w − n/2) and I = n/4·[[1, −1], [−1, 1]], whose pseudo-inverse is
    # 1/n·[[1, −1], [−1, 1]], so the step is ±(2w − n)/n = ±(2·w/n − 1).
    first = bt.newton_path([[0, won], [lost, 0]])["scores"][1]
    rate = won / (won + lost)
    np.testing.assert_allclose(first, [2 * rate - 1, 1 - 2 * rate])


def test_newton_steps_need_a_maximum_without_a_prior():
    with pytest.raises(ValueError, match="do not exist"):
        bt.newton_path(UNBEATEN)
    assert bt.newton_path(CYCLE)["scores"].shape == (1, 3)  # all zeros is already the best


def test_an_unbeaten_item_runs_away_as_the_prior_weakens():
    path = bt.regularization_path(UNBEATEN, np.geomspace(1, 1e-5, 11))
    assert np.all(np.diff(path[:, 0]) > 0.3)
    healthy = bt.regularization_path(BALANCED, [1e-7])
    np.testing.assert_allclose(healthy[0], bt.fit_scores(BALANCED), atol=1e-5)


@pytest.mark.parametrize("l2", [-1.0, np.nan, np.inf, "0.1", True])
def test_bad_l2_raises(l2):
    with pytest.raises(ValueError):
        bt.fit_scores(BALANCED, l2=l2)


@pytest.mark.parametrize("wins", [
    [[0, 1, 2], [1, 0, 1]], [[0, -1], [1, 0]], [[1, 1], [1, 0]], [[0, np.nan], [1, 0]],
    [[0]], np.zeros((13, 13)), [1, 2, 3],
])
def test_malformed_win_tables_raise(wins):
    with pytest.raises(ValueError):
        bt.fit_scores(wins)


# The fit report: the likelihoods and the G-test


@pytest.mark.parametrize("name", list(HEALTHY))
def test_deviance_is_twice_the_games_times_kl_per_pair(name):
    wins = HEALTHY[name]
    report = bt.fit_report(wins)
    games, observed, predicted = report["games"], report["observed"], report["predicted"]
    i, j = np.nonzero(np.triu(games) > 0)
    kl = (special.rel_entr(observed[i, j], predicted[i, j])
          + special.rel_entr(1 - observed[i, j], 1 - predicted[i, j]))
    assert report["deviance"] == pytest.approx(2 * np.sum(games[i, j] * kl), abs=1e-9)
    assert report["p_value"] == pytest.approx(stats.chi2.sf(report["deviance"], report["df"]))


def test_the_cycle_fails_the_g_test_and_the_league_passes():
    cycle, league = bt.fit_report(CYCLE), bt.fit_report(BALANCED)
    assert cycle["df"] == 1 and cycle["p_value"] < 0.001
    assert league["df"] == 3 and league["p_value"] > 0.5
    assert cycle["log_likelihood"] == pytest.approx(cycle["null_log_likelihood"])
    assert cycle["null_log_likelihood"] == pytest.approx(-30 * math.log(2))


def test_two_items_fit_exactly():
    report = bt.fit_report([[0, 3], [1, 0]])
    assert report["deviance"] == pytest.approx(0, abs=1e-9)
    assert report["df"] == 0 and report["p_value"] is None
    np.testing.assert_allclose(report["std_errors"], [0.57735027, 0.57735027])


def test_likelihood_profile_peaks_at_the_mle_with_the_fisher_curvature():
    scores = bt.fit_scores(BALANCED)
    offsets = np.array([-1e-3, 0.0, 1e-3, 0.5])
    profile = bt.likelihood_profile(scores, BALANCED, 1, offsets)
    assert profile["exact"][1] == pytest.approx(bt.log_likelihood(scores, BALANCED))
    assert profile["exact"][1] > max(profile["exact"][0], profile["exact"][2])
    np.testing.assert_allclose(profile["exact"][:3], profile["quadratic"][:3], atol=1e-8)
    assert profile["curvature"] == pytest.approx(bt.information_matrix(scores, BALANCED)[1, 1])


def test_simulated_tournaments_are_round_robins():
    wins = bt.simulate_wins([0.5, 0.0, -0.5], 12, seed=3)
    games = wins + wins.T
    np.testing.assert_array_equal(games, 12 * (1 - np.eye(3)))
    np.testing.assert_array_equal(wins, bt.simulate_wins([0.5, 0.0, -0.5], 12, seed=3))
    with pytest.raises(ValueError):
        bt.simulate_wins([0.0, 1.0], -1)


# The table's text form


@pytest.mark.parametrize("wins", [BALANCED, CYCLE, SPARSE, EMPTY])
def test_text_round_trip(wins):
    np.testing.assert_array_equal(bt.parse_wins(bt.format_wins(wins)), wins)


def test_parse_accepts_other_separators():
    np.testing.assert_array_equal(bt.parse_wins(" 0, 3 ; 1,0 "), [[0, 3], [1, 0]])
    np.testing.assert_array_equal(bt.parse_wins("0 3\n1 0"), [[0, 3], [1, 0]])


@pytest.mark.parametrize(("text", "fragment"), [
    ("", "empty"), ("   ", "empty"), ("0 1 /", "empty row"), ("0 x / 1 0", "not a number"),
    ("0 -1 / 1 0", "whole number"), ("0 1.5 / 1 0", "whole number"), ("0 1 2 / 1 0", "row 1"),
    ("0", "has 1 row; this lesson takes 2 to 12 items"), ("1 1 / 1 0", "cannot play itself"),
    ("0 1000 / 1 0", "999"),
    ("0 nan / 1 0", "not a number"), ("<script> / 1", "not a number"),
    (" / ".join(["0"] * 13), "has 13 rows; this lesson takes 2 to 12 items"),
])
def test_parse_explains_bad_text(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        bt.parse_wins(text)


def test_parse_takes_a_lesson_s_own_limit_on_items():
    six = " / ".join(" ".join("0" if i == j else "1" for j in range(6)) for i in range(6))
    assert bt.parse_wins(six, max_items=6).shape == (6, 6)
    seven = " / ".join(" ".join("0" if i == j else "1" for j in range(7)) for i in range(7))
    with pytest.raises(ValueError, match=r"has 7 rows; this lesson takes 2 to 6 items"):
        bt.parse_wins(seven, max_items=6)


# The reward model


@pytest.mark.parametrize(("chosen", "rejected"), [
    ([1.0], [1.0]), ([2.0, -1.0], [0.0, 3.0]), ([0.3, 0.1, 5.0], [0.2, 0.2, -5.0]),
])
def test_reward_model_loss_is_the_mean_negative_log_sigmoid(chosen, rejected):
    expected = np.mean([-math.log(1 / (1 + math.exp(-(w - lo)))) for w, lo in
                        zip(chosen, rejected, strict=True)])
    assert bt.reward_model_loss(chosen, rejected) == pytest.approx(expected)


def test_reward_model_loss_is_ln2_without_a_preference_and_stable_for_huge_gaps():
    assert bt.reward_model_loss([0.0, 5.0], [0.0, 5.0]) == pytest.approx(math.log(2))
    assert bt.reward_model_loss([1e4], [0.0]) == pytest.approx(0.0, abs=1e-12)
    assert bt.reward_model_loss([0.0], [1e4]) == pytest.approx(1e4)


def test_reward_model_loss_is_the_bradley_terry_negative_log_likelihood_per_game():
    scores = np.array([0.7, -0.1, 0.4, -1.0])
    winners, losers = np.nonzero(BALANCED)
    counts = BALANCED[winners, losers].astype(int)
    chosen, rejected = np.repeat(scores[winners], counts), np.repeat(scores[losers], counts)
    assert bt.reward_model_loss(chosen, rejected) == pytest.approx(
        -bt.log_likelihood(scores, BALANCED) / BALANCED.sum())


def test_reward_model_loss_checks_shapes():
    with pytest.raises(ValueError, match="one chosen and one rejected"):
        bt.reward_model_loss([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        bt.reward_model_loss([np.nan], [1.0])


REPLY_FEATURES = np.random.default_rng(5).normal(size=(6, 5))
CHOSEN, REJECTED = [0, 2, 4, 1, 5], [1, 3, 5, 3, 0]


@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_reward_model_gradient_matches_finite_differences(l2):
    w = np.random.default_rng(6).normal(size=5)

    def objective(x):
        return bt.reward_model_objective(x, REPLY_FEATURES, CHOSEN, REJECTED, l2)

    np.testing.assert_allclose(
        bt.reward_model_gradient(w, REPLY_FEATURES, CHOSEN, REJECTED, l2),
        numeric_gradient(objective, w), atol=1e-7)


def test_training_starts_at_ln2_and_descends():
    result = bt.fit_reward_model(REPLY_FEATURES, CHOSEN, REJECTED, 0.2, 300, 0.01)
    assert result["loss"][0] == pytest.approx(math.log(2))
    assert np.all(np.diff(result["loss"]) <= 1e-12)
    assert result["loss"][-1] == pytest.approx(bt.reward_model_objective(
        result["weights"], REPLY_FEATURES, CHOSEN, REJECTED, 0.01))
    np.testing.assert_allclose(result["rewards"], REPLY_FEATURES @ result["weights"])
    assert result["agreement"][0] == 0 and result["agreement"][-1] == result["reproduced"].mean()


def test_training_keeps_the_weights_and_rewards_of_every_step():
    result = bt.fit_reward_model(REPLY_FEATURES, CHOSEN, REJECTED, 0.3, 40, 0.01)
    assert result["weights_path"].shape == (41, 5) and result["rewards_path"].shape == (41, 6)
    np.testing.assert_allclose(result["weights_path"][0], 0)
    np.testing.assert_allclose(result["weights_path"][-1], result["weights"])
    for t in (1, 7, 25):  # row t is where a run of t steps ends
        shorter = bt.fit_reward_model(REPLY_FEATURES, CHOSEN, REJECTED, 0.3, t, 0.01)
        np.testing.assert_allclose(result["weights_path"][t], shorter["weights"], rtol=1e-12)
        np.testing.assert_allclose(result["rewards_path"][t], shorter["rewards"], rtol=1e-12)
        assert result["loss"][t] == pytest.approx(bt.reward_model_objective(
            result["weights_path"][t], REPLY_FEATURES, CHOSEN, REJECTED, 0.01))


def test_training_reaches_the_optimum_found_by_scipy():
    result = bt.fit_reward_model(REPLY_FEATURES, CHOSEN, REJECTED, 0.5, 4000, 0.1)
    reference = optimize.minimize(
        bt.reward_model_objective, np.zeros(5), args=(REPLY_FEATURES, CHOSEN, REJECTED, 0.1),
        jac=bt.reward_model_gradient, method="BFGS", options={"gtol": 1e-10}).x
    np.testing.assert_allclose(result["weights"], reference, atol=1e-5)


def test_training_reproduces_judgements_of_a_linear_annotator():
    features = bt.standardize(REPLY_FEATURES)
    pairs = np.array([(i, j) for i in range(6) for j in range(i + 1, 6)])
    picks = bt.annotate(features, pairs, [1.0, -0.5, 0.0, 0.3, 0.0])
    chosen = pairs[np.arange(len(pairs)), picks]
    rejected = pairs[np.arange(len(pairs)), 1 - picks]
    result = bt.fit_reward_model(features, chosen, rejected, 0.5, 2000, 0.0)
    assert result["reproduced"].all()
    utility = features @ np.array([1.0, -0.5, 0.0, 0.3, 0.0])
    np.testing.assert_array_equal(result["ranking"], np.argsort(-utility))


def test_training_rejects_bad_settings():
    with pytest.raises(ValueError, match="at least one pair"):
        bt.fit_reward_model(REPLY_FEATURES, [], [])
    with pytest.raises(ValueError):
        bt.fit_reward_model(REPLY_FEATURES, [0], [9])
    with pytest.raises(ValueError):
        bt.fit_reward_model(REPLY_FEATURES, [0], [1], learning_rate=0)
    with pytest.raises(ValueError):
        bt.fit_reward_model(REPLY_FEATURES, [0], [1], steps=-1)


@pytest.mark.parametrize(("text", "expected"), [
    ("Maybe water it 2 times?", [0.5, 1, 1, 0, 1]),
    ("Water it.", [0.2, 0, 0, 0, 0]),
    ("Sorry! Happy to help; I hope it might, perhaps, recover in 3 to 5 days. Good news.",
     [1.7, 2, 2, 4, 0]),
    ("Possibly probably could be 1.5 cm, don't", [0.7, 1, 3, 0, 0]),
])
def test_reply_features_count_what_they_say(text, expected):
    np.testing.assert_allclose(bt.reply_features(text), expected)
    assert len(expected) == len(bt.FEATURES) == len(bt.FEATURE_HELP)


def test_standardize_gives_mean_zero_and_unit_spread():
    z = bt.standardize(np.column_stack([REPLY_FEATURES[:, 0], np.full(6, 3.0)]))
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), [1.0, 0.0])


def test_annotate_picks_the_higher_utility():
    picks = bt.annotate([[1.0], [2.0], [0.0]], [(0, 1), (0, 2), (1, 2)], [1.0])
    np.testing.assert_array_equal(picks, [1, 0, 0])
    with pytest.raises(ValueError):
        bt.reply_features("   ")
