"""Class mode's connection to its store, the join link and its QR code.

The store lives in a database so that every Streamlit process of a deployment serves the same
rooms: by default an SQLite file, ``data/classroom.sqlite`` beside app.py (created on first
use); or the SQLAlchemy URL in the environment variable DICE2DPO_DATABASE_URL or in
``.streamlit/secrets.toml`` as ``database_url = "postgresql+psycopg://user:password@host/db"``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import streamlit as st

from classroom.store import Store

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILE = ROOT / "data" / "classroom.sqlite"
URL_VARIABLE = "DICE2DPO_DATABASE_URL"


def database_url() -> str:
    """Where class mode keeps its rooms (see the module's docstring)."""
    if os.environ.get(URL_VARIABLE):
        return os.environ[URL_VARIABLE]
    try:
        configured = st.secrets.get("database_url")
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        configured = None
    if configured:
        return str(configured)
    DEFAULT_FILE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_FILE}"


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    return Store(url)


def store() -> Store:
    """The process's connection to the rooms (one pool per process; the data is shared)."""
    return _store(database_url())


def join_link(code: str) -> str:
    """The address students open to join room ``code``."""
    base = (st.context.url or "").split("?")[0]
    return f"{base}?room={code}"


@st.cache_data(max_entries=64, show_spinner=False)
def qr_png(text: str) -> bytes:
    """A QR code of ``text`` as a PNG, drawn here (nothing is fetched from elsewhere)."""
    import segno

    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=10, border=3)
    return out.getvalue()
