"""The first learner after a server starts, arriving through a shared link.

Community Cloud starts a fresh server after every wake-up and redeploy, and the first visitor
usually comes through a link a teacher sent. Each case here starts its own server and opens
one deep link (with query parameters) as that server's very first session: the page must come
up inside the course's frame, with its navigation, and no dialog, exception or page error.
"""

import re
from urllib.parse import urlencode, urlsplit

import pytest
from browser import open_app, shown_dialogs, shown_exceptions
from conftest import start_app

from ui import course

pytestmark = pytest.mark.browser

# One shared link per page: (path, query, the page's title, the step it opens or None).
DEEP_LINKS = {
    "home": ("", {"presenter": "true"}, "Dice to DPO", None),
    "kl-divergence": ("kl-divergence", {"kl_step": "7. Beyond KL", "kl_shift": "5.0",
                                        "kl_unit": "nats"}, None, 7),
    "bradley-terry": ("bradley-terry", {"bt_step": "2. It is a softmax", "bt_sa": "2.0"},
                      None, 2),
    "rl-basics": ("rl-basics", {"gw_step": "3. Q-learning", "gw_q_seed": "7"}, None, 3),
    "ppo": ("ppo", {"ppo_step": "3. The min/max question", "ppo_qr": "1.3"}, None, 3),
    "toy-llm": ("toy-llm", {"lm_step": "3. Sampling with a temperature"}, None, 3),
    "rlhf": ("rlhf", {"rlhf_step": "3. The KL-penalised objective"}, None, 3),
    "dpo": ("dpo", {"dpo_step": "2. The loss, with sliders", "presenter": "true"}, None, 2),
    "dpo-vs-rlhf": ("dpo-vs-rlhf", {"lab_step": "2. Five contenders, one dataset"}, None, 2),
    "questions": ("questions", {"q_lesson": course.lesson("ppo").title}, None, None),
    "class": ("class", {"room": "K7QX2M9P"}, None, None),
}
CASES = [(slug, *DEEP_LINKS[slug]) for slug in DEEP_LINKS]


def test_every_page_has_a_first_visit_case():
    assert set(DEEP_LINKS) == {stop.slug for stop in course.PAGES}


@pytest.fixture()
def first_visit(browser, tmp_path):
    """Open ``path?query`` as the first session of a server started for this test alone."""
    served = start_app(tmp_path)
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))

    def visit(path: str, query: dict):
        link = f"{served.url}/{path}" + (f"?{urlencode(query)}" if query else "")
        open_app(tab, link, timeout_ms=60_000)
        return tab

    yield visit, errors
    context.close()
    served.stop()


def assert_in_the_course_frame(tab) -> None:
    """The course's own navigation: the start page and every part's heading."""
    nav = tab.locator(".st-key-course_nav")
    assert nav.get_by_text(course.HOME.title, exact=True).count() == 1
    for part in course.PARTS:
        if course.lessons_in(part):
            assert nav.get_by_text(part, exact=True).count() == 1, part
    # Streamlit's automatic file list would name the scripts, not the lessons; its own
    # navigation is not drawn at all (the course's is a plain sequence of links)
    assert nav.get_by_text("app", exact=True).count() == 0
    assert tab.locator('[data-testid="stSidebarNav"]').count() == 0
    assert tab.get_by_role("button", name="Link to this view").count() == 1


@pytest.mark.parametrize(("slug", "path", "query", "title", "step"), CASES,
                         ids=[c[0] for c in CASES])
def test_a_shared_link_is_the_first_visit_of_a_fresh_server(first_visit, slug, path, query,
                                                             title, step):
    visit, errors = first_visit
    tab = visit(path, query)
    assert shown_dialogs(tab) == []
    assert shown_exceptions(tab) == []
    assert errors == []
    assert tab.locator("h1").first.inner_text() == (title or course.lesson(slug).title)
    assert_in_the_course_frame(tab)
    if step is not None:
        assert tab.locator("h2").first.inner_text().startswith(f"{step}. ")
    for key, value in query.items():  # the link's settings are still in the address
        assert urlencode({key: value}) in tab.url, key
    if "presenter" in query:
        assert tab.get_by_role("switch", name="Presenter mode").is_checked()


def test_slash_home_opens_the_start_page_with_its_link(first_visit):
    visit, errors = first_visit
    tab = visit("home", {"presenter": "true"})
    tab.wait_for_url(re.compile(r"/\?presenter=true$"))
    assert urlsplit(tab.url).path == "/"
    assert tab.locator("h1").first.inner_text() == "Dice to DPO"
    assert tab.get_by_role("switch", name="Presenter mode").is_checked()
    assert shown_dialogs(tab) == [] and shown_exceptions(tab) == [] and errors == []
    assert_in_the_course_frame(tab)


def test_an_unknown_address_gets_the_course_s_own_answer(first_visit):
    visit, errors = first_visit
    tab = visit("kl-divergense", {"kl_step": "3"})
    assert tab.locator("h1").first.inner_text() == "No such page"
    main = tab.locator('[data-testid="stMain"]')
    assert "/kl-divergense" in main.inner_text()
    assert shown_dialogs(tab) == [] and shown_exceptions(tab) == [] and errors == []
    assert_in_the_course_frame(tab)
    main.get_by_role("link", name="Go to the start page").click()
    tab.wait_for_url(re.compile(r"/$|/\?"))
    tab.locator("h1", has_text="Dice to DPO").wait_for()
    assert shown_dialogs(tab) == []


def test_an_address_with_markup_is_shown_as_plain_text(first_visit):
    visit, errors = first_visit
    tab = visit("%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E**bold**", {})
    assert tab.locator("h1").first.inner_text() == "No such page"
    main = tab.locator('[data-testid="stMain"]')
    assert main.locator("img").count() == 0
    assert "<img src=x onerror=alert(1)>**bold**" in main.inner_text()
    assert shown_dialogs(tab) == [] and errors == []
