"""Lab: DPO or RLHF? Both trained on the same data, measured against the exact reward–KL
frontier."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from lessons import frontier as fr
from lessons import toy_lm as lm
from ui import cards, code, course, explorable, quiz, shared, state, steps
from ui import lab_figures as lf
from ui.figures import fmt, show
from ui.state import Param

SLUG = "dpo-vs-rlhf"
TASK = lm.make_task()

PAIR_OPTIONS = ("100", "300", "1000", "3000", "10000", "30000", "100000")
NOISE_OPTIONS = ("0", "0.1", "0.2", "0.3")
FEW_PAIRS, MANY_PAIRS = 300, 30_000  # the data step's "few" and "many"
NOISY = 0.2  # the data step's noisy labels: a fifth written the wrong way round
COMPARE_OPTIONS = ("Few vs many pairs", "Clean vs noisy labels")
CLOSER_OPTIONS = ("DPO's", "RLHF's", "It depends on the KL")  # step 3's guess
NAMES = {key: method.name for key, method in fr.METHODS.items()}
COEFFICIENTS = {key: method.coefficient for key, method in fr.METHODS.items()}
COLUMN_NAMES = {fr.DPO.name: "DPO", fr.RLHF.name: "RLHF", fr.PPO_TRUE.name: "PPO, true reward",
                fr.PREFERRED.name: "preferred-response FT"}
COST_ROWS = ("runs in the sweep", "models in memory", "optimiser steps per run",
             "replies sampled per run", "preference labels", "ms per run", "ms in total")
SHORT = {"dpo": "DPO", "rlhf": "RLHF", "ppo_true": "PPO with the true reward",
         "preferred_ft": "preferred-response fine-tuning", "reference": "the reference"}

STEPS = steps.Steps("lab", (
    "The question and the frontier",
    "Five contenders, one dataset",
    "Run the sweep",
    "What each method costs",
    "The effect of data",
    "So which is better?",
    "Check yourself",
))

BETA = Param("lab_beta", 1.0, lo=0.1, hi=10.0, step=0.1)
# The frontier's explorable: β from 0.1 to 10 (the control's range), log-spaced, at two
# significant digits; it holds the sweep's β (0.1, 0.25, 0.5, 1, 2, 4), and a β of the control
# between two of its points opens the chart at the nearer one
BETA_GRID = tuple(float(f"{b:.2g}") for b in np.geomspace(0.1, 10.0, 41))
FRONTIER_BETAS = np.geomspace(0.03, 100.0, 120)  # the frontier as drawn: 120 points
REPLAY_OPTIONS = tuple(f"{b:g}" for b in fr.SWEEPS["full"][fr.DPO.key])
REPLAY_CHECKPOINTS = 31  # frames of a replayed run: its policy at 31 evenly spread updates
PAIRS = Param("lab_pairs", "3000", options=PAIR_OPTIONS)
NOISE = Param("lab_noise", "0", options=NOISE_OPTIONS)
SEED = Param("lab_seed", 0, lo=0, hi=9999, step=1)
QUICK = Param("lab_quick", False)
COMPARE = Param("lab_compare", COMPARE_OPTIONS[0], options=COMPARE_OPTIONS)
ZOOM = Param("lab_zoom", False)
REPLAY_BETA = Param("lab_replay_beta", "1", options=REPLAY_OPTIONS)
CLOSER_GUESS = Param("lab_closer_guess", None, options=CLOSER_OPTIONS)
ZOOM_RANGE = ((-0.05, 1.65), (-0.3, 2.4))  # KL (nats), reward (points) near the reference

PARAMS = (STEPS.param, BETA, PAIRS, NOISE, SEED, QUICK, COMPARE, ZOOM, REPLAY_BETA,
          CLOSER_GUESS)


@dataclass(frozen=True)
class Settings:
    """The committed settings of the sweep (what the form held when it was last submitted)."""

    n_pairs: int
    noise: float
    seed: int
    quick: bool

    def describe(self) -> str:
        flipped = "no labels flipped" if self.noise == 0 else \
            f"{self.noise:.0%} of labels flipped"
        return (f"{self.n_pairs:,} pairs, {flipped}, seed {self.seed}, "
                f"{'quick' if self.quick else 'full'} sweep")


# Page-side caches: one entry per dataset, per reward model and per run, so a sweep that shares
# runs with an earlier one (the same data, a method that needs none) retrains nothing.


@shared.cache_data(max_entries=16, show_spinner=False)
def _curve(kl_max: float | None = None) -> dict:
    return fr.frontier_curve(TASK, kl_max, FRONTIER_BETAS)


@shared.cache_data(max_entries=1, show_spinner=False)
def _frontier_explorable() -> dict:
    """Step 1's chart: π*_β's point and its spread of the reward at every β of BETA_GRID."""
    optima = np.stack([lm.optimum(TASK, beta) for beta in BETA_GRID])
    values, shares = fr.reward_distribution(TASK, optima)
    _, ref_shares = fr.reward_distribution(TASK, TASK.ref_probs)
    return lf.frontier_walk(_curve(), fr.optimal_frontier(TASK, BETA_GRID), values, shares,
                            ref_shares)


@shared.cache_data(max_entries=1, show_spinner=False)
def _best_reward() -> float:
    return fr.greedy_corner(TASK)[1]


@shared.cache_data(max_entries=1, show_spinner=False)
def _reference_reward() -> float:
    return lm.expected_reward(TASK.ref_probs, TASK.true_rewards)


@shared.cache_data(max_entries=8, show_spinner=False)
def _pairs(n_pairs: int, noise: float, seed: int) -> dict:
    return fr.preference_data(TASK, n_pairs, noise, seed)


@shared.cache_data(max_entries=8, show_spinner=False)
def _reward_model(n_pairs: int, noise: float, seed: int, budget: fr.Budget) -> dict:
    return fr.fit_reward_model(TASK, _pairs(n_pairs, noise, seed), budget)


@shared.cache_data(max_entries=512, show_spinner=False)
def _run(method: str, coefficient: float | None, n_pairs: int, noise: float, seed: int,
         budget: fr.Budget) -> dict:
    pairs = _pairs(n_pairs, noise, seed) if n_pairs else None
    model = _reward_model(n_pairs, noise, seed, budget) if method == fr.RLHF.key else None
    return fr.run(TASK, method, coefficient, pairs, model, seed, budget)


def _uses_data(method: str) -> bool:
    return method in (fr.DPO.key, fr.RLHF.key, fr.PREFERRED.key)


def _planned(n_pairs: int, noise: float, quick: bool, methods: tuple[str, ...] | None
             ) -> list[tuple[str, float | None, int, float]]:
    """The runs of one sweep as `_run` keys them: (method, coefficient, n_pairs, noise), with no
    data for the methods that need none (so sweeps on other data share their runs)."""
    return [(method, coefficient, *((n_pairs, noise) if _uses_data(method) else (0, 0.0)))
            for method, coefficient in fr.sweep_plan(quick, methods)]


def _swept_betas(quick: bool) -> list[float]:
    """Every β of the sweep's plan, in increasing order (the grid its chart walks)."""
    return sorted({c for _, c in fr.sweep_plan(quick) if c is not None})


@shared.cache_data(max_entries=16, show_spinner=False)
def _sweep_explorable(n_pairs: int, noise: float, seed: int, quick: bool, zoom: bool,
                      budget: fr.Budget) -> dict:
    """Step 3's chart: every run of the sweep, walked by β, with π*_β at each β."""
    rows = [_run(*run, seed, budget) for run in _planned(n_pairs, noise, quick, None)]
    betas = _swept_betas(quick)
    return lf.sweep_walk(_curve(_kl_max(rows)), rows, betas, fr.optimal_frontier(TASK, betas),
                         "Every run against the exact frontier",
                         ZOOM_RANGE if zoom else None)


@shared.cache_data(max_entries=16, show_spinner=False)
def _replay(beta: float, n_pairs: int, noise: float, seed: int, budget: fr.Budget) -> dict:
    """DPO and RLHF at one β trained again as the sweep trains them (the same budget and seed,
    so they end where the sweep's runs at this β land), keeping every step's exact KL and
    reward and the policy at REPLAY_CHECKPOINTS updates."""
    pairs = _pairs(n_pairs, noise, seed)
    dpo = lm.train_dpo(TASK, pairs, beta=beta, steps=budget.dpo_steps, lr=budget.dpo_lr,
                       seed=seed, checkpoints=REPLAY_CHECKPOINTS)
    rlhf = lm.train_ppo_rlhf(
        TASK, _reward_model(n_pairs, noise, seed, budget)["scores"], beta=beta,
        iterations=budget.ppo_iterations, batch_size=budget.ppo_batch, epochs=budget.ppo_epochs,
        minibatches=budget.ppo_minibatches, lr=budget.ppo_lr, seed=seed,
        checkpoints=REPLAY_CHECKPOINTS)
    runs = {}
    for method, trained, unit in ((fr.DPO.key, dpo, "step"), (fr.RLHF.key, rlhf, "rollout")):
        history, kept = trained["history"], trained["checkpoints"]
        values, shares = fr.reward_distribution(TASK, kept["probs"])
        runs[method] = {"step": history["step"], "kl": history["kl"],
                        "true_reward": history["true_reward"], "checkpoint_step": kept["step"],
                        "shares": shares, "unit": unit}
    optimum = fr.optimal_frontier(TASK, [beta])
    _, target_shares = fr.reward_distribution(TASK, lm.optimum(TASK, beta))
    target = {"kl": float(optimum["kl"][0]), "true_reward": float(optimum["true_reward"][0])}
    farthest = max(float(np.max(run["kl"])) for run in runs.values())
    return lf.training_replay(_curve(round(max(farthest, target["kl"]) * 1.3 + 0.2, 1)), runs,
                              target, values, target_shares, beta)


def _coefficient_text(method: str, coefficient: float | None) -> str:
    return f" at {COEFFICIENTS[method]} = {coefficient:g}" if coefficient is not None else ""


def _sweep(s: Settings, methods: tuple[str, ...] | None = None, quick: bool | None = None,
           n_pairs: int | None = None, noise: float | None = None) -> list[dict]:
    """The rows of one sweep, run by run from the cache, with a progress bar the first time."""
    quick = s.quick if quick is None else quick
    n_pairs = s.n_pairs if n_pairs is None else n_pairs
    noise = s.noise if noise is None else noise
    plan = _planned(n_pairs, noise, quick, methods)
    key = (n_pairs, noise, s.seed, quick, methods, fr.BUDGET)
    done = st.session_state.setdefault("_lab_sweeps_done", set())
    bar = None if key in done else st.progress(0.0, text="Starting the sweep…")
    rows = []
    for i, run in enumerate(plan):
        method, coefficient = run[:2]
        if bar is not None:
            bar.progress(i / len(plan), text=f"Run {i + 1} of {len(plan)}: {NAMES[method]}"
                         f"{_coefficient_text(method, coefficient)} ({n_pairs:,} pairs)")
        rows.append(_run(*run, s.seed, fr.BUDGET))
    if bar is not None:
        bar.empty()
    done.add(key)
    return rows


def _settings_form(collapsed: bool) -> Settings:
    """The sweep's settings, in a form: nothing retrains until "Run the sweep" is pressed."""
    box = st.expander("Settings of the sweep", icon=":material/tune:") if collapsed \
        else st.container()
    with box, st.form("lab_settings", border=True):
        left, mid, right, last = st.columns([1.2, 1.6, 1, 1.2], vertical_alignment="bottom")
        with left:
            n_pairs = state.choice(PAIRS, "Preference pairs", widget="selectbox",
                                   help="How many labelled pairs every method shares.")
        with mid:
            noise = state.choice(NOISE, "Label noise: share of labels flipped",
                                 help="On top of the Bradley–Terry annotator's own randomness, "
                                 "this share of the labels is written the wrong way round.")
        with right:
            seed = state.number(SEED, "Seed", help="Draws the pairs and PPO's samples; part of "
                                "the shared link.")
        with last:
            quick = state.toggle(QUICK, "Quick sweep (class)", help="Fewer β values per "
                                 "method: about half the time, the same budget per run.")
        st.form_submit_button("Run the sweep", key="lab_run", type="primary",
                              icon=":material/play_arrow:")
    settings = Settings(*fr.check_settings(int(n_pairs), float(noise), int(seed)), bool(quick))
    st.caption(f"Sweep settings: {settings.describe()}.")
    return settings


def _results_frame(rows: list[dict], s: Settings) -> pd.DataFrame:
    """The results table, one row per run: what the CSV download holds."""
    return pd.DataFrame({
        "method": [NAMES[r["method"]] for r in rows],
        "coefficient": [COEFFICIENTS[r["method"]] or "" for r in rows],
        "coefficient_value": [r["coefficient"] for r in rows],
        "true_reward": [r["true_reward"] for r in rows],
        "kl_nats": [r["kl"] for r in rows],
        "frontier_reward": [r["frontier_reward"] for r in rows],
        "gap_to_frontier": [r["gap"] for r in rows],
        "reward_model_score": [r["rm_score"] for r in rows],
        "optimiser_steps": [r["steps"] for r in rows],
        "samples_drawn": [r["samples"] for r in rows],
        "preference_labels": [r["labels"] for r in rows],
        "wall_ms": [r["wall_ms"] for r in rows],
        "n_pairs": s.n_pairs, "label_noise": s.noise, "seed": s.seed,
    })


def _number(value: float, digits: int = 3) -> str:
    return "—" if math.isnan(value) else fmt(value, digits)


def _shown_results(rows: list[dict]) -> pd.DataFrame:
    """The results table as the page shows it: rounded, with a dash where nothing applies."""
    return pd.DataFrame({
        "method": [NAMES[r["method"]] for r in rows],
        "β": [_number(r["coefficient"], 2) for r in rows],
        "E[r]": [_number(r["true_reward"]) for r in rows],
        "KL (nats)": [_number(r["kl"]) for r in rows],
        "frontier E[r] at this KL": [_number(r["frontier_reward"]) for r in rows],
        "gap": [_number(r["gap"]) for r in rows],
        "reward model's score": [_number(r["rm_score"]) for r in rows],
        "steps": [r["steps"] for r in rows],
        "replies sampled": [r["samples"] for r in rows],
        "ms": [f"{r['wall_ms']:.0f}" for r in rows],
    })


def _kl_max(rows: list[dict]) -> float:
    return round(max(r["kl"] for r in rows) * 1.04 + 0.1, 1)


def _sentence(text: str) -> str:
    """The text with its first letter in capitals (and nothing else changed)."""
    return text[:1].upper() + text[1:]


def _band_short(lo: float, hi: float) -> str:
    return f"below {hi:g}" if lo == 0 else f"above {lo:g}" if math.isinf(hi) else f"{lo:g}–{hi:g}"


def _band(lo: float, hi: float) -> str:
    if lo == 0:
        return f"below {hi:g} nats of KL"
    if math.isinf(hi):
        return f"beyond {lo:g} nats of KL"
    return f"between {lo:g} and {hi:g} nats of KL"


# The page

st.title("Lab: DPO or RLHF?")
state.check_link(PARAMS)
st.markdown(
    "A learner asked which works better in practice, DPO or RLHF. This lab answers with an "
    "experiment you run yourself: both methods, and three others for scale, fine-tune the tiny "
    "language model of the earlier lessons on **the same preference data**, and each run is "
    "placed on a map of what is possible at all. The verdict on this page is written from your "
    "measurements, not in advance."
)
st.caption(f"Accompanies *{course.VIDEOS['dpo']}* and *{course.VIDEOS['rlhf']}* by "
           f"{course.SERIES_AUTHOR}.")


# 1. The frontier


def question() -> None:
    st.header("1. The question and the frontier", divider="gray")
    st.markdown(
        "“Better” needs a yardstick. Both methods chase the same goal: a higher reward from the "
        "hidden reader, while staying close to the reference model, measured by the KL "
        "divergence from it. So every fine-tuned model is a point on a plane: **how far it "
        "moved** (KL, across) against **how much the reader likes it** (expected reward, up). "
        "On the toy model both numbers are exact sums over all 399 replies per prompt."
    )
    st.markdown(
        "Nobody can be above a certain curve on that plane. For each β, the policy "
        "π*_β ∝ π_ref·e^(r/β) is the best possible trade-off of reward against KL; sliding β "
        "from large to small traces the **exact optimal frontier**. A run below the curve "
        "left reward on the table at its KL; the vertical distance is its **gap**."
    )
    cards.equation_card(
        r"R^*(k) = \max_{\pi:\ \mathrm{KL}(\pi\|\pi_{\text{ref}}) \le k} \mathbb{E}_{\pi}[r]"
        r" = \mathbb{E}_{\pi^*_\beta}[r], \qquad "
        r"\pi^*_\beta(y\mid x) = \frac{\pi_{\text{ref}}(y\mid x)\,e^{r(x,y)/\beta}}{Z_\beta(x)}",
        "The frontier: the best expected reward within a KL budget k is reached by π*_β, with "
        "β chosen so that its KL is exactly k.",
        "RLHF", "Rafailov et al. 2023, Eq. 4",
    )
    _frontier_demo()
    code.show_code(fr.optimal_frontier, fr.frontier_reward, fr.reward_distribution)
    cards.takeaway("The frontier is the yardstick: no method can cross it, so the question "
                   "becomes how close each method gets to it, and at what KL.")


@st.fragment
def _frontier_demo() -> None:
    beta = float(state.slider(BETA, "β of the optimum π*_β (small β: chase the reward)",
                              help="Sets where the chart opens, and goes into the shared link. "
                              "The slider under the chart moves β at once."))
    start = explorable.nearest(np.log(BETA_GRID), math.log(beta))  # nearest on its log scale
    opened = "" if BETA_GRID[start] == beta else (
        f" The chart opens at β = {BETA_GRID[start]:g}, the point of its slider nearest the "
        f"{beta:g} set above.")
    reference = f"{_reference_reward():.3f}".replace("-", "−")  # a minus sign
    explorable.show(
        _frontier_explorable(), key="lab_frontier_chart", start=start,
        caption="Top: the exact frontier, with π\\*_β on it (pink) for the β of the slider "
        "under the chart. Bottom: how often π\\*_β (pink) and the reference (grey) write a "
        "reply of each reward. Lower β climbs the curve and moves the mass to the best "
        f"replies; the curve's end, at {_best_reward():g} points, always writes a best reply "
        f"(the reference earns {reference})." + opened)


# 2. The contenders


def contenders() -> None:
    st.header("2. Five contenders, one dataset", divider="gray")
    st.markdown(
        "All methods start from the same reference model and, where they learn from people, "
        "from the same dataset: pairs of replies sampled from the reference, labelled by a "
        "Bradley–Terry annotator with the hidden reward (τ = 1), then a share of the labels "
        "written the wrong way round (the label noise you set in step 3)."
    )
    st.table(pd.DataFrame({
        "method": [m.name for m in fr.METHODS.values()],
        "learns from": ["the preference pairs, directly",
                        "the pairs, through a reward model; then its own samples",
                        "its own samples, scored by the hidden reward itself",
                        "the chosen reply of each pair (the rejected one is thrown away)",
                        "nothing: the starting point"],
        "swept coefficient": [m.coefficient or "—" for m in fr.METHODS.values()],
        "models in memory": [f"{m.models}: {m.models_what}" for m in fr.METHODS.values()],
    }), hide_index=True)
    left, right = st.columns(2)
    with left:
        cards.equation_card(
            r"\begin{aligned}\mathcal{L}_{\text{DPO}} &= -\log\sigma(\beta\, h), \\ h &= "
            r"\log\frac{\pi_\theta(y_w\mid x)}{\pi_{\text{ref}}(y_w\mid x)} - "
            r"\log\frac{\pi_\theta(y_l\mid x)}{\pi_{\text{ref}}(y_l\mid x)}\end{aligned}",
            "DPO fits the policy to the pairs directly; with endless clean data its minimiser is "
            "π*_β.",
            "DPO", "Rafailov et al. 2023, Eq. 7",
        )
        cards.equation_card(
            r"\mathcal{L}_{\text{pref}} = -\log \pi_\theta(y_w \mid x)",
            "Preferred-response fine-tuning imitates the chosen replies: no β, nothing keeps "
            "it near the reference except a short training.",
            "RLHF", "its supervised step, on the chosen replies",
        )
    with right:
        cards.equation_card(
            r"\begin{aligned}\hat r &= \arg\min_r\, -\log\sigma\big(r(y_w) - r(y_l)\big)"
            r"\\ \pi_\theta &= \arg\max_\pi\, \mathbb{E}_\pi[\hat r] - \beta\,"
            r"\mathrm{KL}(\pi\|\pi_{\text{ref}})\end{aligned}",
            "RLHF fits a reward model r̂ (bag of words, blind to repeats), then PPO maximises "
            "its score minus β·KL. PPO with the true reward uses r in place of r̂.",
            "RLHF", "Ouyang et al. 2022, Eq. 2",
        )
    st.markdown(
        "DPO's β and PPO's KL coefficient play the same role: both are the β of the "
        "KL-regularised objective, so with perfect data and perfect optimisation both would "
        "land exactly on the frontier at the point π*_β of step 1. Every run gets the same "
        f"budget: DPO {fr.BUDGET.dpo_steps} full-batch steps; PPO {fr.BUDGET.ppo_iterations} "
        f"rollouts of {fr.BUDGET.ppo_batch} replies; the reward model "
        f"{fr.BUDGET.reward_model_steps} steps, once per dataset; preferred-response "
        f"fine-tuning {fr.BUDGET.preferred_steps} steps."
    )
    code.show_code(fr.run, fr.preference_data)
    cards.takeaway("The contest is fair by construction: one dataset, one reference, one "
                   "yardstick. What differs is how each method turns the pairs into a policy.")


# 3. The sweep


def run_sweep() -> None:
    st.header("3. Run the sweep", divider="gray")
    st.markdown(
        "Choose the data, then press **Run the sweep**: DPO at several β, RLHF at several KL "
        "coefficients, PPO with the true reward at the same coefficients, one run of "
        "preferred-response fine-tuning and the reference. Every result is kept, so a setting "
        "you have run before comes back at once."
    )
    s = _settings_form(collapsed=False)
    rows = _sweep(s)
    if _predict_closer(rows):
        _sweep_charts(rows, s)
        frame = _results_frame(rows, s)
        st.dataframe(_shown_results(rows), hide_index=True, width="stretch")
        st.download_button(
            "Download the results (CSV)", data=frame.to_csv(index=False).encode("utf-8"),
            file_name=f"dpo_vs_rlhf_{s.n_pairs}pairs_noise{s.noise:g}_seed{s.seed}"
            f"{'_quick' if s.quick else ''}.csv", mime="text/csv", key="lab_csv",
            on_click="ignore", icon=":material/download:")
    code.show_code(fr.run, fr.frontier_gap)
    cards.takeaway("Read the chart by columns: at the same KL, the higher point is the better "
                   "model. PPO with the true reward shows what PPO can do; the distance from "
                   "it down to RLHF is the reward model's fault, not PPO's.")


def _closer(comparison: list[dict]) -> str | None:
    """The guess the sweep bears out: the method closer to the frontier in every range of KL
    where both landed, or "it depends" when that changes with the range (None: DPO and RLHF
    never landed in the same range)."""
    closers = {c["closer"] for c in comparison}
    if len(closers) != 1:
        return CLOSER_OPTIONS[2] if closers else None
    return CLOSER_OPTIONS[0] if closers == {fr.DPO.key} else CLOSER_OPTIONS[1]


def _verdict(comparison: list[dict]) -> str:
    """fr.compare_methods in sentences, one per range of KL."""
    return " ".join(f"{_sentence(_band(c['lo'], c['hi']))}: {SHORT[c['closer']]} closer by "
                    f"{c['by']:.2f}." for c in comparison) or \
        "DPO and RLHF landed at different KLs: compare them along the curve."


def _predict_closer(rows: list[dict]) -> bool:
    """Step 3's "predict first": whose runs get closer to the frontier at the same KL. True
    once there is a guess (or nothing to guess: no range of KL holds runs of both)."""
    comparison = fr.compare_methods(rows)
    answer = _closer(comparison)
    if answer is None:
        return True
    return cards.predict(
        CLOSER_GUESS, "With the data set above, whose runs will reach more true reward at the "
        "same KL, that is, land closer to the frontier: DPO's or RLHF's?", answer=answer,
        why=f"{_verdict(comparison)} DPO learns each reply's probability from the pairs it "
        "appears in; RLHF's reward model generalises across replies, but PPO finds its blind "
        "spots when the KL penalty is weak. Which weighs more depends on the data and on how "
        "far from π_ref a run goes.")


@st.fragment
def _sweep_charts(rows: list[dict], s: Settings) -> None:
    """The sweep walked by β, and the replay of DPO and RLHF at the chosen β."""
    verdict = _verdict(fr.compare_methods(rows))
    left, right = st.columns([1.3, 1], vertical_alignment="bottom")
    with left:
        chosen = float(state.choice(
            REPLAY_BETA, "β to look at closely",
            help="Sets the β both charts open at and the runs replayed below, and goes into the "
            "shared link. The slider under the first chart moves β at once."))
    with right:
        zoom = state.toggle(ZOOM, "Zoom in near π_ref (KL ≤ 1.6 nats)",
                            help="Many runs crowd near the reference; the zoom spreads them out.")
    betas = _swept_betas(s.quick)
    start = explorable.nearest(np.log(betas), math.log(chosen))  # nearest on its log scale
    opened = "" if betas[start] == chosen else (
        f" This sweep has no run at β = {chosen:g}: the chart opens at β = {betas[start]:g}.")
    explorable.show(
        _sweep_explorable(s.n_pairs, s.noise, s.seed, s.quick, zoom, fr.BUDGET),
        key="lab_sweep_chart", start=start,
        caption="Each point is one trained model; the number beside it is its β (where there "
        "is room: hover over a point, or zoom in near the reference, for the others). The black "
        "curve cannot be crossed. The slider under the chart walks through the sweep's β: the "
        "pink point is π\\*_β, where every run with that β aims, and the dotted lines show "
        f"how far each one landed from it. {verdict}" + opened)
    st.subheader("Two runs, update by update", divider="gray")
    st.markdown(
        f"Replay DPO and RLHF at β = {chosen:g}, trained as in the sweep: both start at the "
        "reference (KL 0) and head for π*_β. DPO takes "
        f"{fr.BUDGET.dpo_steps} steps on the fixed pairs; PPO {fr.BUDGET.ppo_iterations} "
        f"rollouts of {fr.BUDGET.ppo_batch} replies it writes itself, scored by the reward "
        "model. Press play, or drag the slider under the chart."
    )
    replay = _replay(chosen, s.n_pairs, s.noise, s.seed, fr.BUDGET)
    explorable.show(
        replay, key="lab_replay_chart", start=explorable.frame_count(replay) - 1,
        caption="Top: each run's path on the plane up to the slider's share of its training, "
        "and where it is now; the pink point is π\\*_β. Bottom: how often each policy writes "
        "a reply of each reward, next to π\\*_β's. The last frame is the trained run, where the "
        "sweep's run at this β landed (when the sweep has one).")


# 4. Cost


def cost() -> None:
    st.header("4. What each method costs", divider="gray")
    st.markdown(
        "Reaching the frontier is one thing; what it takes is another. DPO needs the policy and "
        "a frozen reference and reads only the fixed pairs. RLHF also keeps a reward model and "
        "a value function, and it **samples** new replies from the policy all through training. "
        "The table counts both, and the time each run took here."
    )
    s = _settings_form(collapsed=True)
    rows = _sweep(s)
    model = _reward_model(s.n_pairs, s.noise, s.seed, fr.BUDGET)
    table = fr.cost_table(rows, model)
    st.table(_cost_frame(table))
    total = fr.total_wall_ms(table)
    st.caption(f"The whole sweep trained in {total / 1000:.1f} s of measured time ({s.describe()}"
               "). Times are measured when a run first trains and kept with its result; they "
               "include the exact reward and KL the lab records after every step. Which models "
               "each method holds: the table of step 2; the reference model trains nothing.")
    st.markdown(
        "What the table cannot show: on a real model PPO's sampling is the expensive part "
        "(generating text with a large network), and its four models must fit in memory at "
        "once; DPO's two fit where RLHF's four may not. In exchange RLHF needs no more "
        "labels for new replies: the reward model scores whatever the policy writes."
    )
    code.show_code(fr.cost_table)
    cards.takeaway("DPO is the cheaper recipe: fewer models, no sampling, one loss. RLHF pays "
                   "for its reward model and its samples.")


def _cost_frame(table: list[dict]) -> pd.DataFrame:
    """fr.cost_table as the page shows it: a column per trained method (the reference trains
    nothing), so that it fits a phone."""
    return pd.DataFrame({
        COLUMN_NAMES[c["method"]]: [
            f"{c['runs']}", f"{c['models']}",
            f"{c['steps_per_run']:,}" + (f" + {c['reward_model_steps']:,} for the reward "
                                         "model, once" if c["reward_model_steps"] else ""),
            f"{c['samples_per_run']:,}", f"{c['labels']:,}", f"{c['wall_ms_per_run']:,.0f}",
            f"{c['wall_ms_total']:,.0f}"] for c in table if c["method"] != fr.REFERENCE.name},
        index=COST_ROWS)


# 5. The effect of data


def data() -> None:
    st.header("5. The effect of data", divider="gray")
    st.markdown(
        "The two methods use the pairs in different ways. DPO sets the probability of each "
        "reply from the pairs it appears in, so a reply it has rarely seen moves by chance. "
        "RLHF's reward model has one weight per word, shared by all replies, so a few pairs "
        "teach it a lot; but it is blind to what the words cannot express (repeats, a dangling "
        "*really*), and PPO will find that blind spot. Run the same quick sweep of the two on "
        "two datasets."
    )
    s = _settings_form(collapsed=True)
    with st.form("lab_compare_form", border=True):
        compare = state.choice(COMPARE, "Compare",
                               help=f"Few vs many: {FEW_PAIRS:,} and {MANY_PAIRS:,} pairs at "
                               f"your label noise. Clean vs noisy: no flips and {NOISY:.0%} "
                               "flipped, at your number of pairs.")
        st.form_submit_button("Run the comparison", key="lab_compare_run",
                              icon=":material/compare_arrows:")
    if compare == COMPARE_OPTIONS[0]:
        datasets = {f"{FEW_PAIRS:,} pairs": (FEW_PAIRS, s.noise),
                    f"{MANY_PAIRS:,} pairs": (MANY_PAIRS, s.noise)}
    else:
        datasets = {"clean labels": (s.n_pairs, 0.0),
                    f"{NOISY:.0%} flipped": (s.n_pairs, NOISY)}
    methods = (fr.DPO.key, fr.RLHF.key)
    rows = {label: _sweep(s, methods, quick=True, n_pairs=n, noise=noise)
            for label, (n, noise) in datasets.items()}
    effect = fr.data_effect(rows, methods)
    kl_max = _kl_max([r for dataset_rows in rows.values() for r in dataset_rows])
    first, second = datasets
    show(lf.two_datasets(_curve(kl_max), rows, NAMES, methods,
                         f"DPO and RLHF: {first} (filled),<br>{second} (open)"),
         key="lab_data_chart",
         caption="Same colours as before; filled markers: the first dataset, open: the second. "
         "Watch which method moves towards the frontier when the data changes.")
    st.table(pd.DataFrame({
        "dataset": [e["dataset"] for e in effect],
        "method": [SHORT[e["method"]] for e in effect],
        "mean gap to the frontier": [f"{e['mean_gap']:.3f}" for e in effect],
        "best true reward": [f"{e['best_reward']:.3f}" for e in effect],
        "at KL (nats)": [f"{e['best_kl']:.2f}" for e in effect],
    }), hide_index=True)
    by = {(e["dataset"], e["method"]): e["mean_gap"] for e in effect}
    st.markdown(" ".join(
        f"{SHORT[m]}'s runs sat {by[(first, m)]:.2f} below the frontier on average with "
        f"{first} and {by[(second, m)]:.2f} with {second}." for m in methods))

    st.subheader("Reward-model over-optimisation", divider="gray")
    st.markdown(
        "Push RLHF with a small KL coefficient and PPO climbs the reward model's score as far "
        "as it goes. When the reward model is wrong somewhere, the policy goes exactly there: "
        "the score keeps rising while the reader's verdict falls (Gao et al. 2023 measure the "
        "same on real models). These are the RLHF runs of your sweep."
    )
    main_rows = _sweep(s, (fr.RLHF.key,))
    gains = fr.reward_gains(TASK, main_rows, _reward_model(s.n_pairs, s.noise, s.seed,
                                                           fr.BUDGET))
    over = fr.overoptimisation(main_rows)
    show(lf.promised_vs_given(gains, "RLHF: what the reward model promised,<br>what the "
                              "reader gave"), key="lab_overopt_chart",
         caption=_overoptimisation_text(over) + " The numbers beside the dashed line: each "
         "run's KL coefficient (hover over a point for the others).")
    for label, dataset_rows in rows.items():
        found = fr.overoptimisation(dataset_rows)
        st.markdown(f"- **{label}**: {_overoptimisation_text(found)}")
    code.show_code(fr.data_effect, fr.overoptimisation)
    cards.takeaway("DPO needs many clean pairs because it learns reply by reply; a reward model "
                   "generalises from few, but a policy pushed hard will exploit its mistakes.")


def _overoptimisation_text(over: dict | None) -> str:
    if over is None:
        return "Too few RLHF runs to tell."
    if over["happened"]:
        return (f"Over-optimisation: the true reward peaked at {over['peak_reward']:.2f} "
                f"(KL {over['peak_kl']:.2f} nats), then fell to {over['last_reward']:.2f} at KL "
                f"{over['last_kl']:.2f} while the reward model's score rose by "
                f"{over['score_rise']:.2f}.")
    return (f"No over-optimisation in these runs: the best true reward, "
            f"{over['peak_reward']:.2f}, came at KL {over['peak_kl']:.2f} nats.")


# 6. Conclusion


def verdict() -> None:
    st.header("6. So which is better?", divider="gray")
    s = _settings_form(collapsed=True)
    rows = _sweep(s)
    comparison = fr.compare_methods(rows)
    if comparison:
        show(lf.gap_by_band([_band_short(c["lo"], c["hi"]) for c in comparison],
                            {fr.DPO.key: [c["first_gap"] for c in comparison],
                             fr.RLHF.key: [c["second_gap"] for c in comparison]}, NAMES),
             key="lab_verdict_chart",
             caption="Each pair of bars compares the runs of DPO and RLHF that ended in the same "
             "range of KL; a range where only one of them landed is left out.")
    st.markdown("**What your sweep measured** (" + s.describe() + "):")
    for line in _conclusion(rows):
        st.markdown(f"- {line}")
    st.markdown(
        "**What published studies found.** They disagree. The DPO paper (Rafailov et al. "
        "2023, Figure 2) drew this very plane for a sentiment task and found DPO's points "
        "above PPO's at every KL. Later, larger comparisons found the opposite once PPO was "
        "tuned with care (advantage normalisation, large batches, a good reward model): Xu et "
        "al. 2024, *Is DPO superior to PPO for LLM alignment?*, and Ivison et al. 2024, "
        "*Unpacking DPO and PPO*, report well-tuned PPO ahead, with the quality of the data and "
        "of the reward model mattering more than the choice of algorithm."
    )
    st.markdown(
        "**Why a toy can only show mechanisms.** This model is a table: every reply has its "
        "own parameters, so DPO cannot generalise from one reply to another, while a real "
        "network can. The reward model here has seven weights and a known blind spot; a real "
        "one is a large network with blind spots nobody has listed. The budgets, the learning "
        "rates and the size of the data are ours, and moving any of them moves the points. So "
        "the lab cannot say which method wins on a real LLM; it shows *why* each can win or "
        "lose: DPO's hunger for clean data, the reward model's generalisation, and its "
        "over-optimisation."
    )
    code.show_code(fr.compare_methods, fr.best_run)
    cards.takeaway("The honest answer is “it depends”, and the frontier shows on what: how much "
                   "clean data you have, how good the reward model is, and how far from the "
                   "reference you let the model go.")


def _conclusion(rows: list[dict]) -> list[str]:
    """Sentences written from the measured rows: no claim is fixed in advance."""
    lines = []
    comparison = fr.compare_methods(rows)
    for c in comparison:
        loser = fr.RLHF.key if c["closer"] == fr.DPO.key else fr.DPO.key
        gaps = {fr.DPO.key: c["first_gap"], fr.RLHF.key: c["second_gap"]}
        lines.append(
            f"{_sentence(_band(c['lo'], c['hi']))}, **{SHORT[c['closer']]}** was closer to the "
            f"frontier: on average {gaps[c['closer']]:.2f} points below it, against "
            f"{gaps[loser]:.2f} for {SHORT[loser]} (closer by {c['by']:.2f}; "
            f"{c['first_runs']} DPO and {c['second_runs']} RLHF run"
            f"{'' if c['second_runs'] == 1 else 's'}).")
    if not comparison:
        lines.append("DPO and RLHF never landed in the same range of KL, so this sweep cannot "
                     "compare them head to head; compare their points along the frontier.")
    best = {m: fr.best_run(rows, m) for m in (fr.DPO.key, fr.RLHF.key, fr.PPO_TRUE.key)}
    lines.append("The highest true reward: " + "; ".join(
        f"{SHORT[m]} {b['true_reward']:.2f} ({COEFFICIENTS[m]} = {b['coefficient']:g}, KL "
        f"{b['kl']:.2f} nats)" for m, b in best.items() if b) + ".")
    ppo, rlhf = fr.mean_gap(rows, fr.PPO_TRUE.key), fr.mean_gap(rows, fr.RLHF.key)
    if not (math.isnan(ppo) or math.isnan(rlhf)):
        lines.append(
            f"PPO with the true reward stayed on average {ppo:.2f} below the frontier, RLHF "
            f"{rlhf:.2f}: the difference is what the reward model's errors cost.")
    lines.append(_overoptimisation_text(fr.overoptimisation(rows)))
    return lines


# 7. Self-check

QUESTIONS = [
    quiz.Choice(
        qid="above",
        prompt="A classmate's run lands above the frontier curve. What do you conclude?",
        options=["Their method is better than RLHF and DPO",
                 "Something is wrong with the measurement: no policy can beat π*_β at its KL",
                 "They used a smaller β"],
        answer="Something is wrong with the measurement: no policy can beat π*_β at its KL",
        explanation="π*_β maximises E[r] − β·KL, so at the same KL nothing has a higher "
        "expected reward: the frontier is a bound, not a benchmark to beat.",
    ),
    quiz.Numeric(
        qid="frontier_kl",
        prompt="Use the slider of step 1: how many nats from the reference does the best policy "
        "move at β = 1?",
        answer=float(fr.optimal_frontier(TASK, [1.0])["kl"][0]), tolerance=0.01, unit="nats",
        explanation="KL(π*_1 ‖ π_ref), an exact sum over all replies of both prompts "
        "(mean over the prompts).",
    ),
    quiz.Choice(
        qid="overopt",
        prompt="With a small KL coefficient, RLHF's reward-model score keeps rising while the "
        "true reward falls. Why?",
        options=["PPO is unstable with small coefficients",
                 "The true reward is noisy",
                 "PPO exploits what the reward model cannot see, such as repeated words"],
        answer="PPO exploits what the reward model cannot see, such as repeated words",
        explanation="The bag-of-words reward model scores “great great great” three times "
        "“great”; the reader takes points off. Little KL penalty lets the policy go there.",
    ),
    quiz.Choice(
        qid="samples",
        prompt="Which method draws new replies from the policy while it trains?",
        options=["DPO", "RLHF (PPO)", "Both", "Neither"],
        answer="RLHF (PPO)",
        explanation=f"Each PPO rollout samples {fr.BUDGET.ppo_batch} replies from the current "
        "policy; DPO only reads the fixed pairs (its reference log-probabilities can be "
        "computed once).",
    ),
    quiz.Choice(
        qid="data",
        prompt="Why does DPO on this toy need many more pairs than the reward model?",
        options=["DPO's loss is harder to minimise",
                 "The tabular policy learns each reply separately; the reward model shares its "
                 "word weights across all replies",
                 "The reward model sees the true reward"],
        answer="The tabular policy learns each reply separately; the reward model shares its "
        "word weights across all replies",
        explanation="A reply that appears in few pairs gets a noisy implicit reward under DPO; a "
        "linear reward model over words generalises to replies it never saw.",
    ),
    quiz.Numeric(
        qid="models",
        prompt="How many models does RLHF hold in memory during its PPO stage (policy, "
        "reference, …)?",
        answer=float(fr.RLHF.models), tolerance=0.5,
        explanation=f"{fr.RLHF.models}: {fr.RLHF.models_what}. DPO needs "
        f"{fr.DPO.models}: {fr.DPO.models_what}.",
    ),
]


def check_yourself() -> None:
    quiz.lesson_check(SLUG, QUESTIONS, 7, takeaway=(
        "On the same task DPO and RLHF aim at the same reward–KL frontier; which gets closer "
        "depends on the data, the reward model and β, which is why published comparisons "
        "disagree."))


STEPS.show((question, contenders, run_sweep, cost, data, verdict, check_yourself))
