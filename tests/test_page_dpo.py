"""The DPO page through app.py: every step renders alone, its numbers come from lessons/dpo.py,
lessons/rlhf.py and lessons/toy_lm.py, the loss chart holds the lesson's values at every β and
opens at the β slider's, every training run is replayed frame by frame with the run's own
distributions and metrics, the probability sliders redraw the loss chart, the units switch
carries the values over, the derivation steps through by clicks with the step in the link, links
restore a view, bad links and bad text get friendly notes, the self-check grades, and the widget
fuzzer drives every widget."""

import dataclasses
import math

import numpy as np
import pytest
from conftest import open_page
from fuzz import fuzz_page
from pagetest import (
    assert_step_alone,
    explorables,
    guess,
    link_notes,
    markdown,
    metric,
    opened_frame,
    shown_note,
    step_opener,
)

from lessons import dpo, rlhf
from lessons import toy_lm as lm
from ui import course
from ui.dpo_figures import signed

PAGE = "app_pages/dpo.py"
TASK = lm.make_task()
STEPS = ("1. RLHF vs DPO", "2. The loss, with sliders", "3. Where does the reward go?",
         "4. What the gradient does", "5. Train the tiny LM with DPO",
         "6. Does the starting model matter?", "7. Check yourself")
CHARTS = {1: 0, 2: 1, 3: 0, 4: 2, 5: 0, 6: 1, 7: 0}  # step 5's open once there is a guess
GUESS = {"dpo_chosen_guess": "Below 0"}  # step 5's prediction, answered: its run is shown
TRAIN_BUTTON = "FormSubmitter:dpo_train_form-Train"
STEP_WIDGETS = {
    2: {"dpo_units", "dpo_variants", "dpo_eps", "dpo_beta"},
    3: {"dpo_d_rewards", "dpo_d_ref", "dpo_d_beta", "dpo_deriv", "dpo_deriv_next"},
    4: {"dpo_g_at"},
    5: {"dpo_t_beta", "dpo_t_lr", "dpo_t_pairs", "dpo_t_noise", "dpo_t_loss", "dpo_t_eps",
        "dpo_t_seed", TRAIN_BUTTON, "dpo_chosen_guess"},
    6: {"dpo_s_beta", "dpo_s_tau"},
}
# The four probabilities: a slider in probability or in log-probability units
PROBABILITY_KEYS = (("dpo_pw", "dpo_lpw"), ("dpo_rw", "dpo_lrw"), ("dpo_pl", "dpo_lpl"),
                    ("dpo_rl", "dpo_lrl"))
NAVIGATION = {"dpo_step", "dpo_step_back", "dpo_step_next"}
# The training defaults of step 5 (and the fixed settings of steps 4 and 6)
BETA, LR, N_PAIRS, NOISE, STEPS_TRAINED = 1.0, 0.1, 128, 1.0, 150
BETAS = np.round(np.arange(0.05, 3.001, 0.05), 2)  # the β slider's values: the loss chart's
REPLAY_STEPS = np.arange(0, STEPS_TRAINED + 1, 3)  # the frames of the training replays
LOSS_KINDS = {"DPO": ("sigmoid", 0.0), "IPO": ("ipo", 0.0), "hinge": ("hinge", 0.0),
              "cDPO": ("sigmoid", None)}


at_step = step_opener(PAGE, "dpo_step", STEPS)


def note_at(spec, k):
    """The line of numbers frame k shows above its chart."""
    notes = [a["text"] for a in spec["frames"][k]["layout"]["annotations"]
             if a.get("name") == "explorable-note"]
    return notes[0].replace("<br>", " ")


def slider_values(spec):
    return [float(step["label"]) for step in spec["layout"]["sliders"][0]["steps"]]


def assert_loss_note(at, logps, beta):
    """The loss chart opens at the β slider's value and its numbers there are dpo_loss's for
    these log-probs and β."""
    (spec,) = explorables(at)
    assert opened_frame(spec) == int(np.argmin(np.abs(BETAS - beta)))
    result = dpo.dpo_loss(*logps, beta)
    text = shown_note(spec)
    assert text.startswith(f"β = {beta:g}: ")
    assert f"r̂_w = {signed(result['chosen_rewards'])}" in text
    assert f"r̂_l = {signed(result['rejected_rewards'])}" in text
    assert f"m = β·h = {signed(result['margin'])}" in text
    assert f"DPO loss {result['loss']:.3f} · weight σ(−m) {result['gradient_weight']:.3f}" \
        in text


def after_each_step(task, pairs, beta, loss_type="sigmoid", steps=STEPS_TRAINED):
    """TRL's metrics of the policy after s steps, s = 0..steps, each from its own run of s
    steps (lm.dpo_objective on the run's logits): an independent check of the page's replay."""
    merged = lm.merge_pairs(pairs)
    out = {}
    for s in range(steps + 1):
        logits = lm.train_dpo(task, pairs, beta=beta, loss_type=loss_type, steps=s,
                              lr=LR)["logits"]
        _, logged, _ = lm.dpo_objective(task, logits, merged["prompt"], merged["chosen"],
                                        merged["rejected"], beta, loss_type,
                                        weight=merged["weight"])
        for key, value in logged.items():
            out.setdefault(key, []).append(value)
    return {key: np.array(values) for key, values in out.items()}


def metrics_after(task, pairs, run, beta, loss_type="sigmoid"):
    """TRL's metrics of the model after s steps, s = 0..150, from one run: logged by step s + 1
    (see test_a_step_logs_the_metrics_of_the_model_it_starts_from), and for the trained model
    computed from its logits with lm.dpo_objective."""
    merged = lm.merge_pairs(pairs)
    _, final, _ = lm.dpo_objective(task, run["logits"], merged["prompt"], merged["chosen"],
                                   merged["rejected"], beta, loss_type, weight=merged["weight"])
    return {key: np.append(run["history"][key][1:], final[key]) for key in lm.DPO_METRICS}


def reply_of(label):
    """(prompt, reply) of a label “The food was really great.” as the replay names it."""
    text = label.strip("“”")
    for prompt, opening in enumerate(TASK.prompts):
        if text.startswith(opening + " "):
            return prompt, TASK.texts.index(text[len(opening) + 1:])
    raise AssertionError(label)


def poor_task(tau: float) -> lm.Task:
    """The poor reference of step 6, built independently: π_ref·exp(−r/τ), normalised."""
    probs = rlhf.optimal_policy(TASK.ref_probs, -TASK.true_rewards, tau)
    logits = lm.logits_for(TASK, probs)
    logps = lm.sequence_logprobs(TASK, logits)
    return dataclasses.replace(TASK, ref_logits=logits, ref_logps=logps, ref_probs=np.exp(logps))


def test_the_step_picker_lists_the_lesson():
    at = open_page(PAGE)
    assert at.button_group(key="dpo_step").options == list(STEPS)
    assert at.button_group(key="dpo_step").value == STEPS[0]
    assert at.title[0].value == "DPO: the loss, the derivation, the training"


@pytest.mark.parametrize("number", range(1, len(STEPS) + 1))
def test_every_step_renders_alone_without_exception(number):
    at = at_step(number)
    assert_step_alone(at, number, CHARTS[number])


def badges(at):
    """The methods named by the page's equation badges, in order."""
    return [m.value.split("[", 1)[1].split(" · ")[0] for m in at.markdown if "-badge[" in m.value]


def test_every_equation_names_its_method():
    # A learner once found a PPO equation labelled as DPO: every formula carries its badge.
    for number in (1, 2, 4):
        at = at_step(number)
        assert len(badges(at)) == len(at.latex) > 0
        assert set(badges(at)) <= {"DPO", "RLHF", "Bradley–Terry"}, badges(at)
    assert badges(at_step(1)) == ["RLHF", "DPO"]


@pytest.mark.parametrize("line", range(5))
def test_every_line_of_the_derivation_names_its_method(line):
    # The lines so far are repeated above the current one, each with its own badge: RLHF's
    # goal and its optimum, DPO's change of variables, Bradley–Terry, the DPO loss.
    methods = ["RLHF", "RLHF", "DPO", "Bradley–Terry", "DPO"]
    labels = ["a. The goal", "b. Its best policy", "c. Solve for the reward",
              "d. Into Bradley–Terry", "e. The DPO loss"]
    at = at_step(3, dpo_deriv=labels[line])
    assert len(at.latex) == line + 1
    assert badges(at) == methods[:line + 1]
    sources = [m.value.split(" · ", 1)[1].rstrip("]") for m in at.markdown if "-badge[" in m.value]
    assert sources == [f"Rafailov et al. 2023, Eq. {n}" for n in range(3, 4 + line)]
    readings = [c.value for c in at.caption]
    assert all(label in readings for label in labels[:line])  # the lines so far, by name


def test_the_loss_numbers_come_from_dpo_loss():
    at = at_step(2)
    assert_loss_note(at, np.log([0.30, 0.10, 0.20, 0.15]), 1.0)
    at = at_step(2, dpo_beta="0.5", dpo_pw="0.4", dpo_rw="0.2", dpo_pl="0.1", dpo_rl="0.2")
    result = dpo.dpo_loss(*np.log([0.4, 0.1, 0.2, 0.2]), 0.5)
    assert result["loss"] == pytest.approx(math.log(1.5))  # the docstring's worked example
    assert_loss_note(at, np.log([0.4, 0.1, 0.2, 0.2]), 0.5)


@pytest.mark.parametrize("variants", [True, False])
def test_the_loss_chart_holds_the_lessons_values_at_every_beta(variants):
    at = at_step(2, dpo_beta="2.35", dpo_pw="0.05", dpo_rw="0.2", dpo_pl="0.4", dpo_rl="0.1",
                 dpo_eps="0.3", dpo_variants=str(variants).lower())
    (spec,) = explorables(at)
    logps = np.log([0.05, 0.4, 0.2, 0.1])
    h = (logps[0] - logps[1]) - (logps[2] - logps[3])
    assert h == pytest.approx(math.log(0.25) - math.log(4))
    np.testing.assert_allclose(slider_values(spec), BETAS)
    assert opened_frame(spec) == 46  # the link's β, 2.35
    kinds = {name: (kind, 0.3 if eps is None else eps) for name, (kind, eps) in
             LOSS_KINDS.items() if variants or name == "DPO"}
    curves = spec["data"][:len(kinds)]
    assert [c["name"] for c in curves] == list(kinds)
    grid = np.array(curves[0]["x"])
    assert grid[0] == pytest.approx(-grid[-1]) and grid[-1] >= abs(h) + 1
    np.testing.assert_allclose(spec["data"][len(kinds) + 1]["x"], [h], rtol=1e-4)  # the pair
    for k, beta in enumerate(BETAS):
        frame = spec["frames"][k]["data"]
        for (kind, eps), trace in zip(kinds.values(), frame, strict=False):
            x = np.array(trace.get("x", grid))  # the hinge: through its corners
            assert x[0] == grid[0] and x[-1] == grid[-1]
            if kind == "hinge":
                x = np.array([grid[0], min(1 / beta, grid[-1]), grid[-1]])
                np.testing.assert_allclose(trace["x"], x, rtol=1e-4)
            losses = dpo.losses_of_h(x, beta, kind, eps)
            shown = np.array([np.nan if v is None else v for v in trace["y"]], dtype=float)
            kept = losses <= 6.0  # losses far above the axis are left out (gaps)
            np.testing.assert_allclose(shown[kept], losses[kept], rtol=1e-4, atol=1e-9)
            assert np.isnan(shown[~kept]).all()
        tangent, point = frame[len(kinds):]
        result = dpo.dpo_loss(*logps, beta)
        assert point["y"][0] == pytest.approx(min(result["loss"], 5.0), rel=1e-4)
        slope = np.diff(tangent["y"])[0] / np.diff(spec["data"][len(kinds)]["x"])[0]
        assert slope == pytest.approx(dpo.loss_gradient(h, beta), rel=1e-3, abs=1e-6)
        assert slope == pytest.approx(-beta * result["gradient_weight"], rel=1e-3, abs=1e-6)
        note = note_at(spec, k)
        assert f"margin m = β·h = {signed(result['margin'])}" in note
        assert f"DPO loss {result['loss']:.3f} · weight σ(−m) {result['gradient_weight']:.3f}" \
            in note
        if variants:
            assert note.endswith(f"IPO {dpo.losses_of_h(h, beta, 'ipo'):.3f} · hinge "
                                 f"{dpo.losses_of_h(h, beta, 'hinge'):.3f} · cDPO "
                                 f"{dpo.losses_of_h(h, beta, 'sigmoid', 0.3):.3f}")
        else:
            assert "IPO" not in note
    legend = [t["name"] for t in spec["data"] if t.get("showlegend", True)]
    assert legend == list(kinds)


def test_a_probability_slider_redraws_the_loss_chart():
    at = at_step(2)
    at.slider(key="dpo_pl").set_value(0.02).run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1
    assert_loss_note(at, np.log([0.30, 0.02, 0.20, 0.15]), 1.0)
    at.run()
    at.slider(key="dpo_beta").set_value(2.0).run()
    assert_loss_note(at, np.log([0.30, 0.02, 0.20, 0.15]), 2.0)


def test_the_units_switch_carries_the_values_over():
    at = at_step(2, dpo_pw="0.5")
    at.button_group(key="dpo_units").set_value("log-probabilities").run()
    assert not at.exception and not at.warning
    assert at.slider(key="dpo_lpw").value == pytest.approx(round(math.log(0.5), 1))
    assert_loss_note(at, [round(math.log(0.5), 1), -2.3, -1.6, -1.9], 1.0)
    at.slider(key="dpo_lrl").set_value(-7.0).run()
    at.run()
    at.button_group(key="dpo_units").set_value("probabilities").run()
    assert at.slider(key="dpo_rl").value == pytest.approx(0.01)  # e^−7 is below the range
    assert at.slider(key="dpo_pw").value == pytest.approx(0.5)  # e^−0.7 = 0.497 → 0.50


def test_log_units_from_a_link():
    at = at_step(2, dpo_units="log-probabilities", dpo_lpw="-0.5", dpo_lpl="-9.0",
                 dpo_beta="0.1")
    assert at.button_group(key="dpo_units").value == "log-probabilities"
    assert_loss_note(at, [-0.5, -9.0, -1.6, -1.9], 0.1)


def test_the_derivation_steps_through_by_clicks_and_checks_the_numbers():
    rewards, ref, beta = [3.0, 0.5, -2.0], [0.2, 0.5, 0.3], 0.5
    at = at_step(3, dpo_d_rewards="3, 0.5, -2", dpo_d_ref="0.2, 0.5, 0.3", dpo_d_beta="0.5")
    check = dpo.derivation_check(ref, rewards, beta)
    table = at.dataframe[0].value  # a. the goal: π* has the best objective
    objectives = [float(v.replace("−", "-")) for v in table["E[r] − β·KL"]]
    assert objectives[2] == pytest.approx(rlhf.optimal_objective(ref, rewards, beta), abs=1e-3)
    assert objectives[2] == max(objectives)
    at.button(key="dpo_deriv_next").click().run()  # b. the best policy
    assert at.button_group(key="dpo_deriv").value == "b. Its best policy"
    assert f"Z = **{check['partition']:.4f}**" in markdown(at)
    assert f"β·log Z = **{rlhf.optimal_objective(ref, rewards, beta):.4f}**" in markdown(at)
    at.button(key="dpo_deriv_next").click().run()  # c. solve for the reward
    table = at.dataframe[0].value
    shift = beta * rlhf.log_partition_function(ref, rewards, beta)
    assert set(table["r − r̂"]) == {f"{shift:.4f}"}
    assert [float(v.replace("−", "-")) for v in table["r̂ + β·log Z"]] == pytest.approx(rewards)
    at.button(key="dpo_deriv_next").click().run()  # d. Bradley–Terry: Z cancels
    table = at.dataframe[0].value
    assert list(table["σ(r_i − r_j)"]) == list(table["σ(r̂_i − r̂_j)"])
    assert table["σ(r_i − r_j)"].iloc[0] == f"{1 / (1 + math.exp(-2.5)):.4f}"
    at.button(key="dpo_deriv_next").click().run()  # e. the DPO loss
    assert at.button_group(key="dpo_deriv").value == "e. The DPO loss"
    at_star = dpo.population_dpo_loss(check["policy"], ref, rewards, beta)
    at_ref = dpo.population_dpo_loss(ref, ref, rewards, beta)
    assert f"**{at_ref:.4f}**" in markdown(at) and f"**{at_star:.4f}**" in markdown(at)
    assert at_star < at_ref
    assert not [b for b in at.button if b.key == "dpo_deriv_next"]  # the last line
    at.button(key="dpo_deriv_back").click().run()
    assert at.button_group(key="dpo_deriv").value == "d. Into Bradley–Terry"


@pytest.mark.parametrize("rewards, ref", [("1, 2", "0.5, 0.4"), ("1, x", "0.5, 0.5"),
                                          ("1, 2, 3", "0.5, 0.5"), ("1, 2", "0, 1")])
def test_bad_derivation_inputs_get_a_friendly_error(rewards, ref):
    at = at_step(3, dpo_d_rewards=rewards, dpo_d_ref=ref)
    assert not at.exception
    assert at.error


def test_the_loss_legend_sits_in_a_band_the_curves_pass_under():
    (spec,) = explorables(at_step(2, dpo_beta="3"))
    layout = spec["layout"]
    top = layout["yaxis"]["range"][1]
    (band,) = [shape for shape in layout["shapes"] if shape["type"] == "rect"]
    assert (band["y0"], band["y1"], band["fillcolor"], band["layer"]) == (5, top, "white",
                                                                          "above")
    assert (layout["legend"]["y"], layout["legend"]["yanchor"]) == (1, "top")
    assert layout["yaxis"]["tickvals"] == [0, 1, 2, 3, 4, 5]  # the axis ends under the band
    assert top - 5 >= 0.8  # two rows of names on a phone


def test_the_pipelines_are_drawn_as_boxes_that_stack_on_a_phone():
    at = at_step(1)
    text = markdown(at)
    for part in ("**Reward model r_φ** · reward model", "**PPO loop** · trained",
                 "**DPO loss** · trained", "**π_ref** · frozen", "**Preference pairs** · data"):
        assert part in text
    assert "**RLHF**: 4 networks" in text and "**DPO**: 2 networks" in text


def test_the_gradient_weights_replay_a_real_dpo_run_step_by_step():
    at = at_step(4, dpo_g_at="35")
    weights, _ = explorables(at)
    assert opened_frame(weights) == 35  # the link's step
    assert weights["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶"
    assert slider_values(weights) == list(range(61))
    pairs = lm.preference_pairs(TASK, 48, 2, 1.0)
    p, w, r = pairs["prompt"], pairs["chosen"], pairs["rejected"]
    agrees = np.asarray(pairs["agrees"], dtype=bool)
    for k in range(61):
        logits = lm.train_dpo(TASK, pairs, beta=1.0, steps=k, lr=0.1)["logits"]
        logps = lm.sequence_logprobs(TASK, logits)
        result = dpo.dpo_loss(logps[p, w], logps[p, r], TASK.ref_logps[p, w],
                              TASK.ref_logps[p, r], 1.0)
        agreeing, against = weights["frames"][k]["data"]
        for trace, mask in ((agreeing, agrees), (against, ~agrees)):
            np.testing.assert_allclose(trace["x"], result["margin"][mask], rtol=1e-4,
                                       atol=1e-6)
            np.testing.assert_allclose(trace["y"], result["gradient_weight"][mask], rtol=1e-4,
                                       atol=1e-9)
        right = int(np.sum(result["chosen_rewards"] > result["rejected_rewards"]))
        assert note_at(weights, k) == (
            f"After {k} steps: {right} of 48 pairs ranked right ({100 * right / 48:.0f} %) · "
            f"loss {result['loss']:.3f} mean weight σ(−m) "
            f"{np.mean(result['gradient_weight']):.3f}")
    assert shown_note(weights) == note_at(weights, 35)


def test_the_gradient_step_names_the_pairs_each_demo_uses():
    # The weights replay trains a batch of 48 pairs; the comparison without the weight trains
    # step 5's first run, on its 128 pairs (both checked against lm.train_dpo below)
    text = markdown(at_step(4))
    assert "a batch of 48 pairs" in text and "noise τ = 1," in text and "β = 1." in text
    assert (f"the {N_PAIRS} pairs of step 5's first run (noise τ = {NOISE:g}), each trained "
            f"for {STEPS_TRAINED} steps with the same settings, β = {BETA:g} and learning rate "
            f"{LR:g}") in text
    assert "the same 128 pairs" not in text


def test_the_weights_legend_sits_where_no_pair_can_be():
    weights, _ = explorables(at_step(4, dpo_g_at="60"))
    legend = weights["layout"]["legend"]
    assert (legend["x"], legend["xanchor"], legend["y"], legend["yanchor"]) == \
        (1, "right", 1, "top")  # the top right: a positive margin has a weight below ½
    assert legend.get("orientation", "v") == "v"  # one entry a row, narrow enough for a phone
    assert [t["name"] for t in weights["data"]] == ["weight σ(−m)", "label agrees",
                                                    "label flipped"]
    for frame in weights["frames"]:
        for trace in frame["data"]:
            assert all(w < 0.5 for m, w in zip(trace["x"], trace["y"], strict=True) if m > 0)


def test_the_unweighted_comparison_replays_both_runs_and_quotes_them():
    at = at_step(4)
    _, replay = explorables(at)
    assert opened_frame(replay) == len(REPLAY_STEPS) - 1  # the trained result
    assert slider_values(replay) == list(REPLAY_STEPS)
    pairs = lm.preference_pairs(TASK, N_PAIRS, 0, NOISE)
    runs = {name: metrics_after(TASK, pairs, lm.train_dpo(
        TASK, pairs, beta=BETA, loss_type=name, steps=STEPS_TRAINED, lr=LR), BETA, name)
        for name in ("sigmoid", "unweighted")}
    for k, s in enumerate(REPLAY_STEPS):
        (markers,) = replay["frames"][k]["data"]
        assert markers["x"] == [s] * 4
        np.testing.assert_allclose(markers["y"], [
            runs["sigmoid"]["logps/chosen"][s], runs["sigmoid"]["logps/rejected"][s],
            runs["unweighted"]["logps/chosen"][s], runs["unweighted"]["logps/rejected"][s]],
            rtol=1e-4)
        assert note_at(replay, k) == (
            f"After {s} steps (mean log π_θ, nats): DPO chosen "
            f"{signed(runs['sigmoid']['logps/chosen'][s], 2)} · rejected "
            f"{signed(runs['sigmoid']['logps/rejected'][s], 2)} no weight chosen "
            f"{signed(runs['unweighted']['logps/chosen'][s], 2)} · rejected "
            f"{signed(runs['unweighted']['logps/rejected'][s], 2)}")
    raw = runs["unweighted"]
    assert f"fallen to {signed(raw['logps/chosen'][-1], 1)} nats" in markdown(at)
    assert f"grown to {raw['rewards/margins'][-1]:.1f}" in markdown(at)


def test_training_numbers_come_from_train_dpo():
    at = at_step(5, dpo_t_pairs="32", dpo_t_beta="0.3", dpo_t_noise="0.5", dpo_t_seed="4",
                 **GUESS)
    pairs = lm.preference_pairs(TASK, 32, 4, 0.5)
    h = lm.train_dpo(TASK, pairs, beta=0.3, steps=STEPS_TRAINED, lr=LR)["history"]
    after = after_each_step(TASK, pairs, 0.3, steps=1)
    assert metric(at, "E[r]") == f"{h['true_reward'][-1]:.3f}"
    assert metric(at, "KL(π_θ ‖ π_ref)") == f"{h['kl'][-1]:.3f} nats"
    final = lm.train_dpo(TASK, pairs, beta=0.3, steps=STEPS_TRAINED, lr=LR)["logits"]
    merged = lm.merge_pairs(pairs)
    _, logged, _ = lm.dpo_objective(TASK, final, merged["prompt"], merged["chosen"],
                                    merged["rejected"], 0.3, weight=merged["weight"])
    assert metric(at, "rewards/accuracies") == \
        f"{100 * logged['rewards/accuracies']:.0f} %"
    story = markdown(at)
    assert f"rewards/rejected at {signed(logged['rewards/rejected'], 2)}" in story or \
        f"to **{signed(logged['rewards/rejected'], 2)}**" in story
    assert f"went from {signed(after['logps/chosen'][0], 2)} nats" in story
    assert after["logps/chosen"][0] == pytest.approx(np.mean(TASK.ref_logps[
        pairs["prompt"], pairs["chosen"]]))


def test_the_training_replays_show_the_run_at_every_checkpoint():
    at = at_step(5, dpo_t_pairs="32", dpo_t_beta="3", dpo_t_lr="0.3", dpo_t_seed="7", **GUESS)
    distribution, logged, exact = explorables(at)
    pairs = lm.preference_pairs(TASK, 32, 7, NOISE)
    run = lm.train_dpo(TASK, pairs, beta=3.0, steps=STEPS_TRAINED, lr=0.3, checkpoints=51)
    probs, h = run["checkpoints"]["probs"], run["history"]
    star = lm.optimum(TASK, 3.0)
    for spec in (distribution, logged, exact):
        assert opened_frame(spec) == len(REPLAY_STEPS) - 1  # the trained model
        assert slider_values(spec) == list(REPLAY_STEPS)
        assert spec["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶"
    # Top: the shown replies, π_ref and π* static, the model at every checkpoint
    ref_trace, star_trace, policy_trace, often_chosen, often_rejected = distribution["data"][:5]
    shown = [reply_of(label) for label in policy_trace["customdata"]]
    assert len(shown) == 30 and len(set(shown)) == 30
    index = tuple(np.array(shown).T)
    np.testing.assert_allclose(ref_trace["y"], TASK.ref_probs[index], rtol=1e-4)
    np.testing.assert_allclose(star_trace["y"], star[index], rtol=1e-4)
    assert list(star[index]) == sorted(star[index], reverse=True)  # in π*'s order
    most_chosen = max(set(zip(pairs["prompt"], pairs["chosen"], strict=True)), key=lambda pc: (
        np.sum((pairs["prompt"] == pc[0]) & (pairs["chosen"] == pc[1]))))
    assert most_chosen in {reply_of(label) for label in often_chosen["customdata"]}
    marked = {name: [reply_of(label) for label in trace["customdata"]]
              for name, trace in (("chosen", often_chosen), ("rejected", often_rejected))}
    assert len(marked["chosen"]) == len(marked["rejected"]) == 2
    metrics = metrics_after(TASK, pairs, run, 3.0)
    for k, s in enumerate(REPLAY_STEPS):
        policy, chosen_marks, rejected_marks, rewards = distribution["frames"][k]["data"]
        np.testing.assert_allclose(policy["y"], probs[k][index], rtol=1e-4, atol=1e-12)
        for marks, side in ((chosen_marks, "chosen"), (rejected_marks, "rejected")):
            np.testing.assert_allclose(marks["y"], [probs[k][reply] for reply in marked[side]],
                                       rtol=1e-4, atol=1e-12)
        assert rewards["x"] == [s] * 3
        np.testing.assert_allclose(rewards["y"], [metrics["rewards/chosen"][s], metrics[
            "rewards/rejected"][s], metrics["rewards/margins"][s]], rtol=1e-4, atol=1e-9)
        note = note_at(distribution, k)
        assert note.startswith(f"After {s} steps: rewards/chosen "
                               f"{signed(metrics['rewards/chosen'][s])} rewards/rejected "
                               f"{signed(metrics['rewards/rejected'][s])}, margins "
                               f"{signed(metrics['rewards/margins'][s])}")
        prompt, reply = np.unravel_index(np.argmax(probs[k]), probs[k].shape)
        assert note.endswith(f"“{TASK.prompts[prompt]} {TASK.texts[reply]}”")
        accuracy, loss = logged["frames"][k]["data"]
        assert accuracy["y"] == pytest.approx([100 * metrics["rewards/accuracies"][s]])
        assert loss["y"] == pytest.approx([metrics["loss"][s]], rel=1e-4)
        reward, kl = exact["frames"][k]["data"]
        assert reward["y"] == pytest.approx([h["true_reward"][s]], rel=1e-4)
        assert kl["y"] == pytest.approx([h["kl"][s]], rel=1e-4, abs=1e-9)
        assert f"KL {h['kl'][s]:.3f} nats" in note_at(exact, k)
    assert f"(π*: {lm.exact_kl(star, TASK.ref_probs):.3f})" in shown_note(exact)


def test_the_train_button_applies_the_form():
    at = at_step(5, **GUESS)
    before = metric(at, "E[r]")
    at.button_group(key="dpo_t_loss").set_value("ipo").run()
    assert metric(at, "E[r]") == before  # not applied before Train
    at.button_group(key="dpo_t_loss").set_value("ipo")
    at.button(key=TRAIN_BUTTON).click().run()
    assert at.button_group(key="dpo_t_loss").value == "ipo"
    pairs = lm.preference_pairs(TASK, N_PAIRS, 0, NOISE)
    h = lm.train_dpo(TASK, pairs, beta=BETA, loss_type="ipo", steps=STEPS_TRAINED,
                     lr=LR)["history"]
    assert metric(at, "E[r]") == f"{h['true_reward'][-1]:.3f}"


@pytest.mark.parametrize(("beta", "answer"), [("1", "Below 0"), ("3", "Above 0")])
def test_the_chosen_reward_question_opens_the_run_and_its_answer_is_the_runs(beta, answer):
    at = at_step(5, dpo_t_beta=beta)
    assert at.button_group(key="dpo_chosen_guess").value is None
    assert not at.get("plotly_chart") and not at.metric  # nothing of the run before a guess
    assert at.info[-1].icon == ":material/lightbulb:"  # the step still ends with its takeaway
    pairs = lm.preference_pairs(TASK, N_PAIRS, 0, NOISE)
    run = lm.train_dpo(TASK, pairs, beta=float(beta), steps=STEPS_TRAINED, lr=LR)
    chosen = metrics_after(TASK, pairs, run, float(beta))["rewards/chosen"][-1]
    assert (chosen < 0) == (answer == "Below 0")
    for picked in ("Above 0", "Below 0"):
        verdict = guess(at, "dpo_chosen_guess", picked)
        assert not at.exception
        assert len(at.get("plotly_chart")) == 3 and len(at.metric) == 4
        assert verdict == (at.success if picked == answer else at.warning)[0].value
        assert verdict.startswith(f"You predicted **{picked}**")
        assert f"rewards/chosen at {signed(chosen, 2)}" in verdict


def test_the_training_deltas_say_what_they_are_against():
    at = at_step(5, **GUESS)
    pairs = lm.preference_pairs(TASK, N_PAIRS, 0, NOISE)
    h = lm.train_dpo(TASK, pairs, beta=BETA, steps=STEPS_TRAINED, lr=LR)["history"]
    star_kl = lm.exact_kl(lm.optimum(TASK, BETA), TASK.ref_probs)
    deltas = {m.label: (m.delta, m.proto.delta_description) for m in at.metric if m.delta}
    assert deltas == {
        "E[r]": (f"{h['true_reward'][-1] - h['true_reward'][0]:+.3f}", "vs π_ref"),
        "KL(π_θ ‖ π_ref)": (f"{h['kl'][-1] - star_kl:+.3f} nats", "vs π*")}
    assert "The model after 150 steps of DPO:" in [c.value for c in at.caption]


def look(trace):
    """How a curve or a set of markers shows in the legend."""
    line, marker = trace.get("line") or {}, trace.get("marker") or {}
    if "lines" in trace["mode"]:
        return "line", line["color"], line.get("dash", "solid")
    return "markers", marker["color"], marker["symbol"]


def test_every_curve_of_the_training_replays_has_its_own_look_and_legend_entry():
    distribution, logged, exact = explorables(at_step(5, **GUESS))
    names = {}
    for spec in (distribution, logged, exact):
        curves = [t for t in spec["data"] if t["name"] != "at the slider's step"]
        assert all(t.get("showlegend", True) for t in curves)
        assert len({look(t) for t in curves}) == len(curves)
        names[spec["layout"]["title"]["text"]] = [t["name"] for t in curves]
        # the lower panel's legend sits above it, outside the plot, clear of its curves
        assert spec["layout"]["legend2"]["y"] == spec["layout"]["yaxis2"]["domain"][1]
        assert spec["layout"]["legend2"]["yanchor"] == "bottom"
    assert names == {
        "DPO training, step by step": ["π_ref", "π*", "π_θ", "often chosen", "often rejected",
                                       "rewards/chosen", "rewards/rejected", "rewards/margins"],
        "TRL's accuracy and loss on the pairs": ["rewards/accuracies", "loss (sigmoid (DPO))"],
        "The exact reward and KL of the model": ["E[r] of π_θ", "KL(π_θ ‖ π_ref)"]}
    for spec in (logged, exact):  # one legend names the curve of each panel
        assert [t.get("legend") for t in spec["data"] if t.get("showlegend")] == \
            ["legend2", "legend2"]
    # the distribution's legend sits in headroom no frame reaches
    top = distribution["layout"]["yaxis"]["range"][1]
    highest = max(max(v for v in frame["data"][0]["y"] if v is not None)
                  for frame in distribution["frames"])
    assert highest <= top / 1.5 + 1e-9


def test_a_step_logs_the_metrics_of_the_model_it_starts_from():
    # The replays show TRL's metrics of the model after s steps: logged by step s + 1.
    pairs = lm.preference_pairs(TASK, 32, 0, NOISE)
    long = lm.train_dpo(TASK, pairs, beta=BETA, steps=30, lr=LR)["history"]
    short = after_each_step(TASK, pairs, BETA, steps=12)
    for key in lm.DPO_METRICS:
        np.testing.assert_allclose(short[key], long[key][1:14], rtol=1e-9, atol=1e-12)
    assert short["rewards/chosen"][0] == 0.0 and short["loss"][0] == pytest.approx(math.log(2))


def test_a_poor_start_ends_worse_and_the_table_says_so():
    at = at_step(6, dpo_s_beta="1", dpo_s_tau="1")
    pairs = lm.preference_pairs(TASK, N_PAIRS, 0, NOISE)
    good = lm.train_dpo(TASK, pairs, beta=1.0, steps=STEPS_TRAINED, lr=LR)["history"]
    poor = lm.train_dpo(poor_task(1.0), pairs, beta=1.0, steps=STEPS_TRAINED, lr=LR)["history"]
    table = at.table[0].value
    row = "E[r] after DPO (150 steps)"
    assert table.loc[row, "good start"] == f"{good['true_reward'][-1]:.3f}".replace("-", "−")
    assert table.loc[row, "poor start"] == f"{poor['true_reward'][-1]:.3f}".replace("-", "−")
    assert poor["true_reward"][-1] < good["true_reward"][-1]
    # τ = β: the poor start's optimum is the usual reference itself
    star = lm.optimum(poor_task(1.0), 1.0)
    assert star == pytest.approx(TASK.ref_probs, abs=1e-9)
    assert "it is even starker" in markdown(at)


def test_both_starts_are_replayed_step_by_step():
    at = at_step(6, dpo_s_beta="3", dpo_s_tau="0.5")
    (replay,) = explorables(at)
    assert opened_frame(replay) == len(REPLAY_STEPS) - 1
    assert slider_values(replay) == list(REPLAY_STEPS)
    pairs = lm.preference_pairs(TASK, N_PAIRS, 0, NOISE)
    best = (TASK.true_rewards >= 3).astype(float)
    runs = {name: lm.train_dpo(task, pairs, beta=3.0, steps=STEPS_TRAINED, lr=LR,
                               checkpoints=51)
            for name, task in (("good", TASK), ("poor", poor_task(0.5)))}
    for k, s in enumerate(REPLAY_STEPS):
        reward, kl = replay["frames"][k]["data"]
        np.testing.assert_allclose(reward["y"], [runs[n]["history"]["true_reward"][s]
                                                 for n in runs], rtol=1e-4)
        np.testing.assert_allclose(kl["y"], [runs[n]["history"]["kl"][s] for n in runs],
                                   rtol=1e-4, atol=1e-9)
        note = note_at(replay, k)
        assert note.startswith(f"After {s} steps: E[r] · KL (nats) · P(r ≥ 3) ")
        for name, run in runs.items():
            share = lm.expected_reward(run["checkpoints"]["probs"][k], best)
            text = f"{100 * share:.1f} %" if share >= 0.001 else f"{100 * share:.2g} %"
            reward = f"{run['history']['true_reward'][s]:.3f}".replace("-", "−")
            assert f"{name} start: {reward} · {run['history']['kl'][s]:.3f} · {text}" in note
    assert runs["poor"]["history"]["true_reward"][-1] < runs["good"]["history"]["true_reward"][-1]


def test_a_shared_link_reproduces_the_view():
    at = at_step(2, dpo_beta="0.5", dpo_pw="0.7", dpo_variants="false", dpo_eps="0.3")
    assert at.button_group(key="dpo_step").value == STEPS[1]
    assert at.slider(key="dpo_beta").value == 0.5
    assert at.slider(key="dpo_pw").value == 0.7
    assert at.toggle(key="dpo_variants").value is False
    assert at.button_group(key="dpo_eps").value == "0.3"
    at = at_step(5, dpo_t_loss="hinge", dpo_t_lr="0.3", dpo_t_pairs="32")
    assert at.button_group(key="dpo_t_loss").value == "hinge"
    assert at.button_group(key="dpo_t_pairs").value == 32
    at = at_step(3, dpo_deriv="c. Solve for the reward")
    assert at.button_group(key="dpo_deriv").value == "c. Solve for the reward"


def test_a_malformed_link_falls_back_with_a_note():
    at = at_step(2, dpo_beta="abc", dpo_pw="5", dpo_units="nats", dpo_t_loss="kto",
                 dpo_d_rewards="1" * 90, dpo_deriv="z. Nowhere")
    assert not at.exception
    notes = link_notes(at)
    for bad in ("dpo_beta=abc", "dpo_pw=5", "dpo_units=nats", "dpo_t_loss=kto",
                "dpo_d_rewards=", "dpo_deriv=z. Nowhere"):
        assert bad in notes
    assert at.slider(key="dpo_beta").value == 1.0
    assert at.slider(key="dpo_pw").value == 0.3


def test_self_check_grades_answers():
    at = at_step(7)
    at.number_input(key="quiz_dpo_loss").set_value(0.405).run()
    at.number_input(key="quiz_dpo_weight").set_value(0.5).run()
    at.radio(key="quiz_dpo_beta").set_value("Closer to the reference model").run()
    at.radio(key="quiz_dpo_networks").set_value("One: the policy").run()
    assert sum(s.value.startswith("Right.") for s in at.success) == 2
    assert sum(w.value.startswith("Not quite.") for w in at.warning) == 2


@pytest.mark.parametrize("number", sorted(STEP_WIDGETS))
def test_fuzz_reaches_every_widget_of_every_step(number):
    at = at_step(number)
    steps = 30 if number == 2 else 2 * len(STEP_WIDGETS[number]) + 4
    driven = fuzz_page(at, steps=steps, seed=number, skip=NAVIGATION)
    assert STEP_WIDGETS[number] <= driven, STEP_WIDGETS[number] - driven
    if number == 2:
        assert all(driven & set(keys) for keys in PROBABILITY_KEYS), driven
    at.run()
    assert at.button_group(key="dpo_step").value == STEPS[number - 1]


def test_the_training_step_points_a_class_to_class_mode():
    at = at_step(5)
    (link,) = [p for p in at.get("page_link") if p.proto.label == "Open class mode"]
    assert link.proto.page == course.CLASS_MODE.slug
    assert any("**With a class?**" in m.value and "DPO trains on their labels" in m.value
               for m in at.markdown)
