"""The course's frame (navigation, sidebar, settings) with one more page: the bare slider and
chart held the way a lesson holds them. Timing it against the bare page shows what the frame
and the URL-bound, fragment-wrapped slider cost before any lesson content is added."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pandas  # noqa: E402, F401  (as in app.py)
import streamlit as st  # noqa: E402

from ui import shell  # noqa: E402

shell.run({"Benchmark": [st.Page(HERE / "bare_in_shell.py", title="Bare page in the frame",
                                 url_path="bare-in-shell")]})
