"""A seeded widget fuzzer for AppTest: drives every widget of a page with extreme, random and
malformed values and checks that the page never raises.

A lesson's page test calls ``fuzz_page``; it returns the widgets it drove, so a test can
assert that it reached all of them.
"""

from __future__ import annotations

import random

from streamlit.testing.v1 import AppTest

MALFORMED_TEXT = [
    "",
    " ",
    "abc",
    "1,2,,3",
    "-1, 2, 3",
    "0, 0, 0",
    "1e309, 1",
    "nan, 1",
    "inf",
    "0.5; 0.5",
    "1 2 3 4 5 6 7 8 9 10 11 12",
    "٣, ٤",
    "<script>alert(1)</script>",
    "9" * 150,
]

WIDGET_TYPES = (
    "slider", "select_slider", "number_input", "selectbox", "radio", "toggle", "checkbox",
    "text_input", "text_area", "multiselect", "button_group", "button",
)


def _widgets(at: AppTest) -> list:
    found = []
    for kind in WIDGET_TYPES:
        found.extend(getattr(at, kind))
    return found


def _identity(widget) -> str:
    return widget.key or f"{widget.type}:{getattr(widget, 'label', '')}"


def _aligned(rng: random.Random, lo, hi, step):
    if isinstance(lo, int) and isinstance(hi, int):
        return rng.randint(lo, hi)
    k = int(round((hi - lo) / step)) if step else 100
    return min(hi, lo + step * rng.randint(0, max(k, 0))) if step else rng.uniform(lo, hi)


def _value_for(widget, rng: random.Random):
    kind = widget.type
    if kind == "slider":
        lo, hi, step = widget.min, widget.max, widget.step
        pick = rng.choice(["min", "max", "random"])
        if isinstance(widget.value, (tuple, list)):
            a, b = sorted((_aligned(rng, lo, hi, step), _aligned(rng, lo, hi, step)))
            return (lo, hi) if pick == "max" else (a, b)
        return {"min": lo, "max": hi}.get(pick) if pick != "random" else _aligned(
            rng, lo, hi, step)
    if kind == "number_input":
        lo = widget.min if widget.min is not None else -1e6
        hi = widget.max if widget.max is not None else 1e6
        choices = [lo, hi, rng.uniform(lo, hi), 0 if lo <= 0 <= hi else lo]
        if widget.value is None:
            choices.append(None)
        value = rng.choice(choices)
        if value is not None and isinstance(widget.step, int) and float(value).is_integer():
            value = int(value)
        return value
    if kind in ("selectbox", "radio", "select_slider"):
        return rng.choice(list(widget.options))
    if kind == "button_group":
        return rng.choice(list(widget.options))
    if kind in ("toggle", "checkbox"):
        return not widget.value
    if kind in ("text_input", "text_area"):
        return rng.choice(MALFORMED_TEXT)
    if kind == "multiselect":
        options = list(widget.options)
        return rng.sample(options, rng.randint(0, len(options)))
    return None


def fuzz_page(at: AppTest, steps: int = 60, seed: int = 0, skip=()) -> set[str]:
    """Drive the page's widgets ``steps`` times; every widget first, then at random.

    Returns the keys (or labels) of the widgets driven. Raises AssertionError on any exception.
    """
    rng = random.Random(seed)
    driven: set[str] = set()
    for step in range(steps):
        widgets = [w for w in _widgets(at) if _identity(w) not in skip]
        if not widgets:
            break
        fresh = [w for w in widgets if _identity(w) not in driven]
        widget = rng.choice(fresh or widgets)
        driven.add(_identity(widget))
        if widget.type == "button":
            widget.click()
            action = "click"
        else:
            value = _value_for(widget, rng)
            widget.set_value(value)
            action = repr(value)[:60]
        at.run()
        assert not at.exception, (
            f"step {step}: setting {_identity(widget)} to {action} raised "
            f"{[e.value for e in at.exception]}"
        )
    return driven
