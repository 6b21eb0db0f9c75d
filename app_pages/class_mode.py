"""Class mode: a room where the class's own preferences train the model.

The teacher opens a room and projects its join code; students join from their phones and
judge pairs (the tiny LM's replies, or the Bradley–Terry lesson's replies about a wilting
basil plant). The teacher's view follows by itself: how many judged, how often the class
agrees with the hidden taste, where it disagrees, and what a reward model and DPO learn from
the class's labels, next to the same pairs labelled by the simulated annotator.
"""

import uuid

import numpy as np
import streamlit as st

from classroom.store import (
    MAX_NICKNAME,
    MAX_TITLE,
    StoreUnavailable,
    normalise_code,
)
from lessons import bradley_terry as bt
from lessons import class_judgements as cj
from lessons import frontier
from lessons import toy_lm as lm
from ui import class_figures as cf
from ui import classroom, course, figures, shared, state
from ui.shell import markdown_text
from ui.state import Param

POOL_SIZE = 40  # pairs of replies a room draws; every student meets them in their own order
BETA = 1.0
REFRESH_S = 3
MIN_PAIRS = 5  # judgements before the reward model and DPO are trained on them
ACTIVITY_LABELS = {"replies": "The tiny LM's replies (for the RLHF and DPO lessons)",
                   "items": "Replies about a wilting basil plant (for the Bradley–Terry lesson)"}
ROOM = Param("room", "", max_chars=20)
TEACHER = Param("teacher", "", max_chars=40)
PARAMS = (ROOM, TEACHER)

_ROOM, _KEY, _STUDENT, _DONE = "class_room", "class_teacher_key", "class_student", "class_done"


@shared.cache_data(show_spinner=False)
def pool(code: str) -> np.ndarray:
    """The room's pairs of replies: the same for every student of the room."""
    return cj.reply_pool(lm.make_task(), POOL_SIZE, seed=int.from_bytes(code.encode(), "big")
                         % 2**32)


@shared.cache_data(show_spinner=False)
def the_frontier() -> dict:
    return frontier.frontier_curve(lm.make_task())


@shared.cache_data(max_entries=64, show_spinner="Training on the class's judgements…")
def reply_report(judgements: tuple) -> dict:
    """What the class's judgements of replies teach (cached per set of judgements, so a
    refresh without new judgements costs nothing)."""
    task = lm.make_task()
    pairs = cj.class_pairs(task, [dict(j) for j in judgements])
    counts = cj.votes([dict(j) for j in judgements])
    report = {"pairs": len(pairs["prompt"]), "agreement": cj.agreement(pairs),
              "split": cj.split_items(counts)[:5]}
    if report["pairs"] >= MIN_PAIRS:
        report["taught"] = cj.what_the_class_taught(task, pairs, beta=BETA)
    return report


@shared.cache_data(max_entries=64, show_spinner=False)
def item_report(judgements: tuple) -> dict:
    wins = cj.item_wins(len(bt.EXAMPLE_REPLIES), [dict(j) for j in judgements])
    scores = bt.fit_scores(wins, l2=0.1)  # a weak prior: defined from the first judgement on
    sd = np.sqrt(np.clip(np.diag(bt.score_covariance(scores, wins, l2=0.1)), 0, None))
    counts = cj.votes([dict(j) for j in judgements])
    return {"wins": wins, "scores": scores, "sd": sd, "split": cj.split_items(counts)[:5]}


def _frozen(judgements: list[dict]) -> tuple:
    """Judgements as a hashable key for the caches (what they say, not when)."""
    return tuple((("item", j["item"]), ("choice", j["choice"]), ("student", j["student"]))
                 for j in judgements)


def _pair_text(item: str) -> tuple[str, str, str]:
    """(prompt, first reply, second reply) of a pair's name, as the learner reads them."""
    kind, numbers = cj.parse_item(item)
    if kind == cj.REPLIES:
        task = lm.make_task()
        prompt, first, second = numbers
        return task.prompts[prompt] + " …", task.texts[first], task.texts[second]
    first, second = numbers
    return bt.EXAMPLE_PROMPT, bt.EXAMPLE_REPLIES[first], bt.EXAMPLE_REPLIES[second]


def _next_pair(code: str, activity: str, number: int, done: int) -> str | None:
    """The name of the pair student ``number`` judges next, after ``done`` (None: all done)."""
    if activity == "items":
        pairs = bt.EXAMPLE_PAIRS
        order = cj.student_order(len(pairs), number, seed=len(code))
        return cj.item_pair(*pairs[order[done]]) if done < len(pairs) else None
    rows = pool(code)
    order = cj.student_order(len(rows), number, seed=len(code))
    return cj.reply_item(*rows[order[done]]) if done < len(rows) else None


def _unavailable(error: StoreUnavailable) -> None:
    st.warning(str(error), icon=":material/cloud_off:")


# The page

INTRO = (
    "Here the students are the annotators. A teacher opens a room and projects its code; "
    "students join from their phones and say which of two replies is better. Their "
    "judgements are the preference data: the teacher's screen shows, as they come in, how "
    "often the class agrees with the hidden taste, where students disagree with each other, "
    "and what a reward model and a DPO run learn from the class's labels, next to the same "
    "pairs labelled by the course's simulated annotator."
)

st.title(course.CLASS_MODE.title)
state.check_link(PARAMS)

# A teacher's private link carries the key once; it moves into this session and out of the
# address, so the projected page never shows it.
if st.query_params.get(TEACHER.key) and st.query_params.get(ROOM.key):
    st.session_state[_ROOM] = st.query_params[ROOM.key]
    st.session_state[_KEY] = st.query_params[TEACHER.key]
    del st.query_params[TEACHER.key]


def landing(code_from_link: str) -> None:
    """Join a room (student) or open one (teacher); a join link shows only the first."""
    st.markdown(INTRO)
    if code_from_link:
        join, open_ = st.container(), None
    else:
        join, open_ = st.columns(2, gap="large")
    with join, st.container(border=True):
        st.subheader(":material/login: Join your class", anchor=False)
        with st.form("class_join", border=False):
            code = st.text_input("Join code", value=code_from_link, max_chars=12,
                                 placeholder="K7QX2M9P", key="class_join_code",
                                 help="The code on your teacher's screen.")
            nickname = st.text_input("Nickname (optional)", max_chars=MAX_NICKNAME,
                                     key="class_nickname", help="Shown to your teacher only. "
                                     "No real name is needed.")
            joined = st.form_submit_button("Join", type="primary", icon=":material/login:")
        if joined:
            try:
                student = classroom.store().join(code, nickname, client=_client())
            except StoreUnavailable as error:
                _unavailable(error)
            except ValueError as error:
                st.error(str(error), icon=":material/error:")
            else:
                joined_in_order = [s["id"] for s in classroom.store().students(code)]
                number = joined_in_order.index(student) + 1
                st.session_state[_ROOM] = normalise_code(code)
                st.session_state[_STUDENT] = (student, number, " ".join(nickname.split()))
                st.session_state[_DONE] = 0
                st.query_params[ROOM.key] = normalise_code(code)
                st.rerun()
    if open_ is None:
        st.caption("No personal data is needed: a nickname is optional and only your teacher "
                   "sees it. Rooms that nobody uses for 24 hours are deleted with all their "
                   "judgements.")
        return
    with open_, st.container(border=True):
        st.subheader(":material/co_present: Open a room (teachers)", anchor=False)
        with st.form("class_open", border=False):
            title = st.text_input("Title", value="Our class", max_chars=MAX_TITLE,
                                  key="class_title")
            picked = st.radio("What the class judges", list(ACTIVITY_LABELS.values()),
                              key="class_activity")
            activity = {label: key for key, label in ACTIVITY_LABELS.items()}[picked]
            opened = st.form_submit_button("Open the room", icon=":material/add:")
        if opened:
            try:
                room = classroom.store().create_room(title, activity)
            except StoreUnavailable as error:
                _unavailable(error)
            except ValueError as error:
                st.error(str(error), icon=":material/error:")
            else:
                st.session_state[_ROOM], st.session_state[_KEY] = room.code, room.teacher_key
                st.query_params[ROOM.key] = room.code
                st.rerun()
    st.caption("No personal data is needed: a nickname is optional and only the teacher sees "
               "it. Rooms that nobody uses for 24 hours are deleted with all their judgements.")


def _client() -> str:
    """Which browser is asking, for counting its wrong join codes (not who it is)."""
    if "class_client" not in st.session_state:
        st.session_state["class_client"] = uuid.uuid4().hex
    return st.session_state["class_client"]


def teacher_view(code: str, key: str) -> None:
    store = classroom.store()
    try:
        store.check_teacher(code, key)
        room = store.room(code)
    except StoreUnavailable as error:
        _unavailable(error)
        return
    except ValueError as error:
        st.error(str(error), icon=":material/error:")
        _leave_button()
        return
    link = classroom.join_link(code)
    st.markdown(INTRO)
    st.header(f"Room: {markdown_text(room['title'])}", divider="gray", anchor=False)
    qr, join = st.columns([1, 2], vertical_alignment="center")
    with qr:
        st.image(classroom.qr_png(link), width=240, caption="Scan to join")
    with join:
        st.markdown("Join at the address below, or scan the code, and enter")
        st.markdown(f"# {' '.join([code[:4], code[4:]])}")
        st.code(link, language=None, wrap_lines=True)
        if room["closed"]:
            st.warning("This room is closed: it keeps what the class sent but takes no more "
                       "judgements.", icon=":material/lock:")
    _teacher_results(code, room["activity"])
    with st.expander("Keep, close or delete this room", icon=":material/settings:"):
        st.markdown("Your teacher link opens this view again from any browser; keep it to "
                    "yourself (it carries the room's teacher key).")
        st.code(f"{link}&teacher={key}", language=None, wrap_lines=True)
        try:
            csv_text = store.export_csv(code, key)
        except StoreUnavailable as error:
            _unavailable(error)
            csv_text = None
        if csv_text is not None:
            st.download_button("Download the judgements (CSV)", csv_text,
                               file_name=f"class-{code}.csv", mime="text/csv",
                               icon=":material/download:", key="class_export")
        left, right = st.columns(2)
        if left.button("Close the room", icon=":material/lock:", key="class_close",
                       disabled=room["closed"]):
            store.close_room(code, key)
            st.rerun()
        sure = right.checkbox("Yes, delete the room and every judgement in it",
                              key="class_delete_sure")
        if right.button("Delete the room", icon=":material/delete:", key="class_delete",
                        disabled=not sure, type="primary"):
            store.delete_room(code, key)
            _forget()
            st.rerun()
        st.caption("Rooms that nobody uses for 24 hours are deleted with their data.")


@st.fragment(run_every=REFRESH_S)
def _teacher_results(code: str, activity: str) -> None:
    """The class's numbers, redrawn every few seconds as judgements arrive."""
    store = classroom.store()
    try:
        judgements = store.judgements(code)
        students = store.students(code)
    except StoreUnavailable as error:
        _unavailable(error)
        return
    except ValueError as error:  # deleted meanwhile
        st.error(str(error), icon=":material/error:")
        return
    a, b, c = st.columns(3)
    a.metric("Students in the room", len(students))
    b.metric("Judgements", len(judgements))
    if not judgements:
        st.info("Waiting for the first judgement: students who joined see their first pair "
                "now.", icon=":material/hourglass_top:")
        return
    if activity == "items":
        report = item_report(_frozen(judgements))
        c.metric("Pairs judged by several students", sum(
            1 for v in cj.votes(judgements).values() if sum(v.values()) > 1))
        names = [f"R{i + 1}" for i in range(len(bt.EXAMPLE_REPLIES))]
        figures.show(cf.item_scores(names, report["scores"], report["sd"]),
                     key="class_item_scores", caption="Each reply's Bradley–Terry score fitted "
                     "to the class's judgements, best first; the bars are 95 % intervals, "
                     "which shrink as judgements come in.")
        with st.expander("The replies", icon=":material/list:"):
            for name, reply in zip(names, bt.EXAMPLE_REPLIES, strict=True):
                st.markdown(f"**{name}.** {reply}")
    else:
        report = reply_report(_frozen(judgements))
        c.metric("Agree with the hidden taste", f"{100 * report['agreement']:.0f} %",
                 help="The share of judgements in which the chosen reply is at least as good "
                 "by the tiny LM's hidden taste (the reward the course's lessons hide).")
        taught = report.get("taught")
        if taught is None:
            st.info(f"After {MIN_PAIRS} judgements a reward model and DPO train on them "
                    "here.", icon=":material/hourglass_top:")
        else:
            simulated = taught["agreement"]["simulated"]
            st.markdown(
                f"On the same {taught['pairs']} pairs the simulated annotator agrees with the "
                f"taste **{100 * simulated:.0f} %** of the time. A reward model trained on the "
                f"class's labels ranks **{100 * taught['reward_model_accuracy']['class']:.0f} "
                f"%** of all pairs of replies right (on the annotator's labels: "
                f"{100 * taught['reward_model_accuracy']['simulated']:.0f} %).")
            figures.show(cf.taught_plane(the_frontier(), taught), key="class_taught",
                         caption="DPO (β = 1) trained on the class's labels and on the same "
                         "pairs labelled by the simulated annotator, placed on the exact "
                         "reward–KL plane: up is a better model by the hidden taste, right is "
                         "further from where it started. The grey curve is the best any "
                         "model can do for each KL; π*_β is the best at β = 1.")
    if report["split"]:
        st.subheader("Where the class disagrees", anchor=False)
        rows = []
        for item, majority, rest in report["split"]:
            prompt, first, second = _pair_text(item)
            rows.append({"Prompt": prompt, "Reply A": first, "Reply B": second,
                         "Votes": f"{majority} against {rest}"})
        st.table(rows)


def student_view(code: str, student: tuple) -> None:
    student_id, number, nickname = student
    store = classroom.store()
    try:
        room = store.room(code)
    except StoreUnavailable as error:
        _unavailable(error)
        return
    except ValueError as error:
        st.error(str(error), icon=":material/error:")
        _leave_button()
        return
    who = markdown_text(nickname) if nickname else f"student {number}"
    st.header(f"Room: {markdown_text(room['title'])}", divider="gray", anchor=False)
    done = st.session_state.get(_DONE, 0)
    st.caption(f"You are {who}. You judged {done} pair{'s' if done != 1 else ''}.")
    if room["closed"]:
        st.info("Your teacher closed this room: thank you for your judgements!",
                icon=":material/lock:")
        return
    item = _next_pair(code, room["activity"], number, done)
    if item is None:
        st.success("You judged every pair. Thank you! Look at the teacher's screen to see "
                   "what the class taught the model.", icon=":material/celebration:")
        return
    prompt, first, second = _pair_text(item)
    st.markdown(f"**Which reply is better?**  \n*{prompt}*")
    first_index, second_index = cj.parse_item(item)[1][-2:]
    left, right = st.columns(2)
    for column, label, text, winner in ((left, "A", first, first_index),
                                        (right, "B", second, second_index)):
        with column, st.container(border=True):
            st.markdown(f"**Reply {label}**")
            st.text(text)
            st.button(f"Reply {label} is better", key=f"class_pick_{label}", width="stretch",
                      on_click=_judge, args=(code, student_id, item, str(winner),
                                             f"{student_id}-{done}"))


def _judge(code: str, student_id: str, item: str, choice: str, judgement_id: str) -> None:
    """Send one judgement; a resend of the same pair (double click, reconnect) stores nothing
    twice, because its id is the student's and the pair's number."""
    try:
        classroom.store().add_judgement(code, student_id, item, choice, judgement_id)
    except StoreUnavailable as error:
        st.session_state["class_problem"] = str(error)
        return
    except ValueError as error:
        st.session_state["class_problem"] = str(error)
        return
    st.session_state[_DONE] = st.session_state.get(_DONE, 0) + 1


def _forget() -> None:
    for key in (_ROOM, _KEY, _STUDENT, _DONE):
        st.session_state.pop(key, None)
    if ROOM.key in st.query_params:
        del st.query_params[ROOM.key]


def _leave_button() -> None:
    if st.button("Leave this room", icon=":material/logout:", key="class_leave"):
        _forget()
        st.rerun()


if problem := st.session_state.pop("class_problem", None):
    st.warning(problem, icon=":material/cloud_off:")

code = st.session_state.get(_ROOM)
link_code = st.query_params.get(ROOM.key, "")
if code and link_code and link_code.strip().upper() != code:
    _forget()  # a link to another room: start there
    code = None
if code and st.session_state.get(_KEY):
    teacher_view(code, st.session_state[_KEY])
elif code and st.session_state.get(_STUDENT):
    student_view(code, st.session_state[_STUDENT])
    _leave_button()
else:
    landing(link_code)

st.divider()
st.caption(f"Class mode uses the tiny LM of *{course.lesson('toy-llm').title}* and the "
           f"replies of *{course.lesson('bradley-terry').title}*. Presenter mode (sidebar) "
           "makes the teacher's screen readable from the back of the room.")
