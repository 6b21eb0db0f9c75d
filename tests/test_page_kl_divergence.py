"""The KL-divergence page through app.py: every step's numbers, links, bad input, the fuzzer."""

import re

import numpy as np
import pytest
from conftest import open_page
from fuzz import fuzz_page
from pagetest import chart_specs, explorables, opened_frame, shown_note

from lessons import information as info
from ui import figures

PAGE = "app_pages/kl_divergence.py"
STEPS = ("1. Which die rolled it?", "2. Why divide by n?", "3. From the game to the formula",
         "4. Entropy, cross-entropy, KL", "5. KL is not symmetric",
         "6. When is a KL significant?", "7. Beyond KL", "8. Why it matters for LLMs",
         "9. Check yourself")


LESSON_NAV = {"kl_step", "kl_step_back", "kl_step_next"}
GUESS = "kl_direction_guess"
PRESETS = {"Even P, lopsided Q": ("0.25, 0.25, 0.25, 0.25", "0.97, 0.01, 0.01, 0.01"),
           "Q misses an outcome": ("0.5, 0.3, 0.2", "0.6, 0.4, 0"),
           "P misses an outcome": ("0.6, 0.4, 0", "0.5, 0.3, 0.2"),
           "Die 2 and Die 3": ("0.4, 0.1, 0.2, 0.2, 0.1", "0.1, 0.2, 0.4, 0.2, 0.1")}


def at_step(number: int, **params):
    """The page opened on step ``number`` (counting from 1), with more link parameters."""
    return open_page(PAGE, {"kl_step": STEPS[number - 1], **params})


@pytest.fixture(scope="module")
def default_page():
    return open_page(PAGE)


def link_notes(at) -> list[str]:
    return [i.value for i in at.info if i.icon == ":material/link_off:"]


def metric(at, label):
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r}"
    return values


def test_the_step_picker_lists_the_lesson(default_page):
    assert default_page.button_group(key="kl_step").options == list(STEPS)
    assert default_page.button_group(key="kl_step").value == STEPS[0]


@pytest.mark.parametrize("number", range(1, len(STEPS) + 1))
def test_every_step_renders_alone_without_exception(number):
    at = at_step(number)
    assert not at.exception
    assert not at.error
    assert not link_notes(at)  # the link was valid
    headers = [h.value for h in at.header] + [h.value for h in at.subheader]
    numbered = [h for h in headers if h[0].isdigit()]
    assert len(numbered) == 1 and numbered[0].startswith(f"{number}.")
    charts = {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 2, 7: 1, 8: 0, 9: 0}  # 5: before the guess
    assert len(at.get("plotly_chart")) == charts[number]


def test_next_and_previous_walk_the_steps(default_page):
    at = open_page(PAGE)
    assert "kl_step_back" not in [b.key for b in at.button]  # nothing before the first step
    at.button(key="kl_step_next").click().run()
    assert at.button_group(key="kl_step").value == STEPS[1]
    assert at.header[0].value.startswith("2.")
    at.button(key="kl_step_back").click().run()
    assert at.button_group(key="kl_step").value == STEPS[0]
    last = at_step(len(STEPS))
    assert "kl_step_next" not in [b.key for b in last.button]


def test_dice_game_shows_the_corrected_products(default_page):
    latex = " ".join(element.value for element in default_page.latex)
    assert r"0.4^{4} \cdot 0.2^{2} \cdot 0.1 \cdot 0.1 \cdot 0.2^{2}" in latex
    assert r"0.4^{4} \cdot 0.1^{2} \cdot 0.2 \cdot 0.2 \cdot 0.1^{2}" in latex
    assert r"0.1^{4} \cdot 0.2^{2} \cdot 0.4 \cdot 0.2 \cdot 0.1^{2}" in latex
    # every digit the products have: 0.0256 · 0.04 · 0.01 · 0.04 = 4.096e-7 exactly
    assert r"\\ = 4.096\times 10^{-7}" in latex
    assert r"\\ = 1.024\times 10^{-7}" in latex
    assert r"\\ = 3.2\times 10^{-9}" in latex
    assert "4.10" not in latex and "3.20" not in latex
    text = " ".join(m.value for m in default_page.markdown)
    expected = info.average_log_likelihood(info.DICE_COUNTS, info.DICE["Die 1"])
    assert f"log ÷ n = **{expected:.3f}** bits per roll" in text


def test_default_numbers_come_from_the_lessons():
    at = at_step(4)
    assert metric(at, "Entropy H(Die 1)") == [f"{info.entropy(info.DICE['Die 1']):.3f} bits"]
    at = at_step(6)
    g, p = info.g_test(info.DICE_COUNTS, info.DICE["Die 3"])
    assert metric(at, "G = 2·n·KL (nats)") == [f"{g:.3f}"]
    assert metric(at, "p-value (χ², 4 d.o.f.)") == [f"{p:.3g}"]  # 0.0457
    exact = info.multinomial_p_value(info.DICE_COUNTS, info.DICE["Die 3"])["p_value"]
    assert any(f"**{exact:.3g}**" in w.value for w in at.warning)  # 0.0584: not significant
    assert metric(at, "p-value (exact, no χ²)") == [f"{exact:.3g}"]
    at = at_step(5, **{GUESS: "KL(P‖Q)"})
    assert metric(at, "KL(P‖Q)")[0] == "2.994 bits"  # even P against lopsided Q
    assert metric(at, "KL(Q‖P)")[0] == "1.758 bits"


def test_units_switch_applies_everywhere():
    at = at_step(4)
    at.button_group(key="kl_unit").set_value("nats").run()
    assert not at.exception
    h = info.entropy(info.DICE["Die 1"], base=np.e)
    assert metric(at, "Entropy H(Die 1)") == [f"{h:.3f} nats"]
    at.button(key="kl_step_next").click().run()  # the unit stays on the next step
    assert at.button_group(key="kl_unit").value == "nats"
    at.button_group(key=GUESS).set_value("KL(Q‖P)").run()
    assert all(v.endswith("nats") for v in metric(at, "KL(Q‖P)"))


def test_rolling_a_sequence_uses_the_seed():
    at = open_page(PAGE)
    at.button_group(key="kl_source").set_value("Roll a new one").run()
    at.selectbox(key="kl_die").set_value("Die 3").run()
    at.slider(key="kl_n").set_value(200).run()
    at.number_input(key="kl_seed").set_value(7).run()
    assert not at.exception
    counts = info.face_counts(info.roll_dice(info.DICE["Die 3"], 200, 7), 5)
    shown = ", ".join(str(int(c)) for c in counts)
    assert any(f"**{shown}**" in m.value for m in at.markdown)
    assert any("rolled with **Die 3**" in m.value for m in at.markdown)


@pytest.mark.parametrize("counts", ["", "4, 2, 1", "4, 2, x, 1, 2", "-1, 2, 1, 1, 2",
                                    "0, 0, 0, 0, 0", "1.5, 2, 1, 1, 2"])
def test_bad_counts_get_a_friendly_error(counts):
    at = at_step(1, kl_source="Type the counts")
    at.text_input(key="kl_counts").set_value(counts).run()
    assert not at.exception
    assert at.error, f"no message for {counts!r}"


def test_a_zero_in_q_makes_kl_infinite_with_an_explanation():
    at = at_step(5, **{GUESS: "KL(P‖Q)"})
    at.selectbox(key="kl_preset").set_value("Q misses an outcome").run()
    assert not at.exception
    assert at.text_input(key="kl_q").value == "0.6, 0.4, 0"
    at.button_group(key=GUESS).set_value("KL(P‖Q)").run()  # a new preset, a new question
    assert metric(at, "KL(P‖Q)")[0] == "∞ bits"
    assert metric(at, "KL(Q‖P)")[0] == f"{info.kl_divergence([.6, .4, 0], [.5, .3, .2]):.3f} bits"
    assert any("KL(P‖Q) is infinite" in w.value and "outcome 3" in w.value for w in at.warning)


def test_editing_weights_rescales_and_switches_to_your_own():
    at = at_step(5, **{GUESS: "KL(Q‖P)"})
    at.text_input(key="kl_p").set_value("2, 1, 1").run()
    at.text_input(key="kl_q").set_value("1, 1, 2").run()
    assert not at.exception
    assert at.selectbox(key="kl_preset").value == "Your own"
    assert any("rescaled to (0.5, 0.25, 0.25)" in c.value for c in at.caption)
    expected = info.kl_divergence([.5, .25, .25], [.25, .25, .5])
    assert metric(at, "KL(P‖Q)")[0] == f"{expected:.3f} bits"


def test_mismatched_lengths_are_explained():
    at = at_step(5, kl_p="0.5, 0.5", kl_q="0.2, 0.3, 0.5")
    assert not at.exception
    assert any("P has 2 outcomes but Q has 3" in e.value for e in at.error)


@pytest.mark.parametrize("p, q, message", [
    ("1, -1, 2", "1, 1, 1", "P's weights must be finite numbers >= 0, and -1 is negative."),
    ("1, 1, 1", "0.5, -0.25, 1", "Q's weights must be finite numbers >= 0, and -0.25 is "
                                 "negative."),
    ("0, 0", "1, 1", "All P's weights are 0"),
    ("1, 1", "0, 0, ", "Q: "),  # an empty last number: parse_numbers names Q
])
def test_bad_weights_say_whose_they_are(p, q, message):
    at = at_step(5, kl_p=p, kl_q=q)
    assert not at.exception
    (error,) = at.error
    assert message in error.value


@pytest.mark.parametrize("preset", list(PRESETS))
def test_a_link_with_only_a_preset_shows_that_presets_numbers(preset):
    at = at_step(5, kl_preset=preset)
    assert not at.exception and not link_notes(at)
    assert at.selectbox(key="kl_preset").value == preset
    assert (at.text_input(key="kl_p").value, at.text_input(key="kl_q").value) == \
        PRESETS[preset]
    (pair,) = chart_specs(at)  # the bars are the preset's too, not the default's
    p_bars = next(t for t in pair["data"] if t["name"] == "P")
    np.testing.assert_allclose(p_bars["y"] if isinstance(p_bars["y"], list) else
                               _decoded(p_bars["y"]),
                               info.normalise([float(v) for v in PRESETS[preset][0].split(",")]))


def _decoded(typed: dict) -> list:
    import base64
    return np.frombuffer(base64.b64decode(typed["bdata"]), dtype=typed["dtype"]).tolist()


def test_a_link_with_a_preset_and_half_its_numbers_fills_in_the_other_half():
    at = at_step(5, kl_preset="Die 2 and Die 3", kl_q=PRESETS["Die 2 and Die 3"][1])
    assert at.selectbox(key="kl_preset").value == "Die 2 and Die 3"
    assert at.text_input(key="kl_p").value == PRESETS["Die 2 and Die 3"][0]


@pytest.mark.parametrize("params", [
    {"kl_p": "0.5, 0.5", "kl_q": "0.2, 0.8"},  # numbers and the default preset
    {"kl_preset": "Die 2 and Die 3", "kl_q": "1, 1, 1, 1, 1"},  # numbers not the preset's
])
def test_a_link_whose_numbers_are_not_its_presets_says_your_own(params):
    at = at_step(5, **params, **{GUESS: "KL(P‖Q)"})
    assert not at.exception
    assert at.selectbox(key="kl_preset").value == "Your own"
    q = info.normalise([float(v) for v in params["kl_q"].split(",")])
    p_text = params.get("kl_p", PRESETS["Die 2 and Die 3"][0])
    p = info.normalise([float(v) for v in p_text.split(",")])
    assert at.text_input(key="kl_p").value == p_text
    assert metric(at, "KL(P‖Q)")[0] == f"{info.kl_divergence(p, q):.3f} bits"


# "Predict first" in step 5: which direction is larger?


@pytest.mark.parametrize("preset, answer", [
    ("Even P, lopsided Q", "KL(P‖Q)"),  # 2.994 vs 1.758 bits
    ("Q misses an outcome", "KL(P‖Q)"),  # ∞ vs 0.324
    ("P misses an outcome", "KL(Q‖P)"),
    ("Die 2 and Die 3", "KL(P‖Q)"),  # 0.5 vs 0.4 bits
])
def test_the_guess_opens_the_demo_and_is_judged_against_the_lessons(preset, answer):
    at = at_step(5, kl_preset=preset)
    assert at.button_group(key=GUESS).value is None
    assert not at.metric and len(at.get("plotly_chart")) == 1  # the distributions only
    p, q = (info.normalise([float(v) for v in t.split(",")]) for t in PRESETS[preset])
    kl_pq, kl_qp = info.kl_divergence(p, q), info.kl_divergence(q, p)
    assert (kl_pq > kl_qp) == (answer == "KL(P‖Q)")  # independent of the page's answer
    wrong = "KL(Q‖P)" if answer == "KL(P‖Q)" else "KL(P‖Q)"
    at.button_group(key=GUESS).set_value(wrong).run()
    assert any(f"the demo below shows **{answer}**" in w.value for w in at.warning)
    assert len(at.get("plotly_chart")) == 2
    assert metric(at, "KL(P‖Q)") == [f"{figures.fmt(kl_pq)} bits"]
    assert metric(at, "KL(Q‖P)") == [f"{figures.fmt(kl_qp)} bits"]
    at.button_group(key=GUESS).set_value(answer).run()
    assert any(s.value.startswith(f"You predicted **{answer}**") for s in at.success)


def test_mirror_images_are_equal_both_ways():
    at = at_step(5, kl_p="0.2, 0.8", kl_q="0.8, 0.2", **{GUESS: "They are equal"})
    assert any(s.value.startswith("You predicted **They are equal**") for s in at.success)
    assert metric(at, "KL(P‖Q)") == metric(at, "KL(Q‖P)")


def test_a_new_preset_asks_the_question_again():
    at = at_step(5, **{GUESS: "KL(P‖Q)"})
    assert at.metric
    at.selectbox(key="kl_preset").set_value("P misses an outcome").run()
    assert at.button_group(key=GUESS).value is None
    assert not at.metric and len(at.get("plotly_chart")) == 1


# Step 6: the verdict follows the p-value the page trusts


def _shown_p_values(at) -> dict:
    return {m.label: m.value for m in at.metric if m.label.startswith("p-value")}


@pytest.mark.parametrize("params", [
    {},  # the video's rolls against Die 3: χ² 0.0457, exact 0.0584
    {"kl_g_model": "Die 1"},
    {"kl_g_model": "Fair die"},
    {"kl_g_source": "Roll new ones", "kl_g_true": "Die 1", "kl_g_model": "Die 3",
     "kl_g_n": "20"},
    {"kl_g_source": "Roll new ones", "kl_g_true": "Die 1", "kl_g_model": "Die 1",
     "kl_g_n": "300", "kl_g_seed": "4"},
    {"kl_g_source": "Roll new ones", "kl_g_true": "Die 2", "kl_g_model": "Die 3",
     "kl_g_n": "100"},
    {"kl_g_source": "Roll new ones", "kl_g_true": "Die 1", "kl_g_model": "Fair die",
     "kl_g_n": "45", "kl_g_seed": "2"},
])
def test_the_verdict_follows_the_p_value_shown(params):
    at = at_step(6, **params)
    assert not at.exception
    shown = _shown_p_values(at)
    (verdict,) = [m.value for m in at.markdown if m.value.startswith("**Verdict.**")]
    found = re.search(r"\((exact|simulated|χ²) p = ([0-9.e-]+) (<|≥) 0\.05\)", verdict)
    assert found, verdict
    method, p_text, sign = found.groups()
    # The verdict quotes the p-value the page trusts, as shown in its metric ...
    trusted = shown.get("p-value (exact, no χ²)", shown.get("p-value (simulated, no χ²)"))
    if trusted is None:
        assert method == "χ²" and not at.warning
        trusted = shown["p-value (χ², 4 d.o.f.)"]
    else:
        assert method in ("exact", "simulated") and at.warning
    assert p_text == trusted
    # ... its side of 0.05 decides the words, ...
    assert (sign == "<") == (float(p_text) < 0.05)
    assert ("would be rare" in verdict) == (sign == "<")
    assert ("are compatible with" in verdict) == (sign == "≥")
    # ... and it is the exact test's whenever an expected count is below 5 (lessons).
    counts = (info.DICE_COUNTS if "kl_g_source" not in params else info.face_counts(
        info.roll_dice(info.DICE[params["kl_g_true"]], int(params["kl_g_n"]),
                       int(params.get("kl_g_seed", 0))), 5))
    die = np.full(5, 0.2) if params.get("kl_g_model") == "Fair die" else \
        info.DICE[params.get("kl_g_model", "Die 3")]
    if info.min_expected_count(counts, die) < 5:
        expected = info.multinomial_p_value(counts, die)["p_value"]
    else:
        expected = info.g_test(counts, die)[1]
    assert float(p_text) == pytest.approx(expected, rel=1e-2, abs=1e-12)


def test_the_video_rolls_are_not_rare_under_die_3():
    at = at_step(6)
    (verdict,) = [m.value for m in at.markdown if m.value.startswith("**Verdict.**")]
    assert "are compatible with Die 3 (exact p = 0.0584 ≥ 0.05)" in verdict
    assert "rare" not in verdict
    exact_metric = next(m for m in at.metric if m.label == "p-value (exact, no χ²)")
    assert exact_metric.delta == "+0.013"  # 0.0584 − 0.0457
    assert exact_metric.proto.delta_description == "vs the χ² p-value"
    (curve,) = [s for s in chart_specs(at) if "more rolls" in str(s["layout"]["title"])]
    diamond = next(t for t in curve["data"] if t["name"] == "your rolls (exact)")
    assert diamond["x"] == [10] and diamond["y"][0] == pytest.approx(0.0584, abs=1e-4)


def test_cross_entropy_says_what_its_delta_is_against():
    at = at_step(4)
    ce = next(m for m in at.metric if m.label.startswith("Cross-entropy"))
    kl = info.kl_divergence(info.DICE["Die 1"], np.full(5, 0.2))
    assert ce.delta == f"+{kl:.3f} bits"
    assert ce.proto.delta_description == "vs H(P)"  # the gap is the KL


def test_a_shared_link_reproduces_the_view():
    link = {"kl_unit": "nats", "kl_source": "Roll a new one", "kl_die": "Die 2", "kl_n": "50",
            "kl_seed": "7", "kl_why_n": "5000", "kl_lln_runs": "3", "kl_shape": "Hard edges",
            "kl_shift": "5.5", "kl_g_source": "Roll new ones", "kl_g_n": "300"}
    at = at_step(1, **link)
    assert not at.exception and not link_notes(at)
    assert at.button_group(key="kl_unit").value == "nats"
    assert at.selectbox(key="kl_die").value == "Die 2"
    assert at.slider(key="kl_n").value == 50
    assert at.number_input(key="kl_seed").value == 7
    assert at_step(2, **link).button_group(key="kl_why_n").value == 5000
    assert at_step(3, **link).slider(key="kl_lln_runs").value == 3
    assert metric(at_step(6, **link), "Rolls n") == ["300"]
    at = at_step(7, **link)
    assert at.button_group(key="kl_step").value == STEPS[6]
    assert at.button_group(key="kl_shape").value == "Hard edges"
    assert at.slider(key="kl_shift").value == 5.5
    (shifting,) = explorables(at)
    _, line, dots = shifting["frames"][opened_frame(shifting)]["data"]
    assert line["x"] == [5.5] * 2 and dots["x"] == [5.5] * 4  # Q's shift now
    assert shown_note(shifting).startswith("Shift 5.5: KL(P‖Q) ∞ nats ")  # hard edges apart


@pytest.mark.parametrize("unit, shape", [("bits", "Smooth"), ("nats", "Hard edges")])
def test_q_sliding_away_shows_the_lessons_values_at_every_shift(unit, shape):
    at = at_step(7, kl_unit=unit, kl_shape=shape, kl_shift="3.5")
    (spec,) = explorables(at)
    shifts = np.arange(0.0, 16.5, 0.5)
    lesson_shape = {"Smooth": "normal", "Hard edges": "triangle"}[shape]
    support = np.arange(41)
    assert len(spec["frames"]) == shifts.size
    assert opened_frame(spec) == 7  # the link's shift, 3.5
    for k, s in enumerate(shifts):
        q = info.shifted_distribution(support, 10.0 + s, 3.0, lesson_shape)
        table = info.divergence_table(info.shifted_distribution(support, 10.0, 3.0,
                                                                lesson_shape), q, support, unit)
        q_trace, line, markers = spec["frames"][k]["data"]
        np.testing.assert_allclose(q_trace["y"], q, rtol=1e-4, atol=1e-12)
        assert markers["x"] == [s] * 4 and line["x"] == [s] * 2
        (note,) = [a["text"].replace("<br>", " ") for a in spec["frames"][k]["layout"][
            "annotations"] if a.get("name") == "explorable-note"]
        (q_label,) = [a for a in spec["frames"][k]["layout"]["annotations"]
                      if a.get("name") == "Q at its peak"]  # Q's name rides on its bump
        assert q_label["x"] == support[np.argmax(q)] and q_label["y"] == pytest.approx(q.max())
        assert f"Shift {s:g}: KL(P‖Q) {figures.fmt(table['kl_pq'])} " in note
        assert f"Wasserstein {figures.fmt(table['wasserstein'])} positions" in note
        assert f"JS {figures.fmt(table['js'])} {unit}" in note


def test_the_running_average_replay_settles_on_kl_frame_by_frame():
    at = at_step(3, kl_lln_n="500", kl_lln_runs="4", kl_lln_seed="3")
    (spec,) = explorables(at)
    assert opened_frame(spec) == len(spec["frames"]) - 1  # opens at the end of the runs
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶"
    rolls = np.stack([info.roll_dice(info.DICE["Die 2"], 500, 3 + r) for r in range(4)])
    running = info.running_average_logratio(rolls, info.DICE["Die 2"], info.DICE["Die 3"])
    steps = [int(step["label"]) for step in spec["layout"]["sliders"][0]["steps"]]
    assert steps[0] == 1 and steps[-1] == 500 and steps == sorted(set(steps))
    for k, n in enumerate(steps):
        _, markers = spec["frames"][k]["data"]
        assert markers["x"] == [n] * 4
        np.testing.assert_allclose(markers["y"], running[:, n - 1], rtol=1e-4)


def test_self_check_grades_answers():
    at = at_step(9)
    at.number_input(key="quiz_kl-divergence_kl13").set_value(0.7).run()
    at.radio(key="quiz_kl-divergence_direction").set_value("KL(Q‖P)").run()
    assert any(s.value.startswith("Right.") for s in at.success)
    assert any(w.value.startswith("Not quite.") for w in at.warning)


def test_fuzz_reaches_every_widget_on_every_step():
    driven = set()
    for number in range(1, len(STEPS)):  # the self-check has its own tests
        at = at_step(number, kl_source="Roll a new one", kl_g_source="Roll new ones")
        driven |= fuzz_page(at, steps=25, seed=number, skip=LESSON_NAV)
        assert at.button_group(key="kl_step").value == STEPS[number - 1]
    expected = {"kl_unit", "kl_source", "kl_die", "kl_n", "kl_seed", "kl_counts",
                "kl_why_true", "kl_why_model", "kl_why_n", "kl_why_seed", "kl_lln_p", "kl_lln_q",
                "kl_lln_n", "kl_lln_runs", "kl_lln_seed", "kl_ce_p", "kl_ce_q", "kl_preset",
                "kl_p", "kl_q", GUESS, "kl_g_source", "kl_g_model", "kl_g_true", "kl_g_n",
                "kl_g_seed", "kl_shape", "kl_shift"}
    assert expected <= driven, expected - driven


# The page's number formats (ui/kl_figures.py)


@pytest.mark.parametrize("counts, die, shown", [
    ([4, 2, 1, 1, 2], "Die 1", r"= 4.096\times 10^{-7}"),
    ([4, 2, 1, 1, 2], "Die 3", r"= 3.2\times 10^{-9}"),
    ([2, 0, 0, 0, 0], "Die 1", "= 0.16"),
    ([0, 1, 0, 1, 0], "Die 1", "= 0.02"),  # 0.2 · 0.1
    ([9, 9, 9, 9, 9], "Die 2", r"\approx 6.872\times 10^{-35}"),  # 11 digits: rounded
])
def test_products_keep_the_digits_they_have(counts, die, shown):
    from ui import kl_figures as kf
    value = info.exact_sequence_likelihood(counts, info.DICE[die])
    log10 = info.sequence_log_likelihood(counts, info.DICE[die], base=10)
    assert kf.decimal_latex(value, log10) == shown
    assert kf.decimal_latex(None, log10).startswith(r"\approx ")  # too long to write out
    if shown.startswith(r"\approx"):
        assert kf.decimal_latex(None, log10) == shown  # the same four digits either way


@pytest.mark.parametrize("p, shown", [(0.0457, "0.0457"), (0.05836, "0.0584"),
                                      (0.0499996, "0.0499996"), (0.05, "0.05"),
                                      (1.33e-83, "1.33e-83"), (0.5, "0.5")])
def test_p_values_never_round_across_the_threshold(p, shown):
    from ui import kl_figures as kf
    assert kf.p_value_text(p) == shown
    assert (float(shown) < 0.05) == (p < 0.05)
