"""Reinforcement learning in a grid world: states, actions, rewards, values and policies.

The world is a small grid of cells, written as rows of letters separated by "/":

    .  empty        W  wall        T  treasure (+1, the episode ends)
    S  start        D  dragon (-1, the episode ends)

For example "...T/.W.D/S..." is the classic 4-by-3 world (three rows of four cells). Every
non-wall cell is a state. In every state the agent picks one of four actions (up, right, down,
left). The move goes where it was meant to with probability 1 - slip; otherwise it slips to one
of the two perpendicular directions (slip/2 each). Bumping into a wall or the edge leaves the
agent where it was. Every move costs ``step_cost``; entering the treasure or the dragon also pays
its reward and ends the episode. End cells are absorbing and worth 0 from then on.

The transition probabilities P(s'|s, a) and rewards r(s, a, s') are numpy arrays, so the Bellman
equation is a few lines of linear algebra (``bellman_backup``, ``value_iteration``,
``policy_values``). The learning algorithms only sample the world, one move at a time:
``q_learning`` (tabular Q-learning with epsilon-greedy exploration) and ``reinforce`` (a softmax
policy trained by the policy gradient with a learned value baseline). Everything random takes a
seed. Equation numbers refer to Sutton & Barto, *Reinforcement Learning: An Introduction*, 2nd
edition (2018), unless noted. Bad input raises ValueError with a message a learner can act on.
"""

from __future__ import annotations

import contextlib
import numbers
from collections import deque
from dataclasses import dataclass

import numpy as np

from lessons.information import entropy

ACTIONS = ("up", "right", "down", "left")
ARROWS = ("↑", "→", "↓", "←")
MOVES = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]])  # (row, column) change of each action
CELL_KINDS = {".": "empty", "W": "wall", "T": "treasure", "D": "dragon", "S": "start"}
KIND_LETTERS = {kind: letter for letter, kind in CELL_KINDS.items()}
END_REWARDS = {"T": 1.0, "D": -1.0}
MIN_SIZE, MAX_SIZE = 2, 8
MAX_STEPS = 100  # an episode that has not ended after this many moves is cut off


# The world


def _check_unit_interval(value, name, upper_open=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    if value < 0 or value > 1 or (upper_open and value == 1):
        upper = "below 1" if upper_open else "at most 1"
        raise ValueError(f"{name} must be at least 0 and {upper}, got {value:g}.")
    return float(value)


def parse_layout(text: str) -> tuple[str, ...]:
    """Read a layout: rows of cell letters separated by "/" (letters in any case).

    Example: parse_layout("...t/.W.D/S...") -> ('...T', '.W.D', 'S...')
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("The layout is empty: type rows of cells separated by /, for example "
                         "...T/.W.D/S...")
    rows = tuple(row.strip().upper() for row in text.strip().split("/"))
    if not MIN_SIZE <= len(rows) <= MAX_SIZE:
        raise ValueError(f"The layout has {len(rows)} row{'s' * (len(rows) != 1)}; a grid "
                         f"needs {MIN_SIZE} to {MAX_SIZE} rows, separated by /.")
    widths = [len(row) for row in rows]
    if len(set(widths)) != 1:
        raise ValueError(f"The rows have different lengths ({', '.join(map(str, widths))} "
                         "cells): every row needs the same number of cells.")
    if not MIN_SIZE <= widths[0] <= MAX_SIZE:
        raise ValueError(f"The rows have {widths[0]} cells each; a grid needs {MIN_SIZE} to "
                         f"{MAX_SIZE} columns.")
    for row in rows:
        for letter in row:
            if letter not in CELL_KINDS:
                raise ValueError(f"{letter!r} is not a cell letter: use . (empty), W (wall), "
                                 "T (treasure), D (dragon) and S (start), rows separated by /.")
    return rows


def layout_text(rows) -> str:
    """The one-line form of a layout. Example: layout_text(('..T', 'S.D')) -> '..T/S.D'"""
    return "/".join(rows)


def set_cell(rows, row: int, col: int, letter: str) -> tuple[str, ...]:
    """The layout with cell (row, col) (0-based) set to ``letter``; a new start moves the old one.

    Example: set_cell(('..T', 'S.D'), 0, 0, 'W') -> ('W.T', 'S.D')
    """
    letter = letter.upper()
    if letter not in CELL_KINDS:
        raise ValueError(f"{letter!r} is not a cell letter.")
    if not (0 <= row < len(rows) and 0 <= col < len(rows[0])):
        raise ValueError(f"Row {row + 1}, column {col + 1} is outside the grid, which has "
                         f"{len(rows)} rows and {len(rows[0])} columns.")
    grid = [list(r.replace("S", ".") if letter == "S" else r) for r in rows]
    grid[row][col] = letter
    return tuple("".join(r) for r in grid)


def resize(rows, n_rows: int, n_cols: int) -> tuple[str, ...]:
    """The layout cut or padded with empty cells (at the bottom and right) to n_rows × n_cols.

    Example: resize(('..T', 'S.D'), 3, 2) -> ('..', 'S.', '..')
    """
    if not (MIN_SIZE <= n_rows <= MAX_SIZE and MIN_SIZE <= n_cols <= MAX_SIZE):
        raise ValueError(f"A grid has {MIN_SIZE} to {MAX_SIZE} rows and columns.")
    padded = [r[:n_cols].ljust(n_cols, ".") for r in rows[:n_rows]]
    padded += ["." * n_cols] * (n_rows - len(padded))
    return tuple(padded)


@dataclass(frozen=True, eq=False)
class GridWorld:
    """A grid world as arrays. States are the non-wall cells in reading order.

    cells: (n, 2) row and column of each state; index: (rows, cols) state of each cell, -1 for
    walls; destinations: (n, 4) where a move in each direction lands; transitions: (n, 4, n)
    P(s'|s, a); rewards: (n, 4, n) r(s, a, s'); entry_rewards: (n,) the reward of a move that
    lands in each state (-step_cost, plus ±1 at an end cell); terminal: (n,) end cells; start:
    the start state.
    """

    layout: tuple[str, ...]
    gamma: float
    slip: float
    step_cost: float
    cells: np.ndarray
    index: np.ndarray
    destinations: np.ndarray
    transitions: np.ndarray
    rewards: np.ndarray
    entry_rewards: np.ndarray
    terminal: np.ndarray
    start: int

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.layout), len(self.layout[0])

    @property
    def n_states(self) -> int:
        return len(self.cells)

    @property
    def expected_rewards(self) -> np.ndarray:
        """r(s, a) = Σ_s' P(s'|s, a)·r(s, a, s'), shape (n, 4)."""
        return np.einsum("san,san->sa", self.transitions, self.rewards)

    @property
    def letters(self) -> np.ndarray:
        """(n,) the layout letter of each state."""
        return np.array([self.layout[r][c] for r, c in self.cells])

    def letter(self, state: int) -> str:
        row, col = self.cells[state]
        return self.layout[row][col]

    def state_at(self, row: int, col: int) -> int:
        """The state of cell (row, col), 0-based; ValueError for walls and cells off the grid."""
        rows, cols = self.shape
        if not (0 <= row < rows and 0 <= col < cols):
            raise ValueError(f"Row {row + 1}, column {col + 1} is outside the grid, which has "
                             f"{rows} rows and {cols} columns.")
        if self.index[row, col] < 0:
            raise ValueError(f"Row {row + 1}, column {col + 1} is a wall: walls are not states.")
        return int(self.index[row, col])


def slip_matrix(slip: float) -> np.ndarray:
    """W[a, m] = probability that intending action a makes move m.

    1 - slip for the intended move, slip/2 for each perpendicular one, 0 for going back.
    Example: slip_matrix(0.2)[1] -> [0.1, 0.8, 0.1, 0.0]  (intending "right")
    """
    slip = _check_unit_interval(slip, "The slip probability")
    eye = np.eye(4)
    return (1 - slip) * eye + slip / 2 * (np.roll(eye, 1, axis=1) + np.roll(eye, -1, axis=1))


def _neighbours(index: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """destinations[s, m]: the state reached by move m from s (itself at a wall or the edge)."""
    rows, cols = index.shape
    target = cells[:, None, :] + MOVES[None, :, :]
    inside = ((target[..., 0] >= 0) & (target[..., 0] < rows)
              & (target[..., 1] >= 0) & (target[..., 1] < cols))
    clipped = np.clip(target, 0, [rows - 1, cols - 1])
    landed = index[clipped[..., 0], clipped[..., 1]]
    own = np.broadcast_to(np.arange(len(cells))[:, None], landed.shape)
    return np.where(inside & (landed >= 0), landed, own)


def _reachable(destinations: np.ndarray, sources, terminal: np.ndarray,
               reverse: bool = False) -> np.ndarray:
    """States reachable from ``sources`` (or, with reverse, that can reach them) by moves that
    do not pass through an end cell."""
    n = len(destinations)
    edges = [[] for _ in range(n)]
    for s in range(n):
        if terminal[s]:
            continue
        for t in set(destinations[s].tolist()):
            edges[t if reverse else s].append(s if reverse else t)
    seen = np.zeros(n, dtype=bool)
    queue = deque(sources)
    seen[list(sources)] = True
    while queue:
        s = queue.popleft()
        if terminal[s] and not reverse:
            continue
        for t in edges[s]:
            if not seen[t]:
                seen[t] = True
                queue.append(t)
    return seen


def _where(rows, letter) -> list[tuple[int, int]]:
    return [(r, c) for r, row in enumerate(rows) for c, x in enumerate(row) if x == letter]


def make_grid(layout, gamma: float = 0.9, slip: float = 0.2,
              step_cost: float = 0.04) -> GridWorld:
    """Build the arrays of a grid world from its layout (text or rows) and settings.

    P(s'|s, a) = Σ_m W[a, m]·[s' = destination(s, m)] with W = slip_matrix(slip);
    r(s, a, s') = -step_cost + (+1 if s' is a treasure, -1 if a dragon, else 0).
    Example: make_grid("..T/S.D").transitions.shape -> (6, 4, 6)
    """
    rows = parse_layout(layout) if isinstance(layout, str) else parse_layout(layout_text(layout))
    gamma = _check_unit_interval(gamma, "The discount γ")
    slip = _check_unit_interval(slip, "The slip probability")
    if isinstance(step_cost, bool) or not isinstance(step_cost, numbers.Real) \
            or not np.isfinite(step_cost) or step_cost < 0:
        raise ValueError(f"The step cost must be a number ≥ 0, got {step_cost!r}.")
    starts = _where(rows, "S")
    if len(starts) != 1:
        raise ValueError("The grid needs exactly one start cell S; it has "
                         f"{len(starts) if starts else 'none'}.")
    ends = _where(rows, "T") + _where(rows, "D")
    if not ends:
        raise ValueError("The grid has no treasure T and no dragon D, so an episode never "
                         "ends: add at least one end cell.")

    cells = np.array([(r, c) for r, row in enumerate(rows) for c, x in enumerate(row)
                      if x != "W"])
    index = np.full((len(rows), len(rows[0])), -1)
    index[cells[:, 0], cells[:, 1]] = np.arange(len(cells))
    letters = np.array([rows[r][c] for r, c in cells])
    terminal = np.isin(letters, list(END_REWARDS))
    start = int(index[starts[0]])
    destinations = _neighbours(index, cells)

    reach = _reachable(destinations, [start], terminal)
    for r, c in _where(rows, "T"):
        if not reach[index[r, c]]:
            raise ValueError(f"The treasure at row {r + 1}, column {c + 1} cannot be reached "
                             "from the start: walls or other end cells shut it in.")
    if gamma >= 1:
        can_end = _reachable(destinations, np.flatnonzero(terminal).tolist(), terminal,
                             reverse=True)
        stuck = np.flatnonzero(~can_end)
        if stuck.size:
            r, c = cells[stuck[0]]
            raise ValueError(f"With γ = 1 every cell must be able to reach an end cell, but row "
                             f"{r + 1}, column {c + 1} cannot: its return would add up step "
                             "costs forever. Lower γ below 1 or open a path.")

    n = len(cells)
    weights = slip_matrix(slip)
    s, a, m = np.meshgrid(np.arange(n), np.arange(4), np.arange(4), indexing="ij")
    transitions = np.zeros((n, 4, n))
    np.add.at(transitions, (s, a, destinations[s, m]), weights[a, m])
    entry_rewards = -step_cost + np.array([END_REWARDS.get(x, 0.0) for x in letters])
    rewards = np.broadcast_to(entry_rewards, (n, 4, n)).copy()
    transitions[terminal] = 0.0
    transitions[terminal, :, np.flatnonzero(terminal)] = 1.0
    rewards[terminal] = 0.0
    return GridWorld(layout=rows, gamma=gamma, slip=slip, step_cost=float(step_cost),
                     cells=cells, index=index, destinations=destinations,
                     transitions=transitions, rewards=rewards, entry_rewards=entry_rewards,
                     terminal=terminal, start=start)


# Values and the Bellman equation


def bellman_backup(grid: GridWorld, values: np.ndarray) -> np.ndarray:
    """Q(s, a) = Σ_s' P(s'|s, a)·[r(s, a, s') + γ·V(s')]   (the inside of Eq. 4.10)

    values: (n,) a value per state. Returns (n, 4): one Q-value per state and action.
    Example: with V = 0 everywhere, Q(s, a) is just the expected reward of one move.
    """
    values = np.asarray(values, dtype=float)
    if values.shape != (grid.n_states,):
        raise ValueError(f"values needs one number per state ({grid.n_states}), got shape "
                         f"{values.shape}.")
    return grid.expected_rewards + grid.gamma * grid.transitions @ values


def value_iteration(grid: GridWorld, max_sweeps: int = 1000, tol: float = 1e-10) -> dict:
    """V_{k+1}(s) = max_a Σ_s' P(s'|s, a)·[r(s, a, s') + γ·V_k(s')], from V_0 = 0   (Eq. 4.10)

    Returns values (k+1, n): V_0 ... V_k, one row per sweep; residuals (k,): the largest change
    of each sweep; q (n, 4): the Q-values of the last V; sweeps and converged (residual < tol).
    Example: in a one-step world "ST" with step cost 0, V_1(start) = 1 and V_2 = V_1.
    """
    history = [np.zeros(grid.n_states)]
    residuals = []
    for _ in range(max_sweeps):
        new = bellman_backup(grid, history[-1]).max(axis=1)
        residuals.append(float(np.abs(new - history[-1]).max()))
        history.append(new)
        if residuals[-1] < tol:
            break
    values = np.array(history)
    return {"values": values, "residuals": np.array(residuals),
            "q": bellman_backup(grid, values[-1]), "sweeps": len(residuals),
            "converged": bool(residuals[-1] < tol)}


def bellman_terms(grid: GridWorld, values: np.ndarray, state: int) -> list[dict]:
    """The Bellman backup of one state, term by term, for writing it out.

    One dict per action: "outcomes" = list of (probability, next state, reward, V(next)), most
    likely first, and
    "q" = Σ probability·(reward + γ·V(next)), which equals bellman_backup(grid, values)[state].
    """
    values = np.asarray(values, dtype=float)
    terms = []
    for action in range(4):
        probs = grid.transitions[state, action]
        likely_first = sorted(np.flatnonzero(probs > 0), key=lambda t: -probs[t])
        outcomes = [(float(probs[t]), int(t), float(grid.rewards[state, action, t]),
                     float(values[t])) for t in likely_first]
        q = sum(p * (r + grid.gamma * v) for p, _, r, v in outcomes)
        terms.append({"action": ACTIONS[action], "outcomes": outcomes, "q": q})
    return terms


def greedy_policy(q: np.ndarray) -> np.ndarray:
    """π(s) = argmax_a Q(s, a)   (ties go to the first action: up, right, down, left)

    q: (n, 4). Returns (n,) action indices. Example: greedy_policy([[0, 2, 1, 2]]) -> [1]
    """
    return np.argmax(np.asarray(q, dtype=float), axis=1)


def is_optimal_action(q_optimal: np.ndarray, actions: np.ndarray, tol: float = 1e-6):
    """Whether each state's action is among its best ones: Q*(s, a) ≥ max_a' Q*(s, a') - tol.

    Example: is_optimal_action([[1, 1, 0, 0]], [1]) -> [True]  (a tie counts as optimal)
    """
    q_optimal = np.asarray(q_optimal, dtype=float)
    chosen = q_optimal[np.arange(len(q_optimal)), actions]
    return chosen >= q_optimal.max(axis=1) - tol


def deterministic_policy(actions: np.ndarray) -> np.ndarray:
    """π(a|s) = 1 for the given action, 0 for the others: (n,) actions -> (n, 4) probabilities."""
    return np.eye(4)[np.asarray(actions, dtype=int)]


def policy_values(grid: GridWorld, probs: np.ndarray) -> np.ndarray:
    """V^π = r_π + γ·P_π·V^π, solved exactly: V^π = (I - γ·P_π)⁻¹·r_π   (Eq. 4.4 as a system)

    probs: (n, 4) π(a|s). Solved on the non-end states (end cells are worth 0).
    Example: the optimal policy's values equal value iteration's V*.
    """
    probs = np.asarray(probs, dtype=float)
    live = ~grid.terminal
    p_pi = np.einsum("sa,san->sn", probs, grid.transitions)[np.ix_(live, live)]
    r_pi = np.einsum("sa,sa->s", probs, grid.expected_rewards)[live]
    values = np.zeros(grid.n_states)
    try:
        values[live] = np.linalg.solve(np.eye(live.sum()) - grid.gamma * p_pi, r_pi)
    except np.linalg.LinAlgError:
        raise ValueError("This policy never reaches an end cell from some cells, and with "
                         "γ = 1 their values are infinite.") from None
    if not np.all(np.isfinite(values)):
        raise ValueError("This policy's values are not finite (it may never end with γ = 1).")
    return values


def greedy_start_values(grid: GridWorld, q_tables: np.ndarray) -> np.ndarray:
    """V^π(start) of the greedy policy of each Q-table in q_tables (k, n, 4); NaN where that
    policy never ends (possible only with γ = 1)."""
    out = np.full(len(q_tables), np.nan)
    for i, q in enumerate(q_tables):
        with contextlib.suppress(ValueError):
            out[i] = policy_values(grid, deterministic_policy(greedy_policy(q)))[grid.start]
    return out


# Episodes and returns


def episode_return(rewards, gamma: float) -> float:
    """G = r_1 + γ·r_2 + γ²·r_3 + ...   (Eq. 3.8)

    Example: episode_return([-0.04, -0.04, 1.0], 0.9) -> -0.04 - 0.036 + 0.81 = 0.734
    """
    rewards = np.asarray(rewards, dtype=float)
    return float(np.sum(rewards * gamma ** np.arange(rewards.size)))


def returns_to_go(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """G_t = r_{t+1} + γ·G_{t+1}, for every step t   (Eq. 3.9)

    rewards: (T, ...) along axis 0 (e.g. (T, episodes)). Example: ([0, 0, 1], 0.5) -> [0.25,
    0.5, 1]
    """
    rewards = np.asarray(rewards, dtype=float)
    out = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[1:])
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def running_mean(x, window: int) -> np.ndarray:
    """The mean of the last ``window`` entries at every position (fewer at the start).

    Example: running_mean([1, 2, 3, 4], 2) -> [1, 1.5, 2.5, 3.5]
    """
    x = np.asarray(x, dtype=float)
    total = np.concatenate([[0.0], np.cumsum(x)])
    ends = np.arange(1, x.size + 1)
    starts = np.maximum(ends - window, 0)
    return (total[ends] - total[starts]) / (ends - starts)


def sample_next_states(grid: GridWorld, states, actions, uniforms) -> tuple:
    """Sample s' ~ P(·|s, a) for arrays of states and actions, given uniforms in [0, 1).

    Returns (next states, moves made): the move is the intended action with probability
    1 - slip and each perpendicular direction with probability slip/2, as in make_grid.
    """
    states, actions = np.asarray(states), np.asarray(actions)
    u = np.asarray(uniforms)
    moves = np.where(u < 1 - grid.slip, actions,
                     np.where(u < 1 - grid.slip / 2, (actions + 1) % 4, (actions + 3) % 4))
    return grid.destinations[states, moves], moves


def walk_episode(grid: GridWorld, probs: np.ndarray, seed: int,
                 max_steps: int = MAX_STEPS) -> dict:
    """One episode from the start under the policy π(a|s) = probs[s, a].

    Returns states (T+1,), actions (T,), moves (T,) actually made (they differ from the actions
    where the agent slipped), rewards (T,), the return G (Eq. 3.8) and whether it ended.
    """
    rng = np.random.default_rng(seed)
    cdf = np.cumsum(probs, axis=1)
    states, actions, moves, rewards = [grid.start], [], [], []
    for _ in range(max_steps):
        s = states[-1]
        a = min(int(np.searchsorted(cdf[s], rng.random(), side="right")), 3)
        nxt, move = sample_next_states(grid, s, a, rng.random())
        states.append(int(nxt))
        actions.append(a)
        moves.append(int(move))
        rewards.append(float(grid.rewards[s, a, nxt]))
        if grid.terminal[nxt]:
            break
    return {"states": np.array(states), "actions": np.array(actions, dtype=int),
            "moves": np.array(moves, dtype=int), "rewards": np.array(rewards),
            "return": episode_return(rewards, grid.gamma),
            "ended": bool(grid.terminal[states[-1]])}


def snapshot_steps(total: int, count: int) -> np.ndarray:
    """t_i = round(i·total / (count − 1)) for i = 0 … count − 1: the points of a run of ``total``
    episodes or updates at which to keep a snapshot, evenly spaced from 0 (before any) to total
    (the trained result); points that round to the same step are kept once.

    Example: snapshot_steps(10, 5) -> [0, 2, 5, 8, 10]  (halves round to the even neighbour)
    """
    if isinstance(total, bool) or not isinstance(total, numbers.Integral) or total < 0:
        raise ValueError(f"The length of a run must be a whole number ≥ 0, got {total!r}.")
    if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 2:
        raise ValueError(f"A run needs at least 2 snapshots (its start and end), got {count!r}.")
    return np.unique(np.linspace(0, total, count).round().astype(int))


# Q-learning


def q_learning(grid: GridWorld, episodes: int = 300, alpha: float = 0.2, epsilon: float = 0.1,
               seed: int = 0, random_starts: bool = False, max_steps: int = MAX_STEPS,
               snapshots: int = 21) -> dict:
    """Tabular Q-learning with epsilon-greedy exploration   (Eq. 6.8; Watkins, 1989)

        Q(s, a) ← Q(s, a) + α·[r + γ·max_a' Q(s', a') - Q(s, a)]   (no max term at an end cell)

    With probability ε the agent tries a random action, otherwise the best one so far (ties
    broken at random). Episodes start at S, or at a random non-end cell with random_starts.
    Returns q (n, 4); returns (episodes,) each episode's return; lengths (episodes,);
    history (k, n, 4): Q after snapshot_episodes[i] episodes (k = snapshots, evenly spaced).
    """
    _check_unit_interval(alpha, "The learning rate α")
    _check_unit_interval(epsilon, "The exploration rate ε")
    if episodes < 1:
        raise ValueError("Q-learning needs at least one episode.")
    rng = np.random.default_rng(seed)
    gamma, slip = grid.gamma, grid.slip
    dest = grid.destinations.tolist()
    terminal = grid.terminal.tolist()
    reward = grid.entry_rewards.tolist()
    live = np.flatnonzero(~grid.terminal)
    q = [[0.0] * 4 for _ in range(grid.n_states)]  # plain lists: this loop is scalar work
    marks = snapshot_steps(episodes, snapshots)
    history, returns, lengths = [], np.zeros(episodes), np.zeros(episodes, dtype=int)
    for episode in range(episodes):
        if episode in marks:
            history.append(np.array(q))
        s = int(rng.choice(live)) if random_starts else grid.start
        g, discount, steps = 0.0, 1.0, 0
        for _ in range(max_steps):
            steps += 1
            row = q[s]
            if rng.random() < epsilon:
                a = int(rng.integers(4))
            else:
                top = max(row)
                best = [i for i in range(4) if row[i] == top]
                a = best[int(rng.integers(len(best)))] if len(best) > 1 else best[0]
            u = rng.random()
            move = a if u < 1 - slip else (a + 1) % 4 if u < 1 - slip / 2 else (a + 3) % 4
            nxt = dest[s][move]
            r = reward[nxt]
            target = r if terminal[nxt] else r + gamma * max(q[nxt])
            row[a] += alpha * (target - row[a])
            g += discount * r
            discount *= gamma
            s = nxt
            if terminal[s]:
                break
        returns[episode], lengths[episode] = g, steps
    history.append(np.array(q))
    q = history[-1]
    return {"q": q, "returns": returns, "lengths": lengths, "history": np.array(history),
            "snapshot_episodes": marks}


# Policy gradients


def softmax_policy(theta: np.ndarray) -> np.ndarray:
    """π(a|s) = exp(θ[s, a]) / Σ_b exp(θ[s, b])   (Eq. 13.2)

    theta: (..., 4) preferences. Example: softmax_policy([[0, 0, 0, 0]]) -> [[.25, .25, .25, .25]]
    """
    theta = np.asarray(theta, dtype=float)
    z = np.exp(theta - theta.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def log_policy_gradient(probs: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """∇_θ[s] log π(a|s) = onehot(a) - π(·|s)   (for a softmax over θ[s], Eq. 13.9)

    probs: (k, 4) π(·|s) at the visited states; actions: (k,). Returns (k, 4).
    Example: log_policy_gradient([[.25, .25, .25, .25]], [2]) -> [[-.25, -.25, .75, -.25]]
    """
    probs = np.asarray(probs, dtype=float)
    return np.eye(4)[np.asarray(actions, dtype=int)] - probs


def probability_ratio(new_probs, old_probs) -> np.ndarray:
    """r = π_new(a|s) / π_old(a|s)   (Eq. 6 of Schulman et al., 2017, the PPO paper)

    Example: probability_ratio(0.5, 0.2) -> 2.5
    """
    return np.asarray(new_probs, dtype=float) / np.asarray(old_probs, dtype=float)


def policy_entropy(probs: np.ndarray) -> np.ndarray:
    """H(π(·|s)) = -Σ_a π(a|s)·log₂ π(a|s) for every state, in bits (2 bits = uniform)."""
    return np.atleast_1d(entropy(probs, base=2))


def rollout(grid: GridWorld, probs: np.ndarray, episodes: int, rng: np.random.Generator,
            max_steps: int = MAX_STEPS) -> dict:
    """Run ``episodes`` episodes from the start side by side under π(a|s) = probs[s, a].

    Returns states, actions, rewards (T, episodes) and alive (T, episodes): True while the
    episode had not yet ended at step t (later entries are padding with reward 0).
    """
    # One uniform draws the pair (action a, move m) from π(a|s)·W[a, m]: a for the gradient,
    # m for where the agent really goes (the same world as sample_next_states).
    joint = (probs[:, :, None] * slip_matrix(grid.slip)[None]).reshape(len(probs), 16)
    cdf = np.cumsum(joint, axis=1)
    uniforms = rng.random((max_steps, episodes, 1))
    states = np.full(episodes, grid.start)
    alive = np.ones(episodes, dtype=bool)
    record = {"states": [], "actions": [], "rewards": [], "alive": []}
    for t in range(max_steps):
        pair = np.minimum((cdf[states] <= uniforms[t]).sum(axis=1), 15)
        actions, moves = pair // 4, pair % 4
        nxt = grid.destinations[states, moves]
        record["states"].append(states)
        record["actions"].append(actions)
        record["rewards"].append(np.where(alive, grid.entry_rewards[nxt], 0.0))
        record["alive"].append(alive)
        alive = alive & ~grid.terminal[nxt]
        states = nxt
        if not alive.any():
            break
    return {key: np.array(value) for key, value in record.items()}


def reinforce(grid: GridWorld, updates: int = 100, batch: int = 16, lr: float = 1.0,
              seed: int = 0, baseline: bool = True, baseline_lr: float = 0.5,
              max_steps: int = MAX_STEPS) -> dict:
    """REINFORCE with a value baseline on a tabular softmax policy   (Eq. 13.11; Williams, 1992)

        θ ← θ + lr · (1/batch) · Σ_episodes Σ_t (G_t - b(s_t))·∇ log π(a_t|s_t)
        b(s) ← b(s) + baseline_lr · mean(G_t - b(s)) over the visits to s

    G_t - b(s_t) is the advantage: how much better this episode went from s_t than usual.
    Each update samples ``batch`` episodes from the start with the current policy.
    Returns thetas (updates+1, n, 4) and probs (the policies, same shape); batch_returns
    (updates,) mean return of each batch; exact_returns (updates+1,) V^π(start) of each
    policy; entropy (updates,) visit-weighted mean policy entropy (bits) along the batch.
    """
    if lr <= 0 or not np.isfinite(lr):
        raise ValueError("The step size must be a positive number.")
    rng = np.random.default_rng(seed)
    theta = np.zeros((grid.n_states, 4))
    values = np.zeros(grid.n_states)
    thetas, batch_returns, entropies = [theta.copy()], [], []
    for _ in range(updates):
        probs = softmax_policy(theta)
        episodes = rollout(grid, probs, batch, rng, max_steps)
        alive = episodes["alive"]
        states, actions = episodes["states"][alive], episodes["actions"][alive]
        all_returns = returns_to_go(episodes["rewards"], grid.gamma)
        returns = all_returns[alive]
        advantage = returns - values[states] if baseline else returns
        grad = np.zeros_like(theta)
        np.add.at(grad, states, advantage[:, None] * log_policy_gradient(probs[states], actions))
        theta = theta + lr * grad / batch
        if baseline:
            visits = np.bincount(states, minlength=grid.n_states)
            gap = np.bincount(states, weights=returns - values[states], minlength=grid.n_states)
            values = values + baseline_lr * gap / np.maximum(visits, 1)
        thetas.append(theta.copy())
        batch_returns.append(all_returns[0].mean())
        entropies.append(float(policy_entropy(probs[states]).mean()))
    thetas = np.array(thetas)
    policies = softmax_policy(thetas)
    exact = np.full(len(policies), np.nan)  # NaN: a policy that never ends, possible if γ = 1
    for i, policy in enumerate(policies):
        with contextlib.suppress(ValueError):
            exact[i] = policy_values(grid, policy)[grid.start]
    return {"thetas": thetas, "probs": policies, "batch_returns": np.array(batch_returns),
            "exact_returns": exact, "entropy": np.array(entropies), "baseline": values}


def ratio_extremes(probs: np.ndarray, states) -> tuple[np.ndarray, np.ndarray]:
    """The smallest and largest ratio π_{k+1}(a|s) / π_k(a|s) of each update k, over the given
    states and all actions. probs: (K+1, n, 4) policies. Returns two (K,) arrays."""
    ratio = probability_ratio(probs[1:, states], probs[:-1, states])
    return ratio.min(axis=(1, 2)), ratio.max(axis=(1, 2))


def change_factor(probs: np.ndarray, states) -> np.ndarray:
    """max over the given states and all actions of max(r, 1/r), r = π_{k+1}(a|s) / π_k(a|s):
    by how large a factor update k changed any probability (1 = no change).

    probs: (K+1, n, 4) policies. Returns (K,). Example: 0.25 -> 0.5 and 0.25 -> 0.05 give 5.
    """
    low, high = ratio_extremes(probs, states)
    return np.maximum(high, 1 / low)
