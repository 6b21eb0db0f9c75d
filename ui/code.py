"""Let learners read the function a demo runs, next to the demo."""

import inspect
from collections.abc import Callable
from functools import cache

import streamlit as st


@cache
def _source(function: Callable) -> str:
    return inspect.getsource(function)


def code_key(functions: tuple[Callable, ...]) -> str:
    """The expander's widget key: the functions it shows, so it is stable across reruns."""
    return "code_" + "_".join(f"{f.__module__.rsplit('.', 1)[-1]}_{f.__name__}"
                              for f in functions)


@st.fragment
def show_code(*functions: Callable, label: str = "Show the code") -> None:
    """An expander with the source of the ``lessons`` functions this demo calls.

    The source is rendered only while the expander is open: highlighted code is hundreds of
    elements, and Streamlit redraws every element of a page on each interaction, so closed
    code would slow down every slider on the page. Opening it reruns just this expander.
    """
    box = st.expander(label, icon=":material/code:", key=code_key(functions),
                      on_change="rerun")
    if not box.open:
        return
    with box:
        for function in functions:
            module = function.__module__
            st.caption(f"`{module}.{function.__name__}`")
            st.code(_source(function), language="python")
