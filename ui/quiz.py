"""Self-check questions with instant feedback, and the learner's progress.

Answers are the learner's own work, so they never go into a shared link. They live in the
session, and a copy is kept in the learner's own browser (its local storage: nothing is sent
anywhere), so progress survives a reload and a return visit; the home page can forget it.
The home page and the sidebar read the progress from here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from ui import cards

_PROGRESS = "_self_check_progress"  # {lesson slug: {question id: answered right?}}
_TOTALS = "_self_check_totals"  # {lesson slug: number of questions on its page}
_RESPONSES = "_self_check_responses"  # {lesson slug: {question id: the answer given}}
_VISITED = "_lessons_visited"  # {lesson slug: True} for every page opened
_RESTORED = "_progress_restored"  # the browser's copy has been read into this session
_FORGET = "_progress_forget"  # the browser's copy is to be removed on the next run
BROWSER_KEY = "progress_store"
MAX_ID = 60
MAX_RESPONSE = 300

# A fixed script (no user text goes in; the data it gets is JSON the course wrote). It keeps
# one item in the browser's local storage, and tells Python once per page load what it holds.
_BROWSER_JS = """export default function(component) {
  const { data, setStateValue } = component;
  const KEY = "dice2dpo-progress";
  let stored = "";
  try {
    if (data && data.forget) window.localStorage.removeItem(KEY);
    if (data && typeof data.save === "string") window.localStorage.setItem(KEY, data.save);
    stored = window.localStorage.getItem(KEY) || "";
  } catch (error) {
    stored = "";  // storage is switched off: the session alone keeps the progress
  }
  if (!window.__dice2dpoProgressRead) {  // once per page load
    window.__dice2dpoProgressRead = true;
    setStateValue("stored", stored);
  }
}"""


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


def _record(lesson: str, qid: str, right: bool | None, response) -> bool:
    """Store one result and the answer given; True if it changed (so the progress shown
    elsewhere is stale)."""
    answers = st.session_state.setdefault(_PROGRESS, {}).setdefault(lesson, {})
    responses = st.session_state.setdefault(_RESPONSES, {}).setdefault(lesson, {})
    before = answers.get(qid)
    if right is None:
        answers.pop(qid, None)
        responses.pop(qid, None)
    else:
        answers[qid] = right
        responses[qid] = response
    return before != right


def _kept_response(lesson: str, question: Choice | Numeric):
    """The answer the browser's copy holds for this question, if it fits the question."""
    response = st.session_state.get(_RESPONSES, {}).get(lesson, {}).get(question.qid)
    if isinstance(question, Choice):
        return response if response in question.options else None
    if isinstance(response, (int, float)) and not isinstance(response, bool) \
            and math.isfinite(response):
        return float(response)
    return None


def _ask(lesson: str, number: int, question: Choice | Numeric) -> bool:
    key = f"quiz_{lesson}_{question.qid}"
    if st.session_state.get(key) is None and (kept := _kept_response(lesson, question)) \
            is not None:
        st.session_state[key] = kept  # an answer from an earlier visit, shown again
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
    return _record(lesson, question.qid, right, response)


CHECK_TITLE = "Check yourself"


def lesson_check(lesson: str, questions: Sequence[Choice | Numeric], number: int,
                 takeaway: str) -> None:
    """The last step of every lesson, in one template: the heading "N. Check yourself", the
    questions with instant feedback, and the lesson's takeaway."""
    st.header(f"{number}. {CHECK_TITLE}", divider="gray")
    st.markdown(f"{len(questions)} questions on this lesson. Each answer is checked as soon as "
                "you give it, and your score is kept in this browser.")
    self_check(lesson, questions)
    cards.takeaway(takeaway)


@st.fragment
def self_check(lesson: str, questions: Sequence[Choice | Numeric],
               title: str | None = None) -> None:
    """A block of questions with instant feedback (under ``title``, if given)."""
    st.session_state.setdefault(_TOTALS, {})[lesson] = len(questions)
    if title:
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


def visit(slug: str) -> None:
    """Note that the learner opened this page."""
    st.session_state.setdefault(_VISITED, {})[slug] = True


def visited(slug: str) -> bool:
    return bool(st.session_state.get(_VISITED, {}).get(slug))


def snapshot() -> dict:
    """The progress as the browser keeps it."""
    return {"answers": st.session_state.get(_PROGRESS, {}),
            "responses": st.session_state.get(_RESPONSES, {}),
            "totals": st.session_state.get(_TOTALS, {}),
            "visited": sorted(st.session_state.get(_VISITED, {}))}


def restore(raw: str, known: Sequence[str]) -> None:
    """Merge a kept copy (``snapshot`` as JSON) into this session: an answer right in either
    counts, and pages opened in either are opened. Anything malformed is ignored."""
    try:
        kept = json.loads(raw) if raw else {}
    except (ValueError, TypeError):
        return
    if not isinstance(kept, dict):
        return
    answers = st.session_state.setdefault(_PROGRESS, {})
    for slug, by_question in (kept.get("answers") or {}).items():
        if slug in known and isinstance(by_question, dict):
            mine = answers.setdefault(slug, {})
            for qid, right in by_question.items():
                if isinstance(qid, str) and len(qid) <= MAX_ID and isinstance(right, bool):
                    mine[qid] = mine.get(qid, False) or right
    responses = st.session_state.setdefault(_RESPONSES, {})
    for slug, by_question in (kept.get("responses") or {}).items():
        if slug in known and isinstance(by_question, dict):
            for qid, response in by_question.items():
                fits = isinstance(response, (int, float)) or (
                    isinstance(response, str) and len(response) <= MAX_RESPONSE)
                if isinstance(qid, str) and len(qid) <= MAX_ID and fits:
                    responses.setdefault(slug, {}).setdefault(qid, response)
    totals = st.session_state.setdefault(_TOTALS, {})
    for slug, count in (kept.get("totals") or {}).items():
        if slug in known and isinstance(count, int) and 0 <= count <= 100:
            totals[slug] = max(totals.get(slug, 0), count)
    for slug in kept.get("visited") or []:
        if slug in known:
            visit(slug)


@st.cache_resource
def _browser_store():
    return st.components.v2.component("dice2dpo_progress", js=_BROWSER_JS)


def keep_in_browser(known: Sequence[str]) -> None:
    """Exchange the progress with the browser's copy: read it once per page load, then write
    it after every change. Draws nothing."""

    def restored() -> None:
        value = st.session_state.get(BROWSER_KEY)
        stored = value.get("stored") if hasattr(value, "get") else None
        restore(stored or "", known)
        st.session_state[_RESTORED] = True

    save = json.dumps(snapshot(), sort_keys=True) if st.session_state.get(_RESTORED) else None
    _browser_store()(data={"save": save, "forget": st.session_state.pop(_FORGET, False)},
                     key=BROWSER_KEY, on_stored_change=restored, height=0)


def progress(lesson: str) -> tuple[int, int]:
    """(questions answered right, questions seen) for one lesson in this session."""
    answers = st.session_state.get(_PROGRESS, {}).get(lesson, {})
    total = st.session_state.get(_TOTALS, {}).get(lesson, 0)
    return sum(answers.values()), total


def reset_progress() -> None:
    """Forget the learner's answers and opened pages, here and in the browser's copy."""
    for store in (_PROGRESS, _RESPONSES, _TOTALS, _VISITED):
        st.session_state.pop(store, None)
    st.session_state[_FORGET] = True
    for key in [k for k in st.session_state if str(k).startswith("quiz_")]:
        del st.session_state[key]
