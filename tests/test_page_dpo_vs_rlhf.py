"""The lab "DPO or RLHF?" through app.py: every step renders alone, the sweep's table, chart
caption, cost table, data comparison and conclusion come from lessons/frontier.py, the three
explorables (the frontier walked by β, the sweep walked by β, the replay of DPO and RLHF) hold the
lessons' values in every frame and open where the link says, the settings form commits only on
"Run the sweep", links restore a view, bad links get the link note, the CSV download holds the
results table, the self-check grades, and the fuzzer drives every widget.

Most tests open the page with the quick sweep (lab_quick=true), as a class would; the fuzzer and
the extreme-settings test also shrink the training budget (fr.BUDGET, which the page passes to
every run and which keys its cache), since they check that nothing raises, not the numbers."""

import io
import math

import numpy as np
import pandas as pd
import pytest
from conftest import open_page
from fuzz import fuzz_page
from pagetest import (
    assert_step_alone,
    captions,
    explorables,
    guess,
    link_notes,
    markdown,
    opened_frame,
    shown_note,
    step_opener,
)
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from lessons import frontier as fr
from lessons import toy_lm as lm
from ui import lab_figures as lf
from ui import theme
from ui.figures import fmt

PAGE = "app_pages/dpo_vs_rlhf.py"
TASK = lm.make_task()
STEPS = ("1. The question and the frontier", "2. Five contenders, one dataset",
         "3. Run the sweep", "4. What each method costs", "5. The effect of data",
         "6. So which is better?", "7. Check yourself")
CHARTS = {1: 1, 2: 0, 3: 0, 4: 0, 5: 2, 6: 1, 7: 0}  # step 3: before the guess
SETTINGS = {"lab_pairs", "lab_noise", "lab_seed", "lab_quick", "lab_run"}
STEP_WIDGETS = {
    1: {"lab_beta"},
    3: SETTINGS | {"lab_zoom", "lab_replay_beta", "lab_closer_guess"},
    4: SETTINGS,
    5: SETTINGS | {"lab_compare", "lab_compare_run"},
    6: SETTINGS,
}
NAVIGATION = {"lab_step", "lab_step_back", "lab_step_next"}
QUICK = {"lab_quick": "true"}
GUESS = {"lab_closer_guess": "DPO's"}  # step 3's demo opens once there is a guess
SWEEP = {**QUICK, **GUESS}
CSV_COLUMNS = ["method", "coefficient", "coefficient_value", "true_reward", "kl_nats",
               "frontier_reward", "gap_to_frontier", "reward_model_score", "optimiser_steps",
               "samples_drawn", "preference_labels", "wall_ms", "n_pairs", "label_noise", "seed"]
TINY = fr.Budget(dpo_steps=10, ppo_iterations=3, ppo_batch=64, reward_model_steps=10,
                 preferred_steps=5)
# The frontier's explorable: β from 0.1 to 10, log-spaced, two significant digits
BETA_GRID = [float(f"{b:.2g}") for b in np.geomspace(0.1, 10.0, 41)]
QUICK_BETAS = [0.1, 0.5, 1.0, 2.0]  # every β of the quick sweep (DPO, RLHF, PPO)

at_step = step_opener(PAGE, "lab_step", STEPS)


def strip(rows):
    return [{k: v for k, v in r.items() if k != "wall_ms"} for r in rows]


@pytest.fixture(scope="module")
def quick_rows():
    """The default quick sweep, computed directly from lessons/frontier.py."""
    rows, model = fr.sweep(TASK, 3000, 0.0, 0, quick=True)
    return rows, model


def test_the_step_picker_lists_the_lesson():
    at = open_page(PAGE)
    assert at.button_group(key="lab_step").options == list(STEPS)
    assert at.button_group(key="lab_step").value == STEPS[0]
    assert at.title[0].value == "Lab: DPO or RLHF?"


@pytest.mark.parametrize("number", range(1, len(STEPS) + 1))
def test_every_step_renders_alone_without_exception(number):
    at = at_step(number, **QUICK)
    assert_step_alone(at, number, CHARTS[number])


def close(actual, expected):
    """Frame values equal the lessons' up to the 5 significant digits frames keep (None: a gap)."""
    actual = np.array([np.nan if v is None else v for v in actual], dtype=float)
    np.testing.assert_allclose(actual, np.asarray(expected, dtype=float), rtol=1e-4, atol=1e-9)


def stem_heights(shares):
    """The y of a stem plot as the lab draws it: 0, the share, a gap, for each reward value."""
    return [y for share in shares for y in (0.0, share, np.nan)]


def test_the_frontier_is_walked_by_beta_with_the_lessons_values_at_every_beta():
    at = at_step(1, lab_beta="0.5")
    assert at.slider(key="lab_beta").value == 0.5
    (spec,) = explorables(at)
    assert [s["label"] for s in spec["layout"]["sliders"][0]["steps"]] == \
        [f"{b:g}" for b in BETA_GRID]
    assert opened_frame(spec) == BETA_GRID.index(0.5)  # the link's β
    front = fr.optimal_frontier(TASK, BETA_GRID)
    values, ref_shares = fr.reward_distribution(TASK, TASK.ref_probs)
    for k, beta in enumerate(BETA_GRID):
        point, stems = spec["frames"][k]["data"]
        close(point["x"], [front["kl"][k]])
        close(point["y"], [front["true_reward"][k]])
        _, shares = fr.reward_distribution(TASK, lm.optimum(TASK, beta))
        close(stems["y"], stem_heights(shares))
        note = spec["frames"][k]["layout"]["annotations"][-1]["text"].replace("<br>", " ")
        assert note == (f"β = {beta:g}: KL {front['kl'][k]:.3f} nats, E[r] "
                        f"{front['true_reward'][k]:.3f} P(best reply, r = 4) {shares[-1]:.3f} "
                        f"(π_ref: {ref_shares[-1]:.3f})")
    close(spec["data"][3]["y"], stem_heights(ref_shares))  # the reference stays put
    assert shown_note(spec).startswith(f"β = 0.5: KL {front['kl'][BETA_GRID.index(0.5)]:.3f}")
    assert "The chart opens at" not in captions(at)
    # a β between two points of the chart's slider opens it at the nearer one, and says so
    at.slider(key="lab_beta").set_value(3.0).run()
    (spec,) = explorables(at)
    assert BETA_GRID[opened_frame(spec)] == 3.2
    assert "The chart opens at β = 3.2, the point of its slider nearest the 3 set above." in \
        captions(at)
    assert shown_note(spec).startswith("β = 3.2: ")


def frame_note(frame: dict) -> str:
    """The line of numbers a frame shows (its other annotations name points)."""
    (note,) = [a for a in frame["layout"]["annotations"] if a.get("name") == "explorable-note"]
    return note["text"].replace("<br>", " ")


def sweep_rows(quick_rows):
    return {(r["method"], r["coefficient"]): r for r in quick_rows[0]}


def test_the_sweep_is_walked_by_beta_to_each_run_s_aim(quick_rows):
    rows = sweep_rows(quick_rows)
    at = at_step(3, lab_replay_beta="2", **SWEEP)
    walk, _ = explorables(at)
    assert [float(s["label"]) for s in walk["layout"]["sliders"][0]["steps"]] == QUICK_BETAS
    assert opened_frame(walk) == QUICK_BETAS.index(2.0)
    targets = fr.optimal_frontier(TASK, QUICK_BETAS)
    for k, beta in enumerate(QUICK_BETAS):
        star, aim = walk["frames"][k]["data"]
        close(star["x"], [targets["kl"][k]])
        close(star["y"], [targets["true_reward"][k]])
        runs = [rows[(m, beta)] for m in ("dpo", "rlhf", "ppo_true") if (m, beta) in rows]
        close(aim["x"], [v for r in runs for v in (targets["kl"][k], r["kl"], np.nan)])
        close(aim["y"], [v for r in runs for v in (targets["true_reward"][k], r["true_reward"],
                                                   np.nan)])
        note = frame_note(walk["frames"][k])
        assert note.startswith(f"β = {beta:g}: KL (nats) · E[r] · gap π*_β, the aim: "
                               f"{targets['kl'][k]:.2f} · {targets['true_reward'][k]:.2f}")
        for method, name in (("dpo", "DPO"), ("rlhf", "RLHF"), ("ppo_true", "PPO, true reward")):
            row = rows.get((method, beta))
            assert (f"{name}: {row['kl']:.2f} · {row['true_reward']:.2f} · {row['gap']:.2f}"
                    if row else f"{name}: no run at this β") in note
    # the quick sweep has no β = 0.25: the chart opens at the nearest β it has, and says so
    at = at_step(3, lab_replay_beta="0.25", **SWEEP)
    walk, _ = explorables(at)
    assert QUICK_BETAS[opened_frame(walk)] == 0.5
    assert "This sweep has no run at β = 0.25: the chart opens at β = 0.5." in captions(at)


@pytest.mark.parametrize("beta", ["0.5", "4"])
def test_dpo_and_rlhf_are_replayed_update_by_update_to_where_the_sweep_s_runs_land(beta):
    at = at_step(3, lab_replay_beta=beta, **SWEEP)
    assert at.button_group(key="lab_replay_beta").value == beta
    _, replay = explorables(at)
    beta = float(beta)
    pairs = fr.preference_data(TASK, 3000, 0.0, 0)
    model = fr.fit_reward_model(TASK, pairs)
    b = fr.BUDGET
    dpo = lm.train_dpo(TASK, pairs, beta=beta, steps=b.dpo_steps, lr=b.dpo_lr, seed=0,
                       checkpoints=31)
    rlhf = lm.train_ppo_rlhf(TASK, model["scores"], beta=beta, iterations=b.ppo_iterations,
                             batch_size=b.ppo_batch, epochs=b.ppo_epochs,
                             minibatches=b.ppo_minibatches, lr=b.ppo_lr, seed=0, checkpoints=31)
    assert len(replay["frames"]) == 31
    assert opened_frame(replay) == 30  # opens on the trained runs
    assert replay["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶"
    target = fr.optimal_frontier(TASK, [beta])
    for k in range(31):
        dpo_path, rlhf_path, now, dpo_stems, rlhf_stems = replay["frames"][k]["data"]
        steps = {"dpo": 5 * k, "rlhf": k}  # 150 DPO steps and 30 PPO rollouts in 31 frames
        for path, stems, run, method in ((dpo_path, dpo_stems, dpo, "dpo"),
                                         (rlhf_path, rlhf_stems, rlhf, "rlhf")):
            step = steps[method]
            assert run["checkpoints"]["step"][k] == step
            kept = run["checkpoints"]["step"][:k + 1]  # the path runs through the kept steps
            close(path["x"], run["history"]["kl"][kept])
            close(path["y"], run["history"]["true_reward"][kept])
            _, shares = fr.reward_distribution(TASK, run["checkpoints"]["probs"][k])
            close(stems["y"], stem_heights(shares))
        close(now["x"], [dpo["history"]["kl"][5 * k], rlhf["history"]["kl"][k]])
        close(now["y"], [dpo["history"]["true_reward"][5 * k], rlhf["history"]["true_reward"][k]])
        note = replay["frames"][k]["layout"]["annotations"][-1]["text"].replace("<br>", " ")
        assert note == (
            f"DPO, step {5 * k}/150: KL {dpo['history']['kl'][5 * k]:.3f}, E[r] "
            f"{dpo['history']['true_reward'][5 * k]:.3f} RLHF, rollout {k}/30: KL "
            f"{rlhf['history']['kl'][k]:.3f}, E[r] {rlhf['history']['true_reward'][k]:.3f} "
            f"π*_β (β = {beta:g}): KL {target['kl'][0]:.3f}, E[r] "
            f"{target['true_reward'][0]:.3f}")
    # the last frame is where the sweep's runs at this β land
    for method in ("dpo", "rlhf"):
        row = fr.run(TASK, method, beta, pairs, model, 0)
        trained = {"dpo": dpo, "rlhf": rlhf}[method]["history"]
        assert trained["kl"][-1] == pytest.approx(row["kl"], abs=1e-12)
        assert trained["true_reward"][-1] == pytest.approx(row["true_reward"], abs=1e-12)
    assert shown_note(replay).startswith(f"DPO, step 150/150: KL {dpo['history']['kl'][-1]:.3f}")


def closer_by_range(rows):
    """Step 3's answer, from the lessons: who is closer to the frontier in each range of KL."""
    closers = {c["closer"] for c in fr.compare_methods(rows)}
    return {frozenset({"dpo"}): "DPO's", frozenset({"rlhf"}): "RLHF's"}.get(
        frozenset(closers), "It depends on the KL")


def test_step_3_asks_who_gets_closer_before_it_shows_the_sweep(quick_rows):
    rows, _ = quick_rows
    at = at_step(3, **QUICK)
    assert at.button_group(key="lab_closer_guess").value is None
    assert not at.get("plotly_chart") and not at.dataframe  # nothing gives the answer away
    assert "whose runs will reach more true reward at the same KL" in markdown(at)
    answer = closer_by_range(rows)
    comparison = fr.compare_methods(rows)
    assert {c["closer"] for c in comparison} == {"dpo"}  # this quick sweep: DPO every time
    assert answer == "DPO's"
    wrong = "It depends on the KL"
    verdict = guess(at, "lab_closer_guess", wrong)
    assert not at.exception
    assert verdict == at.warning[0].value
    assert verdict.startswith(f"You predicted **{wrong}**; the demo below shows **{answer}**.")
    for c in comparison:
        assert f"closer by {c['by']:.2f}." in verdict
    assert len(at.get("plotly_chart")) == 2 and len(at.dataframe) == 1
    verdict = guess(at, "lab_closer_guess", answer)
    assert verdict == at.success[0].value
    assert verdict.startswith(f"You predicted **{answer}**, and the demo below")


def test_the_results_table_and_the_caption_come_from_the_lessons(quick_rows):
    rows, _ = quick_rows
    at = at_step(3, **SWEEP)
    table = at.dataframe[0].value
    assert list(table["method"]) == [fr.METHODS[r["method"]].name for r in rows]
    assert list(table["E[r]"]) == [f"{r['true_reward']:.3f}" for r in rows]
    assert list(table["KL (nats)"]) == [f"{r['kl']:.3f}" for r in rows]
    assert list(table["gap"]) == [fmt(r["gap"], 3) for r in rows]
    assert table["reward model's score"][0] == "—"  # the reference has no reward model
    assert list(table["replies sampled"]) == [r["samples"] for r in rows]
    for c in fr.compare_methods(rows):
        assert f"closer by {c['by']:.2f}." in captions(at)


def test_the_csv_download_holds_the_results(quick_rows, monkeypatch):
    rows, _ = quick_rows
    files = {}
    load = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        files[filename] = path_or_data
        return load(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    at = at_step(3, **SWEEP)
    assert at.get("download_button")[0].label == "Download the results (CSV)"
    name = "dpo_vs_rlhf_3000pairs_noise0_seed0_quick.csv"
    assert name in files, list(files)
    csv = pd.read_csv(io.BytesIO(files[name]))
    assert list(csv.columns) == CSV_COLUMNS
    assert len(csv) == len(fr.sweep_plan(quick=True)) == len(rows)
    assert list(csv["true_reward"]) == pytest.approx([r["true_reward"] for r in rows], abs=1e-12)
    assert list(csv["kl_nats"]) == pytest.approx([r["kl"] for r in rows], abs=1e-12)
    assert list(csv["samples_drawn"]) == [r["samples"] for r in rows]
    assert set(csv["n_pairs"]) == {3000} and set(csv["seed"]) == {0}
    assert math.isnan(csv["coefficient_value"][0])  # the reference has no coefficient


def test_the_cost_table_comes_from_the_lessons(quick_rows):
    rows, _ = quick_rows
    at = at_step(4, **QUICK)
    table = at.table[0].value  # a column per method, a row per measure
    expected = fr.cost_table(rows, {"steps": fr.BUDGET.reward_model_steps, "wall_ms": 0.0})
    assert list(table.columns) == ["DPO", "RLHF", "PPO, true reward", "preferred-response FT"]
    assert expected[-1]["method"] == fr.REFERENCE.name  # it trains nothing: no column
    for column, c in zip(table.columns, expected[:-1], strict=True):
        assert table[column]["runs in the sweep"] == str(c["runs"])
        assert table[column]["models in memory"] == str(c["models"])
        assert table[column]["replies sampled per run"] == f"{c['samples_per_run']:,}"
        assert table[column]["preference labels"] == f"{c['labels']:,}"
    assert table["RLHF"]["models in memory"] == str(fr.RLHF.models) == "4"
    assert table["DPO"]["replies sampled per run"] == "0"
    assert table["RLHF"]["optimiser steps per run"] == \
        f"{expected[1]['steps_per_run']:,} + {fr.BUDGET.reward_model_steps:,} for the reward " \
        "model, once"
    assert "The whole sweep trained in" in captions(at)


def test_the_data_comparison_comes_from_the_lessons():
    at = at_step(5, **QUICK)
    rows = {"300 pairs": fr.sweep(TASK, 300, 0.0, 0, quick=True, methods=("dpo", "rlhf"))[0]}
    effect = fr.data_effect(rows)  # the few-pairs half of the comparison
    table = at.table[0].value
    assert list(table["dataset"]) == ["300 pairs"] * 2 + ["30,000 pairs"] * 2
    assert list(table["mean gap to the frontier"])[:2] == [f"{e['mean_gap']:.3f}"
                                                           for e in effect]
    assert list(table["best true reward"])[:2] == [f"{e['best_reward']:.3f}" for e in effect]
    over = fr.overoptimisation(rows["300 pairs"])
    assert over["happened"]
    assert f"peaked at {over['peak_reward']:.2f}" in markdown(at)
    # the other comparison: clean against noisy labels, at the chosen number of pairs
    at.button_group(key="lab_compare").set_value("Clean vs noisy labels")
    at.button(key="lab_compare_run").click().run()
    assert not at.exception
    assert list(at.table[0].value["dataset"])[::2] == ["clean labels", "20% flipped"]


def test_the_conclusion_is_written_from_the_measurements(quick_rows):
    rows, _ = quick_rows
    at = at_step(6, **QUICK)
    text = markdown(at)
    comparison = fr.compare_methods(rows)
    assert comparison
    for c in comparison:
        name = {"dpo": "DPO", "rlhf": "RLHF"}[c["closer"]]
        assert f"**{name}** was closer to the frontier" in text
        assert f"(closer by {c['by']:.2f};" in text
    best = fr.best_run(rows, "dpo")
    assert f"DPO {best['true_reward']:.2f} (β = {best['coefficient']:g}" in text
    assert "Rafailov et al." in text and "Xu et al. 2024" in text
    assert "mechanisms" in text


def test_the_form_commits_only_when_run(monkeypatch):
    monkeypatch.setattr(fr, "BUDGET", TINY)
    at = at_step(3, lab_pairs="300", **SWEEP)
    before = at.dataframe[0].value
    at.number_input(key="lab_seed").set_value(5).run()  # not submitted: nothing retrains
    assert "seed 0," in captions(at)
    assert at.dataframe[0].value.equals(before)
    at.number_input(key="lab_seed").set_value(5)
    at.button(key="lab_run").click().run()
    assert "Sweep settings: 300 pairs, no labels flipped, seed 5, quick sweep." in captions(at)
    rows, _ = fr.sweep(TASK, 300, 0.0, 5, quick=True, methods=("dpo",), budget=TINY)
    shown = at.dataframe[0].value
    dpo = shown[shown["method"] == "DPO"]
    assert list(dpo["E[r]"]) == [f"{r['true_reward']:.3f}" for r in rows]


def test_a_shared_link_reproduces_the_view(monkeypatch):
    monkeypatch.setattr(fr, "BUDGET", TINY)  # the view, not the numbers, is under test
    at = at_step(3, lab_pairs="1000", lab_noise="0.1", lab_seed="7", lab_zoom="true",
                 lab_replay_beta="0.5", **SWEEP)
    assert at.button_group(key="lab_step").value == STEPS[2]
    assert at.selectbox(key="lab_pairs").value == "1000"
    assert at.button_group(key="lab_noise").value == "0.1"
    assert at.number_input(key="lab_seed").value == 7
    assert at.toggle(key="lab_quick").value is True
    assert at.toggle(key="lab_zoom").value is True
    assert at.button_group(key="lab_replay_beta").value == "0.5"
    assert at.button_group(key="lab_closer_guess").value == "DPO's"
    assert "Sweep settings: 1,000 pairs, 10% of labels flipped, seed 7, quick sweep." in \
        captions(at)
    at = at_step(5, lab_compare="Clean vs noisy labels", lab_pairs="300", **QUICK)
    assert at.button_group(key="lab_compare").value == "Clean vs noisy labels"


def test_a_malformed_link_falls_back_with_a_note():
    at = at_step(1, lab_beta="abc", lab_pairs="7", lab_noise="0.9", lab_seed="-3",
                 lab_quick="maybe", lab_zoom="2", lab_compare="Both", lab_closer_guess="both")
    assert not at.exception
    notes = link_notes(at)
    for bad in ("lab_beta=abc", "lab_pairs=7", "lab_noise=0.9", "lab_seed=-3", "lab_quick=maybe",
                "lab_zoom=2", "lab_compare=Both", "lab_closer_guess=both"):
        assert bad in notes
    assert at.slider(key="lab_beta").value == 1.0
    at = at_step(3, lab_pairs="7", lab_seed="1e9", lab_replay_beta="3", **SWEEP)
    for bad in ("lab_pairs=7", "lab_seed=1e9", "lab_replay_beta=3"):
        assert bad in link_notes(at)
    assert at.button_group(key="lab_replay_beta").value == "1"
    assert at.selectbox(key="lab_pairs").value == "3000"
    assert at.number_input(key="lab_seed").value == 0


def test_self_check_grades_answers():
    at = at_step(7)
    kl = fr.optimal_frontier(TASK, [1.0])["kl"][0]
    at.number_input(key="quiz_dpo-vs-rlhf_frontier_kl").set_value(round(kl, 3)).run()
    at.radio(key="quiz_dpo-vs-rlhf_samples").set_value("DPO").run()
    at.number_input(key="quiz_dpo-vs-rlhf_models").set_value(4).run()
    assert sum(s.value.startswith("Right.") for s in at.success) == 2
    assert any(w.value.startswith("Not quite.") for w in at.warning)


@pytest.mark.parametrize("settings", [("100", "0.3", 9999, False), ("100000", "0", 0, True)])
def test_extreme_settings_run_without_error(settings, monkeypatch):
    monkeypatch.setattr(fr, "BUDGET", TINY)
    pairs, noise, seed, quick = settings
    at = at_step(6)
    at.selectbox(key="lab_pairs").set_value(pairs)
    at.button_group(key="lab_noise").set_value(noise)
    at.number_input(key="lab_seed").set_value(seed)
    at.toggle(key="lab_quick").set_value(quick)
    at.button(key="lab_run").click().run()
    assert not at.exception and not at.error
    assert f"{int(pairs):,} pairs" in captions(at)


@pytest.mark.parametrize("number", sorted(STEP_WIDGETS))
def test_fuzz_reaches_every_widget_of_every_step(number, monkeypatch):
    monkeypatch.setattr(fr, "BUDGET", TINY)
    at = at_step(number, **(SWEEP if number == 3 else QUICK))
    driven = fuzz_page(at, steps=len(STEP_WIDGETS[number]) + 4, seed=number, skip=NAVIGATION)
    assert STEP_WIDGETS[number] <= driven, STEP_WIDGETS[number] - driven
    assert at.button_group(key="lab_step").value == STEPS[number - 1]


def test_labels_take_a_free_side_of_their_point():
    # two labels on one point go to either side of it
    assert lf.place_labels([(1, 1, "a"), (1, 1, "b")], (0, 2), (0, 2)) == [(1, 0), (-1, 0)]
    # a line through the point, left to right, leaves it only the sides above and below
    flat = [(np.array([0.0, 2.0]), np.array([1.0, 1.0]))]
    assert lf.place_labels([(1, 1, "a")], (0, 2), (0, 2), lines=flat) == [(0, 1)]
    assert lf.place_labels([(1, 1, "a")], (0, 2), (0, 2), lines=flat, top=1.02) == [(0, -1)]
    # a point in a corner of the plot, with a marker hard by on the only side left: no label
    assert lf.place_labels([(0, 0, "a")], (0, 2), (0, 2), markers=[(0.03, 0.03)],
                           sides=[(1, 1)]) == [None]


@pytest.mark.parametrize("zoom", [False, True])
def test_the_sweep_s_labels_name_the_runs_and_keep_off_the_legend_s_band(quick_rows, zoom):
    rows, _ = quick_rows
    at = at_step(3, **SWEEP, **({"lab_zoom": "true"} if zoom else {}))
    walk, _ = explorables(at)
    y_top = walk["layout"]["yaxis"]["range"][1]
    band = y_top - (y_top - walk["layout"]["yaxis"]["range"][0]) * lf.LEGEND_BAND / (
        1 + lf.LEGEND_BAND)  # the legend's band starts here
    x0, x1 = walk["layout"]["xaxis"]["range"]
    seen = [r for r in rows if x0 <= r["kl"] <= x1 and r["true_reward"] < band]
    curve = fr.frontier_curve(TASK, max(r["kl"] for r in rows) * 1.04 + 0.1)
    inside = (curve["kl"] >= x0) & (curve["kl"] <= x1)
    assert np.max(curve["true_reward"][inside]) < band  # the frontier stays under the legend
    labels = [a for a in walk["layout"]["annotations"] if a.get("name") != "explorable-note"]
    allowed = {}  # what may be written beside each point: π_ref, or the β of a run there
    for r in seen:
        text = "π_ref" if r["method"] == "reference" else f"{r['coefficient']:g}"
        if r["method"] != "preferred_ft":  # it has no β
            allowed.setdefault((round(r["kl"], 4), round(r["true_reward"], 4)), set()).add(text)
    named = [a for a in labels if a["text"] not in ("exact frontier", "π*_β")]
    for a in named:
        assert a["text"] in allowed[(round(a["x"], 4), round(a["y"], 4))], a
    assert len(named) >= len(allowed) / 2  # most runs are named on the chart
    targets = fr.optimal_frontier(TASK, QUICK_BETAS)
    for k, frame in enumerate(walk["frames"]):  # π*_β's name, where it has room, is at π*_β
        for a in frame["layout"]["annotations"]:
            if a["text"] == "π*_β":
                assert (a["x"], a["y"]) == pytest.approx(
                    (targets["kl"][k], targets["true_reward"][k]), rel=1e-9)
    assert all(a["font"]["color"] == theme.TEXT for a in labels)  # full contrast
    assert all(a["y"] < band for a in labels)
    assert "exact frontier" in [a["text"] for a in labels]


# The sweep's chart as drawn in Chromium: its labels' boxes, the plot area, the legend and the
# frontier's path sampled every 2 pixels, all in the page's pixels.
SWEEP_GEOMETRY_JS = """() => {
  const chart = [...document.querySelectorAll('.js-plotly-plot')].find(
    c => (c.layout?.title?.text || '').startsWith('Every run'));
  if (!chart) return null;
  const box = e => { const r = e.getBoundingClientRect();
                     return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const line = chart.querySelector('.scatterlayer .trace path.js-line');  // the frontier
  const m = line.getScreenCTM(), curve = [];
  for (let s = 0; s <= line.getTotalLength(); s += 2) {
    const p = line.getPointAtLength(s);
    curve.push([m.a * p.x + m.c * p.y + m.e, m.b * p.x + m.d * p.y + m.f]);
  }
  return {
    labels: [...chart.querySelectorAll('g.annotation')]
      .filter(g => !g.textContent.includes('KL (nats)'))  // not the line of numbers
      .map(g => ({text: g.textContent, ...box(g.querySelector('.annotation-text'))})),
    plot: box(chart.querySelector('.nsewdrag')),
    legend: box(chart.querySelector('.legend')),
    curve,
  };
}"""


def overlap(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and \
        a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.mark.browser
@pytest.mark.parametrize(("width", "presenter"), [(390, False), (1024, False), (1440, False),
                                                   (1440, True)],
                         ids=["phone", "laptop", "desktop", "projector"])
def test_the_sweep_s_labels_are_apart_and_off_the_frontier_in_the_browser(
        browser, app_url, width, presenter):
    from urllib.parse import urlencode

    from browser import open_app

    query = {"lab_step": STEPS[2], **SWEEP, **({"presenter": "true"} if presenter else {})}
    context = browser.new_context(viewport={"width": width, "height": 900})
    tab = context.new_page()
    try:
        open_app(tab, f"{app_url}/dpo-vs-rlhf?{urlencode(query)}", timeout_ms=300_000)
        shape = tab.evaluate(SWEEP_GEOMETRY_JS)
    finally:
        context.close()
    assert shape is not None
    labels, plot = shape["labels"], shape["plot"]
    assert len(labels) >= 6 and "exact frontier" in [a["text"] for a in labels]
    assert len(shape["curve"]) > 100  # the frontier's path, every 2 pixels
    for label in labels:
        assert plot["left"] - 1 <= label["left"] and label["right"] <= plot["right"] + 1, label
        assert plot["top"] - 1 <= label["top"] and label["bottom"] <= plot["bottom"] + 1, label
        assert not overlap(label, shape["legend"]), label
        on_curve = [p for p in shape["curve"] if label["left"] < p[0] < label["right"]
                    and label["top"] < p[1] < label["bottom"]]
        assert not on_curve, (label["text"], on_curve[:3])
    for i, first in enumerate(labels):
        for second in labels[i + 1:]:
            assert not overlap(first, second), (first["text"], second["text"])
