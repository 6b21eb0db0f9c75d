"""Dice to DPO: the entry point. It builds the navigation from the course manifest and the
shared sidebar, then runs the page the learner picked (see ui/shell.py)."""

# Imported first and in full: when several learners reach a freshly started server together,
# one session's charts could otherwise find pandas half-imported by another session's thread
# (plotly looks it up in sys.modules without importing it).
import pandas  # noqa: F401

from ui import process, shell

process.tune()  # once per process: the garbage collector set for many sessions at once
shell.run()
