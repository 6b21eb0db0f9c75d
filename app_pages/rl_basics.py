"""Reinforcement learning in a grid world: the world, values and the Bellman equation, Q-learning,
policy gradients with a baseline, and the step that PPO makes safe.

One step is on screen at a time. The world (layout, γ, slip, step cost) is shared by every step:
step 1 edits it, and the other steps show the same controls in a "Change the world" popover, so
the world is always part of the link.
"""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from lessons import gridworld as gw
from lessons import information as info
from ui import cards, code, course, explorable, quiz, shared, state, steps
from ui import gridworld_figures as gf
from ui.figures import fmt, presenter_mode, show
from ui.state import Param

SLUG = "rl-basics"

PRESETS = {
    "Classic 4×3": "...T/.W.D/S...",
    "Cliff edge": "....../....../SDDDDT",
    "Risky bridge": "......./.WWWWW./S.....T/DDDDDDD",
    "Maze": "S.W.../.WW.W./....W./WW.WW./...W../.D...T",
    "Open field 8×8": "......../..D...../......../.WWW..D./......../....D.../.D....../S......T",
}
CUSTOM = "Your own"
CELL_TYPES = {"Empty": ".", "Wall": "W", "Treasure": "T", "Dragon": "D", "Start": "S"}
WALKERS = ("Random moves", "Best moves")
FORMAT_HELP = (
    "One line of text: the rows from top to bottom, separated by /, one letter per cell: "
    ". empty, W wall, T treasure (+1, ends the episode), D dragon (−1, ends it), S start "
    "(exactly one). 2 to 8 rows and columns. Example: ...T/.W.D/S..."
)
EDIT_NOTE = "_gw_edit_note"  # the last cell edit's problem, if any (not part of the link)
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")

SWEEP_MAX = 60  # the last sweep the replay of value iteration shows
# The "predict first" question of step 2: which cells have a value above 0 after one sweep
FIRST_SWEEP = ("Only next to the treasure", "Every cell", "None yet")
Q_STARTS = ("The start S", "Random cells")
Q_SMOOTHING = 25  # episodes in the running mean of the learning curve
SNAPSHOTS = 41  # frames of the Q-learning and REINFORCE replays: every 2.5 % of the run
CAREFUL_LR = 1.0
BRIDGE_UPDATES = 60
BRIDGE_BATCH = 16
PPO_EPSILON = 0.2
RUNS = ("Careful step", "Big step")
# The maps' numbers, names and arrows have fixed sizes (a phone must fit them); a projected map
# shows them this much larger
PRESENTER_MAP_SCALE = 1.35

STEPS = steps.Steps("gw", (
    "The grid world", "Values and Bellman", "Q-learning", "Policy gradients", "Bridge to PPO",
    "Check yourself",
))

# The world: every step
PRESET = Param("gw_preset", "Classic 4×3", options=(*PRESETS, CUSTOM))
LAYOUT = Param("gw_grid", PRESETS["Classic 4×3"], max_chars=80)
GAMMA = Param("gw_gamma", 0.9, lo=0.0, hi=1.0, step=0.01)
SLIP = Param("gw_slip", 0.2, lo=0.0, hi=0.8, step=0.05)
COST = Param("gw_cost", 0.04, lo=0.0, hi=0.5, step=0.01)
# 1. The grid world
CELL = Param("gw_cell", "Wall", options=tuple(CELL_TYPES))
ROW = Param("gw_row", 2, lo=1, hi=gw.MAX_SIZE, step=1)
COL = Param("gw_col", 2, lo=1, hi=gw.MAX_SIZE, step=1)
WALKER = Param("gw_walk", "Best moves", options=WALKERS)
WALK_SEED = Param("gw_walk_seed", 0, lo=0, hi=9999, step=1)
# 2. Values
SWEEP_GUESS = Param("gw_sweep_guess", None, options=FIRST_SWEEP)
SWEEP = Param("gw_k", 1, lo=0, hi=SWEEP_MAX, step=1)
V_ROW = Param("gw_vrow", 1, lo=1, hi=gw.MAX_SIZE, step=1)
V_COL = Param("gw_vcol", 3, lo=1, hi=gw.MAX_SIZE, step=1)
# 3. Q-learning
Q_EPISODES = Param("gw_q_episodes", 300, options=(100, 300, 1000))
# Numbers offered as choices are declared as text, so the URL holds them exactly as shown.
Q_ALPHA = Param("gw_q_alpha", "0.2", options=("0.05", "0.1", "0.2", "0.5", "1"))
Q_EPSILON = Param("gw_q_eps", "0.1", options=("0", "0.05", "0.1", "0.2", "0.5"))
Q_START = Param("gw_q_starts", Q_STARTS[0], options=Q_STARTS)
Q_SEED = Param("gw_q_seed", 0, lo=0, hi=9999, step=1)
Q_AT = Param("gw_q_at", 100, lo=0, hi=100, step=5)
# 4. Policy gradients
PG_LR = Param("gw_pg_lr", "1", options=("0.1", "0.3", "1", "3"))
PG_BASELINE = Param("gw_pg_baseline", True)
PG_UPDATES = Param("gw_pg_updates", 100, options=(50, 100, 200))
PG_BATCH = Param("gw_pg_batch", 16, options=(4, 16, 32))
PG_SEED = Param("gw_pg_seed", 0, lo=0, hi=9999, step=1)
PG_AT = Param("gw_pg_at", 100, lo=0, hi=100, step=5)
# 5. Bridge to PPO
BIG_LR = Param("gw_big_lr", "30", options=("10", "30", "100"))
BRIDGE_SEED = Param("gw_br_seed", 0, lo=0, hi=9999, step=1)
BRIDGE_RUN = Param("gw_br_run", RUNS[1], options=RUNS)
BRIDGE_AT = Param("gw_br_update", 1, lo=1, hi=BRIDGE_UPDATES, step=1)

PARAMS = (STEPS.param, PRESET, LAYOUT, GAMMA, SLIP, COST, CELL, ROW, COL, WALKER, WALK_SEED,
          SWEEP_GUESS, SWEEP, V_ROW, V_COL, Q_EPISODES, Q_ALPHA, Q_EPSILON, Q_START, Q_SEED,
          Q_AT, PG_LR, PG_BASELINE, PG_UPDATES, PG_BATCH, PG_SEED, PG_AT, BIG_LR, BRIDGE_SEED,
          BRIDGE_RUN, BRIDGE_AT)


# Page-side caches: every result is a pure function of its settings. A world is described by
# the hashable tuple spec = (layout text, γ, slip, step cost).


@shared.cache_data(max_entries=64, show_spinner=False)
def world(spec: tuple) -> gw.GridWorld:
    layout, gamma, slip, cost = spec
    return gw.make_grid(layout, gamma=gamma, slip=slip, step_cost=cost)


@shared.cache_data(max_entries=64, show_spinner=False)
def solved(spec: tuple) -> dict:
    return gw.value_iteration(world(spec))


@shared.cache_data(max_entries=24, show_spinner="Running Q-learning…")
def q_run(spec: tuple, episodes: int, alpha: float, epsilon: float, random_starts: bool,
          seed: int) -> dict:
    start = time.perf_counter()
    grid = world(spec)
    run = gw.q_learning(grid, episodes=episodes, alpha=alpha, epsilon=epsilon, seed=seed,
                        random_starts=random_starts, snapshots=SNAPSHOTS)
    run["greedy_values"] = gw.greedy_start_values(grid, run["history"])
    run["smooth"] = gw.running_mean(run["returns"], Q_SMOOTHING)
    run["seconds"] = time.perf_counter() - start
    return run


@shared.cache_data(max_entries=24, show_spinner="Training the policy…")
def pg_run(spec: tuple, updates: int, batch: int, lr: float, baseline: bool, seed: int) -> dict:
    start = time.perf_counter()
    run = gw.reinforce(world(spec), updates=updates, batch=batch, lr=lr, seed=seed,
                       baseline=baseline)
    run["seconds"] = time.perf_counter() - start
    return run


def exact_values(grid: gw.GridWorld, probs: np.ndarray) -> np.ndarray | None:
    """V^π of a policy, or None if it has no finite values (possible only with γ = 1)."""
    try:
        return gw.policy_values(grid, probs)
    except ValueError:
        return None


# Replays: one figure per setting, every frame computed here by the lessons functions.


@shared.cache_data(max_entries=64, show_spinner=False)
def walk(spec: tuple, walker: str, seed: int) -> dict:
    """One episode in the world ``spec`` with ``walker``'s policy: the episode, its moves and
    slips, how it ended, and its map as a plain spec (built once per setting, shared)."""
    _, gamma, slip, cost = spec
    grid = world(spec)
    if walker == WALKERS[0]:
        probs = np.full((grid.n_states, 4), 0.25)
    else:
        probs = gw.deterministic_policy(gw.greedy_policy(solved(spec)["q"]))
    episode = gw.walk_episode(grid, probs, seed)
    moves = len(episode["actions"])
    how = "reached the treasure" if grid.letter(episode["states"][-1]) == "T" else \
        "met the dragon" if episode["ended"] else f"was stopped after {gw.MAX_STEPS} moves"
    figure = gf.world_map(grid, f"{walker}: one episode of {moves} moves", probs=probs,
                          path=episode, note=f"γ = {gamma:g} · slip {slip:g} · step cost "
                          f"{cost:g} · return G = {episode['return']:.3f}")
    return {"episode": episode, "moves": moves, "how": how, "figure": figure.to_dict(),
            "slips": int(np.sum(episode["moves"] != episode["actions"]))}


@shared.cache_data(max_entries=32, show_spinner=False)
def values_replay(spec: tuple, cell: int | None) -> dict:
    grid, vi = world(spec), solved(spec)
    last = min(SWEEP_MAX, vi["sweeps"])
    values = vi["values"][:last + 1]
    actions = np.array([gw.greedy_policy(gw.bellman_backup(grid, v)) for v in values])
    return gf.value_iteration_replay(grid, values, actions, vi["residuals"][:last],
                                     settled=vi["converged"] and last == vi["sweeps"],
                                     cell=cell)


@shared.cache_data(max_entries=24, show_spinner=False)
def q_replay(spec: tuple, episodes: int, alpha: float, epsilon: float, random_starts: bool,
             seed: int) -> dict:
    grid, vi = world(spec), solved(spec)
    run = q_run(spec, episodes, alpha, epsilon, random_starts, seed)
    actions = np.array([gw.greedy_policy(q) for q in run["history"]])
    optimal = np.array([gw.is_optimal_action(vi["q"], a) for a in actions])
    return gf.q_learning_replay(grid, run["snapshot_episodes"], run["history"], actions,
                                optimal, run["returns"], run["smooth"], run["greedy_values"],
                                vi["values"][-1][grid.start], Q_SMOOTHING)


@shared.cache_data(max_entries=24, show_spinner=False)
def pg_replay(spec: tuple, updates: int, batch: int, lr: float, baseline: bool,
              seed: int) -> dict:
    grid, vi = world(spec), solved(spec)
    run = pg_run(spec, updates, batch, lr, baseline, seed)
    shown = gw.snapshot_steps(updates, SNAPSHOTS)
    values = [exact_values(grid, run["probs"][k]) for k in shown]
    return gf.policy_gradient_replay(grid, shown, run["probs"][shown], values,
                                     run["batch_returns"], run["exact_returns"], run["entropy"],
                                     vi["values"][-1][grid.start])


def bridge_runs(spec: tuple, big: float, seed: int) -> dict:
    """The careful and the big run of step 5, by the names the page shows."""
    return {f"α = {CAREFUL_LR:g}": pg_run(spec, BRIDGE_UPDATES, BRIDGE_BATCH, CAREFUL_LR, True,
                                         seed),
            f"α = {big:g}": pg_run(spec, BRIDGE_UPDATES, BRIDGE_BATCH, big, True, seed)}


@shared.cache_data(max_entries=24, show_spinner=False)
def bridge_replay(spec: tuple, big: float, seed: int) -> dict:
    grid, vi = world(spec), solved(spec)
    runs = bridge_runs(spec, big, seed)
    live = np.flatnonzero(~grid.terminal)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        factors = {name: gw.change_factor(run["probs"], live) for name, run in runs.items()}
    return gf.step_size_replay({name: run["exact_returns"] for name, run in runs.items()},
                               factors, vi["values"][-1][grid.start], PPO_EPSILON)


@shared.cache_data(max_entries=24, show_spinner=False)
def update_replay(spec: tuple, big: float, seed: int, which: str) -> dict:
    grid = world(spec)
    name, run = list(bridge_runs(spec, big, seed).items())[RUNS.index(which)]
    probs = run["probs"][:, grid.start]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = gw.probability_ratio(probs[1:], probs[:-1])
        kls = np.array([info.kl_divergence(old, new, base="nats")
                        for old, new in zip(probs[:-1], probs[1:], strict=True)])
    return gf.start_cell_updates(probs, ratios, kls, f"{which} ({name})")


def presented(spec: dict) -> dict:
    """A map's figure as this session shows it: its text and arrows larger in presenter mode."""
    return gf.presenter_sized(spec, PRESENTER_MAP_SCALE) if presenter_mode() else spec


def metric_columns(count: int) -> list:
    """Columns for ``count`` metrics: one row, or rows of two in presenter mode, whose larger
    labels would be cut short in narrower columns."""
    if not presenter_mode():
        return st.columns(count)
    return [column for _ in range(0, count, 2) for column in st.columns(2)]


def world_error(spec: tuple) -> str | None:
    """The message that explains why this world cannot be built, or None if it can."""
    try:
        world(spec)
    except ValueError as error:
        return str(error)
    return None


# The world's controls, shared by every step


def _use_preset() -> None:
    preset = st.session_state.get(PRESET.key)
    if preset in PRESETS:
        st.session_state[LAYOUT.key] = PRESETS[preset]
    st.session_state.pop(EDIT_NOTE, None)


def _typed_own() -> None:
    st.session_state[PRESET.key] = CUSTOM
    st.session_state.pop(EDIT_NOTE, None)


def _edit(action: str) -> None:
    """Change the layout from the cell editor's buttons; a problem is kept for the page."""
    text = st.session_state.get(LAYOUT.key, LAYOUT.default)
    try:
        rows = gw.parse_layout(text)
        n_rows, n_cols = len(rows), len(rows[0])
        if action == "place":
            letter = CELL_TYPES[st.session_state.get(CELL.key, CELL.default)]
            row = int(st.session_state.get(ROW.key, ROW.default)) - 1
            col = int(st.session_state.get(COL.key, COL.default)) - 1
            rows = gw.set_cell(rows, row, col, letter)
        else:
            grow = {"add_row": (1, 0), "drop_row": (-1, 0), "add_col": (0, 1),
                    "drop_col": (0, -1)}[action]
            rows = gw.resize(rows, n_rows + grow[0], n_cols + grow[1])
    except ValueError as error:
        st.session_state[EDIT_NOTE] = str(error)
        return
    st.session_state.pop(EDIT_NOTE, None)
    st.session_state[LAYOUT.key] = gw.layout_text(rows)
    st.session_state[PRESET.key] = CUSTOM


def layout_controls() -> str:
    """The preset picker and the layout text; returns the layout text."""
    left, right = st.columns([1, 2])
    with left:
        preset = state.choice(PRESET, "Start from", widget="selectbox", on_change=_use_preset)
    with right:
        text = state.text(LAYOUT, "Layout: rows separated by /", on_change=_typed_own,
                          help=FORMAT_HELP)
    if preset in PRESETS and text.strip().upper() != PRESETS[preset].upper():
        st.caption(f"The layout differs from the preset *{preset}*.")
    return text


def setting_controls() -> tuple[float, float, float]:
    """The three sliders of the world: discount, slip, step cost."""
    a, b, c = st.columns(3)
    with a:
        gamma = state.slider(GAMMA, "Discount γ", help="How much a reward one move later is "
                             "worth: 1 counts the future fully, 0 only the next reward.")
    with b:
        slip = state.slider(SLIP, "Chance that a move slips", help="With this probability "
                            "the move goes to one of the two sideways directions instead "
                            "(half each).")
    with c:
        cost = state.slider(COST, "Cost of each move", help="Every move pays minus this, "
                            "so long detours cost more.")
    return gamma, slip, cost


def world_bar() -> tuple:
    """Steps 2–5: a one-line summary of the world and its controls in a popover."""
    summary, button = st.columns([4, 1], vertical_alignment="center")
    with button, st.popover("Change the world", icon=":material/tune:", width="stretch"):
        text = layout_controls()
        st.caption(FORMAT_HELP)
        gamma, slip, cost = setting_controls()
    preset = st.session_state.get(PRESET.key, PRESET.default)
    summary.caption(f"The world: **{preset}** `{text.strip()}` · γ = {gamma:g} · slip "
                    f"{slip:g} · step cost {cost:g}. Change it with the button, or draw your "
                    "own in step 1.")
    return text, gamma, slip, cost


def world_problem(spec: tuple) -> bool:
    """Show why the world cannot be used, with a way back to the editor; True if it cannot."""
    problem = world_error(spec)
    if problem is None:
        return False
    st.error(f"This world cannot be used yet. {problem}", icon=":material/error:")
    st.button("Fix it in step 1", icon=":material/edit:", key="gw_fix_world",
              on_click=lambda: st.session_state.update({STEPS.key: STEPS.labels[0]}))
    return True


def cell_name(grid: gw.GridWorld, state_: int) -> str:
    row, col = grid.cells[state_]
    kind = gw.CELL_KINDS[grid.letter(state_)]
    return f"row {row + 1}, column {col + 1}" + (f" ({kind})" if kind != "empty" else "")


# 1. The grid world


def grid_world() -> None:
    st.header("1. The grid world", divider="gray")
    st.markdown(
        "A robot lives on a grid. Each cell it can stand on is a **state**; in every state it "
        "picks one of four **actions**: up, right, down or left. Reaching the **treasure** pays "
        "+1 and ends the episode; meeting the **dragon** pays −1 and ends it too. Every move "
        "costs a little, and the floor is slippery: with some probability the robot slides "
        "to one side instead of going where it meant to. Bumping into a wall or the edge "
        "leaves it where it was. The robot wants the largest **return**: the sum of its "
        "rewards, each one **discounted** by γ per move of waiting."
    )
    cards.equation_card(
        r"G = r_1 + \gamma\, r_2 + \gamma^2 r_3 + \dots = \sum_{t=0}^{T-1} \gamma^{t}\,r_{t+1}",
        "The return of an episode: the reward of each move, weighted by γ to the power of how "
        "many moves it came after the start. With γ < 1 a treasure reached sooner is worth more.",
        "RL", "return",
    )
    st.markdown(f"**Draw the world.** {FORMAT_HELP}")
    text = layout_controls()
    _cell_editor()
    # Outside the fragment: only the three sliders rerun with the map.
    left, right = st.columns([2, 1])
    with left:
        walker = state.choice(WALKER, "Walk one episode with",
                              help="Random moves: each action with probability 1/4. Best "
                              "moves: the optimal policy, which step 2 computes.")
    with right:
        seed = state.number(WALK_SEED, "Episode seed", help="The same seed replays the same "
                            "episode; it is part of the shared link.")
    _world_demo(text, walker, seed)
    code.show_code(gw.make_grid, gw.walk_episode, gw.episode_return)
    cards.takeaway("A reinforcement-learning problem is a world of states, actions, "
                   "probabilities of where an action leads, and rewards. The robot's aim is "
                   "the largest expected discounted return.")


def _cell_editor() -> None:
    with st.container(border=True):
        kind, row, col, place = st.columns([3, 1, 1, 1.2], vertical_alignment="bottom")
        with kind:
            # Radio buttons wrap onto a second line on a phone; five segments would not fit
            state.choice(CELL, "Put a cell of this type", widget="radio", horizontal=True)
        with row:
            state.number(ROW, "at row")
        with col:
            state.number(COL, "column")
        with place:
            st.button("Put it there", key="gw_place", icon=":material/edit:", type="primary",
                      on_click=_edit, args=("place",), width="stretch")
        buttons = st.columns(4)
        for column, (action, label) in zip(buttons, (
                ("add_row", "Add a row"), ("drop_row", "Remove the last row"),
                ("add_col", "Add a column"), ("drop_col", "Remove the last column")),
                strict=True):
            column.button(label, key=f"gw_{action}", on_click=_edit, args=(action,),
                          width="stretch")
        if note := st.session_state.get(EDIT_NOTE):
            st.warning(note, icon=":material/warning:")


@st.fragment
def _world_demo(text: str, walker: str, seed: int) -> None:
    gamma, slip, cost = setting_controls()
    spec = (text, gamma, slip, cost)
    try:
        grid = world(spec)
    except ValueError as error:
        st.error(str(error), icon=":material/error:")
        return
    walked = walk(spec, walker, seed)
    episode, slips, moves = walked["episode"], walked["slips"], walked["moves"]
    left, right = st.columns([3, 2])
    with left:
        show(presented(walked["figure"]), key="gw_world_chart", height=gf.map_height(grid),
             caption="Arrows show the policy (their size is the probability of each action); "
             "the pink line is the episode, and a red-orange cross marks a move that slipped "
             "sideways. The treasure's cell is green, the dragon's red-orange, walls dark grey.")
    with right:
        st.markdown(f"The robot {walked['how']} after **{moves}** moves, **{slips}** of which "
                    "slipped sideways. Its return, move by move:")
        st.latex(gf.return_latex(episode["rewards"], gamma, episode["return"]))
        st.caption("Each move pays minus the step cost; the last one also pays +1 (treasure) "
                   "or −1 (dragon). Try a few seeds: the return changes from episode to "
                   "episode, which is why the next step works with *expected* returns.")


# 2. Values and the Bellman equation


def values_and_bellman() -> None:
    st.header("2. Values and the Bellman equation", divider="gray")
    spec = world_bar()
    st.markdown(
        "The **value** V(s) of a cell is the return the robot can expect from there if it "
        "plays as well as possible. Values obey the **Bellman equation**: the value of a cell "
        "is the best, over the four actions, of the expected reward of one move plus γ times "
        "the value of where the robot lands. **Value iteration** turns the equation into an "
        "algorithm: start with every value at 0 and sweep over the grid, recomputing each "
        "cell from its neighbours' current values."
    )
    cards.equation_card(
        r"V_{k+1}(s) = \max_{a} \sum_{s'} P(s' \mid s, a)\,\bigl[\,r(s, a, s') + "
        r"\gamma\, V_k(s')\,\bigr]",
        "One Bellman backup: for each action, average the reward plus the discounted value "
        "of the next cell over where the move can end up, then keep the best action.",
        "RL", "value iteration",
    )
    if world_problem(spec):
        return
    answer, why = first_sweep(spec)
    if cards.predict(SWEEP_GUESS, "Every value starts at 0. After **one** sweep of value "
                     "iteration, which cells have a value above 0?", answer, why):
        _values_controls_and_demo(spec)
    code.show_code(gw.bellman_backup, gw.value_iteration, gw.greedy_policy)
    cards.takeaway("The Bellman equation says a value is one reward plus the discounted value "
                   "of what comes next. Sweeping it from zero gives the optimal values, and "
                   "acting greedily on them gives the optimal policy.")


def _values_controls_and_demo(spec: tuple) -> None:
    """Step 2's demo, once the learner has guessed: the cell to write out, the sweep buttons,
    the replay of value iteration and its totals."""
    # The cell picker and the sweep buttons rerun the step; the slider reruns only the map.
    row, col, back, forward = st.columns([1, 1, 1, 1.4], vertical_alignment="bottom")
    with row:
        v_row = state.number(V_ROW, "Cell to write out: row")
    with col:
        v_col = state.number(V_COL, "column")
    back.button("− 1 sweep", key="gw_k_back", on_click=_sweep, args=(-1,), width="stretch",
                help="Undo one sweep")
    forward.button("Next sweep", key="gw_k_next", on_click=_sweep, args=(1,), type="primary",
                   width="stretch", help="Do one more sweep of the Bellman backup")
    _values_demo(spec, int(v_row), int(v_col))
    vi = solved(spec)
    left, right = st.columns(2)
    left.metric("Sweeps until no value moves by 10⁻¹⁰", vi["sweeps"],
                help=f"The replay above shows at most the first {SWEEP_MAX} sweeps.")
    right.metric("Optimal value of the start V*(start)", fmt(vi["values"][-1][world(spec).start]))
    if not vi["converged"]:
        st.warning("Value iteration had not settled after its last sweep.",
                   icon=":material/warning:")


def first_sweep(spec: tuple) -> tuple[str, str]:
    """The answer to step 2's question (which cells have a value above 0 after one sweep),
    read from value iteration's first sweep, and why it comes out that way."""
    grid, vi = world(spec), solved(spec)
    above = vi["values"][1][~grid.terminal] > 0
    if above.all():
        return FIRST_SWEEP[1], ("In this world every cell is one move from the treasure, so "
                                "one backup already sees its +1 from all of them.")
    if not above.any():
        return FIRST_SWEEP[2], (
            "A backup looks one move ahead, and here even the best move next to the treasure "
            "expects to lose more (the step cost, slips) than the treasure's +1 brings. The "
            "news of the treasure still travels one cell per sweep: watch the values as you "
            "add sweeps.")
    return FIRST_SWEEP[0], (
        "A backup looks one move ahead, at values that were all 0, so only a move onto the "
        "treasure can bring in its +1; every other cell pays the step cost and learns "
        "nothing yet. Each sweep carries the news one cell further: after k sweeps it has "
        "travelled k cells.")


def _sweep(by: int) -> None:
    now = int(st.session_state.get(SWEEP.key, SWEEP.default))
    st.session_state[SWEEP.key] = int(np.clip(now + by, 0, SWEEP_MAX))


@st.fragment
def _values_demo(spec: tuple, v_row: int, v_col: int) -> None:
    grid, vi = world(spec), solved(spec)
    history = vi["values"]
    k = state.slider(SWEEP, "Sweeps done k", help="The slider under the map replays the sweeps "
                     "at once, or press play. This one sets the sweep the map opens at and the "
                     "backup written out beside it, and goes into the shared link.")
    values = history[min(k, len(history) - 1)]
    try:
        cell = grid.state_at(v_row - 1, v_col - 1)
    except ValueError as error:
        cell, cell_problem = None, str(error)
    else:
        cell_problem = None
    replay = values_replay(spec, cell)
    left, right = st.columns([3, 2])
    with left:
        explorable.show(
            presented(replay), key="gw_values_chart",
            start=explorable.nearest(range(explorable.frame_count(replay)), k),
            caption="Numbers (and colours: green high, white 0, red-orange low) are the values "
            "after k sweeps; arrows pick the best action against them, and the cell written "
            "out beside the map is outlined in orange. Press play, or drag the slider under the "
            "map, and watch the treasure's value spread outwards while the largest change of a "
            "sweep (below) shrinks.")
    terms = None
    with right:
        if cell is None:
            st.info(f"{cell_problem} Pick another cell to see its Bellman backup.",
                    icon=":material/info:")
        elif grid.terminal[cell]:
            st.info(f"The cell at {cell_name(grid, cell)} ends the episode: its reward is "
                    "paid on the way in, and its value from then on is 0.",
                    icon=":material/flag:")
        else:
            terms = gw.bellman_terms(grid, values, cell)
            best = int(np.argmax([t["q"] for t in terms]))
            st.markdown(f"**The cell at {cell_name(grid, cell)}** (outlined in orange), after "
                        f"k = {k} sweep{'s' * (k != 1)} (the slider above)")
            before, after = st.columns(2)
            before.metric(f"Its value now, V{k}".translate(SUBSCRIPTS), f"{values[cell]:.3f}")
            after.metric(f"After the next sweep, V{k + 1}".translate(SUBSCRIPTS),
                         f"{terms[best]['q']:.3f}", delta=f"{terms[best]['q'] - values[cell]:.3f}",
                         delta_color="off",
                         delta_description=f"vs V{k}".translate(SUBSCRIPTS))
            st.markdown(f"Best move: **{terms[best]['action']}**. Below, the backup term by "
                        "term: for every place the move can land, probability × (reward + γ × "
                        "the value of that cell now).")
    if terms is not None:
        st.latex(gf.bellman_latex(terms, grid.gamma, best))


# 3. Q-values and Q-learning


def q_values_and_learning() -> None:
    st.header("3. Q-values and Q-learning", divider="gray")
    spec = world_bar()
    st.markdown(
        "Value iteration needs the map of the world: every probability P(s′|s, a) and every "
        "reward. A robot dropped into an unknown grid has neither; it can only try moves and "
        "see what happens. **Q-learning** keeps a table Q(s, a), the return of taking action "
        "a in cell s and playing well afterwards, and nudges one entry after every move "
        "towards what that move just showed: the reward plus γ times the best Q-value of the "
        "cell it landed in. To discover anything new it must sometimes **explore**: with "
        "probability ε it tries a random move instead of the best one it knows (ε-greedy). "
        "The step size α sets how far each nudge goes."
    )
    cards.equation_card(
        r"Q(s, a) \leftarrow Q(s, a) + \alpha\,\bigl[\,r + \gamma \max_{a'} Q(s', a') - "
        r"Q(s, a)\,\bigr]",
        "Move Q(s, a) a fraction α of the way towards the target r + γ·max Q(s′, ·). The "
        "optimal Q-values satisfy V*(s) = max over a of Q*(s, a).",
        "RL", "Q-learning",
    )
    if world_problem(spec):
        return
    _q_demo(spec)
    code.show_code(gw.q_learning)
    cards.takeaway("Q-learning learns optimal action values from experience alone, with no "
                   "model of the world. It only learns about cells and moves it tries, so "
                   "exploration is not optional.")


@st.fragment
def _q_demo(spec: tuple) -> None:
    # Rows of few controls: five choices side by side still fit in presenter mode
    top = st.columns(2)
    with top[0]:
        alpha = float(state.choice(Q_ALPHA, "Step size α"))
    with top[1]:
        epsilon = float(state.choice(Q_EPSILON, "Exploration ε"))
    bottom = st.columns([1, 1.3, 0.8])
    with bottom[0]:
        episodes = state.choice(Q_EPISODES, "Episodes")
    with bottom[1]:
        starts = state.choice(Q_START, "Episodes start at", help="Random cells: every "
                              "episode starts at a random cell that is not an end cell.")
    with bottom[2]:
        seed = state.number(Q_SEED, "Seed")
    grid, vi = world(spec), solved(spec)
    run = q_run(spec, episodes, alpha, epsilon, starts == Q_STARTS[1], seed)
    optimum = vi["values"][-1][grid.start]
    live = ~grid.terminal
    agree = gw.is_optimal_action(vi["q"], gw.greedy_policy(run["q"]))[live]
    tail = run["returns"][-min(50, episodes):]
    a, b, c, d = metric_columns(4)
    a.metric("Optimal greedy moves, final table", f"{agree.sum()} of {agree.size}",
             help="Cells (not counting end cells) where the best action of the table after "
             "the last episode is an optimal action according to value iteration.")
    b.metric(f"Mean return, last {tail.size} episodes", fmt(tail.mean()))
    c.metric("Optimum V*(start)", fmt(optimum))
    d.metric("Training time", f"{run['seconds']:.2f} s", help="Cached: the same settings "
             "replay instantly.")
    _q_table_view((spec, episodes, alpha, epsilon, starts == Q_STARTS[1], seed))


@st.fragment
def _q_table_view(setting: tuple) -> None:
    spec, episodes = setting[:2]
    grid, vi, run = world(spec), solved(spec), q_run(*setting)
    at = state.slider(Q_AT, "Open the replay after this share of the episodes", format="%d%%",
                      help="The slider under the chart replays the episodes at once, or press "
                      "play. This one sets where the replay opens and the table beside it, and "
                      "goes into the shared link.")
    index = explorable.nearest(run["snapshot_episodes"], at / 100 * episodes)
    q, done = run["history"][index], int(run["snapshot_episodes"][index])
    left, right = st.columns([3, 2])
    with left:
        explorable.show(
            presented(q_replay(*setting)), key="gw_q_map_chart", start=index,
            caption="Top: the Q-table after the slider's number of episodes; numbers are the "
            "best Q-value of each cell, dark arrows match the optimal policy from value "
            "iteration, red-orange ones do not (yet). Bottom: light blue dots are single "
            "episodes, noisy because moves slip and ε explores, and the blue line is their "
            "running mean; the pink line is what the greedy policy of the table would earn, "
            "exactly, and nears the dashed black optimum long before the noisy episodes "
            "suggest. The yellow dot marks the slider's episode.")
        if np.isnan(run["greedy_values"]).any():
            st.caption("Gaps in the pink line: at those snapshots the greedy policy could "
                       "walk into a wall forever, which with γ = 1 has no finite value.")
    with right:
        start = grid.start
        rows = "\n".join(f"| {gw.ARROWS[a]} {gw.ACTIONS[a]} | {q[start, a]:.3f} | "
                         f"{vi['q'][start, a]:.3f} |" for a in range(4))
        st.markdown(f"**The start cell's row of the table** after {done} episodes (the slider "
                    "above), against the optimal Q-values from value iteration:\n\n"
                    f"| action | Q(start, a) learned | Q*(start, a) |\n|---|---:|---:|\n{rows}")
        st.caption("Cells the robot rarely visits stay wrong longest, and Q-values of moves "
                   "it never tries stay at 0. Try starting at random cells, or more "
                   "exploration.")


# 4. Policy gradients


def policy_gradients() -> None:
    st.header("4. Policy gradients", divider="gray")
    spec = world_bar()
    st.markdown(
        "Instead of learning values and acting greedily, learn the **policy** itself: a table "
        "of preferences θ(s, a), turned into probabilities by a softmax. Play a batch of "
        "episodes with the current policy. Then, for every move made, raise the probability "
        "of the action taken if the episode went better than usual from that cell, and lower "
        "it if worse. \"Better than usual\" is the **advantage** $G_t - b(s_t)$: the return "
        "that followed, minus a **baseline** b(s), a running estimate of the cell's value (the "
        "\"gain\" of the PPO video). The baseline does not change the direction of the step "
        "on average; it only removes noise."
    )
    cards.equation_card(
        r"\theta \leftarrow \theta + \alpha \frac{1}{N}\sum_{\text{episodes}}\sum_{t} "
        r"\bigl(G_t - b(s_t)\bigr)\,\nabla_\theta \log \pi_\theta(a_t \mid s_t),\qquad "
        r"\nabla_{\theta(s,\cdot)} \log \pi_\theta(a \mid s) = \mathbf{1}_a - "
        r"\pi_\theta(\cdot \mid s)",
        "REINFORCE with a baseline: push up the log-probability of each action taken, in "
        "proportion to its advantage. For a softmax, that gradient is the one-hot action "
        "minus the current probabilities.",
        "RL", "REINFORCE",
    )
    if world_problem(spec):
        return
    _pg_demo(spec)
    st.markdown(
        "**Why neural networks?** Every method on this page keeps one number per cell (and "
        "action). A grid has a few dozen cells; a video game screen or a conversation has "
        "more states than could ever be stored, and almost none of them is seen twice. Deep "
        "reinforcement learning replaces each table with a neural network that reads the "
        "state and outputs the same quantities: Q-values (a Q-network), action probabilities "
        "(a policy network), or a value (the value network that supplies the baseline, which "
        "PPO calls the critic). The updates keep their form, but they change the network's "
        "weights, so what is learned in one state carries over to similar ones."
    )
    code.show_code(gw.reinforce, gw.log_policy_gradient, gw.softmax_policy)
    cards.takeaway("A policy gradient raises the probability of actions that did better than "
                   "expected. The baseline turns returns into advantages, which makes the same "
                   "learning far less noisy.")


@st.fragment
def _pg_demo(spec: tuple) -> None:
    top = st.columns(2, vertical_alignment="center")
    with top[0]:
        lr = float(state.choice(PG_LR, "Step size α"))
    with top[1]:
        baseline = state.toggle(PG_BASELINE, "Baseline b(s)", help="Off: the raw return "
                                "scales each step instead of the advantage (return − baseline).")
    bottom = st.columns([1, 1, 0.8])
    with bottom[0]:
        updates = state.choice(PG_UPDATES, "Updates")
    with bottom[1]:
        batch = state.choice(PG_BATCH, "Episodes per update")
    with bottom[2]:
        seed = state.number(PG_SEED, "Seed")
    grid, vi = world(spec), solved(spec)
    run = pg_run(spec, updates, batch, lr, baseline, seed)
    optimum = vi["values"][-1][grid.start]
    a, b, c, d = metric_columns(4)
    a.metric("Exact value of the final policy", fmt(run["exact_returns"][-1]),
             delta=fmt(run["exact_returns"][-1] - run["exact_returns"][0]),
             delta_description="vs before training",
             help="V^π(start), computed from the world's probabilities; the change is against "
             "the uniformly random policy training started from.")
    b.metric("Optimum V*(start)", fmt(optimum))
    c.metric("Entropy in the last batch", f"{run['entropy'][-1]:.2f} bits",
             help="2 bits: all four actions equally likely. 0: always the same action.")
    d.metric("Training time", f"{run['seconds']:.2f} s", help="Cached: the same settings "
             "replay instantly.")
    if np.all(run["batch_returns"] < 0) and np.all(run["exact_returns"] < 0.05 + run[
            "exact_returns"][0]):
        st.warning("In this world the random first policy almost never finds the treasure, so "
                   "there is hardly any signal to learn from. That is the exploration problem "
                   "of policy gradients; Q-learning's ε and random starts help there.",
                   icon=":material/explore:")
    _pg_policy_view((spec, updates, batch, lr, baseline, seed))


@st.fragment
def _pg_policy_view(setting: tuple) -> None:
    spec, updates = setting[:2]
    grid, run = world(spec), pg_run(*setting)
    at = state.slider(PG_AT, "Open the replay after this share of the updates", format="%d%%",
                      help="The slider under the chart replays the updates at once, or press "
                      "play. This one sets where the replay opens and the table beside it, and "
                      "goes into the shared link.")
    shown = gw.snapshot_steps(updates, SNAPSHOTS)
    index = explorable.nearest(shown, at / 100 * updates)
    k = int(shown[index])
    probs = run["probs"][k]
    left, right = st.columns([3, 2])
    with left:
        explorable.show(
            presented(pg_replay(*setting)), key="gw_pg_map_chart", start=index,
            caption="Top: the softmax policy after the slider's number of updates; each "
            "arrow's size is the probability of that action (arrows below 8% are left out), "
            "and numbers are the exact values of this policy, not of the optimal one. Bottom: "
            "each batch's mean return (light blue dots) is noisy, the policy's exact value "
            "(pink line) climbs towards the dashed black optimum; the yellow dot marks the "
            "slider's update. Above the map: the batch each policy played, with the entropy "
            "of its moves (2 bits while all four actions are equally likely, less as the "
            "policy grows confident).")
    with right:
        start = grid.start
        rows = "\n".join(f"| {gw.ARROWS[a]} {gw.ACTIONS[a]} | {run['thetas'][k][start, a]:.2f} "
                         f"| {probs[start, a]:.3f} |" for a in range(4))
        st.markdown(f"**The start cell after {k} updates** (the slider above): preferences θ "
                    "and the softmax probabilities they give.\n\n"
                    f"| action | θ(start, a) | π(a given start) |\n|---|---:|---:|\n{rows}")
        st.caption("Only differences between preferences matter: adding the same number to "
                   "all four leaves the probabilities unchanged.")


# 5. Bridge to PPO


def bridge_to_ppo() -> None:
    st.header("5. Bridge to PPO", divider="gray")
    spec = world_bar()
    st.markdown(
        "Every update turns an old policy into a new one. For a state s and an action a, the "
        "**probability ratio** r = π_new(a|s) / π_old(a|s) says how much the update changed "
        "that choice: 1 is no change, 2 is twice as likely, 0.5 half as likely. The policy "
        "gradient only knows the direction in which the return improves *near* the old "
        "policy; a big step trusts it far beyond that. Then one lucky batch can make an "
        "action almost certain and the others almost impossible. The policy stops exploring, "
        "and since it now only sees its own choices, it may never find out they were bad: it "
        "**collapses**. Below, the same world and seed are learned with a careful step size "
        "(α = 1) and a big one."
    )
    cards.equation_card(
        r"r(\theta) = \frac{\pi_\theta(a \mid s)}{\pi_{\theta_\text{old}}(a \mid s)},\qquad "
        r"L^{CLIP}(\theta) = \mathbb{E}\Bigl[\min\bigl(r(\theta)\,A,\;"
        r"\operatorname{clip}(r(\theta), 1-\epsilon, 1+\epsilon)\,A\bigr)\Bigr]",
        "PPO keeps each update close to the old policy: once the ratio leaves [1 − ε, 1 + ε] "
        "in the direction the advantage A favours, the objective stops rewarding further "
        "change.",
        "PPO", "Schulman et al. 2017, Eq. 6–7",
    )
    if world_problem(spec):
        return
    _bridge_demo(spec)
    code.show_code(gw.probability_ratio, gw.change_factor)
    for lesson in course.LESSONS:
        if lesson.slug == "ppo":
            st.page_link(lesson.page, label=f"Next: {lesson.title}", icon=lesson.icon)
    cards.takeaway("A policy-gradient step is only trustworthy close to the old policy. "
                   "Ratios far from 1 mean the update changed the policy drastically, which "
                   "is what PPO's clipped objective prevents.")


@st.fragment
def _bridge_demo(spec: tuple) -> None:
    left, right = st.columns([3, 1])
    with left:
        big = float(state.choice(BIG_LR, "Big step size α", help=f"The careful run uses α = "
                                 f"{CAREFUL_LR:g}. Both runs use {BRIDGE_BATCH} episodes per "
                                 "update."))
    with right:
        seed = state.number(BRIDGE_SEED, "Seed")
    grid, vi = world(spec), solved(spec)
    runs = bridge_runs(spec, big, seed)
    optimum = vi["values"][-1][grid.start]
    cols = metric_columns(4)
    for i, (kind, (name, run)) in enumerate(zip(RUNS, runs.items(), strict=True)):
        cols[2 * i].metric(f"{kind} ({name}): final value", fmt(run["exact_returns"][-1]),
                           delta=fmt(run["exact_returns"][-1] - optimum), delta_color="off",
                           delta_description="vs the optimum",
                           help="The exact V^π(start) after the last update; the grey number "
                           f"is its distance to the optimum V*(start) = {fmt(optimum)}.")
        cols[2 * i + 1].metric(f"{kind}: entropy in the last batch",
                               f"{run['entropy'][-1]:.2f} bits")
    k = state.slider(BRIDGE_AT, "Update", help="The sliders under the charts replay the updates "
                     "at once, or press play. This one sets the update both charts open at, and "
                     "goes into the shared link.")
    explorable.show(
        bridge_replay(spec, big, seed), key="gw_bridge_runs_chart", start=k - 1,
        caption="Top: the exact value of each run's policy, careful in green, big in "
        "red-orange, the optimum dashed. The big step jumps first, then often freezes below "
        "the optimum: its policy became nearly deterministic before it had learned enough. "
        "Other seeds can tell other stories; that unpredictability is the problem. Bottom: per "
        "update, the largest factor by which the probability of any action in any cell went "
        "up or down. The careful run stays near 1, close to the factor "
        f"{1 / (1 - PPO_EPSILON):g} that PPO's clipping allows with ε = {PPO_EPSILON:g}; the big "
        "one multiplies and divides probabilities by enormous factors.")
    _ratio_view(spec, big, seed, k)


@st.fragment
def _ratio_view(spec: tuple, big: float, seed: int, k: int) -> None:
    which = state.choice(BRIDGE_RUN, "Run at the start cell")
    explorable.show(
        update_replay(spec, big, seed, which), key="gw_bridge_bars_chart", start=k - 1,
        caption="Grey: the policy before the update, pink: after it, both at the start "
        "cell. r above each pair is the ratio PPO would watch; PPO with ε = "
        f"{PPO_EPSILON:g} stops rewarding changes beyond {1 - PPO_EPSILON:g} … "
        f"{1 + PPO_EPSILON:g}.")


# 6. Check yourself

QUESTIONS = [
    quiz.Numeric(
        qid="backup", prompt="A robot stands next to the treasure, the floor does not slip, the "
        "step cost is 0.04 and γ = 0.9. With all values still 0, what does one Bellman backup "
        "give this cell (moving onto the treasure)?", answer=0.96, tolerance=0.005,
        explanation="One move onto the treasure pays −0.04 + 1 = 0.96, and the end cell's value "
        "is 0, so V₁ = 0.96 + 0.9·0 = 0.96.",
    ),
    quiz.Numeric(
        qid="discount", prompt="An episode pays −0.04, −0.04, then +0.96 on its third move. "
        "With γ = 0.9, what is its return G?", answer=0.7016, tolerance=0.002,
        explanation="G = −0.04 + 0.9·(−0.04) + 0.9²·0.96 = −0.04 − 0.036 + 0.7776 = 0.7016.",
    ),
    quiz.Choice(
        qid="off_policy", prompt="Q-learning explores with ε = 0.2, yet its table converges to "
        "the optimal Q-values, not to those of the exploring policy. Why?",
        options=["Its target uses max over the next actions, not the action it will actually "
                 "take", "Because ε is small enough to ignore",
                 "Because the learning rate α shrinks the exploring moves"],
        answer="Its target uses max over the next actions, not the action it will actually "
        "take",
        explanation="The target r + γ·max Q(s′, ·) assumes the best move from s′ on, whatever "
        "the robot does next. That makes Q-learning off-policy.",
    ),
    quiz.Choice(
        qid="baseline", prompt="What does subtracting the baseline b(s) from the return do to "
        "REINFORCE's update?",
        options=["It keeps the expected direction and reduces the noise",
                 "It changes which policy is optimal",
                 "It makes every update positive"],
        answer="It keeps the expected direction and reduces the noise",
        explanation="The baseline's contribution averages to zero, because the probabilities "
        "at a state always sum to 1; what is left varies less from batch to batch.",
    ),
    quiz.Numeric(
        qid="ratio", prompt="Before an update the policy chose 'right' at the start with "
        "probability 0.2, after it with 0.5. What is the probability ratio r?", answer=2.5,
        tolerance=0.01,
        explanation="r = π_new / π_old = 0.5 / 0.2 = 2.5, far outside PPO's band [0.8, 1.2] "
        "for ε = 0.2.",
    ),
]


def check_yourself() -> None:
    quiz.lesson_check(SLUG, QUESTIONS, 6, takeaway=(
        "An agent can learn values (the Bellman equation, Q-learning) or improve its policy "
        "directly (the policy gradient); one step too big can ruin a good policy, which is the "
        "problem PPO solves."))


# The page

st.title("Reinforcement learning in a grid world")
state.check_link(PARAMS)
st.markdown(
    "Before a language model can be trained with human feedback, we need the ideas of "
    "reinforcement learning: an agent that acts, collects rewards, and improves from "
    "experience. This lesson builds them in a world small enough to see whole: a grid with a "
    "treasure and a dragon. Values and the Bellman equation, Q-learning, policy gradients, "
    "and finally why big policy updates are dangerous, which is the problem PPO solves."
)
st.caption(f"Accompanies *{course.VIDEOS['rl']}* and the first half of *{course.VIDEOS['ppo']}* "
           f"by {course.SERIES_AUTHOR}. Equations follow Sutton & Barto, *Reinforcement "
           "Learning: An Introduction* (2nd ed., 2018).")
STEPS.show((grid_world, values_and_bellman, q_values_and_learning, policy_gradients,
            bridge_to_ppo, check_yourself))
