"""Equation cards, takeaways and the pointer to class mode: how every lesson shows a formula,
what to remember, and where a class can do the same together."""

import streamlit as st

from ui import course
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


def takeaway(text: str) -> None:
    """The one sentence a learner should leave a section with."""
    st.info(text, icon=":material/lightbulb:")


def class_mode(text: str) -> None:
    """A lesson's pointer to class mode: ``text`` says what a class would do there."""
    with st.container(border=True):
        st.markdown(f":material/groups: **With a class?** {text}")
        st.page_link(course.CLASS_MODE.page, label="Open class mode",
                     icon=course.CLASS_MODE.icon)
