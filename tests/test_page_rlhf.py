"""The RLHF page through app.py: every step renders alone, its numbers come from lessons/rlhf.py,
lessons/toy_lm.py and lessons/bradley_terry.py, links restore a view, bad links get the link
note, the over-optimisation runs add up in the table, the self-check grades, and the widget
fuzzer drives every widget of every step."""

import json

import numpy as np
import pytest
from conftest import open_page
from fuzz import fuzz_page
from pagetest import assert_step_alone, captions, link_notes, markdown, metric, step_opener

from lessons import bradley_terry as bt
from lessons import rlhf
from lessons import toy_lm as lm
from ui.figures import fmt

PAGE = "app_pages/rlhf.py"
TASK = lm.make_task()
STEPS = ("1. The RLHF pipeline", "2. The reward model", "3. The KL-penalised objective",
         "4. PPO fine-tuning", "5. Over-optimisation", "6. Check yourself")
CHARTS = {1: 1, 2: 2, 3: 1, 4: 3, 5: 1, 6: 0}
RM_WIDGETS = {"rlhf_rm_pairs", "rlhf_rm_noise", "rlhf_rm_seed"}
STEP_WIDGETS = {
    1: {"rlhf_stage"},
    2: RM_WIDGETS,
    3: {"rlhf_beta", "rlhf_view"},
    4: RM_WIDGETS | {"rlhf_ppo_beta", "rlhf_kl_est", "rlhf_ppo_seed", "rlhf_token_prompt",
                     "rlhf_token_seed", "rlhf_sample_seed"},
    5: {"rlhf_oo_pairs", "rlhf_oo_noise", "rlhf_oo_beta", "rlhf_oo_seed", "rlhf_oo_all"},
}
NAVIGATION = {"rlhf_step", "rlhf_step_back", "rlhf_step_next"}
# The page's handful of replies in step 3 (the test restates them, from the lessons' taste)
HANDFUL_REF = np.array([0.30, 0.25, 0.15, 0.12, 0.10, 0.08])
HANDFUL_REWARD = np.array([lm.taste(words) for words in (
    ["okay"], ["good"], ["bad"], ["great"], ["awful"], ["really", "great"])])
PPO_ITERATIONS = 40


at_step = step_opener(PAGE, "rlhf_step", STEPS)


def reward_model(n_pairs, noise, seed):
    return lm.train_reward_model(TASK, lm.preference_pairs(TASK, n_pairs, seed, noise))


def test_the_step_picker_lists_the_lesson():
    at = open_page(PAGE)
    assert at.button_group(key="rlhf_step").options == list(STEPS)
    assert at.button_group(key="rlhf_step").value == STEPS[0]
    assert at.title[0].value == "RLHF: reward model, KL penalty, PPO"


@pytest.mark.parametrize("number", range(1, len(STEPS) + 1))
def test_every_step_renders_alone_without_exception(number):
    at = at_step(number)
    assert_step_alone(at, number, CHARTS[number])


def test_a_stage_of_the_pipeline_lists_the_models_it_holds():
    at = at_step(1)
    assert "In memory: policy (trains), reference (frozen), reward (frozen), value (trains)." \
        in markdown(at)
    at.button_group(key="rlhf_stage").set_value("Reward model").run()
    assert "**4. Reward model.**" in markdown(at)
    assert "In memory: reward (trains)." in markdown(at)


def test_the_reward_model_numbers_come_from_the_lessons():
    at = at_step(2, rlhf_rm_pairs="100", rlhf_rm_noise="2", rlhf_rm_seed="3")
    fit = reward_model(100, 2.0, 3)
    assert metric(at, "Accuracy on new pairs") == \
        f"{100 * lm.ranking_accuracy(TASK, fit['scores']):.1f} %"
    assert metric(at, "The annotator's own labels") == \
        f"{100 * lm.label_accuracy(TASK, 2.0):.1f} %"
    # The held-out loss, recomputed straight from its definition on fresh pairs
    held = lm.preference_pairs(TASK, 2000, 3 + 10_000, 2.0)
    margin = fit["scores"][held["prompt"], held["chosen"]] - \
        fit["scores"][held["prompt"], held["rejected"]]
    assert metric(at, "Held-out loss") == f"{np.mean(np.log1p(np.exp(-margin))):.3f} nats"
    weights = dict(zip(fit["feature_names"], fit["weights"], strict=True))
    assert f"*great* {weights['great']:+.2f}".replace("-", "−") in markdown(at)


def test_more_clean_pairs_make_a_better_reward_model():
    few = at_step(2, rlhf_rm_pairs="10", rlhf_rm_noise="3")
    many = at_step(2, rlhf_rm_pairs="3000", rlhf_rm_noise="0")
    accuracy = [float(metric(at, "Accuracy on new pairs").rstrip(" %")) for at in (few,
                                                                                     many)]
    assert accuracy[0] < accuracy[1]


@pytest.mark.parametrize("beta", [0.05, 0.5, 2.5])
def test_the_optimum_and_its_partition_function_come_from_the_lessons(beta):
    at = at_step(3, rlhf_beta=str(beta))
    assert at.slider(key="rlhf_beta").value == beta
    star = rlhf.optimal_policy(HANDFUL_REF, HANDFUL_REWARD, beta)
    z = rlhf.partition_function(HANDFUL_REF, HANDFUL_REWARD, beta)
    assert z == pytest.approx(np.sum(HANDFUL_REF * np.exp(HANDFUL_REWARD / beta)))
    reward = float(np.sum(star * HANDFUL_REWARD))
    kl = float(np.sum(star * np.log(star / HANDFUL_REF)))
    assert f"At β = {beta:g}: Z = Σ π_ref·e^(r/β) = {fmt(z)}, E[r] = {reward:.3f} points, " \
        f"KL(π*‖π_ref) = {kl:.3f} nats, best objective β·log Z = {fmt(beta * np.log(z))}." \
        in captions(at)
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    assert bars[0]["y"] == pytest.approx(HANDFUL_REF)
    assert bars[1]["y"] == pytest.approx(star)
    assert bars[1]["name"] == f"π* at β = {beta:g}"


def test_the_sweep_view_traces_the_optimum_for_every_beta():
    at = at_step(3, rlhf_view="E[r] and KL for every β", rlhf_beta="0.25")
    assert at.slider(key="rlhf_beta").value == 0.25
    curve, point = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    betas = np.asarray(curve["customdata"])
    assert betas[0] == pytest.approx(0.01) and betas[-1] == pytest.approx(100)
    # π* written out by hand for every β of the curve
    weights = HANDFUL_REF * np.exp(HANDFUL_REWARD / betas[:, None])
    star = weights / weights.sum(axis=1, keepdims=True)
    assert curve["x"] == pytest.approx(np.sum(star * np.log(star / HANDFUL_REF), axis=1))
    assert curve["y"] == pytest.approx(star @ HANDFUL_REWARD)
    star_now = rlhf.optimal_policy(HANDFUL_REF, HANDFUL_REWARD, 0.25)
    assert point["y"] == pytest.approx([star_now @ HANDFUL_REWARD])
    at.slider(key="rlhf_beta").set_value(3.0).run()
    assert "At β = 3: Z = " in captions(at)


def test_the_two_ends_of_beta_are_the_reference_and_the_best_reply():
    at = at_step(3)
    text = markdown(at)
    assert f"E[r] = {np.sum(HANDFUL_REF * HANDFUL_REWARD):.3f} and KL = 0" in text
    assert f"E[r] = {HANDFUL_REWARD.max():.3f} and KL = {-np.log(HANDFUL_REF[-1]):.3f} nats" \
        in text


def test_ppo_numbers_come_from_the_lessons():
    at = at_step(4, rlhf_rm_pairs="100", rlhf_ppo_beta="1", rlhf_kl_est="k3",
                 rlhf_ppo_seed="2", rlhf_token_seed="5", rlhf_sample_seed="4")
    assert not at.exception
    scores = reward_model(100, 1.0, 0)["scores"]
    run = lm.train_ppo_rlhf(TASK, scores, beta=1.0, iterations=PPO_ITERATIONS,
                            kl_estimator="k3", seed=2)
    history = run["history"]
    assert metric(at, "True reward E[r]") == f"{history['true_reward'][-1]:.3f}"
    assert metric(at, "Reward model's score") == f"{history['score'][-1]:.3f}"
    assert metric(at, "KL(π_θ ‖ π_ref)") == f"{history['kl'][-1]:.3f} nats"
    assert "**100 pairs**" in captions(at)
    # The per-token view: a KL penalty at every token, the score at the last one
    _, reply = lm.sample(TASK, run["logits"], 1, 5, 1.0, 0)
    tokens = at.dataframe[0].value
    logp, mask = lm.token_logprobs(TASK, run["logits"], [0], reply)
    ref_logp, _ = lm.token_logprobs(TASK, TASK.ref_logits, [0], reply)
    n = int(mask.sum())
    assert len(tokens) == n
    k3 = rlhf.kl_estimate(logp[0][:n], ref_logp[0][:n], "k3")
    expected = -1.0 * np.asarray(k3)
    expected[-1] += scores[0, reply[0]]
    assert list(tokens["reward R_t"]) == [f"{v:+.3f}" for v in expected]
    assert list(tokens["k3 (KL estimate)"]) == [f"{v:.3f}" for v in np.atleast_1d(k3)]
    # Before and after: the same seed, the reference and the fine-tuned policy
    samples = at.dataframe[1].value
    _, before = lm.sample(TASK, TASK.ref_logits, 8, 4)
    _, after = lm.sample(TASK, run["logits"], 8, 4)
    assert list(samples["π_ref wrote"]) == [TASK.texts[s] for s in before]
    assert list(samples["PPO policy wrote"]) == [TASK.texts[s] for s in after]


def test_the_k1_penalty_of_a_reply_is_its_log_ratio():
    at = at_step(4, rlhf_token_prompt="The service was")
    tokens = at.dataframe[0].value
    logp = np.array([float(v) for v in tokens["log π_θ"]])
    ref = np.array([float(v) for v in tokens["log π_ref"]])
    k1 = np.array([float(v) for v in tokens["k1 (KL estimate)"]])
    assert k1 == pytest.approx(logp - ref, abs=2e-3)


def test_over_optimisation_runs_add_up_in_the_table():
    at = at_step(5)
    scores = reward_model(30, 1.0, 1)["scores"]  # the page's default: 30 pairs, τ = 1, seed 1
    run = lm.train_ppo_rlhf(TASK, scores, beta=0.1, iterations=PPO_ITERATIONS, seed=1)
    history = run["history"]
    assert metric(at, "Best true reward in the run") == f"{np.max(history['true_reward']):.3f}"
    assert metric(at, "True reward at the end") == f"{history['true_reward'][-1]:.3f}"
    assert metric(at, "Proxy score at the end") == f"{history['score'][-1]:.3f}"
    # The default is the over-optimised case: the proxy ends high, the true reward below its best
    assert history["score"][-1] > history["score"][0]
    assert history["true_reward"][-1] < np.max(history["true_reward"]) - 0.5
    probs = lm.distribution(TASK, run["logits"])
    top = int(np.argmax(probs[0]))
    assert f"the policy writes *{TASK.texts[top]}* with probability {probs[0, top]:.2f}" \
        in markdown(at)
    assert TASK.true_rewards[0, top] < scores[0, top]  # a reply the reward model overrates
    assert len(at.dataframe[0].value) == 1
    at.button(key="rlhf_oo_all").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["β"]) == ["0.03", "0.1 ← shown", "0.3", "1", "3", "10"]
    finals = {}
    for beta in (0.03, 0.1, 0.3, 1.0, 3.0, 10.0):
        finals[beta] = lm.train_ppo_rlhf(TASK, scores, beta=beta, iterations=PPO_ITERATIONS,
                                         seed=1)["history"]["true_reward"][-1]
    assert list(table["true reward at the end"]) == [f"{v:.3f}" for v in finals.values()]
    best = max(finals, key=finals.get)
    assert f"So far β = {best:g} ends best." in captions(at)
    assert best > 0.1  # with this weak reward model, a larger β than the default does better


def test_a_shared_link_reproduces_the_view():
    at = at_step(5, rlhf_oo_pairs="100", rlhf_oo_noise="0.5", rlhf_oo_beta="1",
                 rlhf_oo_seed="7")
    assert at.button_group(key="rlhf_step").value == STEPS[4]
    assert at.button_group(key="rlhf_oo_pairs").value == "100"
    assert at.button_group(key="rlhf_oo_noise").value == "0.5"
    assert at.button_group(key="rlhf_oo_beta").value == "1"
    assert at.number_input(key="rlhf_oo_seed").value == 7
    fit = reward_model(100, 0.5, 7)
    assert metric(at, "Reward model accuracy") == f"{100 * fit['accuracy']:.1f} %"


def test_the_reward_model_settings_carry_from_step_two_to_step_four():
    at = at_step(2, rlhf_rm_pairs="1000")
    at.button(key="rlhf_step_next").click().run()
    at.button(key="rlhf_step_next").click().run()
    assert at.button_group(key="rlhf_step").value == STEPS[3]
    assert at.button_group(key="rlhf_rm_pairs").value == "1000"
    assert "**1000 pairs**" in captions(at)


def test_a_malformed_link_falls_back_with_a_note():
    at = at_step(3, rlhf_beta="abc", rlhf_rm_pairs="7", rlhf_ppo_seed="-3", rlhf_oo_beta="0")
    assert not at.exception
    notes = link_notes(at)
    for bad in ("rlhf_beta=abc", "rlhf_rm_pairs=7", "rlhf_ppo_seed=-3", "rlhf_oo_beta=0"):
        assert bad in notes
    assert at.slider(key="rlhf_beta").value == 1.0


def test_self_check_grades_answers():
    at = at_step(6)
    at.radio(key="quiz_rlhf_memory").set_value(
        "The policy, the reference, the reward model and the value model").run()
    at.number_input(key="quiz_rlhf_pistar").set_value(
        float(np.exp(2) / (np.exp(2) + 1))).run()
    at.number_input(key="quiz_rlhf_partition").set_value(float((np.exp(2) + 1) / 2)).run()
    at.number_input(key="quiz_rlhf_token").set_value(float(-0.1 * np.log(2))).run()
    at.radio(key="quiz_rlhf_limit").set_value("All probability on the best reply").run()
    assert sum(s.value.startswith("Right.") for s in at.success) == 4
    assert sum(w.value.startswith("Not quite.") for w in at.warning) == 1
    assert not at.exception


def test_the_reward_model_loss_on_the_page_is_bradley_terry():
    # The held-out loss above uses log1p(exp(−margin)); the page calls bt.reward_model_loss.
    margin = np.array([-2.0, 0.0, 3.0])
    assert bt.reward_model_loss(margin, np.zeros(3)) == \
        pytest.approx(np.mean(np.log1p(np.exp(-margin))))


@pytest.mark.parametrize("number", sorted(STEP_WIDGETS))
def test_fuzz_reaches_every_widget_of_every_step(number):
    at = at_step(number)
    driven = fuzz_page(at, steps=len(STEP_WIDGETS[number]) + 3, seed=number, skip=NAVIGATION)
    assert STEP_WIDGETS[number] <= driven, STEP_WIDGETS[number] - driven
    assert at.button_group(key="rlhf_step").value == STEPS[number - 1]
