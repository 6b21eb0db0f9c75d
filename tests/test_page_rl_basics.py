"""The grid-world page through app.py: every step renders and survives the fuzzer, the numbers
shown come from lessons/gridworld.py, every replay holds the lessons' values frame by frame and
opens where its control says, the cell editor edits, links restore the view, and bad links or bad
worlds get friendly notes."""

import json
import re

import numpy as np
import pytest
from conftest import open_page
from fuzz import MALFORMED_TEXT, fuzz_page
from pagetest import explorables, guess, link_notes, markdown, metric, opened_frame, shown_note
from streamlit.testing.v1.element_tree import Block

from lessons import gridworld as gw
from lessons import information as info
from ui import gridworld_figures as gf
from ui.figures import fmt

PAGE = "app_pages/rl_basics.py"
LABELS = ("1. The grid world", "2. Values and Bellman", "3. Q-learning", "4. Policy gradients",
          "5. Bridge to PPO", "6. Check yourself")
NAVIGATION = {"gw_step", "gw_step_back", "gw_step_next"}  # these leave the step
WORLD = {"gw_preset", "gw_grid", "gw_gamma", "gw_slip", "gw_cost"}
STEP_WIDGETS = {
    1: WORLD | {"gw_cell", "gw_row", "gw_col", "gw_place", "gw_add_row", "gw_drop_row",
                "gw_add_col", "gw_drop_col", "gw_walk", "gw_walk_seed"},
    2: WORLD | {"gw_sweep_guess", "gw_k", "gw_k_back", "gw_k_next", "gw_vrow", "gw_vcol"},
    3: WORLD | {"gw_q_alpha", "gw_q_eps", "gw_q_episodes", "gw_q_starts", "gw_q_seed",
                "gw_q_at"},
    4: WORLD | {"gw_pg_lr", "gw_pg_baseline", "gw_pg_updates", "gw_pg_batch", "gw_pg_seed",
                "gw_pg_at"},
    5: WORLD | {"gw_big_lr", "gw_br_seed", "gw_br_run", "gw_br_update"},
    6: {f"quiz_rl-basics_{q}" for q in ("backup", "discount", "off_policy", "baseline",
                                         "ratio")},
}
CLASSIC = gw.make_grid("...T/.W.D/S...", gamma=0.9, slip=0.2, step_cost=0.04)
OPEN_FIELD = "......../..D...../......../.WWW..D./......../....D.../.D....../S......T"
CLASSIC_VI = gw.value_iteration(CLASSIC)
NEXT_TO_TREASURE, EVERY_CELL, NONE_YET = "Only next to the treasure", "Every cell", "None yet"
# Step 2 shows its replay once the learner has guessed: its links carry a guess
GUESSED = {"gw_sweep_guess": NEXT_TO_TREASURE}


def step(number: int, **params) -> dict:
    return {"gw_step": LABELS[number - 1], **(GUESSED if number == 2 else {}), **params}


def note_at(spec: dict, k: int) -> str:
    """The line of numbers frame k shows above its chart."""
    notes = [a["text"] for a in spec["frames"][k]["layout"]["annotations"]
             if a.get("name") == "explorable-note"]
    return notes[0].replace("<br>", " ")


def numbers(values) -> np.ndarray:
    """A frame's numbers as floats (gaps, sent as None, become NaN)."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def assert_arrows(spec: dict, k: int, grid: gw.GridWorld, probs: np.ndarray) -> list:
    """Frame k draws the policy's arrows: in every cell but the end cells, one towards each
    action of at least 8 %, its size growing with π(a|s), the others hidden (size 0). Returns
    the arrows' (state, action) places."""
    live = np.flatnonzero(~grid.terminal)
    state, action = np.repeat(live, 4), np.tile(np.arange(4), live.size)
    places = spec["data"][1]
    # each arrow's tip 0.45 of a cell from the centre, towards its action's neighbour
    np.testing.assert_allclose(places["x"], grid.cells[state, 1] + 1 + 0.45
                               * gw.MOVES[action, 1], rtol=1e-4)
    np.testing.assert_allclose(places["y"], grid.cells[state, 0] + 1 + 0.45
                               * gw.MOVES[action, 0], rtol=1e-4)
    marker = spec["frames"][k]["data"][1]["marker"]
    symbols = {"up": 45, "right": 48, "down": 46, "left": 47}  # plotly's arrow-up, ...
    assert marker["symbol"] == [symbols[gw.ACTIONS[a]] for a in action]
    p = probs[state, action]
    scale = {4: 1.0, 5: 0.9, 6: 0.8, 7: 0.72, 8: 0.72}[max(4, *grid.shape)]
    expected = np.where(p >= gf.MIN_ARROW_PROB, np.round((4 + 8 * p) * scale), 0)
    np.testing.assert_array_equal(marker["size"], expected)
    return list(zip(state.tolist(), action.tolist(), strict=True))


def assert_cells(frame: dict, grid: gw.GridWorld, values: np.ndarray | None) -> None:
    """A frame's map: every cell's exact value (or none), and one square per non-end cell."""
    cells = frame["data"][0]
    expected = np.full(grid.n_states, np.nan) if values is None else values
    np.testing.assert_allclose(numbers(cells["customdata"]), expected, rtol=1e-4, atol=1e-9)
    squares = sum(s.get("path", "").count("Z") for s in frame["layout"]["shapes"])
    assert squares == grid.n_states  # every cell but the walls


@pytest.mark.parametrize("number", range(1, 7))
def test_every_step_renders_and_the_fuzzer_reaches_all_its_widgets(number):
    at = open_page(PAGE, step(number))
    assert not at.exception
    assert not at.error
    assert at.header[0].value.startswith(f"{number}.")
    # First with the world left valid, so every demo widget is on screen; then malformed
    # layouts typed into the world's text box; then everything at random.
    driven = fuzz_page(at, steps=len(STEP_WIDGETS[number]) + 6, seed=number,
                       skip=NAVIGATION | {"gw_grid"})
    if "gw_grid" in STEP_WIDGETS[number]:
        for text in MALFORMED_TEXT[:6]:
            at.text_input(key="gw_grid").set_value(text).run()
            assert not at.exception, text
            assert at.error, f"no message for the layout {text!r}"
        driven.add("gw_grid")
    driven |= fuzz_page(at, steps=8, seed=10 + number, skip=NAVIGATION)
    assert not at.exception
    missing = STEP_WIDGETS[number] - driven
    assert not missing, missing


def test_step_one_draws_the_world_and_writes_out_the_return():
    at = open_page(PAGE)
    assert not at.exception
    assert at.text_input(key="gw_grid").value == "...T/.W.D/S..."
    assert len(at.get("plotly_chart")) == 1
    best = gw.deterministic_policy(gw.greedy_policy(CLASSIC_VI["q"]))
    walk = gw.walk_episode(CLASSIC, best, seed=0)
    latex = " ".join(e.value for e in at.latex)
    assert f"&= {walk['return']:.3f}" in latex
    text = " ".join(m.value for m in at.markdown)
    assert f"after **{len(walk['actions'])}** moves" in text


def test_the_cell_editor_places_cells_and_resizes():
    at = open_page(PAGE)
    at.radio(key="gw_cell").set_value("Dragon")
    at.number_input(key="gw_row").set_value(3)
    at.number_input(key="gw_col").set_value(2)
    at.button(key="gw_place").click().run()
    assert not at.exception
    assert at.text_input(key="gw_grid").value == "...T/.W.D/SD.."
    assert at.selectbox(key="gw_preset").value == "Your own"
    at.button(key="gw_add_col").click().run()
    assert at.text_input(key="gw_grid").value == "...T./.W.D./SD..."
    at.number_input(key="gw_row").set_value(8).run()
    at.button(key="gw_place").click().run()
    assert any("Row 8, column 2 is outside the grid" in w.value for w in at.warning)
    assert at.text_input(key="gw_grid").value == "...T./.W.D./SD..."
    at.selectbox(key="gw_preset").set_value("Cliff edge").run()
    assert at.text_input(key="gw_grid").value == "....../....../SDDDDT"
    assert not at.warning


def test_removing_the_start_gets_a_clear_message():
    at = open_page(PAGE)
    at.radio(key="gw_cell").set_value("Wall")
    at.number_input(key="gw_row").set_value(3)
    at.number_input(key="gw_col").set_value(1)
    at.button(key="gw_place").click().run()
    assert not at.exception
    assert any("exactly one start cell S" in e.value for e in at.error)


def test_values_step_shows_the_bellman_backup_from_value_iteration():
    at = open_page(PAGE, step(2))
    cell = CLASSIC.state_at(0, 2)  # the default cell: row 1, column 3
    values = CLASSIC_VI["values"]
    assert metric(at, "Its value now, V₁") == f"{values[1][cell]:.3f}"
    assert metric(at, "After the next sweep, V₂") == f"{values[2][cell]:.3f}"
    assert metric(at, "Sweeps until no value moves by 10⁻¹⁰") == str(CLASSIC_VI["sweeps"])
    assert metric(at, "Optimal value of the start V*(start)") == \
        f"{values[-1][CLASSIC.start]:.3f}"
    at.button(key="gw_k_next").click().run()
    assert at.slider(key="gw_k").value == 2
    assert metric(at, "After the next sweep, V₃") == f"{values[3][cell]:.3f}"
    latex = " ".join(e.value for e in at.latex)
    assert r"\leftarrow \text{best}" in latex


@pytest.mark.parametrize(("row", "col", "note"), [(2, 2, "is a wall"), (1, 4, "ends the episode"),
                                                  (8, 8, "outside the grid")])
def test_values_step_explains_cells_without_a_backup(row, col, note):
    at = open_page(PAGE, step(2, gw_vrow=str(row), gw_vcol=str(col)))
    assert not at.exception
    assert any(note in i.value for i in at.info)


def test_a_shared_link_reproduces_a_q_learning_view():
    link = step(3, gw_preset="Your own", gw_grid="S.D/.W./..T", gw_gamma="0.8",
                gw_slip="0.1", gw_q_alpha="0.5", gw_q_eps="0.2", gw_q_episodes="1000",
                gw_q_starts="Random cells", gw_q_seed="3", gw_q_at="50")
    at = open_page(PAGE, link)
    assert not at.exception
    assert at.text_input(key="gw_grid").value == "S.D/.W./..T"
    assert at.slider(key="gw_gamma").value == 0.8
    assert at.button_group(key="gw_q_alpha").value == "0.5"
    assert at.button_group(key="gw_q_episodes").value == 1000
    assert at.button_group(key="gw_q_starts").value == "Random cells"
    assert at.number_input(key="gw_q_seed").value == 3
    assert at.slider(key="gw_q_at").value == 50
    grid = gw.make_grid("S.D/.W./..T", gamma=0.8, slip=0.1, step_cost=0.04)
    optimum = gw.value_iteration(grid)
    run = gw.q_learning(grid, episodes=1000, alpha=0.5, epsilon=0.2, seed=3, random_starts=True)
    agree = gw.is_optimal_action(optimum["q"], gw.greedy_policy(run["q"]))[~grid.terminal]
    assert metric(at, "Optimal greedy moves, final table") == f"{agree.sum()} of {agree.size}"
    assert metric(at, "Optimum V*(start)") == f"{optimum['values'][-1][grid.start]:.3f}"
    assert metric(at, "Mean return, last 50 episodes") == f"{run['returns'][-50:].mean():.3f}"


def test_policy_gradient_step_matches_reinforce():
    at = open_page(PAGE, step(4, gw_pg_lr="3", gw_pg_updates="50", gw_pg_seed="2"))
    assert at.button_group(key="gw_pg_lr").value == "3"
    assert not at.exception
    run = gw.reinforce(CLASSIC, updates=50, batch=16, lr=3.0, seed=2, baseline=True)
    assert metric(at, "Exact value of the final policy") == f"{run['exact_returns'][-1]:.3f}"
    assert metric(at, "Entropy in the last batch") == f"{run['entropy'][-1]:.2f} bits"


def test_bridge_step_compares_a_careful_and_a_big_step():
    at = open_page(PAGE, step(5, gw_big_lr="100", gw_br_update="3"))
    assert not at.exception
    careful = gw.reinforce(CLASSIC, updates=60, batch=16, lr=1.0, seed=0)
    big = gw.reinforce(CLASSIC, updates=60, batch=16, lr=100.0, seed=0)
    assert metric(at, "Careful step (α = 1): final value") == f"{careful['exact_returns'][-1]:.3f}"
    assert metric(at, "Big step (α = 100): final value") == f"{big['exact_returns'][-1]:.3f}"
    assert at.slider(key="gw_br_update").value == 3


def test_value_iteration_is_replayed_sweep_by_sweep():
    at = open_page(PAGE, step(2, gw_gamma="0.8", gw_k="5", gw_vrow="3", gw_vcol="2"))
    assert not at.exception
    grid = gw.make_grid("...T/.W.D/S...", gamma=0.8, slip=0.2, step_cost=0.04)
    vi = gw.value_iteration(grid)
    cell = grid.state_at(2, 1)
    (spec,) = explorables(at)
    last = min(60, vi["sweeps"])
    assert len(spec["frames"]) == last + 1
    assert opened_frame(spec) == 5  # the link's sweep
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶"
    for k in range(last + 1):
        frame = spec["frames"][k]
        assert_cells(frame, grid, vi["values"][k])
        greedy = gw.greedy_policy(gw.bellman_backup(grid, vi["values"][k]))
        assert_arrows(spec, k, grid, gw.deterministic_policy(greedy))
        marker, note = frame["data"][2], note_at(spec, k)
        if k == 0:
            assert marker["y"] == [None] and "every value is 0" in note
            continue
        np.testing.assert_allclose(marker["y"], [max(vi["residuals"][k - 1], 1e-16)], rtol=1e-4)
        assert f"Sweep {k}: largest change {fmt(vi['residuals'][k - 1])} " in note
        assert f"V(start) = {fmt(vi['values'][k][grid.start])} " in note
        assert f"outlined cell {fmt(vi['values'][k][cell])}" in note
    assert ("settled" in note_at(spec, last)) == (last == vi["sweeps"])
    assert shown_note(spec) == note_at(spec, 5)
    # the backup beside the map is for the control's sweep, and says so
    assert metric(at, "Its value now, V₅") == f"{vi['values'][5][cell]:.3f}"
    assert "after k = 5 sweeps (the slider above)" in markdown(at)


def test_the_q_learning_replay_shows_the_table_after_every_snapshot():
    link = step(3, gw_preset="Your own", gw_grid="S.D/.W./..T", gw_gamma="0.8",
                gw_slip="0.1", gw_q_alpha="0.5", gw_q_eps="0.2", gw_q_episodes="1000",
                gw_q_starts="Random cells", gw_q_seed="3", gw_q_at="35")
    at = open_page(PAGE, link)
    assert not at.exception
    grid = gw.make_grid("S.D/.W./..T", gamma=0.8, slip=0.1, step_cost=0.04)
    vi = gw.value_iteration(grid)
    run = gw.q_learning(grid, episodes=1000, alpha=0.5, epsilon=0.2, seed=3,
                        random_starts=True, snapshots=41)
    greedy_values = gw.greedy_start_values(grid, run["history"])
    smooth = gw.running_mean(run["returns"], 25)
    optimum = vi["values"][-1][grid.start]
    (spec,) = explorables(at)
    marks = run["snapshot_episodes"]
    assert [int(s["label"]) for s in spec["layout"]["sliders"][0]["steps"]] == marks.tolist()
    assert opened_frame(spec) == 14 and marks[14] == 350  # 35 % of 1000 episodes
    live = ~grid.terminal
    for f, done in enumerate(marks):
        frame = spec["frames"][f]
        assert_cells(frame, grid, run["history"][f].max(axis=1))
        actions = gw.greedy_policy(run["history"][f])
        places = assert_arrows(spec, f, grid, gw.deterministic_policy(actions))
        ok = gw.is_optimal_action(vi["q"], actions)
        assert frame["data"][1]["marker"]["color"] == [
            gf.ARROW_COLOR if ok[state] else gf.WRONG_ARROW_COLOR for state, _ in places]
        good = ok[live]
        marker = frame["data"][2]
        assert marker["x"] == [done]
        np.testing.assert_allclose(numbers(marker["y"]), [greedy_values[f]], rtol=1e-4)
        note = note_at(spec, f)
        assert f"After {done} of 1000 episodes " in note
        assert f"greedy arrows optimal: {good.sum()} of {good.size} " in note
        assert f"greedy policy's value {fmt(greedy_values[f])} (V* {fmt(optimum)})" in note
        if done:
            assert f"mean of the last {min(25, done)} returns {fmt(smooth[done - 1])}" in note
    assert shown_note(spec) == note_at(spec, 14)
    assert "after 350 episodes (the slider above)" in markdown(at)


def test_the_reinforce_replay_shows_the_policy_after_every_update_it_keeps():
    at = open_page(PAGE, step(4, gw_pg_lr="3", gw_pg_updates="50", gw_pg_seed="2",
                              gw_pg_at="30"))
    assert not at.exception
    run = gw.reinforce(CLASSIC, updates=50, batch=16, lr=3.0, seed=2, baseline=True)
    optimum = CLASSIC_VI["values"][-1][CLASSIC.start]
    shown = gw.snapshot_steps(50, 41)
    (spec,) = explorables(at)
    assert [int(s["label"]) for s in spec["layout"]["sliders"][0]["steps"]] == shown.tolist()
    k_open = int(np.argmin(np.abs(shown - 15)))  # 30 % of 50 updates
    assert opened_frame(spec) == k_open
    for f, k in enumerate(shown):
        frame = spec["frames"][f]
        assert_cells(frame, CLASSIC, gw.policy_values(CLASSIC, run["probs"][k]))
        assert_arrows(spec, f, CLASSIC, run["probs"][k])
        np.testing.assert_allclose(frame["data"][2]["y"], [run["exact_returns"][k]], rtol=1e-4)
        note = note_at(spec, f)
        assert f"After {k} of 50 updates" in note
        assert f"policy's value {fmt(run['exact_returns'][k])} (V* {fmt(optimum)})" in note
        if k < 50:
            assert f"its batch: mean return {fmt(run['batch_returns'][k])} " in note
            assert f"entropy of its moves {run['entropy'][k]:.2f} bits" in note
    assert shown_note(spec) == note_at(spec, k_open)
    assert f"The start cell after {shown[k_open]} updates** (the slider above)" in markdown(at)


@pytest.mark.parametrize("run_name", ["Big step", "Careful step"])
def test_both_step_sizes_are_replayed_update_by_update(run_name):
    at = open_page(PAGE, step(5, gw_big_lr="100", gw_br_update="3", gw_br_run=run_name))
    assert not at.exception
    careful = gw.reinforce(CLASSIC, updates=60, batch=16, lr=1.0, seed=0)
    big = gw.reinforce(CLASSIC, updates=60, batch=16, lr=100.0, seed=0)
    live = np.flatnonzero(~CLASSIC.terminal)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        factors = [gw.change_factor(r["probs"], live) for r in (careful, big)]
    runs, bars = explorables(at)
    assert len(runs["frames"]) == len(bars["frames"]) == 60
    assert opened_frame(runs) == opened_frame(bars) == 2  # update 3, the link's
    for k in range(1, 61):
        values, changes = runs["frames"][k - 1]["data"]
        assert values["x"] == changes["x"] == [k, k]
        np.testing.assert_allclose(values["y"], [careful["exact_returns"][k],
                                                 big["exact_returns"][k]], rtol=1e-4)
        expected = np.array([f[k - 1] for f in factors])
        np.testing.assert_allclose(numbers(changes["y"]),
                                   np.where(np.isfinite(expected), expected, np.nan), rtol=1e-4)
        note = note_at(runs, k - 1)
        assert f"After update {k} " in note
        assert f"α = 1: value {fmt(careful['exact_returns'][k])}, largest factor " \
               f"×{fmt(factors[0][k - 1], 2)}" in note
        assert f"α = 100: value {fmt(big['exact_returns'][k])}" in note
    chosen = big if run_name == "Big step" else careful
    probs = chosen["probs"][:, CLASSIC.start]
    assert bars["layout"]["title"]["text"].startswith(run_name)
    for k in range(1, 61):
        old, new = bars["frames"][k - 1]["data"]
        np.testing.assert_allclose(old["y"], probs[k - 1], rtol=1e-4, atol=1e-12)
        np.testing.assert_allclose(new["y"], probs[k], rtol=1e-4, atol=1e-12)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = gw.probability_ratio(probs[k], probs[k - 1])
            most = int(np.argmax(np.nan_to_num(np.abs(np.log(ratios)), nan=np.inf)))
            kl = info.kl_divergence(probs[k - 1], probs[k], base="nats")
        note = note_at(bars, k - 1)
        assert f"Update {k}: {gw.ACTIONS[most]} changed most " in note
        assert f"{fmt(probs[k - 1][most])} → {fmt(probs[k][most])}" in note
        assert f"KL(old‖new) = {fmt(kl)} nats" in note
    assert shown_note(runs) == note_at(runs, 2) and shown_note(bars) == note_at(bars, 2)


@pytest.mark.parametrize(("number", "world", "most_kb"), [
    (number, world, most_kb) for number in (2, 3, 4, 5) for world, most_kb in (
        ({}, 150), ({"gw_preset": "Open field 8×8", "gw_grid": OPEN_FIELD}, 400))])
def test_the_replays_stay_light(number, world, most_kb):
    at = open_page(PAGE, step(number, gw_q_episodes="1000", gw_pg_updates="200",
                              gw_pg_batch="32", **world))
    assert not at.exception
    for spec in explorables(at):
        assert len(json.dumps(spec, separators=(",", ":"), ensure_ascii=False)) < most_kb * 1000
        assert len(spec["data"]) <= 8 and len(spec["frames"]) <= 61
        # at most 150 points a line, and the arrows' trace 4 places a cell (64 cells at most)
        assert all(len(trace.get("x") or ()) <= (256 if trace.get("name") == "policy" else 150)
                   for trace in spec["data"])
        changing = spec["frames"][0]["traces"]
        assert len(changing) <= 3 and all(f["traces"] == changing for f in spec["frames"])

def test_a_broken_world_on_a_later_step_points_back_to_the_editor():
    at = open_page(PAGE, step(3, gw_grid="S../..."))
    assert not at.exception
    assert any("no treasure T and no dragon D" in e.value for e in at.error)
    at.button(key="gw_fix_world").click().run()
    assert at.button_group(key="gw_step").value == LABELS[0]
    assert at.text_input(key="gw_grid").value == "S../..."


def test_a_malformed_link_falls_back_with_notes():
    at = open_page(PAGE, step(2, gw_gamma="abc", gw_k="99", gw_preset="Nope", gw_vrow="2.5"))
    assert not at.exception
    notes = link_notes(at)
    assert "gw_gamma=abc" in notes and "gw_k=99" in notes and "gw_preset=Nope" in notes
    assert "gw_vrow=2.5" in notes
    assert at.slider(key="gw_gamma").value == 0.9
    assert at.slider(key="gw_k").value == 1
    assert at.selectbox(key="gw_preset").value == "Classic 4×3"


@pytest.mark.parametrize(("layout", "message"), [
    ("S.X/..T", "'X' is not a cell letter"),
    ("S..T/..", "different lengths"),
    ("S T/..T", "' ' is not a cell letter"),  # a "+" typed into a link arrives as a space
    ("S../...", "no treasure T and no dragon D"),
])
def test_a_malformed_layout_in_a_link_is_explained(layout, message):
    at = open_page(PAGE, step(2, gw_grid=layout))
    assert not at.exception
    assert any(message in e.value for e in at.error)
    assert at.button(key="gw_fix_world")


def test_a_walled_in_treasure_and_gamma_one_are_explained():
    at = open_page(PAGE, {"gw_grid": "S.W/WWW/..T"})
    assert any("cannot be reached from the start" in e.value for e in at.error)
    at = open_page(PAGE, {"gw_grid": "S.T/W../.W.", "gw_gamma": "1.0"})
    assert any("With γ = 1 every cell must be able to reach an end cell" in e.value
               for e in at.error)


def test_self_check_grades_answers():
    at = open_page(PAGE, step(6))
    at.number_input(key="quiz_rl-basics_backup").set_value(0.96).run()
    at.number_input(key="quiz_rl-basics_ratio").set_value(0.4).run()
    assert any(s.value.startswith("Right.") for s in at.success)
    assert any(w.value.startswith("Not quite.") for w in at.warning)


def test_values_wait_for_a_prediction_then_show_the_first_sweep():
    at = open_page(PAGE, {"gw_step": LABELS[1]})
    assert not at.exception
    (question,) = [g for g in at.button_group if g.key == "gw_sweep_guess"]
    assert question.value is None and list(question.options) == [
        NEXT_TO_TREASURE, EVERY_CELL, NONE_YET]
    assert not at.get("plotly_chart") and not at.metric  # the replay waits for the guess
    assert at.info[-1].icon == ":material/lightbulb:"  # the step still ends with its takeaway
    question.set_value(EVERY_CELL).run()
    assert not at.exception
    assert len(explorables(at)) == 1
    # In the classic world one sweep lifts only the cell left of the treasure above 0
    above = np.flatnonzero(CLASSIC_VI["values"][1] > 0)
    assert above.tolist() == [CLASSIC.state_at(0, 2)]
    (verdict,) = [w.value for w in at.warning if w.value.startswith("You predicted")]
    assert f"You predicted **{EVERY_CELL}**; the demo below shows **{NEXT_TO_TREASURE}**" \
        in verdict
    verdict = guess(at, "gw_sweep_guess", NEXT_TO_TREASURE)
    assert verdict.startswith(f"You predicted **{NEXT_TO_TREASURE}**")
    assert verdict in [s.value for s in at.success]


@pytest.mark.parametrize(("layout", "cost", "slip", "answer"), [
    ("...T/.W.D/S...", "0.04", "0.2", NEXT_TO_TREASURE),
    ("ST/W.", "0.04", "0.2", EVERY_CELL),  # both cells that are not walls touch the treasure
    ("S..T/....", "0.5", "0.8", NONE_YET),  # one move can win +1 at most with 40 %, costs 0.5
])
def test_the_first_sweep_answer_follows_the_world(layout, cost, slip, answer):
    grid = gw.make_grid(layout, gamma=0.9, slip=float(slip), step_cost=float(cost))
    above = gw.value_iteration(grid)["values"][1][~grid.terminal] > 0
    expected = EVERY_CELL if above.all() else NONE_YET if not above.any() else NEXT_TO_TREASURE
    assert expected == answer
    at = open_page(PAGE, step(2, gw_preset="Your own", gw_grid=layout, gw_cost=cost,
                              gw_slip=slip, gw_sweep_guess=answer))
    assert not at.exception
    assert any(s.value.startswith(f"You predicted **{answer}**, and the demo below bears it")
               for s in at.success)


@pytest.mark.parametrize(("number", "params", "label", "against"), [
    (2, {}, "After the next sweep, V₂", "vs V₁"),
    (4, {}, "Exact value of the final policy", "vs before training"),
    (5, {}, "Careful step (α = 1): final value", "vs the optimum"),
    (5, {}, "Big step (α = 30): final value", "vs the optimum"),
])
def test_every_delta_says_what_it_is_measured_against(number, params, label, against):
    at = open_page(PAGE, step(number, **params))
    (shown,) = [m for m in at.metric if m.label == label]
    assert shown.proto.delta_description == against
    if number == 2:
        cell = CLASSIC.state_at(0, 2)
        assert shown.delta == f"{CLASSIC_VI['values'][2][cell] - CLASSIC_VI['values'][1][cell]:.3f}"
    elif number == 4:
        run = gw.reinforce(CLASSIC, updates=100, batch=16, lr=1.0, seed=0, baseline=True)
        assert shown.delta == fmt(run["exact_returns"][-1] - run["exact_returns"][0])
    else:
        lr = 1.0 if label.startswith("Careful") else 30.0
        run = gw.reinforce(CLASSIC, updates=60, batch=16, lr=lr, seed=0)
        optimum = CLASSIC_VI["values"][-1][CLASSIC.start]
        assert shown.delta == fmt(run["exact_returns"][-1] - optimum)


@pytest.mark.parametrize("number", [3, 4, 5])
def test_optimum_labels_sit_above_their_lines_on_a_white_backing(number):
    at = open_page(PAGE, step(number))
    optimum = CLASSIC_VI["values"][-1][CLASSIC.start]
    labels = [(spec, a) for spec in explorables(at)
              for a in spec["layout"]["annotations"] if a["text"].startswith("optimum")]
    assert labels
    for spec, label in labels:
        assert label["text"] == f"optimum {fmt(optimum)}"
        assert label["y"] == pytest.approx(optimum, abs=1e-3)
        assert label["yanchor"] == "bottom" and label["yshift"] >= 3  # clear of the line
        assert label["bgcolor"].startswith("rgba(255, 255, 255")
        lines = [s for s in spec["layout"]["shapes"] if s.get("type") == "line"
                 and s["y0"] == pytest.approx(optimum, abs=1e-3)]
        assert [line["yref"] for line in lines] == [label["yref"]]  # the line it names
        low, high = spec["layout"][label["yref"].replace("y", "yaxis")]["range"]
        assert low < optimum < high - 0.15 * (high - low)  # room above the line for the label


def test_the_replayed_maps_name_the_start_in_its_corner():
    at = open_page(PAGE, step(2))
    (spec,) = explorables(at)
    (label,) = [a for a in spec["layout"]["annotations"] if a["text"] == "start"]
    row, col = CLASSIC.cells[CLASSIC.start] + 1
    assert (label["x"], label["y"]) == (pytest.approx(col - 0.45), pytest.approx(row - 0.46))
    assert label["xanchor"] == "left" and label["yanchor"] == "top"
    # the cell's own text is just its number, between the arrows
    texts = spec["frames"][1]["data"][0]["text"]
    assert texts[CLASSIC.start] == f"{CLASSIC_VI['values'][1][CLASSIC.start]:.2f}".replace("-", "−")


def test_the_ratio_over_each_pair_of_bars_follows_the_update():
    at = open_page(PAGE, step(5, gw_br_update="1"))
    _, bars = explorables(at)
    big = gw.reinforce(CLASSIC, updates=60, batch=16, lr=30.0, seed=0)
    probs = big["probs"][:, CLASSIC.start]
    for k in (1, 2, 30, 60):
        labels = [a for a in bars["frames"][k - 1]["layout"]["annotations"]
                  if a["text"].startswith("r ")]
        assert [a["x"] for a in labels] == list(gw.ACTIONS)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = probs[k] / probs[k - 1]
        for a, r, old, new in zip(labels, ratios, probs[k - 1], probs[k], strict=True):
            assert a["y"] == pytest.approx(max(old, new))  # over the taller bar of the pair
            expected = ("r = 0/0" if np.isnan(r) else "r = ∞" if np.isinf(r)
                        else "r < 0.01" if r < 0.01 else "r > 100" if r > 100
                        else f"r = {r:.2f}")
            assert a["text"] == expected


@pytest.mark.parametrize(("ratio", "expected"), [
    (2.5, "r = 2.50"), (0.01, "r = 0.01"), (0.004, "r < 0.01"), (100.0, "r = 100.00"),
    (4.3e7, "r > 100"), (np.inf, "r = ∞"), (np.nan, "r = 0/0")])
def test_ratio_labels_stay_short(ratio, expected):
    assert gf.ratio_label(ratio) == expected


# The colour each caption word names, as ui/theme draws it
COLOUR_WORDS = {"dark grey": gf.WALL_COLOR, "light blue": "#56B4E9", "red-orange": "#D55E00",
                "pink": "#CC79A7", "green": "#009E73", "yellow": "#F0E442", "orange": "#E69F00",
                "grey": "#7A7A7A", "black": "#000000"}


@pytest.mark.parametrize("number", range(1, 6))
def test_caption_colours_are_the_colours_drawn(number):
    at = open_page(PAGE, step(number))
    text = " ".join(c.value for c in at.caption).lower()
    drawn = json.dumps([c.proto.spec for c in at.get("plotly_chart")]).upper()
    assert "purple" not in text  # the policy's colour looks pink
    named = []
    for word in COLOUR_WORDS:  # longest first: "dark grey" is not also "grey"
        pattern = rf"(?<![\w-]){word}\b"
        if re.search(pattern, text):
            named.append(word)
            text = re.sub(pattern, "", text)
    assert named
    for word in named:
        assert COLOUR_WORDS[word].upper() in drawn, (word, COLOUR_WORDS[word])


def test_presenter_mode_enlarges_the_maps_and_stacks_the_metrics_in_pairs():
    link = step(4, gw_pg_updates="50")
    wide, presenter = open_page(PAGE, link), open_page(PAGE, {**link, "presenter": "true"})
    assert not presenter.exception
    (normal,), (big,) = explorables(wide), explorables(presenter)
    assert normal["data"][0]["textfont"]["size"] == 13
    assert big["data"][0]["textfont"]["size"] == round(13 * 1.35)
    for f in (0, 20, 40):  # every frame's arrows, not only the one opened
        sizes = np.array(normal["frames"][f]["data"][1]["marker"]["size"])
        np.testing.assert_array_equal(big["frames"][f]["data"][1]["marker"]["size"],
                                      np.round(sizes * 1.35))
    (start,) = [a for a in big["layout"]["annotations"] if a["text"] == "start"]
    assert start["font"]["size"] == round(10 * 1.35)
    # the four metrics in two rows of two, where their labels keep their full width
    assert metric_rows(wide) == [4] and metric_rows(presenter) == [2, 2]


def metric_rows(at) -> list[int]:
    """How many metrics each row of columns holds, top to bottom."""
    rows = []

    def walk(node):
        for child in node.children.values():
            if isinstance(child, Block):
                columns = [c for c in child.children.values() if getattr(c, "type", "") == "column"]
                shown = sum(getattr(e, "type", "") == "metric" for c in columns
                            for e in c.children.values())
                if shown:
                    rows.append(shown)
                walk(child)

    walk(at.main)
    return rows
