"""The DPO page through app.py: every step renders alone, its numbers come from lessons/dpo.py,
lessons/rlhf.py and lessons/toy_lm.py, the probability sliders redraw the loss chart, the units
switch carries the values over, the derivation steps through by clicks with the step in the link,
links restore a view, bad links and bad text get friendly notes, the self-check grades, and the
widget fuzzer drives every widget."""

import dataclasses
import math

import numpy as np
import pytest
from conftest import open_page
from fuzz import fuzz_page
from pagetest import assert_step_alone, captions, link_notes, markdown, metric, step_opener

from lessons import dpo, rlhf
from lessons import toy_lm as lm
from ui.dpo_figures import signed

PAGE = "app_pages/dpo.py"
TASK = lm.make_task()
STEPS = ("1. RLHF vs DPO", "2. The loss, with sliders", "3. Where does the reward go?",
         "4. What the gradient does", "5. Train the tiny LM with DPO",
         "6. Does the starting model matter?", "7. Check yourself")
CHARTS = {1: 1, 2: 1, 3: 0, 4: 2, 5: 6, 6: 2, 7: 0}
TRAIN_BUTTON = "FormSubmitter:dpo_train_form-Train"
STEP_WIDGETS = {
    2: {"dpo_units", "dpo_variants", "dpo_eps", "dpo_beta"},
    3: {"dpo_d_rewards", "dpo_d_ref", "dpo_d_beta", "dpo_deriv", "dpo_deriv_next"},
    4: {"dpo_g_at"},
    5: {"dpo_t_beta", "dpo_t_lr", "dpo_t_pairs", "dpo_t_noise", "dpo_t_loss", "dpo_t_eps",
        "dpo_t_seed", TRAIN_BUTTON},
    6: {"dpo_s_beta", "dpo_s_tau"},
}
# The four probabilities: a slider in probability or in log-probability units
PROBABILITY_KEYS = (("dpo_pw", "dpo_lpw"), ("dpo_rw", "dpo_lrw"), ("dpo_pl", "dpo_lpl"),
                    ("dpo_rl", "dpo_lrl"))
NAVIGATION = {"dpo_step", "dpo_step_back", "dpo_step_next"}
# The training defaults of step 5 (and the fixed settings of steps 4 and 6)
BETA, LR, N_PAIRS, NOISE, STEPS_TRAINED = 1.0, 0.1, 128, 1.0, 150


at_step = step_opener(PAGE, "dpo_step", STEPS)


def assert_loss_caption(at, logps, beta):
    """The loss chart's caption shows dpo_loss's numbers for these log-probs and β."""
    result = dpo.dpo_loss(*logps, beta)
    text = captions(at)
    assert f"r̂_w = {signed(result['chosen_rewards'])}" in text
    assert f"r̂_l = {signed(result['rejected_rewards'])}" in text
    assert f"m = {signed(result['margin'])}" in text
    assert f"the loss −log σ(m) = {result['loss']:.3f}" in text
    assert f"σ(−m) = {result['gradient_weight']:.3f}" in text


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


def test_every_equation_names_its_method():
    # A learner once found a PPO equation labelled as DPO: every formula carries its badge.
    for number in (1, 2, 4):
        at = at_step(number)
        badges = [m.value for m in at.markdown if "-badge[" in m.value]
        assert len(badges) == len(at.latex) > 0
        methods = {b.split("[", 1)[1].split(" · ")[0] for b in badges}
        assert methods <= {"DPO", "RLHF", "Bradley–Terry"}, methods


def test_the_loss_numbers_come_from_dpo_loss():
    at = at_step(2)
    assert_loss_caption(at, np.log([0.30, 0.10, 0.20, 0.15]), 1.0)
    at = at_step(2, dpo_beta="0.5", dpo_pw="0.4", dpo_rw="0.2", dpo_pl="0.1", dpo_rl="0.2")
    result = dpo.dpo_loss(*np.log([0.4, 0.1, 0.2, 0.2]), 0.5)
    assert result["loss"] == pytest.approx(math.log(1.5))  # the docstring's worked example
    assert_loss_caption(at, np.log([0.4, 0.1, 0.2, 0.2]), 0.5)


def test_a_probability_slider_redraws_the_loss_chart():
    at = at_step(2)
    at.slider(key="dpo_pl").set_value(0.02).run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1
    assert_loss_caption(at, np.log([0.30, 0.02, 0.20, 0.15]), 1.0)
    at.run()
    at.slider(key="dpo_beta").set_value(2.0).run()
    assert_loss_caption(at, np.log([0.30, 0.02, 0.20, 0.15]), 2.0)


def test_the_units_switch_carries_the_values_over():
    at = at_step(2, dpo_pw="0.5")
    at.button_group(key="dpo_units").set_value("log-probabilities").run()
    assert not at.exception and not at.warning
    assert at.slider(key="dpo_lpw").value == pytest.approx(round(math.log(0.5), 1))
    assert_loss_caption(at, [round(math.log(0.5), 1), -2.3, -1.6, -1.9], 1.0)
    at.slider(key="dpo_lrl").set_value(-7.0).run()
    at.run()
    at.button_group(key="dpo_units").set_value("probabilities").run()
    assert at.slider(key="dpo_rl").value == pytest.approx(0.01)  # e^−7 is below the range
    assert at.slider(key="dpo_pw").value == pytest.approx(0.5)  # e^−0.7 = 0.497 → 0.50


def test_log_units_from_a_link():
    at = at_step(2, dpo_units="log-probabilities", dpo_lpw="-0.5", dpo_lpl="-9.0",
                 dpo_beta="0.1")
    assert at.button_group(key="dpo_units").value == "log-probabilities"
    assert_loss_caption(at, [-0.5, -9.0, -1.6, -1.9], 0.1)


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


def test_the_gradient_weights_come_from_a_real_dpo_run():
    at = at_step(4, dpo_g_at="30")
    pairs = lm.preference_pairs(TASK, 48, 2, 1.0)
    logits = lm.train_dpo(TASK, pairs, beta=1.0, steps=30, lr=0.1)["logits"]
    logps = lm.sequence_logprobs(TASK, logits)
    p, w, r = pairs["prompt"], pairs["chosen"], pairs["rejected"]
    result = dpo.dpo_loss(logps[p, w], logps[p, r], TASK.ref_logps[p, w], TASK.ref_logps[p, r],
                          1.0)
    assert f"After 30 steps the loss of the batch is {result['loss']:.3f}" in captions(at)
    accuracy = dpo.logged_metrics(result, logps[p, w], logps[p, r])["rewards/accuracies"]
    spec = at.get("plotly_chart")[0].proto.spec
    assert f"After 30 steps: {100 * accuracy:.0f} % of the pairs ranked right" in spec


def test_the_unweighted_comparison_quotes_the_runs():
    at = at_step(4)
    pairs = lm.preference_pairs(TASK, N_PAIRS, 0, NOISE)
    raw = lm.train_dpo(TASK, pairs, beta=BETA, loss_type="unweighted", steps=STEPS_TRAINED,
                       lr=LR)["history"]
    assert f"fallen to {signed(raw['logps/chosen'][-1], 1)} nats" in markdown(at)
    assert f"grown to {raw['rewards/margins'][-1]:.1f}" in markdown(at)


def test_training_numbers_come_from_train_dpo():
    at = at_step(5, dpo_t_pairs="32", dpo_t_beta="0.3", dpo_t_noise="0.5", dpo_t_seed="4")
    pairs = lm.preference_pairs(TASK, 32, 4, 0.5)
    h = lm.train_dpo(TASK, pairs, beta=0.3, steps=STEPS_TRAINED, lr=LR)["history"]
    assert metric(at, "Expected true reward E[r]") == f"{h['true_reward'][-1]:.3f}"
    assert metric(at, "KL(π_θ ‖ π_ref)") == f"{h['kl'][-1]:.3f} nats"
    assert metric(at, "rewards/accuracies") == f"{100 * h['rewards/accuracies'][-1]:.0f} %"
    story = markdown(at)
    assert f"rewards/rejected at {signed(h['rewards/rejected'][-1], 2)}" in story or \
        f"to **{signed(h['rewards/rejected'][-1], 2)}**" in story
    assert f"went from {signed(h['logps/chosen'][1], 2)} nats" in story


def test_the_train_button_applies_the_form():
    at = at_step(5)
    before = metric(at, "Expected true reward E[r]")
    at.button_group(key="dpo_t_loss").set_value("ipo").run()
    assert metric(at, "Expected true reward E[r]") == before  # not applied before Train
    at.button_group(key="dpo_t_loss").set_value("ipo")
    at.button(key=TRAIN_BUTTON).click().run()
    assert at.button_group(key="dpo_t_loss").value == "ipo"
    pairs = lm.preference_pairs(TASK, N_PAIRS, 0, NOISE)
    h = lm.train_dpo(TASK, pairs, beta=BETA, loss_type="ipo", steps=STEPS_TRAINED,
                     lr=LR)["history"]
    assert metric(at, "Expected true reward E[r]") == f"{h['true_reward'][-1]:.3f}"


def test_a_short_run_is_the_start_of_a_long_one():
    # The page reads the model during training from shorter runs with the same settings.
    pairs = lm.preference_pairs(TASK, 32, 0, NOISE)
    long = lm.train_dpo(TASK, pairs, beta=BETA, steps=30, lr=LR)["history"]
    short = lm.train_dpo(TASK, pairs, beta=BETA, steps=12, lr=LR)
    probs = lm.distribution(TASK, short["logits"])
    assert lm.expected_reward(probs, TASK.true_rewards) == pytest.approx(long["true_reward"][12])
    assert lm.exact_kl(probs, TASK.ref_probs) == pytest.approx(long["kl"][12])


def test_a_poor_start_ends_worse_and_the_table_says_so():
    at = at_step(6, dpo_s_beta="1", dpo_s_tau="1")
    pairs = lm.preference_pairs(TASK, N_PAIRS, 0, NOISE)
    good = lm.train_dpo(TASK, pairs, beta=1.0, steps=STEPS_TRAINED, lr=LR)["history"]
    poor = lm.train_dpo(poor_task(1.0), pairs, beta=1.0, steps=STEPS_TRAINED, lr=LR)["history"]
    table = at.dataframe[0].value
    row = list(table[""]).index("E[r] after DPO")
    assert table["good start"].iloc[row] == f"{good['true_reward'][-1]:.3f}".replace("-", "−")
    assert table["poor start"].iloc[row] == f"{poor['true_reward'][-1]:.3f}".replace("-", "−")
    assert poor["true_reward"][-1] < good["true_reward"][-1]
    # τ = β: the poor start's optimum is the usual reference itself
    star = lm.optimum(poor_task(1.0), 1.0)
    assert star == pytest.approx(TASK.ref_probs, abs=1e-9)
    assert "it is even starker" in markdown(at)


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
