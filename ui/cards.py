"""Equation cards, "predict first" questions, takeaways and the pointer to class mode: how
every lesson shows a formula, asks for a guess before a demo, says what to remember, and where a
class can do the same together."""

import streamlit as st

from ui import course
from ui.state import Param
from ui.theme import METHOD_COLORS


def equation_card(latex: str, reading: str, method: str, source: str | None = None) -> None:
    """A formula with the method it belongs to and a one-line reading in plain words.

    Every equation carries its method's badge (KL, Bradley–Terry, RL, PPO, RLHF or DPO), so a
    PPO formula is never mistaken for a DPO one.
    """
    if method not in METHOD_COLORS:
        raise ValueError(f"unknown method {method!r}; use one of {', '.join(METHOD_COLORS)}")
    with st.container(border=True):
        label = method if source is None else f"{method} · {source}"
        st.badge(label, color=METHOD_COLORS[method])
        st.latex(latex)
        st.caption(reading)


def predict(p: Param, question: str, answer: str, why: str) -> bool:
    """A "predict first" moment: the learner commits to a guess among ``p.options`` before the
    demo shows the answer. Returns True once there is a guess; the page draws its demo only
    then. The guess is part of the link (``p`` is bound to the URL, default None), so a
    teacher's link can open a class on the question or on the answer.

    ``answer`` is the option the demo will show (computed by ``lessons`` where it depends on
    the settings); ``why`` says in a sentence why it comes out that way.
    """
    if answer not in p.options:
        raise ValueError(f"the answer {answer!r} is not one of the options {list(p.options)}")
    with st.container(border=True):
        st.markdown(f":material/psychology_alt: **Predict first.** {question}")
        guess = st.segmented_control("Your guess", list(p.options), default=None, key=p.key,
                                     bind="query-params")
        if guess is None:
            st.caption("Commit to a guess: the demo opens as soon as you pick one.")
            return False
        if guess == answer:
            st.success(f"You predicted **{guess}**, and the demo below bears it out. {why}",
                       icon=":material/check_circle:")
        else:
            st.warning(f"You predicted **{guess}**; the demo below shows **{answer}**. {why}",
                       icon=":material/help:")
    return True


def takeaway(text: str) -> None:
    """The one sentence a learner should leave a section with."""
    st.info(text, icon=":material/lightbulb:")


def class_mode(text: str) -> None:
    """A lesson's pointer to class mode: ``text`` says what a class would do there."""
    with st.container(border=True):
        st.markdown(f":material/groups: **With a class?** {text}")
        st.page_link(course.CLASS_MODE.page, label="Open class mode",
                     icon=course.CLASS_MODE.icon)
