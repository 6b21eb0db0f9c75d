"""The sidebar's controls in headless Chromium: presenter mode and the link to this view."""

import re

import pytest
from browser import open_app, wait_idle

pytestmark = pytest.mark.browser


def test_presenter_mode_and_share_link(page, app_url):
    open_app(page, app_url)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Presenter mode").click()
    page.wait_for_url(re.compile(r"presenter=true"))
    sidebar.get_by_role("button", name="Link to this view").click()
    code = sidebar.locator('[data-testid="stCode"]')
    code.wait_for()
    assert code.inner_text().strip() == f"{app_url}?presenter=true"
    page.reload()
    wait_idle(page)
    assert sidebar.get_by_role("switch", name="Presenter mode").is_checked()


SIZES_JS = """() => {
  const size = s => { const e = document.querySelector(s);
                      return e ? parseFloat(getComputedStyle(e).fontSize) : null; };
  return {body: size('[data-testid="stMain"] [data-testid="stMarkdownContainer"] p'),
          metric: size('[data-testid="stMetricValue"]'),
          equation: size('[data-testid="stMain"] .katex'),
          caption: size('[data-testid="stCaptionContainer"]'),
          chart: (() => { const t = document.querySelector('.js-plotly-plot .xtick text');
                          return t ? parseFloat(t.style.fontSize) : null; })()};
}"""


def test_presenter_mode_enlarges_every_kind_of_text(page, app_url):
    step = f"{app_url}/kl-divergence?kl_step=6.+When+is+a+KL+significant%3F"
    open_app(page, step)
    normal = page.evaluate(SIZES_JS)
    open_app(page, step + "&presenter=true")
    projected = page.evaluate(SIZES_JS)
    for kind, size in normal.items():
        assert size and projected[kind] >= 1.25 * size - 0.01, (kind, size, projected[kind])
