"""The PPO page through app.py: shown values match lessons/ppo.py, the six-case table follows
the widgets, shared links restore the view, bad links and bad text get notes, and the fuzzer."""

import pytest
from conftest import open_page
from fuzz import fuzz_page
from pagetest import link_notes, metric

from lessons import ppo

PAGE = "app_pages/ppo.py"
STEPS = ("1. The surrogate objective", "2. Clipping", "3. The min/max question",
         "4. Advantages with GAE", "5. PPO in action", "6. Check yourself")
WIDGETS = {  # the widgets of each step
    1: {"ppo_r", "ppo_a", "ppo_steps", "ppo_bseed"},
    2: {"ppo_eps", "ppo_cr", "ppo_ca"},
    3: {"ppo_qr", "ppo_qa", "ppo_qeps", "ppo_knock", "ppo_keps", "ppo_kseed"},
    4: {"ppo_rew", "ppo_val", "ppo_gamma", "ppo_lam"},
    5: {"ppo_clip", "ppo_epochs", "ppo_lr", "ppo_seed", "ppo_vs", "ppo_upd"},
    6: {f"quiz_ppo_{q}" for q in ("value_up", "value_down", "zero_gradient", "learner", "td",
                                  "code_form", "kl")},
}
LESSON_NAV = {"ppo_step", "ppo_step_back", "ppo_step_next"}


def at_step(number: int, **params):
    """The page opened on step ``number`` (counting from 1), with more link parameters."""
    at = open_page(PAGE, {"ppo_step": STEPS[number - 1], **params})
    assert not at.exception
    return at


@pytest.fixture(scope="module")
def page():
    """One session that walks through the steps (tests move it with ``go``)."""
    return open_page(PAGE)


def go(at, number: int):
    at.button_group(key="ppo_step").set_value(STEPS[number - 1]).run()
    assert not at.exception
    return at


def numbers(column) -> list[float]:
    """A table column of numbers written out as text (the page formats them)."""
    return [float(value) for value in column]


def six_case_table(at):
    return next(d.value for d in at.table if "Ratio region" in d.value.columns)


def highlighted(at) -> list[tuple[str, str]]:
    table = six_case_table(at)
    here = table[table["Now"] != ""]
    return list(zip(here["Advantage"], here["Ratio region"], strict=True))


@pytest.mark.parametrize("number", range(1, len(STEPS) + 1))
def test_every_step_renders_alone_without_exception(number):
    at = at_step(number)
    assert not at.error
    headers = [h.value for h in at.header] + [h.value for h in at.subheader]
    numbered = [h for h in headers if h[0].isdigit()]
    assert len(numbered) == 1 and numbered[0].startswith(f"{number}.")


def test_defaults_render_the_learners_case(page):
    assert page.title[0].value.startswith("PPO")
    go(page, 3)
    assert not page.error
    # Section 3 opens at the learner's numbers: r = 0.4, ε = 0.3, A = 1.
    assert metric(page, "clip(r)") == f"{ppo.clip_ratio(0.4, 0.3):.3f}" == "0.700"
    assert metric(page, "Learner's clip(r)·A") == "0.700"
    assert metric(page, "PPO's min(r·A, clip(r)·A)") == "0.400"
    assert metric(page, "Learner's slope") == "0"
    assert metric(page, "PPO's slope") == "+1.00"
    assert metric(page, "Minus the loss") == "0.400"
    assert metric(page, "Largest gap on 10 000 random (r, A)") == "0.000"


def test_defaults_section_1_and_2(page):
    go(page, 1)
    assert metric(page, "r·A") == "1.500"
    out = ppo.one_batch_ascent(("unclipped",), steps=60, lr=1.0, seed=6, epsilon=0.2)
    assert metric(page, "Promised gain (mean r·Â)") == f"{out['surrogate'][0, 40]:+.3f}"
    assert metric(page, "Real gain in expected reward") == f"{out['true_gain'][0, 40]:+.3f}"
    go(page, 2)
    assert metric(page, "$L^{CLIP}$") == f"{ppo.clipped_objective(1.4, 1.0, 0.2):.3f}"
    assert metric(page, "Slope dL/dr") == "0"
    assert highlighted(page) == [("A > 0", "r > 1+ε")]


@pytest.mark.parametrize(
    ("r", "a", "case"),
    [(0.5, 1.0, ("A > 0", "r < 1−ε")), (1.0, 1.0, ("A > 0", "1−ε ≤ r ≤ 1+ε")),
     (0.5, -1.0, ("A < 0", "r < 1−ε")), (2.0, -0.5, ("A < 0", "r > 1+ε"))],
)
def test_six_case_table_highlights_the_current_case(r, a, case):
    at = at_step(2, ppo_cr=str(r), ppo_ca=str(a))
    assert highlighted(at) == [case]
    row = six_case_table(at).set_index(["Advantage", "Ratio region"]).loc[case]
    assert row["L^CLIP"] == f"{ppo.clipped_objective(r, a, 0.2):.3f}"
    flat = case in {("A > 0", "r > 1+ε"), ("A < 0", "r < 1−ε")}
    assert row["Gradient zero?"] == ("yes: flat" if flat else "no")


def test_widgets_drive_the_learners_section(page):
    go(page, 3)
    page.slider(key="ppo_qr").set_value(1.6)
    page.slider(key="ppo_qa").set_value(-1.0).run()
    assert not page.exception
    assert metric(page, "Learner's clip(r)·A") == f"{ppo.learner_objective(1.6, -1.0, 0.3):.3f}"
    assert metric(page, "PPO's min(r·A, clip(r)·A)") == "-1.600"
    assert metric(page, "PPO's slope") == "-1.00"
    assert metric(page, "Learner's slope") == "0"


def test_zero_advantage_highlights_nothing():
    at = at_step(2, ppo_ca="0")
    assert highlighted(at) == []
    assert metric(at, "Your case") == "A = 0: nothing to learn"


def test_gae_table_matches_lessons(page):
    go(page, 4)
    page.text_input(key="ppo_rew").set_value("1, 0, 2")
    page.text_input(key="ppo_val").set_value("0.5, 1, 0.5, 0")
    page.slider(key="ppo_gamma").set_value(0.5)
    page.slider(key="ppo_lam").set_value(0.5).run()
    table = next(d.value for d in page.table if "δ_t" in d.value.columns)
    expected = ppo.gae([1, 0, 2], [0.5, 1, 0.5, 0], 0.5, 0.5)
    assert numbers(table["Â_t (λ = 0.5)"]) == pytest.approx(expected, abs=1e-4)
    assert numbers(table["δ_t"]) == pytest.approx(
        ppo.td_errors([1, 0, 2], [0.5, 1, 0.5, 0], 0.5), abs=1e-4)


@pytest.mark.parametrize(
    ("rewards", "values", "message"),
    [("1, 2", "0, 0", "3 values"), ("abc", "0, 0", "not a number"), ("", "0", "empty")],
)
def test_bad_trajectory_text_shows_an_error(rewards, values, message):
    at = at_step(4, ppo_rew=rewards, ppo_val=values)
    assert not at.exception
    assert any(message in e.value for e in at.error)


def test_training_table_matches_the_run(page):
    go(page, 5)
    run = ppo.ppo_run(("ppo", "unclipped"), epsilon=0.2, epochs=4, lr=1.0, seed=0)
    summary = ppo.summarize_run(run, 0.8, 10)
    table = next(d.value for d in page.table if "Final expected reward" in d.value.columns)
    assert numbers(table["Final expected reward"]) == pytest.approx(summary["final"], abs=5e-4)
    assert list(table["Seeds that crashed (of 8)"]) == list(summary["crashed"])
    assert summary["crashed"][0] == 0 < summary["crashed"][1]
    page.button_group(key="ppo_vs").set_value("learner's clip(r)·A").run()
    table = next(d.value for d in page.table if "Final expected reward" in d.value.columns)
    assert list(table["Run"]) == ["PPO: min(r·A, clip(r)·A)", "learner's clip(r)·A"]


def test_inspected_update_reports_both_kl_estimators():
    at = at_step(5, ppo_upd="3", ppo_epochs="3")
    table = next(d.value for d in at.table if "exact KL" in d.value.columns)
    run = ppo.ppo_run(("ppo", "unclipped"), epochs=3)
    for i in range(2):
        ratio = run["ratios"][i, 2, -1]
        row = table.iloc[i]
        assert float(row["approx KL k3 = mean((r−1) − log r)"]) == pytest.approx(
            ppo.approx_kl(ratio, "k3"), abs=5e-5)
        assert float(row["approx KL k1 = mean(−log r)"]) == pytest.approx(
            ppo.approx_kl(ratio, "k1"), abs=5e-5)
        assert float(row["exact KL"]) == pytest.approx(run["kl_exact"][i, 0, 2], abs=5e-5)


def test_shared_link_restores_the_view():
    link = {"ppo_qr": "0.6", "ppo_qeps": "0.25", "ppo_qa": "-1.5", "ppo_eps": "0.33",
            "ppo_seed": "5", "ppo_lr": "0.5", "ppo_epochs": "2", "ppo_vs": "learner's clip(r)·A",
            "ppo_rew": "0, 1", "ppo_val": "0, 0, 0", "ppo_knock": "2.5", "ppo_bseed": "3"}
    at = at_step(3, **link)
    assert not link_notes(at)
    assert at.slider(key="ppo_qr").value == 0.6
    assert at.slider(key="ppo_qeps").value == 0.25
    assert at.slider(key="ppo_qa").value == -1.5
    assert at.slider(key="ppo_knock").value == 2.5
    expected = ppo.clipped_objective(0.6, -1.5, 0.25)
    assert metric(at, "PPO's min(r·A, clip(r)·A)") == f"{expected:.3f}"
    assert at_step(1, **link).number_input(key="ppo_bseed").value == 3
    assert at_step(2, **link).slider(key="ppo_eps").value == 0.33
    assert at_step(4, **link).text_input(key="ppo_rew").value == "0, 1"
    at = at_step(5, **link)
    assert at.button_group(key="ppo_step").value == STEPS[4]
    assert at.number_input(key="ppo_seed").value == 5
    assert at.slider(key="ppo_lr").value == 0.5
    assert at.slider(key="ppo_epochs").value == 2
    assert at.button_group(key="ppo_vs").value == "learner's clip(r)·A"


def test_malformed_link_gets_a_note_and_no_exception():
    link = {"ppo_eps": "2", "ppo_r": "abc", "ppo_vs": "adam", "ppo_epochs": "2.5",
            "ppo_seed": "-4", "ppo_step": "7. Later"}
    at = open_page(PAGE, link)
    assert not at.exception
    notes = link_notes(at)
    for key in ("ppo_eps=2", "ppo_r=abc", "ppo_vs=adam", "ppo_epochs=2.5", "ppo_seed=-4",
                "ppo_step=7. Later"):
        assert key in notes
    assert at.button_group(key="ppo_step").value == STEPS[0]
    assert at.slider(key="ppo_r").value == 1.5
    del link["ppo_step"]
    assert 0.05 <= at_step(2, **link).slider(key="ppo_eps").value <= 0.5
    assert at_step(5, **link).button_group(key="ppo_vs").value == "no clipping"


def test_self_check_gives_feedback():
    at = at_step(6)
    at.number_input(key="quiz_ppo_value_up").set_value(2.4).run()
    assert any(s.value.startswith("Right.") for s in at.success)
    at.radio(key="quiz_ppo_learner").set_value("PPO's objective $L^{CLIP}$").run()
    assert any(w.value.startswith("Not quite.") for w in at.warning)


@pytest.mark.parametrize("number", sorted(WIDGETS))
def test_fuzz_every_step(number):
    at = at_step(number)
    driven = fuzz_page(at, steps=len(WIDGETS[number]) + 8, seed=number, skip=LESSON_NAV)
    assert driven >= WIDGETS[number]
    assert at.button_group(key="ppo_step").value == STEPS[number - 1]
