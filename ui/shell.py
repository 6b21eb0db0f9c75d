"""The frame around every page: page settings, the navigation built from the course manifest,
and the shared sidebar. ``app.py`` runs it; the benchmark runs the same frame around its bare
page, to measure what the frame itself costs.

Two addresses that match no lesson are answered by the course itself rather than by
Streamlit's "Page not found" dialog: ``/home`` opens the start page (whose own address is the
app's root), and any other unknown address gets a friendly page with the way back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui import course, sidebar

ROOT = Path(__file__).resolve().parents[1]
FAVICON = ROOT / "ui" / "favicon.svg"
MAX_SHOWN_PATH = 60
UNKNOWN_PATH = "_course_unknown_path"
COURSE_PAGES = "_course_pages"  # the session's st.Page objects, by section


def _page(lesson: course.Lesson, default: bool = False) -> st.Page:
    # The default page lives at the app's root and claims no other address, which leaves
    # /home free for the alias below.
    return st.Page(
        ROOT / lesson.page, title=lesson.title, icon=lesson.icon,
        url_path="" if default else lesson.slug, default=default,
    )


def _course_pages() -> dict[str, list[st.Page]]:
    """The course's pages by section, made once per session and reused by its reruns.

    Making an ``st.Page`` resolves and checks its script's file; twelve of them on every
    rerun were a tenth of a page's server time when a class worked at once. A page object
    carries whether it may run in the current script run, so sessions do not share them."""
    if COURSE_PAGES not in st.session_state:
        sections = {"": [_page(course.HOME, default=True)]}
        for part in course.PARTS:
            if lessons := course.lessons_in(part):
                sections[part] = [_page(lesson) for lesson in lessons]
        sections[course.TOOLS_PART] = [_page(tool) for tool in course.TOOLS]
        st.session_state[COURSE_PAGES] = sections
    return st.session_state[COURSE_PAGES]


def requested_path() -> str:
    """The page name the browser asked for ("" for the app's root).

    Streamlit resolves it against the navigation after the script has built it; reading it
    first lets the course answer addresses that match no page (Streamlit 1.67 keeps it in the
    run's ``pages_manager``; the fresh-server browser test opens such addresses)."""
    ctx = get_script_run_ctx()
    return (ctx.pages_manager.intended_page_name or "") if ctx else ""


def markdown_text(text: str) -> str:
    """``text`` shown literally in Markdown: every markup character escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", text)


def _no_such_page(home: st.Page, path: str) -> st.Page:
    """A hidden page at ``path`` that says so and leads back into the course."""

    def no_such_page() -> None:
        shown = path if len(path) <= MAX_SHOWN_PATH else path[: MAX_SHOWN_PATH - 1] + "…"
        st.title("No such page")
        st.markdown(f"The course has no page at the address **/{markdown_text(shown)}**. "
                    "Perhaps the link was cut short or mistyped. Every lesson is listed in the "
                    "navigation, and here:")
        for lesson in course.LESSONS:
            st.page_link(ROOT / lesson.page, label=lesson.title, icon=lesson.icon)
        st.page_link(home, label="Go to the start page", icon=":material/home:")

    return st.Page(no_such_page, title="No such page", icon=":material/link_off:",
                   url_path=path, visibility="hidden")


def _home_alias() -> st.Page:
    """A hidden page at /home; ``run`` sends it on to the start page at its own address."""
    return st.Page(lambda: None, title=course.HOME.title, url_path=course.HOME.slug,
                   visibility="hidden")


def run(extra_sections: Mapping[str, Sequence[st.Page]] | None = None) -> None:
    """Set up the page, draw the navigation and the sidebar, then run the page picked."""
    st.set_page_config(
        page_title="Dice to DPO",
        page_icon=str(FAVICON),
        layout="wide",
        menu_items={"About": "Dice to DPO: an interactive course on the math of preference "
                             "training, from a KL-divergence dice game to DPO."},
    )
    sections = {name: list(pages) for name, pages in _course_pages().items()}
    home = sections[""][0]
    sections.update({name: list(pages) for name, pages in (extra_sections or {}).items()})
    listed = {name: list(pages) for name, pages in sections.items()}  # the sidebar's links
    known = {page.url_path for pages in sections.values() for page in pages}
    path = requested_path()
    alias = _home_alias()
    if path == course.HOME.slug:
        sections[""].append(alias)
    elif path and path not in known:
        # Kept for the session: a rerun (a widget, the progress kept in the browser) names
        # the page by its hash alone, which must still find the page it was opened on.
        st.session_state[UNKNOWN_PATH] = path
    if unknown := st.session_state.get(UNKNOWN_PATH):
        sections[""].append(_no_such_page(home, unknown))
    # The course draws its own navigation (sidebar.navigation): Streamlit's sectioned list
    # puts its items outside any list element, which screen readers cannot announce as one.
    page = st.navigation(sections, position="hidden")
    if page is alias:
        # Before any widget binds its query parameter, so the whole link comes along.
        st.switch_page(home, query_params=st.query_params.to_dict())
    st.session_state[course.CURRENT_PAGE] = page.url_path or course.HOME.slug
    sidebar.render(listed)
    page.run()
