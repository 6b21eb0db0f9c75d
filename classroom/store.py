"""Class mode's store: rooms, the students who joined them, and their judgements.

A plain Python API over SQLAlchemy, with no Streamlit inside, so several Streamlit processes
(and the tests) share one class through one database: an SQLite file by default, or any
SQLAlchemy URL (PostgreSQL for a deployment with several processes)::

    store = Store("sqlite:///data/classroom.sqlite")
    room = store.create_room("Period 3")         # room.code "K7QX2M9P", room.teacher_key
    me = store.join(room.code, "Ada")             # a student id
    store.add_judgement(room.code, me, "pair:3:17", "17", "b2c1…")   # True: stored
    store.add_judgement(room.code, me, "pair:3:17", "17", "b2c1…")   # False: a resend
    store.judgements(room.code)                   # [{"student": me, "item": ..., ...}]

Every call is one transaction. Bad input, an unknown or closed room and a wrong teacher key
raise ValueError with a message a learner or a teacher can act on; a database that does not
answer (after retries) raises StoreUnavailable, and nothing already confirmed is lost. Rooms
idle for 24 hours are deleted with all their data.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
import time
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

# Join codes use letters and digits that cannot be mistaken for one another when read off a
# projector or typed on a phone: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
MAX_TITLE = 80
MAX_NICKNAME = 24
MAX_FIELD = 200  # an item or a choice
MAX_JUDGEMENT_ID = 64
IDLE_SECONDS = 24 * 3600  # a room nobody used for this long is deleted with its data
CLEANUP_EVERY_S = 600
WRONG_CODES_ALLOWED = 10  # wrong join codes from one client within WRONG_CODE_WINDOW_S
WRONG_CODE_WINDOW_S = 600
RETRY_FOR_S = 5.0  # how long a call keeps retrying a database that does not answer
SCHEMA_VERSION = 1

metadata = MetaData()
rooms = Table(
    "rooms", metadata,
    Column("code", String(16), primary_key=True),
    Column("title", String(MAX_TITLE * 4), nullable=False),
    Column("teacher_key_hash", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("active_at", Float, nullable=False, index=True),
    Column("closed", Boolean, nullable=False, default=False),
    Column("activity", String(16), nullable=False, default="replies"),
)
students = Table(
    "students", metadata,
    Column("number", Integer, primary_key=True, autoincrement=True),  # the order they joined
    Column("id", String(32), nullable=False, unique=True),
    Column("room", String(16), ForeignKey("rooms.code"), nullable=False, index=True),
    Column("nickname", String(MAX_NICKNAME * 4), nullable=False),
    Column("joined_at", Float, nullable=False),
)
judgements_table = Table(
    "judgements", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("room", String(16), ForeignKey("rooms.code"), nullable=False, index=True),
    Column("student", String(32), ForeignKey("students.id"), nullable=False, index=True),
    Column("judgement_id", String(MAX_JUDGEMENT_ID), nullable=False),
    Column("item", String(MAX_FIELD * 4), nullable=False),
    Column("choice", String(MAX_FIELD * 4), nullable=False),
    Column("at", Float, nullable=False),
    UniqueConstraint("room", "judgement_id", name="one_judgement_per_id"),
)
wrong_codes = Table(
    "wrong_codes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client", String(64), nullable=False, index=True),
    Column("at", Float, nullable=False, index=True),
)
schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True),
)

# Upgrades of an existing database: MIGRATIONS[v] takes a schema from version v to v + 1,
# inside the transaction that records the new version. A new database is created at
# SCHEMA_VERSION directly.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}

T = TypeVar("T")


class StoreUnavailable(RuntimeError):
    """The database did not answer, even after retries."""


ACTIVITIES = ("replies", "items")  # what the class judges: the tiny LM's replies, or items


@dataclass(frozen=True)
class Room:
    """A new room: the code students join with, and the teacher's own secret key."""

    code: str
    teacher_key: str
    title: str
    activity: str = "replies"


def normalise_code(code: str) -> str:
    """A join code as typed (any case, spaces or dashes) in its stored form.

    Example: normalise_code(" k7qx-2m9p ") -> "K7QX2M9P"
    """
    if not isinstance(code, str):
        raise ValueError("A join code is text, like K7QX2M9P.")
    cleaned = "".join(code.split()).replace("-", "").upper()
    if len(cleaned) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in cleaned):
        raise ValueError(f"“{code[:20]}” is not a join code: a code has {CODE_LENGTH} letters "
                         "and digits, like K7QX2M9P.")
    return cleaned


def _plain(text: str, what: str, limit: int, allow_empty: bool = False) -> str:
    """``text`` as one line of plain, printable text of at most ``limit`` characters."""
    if not isinstance(text, str):
        raise ValueError(f"The {what} must be text.")
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in text):
        raise ValueError(f"The {what} can hold only letters, digits, spaces and punctuation.")
    if not text and not allow_empty:
        raise ValueError(f"The {what} is empty.")
    if len(text) > limit:
        raise ValueError(f"The {what} is longer than {limit} characters.")
    return text


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _transient(error: Exception) -> bool:
    """A database error worth retrying: busy, locked or unreachable, not a bad statement."""
    if isinstance(error, OperationalError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


class Store:
    """The rooms of class mode in the database at ``url`` (created and upgraded on first
    use)."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time):
        self.url, self.clock = url, clock
        self.engine = _engine(url)
        self._last_cleanup = 0.0
        self._retrying(self._upgrade)

    # Plumbing

    def _retrying(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one transaction; retry it while the database is busy or away."""
        deadline, pause = time.monotonic() + RETRY_FOR_S, 0.05
        while True:
            try:
                with self.engine.begin() as conn:
                    return work(conn)
            except (OperationalError, DBAPIError) as error:
                if not _transient(error) or time.monotonic() > deadline:
                    if _transient(error):
                        raise StoreUnavailable(
                            "The class database is not answering right now. Try again in a "
                            "moment: nothing that was already confirmed is lost.") from error
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    def _upgrade(self, conn: Connection) -> None:
        if not inspect(conn).has_table("schema_version"):
            metadata.create_all(conn)
            conn.execute(insert(schema_version).values(version=SCHEMA_VERSION))
            return
        version = conn.execute(select(func.max(schema_version.c.version))).scalar_one()
        while version < SCHEMA_VERSION:
            MIGRATIONS[version](conn)
            version += 1
            conn.execute(insert(schema_version).values(version=version))
        metadata.create_all(conn)  # tables added by this version, if any

    def version(self) -> int:
        return self._retrying(lambda conn: conn.execute(
            select(func.max(schema_version.c.version))).scalar_one())

    def _room(self, conn: Connection, code: str, open_only: bool = False):
        row = conn.execute(select(rooms).where(rooms.c.code == normalise_code(code))).first()
        if row is None:
            raise ValueError("There is no room with this code. Check it with your teacher "
                             "(rooms are deleted after 24 hours without use).")
        if open_only and row.closed:
            raise ValueError("This room is closed: the teacher is no longer collecting "
                             "judgements in it.")
        return row

    def _teacher(self, conn: Connection, code: str, teacher_key: str):
        row = self._room(conn, code)
        given = teacher_key if isinstance(teacher_key, str) else ""
        if not hmac.compare_digest(_key_hash(given), row.teacher_key_hash):
            raise ValueError("That is not this room's teacher key: only the teacher who "
                             "opened the room can do this.")
        return row

    def _touch(self, conn: Connection, code: str) -> None:
        conn.execute(update(rooms).where(rooms.c.code == code).values(active_at=self.clock()))

    def _maybe_clean(self) -> None:
        if self.clock() - self._last_cleanup > CLEANUP_EVERY_S:
            self.delete_idle()

    # Teachers

    def create_room(self, title: str, activity: str = "replies") -> Room:
        """A new, open room; its code is for students, its teacher key for the teacher only.
        ``activity``: what its students judge, one of ACTIVITIES."""
        title = _plain(title, "room's title", MAX_TITLE)
        if activity not in ACTIVITIES:
            raise ValueError(f"A room's activity is one of: {', '.join(ACTIVITIES)}.")
        self._maybe_clean()
        teacher_key = secrets.token_urlsafe(18)

        def create(conn: Connection) -> Room:
            for _ in range(20):
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                if conn.execute(select(rooms.c.code).where(rooms.c.code == code)).first():
                    continue
                now = self.clock()
                conn.execute(insert(rooms).values(
                    code=code, title=title, teacher_key_hash=_key_hash(teacher_key),
                    created_at=now, active_at=now, closed=False, activity=activity))
                return Room(code, teacher_key, title, activity)
            raise RuntimeError("no free join code found")  # 31^8 codes: never in practice

        return self._retrying(create)

    def check_teacher(self, code: str, teacher_key: str) -> None:
        """ValueError unless ``teacher_key`` is this room's teacher key."""
        self._retrying(lambda conn: self._teacher(conn, code, teacher_key))

    def close_room(self, code: str, teacher_key: str) -> None:
        """Stop collecting judgements; what was collected stays until the room is deleted."""
        def close(conn: Connection) -> None:
            row = self._teacher(conn, code, teacher_key)
            conn.execute(update(rooms).where(rooms.c.code == row.code).values(
                closed=True, active_at=self.clock()))

        self._retrying(close)

    def delete_room(self, code: str, teacher_key: str) -> None:
        """Delete the room with its students and judgements."""
        def remove(conn: Connection) -> None:
            row = self._teacher(conn, code, teacher_key)
            _delete_rooms(conn, [row.code])

        self._retrying(remove)

    def export_csv(self, code: str, teacher_key: str) -> str:
        """The room's judgements as CSV (one row each), for the teacher."""
        self.check_teacher(code, teacher_key)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["student", "nickname", "item", "choice", "judgement_id", "at_utc"])
        for row in self.judgements(code):
            at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row["at"]))
            # A leading =, +, - or @ would be a formula in a spreadsheet: quote it as text.
            cells = [row["student"], row["nickname"], row["item"], row["choice"],
                     row["judgement_id"], at]
            writer.writerow(["'" + c if c[:1] in ("=", "+", "-", "@") else c for c in cells])
        return out.getvalue()

    def delete_idle(self, idle_seconds: float = IDLE_SECONDS) -> int:
        """Delete every room nobody used for ``idle_seconds``, with its data; how many."""
        self._last_cleanup = self.clock()

        def clean(conn: Connection) -> int:
            old = [r.code for r in conn.execute(select(rooms.c.code).where(
                rooms.c.active_at < self.clock() - idle_seconds))]
            _delete_rooms(conn, old)
            conn.execute(delete(wrong_codes).where(
                wrong_codes.c.at < self.clock() - WRONG_CODE_WINDOW_S))
            return len(old)

        return self._retrying(clean)

    # Students

    def join(self, code: str, nickname: str = "", client: str = "") -> str:
        """A new student of the room; returns the student's id. ``client`` (any stable text
        for the browser, e.g. a hash of its session) counts wrong codes: after
        WRONG_CODES_ALLOWED wrong ones in WRONG_CODE_WINDOW_S, it must wait."""
        nickname = _plain(nickname, "nickname", MAX_NICKNAME, allow_empty=True)
        client = str(client)[:64]
        self._maybe_clean()

        def enter(conn: Connection) -> str | None:
            now = self.clock()
            if client:
                recent = conn.execute(select(func.count()).select_from(wrong_codes).where(
                    wrong_codes.c.client == client,
                    wrong_codes.c.at > now - WRONG_CODE_WINDOW_S)).scalar_one()
                if recent >= WRONG_CODES_ALLOWED:
                    raise ValueError("Too many wrong join codes were tried from here. Wait a "
                                     "few minutes, and check the code with your teacher.")
            try:
                row = self._room(conn, code, open_only=True)
            except ValueError:
                if client:
                    conn.execute(insert(wrong_codes).values(client=client, at=now))
                return None  # the wrong attempt is recorded; the error follows
            student = uuid.uuid4().hex
            conn.execute(insert(students).values(id=student, room=row.code,
                                                 nickname=nickname, joined_at=now))
            self._touch(conn, row.code)
            return student

        student = self._retrying(enter)
        if student is None:
            self._retrying(lambda conn: self._room(conn, code, open_only=True))  # the reason
        return student

    def add_judgement(self, code: str, student_id: str, item: str, choice: str,
                      judgement_id: str) -> bool:
        """Store one judgement; False if ``judgement_id`` was stored before (a double click or
        a reconnect that sends it again), True if it is new."""
        item = _plain(item, "item", MAX_FIELD)
        choice = _plain(choice, "choice", MAX_FIELD)
        judgement_id = _plain(judgement_id, "judgement id", MAX_JUDGEMENT_ID)

        def add(conn: Connection) -> bool:
            row = self._room(conn, code, open_only=True)
            member = conn.execute(select(students.c.id).where(
                students.c.id == str(student_id), students.c.room == row.code)).first()
            if member is None:
                raise ValueError("You are not in this room (yet): join it with its code.")
            stored = _insert_once(conn, dict(
                room=row.code, student=str(student_id), judgement_id=judgement_id,
                item=item, choice=choice, at=self.clock()))
            if stored:
                self._touch(conn, row.code)
            return stored

        return self._retrying(add)

    # Reading

    def room(self, code: str) -> dict:
        """What anyone with the code may know: title, activity, open or closed, when."""
        row = self._retrying(lambda conn: self._room(conn, code))
        return {"code": row.code, "title": row.title, "closed": bool(row.closed),
                "activity": row.activity, "created_at": row.created_at,
                "active_at": row.active_at}

    def judgements(self, code: str) -> list[dict]:
        """Every judgement of the room, oldest first: student, nickname, item, choice,
        judgement_id and at (seconds since 1970, UTC)."""
        def read(conn: Connection) -> list[dict]:
            room = self._room(conn, code)
            query = select(judgements_table, students.c.nickname).join(
                students, students.c.id == judgements_table.c.student).where(
                judgements_table.c.room == room.code).order_by(judgements_table.c.id)
            return [{"student": r.student, "nickname": r.nickname, "item": r.item,
                     "choice": r.choice, "judgement_id": r.judgement_id, "at": r.at}
                    for r in conn.execute(query)]

        return self._retrying(read)

    def students(self, code: str) -> list[dict]:
        """The room's students in the order they joined: id, nickname, joined_at."""
        def read(conn: Connection) -> list[dict]:
            room = self._room(conn, code)
            return [{"id": r.id, "nickname": r.nickname, "joined_at": r.joined_at}
                    for r in conn.execute(select(students).where(
                        students.c.room == room.code).order_by(students.c.number))]

        return self._retrying(read)


def _insert_once(conn: Connection, values: dict) -> bool:
    """Insert a judgement unless its (room, judgement_id) is stored; True if it was new.
    One statement, so two processes sending the same judgement at once store it once."""
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        module = sqlite_dialect if dialect == "sqlite" else postgresql_dialect
        statement = module.insert(judgements_table).values(**values).on_conflict_do_nothing(
            index_elements=["room", "judgement_id"]).returning(judgements_table.c.id)
        return conn.execute(statement).first() is not None
    try:
        with conn.begin_nested():
            conn.execute(insert(judgements_table).values(**values))
    except IntegrityError:
        return False
    return True


def _delete_rooms(conn: Connection, codes: list[str]) -> None:
    if not codes:
        return
    conn.execute(delete(judgements_table).where(judgements_table.c.room.in_(codes)))
    conn.execute(delete(students).where(students.c.room.in_(codes)))
    conn.execute(delete(rooms).where(rooms.c.code.in_(codes)))


def _engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get write-ahead logging and a busy timeout, so
    readers never block the writer and concurrent writers wait their turn."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            # Transactions are begun by SQLAlchemy (below), not by the driver.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:
            # Take the write lock at the start: a transaction that reads and then writes
            # never has to give up halfway because another writer came first.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
