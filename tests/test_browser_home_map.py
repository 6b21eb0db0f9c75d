"""The home page's route map on a phone, a small laptop, a desktop and a projector: every
station's label and every part heading is whole, inside the chart, and clear of the others,
and nothing (no legend) covers the route."""

import pytest
from browser import open_app

pytestmark = pytest.mark.browser

# Boxes of the map's texts and stations, as drawn in the browser.
GEOMETRY_JS = """() => {
  const charts = [...document.querySelectorAll('.js-plotly-plot')];
  const map = charts.find(c => (c.layout?.title?.text || '').includes('route'));
  if (!map) return null;
  const box = e => { const r = e.getBoundingClientRect();
                     return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  return {
    chart: box(map),
    labels: [...map.querySelectorAll('g.annotation')].map(
      g => ({text: g.textContent, ...box(g.querySelector('.annotation-text'))})),
    stations: [...map.querySelectorAll('.scatterlayer .points path')].map(box),
    title: box(map.querySelector('.gtitle')),
    legend: map.querySelector('.legend') ? box(map.querySelector('.legend')) : null,
  };
}"""


def _overlap(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and \
        a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.mark.parametrize(("width", "presenter"), [(390, False), (1024, False), (1440, False),
                                                   (1440, True)],
                         ids=["phone", "laptop", "desktop", "projector"])
def test_route_map_labels_are_whole_and_apart(browser, app_url, width, presenter):
    context = browser.new_context(viewport={"width": width, "height": 900})
    tab = context.new_page()
    try:
        open_app(tab, app_url + ("?presenter=true" if presenter else ""))
        tab.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
        shape = tab.evaluate(GEOMETRY_JS)
    finally:
        context.close()
    assert shape is not None
    chart, labels, stations = shape["chart"], shape["labels"], shape["stations"]
    assert len(labels) >= len(stations) == 9  # a label per station (and the part headings)
    for label in labels:
        assert label["left"] >= chart["left"] - 1 and label["right"] <= chart["right"] + 1, \
            label  # not cut at either side
        assert label["top"] >= chart["top"] - 1 and label["bottom"] <= chart["bottom"] + 1
        assert not _overlap(label, shape["title"]), label["text"]
        for station in stations:
            assert not _overlap(label, station), label["text"]
    legend = shape["legend"]  # none: the part headings name the colours
    assert legend is None or not any(_overlap(legend, s) for s in stations + labels), legend
    for i, first in enumerate(labels):
        for second in labels[i + 1:]:
            assert not _overlap(first, second), (first["text"], second["text"])
