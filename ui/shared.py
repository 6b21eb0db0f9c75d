"""Caches for the functions a page script defines: shared by every session, made once.

Streamlit runs a page script afresh on every rerun, so ``@st.cache_data`` written in it is
applied again on each run, and each time Streamlit reads and tokenizes the function's source to
find its cache. With a class at work that was a tenth of the server's time. ``cache_data`` and
``cache_resource`` here take the same arguments as Streamlit's, apply them once per function
(the same code at the same place in the same file) and return that one cached function on later
runs. Results are stored and shared by all sessions exactly as with Streamlit's own decorators.

A page's cached functions are pure functions of their arguments (settings in, a run or a figure
spec out), so the function kept from the first run computes what a later run's copy would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import streamlit as st

_MADE: dict[tuple[str, str, Any], Callable] = {}
_LOCK = threading.Lock()


def _once(decorator: Callable, options: dict) -> Callable[[Callable], Callable]:
    def decorate(function: Callable) -> Callable:
        code = function.__code__
        # The code object itself is part of the key: an edited function gets a new cache.
        key = (code.co_filename, function.__qualname__, code)
        with _LOCK:
            if key not in _MADE:
                _MADE[key] = decorator(**options)(function)
            return _MADE[key]

    return decorate


def cache_data(**options: Any) -> Callable[[Callable], Callable]:
    """``st.cache_data(**options)``, applied once per function of a page script."""
    return _once(st.cache_data, options)


def cache_resource(**options: Any) -> Callable[[Callable], Callable]:
    """``st.cache_resource(**options)``, applied once per function of a page script."""
    return _once(st.cache_resource, options)
