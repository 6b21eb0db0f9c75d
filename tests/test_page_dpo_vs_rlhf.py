"""The lab "DPO or RLHF?" through app.py: every step renders alone, the sweep's table, chart
caption, cost table, data comparison and conclusion come from lessons/frontier.py, the settings
form commits only on "Run the sweep", links restore a view, bad links get the link note, the CSV
download holds the results table, the self-check grades, and the fuzzer drives every widget.

Most tests open the page with the quick sweep (lab_quick=true), as a class would; the fuzzer and
the extreme-settings test also shrink the training budget (fr.BUDGET, which the page passes to
every run and which keys its cache), since they check that nothing raises, not the numbers."""

import io
import math

import pandas as pd
import pytest
from conftest import open_page
from fuzz import fuzz_page
from pagetest import assert_step_alone, captions, link_notes, markdown, step_opener
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from lessons import frontier as fr
from lessons import toy_lm as lm
from ui.figures import fmt

PAGE = "app_pages/dpo_vs_rlhf.py"
TASK = lm.make_task()
STEPS = ("1. The question and the frontier", "2. Five contenders, one dataset",
         "3. Run the sweep", "4. What each method costs", "5. The effect of data",
         "6. So which is better?", "7. Check yourself")
CHARTS = {1: 1, 2: 0, 3: 1, 4: 0, 5: 2, 6: 1, 7: 0}
SETTINGS = {"lab_pairs", "lab_noise", "lab_seed", "lab_quick", "lab_run"}
STEP_WIDGETS = {
    1: {"lab_beta"},
    3: SETTINGS | {"lab_zoom"},
    4: SETTINGS,
    5: SETTINGS | {"lab_compare", "lab_compare_run"},
    6: SETTINGS,
}
NAVIGATION = {"lab_step", "lab_step_back", "lab_step_next"}
QUICK = {"lab_quick": "true"}
CSV_COLUMNS = ["method", "coefficient", "coefficient_value", "true_reward", "kl_nats",
               "frontier_reward", "gap_to_frontier", "reward_model_score", "optimiser_steps",
               "samples_drawn", "preference_labels", "wall_ms", "n_pairs", "label_noise", "seed"]
TINY = fr.Budget(dpo_steps=10, ppo_iterations=3, ppo_batch=64, reward_model_steps=10,
                 preferred_steps=5)

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


def test_the_frontier_point_comes_from_the_lessons():
    at = at_step(1, lab_beta="0.5")
    assert at.slider(key="lab_beta").value == 0.5
    point = fr.optimal_frontier(TASK, [0.5])
    assert f"moves {point['kl'][0]:.3f} nats from the reference and earns " \
        f"{point['true_reward'][0]:.3f} points" in captions(at)
    at.slider(key="lab_beta").set_value(3.0).run()
    point = fr.optimal_frontier(TASK, [3.0])
    assert f"moves {point['kl'][0]:.3f} nats" in captions(at)


def test_the_results_table_and_the_caption_come_from_the_lessons(quick_rows):
    rows, _ = quick_rows
    at = at_step(3, **QUICK)
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
    at = at_step(3, **QUICK)
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
    table = at.dataframe[0].value
    expected = fr.cost_table(rows, {"steps": fr.BUDGET.reward_model_steps, "wall_ms": 0.0})
    assert list(table["method"]) == [c["method"] for c in expected]
    assert list(table["runs"]) == [c["runs"] for c in expected]
    assert list(table["replies sampled per run"]) == [f"{c['samples_per_run']:,}"
                                                      for c in expected]
    rlhf = list(table["method"]).index(fr.RLHF.name)
    assert table["optimiser steps per run"][rlhf] == \
        f"{expected[rlhf]['steps_per_run']:,} + {fr.BUDGET.reward_model_steps:,} " \
        "(reward model, once)"
    assert table["models in memory"][rlhf].startswith(f"{fr.RLHF.models} (")
    assert "The whole sweep trained in" in captions(at)


def test_the_data_comparison_comes_from_the_lessons():
    at = at_step(5, **QUICK)
    rows = {"300 pairs": fr.sweep(TASK, 300, 0.0, 0, quick=True, methods=("dpo", "rlhf"))[0]}
    effect = fr.data_effect(rows)  # the few-pairs half of the comparison
    table = at.dataframe[0].value
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
    assert list(at.dataframe[0].value["dataset"])[::2] == ["clean labels", "20% flipped"]


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
    at = at_step(3, lab_pairs="300", **QUICK)
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
    at = at_step(3, lab_pairs="1000", lab_noise="0.1", lab_seed="7", lab_zoom="true", **QUICK)
    assert at.button_group(key="lab_step").value == STEPS[2]
    assert at.selectbox(key="lab_pairs").value == "1000"
    assert at.button_group(key="lab_noise").value == "0.1"
    assert at.number_input(key="lab_seed").value == 7
    assert at.toggle(key="lab_quick").value is True
    assert at.toggle(key="lab_zoom").value is True
    assert "Sweep settings: 1,000 pairs, 10% of labels flipped, seed 7, quick sweep." in \
        captions(at)
    at = at_step(5, lab_compare="Clean vs noisy labels", lab_pairs="300", **QUICK)
    assert at.button_group(key="lab_compare").value == "Clean vs noisy labels"


def test_a_malformed_link_falls_back_with_a_note():
    at = at_step(1, lab_beta="abc", lab_pairs="7", lab_noise="0.9", lab_seed="-3",
                 lab_quick="maybe", lab_zoom="2", lab_compare="Both")
    assert not at.exception
    notes = link_notes(at)
    for bad in ("lab_beta=abc", "lab_pairs=7", "lab_noise=0.9", "lab_seed=-3", "lab_quick=maybe",
                "lab_zoom=2", "lab_compare=Both"):
        assert bad in notes
    assert at.slider(key="lab_beta").value == 1.0
    at = at_step(3, lab_pairs="7", lab_seed="1e9", **QUICK)
    assert "lab_pairs=7" in link_notes(at) and "lab_seed=1e9" in link_notes(at)
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
    at = at_step(number, **QUICK)
    driven = fuzz_page(at, steps=len(STEP_WIDGETS[number]) + 4, seed=number, skip=NAVIGATION)
    assert STEP_WIDGETS[number] <= driven, STEP_WIDGETS[number] - driven
    assert at.button_group(key="lab_step").value == STEPS[number - 1]
