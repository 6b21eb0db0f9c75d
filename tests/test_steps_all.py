"""One step template across the course: every step ends with its takeaway, every lesson ends
with the same "N. Check yourself" step, asks for at least one prediction before a demo shows
the answer, and every metric's delta says what it is measured against."""

import functools

import pytest
from conftest import open_page
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block
from test_links_all import CASES, STEPPED, STEPS, _id

from ui import quiz

LESSON_CASES = [case for case in CASES if case[1] is not None]
# Both per-step tests read the same whole step: one worker opens it once for both.
STEP_PARAMS = [pytest.param(case, id=_id(case), marks=pytest.mark.xdist_group(_id(case)))
               for case in LESSON_CASES]
TAKEAWAY_ICON = ":material/lightbulb:"
GUESS_SUFFIX = "_guess"


def flat(node):
    """The page's elements in the order they are drawn; a closed block (an expander, a tab)
    counts as one element."""
    for child in node.children.values():
        if isinstance(child, Block) and child.type in ("vertical", "horizontal", "column",
                                                       "container", None, "form", "chat_message",
                                                       "flex_container", "vertical_block"):
            yield from flat(child)
        else:
            yield child


def guesses(at: AppTest) -> list:
    return [g for g in at.button_group if g.key and g.key.endswith(GUESS_SUFFIX)]


@functools.cache
def whole_step(stop, step) -> tuple[AppTest, int]:
    """The step opened from a link, with every "predict first" question answered (with its
    first option), so that everything the step can show is on the page; and how many elements
    the step showed before the guesses."""
    at = open_page(stop.page, {step[0]: step[1]})
    before = len(list(flat(at.main)))
    for _ in range(3):  # a revealed demo can hold a further question
        open_questions = [g for g in guesses(at) if g.value is None]
        if not open_questions:
            break
        for g in open_questions:
            g.set_value(g.options[0])
        at.run()
    return at, before


def step_content(at: AppTest) -> list:
    """The step's own elements: from its numbered heading to the divider above Back/Next."""
    elements = list(flat(at.main))
    heads = [i for i, e in enumerate(elements)
             if getattr(e, "type", "") in ("header", "subheader")
             and str(getattr(e, "value", ""))[:1].isdigit()]
    dividers = [i for i, e in enumerate(elements)
                if getattr(e, "type", "") == "divider"
                or (getattr(e, "type", "") == "markdown" and e.value.strip() == "---")]
    assert heads and dividers, "no numbered heading or no step navigation"
    return elements[heads[-1]:dividers[-1]]


@pytest.mark.parametrize("case", STEP_PARAMS)
def test_every_step_ends_with_its_takeaway(case):
    at, _ = whole_step(*case)
    assert not at.exception
    content = step_content(at)
    last = content[-1]
    assert getattr(last, "type", "") == "info" and last.icon == TAKEAWAY_ICON, (case[1], last)
    takeaways = [e for e in content if getattr(e, "icon", None) == TAKEAWAY_ICON]
    assert len(takeaways) == 1, [t.value for t in takeaways]


@pytest.mark.parametrize("stop", STEPPED, ids=[s.slug for s in STEPPED])
def test_every_lesson_ends_with_the_same_check_yourself_step(stop):
    key, label = STEPS[stop.slug][-1]
    number = len(STEPS[stop.slug])
    assert label == f"{number}. {quiz.CHECK_TITLE}"
    at = open_page(stop.page, {key: label})
    assert [h.value for h in at.header][-1] == f"{number}. {quiz.CHECK_TITLE}"
    assert not at.subheader or quiz.CHECK_TITLE not in [h.value for h in at.subheader]
    assert "questions on this lesson" in at.markdown[-1].value or any(
        "questions on this lesson" in m.value for m in at.markdown)


@pytest.mark.parametrize("stop", STEPPED, ids=[s.slug for s in STEPPED])
def test_every_lesson_asks_for_a_prediction_before_the_demo(stop):
    revealed = []
    for step in STEPS[stop.slug]:
        at = open_page(stop.page, {step[0]: step[1]})
        if not guesses(at):
            continue
        shown_before = len(at.get("plotly_chart")) + len(at.metric)
        whole, _ = whole_step(stop, step)
        assert not whole.exception
        verdicts = [s.value for s in whole.success] + [w.value for w in whole.warning]
        assert any(v.startswith("You predicted") for v in verdicts)
        revealed.append(len(whole.get("plotly_chart")) + len(whole.metric) - shown_before)
    assert revealed, f"{stop.slug} has no 'predict first' question"
    assert all(n > 0 for n in revealed), revealed  # the guess opens the demo


@pytest.mark.parametrize("case", STEP_PARAMS)
def test_every_delta_says_what_it_is_against(case):
    at, _ = whole_step(*case)
    for m in at.metric:
        if m.delta:
            against = m.proto.delta_description if hasattr(m.proto, "delta_description") \
                else ""
            assert " vs " in f" {m.delta} {against}", (case[1], m.label, m.delta, against)
