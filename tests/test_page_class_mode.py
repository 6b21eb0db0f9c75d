"""Class mode's page through app.py: opening a room, joining it, judging, the teacher's view
and its numbers, closing, deleting, and what a wrong code or a bad link does."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import open_page
from pagetest import chart_specs

from classroom.store import Store
from lessons import class_judgements as cj
from lessons import toy_lm as lm

PAGE = "app_pages/class_mode.py"
ACTIVITY_LABELS = {"replies": "The tiny LM's replies (for the RLHF and DPO lessons)",
                   "items": "Replies about a wilting basil plant (for the Bradley–Terry lesson)"}
OPEN = "FormSubmitter:class_open-Open the room"
JOIN = "FormSubmitter:class_join-Join"


@pytest.fixture()
def db(tmp_path, monkeypatch):
    """A fresh class database for this test, where the page finds it."""
    url = f"sqlite:///{tmp_path / 'classroom.sqlite'}"
    monkeypatch.setenv("DICE2DPO_DATABASE_URL", url)
    return Store(url)


def _teacher_opens(activity: str = "replies"):
    at = open_page(PAGE)
    at.text_input(key="class_title").set_value("Period 3")
    at.radio(key="class_activity").set_value(ACTIVITY_LABELS[activity])
    at.button(key=OPEN).click().run()
    assert not at.exception
    return at


def _room_code(at) -> str:
    return at.query_params["room"][0] if isinstance(at.query_params["room"], list) \
        else at.query_params["room"]


def test_the_page_offers_to_join_or_to_open_a_room(db):
    at = open_page(PAGE)
    assert not at.exception
    assert [s.value for s in at.subheader] == [":material/login: Join your class",
                                              ":material/co_present: Open a room (teachers)"]
    assert any("deleted with all their judgements" in c.value for c in at.caption)


def test_a_teacher_opens_a_room_and_sees_its_code_link_and_qr(db):
    at = _teacher_opens()
    code = _room_code(at)
    assert db.room(code)["title"] == "Period 3"
    assert any(m.value == f"# {code[:4]} {code[4:]}" for m in at.markdown)
    assert f"?room={code}" in at.code[0].value
    assert len(at.get("image")) == 1  # the QR code
    assert "teacher" not in at.query_params  # the key never goes into the projected address
    assert [m.label for m in at.metric][:2] == ["Students in the room", "Judgements"]
    assert [m.value for m in at.metric][:2] == ["0", "0"]


def test_the_teacher_link_opens_the_teacher_view_and_leaves_the_address(db):
    room = db.create_room("Tuesday")
    at = open_page(PAGE, {"room": room.code, "teacher": room.teacher_key})
    assert not at.exception
    assert any(h.value == "Room: Tuesday" for h in at.header)
    assert "teacher" not in at.query_params
    wrong = open_page(PAGE, {"room": room.code, "teacher": "guess" * 4})
    assert any("not this room's teacher key" in e.value for e in wrong.error)


def _student_joins(code: str, nickname: str = "Ada"):
    at = open_page(PAGE, {"room": code})
    assert at.text_input(key="class_join_code").value == code
    at.text_input(key="class_nickname").set_value(nickname)
    at.button(key=JOIN).click().run()
    assert not at.exception
    return at


def test_a_student_joins_by_the_link_and_judges_pairs_stored_once(db):
    room = db.create_room("Class")
    at = _student_joins(room.code)
    (student,) = db.students(room.code)
    assert student["nickname"] == "Ada"
    assert any("You are Ada. You judged 0 pairs." in c.value for c in at.caption)
    task = lm.make_task()
    pool = cj.reply_pool(task, 40, seed=int.from_bytes(room.code.encode(), "big") % 2**32)
    first = pool[cj.student_order(40, 1, seed=len(room.code))[0]]
    assert [t.value for t in at.text] == [task.texts[first[1]], task.texts[first[2]]]
    at.button(key="class_pick_B").click().run()
    assert not at.exception
    (judgement,) = db.judgements(room.code)
    assert judgement == {**judgement, "student": student["id"], "item": cj.reply_item(*first),
                         "choice": str(first[2]), "judgement_id": f"{student['id']}-0"}
    assert any("You judged 1 pair." in c.value for c in at.caption)
    # the same judgement sent again (a reconnect resends it) is not stored twice
    assert db.add_judgement(room.code, student["id"], judgement["item"], "0",
                            f"{student['id']}-0") is False
    second = pool[cj.student_order(40, 1, seed=len(room.code))[1]]
    assert [t.value for t in at.text] == [task.texts[second[1]], task.texts[second[2]]]


def test_a_wrong_code_says_so_and_too_many_must_wait(db):
    at = open_page(PAGE)
    at.text_input(key="class_join_code").set_value("ABCDEFGH")
    at.button(key=JOIN).click().run()
    assert any("no room with this code" in e.value for e in at.error)
    at.text_input(key="class_join_code").set_value("hello")
    at.button(key=JOIN).click().run()
    assert any("not a join code" in e.value for e in at.error)
    for _ in range(9):
        at.button(key=JOIN).click().run()
    room = db.create_room("Real")
    at.text_input(key="class_join_code").set_value(room.code)
    at.button(key=JOIN).click().run()
    assert any("Too many wrong join codes" in e.value for e in at.error)


def _class_judges(db: Store, code: str, students: int, per_student: int, careful: bool):
    """Simulated students judging through the store, as their phones would."""
    task = lm.make_task()
    pool = cj.reply_pool(task, 40, seed=int.from_bytes(code.encode(), "big") % 2**32)
    for s in range(students):
        sid = db.join(code, f"S{s}")
        for k, index in enumerate(cj.student_order(40, s + 1, seed=len(code))[:per_student]):
            prompt, a, b = pool[index]
            better = a if task.true_rewards[prompt, a] >= task.true_rewards[prompt, b] else b
            pick = better if careful or k % 3 else (b if better == a else a)
            db.add_judgement(code, sid, cj.reply_item(prompt, a, b), str(pick), f"{sid}-{k}")


def test_the_teacher_sees_what_the_class_taught_the_model(db):
    room = db.create_room("Class")
    _class_judges(db, room.code, students=4, per_student=6, careful=False)
    at = open_page(PAGE, {"room": room.code, "teacher": room.teacher_key})
    assert not at.exception
    task = lm.make_task()
    judgements = db.judgements(room.code)
    pairs = cj.class_pairs(task, judgements)
    taught = cj.what_the_class_taught(task, pairs, beta=1.0)
    values = {m.label: m.value for m in at.metric}
    assert values["Students in the room"] == "4" and values["Judgements"] == "24"
    assert values["Agree with the hidden taste"] == f"{100 * cj.agreement(pairs):.0f} %"
    text = " ".join(m.value for m in at.markdown)
    assert f"**{100 * taught['agreement']['simulated']:.0f} %**" in text
    assert f"**{100 * taught['reward_model_accuracy']['class']:.0f} %**" in text
    (plane,) = [s for s in chart_specs(at) if "taught" in s["layout"]["title"]["text"]]
    points = {t["name"]: (t["x"][0], t["y"][0]) for t in plane["data"] if len(t["x"]) == 1}
    run = taught["dpo"]["class"]
    assert points["DPO on our class's labels"] == pytest.approx((run["kl"], run["true_reward"]))
    star = taught["optimum"]
    assert points["π*_β, the best possible at β = 1"] == pytest.approx(
        (star["kl"], star["true_reward"]))
    # students who saw the same pair and disagreed are listed
    split = cj.split_items(cj.votes(judgements))
    if split:
        assert at.table[0].value.shape[0] == min(5, len(split))


def test_closing_stops_judgements_and_deleting_forgets_the_room(db):
    room = db.create_room("Class")
    student_at = _student_joins(room.code)
    teacher_at = open_page(PAGE, {"room": room.code, "teacher": room.teacher_key})
    teacher_at.button(key="class_close").click().run()
    assert db.room(room.code)["closed"] is True
    student_at.run()
    assert any("closed this room" in i.value for i in student_at.info)
    assert teacher_at.button(key="class_delete").disabled  # only after saying yes
    teacher_at.checkbox(key="class_delete_sure").check().run()
    teacher_at.button(key="class_delete").click().run()
    assert not teacher_at.exception
    with pytest.raises(ValueError, match="no room"):
        db.room(room.code)
    assert "room" not in teacher_at.query_params


def test_the_teacher_can_download_the_judgements(db):
    room = db.create_room("Class")
    _class_judges(db, room.code, students=2, per_student=3, careful=True)
    at = open_page(PAGE, {"room": room.code, "teacher": room.teacher_key})
    (download,) = at.get("download_button")
    assert download.proto.label == "Download the judgements (CSV)"


def test_a_bad_room_in_a_link_gets_a_note_and_the_join_form(db):
    at = open_page(PAGE, {"room": "x" * 300})
    assert not at.exception
    assert at.text_input(key="class_join_code").value == "x" * 12 or \
        at.text_input(key="class_join_code").value == ""
    at = open_page(PAGE, {"room": "<b>nope</b>"})
    at.button(key=JOIN).click().run()
    assert any("not a join code" in e.value for e in at.error)
    assert np.all([not e for e in at.exception])


def test_a_room_of_basil_replies_shows_the_pairs_and_fits_their_scores(db):
    from lessons import bradley_terry as bt

    at = _teacher_opens("items")
    code = _room_code(at)
    assert db.room(code)["activity"] == "items"
    student_at = _student_joins(code)
    order = cj.student_order(len(bt.EXAMPLE_PAIRS), 1, seed=len(code))
    for done in range(3):
        first, second = bt.EXAMPLE_PAIRS[order[done]]
        assert bt.EXAMPLE_PROMPT in " ".join(m.value for m in student_at.markdown)
        assert [t.value for t in student_at.text] == [bt.EXAMPLE_REPLIES[first],
                                                      bt.EXAMPLE_REPLIES[second]]
        student_at.button(key="class_pick_A").click().run()
        assert not student_at.exception
    judgements = db.judgements(code)
    assert [j["item"] for j in judgements] == [cj.item_pair(*bt.EXAMPLE_PAIRS[k])
                                               for k in order[:3]]
    teacher = at.run()  # the teacher's own session, which keeps its key
    assert not teacher.exception
    values = {m.label: m.value for m in teacher.metric}
    assert values["Judgements"] == "3"
    wins = cj.item_wins(len(bt.EXAMPLE_REPLIES), [dict(j) for j in judgements])
    scores = bt.fit_scores(wins, l2=0.1)
    (chart,) = [s for s in chart_specs(teacher) if "Bradley–Terry" in s["layout"]["title"]["text"]]
    shown = dict(zip(chart["data"][0]["y"], chart["data"][0]["x"], strict=True))
    assert shown == pytest.approx({f"R{i + 1}": scores[i] for i in range(len(scores))})
    assert list(shown) == [f"R{i + 1}" for i in np.argsort(-scores)]  # best first
