"""The "An LLM is a policy" page through app.py: every step renders alone, its numbers come from
lessons/toy_lm.py, the reply builder follows its buttons, links restore a view, bad links and bad
text get friendly notes, the self-check grades, and the widget fuzzer drives every widget."""

import math

import numpy as np
import pytest
from conftest import open_page
from fuzz import fuzz_page
from pagetest import (
    assert_step_alone,
    captions,
    chart_specs,
    explorables,
    guess,
    link_notes,
    markdown,
    metric,
    opened_frame,
    shown_note,
    step_opener,
)
from test_charts_all import _chart_problems

from lessons import toy_lm as lm

PAGE = "app_pages/toy_llm.py"
TASK = lm.make_task()
# The temperature chart's grid (as the page has it): every value of the page's control from 1
# up, steps of about 10 % below.
TEMPERATURES = (0.1, 0.11, 0.12, 0.14, 0.16, 0.18, 0.2, 0.22, 0.25, 0.27, 0.3, 0.33, 0.36,
                0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6,
                1.7, 1.8, 1.9, 2.0, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6, 2.7, 2.8, 2.9, 3.0)
TEMPERED_TOP = 20
STEPS = ("1. A tiny language model", "2. Write a reply token by token",
         "3. Sampling with a temperature", "4. The policy view", "5. A hidden human taste",
         "6. Preference pairs", "7. Where fine-tuning is headed", "8. Check yourself")
CHARTS = {1: 1, 2: 1, 3: 0, 4: 0, 5: 1, 6: 1, 7: 1, 8: 0}  # step 3: the chart waits for a guess
GUESS = {"lm_temp_guess": "Up"}  # step 3's prediction, answered: the temperature chart opens
STEP_WIDGETS = {
    1: {"lm_tree_prompt"},
    2: {"lm_prompt", "lm_reply", "lm_undo", "lm_clear", *(f"lm_add_{i}" for i in range(8))},
    3: {"lm_temp_prompt", "lm_temp", "lm_n", "lm_seed", "lm_draw"},
    4: {"lm_ep_prompt", "lm_ep_seed"},
    5: {"lm_taste_reply", "lm_taste_prompt"},
    6: {"lm_noise", "lm_pairs", "lm_pair_seed"},
    7: {"lm_beta", "lm_opt_prompt"},
}
NAVIGATION = {"lm_step", "lm_step_back", "lm_step_next"}

open_step = step_opener(PAGE, "lm_step", STEPS)


def at_step(number: int, **params):
    """The page at step ``number``; on step 3 with its prediction answered unless the link
    says otherwise (pass lm_temp_guess=None for the unanswered question)."""
    params = {**(GUESS if number == 3 else {}), **params}
    return open_step(number, **{k: v for k, v in params.items() if v is not None})


def test_the_step_picker_lists_the_lesson():
    at = open_page(PAGE)
    assert at.button_group(key="lm_step").options == list(STEPS)
    assert at.button_group(key="lm_step").value == STEPS[0]
    assert at.title[0].value == "An LLM is a policy"


@pytest.mark.parametrize("number", range(1, len(STEPS) + 1))
def test_every_step_renders_alone_without_exception(number):
    at = open_step(number)
    assert_step_alone(at, number, CHARTS[number])


@pytest.mark.parametrize("prompt", range(len(TASK.prompts)))
def test_the_temperature_demo_waits_for_a_prediction_and_then_bears_out_up(prompt):
    at = at_step(3, lm_temp_guess=None, lm_temp_prompt=TASK.prompts[prompt])
    assert at.button_group(key="lm_temp_guess").options == ["Up", "Down", "Stays the same"]
    assert at.button_group(key="lm_temp_guess").value is None
    assert not at.get("plotly_chart") and not at.slider  # no chart, no temperature yet
    # The lessons' entropy of the replies rises from T = 1 to the hottest T of the chart
    hot, trained = (lm.entropy(lm.distribution(TASK, TASK.ref_logits, t)[prompt])
                    for t in (TEMPERATURES[-1], 1.0))
    assert hot > trained
    assert guess(at, "lm_temp_guess", "Down").startswith(
        "You predicted **Down**; the demo below shows **Up**.")
    assert len(explorables(at)) == 1 and at.slider(key="lm_temp").value == 1.0
    (spec,) = chart_specs(at)
    assert not _chart_problems(spec)
    assert guess(at, "lm_temp_guess", "Up").startswith("You predicted **Up**, and the demo")
    assert not at.exception


def test_step_one_lists_the_most_likely_replies():
    at = at_step(1, lm_tree_prompt="The service was")
    ranked = lm.most_likely(TASK.ref_probs[1], 8)
    assert f"*{TASK.texts[ranked[0]]}* ({TASK.ref_probs[1, ranked[0]]:.3f})" in markdown(at)
    assert TASK.texts[ranked[0]] == "bad."


def test_the_reply_builder_follows_its_buttons():
    at = at_step(2)  # the default reply: "really great", not finished
    assert metric(at, "log π (sum of the log-probs)") == f"{math.log(0.12 * 0.30):.3f} nats"
    at.button(key="lm_add_7").click().run()  # the end token
    assert at.text_input(key="lm_reply").value == "really great."
    assert metric(at, "log π (sum of the log-probs)") == \
        f"{math.log(0.12 * 0.30 * 0.72):.3f} nats"
    assert any("Finished" in s.value for s in at.success)
    assert not [b.key for b in at.button if b.key.startswith("lm_add_")]  # nothing to add
    at.button(key="lm_undo").click().run()
    assert at.text_input(key="lm_reply").value == "really great"
    at.button(key="lm_add_0").click().run()  # "great" again: three words, the reply is cut
    assert at.text_input(key="lm_reply").value == "really great great"
    expected = lm.sequence_logprobs(TASK, TASK.ref_logits)[0, lm.reply_index(TASK, (5, 0, 0))]
    assert metric(at, "log π (sum of the log-probs)") == f"{expected:.3f} nats"
    at.button(key="lm_clear").click().run()
    assert at.text_input(key="lm_reply").value == ""
    assert metric(at, "Tokens so far") == "0"
    keys = [b.key for b in at.button]
    assert "lm_add_0" in keys and "lm_add_7" not in keys  # a reply cannot start with the end
    assert not at.exception


@pytest.mark.parametrize("text", ["tasty food", "good good good good", "good, bad", " . "])
def test_a_reply_the_model_cannot_write_gets_a_friendly_error(text):
    at = at_step(2)
    at.text_input(key="lm_reply").set_value(text).run()
    assert not at.exception
    assert at.error
    at.button(key="lm_clear").click().run()
    assert not at.error


def _temperature_note(prompt: int, temperature: float) -> str:
    """What the temperature chart's note says at T, from the lessons alone."""
    tempered = lm.distribution(TASK, TASK.ref_logits, temperature)[prompt]
    best = int(lm.most_likely(tempered, 1)[0])
    rest = 1 - tempered[lm.most_likely(TASK.ref_probs[prompt], TEMPERED_TOP)].sum()
    return (f"T = {temperature:g}: entropy {lm.entropy(tempered):.2f} nats most likely "
            f"“{TASK.texts[best]}” ({tempered[best]:.3f}) the other "
            f"{TASK.n_replies - TEMPERED_TOP} replies together {rest:.3f}")


@pytest.mark.parametrize(("prompt", "temperature", "frame"),
                         [(0, "1.0", 21), (1, "0.3", 10), (1, "2.9", 40), (0, "0.7", 18)])
def test_the_temperature_chart_shows_the_lessons_distribution_at_every_t(prompt, temperature,
                                                                        frame):
    at = at_step(3, lm_temp=temperature, lm_temp_prompt=TASK.prompts[prompt])
    (spec,) = explorables(at)
    assert [step["label"] for step in spec["layout"]["sliders"][0]["steps"]] == \
        [f"{t:g}" for t in TEMPERATURES]
    assert TEMPERATURES[frame] == float(temperature)
    assert opened_frame(spec) == frame  # the link's temperature, set by the page's control
    assert shown_note(spec) == _temperature_note(prompt, float(temperature))
    ranked = lm.most_likely(TASK.ref_probs[prompt], TEMPERED_TOP)
    bars, ticks = spec["data"][0], spec["data"][1]
    assert bars["x"] == [TASK.texts[s] for s in ranked] + [f"the other {TASK.n_replies - 20}"]
    np.testing.assert_allclose(ticks["y"], [*TASK.ref_probs[prompt, ranked],
                                            1 - TASK.ref_probs[prompt, ranked].sum()],
                               rtol=1e-4)
    for k, t in enumerate(TEMPERATURES):
        tempered = lm.distribution(TASK, TASK.ref_logits, t)[prompt]
        shown, ticks, dot = spec["frames"][k]["data"]
        assert ticks == {}  # the T = 1 ticks stay as they are
        np.testing.assert_allclose(shown["y"][:-1], tempered[ranked], rtol=1e-4, atol=1e-12)
        np.testing.assert_allclose(shown["y"][-1], 1 - tempered[ranked].sum(), rtol=1e-4,
                                   atol=1e-12)
        assert dot["x"] == [t]
        np.testing.assert_allclose(dot["y"], [lm.entropy(tempered)], rtol=1e-4)
        note = spec["frames"][k]["layout"]["annotations"][-1]["text"].replace("<br>", " ")
        assert note == _temperature_note(prompt, t)


def test_moving_the_temperature_control_reopens_the_chart_at_its_value():
    at = at_step(3, lm_temp="1.0")
    at.slider(key="lm_temp").set_value(0.2).run()
    (spec,) = explorables(at)
    assert opened_frame(spec) == TEMPERATURES.index(0.2)
    assert not at.exception


def test_samples_come_from_the_lessons_at_the_control_s_temperature():
    at = at_step(3, lm_temp="0.5", lm_n="5", lm_seed="7", lm_temp_prompt="The service was")
    _, replies = lm.sample(TASK, TASK.ref_logits, 5, 7, 0.5, 1)
    assert "sampled at T = 0.5: " + " · ".join(f"*{TASK.texts[s]}*" for s in replies) \
        in markdown(at)
    at.slider(key="lm_temp").set_value(2.0).run()
    at.button(key="lm_draw").click().run()
    _, replies = lm.sample(TASK, TASK.ref_logits, 5, 7, 2.0, 1)
    assert "sampled at T = 2: " + " · ".join(f"*{TASK.texts[s]}*" for s in replies) \
        in markdown(at)
    (spec,) = explorables(at)
    assert opened_frame(spec) == TEMPERATURES.index(2.0)


def test_an_episode_pays_its_reward_at_the_end():
    at = at_step(4, lm_ep_seed="11")
    _, reply = lm.sample(TASK, TASK.ref_logits, 1, 11, 1.0, 0)
    table = at.dataframe[0].value
    assert list(table["reward r_t"][:-1]) == ["0.00"] * (len(table) - 1)
    assert table["reward r_t"].iloc[-1] == f"{TASK.true_rewards[0, reply[0]]:.2f}"
    assert metric(at, "Parameters (logits)") == str(int(np.prod(TASK.shape)))


def test_the_hidden_taste_scores_a_typed_reply():
    at = at_step(5, lm_taste_reply="not really bad")
    assert "**Reward: +0.75**" in markdown(at)
    assert metric(at, "Average reward E[r] under π_ref") == \
        f"{lm.expected_reward(TASK.ref_probs[:1], TASK.true_rewards[:1]):.3f}"
    at.text_input(key="lm_taste_reply").set_value("delicious").run()
    assert not at.exception and at.error


def test_a_noise_free_annotator_never_labels_against_the_reward():
    at = at_step(6, lm_noise="0", lm_pairs="12", lm_pair_seed="2")
    table = at.dataframe[0].value
    assert len(table) == 12
    assert set(table["P(annotator picks y_w)"]) <= {"1.00", "0.50"}
    pairs = lm.preference_pairs(TASK, 12, 2, 0.0)
    r_w = TASK.true_rewards[pairs["prompt"], pairs["chosen"]]
    r_l = TASK.true_rewards[pairs["prompt"], pairs["rejected"]]
    ties = int(np.sum(r_w == r_l))
    assert ties == 1
    assert f"**{12 - ties} labels agree** with the hidden reward, 100 % of the {12 - ties} " \
        "pairs whose rewards differ; 0 go against it; 1 is a tie" in captions(at)
    assert "The curve's **100.0 %**" in captions(at)
    assert list(table["chosen y_w"]) == [TASK.texts[s] for s in pairs["chosen"]]


@pytest.mark.parametrize(("noise", "n", "seed"), [(None, None, None), ("1", "40", "0"),
                                                  ("3", "5", "8")])
def test_the_sample_s_count_is_told_apart_from_the_curve_s_expectation(noise, n, seed):
    """The caption counts the table's labels against the hidden reward; the curve's number is
    the lessons' exact expectation over every pair (the defaults: τ = 1, 8 pairs, seed 1)."""
    link = {k: v for k, v in (("lm_noise", noise), ("lm_pairs", n), ("lm_pair_seed", seed))
            if v is not None}
    at = at_step(6, **link)
    tau, count, s = float(noise or 1), int(n or 8), int(seed or 1)
    pairs = lm.preference_pairs(TASK, count, s, tau)
    r_w = TASK.true_rewards[pairs["prompt"], pairs["chosen"]]
    r_l = TASK.true_rewards[pairs["prompt"], pairs["rejected"]]
    agree, against = int(np.sum(r_w > r_l)), int(np.sum(r_w < r_l))
    text = captions(at)
    assert f"In these {count} pairs, **{agree} label" in text
    assert f"; {against} go" in text
    assert f"{100 * agree / (agree + against):.0f} % of the {agree + against} pairs" in text
    expected = 100 * lm.label_accuracy(TASK, tau)
    assert f"The curve's **{expected:.1f} %** is not counted from this table" in text
    (chart,) = chart_specs(at)
    assert chart["data"][1]["y"] == pytest.approx([expected])
    if link == {}:  # the default view: a typical sample, 6 of 8 against the curve's 83.3 %
        assert (agree, against, f"{expected:.1f}") == (6, 2, "83.3")


def _optimum_note(prompt: int, beta: float) -> str:
    """What the optimum chart's note says at β, from the lessons alone."""
    star = lm.optimum(TASK, beta)
    p = slice(prompt, prompt + 1)
    best = int(lm.most_likely(star[prompt], 1)[0])
    return (f"β = {beta:g}: E[r] {lm.expected_reward(star[p], TASK.true_rewards[p]):.3f} "
            f"points (π_ref: {lm.expected_reward(TASK.ref_probs[p], TASK.true_rewards[p]):.3f})"
            f" KL(π*‖π_ref) {lm.exact_kl(star[p], TASK.ref_probs[p]):.3f} · entropy "
            f"{lm.entropy(star[prompt]):.2f} (nats) most likely “{TASK.texts[best]}” "
            f"({star[prompt, best]:.3f})")


@pytest.mark.parametrize(("prompt", "beta", "frame"), [(0, "0.3", 7), (1, "10", 32)])
def test_the_optimum_chart_shows_the_lessons_optimum_at_every_beta(prompt, beta, frame):
    at = at_step(7, lm_beta=beta, lm_opt_prompt=TASK.prompts[prompt])
    (spec,) = explorables(at)
    assert not at.metric  # the numbers that move with β are in the chart's note
    betas = [float(step["label"]) for step in spec["layout"]["sliders"][0]["steps"]]
    assert betas == sorted(betas) and betas[0] == 0.1 and betas[-1] == 10
    assert {0.3, 1, 3, 10} <= set(betas)  # every choice of the page's β control
    assert betas[frame] == float(beta) and opened_frame(spec) == frame
    assert shown_note(spec) == _optimum_note(prompt, float(beta))
    columns = spec["data"][0]["x"]
    n_rest = TASK.n_replies - (len(columns) - 1)
    assert columns[-1] == f"the other {n_rest}"
    shown = [next(s for s in range(TASK.n_replies)
                  if c.endswith(f" · {TASK.texts[s]}")) for c in columns[:-1]]
    rewards = TASK.true_rewards[prompt, shown]
    assert list(rewards) == sorted(rewards, reverse=True)  # the best reward first
    assert columns[0].startswith(f"+{rewards[0]:g} · ")
    np.testing.assert_allclose(spec["data"][1]["y"], [*TASK.ref_probs[prompt, shown],
                                                      1 - TASK.ref_probs[prompt, shown].sum()],
                               rtol=1e-4)
    for k, b in enumerate(betas):
        star = lm.optimum(TASK, b)
        p = slice(prompt, prompt + 1)
        top = set(lm.most_likely(star[prompt], 8))
        assert top <= set(shown)  # π*'s 8 likeliest replies at every β are drawn
        bars, ticks, reward_dot, kl_dot = spec["frames"][k]["data"]
        np.testing.assert_allclose(bars["y"][:-1], star[prompt, shown], rtol=1e-4, atol=1e-12)
        np.testing.assert_allclose(bars["y"][-1], 1 - star[prompt, shown].sum(), rtol=1e-4,
                                   atol=1e-12)
        assert ticks == {}
        assert reward_dot["x"] == kl_dot["x"] == [b]
        np.testing.assert_allclose(reward_dot["y"], [lm.expected_reward(
            star[p], TASK.true_rewards[p])], rtol=1e-4)
        np.testing.assert_allclose(kl_dot["y"], [lm.exact_kl(star[p], TASK.ref_probs[p])],
                                   rtol=1e-4)
        note = spec["frames"][k]["layout"]["annotations"][-1]["text"].replace("<br>", " ")
        assert note == _optimum_note(prompt, b)


def test_a_shared_link_reproduces_the_view():
    at = at_step(3, lm_temp="2.0", lm_temp_prompt="The service was", lm_seed="42")
    assert at.button_group(key="lm_step").value == STEPS[2]
    assert at.slider(key="lm_temp").value == 2.0
    assert at.button_group(key="lm_temp_prompt").value == "The service was"
    assert at.number_input(key="lm_seed").value == 42
    (spec,) = explorables(at)
    assert shown_note(spec) == _temperature_note(1, 2.0)


def test_a_malformed_link_falls_back_with_a_note():
    at = at_step(3, lm_temp="abc", lm_n="500", lm_beta="7", lm_reply="x" * 80)
    assert not at.exception
    notes = link_notes(at)
    assert "lm_temp=abc" in notes and "lm_n=500" in notes and "lm_beta=7" in notes
    assert "lm_reply=" in notes
    assert at.slider(key="lm_temp").value == 1.0
    assert at.number_input(key="lm_n").value == 8


def test_self_check_grades_answers():
    at = at_step(8)
    at.number_input(key="quiz_toy-llm_logprob").set_value(-3.653).run()
    at.radio(key="quiz_toy-llm_temperature").set_value("Every reply becomes equally likely").run()
    at.number_input(key="quiz_toy-llm_taste").set_value(0.75).run()
    assert sum(s.value.startswith("Right.") for s in at.success) == 2
    assert any(w.value.startswith("Not quite.") for w in at.warning)


@pytest.mark.parametrize("number", sorted(STEP_WIDGETS))
def test_fuzz_reaches_every_widget_of_every_step(number):
    at = at_step(number)
    driven = fuzz_page(at, steps=2 * len(STEP_WIDGETS[number]) + 4, seed=number,
                       skip=NAVIGATION | set(GUESS))  # step 3 opens answered, and stays so
    assert STEP_WIDGETS[number] <= driven, STEP_WIDGETS[number] - driven
    assert at.button_group(key="lm_step").value == STEPS[number - 1]
