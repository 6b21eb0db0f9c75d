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


def test_progress_survives_a_reload_and_a_return_visit_until_forgotten(browser, app_url):
    context = browser.new_context()
    try:
        tab = context.new_page()
        open_app(tab, f"{app_url}/kl-divergence?kl_step=9.+Check+yourself")
        tab.locator('[data-testid="stMain"] [data-testid="stRadio"]').filter(
            has_text="Which is larger").get_by_text("KL(P‖Q)", exact=True).click()
        kept = tab.locator('[data-testid="stSidebar"]').get_by_text(
            "Self-checks answered right: 1 (kept in this browser)")
        kept.wait_for()
        tab.reload()
        wait_idle(tab)
        kept.wait_for()
        later = context.new_page()  # a return visit: a new session in the same browser
        open_app(later, app_url)
        later.locator('[data-testid="stSidebar"]').get_by_text(
            "Self-checks answered right: 1 (kept in this browser)").wait_for()
        table = later.locator('[data-testid="stDataFrame"]')
        assert table.count() == 1
        later.get_by_role("button", name="Forget my progress").click()
        later.locator('[data-testid="stSidebar"]').get_by_text(
            "Self-checks answered right: 0 (kept in this browser)").wait_for()
        later.reload()
        wait_idle(later)
        later.locator('[data-testid="stSidebar"]').get_by_text(
            "Self-checks answered right: 0 (kept in this browser)").wait_for()
        assert later.evaluate("() => window.localStorage.getItem('dice2dpo-progress')") \
            is not None  # the emptied copy, written again by the new session
    finally:
        context.close()


def test_a_number_outside_its_range_is_brought_back_with_a_note(page, app_url):
    open_app(page, f"{app_url}/kl-divergence?kl_source=Roll+a+new+one")
    field = page.locator('input[aria-label="Random seed"]').first
    field.click()
    field.fill("123456")
    field.press("Enter")
    note = page.locator('[data-testid="stAlertContentWarning"]').filter(
        has_text="123456 is above the largest allowed value, so 9999 is used")
    note.wait_for()
    page.wait_for_url(re.compile(r"kl_seed=9999"))
    wait_idle(page)
    assert field.input_value() == "9999"
    field.click()
    field.fill("12")
    field.press("Enter")
    page.wait_for_url(re.compile(r"kl_seed=12\b"))
    note.wait_for(state="detached")


CUT_LINKS_JS = """() => [...document.querySelectorAll('[data-testid="stPageLink-NavLink"]')]
  .filter(a => a.getClientRects().length)
  .filter(a => { const r = a.getBoundingClientRect();
                 const inner = a.querySelector('p') || a;
                 return inner.scrollWidth > inner.clientWidth + 1 || r.right > innerWidth + 1; })
  .map(a => a.innerText)"""


def test_long_links_wrap_on_a_phone_instead_of_being_cut(browser, app_url):
    tab = browser.new_page(viewport={"width": 390, "height": 900})
    try:
        open_app(tab, f"{app_url}/dpo-vs-rlhf")  # its first step links back to the DPO lesson
        link = tab.locator('[data-testid="stMain"] [data-testid="stPageLink"]').filter(
            has_text="Previous lesson: DPO: the loss, the derivation, the training")
        link.scroll_into_view_if_needed()
        assert link.count() == 1
        assert tab.evaluate(CUT_LINKS_JS) == []
    finally:
        tab.close()
