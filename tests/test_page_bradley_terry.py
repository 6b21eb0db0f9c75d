"""The Bradley–Terry page through app.py: every step's numbers, the explorables and replays frame
by frame against the lessons, the editable win table, bad tables, links, the annotator, the
self-check and the fuzzer."""

import ast
from pathlib import Path

import numpy as np
import pytest
from conftest import open_page
from fuzz import fuzz_page
from pagetest import explorables, metric, opened_frame, shown_note, step_opener

from lessons import bradley_terry as bt
from ui import course

ROOT = Path(__file__).resolve().parents[1]
PAGE = "app_pages/bradley_terry.py"
STEPS = ("1. Scores to win probabilities", "2. It is a softmax", "3. Elo ratings",
         "4. Scores from data", "5. You are the annotator", "6. Check yourself")
WIDGETS = {  # the widgets of each step, at its defaults
    1: {"bt_n", "bt_a", "bt_b", "bt_c"},
    2: {"bt_shift_guess", "bt_sa", "bt_sb", "bt_shift"},
    3: {"bt_elo_a", "bt_elo_b"},
    4: {"bt_preset", "bt_l2", "bt_wins", "bt_reset_table"},
    5: {"bt_lr", "bt_steps", "bt_rm_l2", "bt_fill_detail", "bt_fill_busy", "bt_fill_warm",
        "bt_fill_clear", "bt_pick_left", "bt_pick_right", "bt_prev", "bt_next"},
}
LESSON_NAV = {"bt_step", "bt_step_back", "bt_step_next"}
GUESSED = {2: {"bt_shift_guess": "Goes up"}}  # a step's guess: its demo is drawn
BALANCED = "0 6 7 8 / 4 0 6 7 / 3 4 0 5 / 2 3 5 0"
SCORE_GRID = np.round(np.arange(-4.0, 4.05, 0.1), 1)
SHIFT_GRID = np.round(np.arange(-10.0, 10.25, 0.5), 1)
ELO_RATINGS = np.arange(800, 2801, 50)
NBSP = "\u00a0"

at_step = step_opener(PAGE, "bt_step", STEPS)


def page_constant(name):
    """A constant of the page script, read from its source (the page itself runs Streamlit)."""
    for node in ast.parse((ROOT / PAGE).read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return ast.literal_eval(node.value)
    raise KeyError(name)


def text_of(elements):
    return " ".join(element.value for element in elements)


def note(frame):
    """The line of numbers a frame of an explorable shows, as plain text."""
    text = frame["layout"]["annotations"][-1]["text"]
    return text.replace("<br>", " ").replace(NBSP, " ")


def opened_note(spec):
    return shown_note(spec).replace(NBSP, " ")


def takeaways(at):
    return [i.value for i in at.info if i.icon == ":material/lightbulb:"]


def editor(at):
    editors = [e for e in at.data_editor if (e.key or "").startswith("bt_table_")]
    assert len(editors) == 1
    return editors[0]


@pytest.mark.parametrize("number", range(1, len(STEPS) + 1))
def test_every_step_renders_alone_without_exception(number):
    at = at_step(number)
    assert not at.exception and not at.error
    assert at.button_group(key="bt_step").options == list(STEPS)
    headers = [h.value for h in at.header] + [h.value for h in at.subheader]
    numbered = [h for h in headers if h[0].isdigit()]
    assert len(numbered) == 1 and numbered[0].startswith(f"{number}.")
    # step 2 waits for a guess, the reward model for judgements
    charts = {1: 2, 2: 0, 3: 1, 4: 4, 5: 0, 6: 0}
    assert len(at.get("plotly_chart")) == charts[number]
    if number == 5:
        assert any("Judge at least one pair" in i.value for i in at.info)
    assert len(takeaways(at)) == 1  # test_steps_all checks that it comes last


@pytest.mark.parametrize("guess", ["Goes up", "Goes down", "Stays the same"])
def test_the_shift_question_opens_its_demo_once_there_is_a_guess(guess):
    at = at_step(2)
    assert not explorables(at) and at.button_group(key="bt_shift_guess").value is None
    assert "Add 5 to *both* scores" in text_of(at.markdown)
    at.button_group(key="bt_shift_guess").set_value(guess).run()
    assert not at.exception
    (spec,) = explorables(at)
    # the answer the page gives is the lessons' own: a shift of 5 leaves P(A ≻ B) where it was
    a, b = 1.0, 0.0
    assert bt.two_way_softmax(a + 5, b + 5) == pytest.approx(bt.win_probability(a, b), abs=1e-12)
    verdict = (at.success if guess == "Stays the same" else at.warning)[0].value
    assert verdict.startswith(f"You predicted **{guess}**")
    if guess != "Stays the same":
        assert "shows **Stays the same**" in verdict
    assert f"softmax₁ = {bt.win_probability(a, b):.6f}" in opened_note(spec)


def test_step_one_numbers_come_from_the_lessons():
    at = open_page(PAGE)  # the first step is the default
    (spec,) = explorables(at)
    assert f"P(A ≻ B) = {bt.win_probability(1.0, 0.0):.3f}" in opened_note(spec)
    assert f"P(B ≻ A) = {bt.win_probability(0.0, 1.0):.3f}" in opened_note(spec)
    assert r"= 0.731" in text_of(at.latex)
    picked = bt.choice_probabilities(np.array([1.0, 0.0, -1.0]))
    assert f"A **{picked[0]:.2f}**" in text_of(at.markdown)


def test_sliding_a_s_score_shows_the_lessons_win_probability_at_every_score():
    at = at_step(1, bt_a="2.3", bt_b="-0.7")
    (spec,) = explorables(at)
    assert len(spec["frames"]) == SCORE_GRID.size == 81
    assert SCORE_GRID[opened_frame(spec)] == 2.3  # the link's score of A
    np.testing.assert_allclose(spec["data"][0]["y"], bt.win_probability(SCORE_GRID, -0.7),
                               rtol=1e-4)
    for k, a in enumerate(SCORE_GRID):
        (points,) = spec["frames"][k]["data"]
        assert points["x"] == [a, a]
        np.testing.assert_allclose(points["y"], [bt.win_probability(a, -0.7),
                                                 bt.win_probability(-0.7, a)], rtol=1e-4)
        p_ab = bt.win_probability(a, -0.7)
        p_ba = bt.win_probability(-0.7, a)
        assert f"P(A ≻ B) = {p_ab:.3f} · P(B ≻ A) = {p_ba:.3f}" in note(spec["frames"][k])
        assert f"gap a − b = {a + 0.7 + 0.0:+.1f}" in note(spec["frames"][k])
    assert "a = 2.3, b = -0.7" in opened_note(spec)
    assert f"odds for A {np.exp(3.0):.3g} : 1" in opened_note(spec)


def test_moving_a_score_and_adding_replies():
    at = at_step(1)
    at.slider(key="bt_b").set_value(2.5).run()
    (spec,) = explorables(at)
    assert SCORE_GRID[opened_frame(spec)] == 1.0
    assert f"P(A ≻ B) = {bt.win_probability(1.0, 2.5):.3f}" in opened_note(spec)
    assert "odds for A 1 : 4.48" in opened_note(spec)  # e^1.5 against A
    at.slider(key="bt_a").set_value(-3.2).run()
    assert SCORE_GRID[opened_frame(explorables(at)[0])] == -3.2
    at.slider(key="bt_n").set_value(6).run()
    assert not at.exception
    assert at.slider(key="bt_f").value == 2.0
    heatmap = at.get("plotly_chart")[0]
    assert heatmap.proto.spec  # drawn


def test_shifting_both_scores_changes_nothing_but_the_strengths_at_every_shift():
    at = at_step(2, bt_sa="1.5", bt_sb="-0.5", bt_shift="3.5", bt_shift_guess="Stays the same")
    (spec,) = explorables(at)
    assert len(spec["frames"]) == SHIFT_GRID.size == 41
    assert SHIFT_GRID[opened_frame(spec)] == 3.5  # the link's shift
    sigmoid = bt.win_probability(1.5, -0.5)
    for k, c in enumerate(SHIFT_GRID):
        top, bottom = spec["frames"][k]["data"]
        assert top["x"] == [c] and bottom["x"] == [c, c]
        np.testing.assert_allclose(top["y"], [bt.two_way_softmax(1.5 + c, -0.5 + c)],
                                   rtol=1e-4)
        np.testing.assert_allclose(top["y"], [sigmoid], rtol=1e-4)  # whatever c is
        np.testing.assert_allclose(bottom["y"], [bt.strength(1.5 + c), bt.strength(-0.5 + c)],
                                   rtol=1e-4)
        text = note(spec["frames"][k])
        assert f"e^(a+c) = {bt.strength(1.5 + c):.4g}" in text
        assert f"softmax₁ = {bt.two_way_softmax(1.5 + c, -0.5 + c):.6f}" in text
        assert f"σ(a − b) = {sigmoid:.6f}" in text
    assert "c = 3.5: a + c = 5.0, b + c = 3.0" in opened_note(spec)
    at.slider(key="bt_shift").set_value(-7.5).run()
    assert SHIFT_GRID[opened_frame(explorables(at)[0])] == -7.5


def test_elo_step():
    at = at_step(3)
    assert "R_A 1600, R_B 1400: expected score 0.760" in opened_note(explorables(at)[0])
    at.slider(key="bt_elo_a").set_value(2000).run()
    (spec,) = explorables(at)
    assert f"expected score {bt.elo_expected(2000, 1400):.3f}" in opened_note(spec)
    win, loss = bt.elo_update(2000, 1400, 1.0), bt.elo_update(2000, 1400, 0.0)
    assert f"after a win A has {win:.1f}, a loss {loss:.1f}" in opened_note(spec)
    assert "K = 32" in text_of(at.caption)


def test_a_s_rating_slides_along_the_lessons_elo_curve_at_every_rating():
    at = at_step(3, bt_elo_a="1850", bt_elo_b="1500")
    (spec,) = explorables(at)
    assert len(spec["frames"]) == ELO_RATINGS.size == 41
    assert ELO_RATINGS[opened_frame(spec)] == 1850  # the link's rating of A
    curve = spec["data"][0]
    np.testing.assert_allclose(curve["y"], bt.elo_expected(np.array(curve["x"]), 0.0),
                               rtol=1e-4)
    for k, rating in enumerate(ELO_RATINGS):
        (point,) = spec["frames"][k]["data"]
        assert point["x"] == [rating - 1500]
        np.testing.assert_allclose(point["y"], [bt.elo_expected(rating, 1500)], rtol=1e-4)
        text = note(spec["frames"][k])
        assert f"R_A {rating}, R_B 1500: expected score " \
            f"{bt.elo_expected(rating, 1500):.3f}" in text
        assert f"= {bt.elo_to_score(rating - 1500) + 0.0:+.3f} score units" in text
        assert f"after a win A has {bt.elo_update(rating, 1500, 1.0):.1f}" in text
    assert not any("nearest" in c.value for c in at.caption)
    at = at_step(3, bt_elo_a="1610")  # between two of the chart's ratings
    assert ELO_RATINGS[opened_frame(explorables(at)[0])] == 1600
    assert "opens at 1600, the nearest to the 1610 set above" in text_of(at.caption)


def test_default_table_is_fitted():
    at = at_step(4)
    report = bt.fit_report(bt.parse_wins(BALANCED))
    assert metric(at, "Log-likelihood ℓ(ŝ)") == f"{report['log_likelihood']:.2f} nats"
    assert metric(at, "Misfit G (df)") == f"{report['deviance']:.2f} ({report['df']})"
    ranking = text_of(at.markdown)
    assert f"Atlas ({report['scores'][0]:+.2f})" in ranking
    assert at.text_input(key="bt_wins").value == BALANCED
    assert editor(at).value.to_numpy().tolist() == bt.parse_wins(BALANCED).astype(int).tolist()


def bar_heights(frame_data):
    """The heights of the bars a filled outline draws (0, v, v, 0, 0, gap per bar)."""
    return frame_data["y"][1::6]


@pytest.mark.parametrize(("link", "table", "l2"), [
    ({}, BALANCED, 0.0),
    ({"bt_preset": "Dominant item", "bt_l2": "0.01"}, "0 9 9 10 / 1 0 5 6 / 1 5 0 5 / 0 4 5 0",
     0.01),
    ({"bt_preset": "Bad: one item wins every game"}, "0 9 10 10 / 0 0 5 6 / 0 5 0 5 / 0 4 5 0",
     0.1),  # no maximum exists: the page's fallback prior
])
def test_newton_s_method_is_replayed_step_by_step_to_the_fit(link, table, l2):
    at = at_step(4, **link)
    (spec,) = explorables(at)
    wins = bt.parse_wins(table)
    path = bt.newton_path(wins, l2)
    names = ["Atlas", "Birch", "Cedar", "Delta"]
    assert len(spec["frames"]) == len(path["scores"])
    assert opened_frame(spec) == len(spec["frames"]) - 1  # the fit itself
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶"
    for k, scores in enumerate(path["scores"]):
        (bars,) = spec["frames"][k]["data"]
        np.testing.assert_allclose(bar_heights(bars), scores, rtol=1e-4, atol=1e-9)
        text = note(spec["frames"][k])
        for name, score in zip(names, scores, strict=True):
            assert f"{name} {score + 0.0:+.2f}" in text
        assert f"= {path['objective'][k]:.3f} nats" in text
    fit = bt.fit_scores(wins, l2)
    np.testing.assert_allclose(bar_heights(spec["frames"][-1]["data"][0]), fit, rtol=1e-4)
    np.testing.assert_allclose(spec["data"][1]["y"], fit, rtol=1e-4)  # the black marks
    assert opened_note(spec).startswith(f"After Newton step {len(path['scores']) - 1} of")
    assert note(spec["frames"][0]).startswith("Start: every score 0")
    fit = f"{path['objective'][-1]:.3f}"
    assert (f"ℓ(s) = {fit} nats (the fit: {fit})" if l2 == 0 else
            f"ℓ(s) − λ/2·Σs² = {fit} nats (λ = {l2:g}; the fit: {fit})") in opened_note(spec)


BAD_PRESETS = [("Bad: one item wins every game", "+∞"),
               ("Bad: one item never plays", "never played"),
               ("Bad: no games at all", "no games at all")]


def test_bad_presets_explain_and_fall_back_to_a_prior():
    at = at_step(4, bt_preset=BAD_PRESETS[0][0])  # the first through a link
    for number, (preset, needle) in enumerate(BAD_PRESETS):
        if number:
            at.button_group(key="bt_l2").set_value("0").run()
            at.selectbox(key="bt_preset").set_value(preset).run()
        assert not at.exception and not at.error
        warning = text_of(at.warning)
        assert "No maximum-likelihood fit" in warning and needle in warning, preset
        assert "λ = 0.1" in warning
        at.button_group(key="bt_l2").set_value("0.01").run()
        assert not at.exception
        assert "you chose keeps every score finite" in text_of(at.warning)


def test_the_cycle_fails_the_g_test():
    at = at_step(4, bt_preset="Cycle: A > B > C > A")
    assert not at.warning
    report = bt.fit_report(bt.parse_wins("0 8 2 / 2 0 8 / 8 2 0"))
    assert f"p = {report['p_value']:.3g}" in text_of(at.caption)
    assert "does not fit this table well" in text_of(at.caption)


def test_switching_presets_replaces_the_table():
    at = at_step(4)
    at.selectbox(key="bt_preset").set_value("Sparse data").run()
    assert at.text_input(key="bt_wins").value.count("/") == 5
    assert len(editor(at).value) == 6
    at.selectbox(key="bt_preset").set_value("Simulated from known scores").run()
    at.slider(key="bt_games").set_value(50).run()
    at.number_input(key="bt_seed").set_value(4).run()
    assert not at.exception
    expected = bt.format_wins(bt.simulate_wins([1.2, 0.5, 0.0, -0.4, -1.3], 50, 4))
    assert at.text_input(key="bt_wins").value == expected


def test_editing_a_cell_refits_and_reaches_the_text():
    at = at_step(4)
    at.session_state[editor(at).key] = {
        "edited_rows": {3: {"Atlas": 40}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    edited = "0 6 7 8 / 4 0 6 7 / 3 4 0 5 / 40 3 5 0"
    assert at.text_input(key="bt_wins").value == edited
    report = bt.fit_report(bt.parse_wins(edited))
    assert metric(at, "Log-likelihood ℓ(ŝ)") == f"{report['log_likelihood']:.2f} nats"
    assert text_of(at.markdown).count("**Ranking:** Delta") == 1  # Delta now leads
    assert "You have edited the preset" in text_of(at.caption)
    at.button(key="bt_reset_table").click().run()
    assert at.text_input(key="bt_wins").value == BALANCED


def test_editing_the_diagonal_or_blanking_a_cell_is_harmless():
    at = at_step(4)
    at.session_state[editor(at).key] = {
        "edited_rows": {0: {"Atlas": 5, "Birch": None}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert at.text_input(key="bt_wins").value == "0 0 7 8 / 4 0 6 7 / 3 4 0 5 / 2 3 5 0"


def test_bad_table_text_gets_a_message_not_a_crash():
    at = at_step(4)
    for text in ["abc", "0 1 / 1", "0 -2 / 1 0", "1 1 / 1 0", " / ".join(["0 " * 7] * 7), ""]:
        at.text_input(key="bt_wins").set_value(text).run()
        assert not at.exception, text
        if text:
            assert any("could not be read" in e.value for e in at.error), text
        assert metric(at, "Log-likelihood ℓ(ŝ)").endswith("nats")


def square(n):
    return " / ".join(" ".join("0" if i == j else "1" for j in range(n)) for i in range(n))


@pytest.mark.parametrize(("text", "rows"), [("0", 1), (square(7), 7), ("0/" * 12 + "0", 13)])
def test_a_table_of_the_wrong_size_is_told_the_lesson_s_own_limit(text, rows):
    at = at_step(4, bt_wins=text)
    assert not at.exception
    (error,) = at.error
    assert f"The table has {rows} row{'s' * (rows > 1)}; this lesson takes 2 to 6 items" \
        in error.value
    assert str(bt.MAX_ITEMS) not in error.value  # the lessons' wider limit is not this lesson's
    assert len(editor(at).value) == 4  # the preset's table instead
    assert "2 to 6 items" in at.text_input(key="bt_wins").label


def test_the_largest_table_the_lesson_takes_is_fitted():
    at = at_step(4, bt_wins=square(6))
    assert not at.exception and not at.error
    assert len(editor(at).value) == 6


def test_a_shared_link_restores_the_view():
    link = {"bt_preset": "Cycle: A > B > C > A", "bt_l2": "0.1", "bt_a": "2.5", "bt_n": "5",
            "bt_wins": "0 5 1 / 1 0 5 / 5 1 0", "bt_elo_b": "1800"}
    at = at_step(1, **link)
    assert not at.exception
    assert at.slider(key="bt_a").value == 2.5
    assert at.slider(key="bt_n").value == 5
    elo = explorables(at_step(3, **link))[0]
    assert f"expected score {bt.elo_expected(1600, 1800):.3f}" in opened_note(elo)
    at = at_step(4, **link)
    assert at.button_group(key="bt_step").value == STEPS[3]
    assert at.selectbox(key="bt_preset").value == "Cycle: A > B > C > A"
    assert at.button_group(key="bt_l2").value == "0.1"
    assert at.text_input(key="bt_wins").value == "0 5 1 / 1 0 5 / 5 1 0"
    assert editor(at).value.to_numpy().tolist() == [[0, 5, 1], [1, 0, 5], [5, 1, 0]]


def test_malformed_links_get_a_note_and_defaults():
    at = open_page(PAGE, {"bt_step": "9. Nowhere", "bt_preset": "nonsense", "bt_a": "9",
                          "bt_l2": "0.5", "bt_steps": "abc"})
    assert not at.exception
    notes = text_of(at.info)
    for key in ("bt_step=9. Nowhere", "bt_preset=nonsense", "bt_a=9", "bt_l2=0.5",
                "bt_steps=abc"):
        assert key in notes
    assert at.button_group(key="bt_step").value == STEPS[0]
    assert at_step(4, bt_preset="nonsense").selectbox(key="bt_preset").value == "Balanced league"
    assert at_step(5, bt_steps="abc").number_input(key="bt_steps").value == 200


REPRODUCED = "Your judgements it reproduces after 200 steps"


def reply_features():
    return bt.standardize(np.array([bt.reply_features(r) for r in bt.EXAMPLE_REPLIES]))


def pair_on_screen(at):
    return next(c.value for c in at.caption if c.value.startswith("Pair "))


def test_judging_pair_by_pair_trains_the_reward_model():
    at = at_step(5)
    assert pair_on_screen(at).startswith("Pair 1 of 15")
    at.button(key="bt_pick_right").click().run()  # R2 over R1
    assert not at.exception
    assert pair_on_screen(at).startswith("Pair 2 of 15")  # moved on by itself
    assert metric(at, REPRODUCED) == "1 of 1"
    at.button(key="bt_pick_left").click().run()  # R3 over R4
    assert metric(at, REPRODUCED) == "2 of 2"
    assert "You judged 2 of 15 pairs" in at.get("progress")[0].proto.text
    at.button(key="bt_prev").click().run()
    at.button(key="bt_prev").click().run()
    at.button(key="bt_prev").click().run()
    assert pair_on_screen(at).startswith("Pair 15 of 15")  # wraps around
    at.button(key="bt_next").click().run()
    assert pair_on_screen(at).startswith("Pair 1 of 15")
    assert "**R2**  · your choice" in text_of(at.markdown)
    at.button(key="bt_pick_left").click().run()  # change pair 1: now R1 over R2
    assert metric(at, REPRODUCED).endswith("of 2")
    expected = bt.fit_reward_model(reply_features(), [0, 2], [1, 3], 0.5, 200, 0.01)
    assert metric(at, "Loss after 200 steps").startswith(f"{expected['loss'][-1]:.3f} nats")
    (loss,) = [m for m in at.metric if m.label == "Loss after 200 steps"]
    assert loss.delta == f"{expected['loss'][-1] - np.log(2):+.3f} nats"
    assert loss.proto.delta_description == "vs ln 2 (the start)"


def test_an_example_annotator_answers_every_pair():
    at = at_step(5)
    at.button(key="bt_fill_detail").click().run()
    assert not at.exception
    assert metric(at, REPRODUCED) == "15 of 15"
    assert metric(at, "Top reply after 200 steps") == "R6"
    assert len(at.get("plotly_chart")) == 2
    assert "**R2**  · your choice" in text_of(at.markdown)  # the detail lover prefers R2 to R1
    at.number_input(key="bt_steps").set_value(10).run()
    at.number_input(key="bt_lr").set_value(0.05).run()
    at.button_group(key="bt_rm_l2").set_value("1").run()
    assert not at.exception
    at.button(key="bt_fill_clear").click().run()
    assert any("Judge at least one pair" in i.value for i in at.info)


def test_the_reward_model_s_training_is_replayed_step_by_step():
    at = at_step(5, bt_steps="120", bt_lr="0.3")
    at.button(key="bt_fill_warm").click().run()
    training, weights = explorables(at)
    pairs = np.array(bt.EXAMPLE_PAIRS)
    raw = np.array([bt.reply_features(r) for r in bt.EXAMPLE_REPLIES])
    picks = bt.annotate(raw, pairs, page_constant("ANNOTATORS")["warm"][1])
    chosen, rejected = pairs[np.arange(len(pairs)), picks], pairs[np.arange(len(pairs)), 1 - picks]
    result = bt.fit_reward_model(reply_features(), chosen, rejected, 0.3, 120, 0.01)
    steps = [int(step["label"]) for step in training["layout"]["sliders"][0]["steps"]]
    assert steps[0] == 0 and steps[-1] == 120 and steps == sorted(set(steps))
    assert len(steps) <= 51
    for spec in (training, weights):
        assert opened_frame(spec) == len(steps) - 1  # the trained model
        assert spec["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶"
        assert [int(s["label"]) for s in spec["layout"]["sliders"][0]["steps"]] == steps
    np.testing.assert_allclose(training["data"][0]["y"], result["loss"][training["data"][0]["x"]],
                               rtol=1e-4)
    for k, t in enumerate(steps):
        drawn, point, stems, dots = training["frames"][k]["data"]
        assert drawn["x"][-1] == t == point["x"][0]
        np.testing.assert_allclose(drawn["y"], result["loss"][drawn["x"]], rtol=1e-4)
        np.testing.assert_allclose(point["y"], [result["loss"][t]], rtol=1e-4)
        np.testing.assert_allclose(dots["x"], result["rewards_path"][t], rtol=1e-4, atol=1e-9)
        np.testing.assert_allclose(stems["x"][1::3], result["rewards_path"][t], rtol=1e-4,
                                   atol=1e-9)
        agreed = round(result["agreement"][t] * len(pairs))
        assert f"Step {t} of 120 · loss {result['loss'][t]:.3f} nats agrees with {agreed} " \
            f"of your 15" in note(training["frames"][k])
        _, weight_dots = weights["frames"][k]["data"]
        np.testing.assert_allclose(weight_dots["x"], result["weights_path"][t], rtol=1e-4,
                                   atol=1e-9)
        for name, w in zip(bt.FEATURES, result["weights_path"][t], strict=True):
            assert f"{name} {w + 0.0:+.2f}" in note(weights["frames"][k])
    assert "all replies tied" in note(training["frames"][0])
    top = f"R{int(result['ranking'][0]) + 1}"
    assert opened_note(training).endswith(f"top reply {top}")
    assert metric(at, "Top reply after 120 steps") == top
    assert metric(at, "Loss after 120 steps").startswith(f"{result['loss'][-1]:.3f} nats")


def test_self_check_feedback():
    at = at_step(6)
    at.number_input(key="quiz_bradley-terry_prob").set_value(0.731).run()
    at.radio(key="quiz_bradley-terry_shift").set_value("It stays the same").run()
    at.number_input(key="quiz_bradley-terry_elo").set_value(0.5).run()
    assert not at.exception
    assert sum(s.value.startswith("Right.") for s in at.success) == 2
    assert any(w.value.startswith("Not quite.") for w in at.warning)


@pytest.mark.parametrize("number", sorted(WIDGETS))
def test_fuzz_every_step(number):
    at = at_step(number, **GUESSED.get(number, {}))
    driven = fuzz_page(at, steps=len(WIDGETS[number]) + 10, seed=number, skip=LESSON_NAV)
    assert driven >= WIDGETS[number]
    assert at.button_group(key="bt_step").value == STEPS[number - 1]


def test_fuzz_the_simulated_and_bad_tables():
    at = at_step(4, bt_preset="Simulated from known scores")
    section_four = {"bt_games", "bt_seed", "bt_l2", "bt_wins"}
    others = {w.key for w in at.main if getattr(w, "key", None)} - section_four
    driven = fuzz_page(at, steps=8, seed=9, skip=others)
    assert section_four <= driven


def test_the_annotator_step_points_a_class_to_class_mode():
    at = at_step(5)
    (link,) = [p for p in at.get("page_link") if p.proto.label == "Open class mode"]
    assert link.proto.page == course.CLASS_MODE.slug
    assert any("**With a class?**" in m.value and "basil" in m.value for m in at.markdown)
    at.button(key="bt_fill_busy").click().run()  # with a trained reward model too
    assert len(at.get("plotly_chart")) == 2
    (takeaway,) = takeaways(at)
    assert takeaway.startswith("A reward model is Bradley–Terry")
