"""The questions page: every learner question is listed with an answer and a deep link, every
link opens its lesson without exception and with its widgets holding the linked values, the
lesson filter works, and a bad filter in the URL falls back with a note."""

import re
from urllib.parse import parse_qsl

import pytest
from conftest import open_page
from fuzz import fuzz_page
from pagetest import explorables, link_notes, shown_note

from lessons import bradley_terry as bt
from ui import course
from ui.learner_questions import LEARNER_QUESTIONS, LearnerQuestion, badge, lesson_slugs
from ui.theme import METHOD_COLORS

PAGE = "app_pages/questions.py"
PUBLISHED = {lesson.slug for lesson in course.LESSONS}
QUESTIONS = [q for q in LEARNER_QUESTIONS if q.slug in PUBLISHED]


def holds(value, raw: str) -> bool:
    """Whether a widget's value is the one the link asked for (numbers compared as numbers)."""
    if isinstance(value, bool):
        return str(value).lower() == raw.lower()
    if isinstance(value, (int, float)):
        return float(value) == pytest.approx(float(raw))
    return str(value) == raw


def test_every_question_of_a_published_lesson_is_listed_with_its_link():
    at = open_page(PAGE)
    assert not at.exception
    assert [h.value for h in at.subheader] == [
        f"{i}. {q.topic}" for i, q in enumerate(QUESTIONS, start=1)]
    links = at.main.get("page_link")  # the sidebar lists every page too
    assert len(links) == len(QUESTIONS)
    captions = [c.value for c in at.main.caption if c.value.startswith("The demo: ")]
    for link, caption, q in zip(links, captions, QUESTIONS, strict=True):
        assert dict(parse_qsl(link.proto.query_string)) == q.params
        assert link.proto.label == "Open the demo"  # short: a page link is never wrapped
        assert caption == f"The demo: {q.demo}, in the lesson *{course.lesson(q.slug).title}*."
        assert link.proto.page == q.slug  # the lesson's own address


def test_every_question_shows_its_methods_badges_as_the_lessons_do():
    at = open_page(PAGE)
    # st.badge draws a markdown element of its own, as on the lessons' equation cards
    shown = [m.value for m in at.main.markdown if re.fullmatch(r":\w+-badge\[[^]]+\]", m.value)]
    assert shown == [f":{METHOD_COLORS[m]}-badge[{m}]" for q in QUESTIONS for m in q.methods]
    assert {m for q in QUESTIONS for m in q.methods} >= {"KL", "Bradley–Terry", "PPO", "RLHF",
                                                          "DPO"}


def test_the_answer_on_labels_names_every_method_with_its_badge():
    (q,) = [q for q in LEARNER_QUESTIONS if q.topic == "Which method does an equation belong to?"]
    for method in METHOD_COLORS:  # RL and LM included
        assert badge(method) in q.answer
    assert badge("LM") == f":{METHOD_COLORS['LM']}-badge[LM]"


def test_a_question_must_name_methods_the_course_has():
    with pytest.raises(ValueError, match="methods must be some of"):
        LearnerQuestion("t", "q?", "a. b.", "dpo", methods=("RLFH",))
    with pytest.raises(ValueError, match="methods must be some of"):
        LearnerQuestion("t", "q?", "a. b.", "dpo", methods=())


def number_in(cell: str) -> float:
    return float(cell.replace("−", "-"))


def test_the_starting_model_answer_says_what_its_link_shows():
    (q,) = [q for q in QUESTIONS if q.topic == "Does the starting model matter?"]
    at = open_page(course.lesson(q.slug).page, q.params)
    assert not at.exception
    table = at.table[0].value  # the lesson's comparison, rows by quantity
    rewards = table.loc["E[r] after DPO (150 steps)"].map(number_in)
    kls = table.loc["KL from its reference after DPO (nats)"]
    good, poor = rewards["good start"], rewards["poor start"]
    assert poor < good  # a lower true reward from the poor start ...
    assert f"E[r] of {good:.2f}" in q.answer
    assert f"only to {poor:.2f}".replace("-", "−") in q.answer
    # ... while it moves nearly as far from its own reference, not further
    poor_kl, good_kl = number_in(kls["poor start"]), number_in(kls["good start"])
    assert poor_kl < good_kl < 1.25 * poor_kl
    assert f"KL {kls['poor start']} nats from its own reference, against {kls['good start']})" \
        in q.answer
    assert "more KL" not in q.answer


def linked(topic: str, **more: str) -> tuple[LearnerQuestion, object]:
    """A question and its lesson opened at its link (with ``more`` parameters on top)."""
    (q,) = [q for q in QUESTIONS if q.topic == topic]
    at = open_page(course.lesson(q.slug).page, {**q.params, **more})
    assert not at.exception
    return q, at


def test_the_g_test_answer_says_when_the_exact_p_value_appears():
    q, at = linked("When is a KL significant?")
    assert "try 20 rolls" in q.answer
    assert not [w for w in at.warning if "Without it" in w.value]  # 200 rolls: χ² is fine
    _, at = linked("When is a KL significant?", kl_g_n="20")
    assert any("Without it" in w.value and "the p-value is" in w.value for w in at.warning)


def test_the_softmax_answer_says_what_its_link_shows():
    q, at = linked("Bradley–Terry is a softmax")
    (spec,) = explorables(at)  # the demo is drawn: the link answers the lesson's question
    note = shown_note(spec).replace("\u00a0", " ")
    assert "c = 3: a + c = 5.0, b + c = 3.5" in note
    p = bt.win_probability(2.0, 0.5)
    assert f"softmax₁ = {p:.6f} · σ(a − b) = {p:.6f}" in note
    assert "adding the same c to both scores changes nothing" in q.answer


def test_the_kl_answers_say_what_their_links_show():
    _, at = linked("KL divergence or cross-entropy?")
    values = {m.label: m.value for m in at.metric}
    assert values["KL(Die 1‖Die 1)"] == "0.000 bits"
    assert values["Cross-entropy CE(Die 1, Die 1)"] == values["Entropy H(Die 1)"]
    q, at = linked("What about the Wasserstein distance?")
    note = shown_note(explorables(at)[0]).replace("\u00a0", " ")
    assert "KL(P‖Q) ∞" in note and "Wasserstein 6.000" in note  # a shift of 6
    assert "KL jump to ∞" in q.answer


def test_the_course_answers_the_design_questions():
    # Every lesson that answers a learner question is a lesson of the course.
    assert set(lesson_slugs()) <= {lesson.slug for lesson in course.CURRICULUM}
    assert len(LEARNER_QUESTIONS) >= 8
    for q in LEARNER_QUESTIONS:
        sentences = [s for s in q.answer.replace("?", ".").split(". ") if s.strip()]
        assert 2 <= len(sentences) <= 6, q.topic
        assert any(key.endswith("_step") for key in q.params), q.topic


@pytest.mark.parametrize("q", QUESTIONS, ids=[q.topic for q in QUESTIONS])
def test_every_link_opens_its_lesson_in_the_linked_state(q):
    at = open_page(course.lesson(q.slug).page, q.params)
    assert not at.exception
    assert not link_notes(at), link_notes(at)
    for key, raw in q.params.items():
        assert key in at.session_state, f"{q.slug} has no widget {key}"
        assert holds(at.session_state[key], raw), (key, at.session_state[key], raw)


def test_the_filter_shows_one_lesson():
    ppo = course.lesson("ppo").title
    at = open_page(PAGE, {"q_lesson": ppo})
    expected = [f"{i}. {q.topic}" for i, q in enumerate(QUESTIONS, start=1) if q.slug == "ppo"]
    assert expected and [h.value for h in at.subheader] == expected
    at.selectbox(key="q_lesson").set_value("All lessons").run()
    assert len(at.subheader) == len(QUESTIONS)


def test_a_malformed_filter_falls_back_with_a_note():
    at = open_page(PAGE, {"q_lesson": "No such lesson"})
    assert not at.exception
    assert "q_lesson" in link_notes(at)
    assert len(at.subheader) == len(QUESTIONS)


def test_the_fuzzer_drives_the_page():
    at = open_page(PAGE)
    assert fuzz_page(at, steps=10, seed=3) == {"q_lesson", "presenter", "share_link"}
