"""The frame around every page: page settings, the navigation built from the course manifest,
and the shared sidebar. ``app.py`` runs it; the benchmark runs the same frame around its bare
page, to measure what the frame itself costs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import streamlit as st

from ui import course, sidebar

ROOT = Path(__file__).resolve().parents[1]


def _page(lesson: course.Lesson, default: bool = False) -> st.Page:
    return st.Page(
        ROOT / lesson.page, title=lesson.title, icon=lesson.icon, url_path=lesson.slug,
        default=default,
    )


def run(extra_sections: Mapping[str, Sequence[st.Page]] | None = None) -> None:
    """Set up the page, draw the navigation and the sidebar, then run the page picked."""
    st.set_page_config(
        page_title="Dice to DPO",
        page_icon=":material/casino:",
        layout="wide",
        menu_items={"About": "Dice to DPO: an interactive course on the math of preference "
                             "training, from a KL-divergence dice game to DPO."},
    )
    sections = {"": [_page(course.HOME, default=True)]}
    for part in course.PARTS:
        if lessons := course.lessons_in(part):
            sections[part] = [_page(lesson) for lesson in lessons]
    sections.update({name: list(pages) for name, pages in (extra_sections or {}).items()})
    page = st.navigation(sections)
    sidebar.render()
    page.run()
