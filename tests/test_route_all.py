"""The course leads on: every lesson's last step links to the next lesson on the route, and
its first step back to the one before."""

import pytest
from conftest import open_page
from test_links_all import STEPPED, STEPS

from ui import course


@pytest.mark.parametrize("stop", STEPPED, ids=[s.slug for s in STEPPED])
def test_the_first_and_last_steps_lead_along_the_route(stop):
    before, after = course.neighbours(stop.slug)
    key, first = STEPS[stop.slug][0]
    _, last = STEPS[stop.slug][-1]
    links = {}
    for label in (first, last):
        at = open_page(stop.page, {key: label})
        assert not at.exception
        links[label] = [(link.proto.label, link.proto.page) for link in at.get("page_link")]
    if before is not None:
        assert (f"Previous lesson: {before.title}", before.slug) in links[first]
    if after is not None:
        assert (f"Next lesson: {after.title}", after.slug) in links[last]
    assert not any(label.startswith("Next lesson") for label, _ in links[first]) or \
        len(STEPS[stop.slug]) == 1


def test_the_route_runs_through_every_lesson_in_order():
    slugs = [lesson.slug for lesson in course.LESSONS]
    assert course.neighbours(slugs[0]) == (None, course.LESSONS[1])
    assert course.neighbours(slugs[-1]) == (course.LESSONS[-2], None)
    for i in range(1, len(slugs) - 1):
        assert course.neighbours(slugs[i]) == (course.LESSONS[i - 1], course.LESSONS[i + 1])
    assert course.neighbours("home") == (None, None)
