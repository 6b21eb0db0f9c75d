"""Keyboard and motion for the explorables, and the keyboard's focus, on every page.

Plotly's in-chart slider and play buttons answer the mouse only. The script below gives every
chart that has such a slider a focusable control laid over its rail (role "slider", named by
the chart's title and the slider's label, its value read out as the slider shows it): the
arrow keys step through the frames, Page Up/Down jump a tenth of them, Home and End go to the
first and the last, and Space plays or pauses a replay. It moves the slider the way a pointer
does (a press on the rail where that frame sits), so the browser only switches between the
frames the server sent; it computes nothing. Every link, button and field shows where the
keyboard's focus is, and an equation too wide for its column (it scrolls sideways) can be
reached and scrolled from the keyboard. With the system's "reduce motion" setting the play
buttons are hidden and Space does nothing: the frames stay one key press apart. Fixed text:
nothing from a user or a link goes into it.
"""

import streamlit as st

ACCESS_HTML = """<style>
a:focus-visible, button:focus-visible, input:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid #005C91 !important; outline-offset: 2px;
}
.course-frame-key { position: absolute; pointer-events: none; border-radius: 4px; }
.course-frame-key:focus, .course-frame-key:focus-visible {
  outline: 3px solid #005C91; outline-offset: 2px;
}
/* a long link (the next lesson's title on a phone, a lesson in the sidebar) wraps, never cut */
[data-testid="stPageLink-NavLink"] > span, [data-testid="stPageLink-NavLink"] p {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
[data-testid="stPageLink-NavLink"] { height: auto !important; }
@media (prefers-reduced-motion: reduce) {
  .js-plotly-plot .updatemenu-container { display: none; }
}
</style>
<script>
(() => {
  if (window.__courseKeys) return;
  window.__courseKeys = new Map();  // chart -> its key element
  const INSET = 10;  // plotly's slider stepInset: the first and last step sit this far in
  const still = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  const slider = gd => gd._fullLayout && gd._fullLayout.sliders && gd._fullLayout.sliders[0];
  const describe = (gd, key) => {
    const s = slider(gd);
    if (!s) return;
    const step = s.steps[s.active] || {label: ''};
    const value = s.currentvalue || {};
    key.setAttribute('aria-valuemin', '0');
    key.setAttribute('aria-valuemax', String(s.steps.length - 1));
    key.setAttribute('aria-valuenow', String(s.active));
    key.setAttribute('aria-valuetext',
                     (value.prefix || '') + step.label + (value.suffix || ''));
  };
  const place = (gd, key) => {  // over the slider's rail, in the chart's own box
    const rail = gd.querySelector('.slider-rail-rect');
    if (!rail) return;
    const box = rail.getBoundingClientRect(), host = key.parentElement.getBoundingClientRect();
    Object.assign(key.style, {left: (box.left - host.left - 6) + 'px',
                              top: (box.top - host.top - 14) + 'px',
                              width: (box.width + 12) + 'px', height: (box.height + 28) + 'px'});
  };
  const press = (gd, target) => {
    const s = slider(gd);
    const rail = gd.querySelector('.slider-rail-rect');
    const touch = gd.querySelector('.slider-rail-touch-rect');
    if (!s || !rail || !touch) return;
    const k = Math.max(0, Math.min(s.steps.length - 1, target));
    const box = rail.getBoundingClientRect();
    const x = box.left + INSET + (box.width - 2 * INSET) * k / Math.max(s.steps.length - 1, 1);
    const at = {bubbles: true, cancelable: true, view: window, button: 0,
                clientX: x, clientY: box.top + box.height / 2};
    touch.dispatchEvent(new MouseEvent('mousedown', at));
    gd.dispatchEvent(new MouseEvent('mouseup', at));
  };
  const toggle = gd => {
    const buttons = gd.querySelectorAll('.updatemenu-button');
    if (buttons.length < 2 || still()) return;
    const which = gd.__coursePlaying ? 1 : 0;  // the first plays, the second pauses
    gd.__coursePlaying = !gd.__coursePlaying;
    buttons[which].dispatchEvent(new MouseEvent('click', {bubbles: true, view: window}));
  };
  const keys = (gd, event) => {
    const s = slider(gd);
    if (!s) return;
    const last = s.steps.length - 1, jump = Math.max(1, Math.round(last / 10));
    const moves = {ArrowRight: s.active + 1, ArrowUp: s.active + 1,
                   ArrowLeft: s.active - 1, ArrowDown: s.active - 1,
                   PageUp: s.active + jump, PageDown: s.active - jump, Home: 0, End: last};
    if (event.key in moves) {
      press(gd, moves[event.key]);
    } else if (event.key === ' ' || event.key === 'Enter') {
      toggle(gd);
    } else {
      return;
    }
    event.preventDefault();
  };
  const enhance = gd => {
    const host = gd.parentElement;
    if (window.__courseKeys.has(gd) || !slider(gd) || !gd.on || !host) return;
    const key = document.createElement('div');
    key.className = 'course-frame-key';
    key.tabIndex = 0;
    key.setAttribute('role', 'slider');
    const title = (gd._fullLayout.title && gd._fullLayout.title.text) || 'Chart';
    const s = slider(gd);
    const name = s.name || (s.currentvalue || {}).prefix || 'frame';
    key.setAttribute('aria-label', title.replace(/<[^>]*>/g, ' ').trim() + ': ' +
                     String(name).replace(/[=:]\\s*$/, '').trim());
    if (getComputedStyle(host).position === 'static') host.style.position = 'relative';
    host.appendChild(key);
    window.__courseKeys.set(gd, key);
    key.addEventListener('keydown', event => keys(gd, event));
    gd.on('plotly_sliderchange', () => setTimeout(() => describe(gd, key), 0));
    gd.on('plotly_animated', () => { gd.__coursePlaying = false; describe(gd, key); });
    gd.on('plotly_afterplot', () => place(gd, key));
    describe(gd, key);
    place(gd, key);
  };
  const scan = () => {
    for (const [gd, key] of window.__courseKeys) {  // charts that were drawn anew
      if (!gd.isConnected) { key.remove(); window.__courseKeys.delete(gd); }
    }
    document.querySelectorAll('.js-plotly-plot').forEach(enhance);
    // An equation wider than its column scrolls sideways: the keyboard must reach it too.
    document.querySelectorAll('.katex-display').forEach(math => {
      if (math.scrollWidth > math.clientWidth + 1 && !math.hasAttribute('tabindex')) {
        math.tabIndex = 0;
        math.setAttribute('role', 'region');
        math.setAttribute('aria-label', 'Equation (scrolls sideways)');
      }
    });
  };
  new MutationObserver(scan).observe(document.body, {childList: true, subtree: true});
  window.addEventListener('resize', () => window.__courseKeys.forEach((k, gd) => place(gd, k)));
  scan();
})();
</script>"""


def enable() -> None:
    """Give this page's explorables their keyboard (once per page; see the module)."""
    st.html(ACCESS_HTML, unsafe_allow_javascript=True)
