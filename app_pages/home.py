"""Start here: what the course is, the map of its stops, how to use it, and your progress."""

import streamlit as st

from ui import course, figures, quiz

st.title("Dice to DPO")
st.markdown(
    "#### The math of training language models with human preferences, one experiment at a time"
)

st.markdown(
    "This course starts with a game of dice and ends with **Direct Preference Optimization**, "
    "the method many chat models are fine-tuned with today. On the way it builds every piece "
    "you need: how to measure the distance between two distributions (KL divergence), how to "
    "turn scores into preferences (Bradley–Terry), how an agent learns from rewards "
    "(reinforcement learning and PPO), and how human feedback steers a language model "
    "(RLHF and DPO). Every formula comes with a control that changes its numbers in front of "
    "you, and every lesson ends with a few self-check questions."
)
st.markdown(
    "It is written for **learners** who know a little probability and Python-level math "
    "(logs, sums, averages) and want to understand what the papers' equations actually do, "
    f"and for **teachers** who want live demos for class. It follows the video series "
    f"[*{course.SERIES_TITLE}*]({course.PLAYLIST_URL}) by {course.SERIES_AUTHOR} and answers, "
    "hands-on, questions its viewers asked."
)

st.header("The map", divider="gray")
route, tips = st.columns([3, 2], gap="large")
with route:
    figures.show(
        figures.course_map_spec(),
        key="course_map",
        caption="Each station is a lesson, in the order to take them, under the part of the "
        "course it belongs to; hover over a station for its summary and the video it "
        "accompanies.",
    )
with tips:
    st.subheader(":material/person: How to study alone")
    st.markdown(
        "- Watch the video a lesson accompanies, then open the lesson and *predict* what a "
        "control will do before you move it.\n"
        "- Each section makes one claim and gives you a control that shows it; read the "
        "blue takeaway box last.\n"
        "- Open *Show the code* to read the exact function behind a chart.\n"
        "- Finish with the self-check; your score appears below and in the sidebar."
    )
    st.subheader(":material/co_present: How to use it in class")
    st.markdown(
        "- Switch on **Presenter mode** in the sidebar: all text gets larger and charts "
        "taller, readable from the back of a room.\n"
        "- Every control and random seed lives in the page's address, so a link reproduces "
        "the exact view. Use **Link to this view** in the sidebar to copy it.\n"
        "- Prepare a few links before class (one per point you want to make) and open them "
        "in turn, or send them to students as exercises.\n"
        "- Open a room in **class mode**: your students judge pairs of replies on their "
        "phones, and your screen shows what the model learns from the class's own "
        "preferences."
    )
    st.page_link(course.CLASS_MODE.page, label="Open class mode", icon=course.CLASS_MODE.icon)

for part in course.PARTS:
    stops = course.lessons_in(part)
    if not stops:
        continue
    st.subheader(part)
    for stop in stops:
        with st.container(border=True):
            st.page_link(stop.page, label=f"**{stop.title}**", icon=stop.icon)
            videos = ", ".join(course.VIDEOS[v] for v in stop.videos)
            st.caption(f"{stop.summary}  \nAccompanies: *{videos}*")

WARM_UP = [
    quiz.Choice(
        qid="sum",
        prompt="A five-faced die lands on its faces with probabilities 0.4, 0.2, 0.1, 0.1 "
        "and one more. What must the last one be?",
        options=["0.1", "0.2", "0.3", "Any value: probabilities need not add up"],
        answer="0.2",
        explanation="The probabilities of all outcomes add up to 1, so the last face has "
        "1 − 0.8 = 0.2.",
    ),
    quiz.Numeric(
        qid="log2",
        prompt="What is log₂(1/8)?",
        answer=-3.0,
        tolerance=1e-6,
        explanation="1/8 = 2⁻³, so its base-2 logarithm is −3. Logs turn products of "
        "probabilities into sums, which the dice game relies on.",
        step=1.0,
    ),
    quiz.Choice(
        qid="product",
        prompt="Two independent rolls each land on a face of probability 0.5. What is the "
        "probability of seeing both?",
        options=["1.0", "0.5", "0.25"],
        answer="0.25",
        explanation="Independent events multiply: 0.5 × 0.5 = 0.25. The longer the sequence, "
        "the smaller this product gets.",
    ),
]
quiz.self_check(course.HOME.slug, WARM_UP, title="Before you start: a two-minute warm-up")

st.header("Your progress", divider="gray")
rows = []
for stop in (course.HOME, *course.LESSONS):
    right, total = quiz.progress(stop.slug)
    opened = "opened; its self-check is on its last step" if quiz.visited(stop.slug) \
        else "not opened yet"
    rows.append({
        "Lesson": "Warm-up" if stop is course.HOME else stop.title,
        "Self-checks right": right,
        "Questions": str(total) if total else opened,
    })
st.dataframe(rows, hide_index=True, width="stretch")
st.caption("Your progress is kept in this browser only (its local storage): it survives a "
           "reload and a return visit, and nothing is sent anywhere.")
if st.button("Forget my progress", icon=":material/restart_alt:", key="reset_progress"):
    quiz.reset_progress()
    st.rerun()
