"""Tests for lessons/gridworld.py: against a brute-force world, linear solves, a textbook worked
example, Monte Carlo returns, scipy and finite differences."""

import re

import numpy as np
import pytest
from scipy import special, stats

from lessons import gridworld as gw

CLASSIC = "...T/.W.D/S..."
LAYOUTS = [CLASSIC, "S.W.../.WW.W./....W./WW.WW./...W../.D...T", "....../....../SDDDDT",
           "S.D/.W./..T", "ST/..", "S......./......../..W...D./..W...../..W..D../......../"
           ".D....../.......T"]


# An independent world: the rules of the grid written out cell by cell


def brute_force_world(layout, slip):
    """P[s, a, s'] by looping over cells and spelling out 'intended 1-slip, sideways slip/2'."""
    rows = layout.split("/")
    cells = [(r, c) for r, row in enumerate(rows) for c, x in enumerate(row) if x != "W"]
    number = {cell: i for i, cell in enumerate(cells)}
    step = {0: (-1, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1)}
    sideways = {0: (3, 1), 1: (0, 2), 2: (1, 3), 3: (2, 0)}
    n = len(cells)
    p = np.zeros((n, 4, n))
    for s, (r, c) in enumerate(cells):
        if rows[r][c] in "TD":
            p[s, :, s] = 1.0
            continue
        for a in range(4):
            for move, prob in ((a, 1 - slip), (sideways[a][0], slip / 2),
                               (sideways[a][1], slip / 2)):
                target = (r + step[move][0], c + step[move][1])
                p[s, a, number.get(target, s)] += prob
    return p, cells


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("slip", [0.0, 0.2, 0.5])
def test_transitions_match_a_cell_by_cell_construction(layout, slip):
    grid = gw.make_grid(layout, slip=slip)
    expected, cells = brute_force_world(layout, slip)
    assert [tuple(c) for c in grid.cells] == cells
    np.testing.assert_allclose(grid.transitions, expected, atol=1e-12)
    np.testing.assert_allclose(grid.transitions.sum(axis=2), 1.0)


def test_classic_start_moving_up_by_hand():
    grid = gw.make_grid(CLASSIC, slip=0.2)
    start = grid.start
    up = grid.transitions[start, gw.ACTIONS.index("up")]
    assert up[grid.state_at(1, 0)] == pytest.approx(0.8)
    assert up[grid.state_at(2, 1)] == pytest.approx(0.1)  # slipped right
    assert up[start] == pytest.approx(0.1)  # slipped left into the edge: stays
    assert up.sum() == pytest.approx(1.0)


def test_rewards_pay_the_step_cost_and_the_end_reward_on_entry():
    grid = gw.make_grid(CLASSIC, step_cost=0.04)
    treasure, dragon = grid.state_at(0, 3), grid.state_at(1, 3)
    next_to_treasure = grid.state_at(0, 2)
    assert grid.rewards[next_to_treasure, 1, treasure] == pytest.approx(0.96)
    assert grid.rewards[next_to_treasure, 1, dragon] == pytest.approx(-1.04)
    assert grid.rewards[next_to_treasure, 1, next_to_treasure] == pytest.approx(-0.04)
    assert np.all(grid.rewards[treasure] == 0)  # nothing happens after the end
    np.testing.assert_allclose(grid.entry_rewards, grid.rewards[grid.start, 0])


def test_slip_matrix_rows():
    w = gw.slip_matrix(0.2)
    np.testing.assert_allclose(w[1], [0.1, 0.8, 0.1, 0.0])
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    np.testing.assert_allclose(gw.slip_matrix(0.0), np.eye(4))


# Layouts and their validation


def test_parse_layout_accepts_lowercase_and_spaces():
    assert gw.parse_layout(" ...t / .w.D/S... ") == ("...T", ".W.D", "S...")
    assert gw.layout_text(gw.parse_layout(CLASSIC)) == CLASSIC


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("   ", "empty"),
    ("S.T", "1 row"),
    ("/".join(["S" + "." * 3] + ["...."] * 8) + "/...T", "10 rows"),
    ("S..T/..", "different lengths"),
    ("S/T", "1 cells each"),
    ("S........T/..........", "10 cells each"),
    ("S.X/..T", "'X' is not a cell letter"),
    ("S+./..T", "'+' is not a cell letter"),
    ("S .T/...T", "' ' is not a cell letter"),
])
def test_malformed_layouts_are_explained(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        gw.parse_layout(text)


@pytest.mark.parametrize(("layout", "kwargs", "message"), [
    ("S../...", {}, "no treasure T and no dragon D"),
    ("S.W/WWW/..T", {}, "treasure at row 3, column 3 cannot be reached"),
    ("S.DT/.WW./...W", {}, "treasure at row 1, column 4 cannot be reached"),  # via the dragon
    ("..T/...", {}, "exactly one start cell S; it has none"),
    ("S.T/..S", {}, "exactly one start cell S; it has 2"),
    ("S.T/W../.W.", {"gamma": 1.0}, "row 3, column 1 cannot"),  # a walled-in pocket, γ = 1
    ("S.T", {}, "1 row"),
    (CLASSIC, {"gamma": 1.5}, "γ must be at least 0 and at most 1"),
    (CLASSIC, {"gamma": -0.1}, "γ must be"),
    (CLASSIC, {"slip": 1.2}, "slip probability must be"),
    (CLASSIC, {"slip": float("nan")}, "must be a number"),
    (CLASSIC, {"step_cost": -0.1}, "step cost must be a number ≥ 0"),
])
def test_invalid_worlds_raise_readable_errors(layout, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        gw.make_grid(layout, **kwargs)


def test_a_walled_in_pocket_is_fine_when_gamma_is_below_one():
    grid = gw.make_grid("S.T/W../.W.", gamma=0.9)
    pocket = grid.state_at(2, 0)
    values = gw.value_iteration(grid)["values"][-1]
    assert values[pocket] == pytest.approx(-0.04 / (1 - 0.9))  # pays the step cost forever


def test_set_cell_and_resize():
    rows = gw.parse_layout("..T/S.D")
    assert gw.set_cell(rows, 0, 0, "w") == ("W.T", "S.D")
    assert gw.set_cell(rows, 0, 1, "S") == (".ST", "..D")  # the start moves
    assert gw.resize(rows, 3, 2) == ("..", "S.", "..")
    assert gw.resize(rows, 2, 4) == ("..T.", "S.D.")
    with pytest.raises(ValueError, match="Row 3, column 1 is outside the grid"):
        gw.set_cell(rows, 2, 0, "W")
    with pytest.raises(ValueError, match="2 to 8 rows"):
        gw.resize(rows, 1, 3)


def test_state_at_explains_walls_and_edges():
    grid = gw.make_grid(CLASSIC)
    assert grid.state_at(2, 0) == grid.start
    with pytest.raises(ValueError, match="is a wall"):
        grid.state_at(1, 1)
    with pytest.raises(ValueError, match="outside the grid"):
        grid.state_at(5, 0)


# Values and the Bellman equation


def test_value_iteration_reproduces_the_textbook_4x3_world():
    # Russell & Norvig, AIMA (3rd ed.), Fig. 17.3: γ = 1, reward −0.04 per step, 0.8/0.1/0.1.
    grid = gw.make_grid(CLASSIC, gamma=1.0, slip=0.2, step_cost=0.04)
    values = gw.value_iteration(grid)["values"][-1]
    expected = {(0, 0): 0.812, (0, 1): 0.868, (0, 2): 0.918, (1, 0): 0.762, (1, 2): 0.660,
                (2, 0): 0.705, (2, 1): 0.655, (2, 2): 0.611, (2, 3): 0.388}
    for (r, c), value in expected.items():
        assert values[grid.state_at(r, c)] == pytest.approx(value, abs=5e-4)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(("gamma", "slip", "cost"), [(0.9, 0.2, 0.04), (0.5, 0.0, 0.0),
                                                     (0.99, 0.4, 0.1)])
def test_value_iteration_solves_the_linear_bellman_system_of_its_greedy_policy(
        layout, gamma, slip, cost):
    grid = gw.make_grid(layout, gamma=gamma, slip=slip, step_cost=cost)
    result = gw.value_iteration(grid)
    assert result["converged"]
    policy = gw.greedy_policy(result["q"])
    p, cells = brute_force_world(layout, slip)
    rows = layout.split("/")
    ends = np.array([rows[r][c] in "TD" for r, c in cells])
    entry = np.array([{"T": 1.0, "D": -1.0}.get(rows[r][c], 0.0) for r, c in cells]) - cost
    # V = r_π + γ P_π V on the non-end cells, end cells worth 0: solved directly.
    p_pi = p[np.arange(len(cells)), policy][np.ix_(~ends, ~ends)]
    r_pi = (p[np.arange(len(cells)), policy] @ entry)[~ends]
    exact = np.linalg.solve(np.eye((~ends).sum()) - gamma * p_pi, r_pi)
    np.testing.assert_allclose(result["values"][-1][~ends], exact, atol=1e-8)
    np.testing.assert_allclose(result["values"][-1][ends], 0.0)


def test_optimal_values_are_a_fixed_point_and_beat_random_policies():
    grid = gw.make_grid(LAYOUTS[1], gamma=0.9, slip=0.2)
    v_star = gw.value_iteration(grid)["values"][-1]
    np.testing.assert_allclose(gw.bellman_backup(grid, v_star).max(axis=1), v_star, atol=1e-9)
    rng = np.random.default_rng(0)
    for _ in range(20):
        probs = rng.dirichlet(np.ones(4), size=grid.n_states)
        assert np.all(gw.policy_values(grid, probs) <= v_star + 1e-9)


def test_value_iteration_history_starts_at_zero_and_shrinks():
    grid = gw.make_grid(CLASSIC, gamma=0.9)
    result = gw.value_iteration(grid)
    assert np.all(result["values"][0] == 0)
    assert result["values"].shape == (result["sweeps"] + 1, grid.n_states)
    # The backup is a γ-contraction: each change is at most γ times the previous one.
    assert np.all(result["residuals"][1:] <= 0.9 * result["residuals"][:-1] + 1e-12)


def test_first_sweep_next_to_the_treasure_by_hand():
    grid = gw.make_grid(CLASSIC, gamma=0.9, slip=0.2, step_cost=0.04)
    cell = grid.state_at(0, 2)
    q = gw.bellman_backup(grid, np.zeros(grid.n_states))[cell]
    assert q[1] == pytest.approx(0.8 * 0.96 + 0.1 * -0.04 + 0.1 * -0.04)  # right: 0.76
    terms = gw.bellman_terms(grid, np.zeros(grid.n_states), cell)
    np.testing.assert_allclose([t["q"] for t in terms], q)
    assert terms[1]["outcomes"][0][0] == pytest.approx(0.8)  # most likely outcome first


def test_bellman_terms_match_the_backup_everywhere():
    grid = gw.make_grid(LAYOUTS[1], gamma=0.8, slip=0.3)
    values = np.random.default_rng(1).normal(size=grid.n_states)
    q = gw.bellman_backup(grid, values)
    for s in range(grid.n_states):
        np.testing.assert_allclose([t["q"] for t in gw.bellman_terms(grid, values, s)], q[s])
    with pytest.raises(ValueError, match="one number per state"):
        gw.bellman_backup(grid, values[:-1])


def test_greedy_policy_and_optimal_actions():
    np.testing.assert_array_equal(gw.greedy_policy([[0, 2, 1, 2], [5, 0, 0, 0]]), [1, 0])
    q = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0]])
    np.testing.assert_array_equal(gw.is_optimal_action(q, [1, 0]), [True, False])
    np.testing.assert_array_equal(gw.deterministic_policy([2]), [[0, 0, 1, 0]])


def test_policy_values_match_monte_carlo_returns():
    grid = gw.make_grid(CLASSIC, gamma=0.9, slip=0.2)
    probs = np.random.default_rng(3).dirichlet(np.full(4, 2.0), size=grid.n_states)
    exact = gw.policy_values(grid, probs)[grid.start]
    returns = np.array([gw.walk_episode(grid, probs, seed, max_steps=400)["return"]
                        for seed in range(3000)])
    assert abs(returns.mean() - exact) < 4 * returns.std() / np.sqrt(returns.size)


def test_policy_values_refuse_a_policy_that_never_ends_with_gamma_one():
    grid = gw.make_grid(CLASSIC, gamma=1.0, slip=0.0)
    always_up = gw.deterministic_policy(np.zeros(grid.n_states, dtype=int))
    with pytest.raises(ValueError, match="never"):
        gw.policy_values(grid, always_up)
    table = np.zeros((2, grid.n_states, 4))
    assert np.isnan(gw.greedy_start_values(grid, table)).all()  # argmax ties -> "up"


# Episodes and returns


def test_episode_return_and_returns_to_go():
    assert gw.episode_return([-0.04, -0.04, 1.0], 0.9) == pytest.approx(0.734)
    rewards = np.array([0.5, -1.0, 2.0, 0.25])
    to_go = gw.returns_to_go(rewards, 0.8)
    for t in range(rewards.size):
        assert to_go[t] == pytest.approx(gw.episode_return(rewards[t:], 0.8))
    batch = np.stack([rewards, rewards[::-1]], axis=1)
    np.testing.assert_allclose(gw.returns_to_go(batch, 0.8)[:, 0], to_go)


def test_running_mean():
    np.testing.assert_allclose(gw.running_mean([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    x = np.random.default_rng(0).normal(size=50)
    np.testing.assert_allclose(gw.running_mean(x, 7)[10], x[4:11].mean())


def test_sampled_moves_follow_the_transition_probabilities():
    grid = gw.make_grid(CLASSIC, slip=0.4)
    rng = np.random.default_rng(0)
    n = 40_000
    states = np.full(n, grid.state_at(0, 1))
    nxt, _ = gw.sample_next_states(grid, states, np.full(n, 2), rng.random(n))
    observed = np.bincount(nxt, minlength=grid.n_states)
    expected = grid.transitions[states[0], 2] * n
    keep = expected > 0
    assert observed[~keep].sum() == 0
    assert stats.chisquare(observed[keep], expected[keep]).pvalue > 1e-3


def test_rollout_samples_the_policy_and_the_world_together():
    grid = gw.make_grid(CLASSIC, slip=0.2)
    probs = np.random.default_rng(1).dirichlet(np.ones(4), size=grid.n_states)
    episodes = gw.rollout(grid, probs, 30_000, np.random.default_rng(2), max_steps=1)
    first_action = np.bincount(episodes["actions"][0], minlength=4)
    assert stats.chisquare(first_action, probs[grid.start] * 30_000).pvalue > 1e-3
    expected_next = probs[grid.start] @ grid.transitions[grid.start]
    # The next states after one step: alive masks end episodes that entered an end cell.
    full = gw.rollout(grid, probs, 30_000, np.random.default_rng(3), max_steps=2)
    landed = np.bincount(full["states"][1], minlength=grid.n_states)
    keep = expected_next > 0
    assert stats.chisquare(landed[keep], expected_next[keep] * 30_000).pvalue > 1e-3


def test_rollout_pads_finished_episodes_with_zero_reward():
    grid = gw.make_grid("ST/..", gamma=0.9, slip=0.0)
    right = gw.deterministic_policy(np.ones(grid.n_states, dtype=int))
    episodes = gw.rollout(grid, right, 5, np.random.default_rng(0), max_steps=10)
    assert episodes["rewards"].shape == (1, 5)  # every episode ends after one move
    np.testing.assert_allclose(episodes["rewards"], 0.96)


def test_walk_episode_records_slips_and_its_return():
    grid = gw.make_grid(CLASSIC, gamma=0.9, slip=0.0)
    best = gw.deterministic_policy(gw.greedy_policy(gw.value_iteration(grid)["q"]))
    walk = gw.walk_episode(grid, best, seed=0)
    np.testing.assert_array_equal(walk["moves"], walk["actions"])  # no slip, no surprises
    assert walk["ended"] and grid.letter(walk["states"][-1]) == "T"
    assert len(walk["states"]) == 6  # up, up, right, right, right
    assert walk["return"] == pytest.approx(gw.episode_return(walk["rewards"], 0.9))
    slippery = gw.make_grid(CLASSIC, slip=0.8)
    walks = [gw.walk_episode(slippery, best, seed) for seed in range(20)]
    assert any(np.any(w["moves"] != w["actions"]) for w in walks)


# Q-learning


@pytest.mark.parametrize(("total", "count", "expected"), [
    (10, 5, [0, 2, 5, 8, 10]), (4, 9, [0, 0, 1, 2, 2, 2, 3, 4, 4]), (0, 3, [0]),
    (3, 2, [0, 3]), (100, 21, list(range(0, 101, 5))),
])
def test_snapshot_steps_by_hand(total, count, expected):
    np.testing.assert_array_equal(gw.snapshot_steps(total, count), sorted(set(expected)))


@pytest.mark.parametrize("total", [50, 100, 200, 300, 1000])
def test_snapshot_steps_are_exact_shares_of_the_run_and_hold_every_twentieth(total):
    from fractions import Fraction

    steps = gw.snapshot_steps(total, 41)
    exact = sorted({round(Fraction(i * total, 40)) for i in range(41)})  # banker's rounding
    np.testing.assert_array_equal(steps, exact)
    assert steps[0] == 0 and steps[-1] == total and np.all(np.diff(steps) > 0)
    for share in range(0, 101, 5):  # every 5 % of the run is a snapshot
        assert round(Fraction(share * total, 100)) in steps


@pytest.mark.parametrize(("total", "count", "message"), [
    (-1, 5, "whole number ≥ 0"), (2.5, 5, "whole number ≥ 0"), (10, 1, "at least 2"),
])
def test_snapshot_steps_reject_bad_input(total, count, message):
    with pytest.raises(ValueError, match=message):
        gw.snapshot_steps(total, count)


def test_q_learning_finds_the_optimal_policy_on_a_small_deterministic_grid():
    grid = gw.make_grid("S.D/.W./..T", gamma=0.9, slip=0.0, step_cost=0.04)
    optimum = gw.value_iteration(grid)["q"]
    run = gw.q_learning(grid, episodes=1000, alpha=0.5, epsilon=0.2, seed=0,
                        random_starts=True)
    live = ~grid.terminal
    assert gw.is_optimal_action(optimum, gw.greedy_policy(run["q"]))[live].all()
    # With deterministic moves and α = 0.5 the visited Q-values approach Q* itself.
    np.testing.assert_allclose(run["q"].max(axis=1)[live], optimum.max(axis=1)[live], atol=0.02)


def test_q_learning_is_seeded_and_keeps_snapshots():
    grid = gw.make_grid(CLASSIC)
    a = gw.q_learning(grid, episodes=100, seed=5)
    b = gw.q_learning(grid, episodes=100, seed=5)
    c = gw.q_learning(grid, episodes=100, seed=6)
    np.testing.assert_array_equal(a["returns"], b["returns"])
    assert not np.array_equal(a["returns"], c["returns"])
    assert a["history"].shape == (21, grid.n_states, 4)
    np.testing.assert_array_equal(a["snapshot_episodes"], np.arange(0, 101, 5))
    np.testing.assert_array_equal(gw.q_learning(grid, episodes=100, seed=5, snapshots=41)[
        "snapshot_episodes"], gw.snapshot_steps(100, 41))
    assert np.all(a["history"][0] == 0)
    np.testing.assert_array_equal(a["history"][-1], a["q"])
    assert np.all((a["lengths"] >= 1) & (a["lengths"] <= gw.MAX_STEPS))


def test_q_learning_returns_are_the_discounted_rewards_of_each_episode():
    # With slip 0 the agent on "ST/.." wanders until it enters the treasure; every return is
    # −cost·(1 + γ + ...) for the moves before, plus γ^(T−1)·(1 − cost) for the last one.
    grid = gw.make_grid("ST/..", gamma=0.5, slip=0.0, step_cost=0.1)
    run = gw.q_learning(grid, episodes=50, alpha=0.5, epsilon=0.3, seed=1)
    assert run["lengths"].max() < gw.MAX_STEPS  # every episode ended at the treasure
    for g, length in zip(run["returns"], run["lengths"], strict=True):
        rewards = [-0.1] * (length - 1) + [0.9]
        assert g == pytest.approx(gw.episode_return(rewards, 0.5))


@pytest.mark.parametrize(("kwargs", "message"), [({"alpha": 1.5}, "learning rate"),
                                                 ({"epsilon": -0.1}, "exploration rate"),
                                                 ({"episodes": 0}, "at least one episode")])
def test_q_learning_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        gw.q_learning(gw.make_grid(CLASSIC), **kwargs)


# Policy gradients


def test_softmax_and_entropy_match_scipy():
    theta = np.random.default_rng(0).normal(size=(6, 4)) * 3
    probs = gw.softmax_policy(theta)
    np.testing.assert_allclose(probs, special.softmax(theta, axis=1))
    np.testing.assert_allclose(gw.policy_entropy(probs), stats.entropy(probs, base=2, axis=1))
    assert gw.policy_entropy(np.full((1, 4), 0.25))[0] == pytest.approx(2.0)


def test_log_policy_gradient_matches_finite_differences():
    rng = np.random.default_rng(4)
    theta = rng.normal(size=4)
    h = 1e-6
    for action in range(4):
        analytic = gw.log_policy_gradient(gw.softmax_policy(theta)[None], [action])[0]
        numeric = np.array([
            (np.log(gw.softmax_policy(theta + h * e)[action])
             - np.log(gw.softmax_policy(theta - h * e)[action])) / (2 * h)
            for e in np.eye(4)])
        np.testing.assert_allclose(analytic, numeric, atol=1e-7)


def test_probability_ratio_and_its_extremes():
    assert gw.probability_ratio(0.5, 0.2) == pytest.approx(2.5)
    same = np.tile(gw.softmax_policy(np.zeros((3, 4))), (4, 1, 1))
    low, high = gw.ratio_extremes(same, [0, 1, 2])
    np.testing.assert_allclose(low, 1.0)
    np.testing.assert_allclose(high, 1.0)
    moved = np.stack([np.full((1, 4), 0.25), np.array([[0.7, 0.1, 0.1, 0.1]])])
    low, high = gw.ratio_extremes(moved, [0])
    assert low[0] == pytest.approx(0.4) and high[0] == pytest.approx(2.8)
    assert gw.change_factor(moved, [0])[0] == pytest.approx(2.8)
    halved = np.stack([np.full((1, 4), 0.25), np.array([[0.5, 0.05, 0.2, 0.25]])])
    assert gw.change_factor(halved, [0])[0] == pytest.approx(5.0)  # 0.25 -> 0.05


def test_reinforce_improves_the_return_on_a_fixed_seed():
    grid = gw.make_grid(CLASSIC, gamma=0.9, slip=0.2)
    run = gw.reinforce(grid, updates=60, batch=16, lr=1.0, seed=0)
    exact = run["exact_returns"]
    assert exact[0] == pytest.approx(gw.policy_values(grid, np.full((grid.n_states, 4), 0.25))[
        grid.start])
    assert exact[-1] > exact[0] + 0.4
    assert exact[-1] <= gw.value_iteration(grid)["values"][-1][grid.start] + 1e-9
    assert run["entropy"][0] == pytest.approx(2.0) and run["entropy"][-1] < 1.5
    assert run["batch_returns"][-10:].mean() > run["batch_returns"][:10].mean()
    np.testing.assert_allclose(run["probs"].sum(axis=-1), 1.0)
    assert run["thetas"].shape == (61, grid.n_states, 4)


def test_reinforce_is_seeded():
    grid = gw.make_grid(CLASSIC)
    a = gw.reinforce(grid, updates=5, batch=4, seed=2)
    b = gw.reinforce(grid, updates=5, batch=4, seed=2)
    np.testing.assert_array_equal(a["thetas"], b["thetas"])


def test_one_reinforce_update_is_the_average_advantage_weighted_score():
    # Without a baseline and with one step, the update at the start is lr/N · Σ G·(1_a − π).
    grid = gw.make_grid("ST/D.", gamma=0.9, slip=0.0)
    run = gw.reinforce(grid, updates=1, batch=200, lr=0.5, seed=7, baseline=False,
                       max_steps=1)
    episodes = gw.rollout(grid, np.full((grid.n_states, 4), 0.25), 200,
                          np.random.default_rng(7), max_steps=1)
    returns = episodes["rewards"][0]
    score = np.eye(4)[episodes["actions"][0]] - 0.25
    expected = 0.5 * (returns[:, None] * score).mean(axis=0)
    np.testing.assert_allclose(run["thetas"][1][grid.start], expected)


def test_a_huge_step_size_collapses_the_policy():
    grid = gw.make_grid(CLASSIC, gamma=0.9, slip=0.2)
    careful = gw.reinforce(grid, updates=60, batch=16, lr=1.0, seed=0)
    huge = gw.reinforce(grid, updates=60, batch=16, lr=100.0, seed=0)
    assert huge["entropy"][-1] < 0.1 < careful["entropy"][-1]
    assert huge["exact_returns"][-1] < careful["exact_returns"][-1] - 0.2
    live = np.flatnonzero(~grid.terminal)
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = gw.ratio_extremes(huge["probs"], live)
    assert low[0] < 1e-6 and high[0] > 2.0
    low, high = gw.ratio_extremes(careful["probs"], live)
    assert low.min() > 0.5 and high.max() < 2.0


def test_reinforce_rejects_a_bad_step_size():
    with pytest.raises(ValueError, match="step size"):
        gw.reinforce(gw.make_grid(CLASSIC), lr=0.0)
