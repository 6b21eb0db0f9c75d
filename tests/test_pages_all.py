"""Every registered page, through app.py: it renders, shows no exception and no deprecation."""

import logging
import re

import pytest
from conftest import open_page

from ui import course

STOPS = list(course.PAGES)
# How Streamlit words its notices (streamlit/deprecation_util.py)
DEPRECATION = re.compile(r"deprecat|will be removed|please replace", re.I)


@pytest.mark.parametrize("stop", STOPS, ids=[s.slug for s in STOPS])
def test_page_renders_cleanly(stop, caplog):
    caplog.set_level(logging.WARNING, logger="streamlit")
    at = open_page(stop.page)
    assert not at.exception
    assert at.title[0].value == ("Dice to DPO" if stop is course.HOME else stop.title)
    shown = [w.value for w in at.warning] + [e.value for e in at.error]
    assert not [m for m in shown if DEPRECATION.search(m)]
    assert not [r for r in caplog.records if DEPRECATION.search(r.getMessage())]
