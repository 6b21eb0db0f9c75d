"""The grid-world page through app.py: every step renders and survives the fuzzer, the numbers
shown come from lessons/gridworld.py, the cell editor edits, links restore the view, and bad links
or bad worlds get friendly notes."""

import numpy as np
import pytest
from conftest import open_page
from fuzz import MALFORMED_TEXT, fuzz_page
from pagetest import link_notes, metric

from lessons import gridworld as gw

PAGE = "app_pages/rl_basics.py"
LABELS = ("1. The grid world", "2. Values and Bellman", "3. Q-learning", "4. Policy gradients",
          "5. Bridge to PPO", "6. Check yourself")
NAVIGATION = {"gw_step"}
WORLD = {"gw_preset", "gw_grid", "gw_gamma", "gw_slip", "gw_cost"}
STEP_WIDGETS = {
    1: WORLD | {"gw_cell", "gw_row", "gw_col", "gw_place", "gw_add_row", "gw_drop_row",
                "gw_add_col", "gw_drop_col", "gw_walk", "gw_walk_seed"},
    2: WORLD | {"gw_k", "gw_k_back", "gw_k_next", "gw_vrow", "gw_vcol"},
    3: WORLD | {"gw_q_alpha", "gw_q_eps", "gw_q_episodes", "gw_q_starts", "gw_q_seed",
                "gw_q_at"},
    4: WORLD | {"gw_pg_lr", "gw_pg_baseline", "gw_pg_updates", "gw_pg_batch", "gw_pg_seed",
                "gw_pg_at"},
    5: WORLD | {"gw_big_lr", "gw_br_seed", "gw_br_run", "gw_br_update"},
    6: {f"quiz_rl-basics_{q}" for q in ("backup", "discount", "off_policy", "baseline",
                                         "ratio")},
}
CLASSIC = gw.make_grid("...T/.W.D/S...", gamma=0.9, slip=0.2, step_cost=0.04)
CLASSIC_VI = gw.value_iteration(CLASSIC)


def step(number: int, **params) -> dict:
    return {"gw_step": LABELS[number - 1], **params}


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
    at.button_group(key="gw_cell").set_value("Dragon")
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
    at.button_group(key="gw_cell").set_value("Wall")
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
    assert metric(at, "Optimal greedy moves") == f"{agree.sum()} of {agree.size}"
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
    old, new = big["probs"][2, CLASSIC.start], big["probs"][3, CLASSIC.start]
    ratios = gw.probability_ratio(new, old)
    furthest = int(np.argmax(np.abs(np.log(ratios))))
    text = " ".join(m.value for m in at.markdown)
    assert f"**{gw.ACTIONS[furthest]}**" in text


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
