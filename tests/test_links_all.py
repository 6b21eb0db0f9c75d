"""Malformed links on every page of the course: unknown keys, values out of range, values of
the wrong type and very long strings. Each page must render without exception, keep every
widget inside its range (falling back to defaults) and say so in a link note."""

import pytest
from conftest import open_page
from fuzz import _widgets
from pagetest import link_notes

from ui import course

STOPS = list(course.PAGES)
LONG = "9" * 5000


def step_labels(stop) -> list[str | None]:
    """Every step of the page (None for a page without steps)."""
    at = open_page(stop.page)
    pickers = [g for g in at.button_group if g.key and g.key.endswith("_step")]
    return [None] if not pickers else [(pickers[0].key, label) for label in pickers[0].options]


STEPS = {stop.slug: step_labels(stop) for stop in STOPS}
CASES = [(stop, step) for stop in STOPS for step in STEPS[stop.slug]]
STEPPED = [stop for stop in STOPS if STEPS[stop.slug] != [None]]


def bad_values(widget, variant: int) -> str:
    """A wrong value for this widget: out of range, the wrong type or far too long."""
    kind = widget.type
    if kind in ("slider", "number_input"):
        return ["1e12", "-1e12", "not-a-number", LONG, "nan"][variant % 5]
    if kind in ("toggle", "checkbox"):
        return ["maybe", LONG, "2"][variant % 3]
    if kind in ("text_input", "text_area"):
        return LONG
    return ["no such option", LONG, "1e12"][variant % 3]


def valid(widget) -> bool:
    """Whether the widget holds a value it could have been given by hand."""
    kind, value = widget.type, widget.value
    if kind == "slider":
        values = value if isinstance(value, (tuple, list)) else (value,)
        return all(widget.min <= v <= widget.max for v in values)
    if kind == "number_input":
        return value is None or ((widget.min is None or value >= widget.min)
                                 and (widget.max is None or value <= widget.max))
    if kind in ("selectbox", "radio", "select_slider", "button_group"):
        options = [str(o) for o in widget.options]  # AppTest reports options as text
        values = value if isinstance(value, (tuple, list)) else (value,)
        return all(v is None or str(v) in options for v in values)
    if kind in ("text_input", "text_area"):
        return widget.max_chars is None or len(value or "") <= widget.max_chars
    return True


def _id(case) -> str:
    stop, step = case
    return stop.slug + ("" if step is None else f"-{step[1].split('.')[0]}")


@pytest.mark.parametrize("variant", [0, 1, 2])
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_a_malformed_link_gives_a_note_never_a_traceback(case, variant):
    stop, step = case
    base = {} if step is None else {step[0]: step[1]}
    at = open_page(stop.page, base)
    assert not at.exception
    keyed = [w for w in _widgets(at) if w.key and w.type != "button"
             and (step is None or w.key != step[0])]
    params = {**base, "zz_unknown_key": LONG if variant else "1", "presenter": "sometimes"}
    params.update({w.key: bad_values(w, variant + i) for i, w in enumerate(keyed)})
    at = open_page(stop.page, params)
    assert not at.exception, (stop.slug, step, [e.value for e in at.exception])
    for widget in _widgets(at):
        assert valid(widget), (stop.slug, widget.key, widget.value)
    if step is not None:  # the step itself was well-formed: the page stays on it
        assert at.button_group(key=step[0]).value == step[1]
    # Every URL-bound widget earns its line in the note: all but the self-check's answers
    # and class mode's forms, which are the learner's own and never go into a link.
    # (open_page runs the start page before switching, so the sidebar's note about a bad
    # presenter value was shown, and the value repaired, on that first run.)
    bound = [w.key for w in keyed if not w.key.startswith(("quiz_", "class_"))
             and (stop is course.HOME or w.key != "presenter")]
    notes = link_notes(at)
    for key in bound:
        assert f"`{key}=" in notes, (stop.slug, step, key, notes)


@pytest.mark.parametrize("stop", STEPPED, ids=[s.slug for s in STEPPED])
def test_a_malformed_step_falls_back_to_the_first(stop):
    key, first = STEPS[stop.slug][0]
    for raw in ("99. Nowhere", LONG, "", "1"):
        at = open_page(stop.page, {key: raw})
        assert not at.exception
        assert at.button_group(key=key).value == first
        assert [h.value for h in at.header][0].startswith("1. "), stop.slug  # step 1 is shown
        if raw:
            assert f"`{key}=" in link_notes(at)
