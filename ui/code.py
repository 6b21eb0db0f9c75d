"""Let learners read the function a demo runs, next to the demo."""

import inspect
from collections.abc import Callable
from functools import cache

import streamlit as st


@cache
def _source(function: Callable) -> str:
    return inspect.getsource(function)


def show_code(*functions: Callable, label: str = "Show the code") -> None:
    """An expander with the source of the ``lessons`` functions this demo calls."""
    with st.expander(label, icon=":material/code:"):
        for function in functions:
            module = function.__module__
            st.caption(f"`{module}.{function.__name__}`")
            st.code(_source(function), language="python")
