"""Every registered page, through app.py: it renders, shows no exception and no deprecation."""

import logging

import pytest
from conftest import open_page

from ui import course

STOPS = [course.HOME, *course.LESSONS]


@pytest.mark.parametrize("stop", STOPS, ids=[s.slug for s in STOPS])
def test_page_renders_cleanly(stop, caplog):
    caplog.set_level(logging.WARNING, logger="streamlit")
    at = open_page(stop.page)
    assert not at.exception
    assert at.title[0].value == ("Dice to DPO" if stop is course.HOME else stop.title)
    shown = [w.value for w in at.warning] + [e.value for e in at.error]
    assert not [m for m in shown if "deprecat" in m.lower()]
    assert not [r for r in caplog.records if "deprecat" in r.getMessage().lower()]
