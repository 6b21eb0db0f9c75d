"""Equation cards and takeaways: how every lesson shows a formula and what to remember."""

import streamlit as st

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
