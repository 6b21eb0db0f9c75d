"""The sidebar every page shares: the course's navigation, presenter mode, a share link,
progress and credits."""

from collections.abc import Mapping, Sequence

import streamlit as st

from ui import access, course, quiz
from ui.share import share_link
from ui.state import Param, check_link, toggle

PRESENTER = Param("presenter", False)


# Presenter mode's type, for a projector: every rem-sized text of the page (body text, metrics,
# tables, equations, widgets and the sidebar) 1.25 times its size. Fixed rules: nothing from a
# user or a link goes in.
PRESENTER_CSS = """<style>
html { font-size: 125%; }
</style>"""


NAV_KEY = "course_nav"


def navigation(sections: Mapping[str, Sequence[st.Page]]) -> None:
    """Every page as a link under its part's name; the open page is marked as the current one.

    Plain links in reading order: a keyboard reaches each with Tab, and a screen reader reads
    the part names as the headings they are."""
    with st.container(key=NAV_KEY, gap="small"):
        for part, pages in sections.items():
            if part:
                st.caption(f"**{part}**")
            for page in pages:
                st.page_link(page, label=page.title, icon=page.icon)


def render(sections: Mapping[str, Sequence[st.Page]]) -> None:
    with st.sidebar:
        navigation(sections)
        access.enable()
        st.divider()
        check_link([PRESENTER])
        presenting = toggle(PRESENTER, "Presenter mode", help="Larger text everywhere and "
                            "taller charts, for projecting a lesson in class. Part of the "
                            "shared link.")
        if presenting:
            st.html(PRESENTER_CSS)
        share_link()
        st.divider()
        quiz.visit(st.session_state.get(course.CURRENT_PAGE, course.HOME.slug))
        quiz.keep_in_browser([page.slug for page in course.PAGES])
        right = sum(quiz.progress(item.slug)[0] for item in (course.HOME, *course.LESSONS))
        st.caption(f"Self-checks answered right: **{right}** (kept in this browser)")
        st.caption(
            f"Follows the video series *{course.SERIES_TITLE}* by {course.SERIES_AUTHOR}: "
            f"[watch the playlist]({course.PLAYLIST_URL}). The course's text, examples and "
            "code are its own."
        )
