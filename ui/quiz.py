"""Self-check questions with instant feedback, and the learner's progress in this session.

Answers stay in the session (they are the learner's own work, so they never go into a shared
link); the home page and the sidebar read the progress from here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

_PROGRESS = "_self_check_progress"  # {lesson slug: {question id: answered right?}}
_TOTALS = "_self_check_totals"  # {lesson slug: number of questions on its page}


@dataclass(frozen=True)
class Choice:
    """A multiple-choice question; ``answer`` is the right option."""

    qid: str
    prompt: str
    options: Sequence[str]
    answer: str
    explanation: str


@dataclass(frozen=True)
class Numeric:
    """A question answered with a number, right within ``tolerance`` of ``answer``."""

    qid: str
    prompt: str
    answer: float
    tolerance: float
    explanation: str
    unit: str = ""
    step: float = 0.01


def is_right(question: Choice | Numeric, response) -> bool | None:
    """True/False for an answer, None while the learner has not answered."""
    if response is None:
        return None
    if isinstance(question, Choice):
        return response == question.answer
    value = float(response)
    return math.isfinite(value) and abs(value - question.answer) <= question.tolerance


def _record(lesson: str, qid: str, right: bool | None) -> bool:
    """Store one result; True if it changed (so the progress shown elsewhere is stale)."""
    answers = st.session_state.setdefault(_PROGRESS, {}).setdefault(lesson, {})
    before = answers.get(qid)
    if right is None:
        answers.pop(qid, None)
    else:
        answers[qid] = right
    return before != right


def _ask(lesson: str, number: int, question: Choice | Numeric) -> bool:
    key = f"quiz_{lesson}_{question.qid}"
    label = f"**{number}.** {question.prompt}"
    if isinstance(question, Choice):
        response = st.radio(
            label, list(question.options), index=None, key=key, persist_state="session"
        )
    else:
        response = st.number_input(
            label + (f" ({question.unit})" if question.unit else ""),
            value=None,
            step=question.step,
            format="%.4g",
            key=key,
            persist_state="session",
            placeholder="Type a number",
        )
    right = is_right(question, response)
    if right is True:
        st.success(f"Right. {question.explanation}", icon=":material/check_circle:")
    elif right is False:
        st.warning(f"Not quite. {question.explanation}", icon=":material/help:")
    return _record(lesson, question.qid, right)


@st.fragment
def self_check(lesson: str, questions: Sequence[Choice | Numeric], title="Self-check") -> None:
    """The self-check block that ends a lesson: every question with instant feedback."""
    st.session_state.setdefault(_TOTALS, {})[lesson] = len(questions)
    st.subheader(title, divider="gray")
    changed = False
    for number, question in enumerate(questions, start=1):
        with st.container(border=True):
            changed |= _ask(lesson, number, question)
    right, total = progress(lesson)
    st.progress(right / total if total else 0.0, text=f"{right} of {total} right in this session")
    if changed:
        # An answer reruns only this block; rerun the app once so the sidebar's and the home
        # page's progress follow.
        st.rerun(scope="app")


def progress(lesson: str) -> tuple[int, int]:
    """(questions answered right, questions seen) for one lesson in this session."""
    answers = st.session_state.get(_PROGRESS, {}).get(lesson, {})
    total = st.session_state.get(_TOTALS, {}).get(lesson, 0)
    return sum(answers.values()), total


def reset_progress() -> None:
    """Forget this session's answers (the learner starts again)."""
    for store in (_PROGRESS, _TOTALS):
        st.session_state.pop(store, None)
    for key in [k for k in st.session_state if str(k).startswith("quiz_")]:
        del st.session_state[key]
