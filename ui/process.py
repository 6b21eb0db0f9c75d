"""The server process's garbage collector, set for a class working at once.

Python's cyclic collector scans every object that has survived a while. A Streamlit server
holds hundreds of thousands of them (numpy, scipy, plotly, pandas and Streamlit itself, loaded
once), and with 30 learners at work it ran a full collection every few seconds, each one a
pause of 100-200 ms in which no session's run could go on. ``tune`` is called by ``app.py`` and
acts once per process:

- ``gc.freeze()`` moves everything loaded so far out of the collector's sight: modules,
  classes and functions live as long as the process, so scanning them finds nothing;
- the youngest generation is collected after 50 000 new objects instead of 700, so the
  objects a run makes and drops are mostly freed by reference counting before any scan, and
  few survive into the older generations.

Memory stays bounded: reference counting frees most objects at once, and the collector still
runs, only less often.
"""

from __future__ import annotations

import gc
import threading

YOUNG_OBJECTS = 50_000  # new objects between two collections of the youngest generation
OLDER_EVERY = (20, 10)  # collections of a generation between two of the next one (Python: 10, 10)

_tuned = threading.Event()
_lock = threading.Lock()


def tune() -> None:
    """Freeze what is loaded and set the collector's thresholds, once per process."""
    if _tuned.is_set():
        return
    with _lock:
        if _tuned.is_set():
            return
        gc.freeze()
        gc.set_threshold(YOUNG_OBJECTS, *OLDER_EVERY)
        _tuned.set()
