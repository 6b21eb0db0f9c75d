"""The home page through app.py: map, warm-up self-check, progress, sidebar controls."""

from conftest import open_page
from fuzz import fuzz_page

from ui import course

HOME = "app_pages/home.py"


def test_home_renders_with_sidebar():
    at = open_page(HOME)
    assert not at.exception
    assert at.title[0].value == "Dice to DPO"
    assert at.sidebar.toggle(key="presenter").value is False
    assert any(course.PLAYLIST_URL in c.value for c in at.sidebar.caption)


def test_every_lesson_is_linked_from_the_home_page():
    at = open_page(HOME)
    linked = {link.proto.page for link in at.main.get("page_link")}  # not the sidebar
    for lesson in course.LESSONS:
        assert any(lesson.slug in target for target in linked), lesson.slug


def test_warm_up_gives_instant_feedback_and_progress():
    at = open_page(HOME)
    at.radio(key="quiz_home_sum").set_value("0.2").run()
    assert at.success and at.success[0].value.startswith("Right.")
    at.number_input(key="quiz_home_log2").set_value(3.0).run()
    assert any(w.value.startswith("Not quite.") for w in at.warning)
    at.radio(key="quiz_home_product").set_value("0.25").run()
    table = at.dataframe[0].value
    warm_up = table[table["Lesson"] == "Warm-up"].iloc[0]
    assert warm_up["Self-checks right"] == 2
    assert str(warm_up["Questions"]) == "3"
    assert "2 of 3 right" in at.get("progress")[0].proto.text
    at.number_input(key="quiz_home_log2").set_value(-3.0).run()
    assert at.dataframe[0].value.iloc[0]["Self-checks right"] == 3


def test_reset_progress_forgets_answers():
    at = open_page(HOME)
    at.radio(key="quiz_home_sum").set_value("0.2").run()
    at.button(key="reset_progress").click().run()
    assert not at.exception
    assert at.dataframe[0].value.iloc[0]["Self-checks right"] == 0
    assert at.radio(key="quiz_home_sum").value is None


def test_share_link_carries_the_query_string():
    # On a lesson, after a rerun: the sidebar is the same frame on every page.
    # (The browser test checks the same link after real clicks.)
    at = open_page("app_pages/kl_divergence.py", {"presenter": "true", "kl_unit": "nats"})
    at.context["url"] = "http://localhost:8501/kl-divergence"
    assert at.sidebar.toggle(key="presenter").value is True
    at.sidebar.button(key="share_link").click().run()
    assert not at.exception
    assert at.sidebar.code[0].value == \
        "http://localhost:8501/kl-divergence?presenter=true&kl_unit=nats"


def test_presenter_mode_from_a_link():
    at = open_page(HOME, {"presenter": "true"})
    assert at.sidebar.toggle(key="presenter").value is True


def test_malformed_presenter_value_gets_a_note_and_the_default():
    at = open_page(HOME, {"presenter": "maybe"})
    assert not at.exception
    assert at.sidebar.toggle(key="presenter").value is False
    assert any("presenter=maybe" in i.value for i in at.info)


def test_fuzz_home():
    at = open_page(HOME)
    driven = fuzz_page(at, steps=30, seed=1)
    assert {"quiz_home_sum", "quiz_home_log2", "quiz_home_product", "reset_progress"} <= driven


def progress_row(at, title: str):
    table = at.dataframe[0].value
    return table[table["Lesson"] == title].iloc[0]


def test_progress_says_opened_for_an_opened_lesson_and_not_opened_for_the_others():
    kl, bt = course.LESSONS[0], course.LESSONS[1]
    at = open_page(kl.page)  # opens the KL lesson, then back to the start page
    at.switch_page(HOME).run()
    assert not at.exception
    assert str(progress_row(at, kl.title)["Questions"]) == \
        "opened; its self-check is on its last step"
    assert str(progress_row(at, bt.title)["Questions"]) == "not opened yet"
    at.button(key="reset_progress").click().run()  # forgetting forgets opened lessons too
    assert str(progress_row(at, kl.title)["Questions"]) == "not opened yet"
