"""URL-backed lesson state, declared in one place per page.

A page lists its parameters once (key, default, allowed range or options). The widget helpers
below build Streamlit widgets from those declarations with ``bind="query-params"``, so the URL
always holds the current view and a teacher can share it. ``check_link`` reads the raw URL on the
first run and explains, in plain words, any value that does not fit; Streamlit then drops it
and the widget starts from its default.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st
from streamlit.elements.lib import form_utils
from streamlit.runtime.state.session_state_proxy import get_session_state

MAX_TEXT_CHARS = 200


@dataclass(frozen=True)
class Param:
    """One piece of shareable state: its URL key, default and what values are allowed."""

    key: str
    default: Any
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    options: Sequence[Any] = field(default_factory=tuple)
    max_chars: int = MAX_TEXT_CHARS

    @property
    def kind(self) -> str:
        if self.options:
            return "choice"
        if isinstance(self.default, bool):
            return "bool"
        if isinstance(self.default, int):
            return "int"
        if isinstance(self.default, float):
            return "float"
        return "text"

    def problem(self, raw: str) -> str | None:
        """Why the raw URL value ``raw`` does not fit this parameter, or None if it does."""
        kind = self.kind
        if kind == "text":
            if len(raw) > self.max_chars:
                return f"is longer than {self.max_chars} characters, so it was cut short"
            return None
        if kind == "choice":
            if raw not in [str(o) for o in self.options]:
                if self.default is None:
                    return "is not one of the choices, so nothing is picked"
                return f"is not one of the choices, so the default ({self.default}) is used"
            return None
        if kind == "bool":
            if raw.lower() not in ("true", "false"):
                return f"is not true or false, so the default ({self.default}) is used"
            return None
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            what = "a whole number" if kind == "int" else "a number"
            return f"is not {what}, so the default ({self.default}) is used"
        if kind == "int" and value != int(value):
            # Streamlit truncates a fractional value for a whole-number widget
            truncated = int(value)
            if self.problem(str(truncated)) is None:
                return f"is not a whole number, so {truncated} is used"
            value = truncated
        if self.lo is not None and value < self.lo:
            return f"is below the smallest allowed value ({self.lo:g}), so the default " \
                f"({self.default}) is used"
        if self.hi is not None and value > self.hi:
            return f"is above the largest allowed value ({self.hi:g}), so the default " \
                f"({self.default}) is used"
        return None

    def repaired(self, raw: str) -> str | None:
        """The URL value to keep after ``problem`` found one in ``raw``: None drops it, so the
        widget starts at its default."""
        if self.kind == "text":
            return raw[: self.max_chars]
        if self.kind == "int":
            try:
                truncated = int(float(raw))
            except (ValueError, OverflowError):
                return None
            return str(truncated) if self.problem(str(truncated)) is None else None
        return None


def replace_in_opened_link(key: str, kept: str | None) -> None:
    """Streamlit seeds a bound widget from the link as it was opened, not from the current
    ``st.query_params``; replace the bad value there too (None removes it). Relies on
    Streamlit's QueryParams keeping that link in ``_initial_query_params`` (1.67); the
    course-wide malformed-link test fails loudly if that changes."""
    with get_session_state().query_params() as params:
        opened = params._initial_query_params
        if kept is None:
            opened.pop(key, None)
        else:
            opened[key] = [kept]


def check_link(params: Sequence[Param]) -> list[str]:
    """Show one friendly note for URL values that do not fit; return the notes (for tests).

    Runs before the widgets are created, so it sees the link exactly as it was opened.
    """
    notes = []
    for p in params:
        if p.key in st.session_state or p.key not in st.query_params:
            continue
        raw = st.query_params[p.key]
        problem = p.problem(raw)
        if problem:
            # Repair the link before any widget reads it: Streamlit's own parsing of a bound
            # widget's URL value can fail on extreme input (e.g. a 5000-digit whole number).
            kept = p.repaired(raw)
            if kept is None:
                del st.query_params[p.key]
            else:
                st.query_params[p.key] = kept
            replace_in_opened_link(p.key, kept)
            shown = raw if len(raw) <= 24 else raw[:21] + "..."
            notes.append(f"`{p.key}={shown}` {problem}.")
    if notes:
        st.info(
            "This link had values that don't fit this lesson:\n\n- " + "\n- ".join(notes),
            icon=":material/link_off:",
        )
    return notes


def slider(p: Param, label: str, **kwargs) -> Any:
    """A URL-bound slider over ``p``'s range."""
    return st.slider(
        label,
        min_value=p.lo,
        max_value=p.hi,
        value=p.default,
        step=p.step,
        key=p.key,
        bind="query-params",
        **kwargs,
    )


_OUT_OF_RANGE = "_number_out_of_range"  # key -> the note shown under that number field


def _range_note(p: Param, label: str, value) -> tuple[Any, str | None]:
    """The allowed value nearest to ``value``, and a note if that is not ``value`` itself."""
    lo = -math.inf if p.lo is None else p.lo
    hi = math.inf if p.hi is None else p.hi
    if value is None:
        return p.default, None
    kept = type(p.default)(min(max(value, lo), hi))
    if kept == value:
        return kept, None
    side = "above the largest" if value > hi else "below the smallest"
    return kept, (f"**{label}**: {value:g} is {side} allowed value, so {kept:g} is used "
                  f"(allowed: {lo:g} to {hi:g}).")


def _keep_in_range(p: Param, label: str) -> None:
    """Number fields accept any number; one outside the lesson's range is replaced by the
    nearest allowed value with a note saying so, instead of being silently ignored by the
    browser."""
    kept, note = _range_note(p, label, st.session_state.get(p.key))
    notes = st.session_state.setdefault(_OUT_OF_RANGE, {})
    notes.pop(p.key, None)
    if note:
        notes[p.key] = note
    st.session_state[p.key] = kept


def number(p: Param, label: str, on_change=None, **kwargs) -> Any:
    """A URL-bound number field over ``p``'s range (a typed value outside it is brought back
    into it, with a note under the field)."""
    in_form = form_utils.is_in_form(st._main)

    def changed() -> None:
        _keep_in_range(p, label)
        if on_change is not None:
            on_change()

    value = st.number_input(
        label,
        value=p.default,
        step=p.step,
        key=p.key,
        bind="query-params",
        # a form allows no callbacks: there the value is checked when the form is sent
        on_change=None if in_form else changed,
        help=kwargs.pop("help", None) or (None if p.lo is None or p.hi is None
                                           else f"From {p.lo:g} to {p.hi:g}."),
        **kwargs,
    )
    if in_form:
        value, note = _range_note(p, label, value)
    else:
        note = st.session_state.get(_OUT_OF_RANGE, {}).get(p.key)
    if note:
        st.warning(note, icon=":material/error:")
    return value


def choice(p: Param, label: str, widget: str = "segmented", **kwargs) -> Any:
    """A URL-bound choice among ``p.options``: segmented control, radio or selectbox."""
    options = list(p.options)
    if widget == "radio":
        return st.radio(
            label, options, index=options.index(p.default), key=p.key, bind="query-params",
            **kwargs,
        )
    if widget == "selectbox":
        return st.selectbox(
            label, options, index=options.index(p.default), key=p.key, bind="query-params",
            **kwargs,
        )
    return st.segmented_control(
        label, options, default=p.default, required=True, key=p.key, bind="query-params",
        **kwargs,
    )


def toggle(p: Param, label: str, **kwargs) -> bool:
    """A URL-bound on/off switch."""
    return st.toggle(label, value=p.default, key=p.key, bind="query-params", **kwargs)


def text(p: Param, label: str, **kwargs) -> str:
    """A URL-bound one-line text input (the page parses and validates what it holds)."""
    return st.text_input(
        label, value=p.default, max_chars=p.max_chars, key=p.key, bind="query-params", **kwargs
    )


def parse_numbers(text: str, name: str, min_count: int = 1, max_count: int = 10) -> list[float]:
    """Read "0.5, 0.3, 0.2" into numbers; ValueError with a message a learner can act on.
    ``name`` says which field it is ("P", "The counts"), as the start of a sentence."""
    parts = [part.strip() for part in text.replace(";", ",").split(",")]
    if parts == [""]:
        raise ValueError(f"{name}: nothing is typed yet. Type numbers separated by commas, "
                         "like 0.5, 0.5.")
    numbers = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"{name}: '{part[:20]}' is not a number.") from None
        if not math.isfinite(value):
            raise ValueError(f"{name}: '{part[:20]}' is not a finite number.")
        numbers.append(value)
    if not min_count <= len(numbers) <= max_count:
        given = "1 number is" if len(numbers) == 1 else f"{len(numbers)} numbers are"
        raise ValueError(f"{name}: {given} given; give between {min_count} and {max_count}.")
    return numbers
