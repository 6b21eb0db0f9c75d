"""WCAG 2.1 A and AA on every step of every page, checked by axe-core (from the npm registry,
pinned in package.json; `npm ci` installs it, as .ci/run does) in headless Chromium, at
1440 px, and again in presenter mode. Any violation fails, listed by rule."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest
from browser import open_app, step_picker, wait_idle
from conftest import IN_CI, ROOT, start_app

from ui import course

pytestmark = pytest.mark.browser
AXE = Path(os.environ.get("AXE_CORE", ROOT / "node_modules" / "axe-core" / "axe.min.js"))
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Streamlit draws a chart only once it has been scrolled into view: scroll through the page
# (and back) so that axe sees every chart of the step.
SCROLL_JS = """async () => {
  const main = document.querySelector('[data-testid="stMain"]');
  for (let y = 0; y < main.scrollHeight; y += main.clientHeight / 2) {
    main.scrollTo({top: y}); await new Promise(r => requestAnimationFrame(r));
  }
  main.scrollTo({top: 0});
}"""

RUN_JS = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.length, targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
    summary: (v.nodes[0] && v.nodes[0].failureSummary || '').slice(0, 300)}));
}"""


# Streamlit fades some labels in (a CSS transition): axe must read the colours they end at.
STILL_CSS = "*, *::before, *::after { transition: none !important; animation: none !important; }"


def _axe(tab) -> list[dict]:
    tab.add_style_tag(content=STILL_CSS)
    tab.evaluate(SCROLL_JS)
    wait_idle(tab, 60_000, quiet_ms=300)
    if not tab.evaluate("() => typeof axe !== 'undefined'"):
        tab.add_script_tag(path=str(AXE))
    return tab.evaluate(RUN_JS, TAGS)


def walk_with_axe(tab, base: str, presenter: bool) -> dict[str, list[dict]]:
    """axe's violations on every step of every page, keyed "slug step N"."""
    found = {}
    query = "?presenter=true" if presenter else ""
    for stop in course.PAGES:
        open_app(tab, (base if stop is course.HOME else f"{base}/{stop.slug}") + query, 60_000)
        picker = step_picker(tab)
        labels = picker[1] if picker else [None]
        for number, label in enumerate(labels, start=1):
            if number > 1:
                tab.locator(f".st-key-{picker[0]} button").filter(
                    has_text=re.compile(rf"^{re.escape(label)}$")).click()
                tab.wait_for_url(re.compile(rf"_step={number}\."))
                wait_idle(tab, 60_000)
            found[f"{stop.slug} step {number}"] = _axe(tab)
    return found


def _report(found: dict[str, list[dict]]) -> str:
    by_rule = Counter()
    for violations in found.values():
        for v in violations:
            by_rule[f"{v['id']} ({v['impact']})"] += v["nodes"]
    steps = [where for where, violations in found.items() if violations]
    examples = [f"{where}: {v['id']} at {v['targets'][:2]}: {v['summary'][:160]}"
                for where, violations in found.items() for v in violations][:12]
    return (f"{len(steps)} of {len(found)} steps have violations; nodes by rule: "
            f"{dict(by_rule)}\n" + "\n".join(examples))


@pytest.fixture(scope="module")
def axe_ready():
    if not AXE.exists():
        if IN_CI:
            pytest.fail(f"no axe-core at {AXE}: CI must run the accessibility test "
                        "(.ci/run runs npm ci)")
        pytest.skip("axe-core is not installed (run `npm ci` in the repository)")
    return AXE


@pytest.mark.parametrize("presenter", [
    pytest.param(False, id="1440px", marks=pytest.mark.xdist_group("axe")),
    pytest.param(True, id="presenter", marks=pytest.mark.xdist_group("axe-presenter")),
])
def test_every_step_meets_wcag_a_and_aa(axe_ready, browser, tmp_path, presenter):
    served = start_app(tmp_path)
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        found = walk_with_axe(context.new_page(), served.url, presenter)
    finally:
        context.close()
        served.stop()
    assert len(found) >= len(course.PAGES)
    assert not any(found.values()), _report(found)
