"""A lesson shown one step at a time.

A lesson is a short story in numbered steps. The page shows the step picker (bound to the URL,
so a link opens the step it was copied from), then only the chosen step, then links to the
previous and the next step.
Keeping one step on screen keeps each rerun and each page load small, and it reads like a
course: one idea, one interaction, then on to the next.

A page declares its steps once::

    STEPS = steps.Steps("kl", ("Which die rolled it?", "Why divide by n?", ...))
    PARAMS = (STEPS.param, ...)
    ...
    STEPS.show((dice_game, why_divide_by_n, ...))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from ui import course, state
from ui.state import Param


class Steps:
    """The numbered steps of one lesson, and the URL parameter ``<prefix>_step`` that picks one."""

    def __init__(self, prefix: str, titles: Sequence[str]):
        self.titles = tuple(titles)
        self.labels = tuple(f"{i}. {title}" for i, title in enumerate(self.titles, start=1))
        self.param = Param(f"{prefix}_step", self.labels[0], options=self.labels)

    @property
    def key(self) -> str:
        return self.param.key

    def _go(self, number: int) -> None:
        """Button callback: move to step ``number`` (the bound picker carries it to the URL)."""
        st.session_state[self.key] = self.labels[number - 1]
        st.session_state[_SCROLL] = True

    def show(self, sections: Sequence[Callable[[], None]]) -> None:
        """Draw the picker, the chosen step and Previous/Next, as one fragment: moving to
        another step, or using a control of the step, reruns only the lesson's steps, not the
        page's title, introduction and sidebar. (A change that concerns the whole page, such
        as a lesson's self-check score, reruns the whole page itself.)"""
        if len(sections) != len(self.labels):
            raise ValueError(f"{len(self.labels)} step titles but {len(sections)} sections")
        _steps(self, tuple(sections))

    def draw(self, sections: Sequence[Callable[[], None]]) -> None:
        """The body of ``show``: the picker, the chosen step and Previous/Next."""
        if st.session_state.pop(_SCROLL, False):
            _scroll_to_top()
        picked = state.choice(self.param, "Steps of this lesson", help="Each step is one idea "
                              "with its own interactive demo. The step you are on is part of "
                              "the shared link.")
        number = self.labels.index(picked) + 1
        sections[number - 1]()
        st.divider()
        back, middle, forward = st.columns([2, 1, 2], vertical_alignment="center")
        if number > 1:
            back.button(f"Back: {self.titles[number - 2]}", key=f"{self.key}_back",
                        icon=":material/arrow_back:", on_click=self._go, args=(number - 1,))
        middle.caption(f"Step {number} of {len(self.labels)}", text_alignment="center")
        if number < len(self.labels):
            with forward, st.container(horizontal_alignment="right"):
                st.button(f"Next: {self.titles[number]}", key=f"{self.key}_next",
                          icon=":material/arrow_forward:", icon_position="right",
                          type="primary", on_click=self._go, args=(number + 1,))
        # The route goes on: the first step leads back to the lesson before, the last step on
        # to the next one.
        before, after = course.neighbours(st.session_state.get(course.CURRENT_PAGE, ""))
        if number == 1 and before is not None:
            back.page_link(before.page, label=f"Previous lesson: {before.title}",
                           icon=":material/undo:")
        if number == len(self.labels) and after is not None:
            with forward, st.container(horizontal_alignment="right"):
                st.page_link(after.page, label=f"Next lesson: {after.title}",
                             icon=":material/redo:")


@st.fragment
def _steps(steps: Steps, sections: tuple[Callable[[], None], ...]) -> None:
    steps.draw(sections)


_SCROLL = "_steps_scroll_to_top"
# A fixed script (nothing from the user or the URL goes in): after Previous/Next, show the new
# step from its top instead of where the old one was scrolled to.
SCROLL_SCRIPT = """<script>
document.querySelector('[data-testid="stMain"]')?.scrollTo({top: 0});
</script>"""


def _scroll_to_top() -> None:
    st.html(SCROLL_SCRIPT, unsafe_allow_javascript=True)
