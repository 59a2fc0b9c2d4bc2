"""Opening the page in Chromium: the default run's landscape comes in the page's first batch of
callbacks (one answer carries the contour; the view request of the page's run adopts it and
sends only the 3-D view), the served plotly.js registers every trace type the app draws, and a
link's first landscape is its own run's, never the default one."""
from __future__ import annotations

import pytest

from app import static
from conftest import BENIGN_CONSOLE, NOT_LOCAL, VIEWPORT

pytestmark = pytest.mark.browser

# Before any page script: what each callback answer wrote, and the first contour the page showed.
RECORDER_JS = """(() => {
  const m = window.__seen = {answers: [], firstZ: null};
  const realFetch = window.fetch.bind(window);
  window.fetch = function (url, opts) {
    const p = realFetch(url, opts);
    if (String(url).indexOf('_dash-update-component') < 0) { return p; }
    return p.then(r => { r.clone().json().then(j => m.answers.push(Object.keys(j.response || {})), () => {}); return r; });
  };
  function frame() {
    const el = document.getElementById('graph-contour');
    const gd = el && el.querySelector('.js-plotly-plot');
    const t = gd && gd.data && gd.data[0];
    if (m.firstZ === null && t && t.type === 'contour' && gd.querySelector('.contourlayer path')) {
      m.firstZ = [t.z[0][0], t.z[7][5], t.z.length];
    }
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
})();"""

STATE_JS = """() => {
  const gd = id => { const el = document.getElementById(id); return el && el.querySelector('.js-plotly-plot'); };
  const c = gd('graph-contour'), s = gd('graph-surface');
  const cz = c && c.data && c.data[0] && c.data[0].z, sz = s && s.data && s.data[0] && s.data[0].z;
  return {seen: window.__seen, status: document.getElementById('text-status').innerText,
          contourZ: cz ? [cz[0][0], cz[7][5], cz.length] : null,
          surface: s && s.data && s.data[0] ? [s.data[0].type, sz ? sz.length : 0] : null,
          traces: window.Plotly ? Object.keys(window.Plotly.PlotSchema.get().traces).sort() : null};
}"""


def _open(chromium, url):
    context = chromium.new_context(viewport=VIEWPORT, service_workers="block")
    context.route(NOT_LOCAL, lambda route: route.abort("blockedbyclient"))
    context.add_init_script(RECORDER_JS)
    page = context.new_page()
    problems = []
    page.on("console", lambda m: m.type == "error" and not any(s in m.text for s in BENIGN_CONSOLE)
            and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.set_default_timeout(30_000)
    page.goto(url)
    return context, page, problems


def _settled(page):
    """The page's state once the 3-D view is drawn and every callback has answered."""
    page.wait_for_function("""() => { const el = document.getElementById('graph-surface');
        const gd = el && el.querySelector('.js-plotly-plot'); const t = gd && gd.data && gd.data[0];
        return t && t.type === 'surface' && t.z && t.z.length > 2; }""")
    page.wait_for_function("() => document.getElementById('text-status').innerText.includes('Step 0')")
    page.wait_for_timeout(1000)
    return page.evaluate(STATE_JS)


def test_the_page_opens_with_the_landscape_from_its_layout(chromium, lossviz_url):
    context, page, problems = _open(chromium, lossviz_url)
    try:
        s = _settled(page)
    finally:
        context.close()
    assert s["seen"]["firstZ"] == s["contourZ"]  # the first contour shown is the run's own
    answers = s["seen"]["answers"]
    assert sum("graph-contour" in outs for outs in answers) == 1, answers  # the first figures, once
    assert not any("graph-contour" in outs for outs in answers if "graph-surface" in outs), answers
    assert s["surface"][0] == "surface" and s["surface"][1] > 2
    assert s["traces"] == sorted(static.TRACE_TYPES)  # the bundle, with every type the app draws
    assert not problems, problems


def test_a_link_shows_its_own_landscape_first(chromium, lossviz_url):
    context, page, problems = _open(chromium, lossviz_url + "?dataset=circles&noise=0.1")
    try:
        page.wait_for_function("() => { const d = document.getElementById('dropdown-dataset'); "
                               "return d && d.innerText.includes('Circles'); }")
        link = _settled(page)
    finally:
        context.close()
    context, page, _ = _open(chromium, lossviz_url)
    try:
        plain = _settled(page)
    finally:
        context.close()
    assert link["seen"]["firstZ"] == link["contourZ"]  # the link's run from its first paint on
    assert link["contourZ"] != plain["contourZ"]
    assert any("graph-contour" in outs and "graph-surface" in outs for outs in link["seen"]["answers"])
    assert not problems, problems
