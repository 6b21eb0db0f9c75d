"""Dice to DPO: the entry point. It builds the navigation from the course manifest and the
shared sidebar, then runs the page the learner picked."""

# Imported first and in full: when several learners reach a freshly started server together,
# one session's charts could otherwise find pandas half-imported by another session's thread
# (plotly looks it up in sys.modules without importing it).
import pandas  # noqa: F401
import streamlit as st

from ui import course, sidebar

st.set_page_config(
    page_title="Dice to DPO",
    page_icon=":material/casino:",
    layout="wide",
    menu_items={"About": "Dice to DPO: an interactive course on the math of preference "
                         "training, from a KL-divergence dice game to DPO."},
)


def _page(lesson: course.Lesson, default: bool = False) -> st.Page:
    return st.Page(
        lesson.page, title=lesson.title, icon=lesson.icon, url_path=lesson.slug, default=default
    )


sections = {"": [_page(course.HOME, default=True)]}
for part in course.PARTS:
    if lessons := course.lessons_in(part):
        sections[part] = [_page(lesson) for lesson in lessons]

page = st.navigation(sections)
sidebar.render()
page.run()
