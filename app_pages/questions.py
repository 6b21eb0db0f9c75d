"""Questions learners asked under the videos, answered briefly, each with a link that opens the
lesson in the exact state that shows the answer."""

import streamlit as st

from ui import course
from ui.learner_questions import LEARNER_QUESTIONS
from ui.state import Param, check_link, choice
from ui.theme import METHOD_COLORS

ALL = "All lessons"
LESSON_TITLES = {lesson.slug: lesson.title for lesson in course.LESSONS}
# Only questions whose lesson is published are shown (a lesson's page may not exist yet).
SHOWN = tuple(q for q in LEARNER_QUESTIONS if q.slug in LESSON_TITLES)
FILTER = Param("q_lesson", ALL, options=(ALL, *dict.fromkeys(
    LESSON_TITLES[q.slug] for q in SHOWN)))

st.title("Questions from learners")
st.markdown(
    "Viewers of the video series asked these questions in the comments. Here they are in our "
    "own words, each with a short answer. The answers are not the end of it: every link opens "
    "the lesson at the step and with the settings that show the answer, so you can check it "
    "and then move the controls yourself. The badges name the methods a question is about, in "
    "the colours of the lessons' equation cards."
)
check_link([FILTER])
picked = choice(FILTER, "Show the questions about", widget="selectbox")

for number, item in enumerate(SHOWN, start=1):
    if picked != ALL and LESSON_TITLES[item.slug] != picked:
        continue
    lesson = course.lesson(item.slug)
    with st.container(border=True):
        st.subheader(f"{number}. {item.topic}", anchor=False)
        with st.container(horizontal=True, gap="small"):
            for method in item.methods:  # the badges of the lessons' equation cards
                st.badge(method, color=METHOD_COLORS[method])
        st.markdown(f"**The question.** {item.question}")
        st.markdown(f"**The short answer.** {item.answer}")
        # a short label: a page link never wraps, so a long one is cut off on a phone
        st.page_link(lesson.page, label="Open the demo", icon=":material/play_circle:",
                     query_params=item.params, help=f"In the lesson {lesson.title}")
        st.caption(f"The demo: {item.demo}, in the lesson *{lesson.title}*.")
