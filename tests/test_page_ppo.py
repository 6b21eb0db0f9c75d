"""The PPO page through app.py: every explorable and replay shows lessons/ppo.py's values at
every frame and opens where its control says, the tables match the runs, shared links restore
the view, bad links and bad text get notes, and the fuzzer."""

import numpy as np
import plotly.graph_objects as go
import pytest
from conftest import open_page
from fuzz import fuzz_page
from pagetest import (
    captions,
    chart_specs,
    explorables,
    guess,
    link_notes,
    markdown,
    metric,
    opened_frame,
    shown_note,
)

from lessons import ppo

PAGE = "app_pages/ppo.py"
STEPS = ("1. The surrogate objective", "2. Clipping", "3. The min/max question",
         "4. Advantages with GAE", "5. PPO in action", "6. Check yourself")
WIDGETS = {  # the widgets of each step
    1: {"ppo_r", "ppo_a", "ppo_steps", "ppo_bseed"},
    2: {"ppo_eps", "ppo_cr", "ppo_ca"},
    3: {"ppo_minmax_guess", "ppo_qr", "ppo_qa", "ppo_qeps", "ppo_knock", "ppo_keps",
        "ppo_kseed"},
    4: {"ppo_rew", "ppo_val", "ppo_gamma", "ppo_lam"},
    5: {"ppo_clip", "ppo_epochs", "ppo_lr", "ppo_seed", "ppo_vs", "ppo_upd"},
    6: {f"quiz_ppo_{q}" for q in ("value_up", "value_down", "zero_gradient", "learner", "td",
                                  "code_form", "kl")},
}
LESSON_NAV = {"ppo_step", "ppo_step_back", "ppo_step_next"}
RATIOS = np.round(np.linspace(0.0, 3.0, 61), 2)  # the ratio r of every explorable over r
RTOL = 1e-4  # frames keep five significant digits
GUESS = {"ppo_minmax_guess": "0.7"}  # step 3's prediction, answered: its chart opens


def at_step(number: int, **params):
    """The page opened on step ``number`` (counting from 1), with more link parameters; on
    step 3 with its prediction answered unless the link says otherwise (pass
    ppo_minmax_guess=None for the unanswered question)."""
    params = {**(GUESS if number == 3 else {}), **params}
    at = open_page(PAGE, {"ppo_step": STEPS[number - 1],
                          **{k: v for k, v in params.items() if v is not None}})
    assert not at.exception
    return at


def titled(at, start: str) -> dict:
    """The explorable whose title starts with ``start``."""
    found = [s for s in explorables(at) if s["layout"]["title"]["text"].startswith(start)]
    assert len(found) == 1, [s["layout"]["title"]["text"] for s in explorables(at)]
    return found[0]


def note(frame: dict) -> str:
    """The line of numbers a frame shows above its chart, its line breaks as spaces."""
    (text,) = [a["text"] for a in frame["layout"]["annotations"]
               if a.get("name") == "explorable-note"]
    return text.replace("<br>", " ")


def signed(value: float) -> str:
    return f"{value:+.2f}" if value else "0"


def log2_shown(ratio, limit: float) -> np.ndarray:
    """Where a ratio sits on the charts' log2 axes (beyond 2^±limit at the edge)."""
    return np.log2(np.clip(ratio, 2.0 ** -limit, 2.0 ** limit))


def close(actual, expected) -> None:
    np.testing.assert_allclose(np.array(actual, dtype=float), expected, rtol=RTOL, atol=1e-9)


def numbers(column) -> list[float]:
    """A table column of numbers written out as text (the page formats them)."""
    return [float(value) for value in column]


@pytest.mark.parametrize("number", range(1, len(STEPS) + 1))
def test_every_step_renders_alone_without_exception(number):
    at = at_step(number)
    assert not at.error
    headers = [h.value for h in at.header] + [h.value for h in at.subheader]
    numbered = [h for h in headers if h[0].isdigit()]
    assert len(numbered) == 1 and numbered[0].startswith(f"{number}.")


@pytest.mark.parametrize("number", range(1, len(STEPS)))
def test_every_chart_is_a_figure_plotly_accepts(number):
    specs = chart_specs(at_step(number))
    assert specs
    for spec in specs:
        go.Figure(spec)  # plotly's own validation, frames included: the page skips it


# 1. The surrogate


def test_the_surrogate_point_follows_r_at_every_frame():
    at = at_step(1, ppo_r="0.75", ppo_a="-1.5")
    spec = titled(at, "The surrogate r·A")
    assert opened_frame(spec) == 15  # r = 0.75, the link's
    assert len(spec["frames"]) == RATIOS.size
    for k, r in enumerate(RATIOS):
        (point,) = spec["frames"][k]["data"]
        assert point["x"] == [r]
        close(point["y"], [ppo.surrogate_objective(r, -1.5)])
        assert note(spec["frames"][k]) == \
            f"r = {r:.2f}, A = -1.5: r·A = {ppo.surrogate_objective(r, -1.5):.3f}"
    assert shown_note(spec) == "r = 0.75, A = -1.5: r·A = -1.125"


def test_one_batch_replay_shows_the_run_step_by_step():
    at = at_step(1, ppo_steps="12", ppo_bseed="3")
    spec = titled(at, "One batch, many gradient steps")
    out = ppo.one_batch_ascent(("unclipped",), steps=60, lr=1.0, seed=3, epsilon=0.2)
    promise, gain, ratios = out["surrogate"][0], out["true_gain"][0], out["ratios"][0]
    assert opened_frame(spec) == 12  # the control's step
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶"
    assert len(spec["frames"]) == 61
    edges = np.arange(-6, 6.25, 0.25)
    for k in range(61):
        promised, real, markers, histogram = spec["frames"][k]["data"]
        assert promised["x"] == list(range(k + 1))
        close(promised["y"], promise[:k + 1])
        close(real["y"], gain[:k + 1])
        close(markers["y"], [promise[k], gain[k]])
        counts = np.histogram(log2_shown(ratios[k], 6), edges)[0]
        assert histogram["y"][:-1] == list(counts) and sum(histogram["y"][:-1]) == 64
        outside = ppo.clip_fraction(ratios[k], 0.2)
        assert f"promise {promise[k]:+.3f}, real gain {gain[k]:+.3f}" in note(spec["frames"][k])
        assert f"{outside:.0%} of the ratios outside [0.8, 1.2]" in note(spec["frames"][k])
    assert shown_note(spec).startswith(f"Step 12: promise {promise[12]:+.3f}")
    assert not at.metric  # the numbers live in the chart's note
    outside = ppo.clip_fraction(ratios[-1], 0.2)
    assert f"By step 60 the batch promises {promise[-1]:+.3f} while the real gain is " \
        f"{gain[-1]:+.3f}, and {outside:.0%} of the ratios sit outside [0.8, 1.2]" \
        in captions(at)


def test_one_batch_caption_says_when_the_real_gain_falls_below_the_start():
    gain = ppo.one_batch_ascent(("unclipped",), steps=60, lr=1.0, seed=6, epsilon=0.2)[
        "true_gain"][0, -1]
    assert gain < 0  # seed 6, the default: the policy ends worse than it started
    assert f"the real gain is {gain:+.3f}, worse than where it started" in \
        captions(at_step(1, ppo_bseed="6"))
    gain = ppo.one_batch_ascent(("unclipped",), steps=60, lr=1.0, seed=0, epsilon=0.2)[
        "true_gain"][0, -1]
    assert gain > 0 and "worse than where it started" not in captions(at_step(1, ppo_bseed="0"))


# 2. Clipping


def test_the_clipped_objective_at_every_ratio_names_all_six_cases():
    epsilon, size = 0.25, 1.5
    at = at_step(2, ppo_eps=str(epsilon), ppo_cr="0.6", ppo_ca=str(size))
    (spec,) = explorables(at)
    assert opened_frame(spec) == 12  # r = 0.6, the link's
    assert len(spec["frames"]) == RATIOS.size
    named = set()
    for k, r in enumerate(RATIOS):
        frame = spec["frames"][k]
        shown = note(frame)
        assert shown.startswith(f"r = {r:.2f}, clip(r) = {ppo.clip_ratio(r, epsilon):.2f}")
        arrows = [a for a in frame["layout"]["annotations"] if a.get("showarrow")]
        for point, arrow, a in zip(frame["data"], arrows, (size, -size), strict=True):
            value = ppo.clipped_objective(r, a, epsilon)
            slope = ppo.objective_gradient(r, a, epsilon)
            assert point["x"] == [r]
            close(point["y"], [value])
            sign, region = ppo.case_of(r, a, epsilon)
            assert f"{sign}, {region}: L<sup>CLIP</sup> = {value:.3f} slope {signed(slope)}" \
                in shown
            assert arrow["visible"] == (slope != 0)  # an arrow only where ascent moves r
            if slope:
                assert np.sign(arrow["x"] - arrow["ax"]) == np.sign(slope)
            named.add((sign, region))
    assert named == {(s, region) for s in ppo.SIGNS for region in ppo.REGIONS}
    assert "A > 0, r < 1−ε: L<sup>CLIP</sup> = 0.900 slope +1.50" in shown_note(spec)
    assert "A < 0, r < 1−ε: L<sup>CLIP</sup> = -1.125 slope 0, flat" in shown_note(spec)


def six_case_table(at):
    return next(d.value for d in at.table if "Ratio region" in d.value.columns)


@pytest.mark.parametrize(("epsilon", "size"), [(0.2, 1.0), (0.33, 0.5)])
def test_six_case_table_lists_every_case_at_a_typical_ratio(epsilon, size):
    at = at_step(2, ppo_eps=str(epsilon), ppo_ca=str(size))
    table = six_case_table(at)
    rows = ppo.six_cases(1.0, size, epsilon)
    assert list(zip(table["Advantage"], table["Ratio region"], strict=True)) == \
        [(row["sign"], row["region"]) for row in rows]
    assert numbers(table["A typical r"]) == pytest.approx([row["ratio"] for row in rows],
                                                          abs=5e-3)
    assert numbers(table["L^CLIP"]) == pytest.approx(
        [ppo.clipped_objective(row["ratio"], row["advantage"], epsilon) for row in rows],
        abs=5e-4)
    assert list(table["Gradient zero?"]) == ["no", "no", "yes: flat", "yes: flat", "no", "no"]


# 3. The learner's question


def test_the_learners_chart_waits_for_a_prediction_and_then_bears_out_0_4():
    at = at_step(3, ppo_minmax_guess=None)
    question = at.button_group(key="ppo_minmax_guess")
    assert question.options == ["0.4", "0.7", "1.3"] and question.value is None
    assert not [s for s in explorables(at) if "learner's formula" in s["layout"]["title"]["text"]]
    assert "The answer has three parts" not in markdown(at)
    assert at.slider(key="ppo_qr").value == 0.4  # the sliders keep a link's settings meanwhile
    # PPO's objective at the learner's numbers, and the clip they expected
    assert ppo.clipped_objective(0.4, 1.0, 0.3) == pytest.approx(0.4)
    assert ppo.clip_ratio(0.4, 0.3) == pytest.approx(0.7)
    assert guess(at, "ppo_minmax_guess", "0.7").startswith(
        "You predicted **0.7**; the demo below shows **0.4**.")
    assert "The answer has three parts" in markdown(at)
    assert shown_note(titled(at, "The learner's formula")).startswith("r = 0.40")
    verdict = guess(at, "ppo_minmax_guess", "0.4")
    assert verdict.startswith("You predicted **0.4**, and the demo")
    assert "r·A = 0.4 and clip(r)·A = 0.7" in verdict
    assert not at.exception


def test_defaults_open_at_the_learners_case():
    at = at_step(3)
    spec = titled(at, "The learner's formula")
    assert opened_frame(spec) == 8  # r = 0.4 with ε = 0.3 and A = 1, the learner's numbers
    shown = shown_note(spec)
    assert shown.startswith(f"r = 0.40, clip(r) = {ppo.clip_ratio(0.4, 0.3):.3f}")
    assert "clip(r) = 0.700" in shown
    assert "learner's clip(r)·A = 0.700, slope 0 " in shown
    assert "PPO's L<sup>CLIP</sup> = 0.400, slope +1.00" in shown
    assert "the loss in code: -0.400 = −L<sup>CLIP</sup>" in shown
    assert metric(at, "Largest gap, −loss vs PPO's objective (ε = 0.3)") == "0.000"


def test_the_learners_version_and_ppos_at_every_ratio():
    epsilon, a = 0.25, -1.5
    at = at_step(3, ppo_qr="1.6", ppo_qa=str(a), ppo_qeps=str(epsilon))
    spec = titled(at, "The learner's formula")
    assert opened_frame(spec) == 32  # r = 1.6
    for k, r in enumerate(RATIOS):
        learner, clipped = spec["frames"][k]["data"]
        close(learner["y"], [ppo.learner_objective(r, a, epsilon)])
        close(clipped["y"], [ppo.clipped_objective(r, a, epsilon)])
        shown = note(spec["frames"][k])
        assert f"learner's clip(r)·A = {ppo.learner_objective(r, a, epsilon):.3f}, slope " \
            f"{signed(ppo.learner_gradient(r, a, epsilon))}" in shown
        assert f"slope {signed(ppo.objective_gradient(r, a, epsilon))}" in shown
        loss = ppo.policy_loss(r, a, epsilon)
        assert f"PPO's L<sup>CLIP</sup> = {-loss:.3f}" in shown  # minus the loss
        assert f"the loss in code: {loss:.3f} = −L<sup>CLIP</sup>" in shown
    assert "PPO's L<sup>CLIP</sup> = -2.400, slope -1.50" in shown_note(spec)


def test_the_knock_replay_shows_every_step_after_the_bad_step():
    at = at_step(3, ppo_knock="2.5", ppo_kseed="3", ppo_keps="0.25")
    spec = titled(at, "A bad step: who pulls the policy back?")
    out = ppo.one_batch_ascent(("ppo", "learner"), steps=30, lr=1.0, seed=3, epsilon=0.25,
                               knock=2.5)
    gain, wrong, ratios = out["true_gain"], out["wrong_side"], out["ratios"]
    assert opened_frame(spec) == 30  # the end of the run
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶"
    for s in range(31):
        ppo_line, learner_line, markers, ppo_points, learner_points = spec["frames"][s]["data"]
        close(ppo_line["y"], gain[0, :s + 1])
        close(learner_line["y"], gain[1, :s + 1])
        close(markers["y"], gain[:, s])
        close(ppo_points["x"], log2_shown(ratios[0, s], 4))
        close(learner_points["x"], log2_shown(ratios[1, s], 4))
        shown = note(spec["frames"][s])
        assert f"PPO {gain[0, s]:+.3f} ({wrong[0, s]:.0%} on the wrong side)" in shown
        assert f"learner's {gain[1, s]:+.3f} ({wrong[1, s]:.0%} on the wrong side)" in shown
    close(spec["data"][4]["y"], out["advantages"])  # every sample keeps its advantage
    assert metric(at, "PPO, 30 steps on") == f"{gain[0, -1]:+.3f}"
    assert metric(at, "Learner's, 30 steps on") == f"{gain[1, -1]:+.3f}"
    assert gain[0, -1] > gain[1, -1]


@pytest.mark.parametrize(("knock", "seed"), [("1.5", "0"), ("0", "3"), ("2.5", "1")])
def test_the_knock_caption_says_what_the_run_leaves_on_the_wrong_side(knock, seed):
    at = at_step(3, ppo_knock=knock, ppo_kseed=seed)
    out = ppo.one_batch_ascent(("ppo", "learner"), steps=30, lr=1.0, seed=int(seed),
                               epsilon=0.3, knock=float(knock))
    wrong, gain = out["wrong_side"], out["true_gain"]
    (caption,) = [c.value for c in at.caption if "Press play to replay the steps" in c.value]
    if float(knock):
        assert caption.startswith(f"Right after the bad step {wrong[0, 0]:.0%} of the batch")
    else:
        assert wrong[0, 0] == 0 and caption.startswith("No sample starts on the wrong side")
    ppo_left = f"{wrong[0, -1]:.0%} of PPO's samples" if wrong[0, -1] else "none of PPO's"
    assert f"After 30 steps {ppo_left}" in caption
    assert f"and {wrong[1, -1]:.0%} of the learner's are still there" in caption
    assert f"PPO's real gain ends at {gain[0, -1]:+.3f}" in caption
    assert f"ends at {gain[1, -1]:+.3f}" in caption
    assert "empties" not in caption and "empty" not in caption


def test_the_default_knock_leaves_ppo_a_few_samples_on_the_wrong_side():
    """The case the caption once got wrong: at step 30 PPO still has samples in a corner."""
    out = ppo.one_batch_ascent(("ppo", "learner"), steps=30, lr=1.0, seed=0, epsilon=0.3,
                               knock=1.5)
    left = ppo.wrong_side_fraction(out["ratios"][0, -1], out["advantages"], 0.3)
    assert 0 < left == out["wrong_side"][0, -1] < out["wrong_side"][1, -1]
    assert f"After 30 steps {left:.0%} of PPO's samples" in captions(at_step(3))


# 4. GAE


def test_gae_table_matches_lessons():
    at = at_step(4)
    at.text_input(key="ppo_rew").set_value("1, 0, 2")
    at.text_input(key="ppo_val").set_value("0.5, 1, 0.5, 0")
    at.slider(key="ppo_gamma").set_value(0.5)
    at.slider(key="ppo_lam").set_value(0.5).run()
    table = next(d.value for d in at.table if "δ_t" in d.value.columns)
    expected = ppo.gae([1, 0, 2], [0.5, 1, 0.5, 0], 0.5, 0.5)
    assert numbers(table["Â_t (λ = 0.5)"]) == pytest.approx(expected, abs=1e-4)
    assert numbers(table["δ_t"]) == pytest.approx(
        ppo.td_errors([1, 0, 2], [0.5, 1, 0.5, 0], 0.5), abs=1e-4)


@pytest.mark.parametrize(
    ("rewards", "values", "message"),
    [("1, 2", "0, 0", "3 values"), ("abc", "0, 0", "not a number"),
     ("", "0", "nothing is typed")],
)
def test_bad_trajectory_text_shows_an_error(rewards, values, message):
    at = at_step(4, ppo_rew=rewards, ppo_val=values)
    assert not at.exception
    assert any(message in e.value for e in at.error)


# 5. PPO in action


def test_training_table_matches_the_run():
    at = at_step(5)
    run = ppo.ppo_run(("ppo", "unclipped"), epsilon=0.2, epochs=4, lr=1.0, seed=0)
    summary = ppo.summarize_run(run, 0.8, 10)
    table = next(d.value for d in at.table if "Final expected reward" in d.value.columns)
    assert numbers(table["Final expected reward"]) == pytest.approx(summary["final"], abs=5e-4)
    assert list(table["Seeds that crashed (of 8)"]) == list(summary["crashed"])
    assert summary["crashed"][0] == 0 < summary["crashed"][1]
    assert f"With these settings {summary['crashed'][1]} of the 8 seeds crash without " \
        f"clipping and 0 with PPO; the mean KL per update is {summary['kl'][0]:.3g} nats with " \
        f"PPO and {summary['kl'][1]:.3g} without clipping." in captions(at)
    at.button_group(key="ppo_vs").set_value("learner's clip(r)·A").run()
    table = next(d.value for d in at.table if "Final expected reward" in d.value.columns)
    assert list(table["Run"]) == ["PPO: min(r·A, clip(r)·A)", "learner's clip(r)·A"]
    summary = ppo.summarize_run(ppo.ppo_run(("ppo", "learner")), 0.8, 10)
    assert list(summary["crashed"]) == [0, 0]
    assert "With these settings no seed crashes with either objective" in captions(at)
    assert "the learner's version stops a ratio outside the band" in captions(at)


def test_the_training_caption_counts_a_single_crash_and_a_crash_of_ppo():
    at = at_step(5, ppo_epochs="20", ppo_vs="learner's clip(r)·A")
    summary = ppo.summarize_run(ppo.ppo_run(("ppo", "learner"), epochs=20), 0.8, 10)
    assert list(summary["crashed"]) == [0, 1]
    assert "1 of the 8 seeds crashes with the learner's clip(r)·A and 0 with PPO" in \
        captions(at)
    at = at_step(5, ppo_lr="0.3")
    summary = ppo.summarize_run(ppo.ppo_run(("ppo", "unclipped"), lr=0.3), 0.8, 10)
    assert list(summary["crashed"]) == [1, 3]  # PPO is no guarantee: one seed crashes too
    assert "3 of the 8 seeds crash without clipping and 1 with PPO" in captions(at)


def test_the_training_replay_shows_every_update_of_the_runs():
    at = at_step(5, ppo_clip="0.3", ppo_epochs="2", ppo_seed="1")
    spec = titled(at, "Training the bandit, update by update")
    run = ppo.ppo_run(("ppo", "unclipped"), epsilon=0.3, epochs=2, lr=1.0, seed=1)
    returns, kl = run["returns"], run["kl_exact"].mean(axis=1)
    clip = run["clip_fraction"].mean(axis=1)
    assert len(spec["frames"]) == 41
    assert opened_frame(spec) == 40  # the trained result
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶"
    for u in range(41):
        *bands, ppo_mean, other_mean, markers, ppo_kl, other_kl = spec["frames"][u]["data"]
        for i, band in enumerate(bands):  # the seeds' range: the top edge out, the bottom back
            close(band["y"], np.concatenate([returns[i].max(axis=0)[:u + 1],
                                             returns[i].min(axis=0)[u::-1]]))
        close(ppo_mean["y"], returns[0].mean(axis=0)[:u + 1])
        close(other_mean["y"], returns[1].mean(axis=0)[:u + 1])
        close(markers["y"], returns[:, :, u].mean(axis=1))
        close(ppo_kl["y"], kl[0, :u])
        close(other_kl["y"], kl[1, :u])
        if u:
            shown = note(spec["frames"][u])
            assert f"PPO: reward {returns[0, :, u].mean():.3f}" in shown
            assert f"no clipping: reward {returns[1, :, u].mean():.3f}" in shown
            assert f"clip fraction {clip[0, u - 1]:.0%}, KL {kl[0, u - 1]:.3g} nats" in shown
    assert shown_note(spec).startswith("Update 40 of 40, means over 8 seeds")


def test_the_update_inspector_opens_at_the_control_and_reports_both_kl_estimators():
    at = at_step(5, ppo_upd="3", ppo_epochs="3")
    spec = titled(at, "Inside one update")
    run = ppo.ppo_run(("ppo", "unclipped"), epochs=3)
    assert opened_frame(spec) == 2  # update 3
    assert len(spec["frames"]) == 40
    for u in range(40):
        *_, ppo_median, other_median = spec["frames"][u]["data"]
        close(ppo_median["y"], log2_shown(np.median(run["ratios"][0, u], axis=-1), 3))
        close(other_median["y"], log2_shown(np.median(run["ratios"][1, u], axis=-1), 3))
    shown = shown_note(spec)
    assert shown.startswith("Update 3, first seed")
    for i, name in enumerate(("PPO", "no clipping")):
        ratio = run["ratios"][i, 2, -1]
        assert f"{name}: KL {run['kl_exact'][i, 0, 2]:.3f} (k1 " \
            f"{ppo.approx_kl(ratio, 'k1'):.3f}, k3 {ppo.approx_kl(ratio, 'k3'):.3f})" in shown
        assert f"clip fraction {run['clip_fraction'][i, 0, 2]:.0%}, wrong side " \
            f"{run['wrong_side'][i, 0, 2]:.0%}" in shown


def test_moving_the_inspected_update_reruns_only_its_chart():
    at = at_step(5)
    at.slider(key="ppo_upd").set_value(17).run()
    assert not at.exception
    assert opened_frame(titled(at, "Inside one update")) == 16
    assert opened_frame(titled(at, "Training the bandit")) == 40


# Links and the self-check


def test_shared_link_restores_the_view():
    link = {"ppo_qr": "0.6", "ppo_qeps": "0.25", "ppo_qa": "-1.5", "ppo_eps": "0.33",
            "ppo_seed": "5", "ppo_lr": "0.5", "ppo_epochs": "2", "ppo_vs": "learner's clip(r)·A",
            "ppo_rew": "0, 1", "ppo_val": "0, 0, 0", "ppo_knock": "2.5", "ppo_bseed": "3",
            "ppo_cr": "2.05", "ppo_upd": "7"}
    at = at_step(3, **link)
    assert not link_notes(at)
    assert at.slider(key="ppo_qr").value == 0.6
    assert at.slider(key="ppo_qeps").value == 0.25
    assert at.slider(key="ppo_qa").value == -1.5
    assert at.slider(key="ppo_knock").value == 2.5
    spec = titled(at, "The learner's formula")
    assert opened_frame(spec) == 12
    expected = ppo.clipped_objective(0.6, -1.5, 0.25)
    assert f"PPO's L<sup>CLIP</sup> = {expected:.3f}" in shown_note(spec)
    assert at_step(1, **link).number_input(key="ppo_bseed").value == 3
    at = at_step(2, **link)
    assert at.slider(key="ppo_eps").value == 0.33
    assert opened_frame(explorables(at)[0]) == 41  # r = 2.05
    assert at_step(4, **link).text_input(key="ppo_rew").value == "0, 1"
    at = at_step(5, **link)
    assert at.button_group(key="ppo_step").value == STEPS[4]
    assert at.number_input(key="ppo_seed").value == 5
    assert at.slider(key="ppo_lr").value == 0.5
    assert at.slider(key="ppo_epochs").value == 2
    assert at.button_group(key="ppo_vs").value == "learner's clip(r)·A"
    assert opened_frame(titled(at, "Inside one update")) == 6


def test_malformed_link_gets_a_note_and_no_exception():
    link = {"ppo_eps": "2", "ppo_r": "abc", "ppo_vs": "adam", "ppo_epochs": "2.5",
            "ppo_seed": "-4", "ppo_step": "7. Later", "ppo_ca": "-1"}
    at = open_page(PAGE, link)
    assert not at.exception
    notes = link_notes(at)
    for key in ("ppo_eps=2", "ppo_r=abc", "ppo_vs=adam", "ppo_epochs=2.5", "ppo_seed=-4",
                "ppo_step=7. Later", "ppo_ca=-1"):
        assert key in notes
    assert at.button_group(key="ppo_step").value == STEPS[0]
    assert at.slider(key="ppo_r").value == 1.5
    del link["ppo_step"]
    at = at_step(2, **link)
    assert 0.05 <= at.slider(key="ppo_eps").value <= 0.5
    assert at.slider(key="ppo_ca").value == 1.0  # the size of A is positive; -1 gets the default
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
