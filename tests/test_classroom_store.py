"""Class mode's store (classroom/store.py) against SQLite files and a real PostgreSQL server:
rooms, joining, judgements stored once however often they are sent, teacher-only actions,
closed and idle rooms, rate-limited wrong codes, schema upgrades, and a busy database."""

from __future__ import annotations

import csv
import io
import os
import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import IN_CI

from classroom import store as store_module
from classroom.store import CODE_ALPHABET, Store, StoreUnavailable, normalise_code

POSTGRES_URL = os.environ.get("DICE2DPO_TEST_POSTGRES_URL", "")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def _fresh_postgres() -> str:
    """An empty schema of the test server's own for this test process.

    xdist runs tests in two processes at once; each gets a schema of its own (by its
    worker id) so that one process's dropped tables never wait on the other's."""
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("DICE2DPO_TEST_POSTGRES_URL is not set: CI must test PostgreSQL "
                        "(.ci/run starts a server and sets it)")
        pytest.skip("no PostgreSQL server (set DICE2DPO_TEST_POSTGRES_URL to test one)")
    from sqlalchemy import create_engine, text

    schema = "test_" + re.sub(r"\W", "", os.environ.get("PYTEST_XDIST_WORKER", "main"))
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'classroom.sqlite'}"
    return _fresh_postgres()


@pytest.fixture()
def clock():
    return Clock()


@pytest.fixture()
def store(url, clock):
    made = Store(url, clock=clock)
    yield made
    made.engine.dispose()


def test_a_room_has_a_short_unambiguous_code_and_a_separate_teacher_key(store):
    room = store.create_room("  Period 3:   preferences ")
    assert room.title == "Period 3: preferences"
    assert len(room.code) >= 8 and set(room.code) <= set(CODE_ALPHABET)
    assert not set("0O1IL") & set(CODE_ALPHABET)
    assert len(room.teacher_key) >= 20 and room.code not in room.teacher_key
    assert store.room(room.code) | {"created_at": 0, "active_at": 0} == {
        "code": room.code, "title": "Period 3: preferences", "closed": False,
        "activity": "replies", "created_at": 0, "active_at": 0}
    assert store.room(store.create_room("Items", activity="items").code)["activity"] == "items"
    with pytest.raises(ValueError, match="activity is one of"):
        store.create_room("Bad", activity="poems")
    codes = {store.create_room(f"room {i}").code for i in range(30)}
    assert len(codes) == 30


@pytest.mark.parametrize(("typed", "expected"), [
    ("k7qx2m9p", "K7QX2M9P"), (" K7QX-2M9P ", "K7QX2M9P"), ("k7qx 2m9p", "K7QX2M9P")])
def test_codes_are_read_as_typed(typed, expected):
    assert normalise_code(typed) == expected


@pytest.mark.parametrize("typed", ["", "K7QX2M9", "K7QX2M9PP", "K7QX2M0P", "<script>"])
def test_malformed_codes_get_a_readable_message(typed):
    with pytest.raises(ValueError, match="not a join code"):
        normalise_code(typed)


def test_students_join_and_their_judgements_are_stored_once(store):
    room = store.create_room("Class")
    ada = store.join(room.code.lower(), "Ada")
    anon = store.join(room.code)  # the nickname is optional
    assert ada != anon
    assert store.add_judgement(room.code, ada, "pair:0:3:7", "7", "ada-1") is True
    assert store.add_judgement(room.code, ada, "pair:0:3:7", "7", "ada-1") is False  # resent
    assert store.add_judgement(room.code, anon, "pair:0:3:7", "3", "anon-1") is True
    assert [(j["student"], j["nickname"], j["item"], j["choice"], j["judgement_id"])
            for j in store.judgements(room.code)] == [
        (ada, "Ada", "pair:0:3:7", "7", "ada-1"), (anon, "", "pair:0:3:7", "3", "anon-1")]
    assert [s["nickname"] for s in store.students(room.code)] == ["Ada", ""]


@pytest.mark.parametrize(("nickname", "message"), [
    ("x" * 25, "longer than 24"), ("bell\x07", "only letters"), (42, "must be text")])
def test_nicknames_are_short_plain_text(store, nickname, message):
    room = store.create_room("Class")
    with pytest.raises(ValueError, match=message):
        store.join(room.code, nickname)


def test_nicknames_keep_markup_as_plain_characters(store):
    room = store.create_room("Class")
    student = store.join(room.code, "<b>Bo</b>")
    assert store.students(room.code)[0] == {"id": student, "nickname": "<b>Bo</b>",
                                           "joined_at": store.clock()}


@pytest.mark.parametrize("bad", [
    dict(item=""), dict(choice="x" * 201), dict(judgement_id="j" * 65), dict(item=None)])
def test_bad_judgements_are_refused(store, bad):
    room = store.create_room("Class")
    student = store.join(room.code, "Ada")
    arguments = dict(code=room.code, student_id=student, item="pair", choice="A",
                     judgement_id="j1") | bad
    with pytest.raises(ValueError):
        store.add_judgement(**arguments)
    assert store.judgements(room.code) == []


def test_unknown_rooms_and_strangers_are_refused(store):
    room = store.create_room("Class")
    with pytest.raises(ValueError, match="no room with this code"):
        store.join("ABCDEFGH")
    other = store.create_room("Other")
    outsider = store.join(other.code, "Eve")
    with pytest.raises(ValueError, match="not in this room"):
        store.add_judgement(room.code, outsider, "pair", "A", "j1")
    with pytest.raises(ValueError, match="no room with this code"):
        store.judgements("ABCDEFGH")


def test_only_the_teacher_key_closes_exports_or_deletes(store):
    room = store.create_room("Class")
    student = store.join(room.code, "Ada")
    store.add_judgement(room.code, student, "pair", "A", "j1")
    for action in (store.close_room, store.delete_room, store.export_csv, store.check_teacher):
        for wrong in ("", "guess", room.code, None):
            with pytest.raises(ValueError, match="not this room's teacher key"):
                action(room.code, wrong)
    assert store.room(room.code)["closed"] is False and len(store.judgements(room.code)) == 1
    store.check_teacher(room.code, room.teacher_key)
    table = list(csv.reader(io.StringIO(store.export_csv(room.code, room.teacher_key))))
    assert table[0] == ["student", "nickname", "item", "choice", "judgement_id", "at_utc"]
    assert table[1][:5] == [student, "Ada", "pair", "A", "j1"]


def test_a_closed_room_refuses_judgements_and_joins_but_keeps_its_data(store):
    room = store.create_room("Class")
    student = store.join(room.code, "Ada")
    store.add_judgement(room.code, student, "pair", "A", "j1")
    store.close_room(room.code, room.teacher_key)
    with pytest.raises(ValueError, match="room is closed"):
        store.add_judgement(room.code, student, "pair", "B", "j2")
    with pytest.raises(ValueError, match="room is closed"):
        store.join(room.code, "Late")
    assert store.room(room.code)["closed"] is True
    assert [j["judgement_id"] for j in store.judgements(room.code)] == ["j1"]


def test_deleting_a_room_deletes_its_students_and_judgements(store):
    room, kept = store.create_room("Class"), store.create_room("Kept")
    student = store.join(room.code, "Ada")
    store.add_judgement(room.code, student, "pair", "A", "j1")
    other = store.join(kept.code, "Bo")
    store.add_judgement(kept.code, other, "pair", "A", "j1")
    store.delete_room(room.code, room.teacher_key)
    with pytest.raises(ValueError, match="no room with this code"):
        store.room(room.code)
    with store.engine.connect() as conn:
        left = conn.exec_driver_sql("SELECT room FROM judgements").fetchall()
        people = conn.exec_driver_sql("SELECT room FROM students").fetchall()
    assert [r[0] for r in left] == [kept.code] and [r[0] for r in people] == [kept.code]


def test_rooms_idle_for_a_day_are_deleted_with_their_data(store, clock):
    old, busy = store.create_room("Old"), store.create_room("Busy")
    student = store.join(busy.code, "Ada")
    clock.now += 23 * 3600
    store.add_judgement(busy.code, student, "pair", "A", "j1")  # use keeps a room alive
    clock.now += 2 * 3600
    assert store.delete_idle() == 1
    with pytest.raises(ValueError, match="no room"):
        store.room(old.code)
    assert len(store.judgements(busy.code)) == 1
    clock.now += 25 * 3600
    store.create_room("Next day")  # ordinary use sweeps idle rooms too
    with pytest.raises(ValueError, match="no room"):
        store.room(busy.code)


def test_wrong_join_codes_are_rate_limited_per_client(store, clock):
    room = store.create_room("Class")
    for _ in range(store_module.WRONG_CODES_ALLOWED):
        with pytest.raises(ValueError, match="no room with this code"):
            store.join("ABCDEFGH", client="browser-1")
    with pytest.raises(ValueError, match="Too many wrong join codes"):
        store.join(room.code, client="browser-1")  # even the right code must wait
    assert store.join(room.code, client="browser-2")  # another browser is not affected
    clock.now += store_module.WRONG_CODE_WINDOW_S + 1
    assert store.join(room.code, client="browser-1")


def test_thirty_students_sending_twenty_judgements_each_with_resends_store_600(store):
    room = store.create_room("Class")
    ids = [store.join(room.code, f"S{i}") for i in range(30)]

    def student(i: int) -> int:
        stored = 0
        for k in range(20):
            judgement = f"s{i}-j{k}"
            stored += store.add_judgement(room.code, ids[i], f"pair:{k}", "AB"[k % 2], judgement)
            if k % 3 == 0:  # a double click
                stored += store.add_judgement(room.code, ids[i], f"pair:{k}", "A", judgement)
        # a reconnect sends the last five again
        for k in range(15, 20):
            stored += store.add_judgement(room.code, ids[i], f"pair:{k}", "A", f"s{i}-j{k}")
        return stored

    with ThreadPoolExecutor(max_workers=30) as pool:
        confirmed = sum(pool.map(student, range(30)))
    rows = store.judgements(room.code)
    assert confirmed == 600 and len(rows) == 600
    assert len({r["judgement_id"] for r in rows}) == 600
    assert {r["student"] for r in rows} == set(ids)
    # the first send of each judgement is the one kept
    assert all(r["choice"] == "AB"[int(r["judgement_id"].split("-j")[1]) % 2] for r in rows)


def test_a_busy_sqlite_file_makes_calls_wait_not_fail(tmp_path):
    path = tmp_path / "classroom.sqlite"
    store = Store(f"sqlite:///{path}")
    room = store.create_room("Class")
    student = store.join(room.code, "Ada")
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN EXCLUSIVE")
    threading.Timer(1.0, lambda: blocker.execute("COMMIT")).start()
    started = time.monotonic()
    assert store.add_judgement(room.code, student, "pair", "A", "j1") is True
    assert time.monotonic() - started >= 0.9  # it waited for the lock
    assert len(store.judgements(room.code)) == 1
    blocker.close()


def test_a_database_that_does_not_answer_gives_a_friendly_message(monkeypatch):
    monkeypatch.setattr(store_module, "RETRY_FOR_S", 0.3)
    with pytest.raises(StoreUnavailable, match="Try again in a moment"):
        Store("postgresql+psycopg://nobody:none@127.0.0.1:9/none?connect_timeout=1")


def test_a_new_database_is_at_the_current_schema_and_old_ones_are_upgraded(url, monkeypatch):
    assert Store(url).version() == store_module.SCHEMA_VERSION
    added = []

    def add_column(conn):
        added.append(conn.dialect.name)
        conn.exec_driver_sql("ALTER TABLE rooms ADD COLUMN note VARCHAR(20)")

    monkeypatch.setattr(store_module, "SCHEMA_VERSION", store_module.SCHEMA_VERSION + 1)
    monkeypatch.setitem(store_module.MIGRATIONS, store_module.SCHEMA_VERSION - 1, add_column)
    upgraded = Store(url)
    assert upgraded.version() == store_module.SCHEMA_VERSION and len(added) == 1
    assert Store(url).version() == store_module.SCHEMA_VERSION and len(added) == 1  # once
    room = upgraded.create_room("After the upgrade")
    assert upgraded.room(room.code)["title"] == "After the upgrade"


def test_the_export_keeps_spreadsheet_formulas_out(store):
    room = store.create_room("Class")
    student = store.join(room.code, "=HYPERLINK(1)")
    store.add_judgement(room.code, student, "+pair", "@A", "-j1")
    row = list(csv.reader(io.StringIO(store.export_csv(room.code, room.teacher_key))))[1]
    assert row[1:5] == ["'=HYPERLINK(1)", "'+pair", "'@A", "'-j1"]
