"""PPO: the probability ratio, the advantage, clipping, the learner's min/max question, GAE, and
live PPO runs on a tiny prompt-and-response bandit.

Each numbered section is one fragment. Inside it, every demo (its controls, numbers and chart)
is a nested fragment, so moving a slider reruns and redraws only that demo, not the section's
text, equations and other charts.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from lessons import ppo
from ui import cards, code, course, explorable, quiz, shared, state, steps
from ui import ppo_figures as pf
from ui.figures import fmt, show
from ui.state import Param

SLUG = "ppo"

R_LINE = np.linspace(0.0, 3.0, 31)  # r·A is a straight line: a few points draw it exactly
R_VALUES = np.round(np.linspace(0.0, 3.0, 61), 2)  # the explorables' ratios: the r sliders' values
LAMBDA_GRID = np.linspace(0.0, 1.0, 51)

# Section 1: one batch, many steps
ONE_BATCH_STEPS = 60
ONE_BATCH_LR = 1.0
ONE_BATCH_BAND = 0.2  # the band drawn for reference: PPO's usual ε

# Section 3: after a bad step
KNOCK_STEPS = 30
KNOCK_LR = 1.0
KNOCK_RUNS = ("ppo", "learner")
MINMAX_GUESSES = ("0.4", "0.7", "1.3")  # the learner's r·A, clip(r)·A and (1+ε)·A, for A = 1

# Section 4: the trajectory
MAX_STEPS = 12

# Section 5: the runs
UPDATES = 40
BATCH_SIZE = 64
MINIBATCHES = 4
N_SEEDS = 8
CRASH_LEVEL = 0.8  # a seed "crashed" if its expected reward fell below this...
CRASH_AFTER = 10  # ...at some update after this one
COMPARE = {"no clipping": "unclipped", "learner's clip(r)·A": "learner"}
COMPARED_WITH = {"no clipping": "without clipping",
                 "learner's clip(r)·A": "with the learner's clip(r)·A"}
INSPECT_OTHERS = {  # what the compared objective does to the ratios, for the inspector's caption
    "no clipping": "without clipping nothing stops a ratio, epoch after epoch.",
    "learner's clip(r)·A": "the learner's version stops a ratio outside the band on either "
    "side, also one that moved against its advantage.",
}

# 1. The surrogate
RATIO = Param("ppo_r", 1.5, lo=0.0, hi=3.0, step=0.05)
ADVANTAGE = Param("ppo_a", 1.0, lo=-2.0, hi=2.0, step=0.1)
STEPS = Param("ppo_steps", 40, lo=0, hi=ONE_BATCH_STEPS, step=1)
BATCH_SEED = Param("ppo_bseed", 6, lo=0, hi=9999, step=1)
# 2. Clipping
EPSILON = Param("ppo_eps", 0.2, lo=0.05, hi=0.5, step=0.01)
CLIP_RATIO = Param("ppo_cr", 1.4, lo=0.0, hi=3.0, step=0.05)
CLIP_ADVANTAGE = Param("ppo_ca", 1.0, lo=0.1, hi=2.0, step=0.1)
# 3. The learner's question
Q_RATIO = Param("ppo_qr", 0.4, lo=0.0, hi=3.0, step=0.05)
Q_ADVANTAGE = Param("ppo_qa", 1.0, lo=-2.0, hi=2.0, step=0.1)
Q_EPSILON = Param("ppo_qeps", 0.3, lo=0.05, hi=0.5, step=0.01)
KNOCK = Param("ppo_knock", 1.5, lo=0.0, hi=3.0, step=0.1)
KNOCK_EPSILON = Param("ppo_keps", 0.3, lo=0.05, hi=0.5, step=0.01)
KNOCK_SEED = Param("ppo_kseed", 0, lo=0, hi=9999, step=1)
MINMAX_GUESS = Param("ppo_minmax_guess", None, options=MINMAX_GUESSES)
# 4. GAE
REWARDS = Param("ppo_rew", "0, 0, 1, 0, 2", max_chars=120)
VALUES = Param("ppo_val", "0.8, 0.9, 1.2, 0.6, 1.5, 0", max_chars=120)
GAMMA = Param("ppo_gamma", 0.9, lo=0.0, hi=1.0, step=0.01)
LAMBDA = Param("ppo_lam", 0.8, lo=0.0, hi=1.0, step=0.01)
# 5. PPO in action
RUN_EPSILON = Param("ppo_clip", 0.2, lo=0.05, hi=0.5, step=0.01)
EPOCHS = Param("ppo_epochs", 4, lo=1, hi=20, step=1)
LEARNING_RATE = Param("ppo_lr", 1.0, lo=0.1, hi=3.0, step=0.1)
RUN_SEED = Param("ppo_seed", 0, lo=0, hi=9999, step=1)
VERSUS = Param("ppo_vs", "no clipping", options=tuple(COMPARE))
INSPECT = Param("ppo_upd", 1, lo=1, hi=UPDATES, step=1)

LESSON_STEPS = steps.Steps("ppo", (
    "The surrogate objective", "Clipping", "The min/max question", "Advantages with GAE",
    "PPO in action", "Check yourself",
))
PARAMS = (LESSON_STEPS.param, RATIO, ADVANTAGE, STEPS, BATCH_SEED, EPSILON, CLIP_RATIO,
          CLIP_ADVANTAGE, MINMAX_GUESS, Q_RATIO, Q_ADVANTAGE, Q_EPSILON, KNOCK, KNOCK_EPSILON,
          KNOCK_SEED, REWARDS, VALUES, GAMMA, LAMBDA, RUN_EPSILON, EPOCHS, LEARNING_RATE,
          RUN_SEED, VERSUS, INSPECT)



# Page-side caches: the runs are pure functions of their settings


@shared.cache_data(max_entries=16, show_spinner=False)
def surrogate_explorable(a: float) -> dict:
    return pf.surrogate_explorable(R_VALUES, R_LINE, ppo.surrogate_objective(R_LINE, a),
                                   ppo.surrogate_objective(R_VALUES, a), a)


@shared.cache_data(max_entries=32, show_spinner=False)
def _one_batch(seed: int) -> dict:
    return ppo.one_batch_ascent(("unclipped",), steps=ONE_BATCH_STEPS, lr=ONE_BATCH_LR,
                                seed=seed, epsilon=ONE_BATCH_BAND)


@shared.cache_data(max_entries=32, show_spinner=False)
def one_batch_replay(seed: int) -> dict:
    out = _one_batch(seed)
    ratios = out["ratios"][0]
    outside = np.array([ppo.clip_fraction(row, ONE_BATCH_BAND) for row in ratios])
    return pf.one_batch_replay(np.arange(ONE_BATCH_STEPS + 1), out["surrogate"][0],
                               out["true_gain"][0], ratios, outside, ONE_BATCH_BAND)


@shared.cache_data(max_entries=64, show_spinner=False)
def clipping_explorable(epsilon: float, size: float) -> dict:
    grid = pf.ratio_grid(epsilon)
    panels = {}
    for sign, a in (("A > 0", size), ("A < 0", -size)):
        panels[sign] = {
            "a": a, "unclipped": ppo.surrogate_objective(grid, a),
            "objective": ppo.clipped_objective(grid, a, epsilon),
            "values": ppo.clipped_objective(R_VALUES, a, epsilon),
            "slopes": ppo.objective_gradient(R_VALUES, a, epsilon),
            "regions": [ppo.case_of(r, a, epsilon)[1] for r in R_VALUES],
            # which term the min picks depends only on the case
            "picks": {row["region"]: row["picks"] for row in ppo.six_cases(1.0, a, epsilon)
                      if row["sign"] == sign}}
    return pf.clipping_explorable(R_VALUES, grid, panels, ppo.clip_ratio(R_VALUES, epsilon),
                                  epsilon)


@shared.cache_data(max_entries=64, show_spinner=False)
def learner_explorable(epsilon: float, a: float) -> dict:
    grid = pf.ratio_grid(epsilon)
    lines = {"learner": ppo.learner_objective(grid, a, epsilon),
             "ppo": ppo.clipped_objective(grid, a, epsilon)}
    points = {"learner": ppo.learner_objective(R_VALUES, a, epsilon),
              "ppo": ppo.clipped_objective(R_VALUES, a, epsilon)}
    slopes = {"learner": ppo.learner_gradient(R_VALUES, a, epsilon),
              "ppo": ppo.objective_gradient(R_VALUES, a, epsilon)}
    return pf.learner_explorable(R_VALUES, grid, lines, points, slopes,
                                 ppo.clip_ratio(R_VALUES, epsilon),
                                 ppo.policy_loss(R_VALUES, a, epsilon), epsilon)


@shared.cache_data(max_entries=32, show_spinner=False)
def _knocked(knock: float, seed: int, epsilon: float) -> dict:
    return ppo.one_batch_ascent(KNOCK_RUNS, steps=KNOCK_STEPS, lr=KNOCK_LR, seed=seed,
                                epsilon=epsilon, knock=knock)


@shared.cache_data(max_entries=32, show_spinner=False)
def knock_replay(knock: float, seed: int, epsilon: float) -> dict:
    out = _knocked(knock, seed, epsilon)
    return pf.knock_replay(np.arange(KNOCK_STEPS + 1), out["true_gain"], out["wrong_side"],
                           out["ratios"], out["advantages"], epsilon, KNOCK_RUNS)


@shared.cache_data(max_entries=24, show_spinner="Training 16 policies…")
def _train(epsilon: float, epochs: int, lr: float, seed: int, other: str) -> tuple[dict, float]:
    start = time.perf_counter()
    run = ppo.ppo_run(("ppo", other), epsilon=epsilon, epochs=epochs, lr=lr, seed=seed,
                      n_seeds=N_SEEDS, updates=UPDATES, batch_size=BATCH_SIZE,
                      minibatches=MINIBATCHES)
    return run, time.perf_counter() - start


@shared.cache_data(max_entries=24, show_spinner=False)
def training_replay(epsilon: float, epochs: int, lr: float, seed: int, other: str) -> dict:
    run, _ = _train(epsilon, epochs, lr, seed, other)
    return pf.training_replay(run, ("ppo", other))


@shared.cache_data(max_entries=24, show_spinner=False)
def update_inspector(epsilon: float, epochs: int, lr: float, seed: int, other: str) -> dict:
    run, _ = _train(epsilon, epochs, lr, seed, other)
    last_epoch = run["ratios"][:, :, -1]  # (run, update, sample)
    kl_k1, kl_k3 = (np.array([[ppo.approx_kl(ratio, estimator) for ratio in updates]
                              for updates in last_epoch]) for estimator in ("k1", "k3"))
    return pf.update_inspector(run, ("ppo", other), epsilon, kl_k1, kl_k3)


def _opens_at(what: str) -> str:
    """The help of a control that sets where an explorable opens."""
    return (f"The slider under the chart {what} at once; this control sets where the chart "
            "opens, and goes into the shared link.")


def _table(frame: pd.DataFrame, digits: int = 4, formats: dict[str, str] | None = None) -> None:
    """A small static table with its numbers written out. Plain ``st.table`` on purpose: a
    pandas Styler made every slider move on its step about 150 ms slower."""
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            pattern = (formats or {}).get(column, f"{{:.{digits}f}}")
            shown[column] = [pattern.format(value) for value in shown[column]]
    st.table(shown, hide_index=True)


st.title("PPO: ratio, advantage, clipping")
state.check_link(PARAMS)
st.markdown(
    "Proximal Policy Optimization is the workhorse behind the RL step of RLHF: the language "
    "model is the policy, a prompt is the state, a response is the action, and a reward model "
    "says how good the response was. PPO's trick is to squeeze several gradient steps out of "
    "every batch of samples without letting the policy wander off. This lesson takes its "
    "objective apart, one symbol at a time: the **probability ratio**, the **advantage**, the "
    "**clip**, and the **min** around it that puzzles many readers of the paper. Then it "
    "estimates advantages with **GAE** and runs PPO for real."
)
st.caption(
    f"Accompanies *{course.VIDEOS['ppo']}* (surrogate objective and clipping) and the PPO step "
    f"of *{course.VIDEOS['rlhf']}* by {course.SERIES_AUTHOR}. Equations follow Schulman et al. "
    "(2017), *Proximal Policy Optimization Algorithms*."
)
with st.expander("The playground of this page: a tiny prompt-and-response bandit",
                 icon=":material/science:"):
    st.markdown(
        "Sections 1, 3 and 5 train a real policy, small enough to run in your browser session. "
        "Each **prompt** is three numbers (a constant 1 and two features). The policy picks one "
        "of five **responses** with a linear softmax, π(a | x) ∝ exp(θₐ · x). Four responses "
        "pay a reward that depends on the prompt (plus a little noise): which one is best "
        "changes from prompt to prompt. The fifth is a **long shot**: it usually pays −1 and "
        "one time in ten a jackpot of +6, so on average it is the worst choice (−0.3), but a "
        "lucky sample makes it look brilliant, much like a reward model that is sometimes "
        "fooled. The starting policy slightly prefers a safe response worth 0.4. Because the "
        "whole reward table is known, the page can compute the policy's **exact** expected "
        "reward and the exact KL between two policies, to check the estimates PPO works with."
    )


# 1. The surrogate objective


@st.fragment
def surrogate_section() -> None:
    st.header("1. The surrogate objective: ratio times advantage", anchor="surrogate",
              divider="gray")
    st.markdown(
        "A batch was collected with the current policy, call it π_old. For every sample (a "
        "state s and the action a taken there) two numbers drive the update. The **probability "
        "ratio** r = π_new(a|s) / π_old(a|s) says how much more (r > 1) or less (r < 1) likely "
        "the new policy makes that action; it starts at exactly 1. The **advantage** A says how "
        "much better the action turned out than the critic expected. Their product rewards "
        "making good actions (A > 0) more likely and bad ones (A < 0) less likely, and at r = 1 "
        "its gradient is exactly the policy gradient A·∇log π, because ∇r = r·∇log π."
    )
    cards.equation_card(
        r"r_t(\theta) = \frac{\pi_\theta(a_t \mid s_t)}{\pi_{\theta_\text{old}}(a_t \mid s_t)},"
        r"\qquad L^{CPI}(\theta) = \hat{\mathbb{E}}_t\big[\, r_t(\theta)\, \hat A_t \,\big]",
        "The surrogate objective: each sample's advantage, weighted by how much more likely the "
        "new policy makes its action.",
        "PPO", "Schulman et al. 2017, Eq. 6",
    )
    _surrogate_demo()
    st.subheader("Keep climbing on one batch")
    st.markdown(
        "So what happens if we just maximise r·A? Take one batch of 64 prompts from the "
        "starting policy, compute advantages in reward units (R − V(x), with a linear critic), "
        "and take gradient step after gradient step on the batch's mean r·Â, never collecting "
        "new data. The batch keeps *promising* a larger improvement. The bandit lets us compare "
        "with what *really* happens to the expected reward, computed exactly."
    )
    _one_batch_demo()
    code.show_code(ppo.surrogate_objective, ppo.one_batch_ascent)
    cards.takeaway(
        "r·A is a faithful guide only near r = 1. Maximised on its own it never says stop, and "
        "the further the ratios drift, the more the batch's promise rests on a few samples with "
        "huge weights, and the less it means."
    )


@st.fragment
def _surrogate_demo() -> None:
    controls, chart = st.columns([1, 2], gap="large")
    with controls:
        r = state.slider(RATIO, "Probability ratio r", help="π_new(a|s) / π_old(a|s). "
                         + _opens_at("moves r"))
        a = state.slider(ADVANTAGE, "Advantage A")
        if a > 0:
            st.markdown(f"With A = {a:g} > 0 the objective grows by {a:g} for every unit of r: "
                        "it asks for r as large as possible, with no ceiling.")
        elif a < 0:
            st.markdown(f"With A = {a:g} < 0 it grows as r shrinks: it asks to push the "
                        "action's probability towards 0.")
        else:
            st.markdown("With A = 0 the action was exactly as good as expected: r·A is 0 "
                        "whatever r is, and the sample asks for nothing.")
    with chart:
        try:
            spec = surrogate_explorable(float(a))
        except ValueError as error:
            st.error(str(error))
            return
        explorable.show(spec, key="ppo_surrogate_chart", start=explorable.nearest(R_VALUES, r),
                        caption="A straight line: nothing in r·A says where to stop, however "
                        "far r moves from 1. Drag the slider under the chart to move r.")


@st.fragment
def _one_batch_demo() -> None:
    left, right = st.columns(2, gap="large")
    with left:
        steps = state.slider(STEPS, "Gradient steps taken on this batch",
                             help=_opens_at("replays the steps"))
    with right:
        seed = state.number(BATCH_SEED, "Batch seed", help="Which 64 prompts and rewards.")
    try:
        out = _one_batch(int(seed))
        spec = one_batch_replay(int(seed))
        outside = ppo.clip_fraction(out["ratios"][0, -1], ONE_BATCH_BAND)
    except ValueError as error:
        st.error(str(error))
        return
    promise, gain = out["surrogate"][0, -1], out["true_gain"][0, -1]
    explorable.show(
        spec, key="ppo_one_batch_chart", start=int(steps),
        caption=f"By step {ONE_BATCH_STEPS} the batch promises {promise:+.3f} while the real "
        f"gain is {gain:+.3f}{', worse than where it started' if gain < 0 else ''}, and "
        f"{outside:.0%} of the ratios sit outside [{1 - ONE_BATCH_BAND:g}, "
        f"{1 + ONE_BATCH_BAND:g}] (shaded). Press play to climb again from the first step; "
        "try a few seeds.")


# 2. Clipping


@st.fragment
def clipping_section() -> None:
    st.header("2. Clipping: the paper's Figure 1, live", anchor="clipping", divider="gray")
    st.markdown(
        "PPO keeps the surrogate but caps what one sample can contribute. It clips the ratio to "
        "the band [1−ε, 1+ε] and takes the **minimum** of the clipped and the unclipped term. "
        "Per sample the effect is simple: once the ratio has moved more than ε *in the "
        "direction the advantage asks for*, the objective goes flat and its slope is 0, so "
        "this update has nothing more to gain from that sample. If the ratio moved the *other* "
        "way, the min keeps the unclipped term and its full slope."
    )
    cards.equation_card(
        r"L^{CLIP}(\theta) = \hat{\mathbb{E}}_t\Big[\min\big(r_t(\theta)\hat A_t,\;"
        r"\operatorname{clip}(r_t(\theta), 1-\epsilon, 1+\epsilon)\,\hat A_t\big)\Big]",
        "The clipped surrogate: the smaller of the plain and the clipped term, per sample.",
        "PPO", "Schulman et al. 2017, Eq. 7",
    )
    cards.equation_card(
        r"\frac{\partial L^{CLIP}}{\partial r} = \begin{cases} 0 & \text{if } \hat A > 0 "
        r"\text{ and } r > 1+\epsilon, \text{ or } \hat A < 0 \text{ and } r < 1-\epsilon \\"
        r" \hat A & \text{otherwise} \end{cases}",
        "The slope per sample: zero only where the policy already moved far enough the way A "
        "asks. At the kinks r = 1±ε we take the slope from inside the band, as automatic "
        "differentiation does.",
        "PPO",
    )
    _clipping_demo()
    code.show_code(ppo.clip_ratio, ppo.clipped_objective, ppo.objective_gradient)
    cards.takeaway(
        "Clipping only removes the incentive where the policy has already moved more than ε "
        "the way the advantage wants (A > 0 and r > 1+ε, or A < 0 and r < 1−ε). In the other "
        "four cases the slope is the full A."
    )


def _six_case_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame({
        "Advantage": [row["sign"] for row in rows],
        "Ratio region": [row["region"] for row in rows],
        "A typical r": [f"{row['ratio']:.2f}" for row in rows],
        "A": [pf.signed(row["advantage"]) for row in rows],
        "The min picks": [row["picks"] for row in rows],
        "L^CLIP": [f"{row['value']:.3f}" for row in rows],
        "Slope dL/dr": [pf.signed(row["gradient"]) for row in rows],
        "Gradient zero?": ["yes: flat" if row["zero_gradient"] else "no" for row in rows],
    })


@st.fragment
def _clipping_demo() -> None:
    one, two, three = st.columns(3)
    with one:
        epsilon = state.slider(EPSILON, "Clip range ε", help="Sets the band [1−ε, 1+ε].")
    with two:
        r = state.slider(CLIP_RATIO, "Ratio r", help=_opens_at("moves r"))
    with three:
        size = state.slider(CLIP_ADVANTAGE, "Size of the advantage |A|",
                            help="The left panel has A = +|A|, the right one A = −|A|.")
    try:
        spec = clipping_explorable(float(epsilon), float(size))
        # r = 1 is a typical ratio of the band, so every row shows a typical r of its region
        rows = ppo.six_cases(1.0, size, epsilon)
    except ValueError as error:
        st.error(str(error))
        return
    explorable.show(
        spec, key="ppo_clip_chart", start=explorable.nearest(R_VALUES, r),
        caption="Solid: L^CLIP; dotted: the unclipped r·A. Grey stretches are flat: there the "
        "slope is exactly 0 and nothing moves r. Drag the slider under the chart: r passes "
        "through all six cases, three on each side. Each update starts at r = 1, in the middle "
        "of the band (dashed lines), where the slope is A.")
    st.markdown(f"**The six cases** at ε = {epsilon:g} and |A| = {size:g}, each at a typical r "
                "of its region (the line above the chart names the case at the slider's r).")
    st.table(_six_case_table(rows), hide_index=True)


# 3. The learner's min/max question


@st.fragment
def learner_question_section() -> None:
    st.header("3. A learner's question: shouldn't it be max(1−ε, min(r, 1+ε))?",
              anchor="min-max", divider="gray")
    r, epsilon, a = Q_RATIO.default, Q_EPSILON.default, Q_ADVANTAGE.default
    st.markdown(
        f"A learner worked through an example: with a ratio of {r:g} and ε = {epsilon:g}, "
        f"clipping should give {ppo.clip_ratio(r, epsilon):g}. Shouldn't PPO's formula then "
        "read max(1−ε, min(r, 1+ε))? Before the answer, try PPO's formula on their numbers."
    )
    guessed = cards.predict(
        MINMAX_GUESS, f"With A = {a:g}, r = {r:g} and ε = {epsilon:g}, what does PPO's "
        "objective min(r·A, clip(r, 1−ε, 1+ε)·A) give?",
        answer=f"{ppo.clipped_objective(r, a, epsilon):g}",
        why=f"The clip does give {ppo.clip_ratio(r, epsilon):g}, as the learner says, but PPO "
        f"then keeps the smaller of r·A = {ppo.surrogate_objective(r, a):g} and clip(r)·A = "
        f"{ppo.learner_objective(r, a, epsilon):g}.")
    if guessed:
        st.markdown(
            "The answer has three parts:\n\n"
            "1. **Their expression is the clip itself.** max(1−ε, min(r, 1+ε)) is exactly "
            "clip(r, 1−ε, 1+ε), and it does give 0.7. That part of the reasoning is right.\n"
            "2. **PPO does not stop at the clip.** It takes the min of the *unclipped* r·A and "
            "the *clipped* clip(r)·A. With A > 0 and r = 0.4, r·A = 0.4·A is smaller than "
            "0.7·A, so the min keeps 0.4·A, on purpose: $L^{CLIP}$ is a pessimistic bound that "
            "never credits the policy with more than the unclipped surrogate.\n"
            "3. **That keeps the pull-back.** At r = 0.4 PPO's slope is A, so gradient ascent "
            "pushes the good action's probability back up. The learner's version is flat "
            "there: its slope is 0 and nothing pulls the policy back."
        )
    left, right = st.columns(2)
    with left:
        cards.equation_card(
            r"\max\big(1-\epsilon,\ \min(r,\ 1+\epsilon)\big) = "
            r"\operatorname{clip}(r,\ 1-\epsilon,\ 1+\epsilon)",
            "The learner's expression is the clip; used alone, the objective becomes "
            "clip(r)·A.",
            "PPO",
        )
    with right:
        cards.equation_card(
            r"L^{CLIP} = \min\big(r\hat A,\ \operatorname{clip}(r, 1-\epsilon, 1+\epsilon)"
            r"\,\hat A\big) \;\le\; r\hat A",
            "PPO's objective: the min of the unclipped and the clipped term, a lower bound on "
            "the surrogate.",
            "PPO", "Schulman et al. 2017, Eq. 7",
        )
    st.markdown(
        "**The form you see in code.** Libraries minimise a loss rather than maximise an "
        "objective, so the objective gets a minus sign and the min turns into a max: "
        "min(x, y) = −max(−x, −y). It is the same objective, term for term. In PyTorch:"
    )
    st.code(
        "unclipped = -advantages * ratio\n"
        "clipped = -advantages * torch.clamp(ratio, 1 - eps, 1 + eps)\n"
        "policy_loss = torch.max(unclipped, clipped).mean()",
        language="python",
    )
    cards.equation_card(
        r"\text{loss} = \hat{\mathbb{E}}_t\Big[\max\big(-\hat A_t\, r_t,\ -\hat A_t\,"
        r"\operatorname{clip}(r_t, 1-\epsilon, 1+\epsilon)\big)\Big] = -L^{CLIP}",
        "Minimising the max of the negated terms is maximising the min of the terms.",
        "PPO",
    )
    st.markdown("All of it at once, starting at the learner's numbers; move them:")
    _learner_demo(guessed)
    st.subheader("What goes wrong if you train on the learner's version")
    st.markdown(
        "In a real update a sample lands on the wrong side of the band when an earlier "
        "minibatch step, or a too-large learning rate, moved the policy against its advantage. "
        "Here that is staged on purpose: take one batch of the bandit, knock the policy one "
        "step *against* its gradient, then keep optimising each objective on the same batch."
    )
    _knock_demo()
    code.show_code(ppo.learner_objective, ppo.learner_gradient, ppo.policy_loss)
    cards.takeaway(
        "The learner computed the clip correctly; the formula just does one more thing. PPO's "
        "outer min between r·A and clip(r)·A is what makes the objective pessimistic and keeps "
        "a slope that pulls a policy back when it moved the wrong way."
    )


@st.fragment
def _learner_demo(guessed: bool) -> None:
    """The learner's version beside PPO's; the chart waits for the guess above, which it
    answers. The sliders stay, so a link's settings are kept until then."""
    one, two, three = st.columns(3)
    with one:
        r = state.slider(Q_RATIO, "Ratio r", help=_opens_at("moves r"))
    with two:
        epsilon = state.slider(Q_EPSILON, "Clip range ε")
    with three:
        a = state.slider(Q_ADVANTAGE, "Advantage A")
    if not guessed:
        st.caption("The chart opens once you have made your guess above.")
        return
    try:
        spec = learner_explorable(float(epsilon), float(a))
        gap = ppo.code_form_gap(epsilon)
    except ValueError as error:
        st.error(str(error))
        return
    explorable.show(
        spec, key="ppo_learner_chart", start=explorable.nearest(R_VALUES, r),
        caption="The two objectives agree inside the band (grey). Outside it, the learner's "
        "is flat on both sides; PPO's is flat only on the side where A has been satisfied. "
        "Drag the slider under the chart to move r; the line above it gives both values, "
        "their slopes and the loss as code computes it.")
    st.metric(f"Largest gap, −loss vs PPO's objective (ε = {epsilon:g})", fmt(gap),
              help="max |−loss − min(r·A, clip(r)·A)| over 10 000 random ratios in [0, 3] "
              "and random advantages, at this ε.")


@st.fragment
def _knock_demo() -> None:
    one, two, three = st.columns(3)
    with one:
        knock = state.slider(KNOCK, "Size of the bad step", help="Distance moved against the "
                             "surrogate's gradient, in parameter space. 0 = no bad step.")
    with two:
        epsilon = state.slider(KNOCK_EPSILON, "Clip range ε")
    with three:
        seed = state.number(KNOCK_SEED, "Batch seed", help="Which 64 prompts and rewards.")
    try:
        out = _knocked(float(knock), int(seed), float(epsilon))
        spec = knock_replay(float(knock), int(seed), float(epsilon))
    except ValueError as error:
        st.error(str(error))
        return
    gain, wrong = out["true_gain"], out["wrong_side"]
    m = st.columns(3)
    m[0].metric("Gain after the bad step", f"{gain[0, 0]:+.3f}",
                help="J(π) − J(π_old), exact: the same start for both objectives.")
    m[1].metric(f"PPO, {KNOCK_STEPS} steps on", f"{gain[0, -1]:+.3f}",
                help=f"Wrong side left: {wrong[0, -1]:.0%} of the batch.")
    m[2].metric(f"Learner's, {KNOCK_STEPS} steps on", f"{gain[1, -1]:+.3f}",
                help=f"Wrong side left: {wrong[1, -1]:.0%} of the batch.")
    explorable.show(spec, key="ppo_knock_chart", start=explorable.frame_count(spec) - 1,
                    caption=_knock_caption(wrong, gain))


def _knock_caption(wrong: np.ndarray, gain: np.ndarray) -> str:
    """What the knock chart shows, in the run's own numbers (wrong: the share of the batch on
    the wrong side, gain: J(π) − J(π_old), per objective of KNOCK_RUNS and step)."""
    corners = ("the shaded corners of the lower panel, where A > 0 but r < 1−ε, or A < 0 but "
               "r > 1+ε")
    if wrong[0, 0]:
        start = (f"Right after the bad step {wrong[0, 0]:.0%} of the batch is on the wrong "
                 f"side, {corners}.")
    else:
        start = (f"No sample starts on the wrong side ({corners}); a few can drift there as "
                 "the shared weights move.")
    left = ("none of PPO's samples" if not wrong[0, -1] else
            f"{wrong[0, -1]:.0%} of PPO's samples")
    return (f"{start} After {KNOCK_STEPS} steps {left} and {wrong[1, -1]:.0%} of the learner's "
            f"are still there. PPO's real gain ends at {gain[0, -1]:+.3f}; the learner's "
            f"version, which has no gradient on the wrong side, ends at {gain[1, -1]:+.3f}. "
            "Press play to replay the steps.")


# 4. Advantages with GAE


@st.fragment
def gae_section() -> None:
    st.header("4. Advantages with GAE", anchor="gae", divider="gray")
    st.markdown(
        "Where does Â come from? The critic V(s) predicts how much reward is still to come. "
        "The **TD error** δ_t compares one step of reality with that prediction: low noise, "
        "but as wrong as V is. Adding up discounted TD errors to the end of the trajectory gives "
        "the **Monte Carlo** advantage, the actual return minus V(s_t): no bias from V, but all "
        "the noise of the whole trajectory. **GAE** weights the TD errors by (γλ)^l, so λ dials "
        "between the two. (Rewards are written R_t here, so they are not confused with the "
        "ratio r_t.)"
    )
    left, right = st.columns(2)
    with left:
        cards.equation_card(
            r"\delta_t = R_t + \gamma\, V(s_{t+1}) - V(s_t)",
            "The TD error: what one step actually gave, minus what the critic expected.",
            "PPO", "Schulman et al. 2017, Eq. 12",
        )
    with right:
        cards.equation_card(
            r"\hat A_t = \sum_{l=0}^{T-t-1} (\gamma\lambda)^l\, \delta_{t+l}"
            r"\;=\; \delta_t + \gamma\lambda\, \hat A_{t+1}",
            "The GAE advantage: λ = 0 keeps only δ_t; λ = 1 gives the return minus V(s_t).",
            "PPO", "Schulman et al. 2017, Eq. 11; Schulman et al. 2016",
        )
    _gae_demo()
    code.show_code(ppo.td_errors, ppo.gae)
    cards.takeaway(
        "λ trades bias for variance: λ = 0 trusts the critic after one step, λ = 1 trusts only "
        "the rewards. PPO's papers use λ around 0.95."
    )


@st.fragment
def _gae_demo() -> None:
    one, two = st.columns(2)
    with one:
        rewards_text = state.text(REWARDS, "Rewards R_0, R_1, …", help="One per step, commas "
                                  f"between them, up to {MAX_STEPS}.")
        gamma = state.slider(GAMMA, "Discount γ")
    with two:
        values_text = state.text(VALUES, "Critic values V(s_0), …, V(s_T)",
                                 help="One more than the rewards: the last is the bootstrap "
                                 "value of the state after the last step (0 if it ended).")
        lam = state.slider(LAMBDA, "GAE λ")
    try:
        rewards = state.parse_numbers(rewards_text, "Rewards", 1, MAX_STEPS)
        values = state.parse_numbers(values_text, "Values", 2, MAX_STEPS + 1)
        delta = ppo.td_errors(rewards, values, gamma)
        adv = ppo.gae(rewards, values, gamma, lam)
        adv_td = ppo.gae(rewards, values, gamma, 0.0)
        adv_mc = ppo.gae(rewards, values, gamma, 1.0)
        dial = ppo.gae_over_lambda(rewards, values, gamma, LAMBDA_GRID)
        targets = ppo.lambda_returns(rewards, values, gamma, lam)
    except ValueError as error:
        st.error(str(error))
        return
    t = np.arange(len(rewards))
    left, right = st.columns([3, 2], gap="medium")
    with left:
        show(pf.gae_bars(t, delta, adv, adv_td, adv_mc, lam), key="ppo_gae_chart",
             caption="Each GAE bar is its own δ_t plus γλ times the next step's advantage, so "
             "late rewards reach early steps only as far as γλ lets them.")
    with right:
        show(pf.gae_dial(LAMBDA_GRID, dial, lam, float(adv[0])), key="ppo_gae_dial",
             caption="Â_0 is a polynomial in λ: it runs from δ_0 (TD) to G_0 − V(s_0) "
             "(Monte Carlo).")
    _table(
        pd.DataFrame({
            "t": t,
            "R_t": rewards,
            "V(s_t)": values[:-1],
            "V(s_t+1)": values[1:],
            "δ_t": delta,
            f"Â_t (λ = {lam:g})": adv,
            "Â_t, λ = 0": adv_td,
            "Â_t, λ = 1": adv_mc,
            "critic target Â_t + V(s_t)": targets,
        }),
        formats={"R_t": "{:g}", "V(s_t)": "{:g}", "V(s_t+1)": "{:g}"},
    )
    st.caption("The last column is what PPO trains the critic towards (the λ-return). In this "
               "page's bandit every episode is one step with no next state, so δ_0 = R − V(x) "
               "and GAE gives that for any λ.")


# 5. PPO in action


@st.fragment
def training_section() -> None:
    st.header("5. PPO in action", anchor="training", divider="gray")
    st.markdown(
        f"The full loop (Algorithm 1 of the paper): collect a batch of {BATCH_SIZE} prompts "
        "with the current policy, compute advantages with the critic, then make several "
        f"**epochs** of gradient ascent over the batch in {MINIBATCHES} minibatches of "
        f"{BATCH_SIZE // MINIBATCHES}, all measured against the policy that collected it; then "
        f"collect a new batch. {UPDATES} updates, {N_SEEDS} seeds at once, and the same run "
        "without PPO's clipping (or with the learner's version) beside it. Runs with one seed "
        "see the same prompts and the same luck. Advantages are normalised per batch, as most "
        "PPO code does."
    )
    left, right = st.columns(2)
    with left:
        cards.equation_card(
            r"\widehat{KL}\big(\pi_\text{old}\,\|\,\pi_\theta\big) = \hat{\mathbb{E}}_t\big[(r_t"
            r" - 1) - \log r_t\big]",
            "Approximate KL from the batch alone: each term is ≥ 0 and its mean is unbiased "
            "(the 'k3' estimator that implementations log as approx_kl).",
            "PPO", "Schulman 2020, Approximating KL divergence",
        )
    with right:
        cards.equation_card(
            r"\text{clip fraction} = \hat{\mathbb{E}}_t\big[\,\mathbb{1}\{|r_t - 1| > "
            r"\epsilon\}\,\big]",
            "The share of samples whose ratio has left the band, averaged over the update's "
            "minibatch steps.",
            "PPO",
        )
    _training_demo()
    code.show_code(ppo.ppo_run, ppo.approx_kl, ppo.clip_fraction)
    cards.takeaway(
        "Clipping lets PPO reuse a batch for several epochs safely: each update stays close to "
        "the policy that collected the data. Watch approx KL and the clip fraction in real "
        "runs; a KL that jumps means the updates are too large."
    )


@st.fragment
def _training_demo() -> None:
    # Two rows: the comparison's two long options keep their room in presenter mode.
    c = st.columns(3)
    with c[0]:
        epsilon = state.slider(RUN_EPSILON, "Clip range ε")
    with c[1]:
        epochs = state.slider(EPOCHS, "Epochs per batch")
    with c[2]:
        lr = state.slider(LEARNING_RATE, "Learning rate")
    c = st.columns([1, 2])
    with c[0]:
        seed = state.number(RUN_SEED, "Seed", help=f"Seeds the group of {N_SEEDS} runs.")
    with c[1]:
        versus = state.choice(VERSUS, "Compare PPO with")
    other = COMPARE[versus]
    try:
        run, seconds = _train(float(epsilon), int(epochs), float(lr), int(seed), other)
        summary = ppo.summarize_run(run, CRASH_LEVEL, CRASH_AFTER)
    except ValueError as error:
        st.error(str(error))
        return
    names = ("ppo", other)
    left, right = st.columns([3, 1], gap="large")
    with left:
        _table(
            pd.DataFrame({
                "Run": [pf.OBJECTIVE_NAMES[key] for key in names],
                "Final expected reward": summary["final"],
                f"Seeds that crashed (of {N_SEEDS})": summary["crashed"],
                "Mean KL per update (nats)": summary["kl"],
            }),
            formats={"Final expected reward": "{:.3f}"},
        )
        st.caption(f"Means over {N_SEEDS} seeds; the best possible expected reward is "
                   f"{run['optimal']:.3f}. A seed counts as crashed when its expected reward "
                   f"falls below {CRASH_LEVEL} at some update after the {CRASH_AFTER}th. KL is "
                   "the exact KL(π_old‖π_new) of each update.")
    with right:
        st.metric("Training time", f"{seconds * 1000:.0f} ms",
                  help=f"All {2 * N_SEEDS} runs, computed once for these settings and cached.")
    settings = (float(epsilon), int(epochs), float(lr), int(seed), other)
    replay = training_replay(*settings)
    explorable.show(replay, key="ppo_training_chart",
                    start=explorable.frame_count(replay) - 1,
                    caption=_training_caption(summary, versus))
    _inspect_update(settings, versus)


def _training_caption(summary: dict, versus: str) -> str:
    """What the training replay shows, in the runs' own numbers (summary: summarize_run's,
    PPO first)."""
    crashed, kl = summary["crashed"], summary["kl"]
    other = COMPARED_WITH[versus]
    if crashed.any():
        verb = "crashes" if crashed[1] == 1 else "crash"
        crashes = f"{crashed[1]} of the {N_SEEDS} seeds {verb} {other} and {crashed[0]} with PPO"
    else:
        crashes = "no seed crashes with either objective"
    return (f"Bold: the mean of {N_SEEDS} seeds; shaded: their range, which drops when a seed "
            "crashes. A crash follows an update that moves the policy far, as several epochs "
            "on a lucky batch (a long-shot jackpot) can when nothing holds the ratios near 1. "
            f"With these settings {crashes}; the mean KL per update is {kl[0]:.3g} nats with "
            f"PPO and {kl[1]:.3g} {other}. Press play to train again from the first update.")


@st.fragment
def _inspect_update(settings: tuple, versus: str) -> None:
    """Inside the updates of the first seed: the ratios epoch by epoch. A fragment of its own,
    so moving its control redraws only this chart, not the training replay."""
    controls, chart = st.columns([1, 3], gap="large")
    with controls:
        update = state.slider(INSPECT, "Update to inspect", help=_opens_at("moves through the "
                              "updates"))
        st.caption("The chart follows the first seed of the group. Above it: the update's "
                   "exact KL, its two estimates from the batch's ratios after the last epoch "
                   "(both use only the batch; k1 can even come out negative, k3 never does), "
                   "and the update's clip fraction.")
    with chart:
        spec = update_inspector(*settings)
        explorable.show(
            spec, key="ppo_inspect_chart", start=int(update) - 1,
            caption=f"After each epoch: the middle 80 % of the batch's ratios (shaded) and their "
            f"median (dashed lines: the band 1 ± {settings[0]:g}). PPO stops pushing a ratio "
            f"once it has moved ε the way its advantage asks; {INSPECT_OTHERS[versus]}")


QUESTIONS = [
    quiz.Numeric(
        qid="value_up",
        prompt="With r = 1.5, A = 2 and ε = 0.2, what is $L^{CLIP}$ = min(r·A, clip(r)·A)?",
        answer=2.4,
        tolerance=1e-6,
        explanation="r·A = 3.0 and clip(1.5) = 1.2, so clip(r)·A = 2.4; the min is 2.4. The "
        "ratio moved beyond 1+ε the way A asks, so the objective is flat here.",
    ),
    quiz.Numeric(
        qid="value_down",
        prompt="With r = 0.5, A = −1 and ε = 0.2, what is $L^{CLIP}$?",
        answer=-0.8,
        tolerance=1e-6,
        explanation="r·A = −0.5 and clip(0.5)·A = 0.8·(−1) = −0.8; the min is −0.8. With A < 0 "
        "the action's probability already fell below 1−ε, which is as far as this update goes.",
    ),
    quiz.Choice(
        qid="zero_gradient",
        prompt="In which cases is the gradient of $L^{CLIP}$ with respect to r zero?",
        options=[
            "Whenever r is outside [1−ε, 1+ε]",
            "A > 0 with r > 1+ε, and A < 0 with r < 1−ε",
            "A > 0 with r < 1−ε, and A < 0 with r > 1+ε",
            "Never: the min always keeps a slope",
        ],
        answer="A > 0 with r > 1+ε, and A < 0 with r < 1−ε",
        explanation="Only where the policy already moved more than ε the way the advantage "
        "asks. Outside the band on the other side, the min picks r·A and the slope is A.",
    ),
    quiz.Choice(
        qid="learner",
        prompt="What is max(1−ε, min(r, 1+ε))?",
        options=[
            "PPO's objective $L^{CLIP}$",
            "clip(r, 1−ε, 1+ε), the clipped ratio",
            "A clip to a different range than PPO's",
            "The probability ratio r",
        ],
        answer="clip(r, 1−ε, 1+ε), the clipped ratio",
        explanation="It is the clip itself. PPO then takes min(r·A, clip(r)·A), which is "
        "why r = 0.4, ε = 0.3, A = 1 gives 0.4 rather than 0.7.",
    ),
    quiz.Numeric(
        qid="td",
        prompt="One step with reward R = 1, V(s) = 0.5, V(s') = 2 and γ = 0.9. What is the "
        "GAE advantage with λ = 0?",
        answer=2.3,
        tolerance=1e-6,
        explanation="With λ = 0, GAE is the TD error: 1 + 0.9·2 − 0.5 = 2.3.",
    ),
    quiz.Choice(
        qid="code_form",
        prompt="Which loss do PPO implementations minimise, per sample?",
        options=[
            "max(−A·r, −A·clip(r, 1−ε, 1+ε))",
            "min(−A·r, −A·clip(r, 1−ε, 1+ε))",
            "−A·clip(r, 1−ε, 1+ε)",
            "(r − 1) − log r",
        ],
        answer="max(−A·r, −A·clip(r, 1−ε, 1+ε))",
        explanation="Negating turns the min into a max: −min(x, y) = max(−x, −y). "
        "(r − 1) − log r is the approx-KL estimator, logged but not minimised.",
    ),
    quiz.Choice(
        qid="kl",
        prompt="A run logs approx KL (the (r−1) − log r estimator) jumping from 0.01 to 0.5 per "
        "update. What does that suggest?",
        options=[
            "The policy is changing far more per update: lower the learning rate or epochs",
            "Training has converged",
            "The advantages are all zero",
            "Nothing: approx KL can be any size",
        ],
        answer="The policy is changing far more per update: lower the learning rate or epochs",
        explanation="Approx KL measures how far each update moves the policy from the one that "
        "collected the data; a jump is the too-large step clipping is meant to prevent.",
    ),
]




def check_yourself() -> None:
    quiz.lesson_check(SLUG, QUESTIONS, 6, takeaway=(
        "PPO climbs ratio × advantage but takes the pessimistic minimum with its clipped copy, so"
        " one batch can never pull the policy far from the one that collected it."))


LESSON_STEPS.show((surrogate_section, clipping_section, learner_question_section, gae_section,
                   training_section, check_yourself))
