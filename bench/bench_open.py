"""Page open: from navigation to a drawn loss landscape, in headless Chromium (software WebGL).

Serves the app the way a teacher does (``lossviz``: gunicorn, 2 processes) unless ``--url`` is
given, and opens the page ``--repeat`` times (default 5), each in a fresh Chromium (a cold
cache, as on a classroom's first visit). Times are from the navigation's start
(``performance.timeOrigin``) and printed per load, then as medians:

- ``contour``: the loss landscape's contour drawn with the current point (its SVG contour
  paths and the "now" marker are in the page, two animation frames later), target <= 1.5 s;
- ``3-D``: the 3-D surface drawn (a real surface, not a placeholder), target <= 1.5 s after
  the contour;
- ``interactive``: the Train button is in the page and every callback the page sent while
  opening has been answered (the last answer's arrival);
- what the page downloaded (bytes on the wire, with compression if the server uses it) and
  how many callback requests it sent.

Before each load it waits (60 s at most in all) while other work keeps more than 10 % of the
CPUs busy, and says how many loads started on a busy machine anyway (as the other benches do).
A ``requestAnimationFrame`` loop, installed before any page script runs, watches the DOM;
``window.fetch`` is wrapped to count callback requests in flight. ``--query '?dataset=circles'``
opens a link instead (its first landscape must be the link's run).

    python bench/bench_open.py [--repeat 5] [--url http://127.0.0.1:8050/] [--query '?...']
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CHROMIUM, CHROMIUM_ARGS, NOT_LOCAL, VIEWPORT, start_lossviz  # noqa: E402
from _machine import Settler  # noqa: E402

TARGET_CONTOUR_S = 1.5
TARGET_3D_AFTER_S = 1.5

RECORDER_JS = """(() => {
  const m = window.__open = {contour: null, surface: null, quiet: null, inflight: 0, calls: 0,
                             trainSeen: null, contourPath: null};
  const realFetch = window.fetch.bind(window);
  window.fetch = function (url, opts) {
    const cb = String(url).indexOf('_dash-update-component') >= 0;
    if (!cb) { return realFetch(url, opts); }
    m.inflight += 1; m.calls += 1;
    const done = () => { m.inflight -= 1; if (m.inflight === 0) { m.quiet = performance.now(); } };
    return realFetch(url, opts).then(r => { r.clone().text().then(done, done); return r; },
                                     e => { done(); throw e; });
  };
  m.long = [];
  try {
    new PerformanceObserver(l => l.getEntries().forEach(e => m.long.push([Math.round(e.startTime), Math.round(e.duration)])))
      .observe({type: 'longtask', buffered: true});
  } catch (e) {}
  function later(key, value) {  // stamped two frames after it is seen, so its paint is inside
    requestAnimationFrame(() => requestAnimationFrame(() => { m[key] = performance.now(); }));
    m[key] = -1; m[key + 'Seen'] = performance.now();
    if (value !== undefined) { m[key + 'Value'] = value; }
  }
  function frame() {
    if (m.trainSeen === null && document.getElementById('button-train')) { m.trainSeen = performance.now(); }
    if (m.contour === null) {
      const g = document.getElementById('graph-contour');
      const gd = g && (g.classList.contains('js-plotly-plot') ? g : g.querySelector('.js-plotly-plot'));
      if (gd && gd.querySelector('.contourlayer path') && gd.querySelector('.scatterlayer .point')
          && gd.data && gd.data[0] && gd.data[0].type === 'contour') {
        later('contour', {z0: gd.data[0].z && gd.data[0].z[0] && gd.data[0].z[0][0],
                          n: gd.data[0].z && gd.data[0].z.length});
      }
    }
    if (m.surface === null) {
      const g = document.getElementById('graph-surface');
      const gd = g && (g.classList.contains('js-plotly-plot') ? g : g.querySelector('.js-plotly-plot'));
      const t = gd && gd.data && gd.data[0];
      if (t && t.type === 'surface' && t.z && t.z.length > 2 && gd.querySelector('canvas')) { later('surface'); }
    }
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
})();"""


def one_load(pw, url: str, wait_s: float) -> dict:
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        context = browser.new_context(viewport=VIEWPORT)
        outside: list[str] = []
        context.route(NOT_LOCAL, lambda route: (outside.append(route.request.url), route.abort()))
        context.add_init_script(RECORDER_JS)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url, wait_until="commit")
        page.wait_for_function("() => window.__open && window.__open.contour > 0 && window.__open.surface > 0",
                               timeout=1000 * wait_s)
        page.wait_for_function("() => window.__open.inflight === 0", timeout=1000 * wait_s)
        page.wait_for_timeout(500)  # callbacks the last answers set off
        page.wait_for_function("() => window.__open.inflight === 0", timeout=1000 * wait_s)
        m = page.evaluate("window.__open")
        wire = page.evaluate("performance.getEntriesByType('resource').reduce((s, e) => s + e.transferSize, 0)"
                             " + performance.getEntriesByType('navigation')[0].transferSize")
        plotly = page.evaluate("performance.getEntriesByType('resource').filter(e => /plotly/.test(e.name))"
                               ".map(e => [e.name.split('/').pop().split('?')[0], e.transferSize, "
                               "Math.round(e.responseEnd)])")
        context.close()
    finally:
        browser.close()
    interactive = max(m["quiet"] or 0, m["trainSeen"] or 0)
    return {"contour_s": m["contour"] / 1000, "surface_s": m["surface"] / 1000,
            "after_s": (m["surface"] - m["contour"]) / 1000,
            "interactive_s": interactive / 1000, "calls": m["calls"], "wire_kb": wire / 1024,
            "plotly": plotly, "errors": errors, "outside": outside}


def lines(r: dict) -> list[str]:
    after = r["after_s"]
    ok_c, ok_s = r["contour_s"] <= TARGET_CONTOUR_S, after <= TARGET_3D_AFTER_S
    return [f"contour drawn {r['contour_s']:.2f} s (target <= {TARGET_CONTOUR_S} s) {'PASS' if ok_c else 'FAIL'}"
            f" · 3-D drawn {r['surface_s']:.2f} s, {after:+.2f} s after the contour (target <= "
            f"{TARGET_3D_AFTER_S} s) {'PASS' if ok_s else 'FAIL'} · interactive {r['interactive_s']:.2f} s"
            f" · {r['calls']:.0f} callback requests · {r['wire_kb']:.0f} KiB on the wire"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="an app already running (default: start `lossviz` on a free port)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--query", default="", help="open a link, e.g. '?dataset=circles'")
    p.add_argument("--wait", type=float, default=30.0, help="give up on a load after this many seconds")
    p.add_argument("--quiet-budget", type=float, default=60.0,
                   help="seconds to wait in all for a quiet machine before the loads (others' work above 10%% of the CPUs)")
    args = p.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        print(f"{CHROMIUM} is missing: install Debian's chromium (`make system`)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    proc = None
    with tempfile.TemporaryDirectory(prefix="lossviz-open-") as cache:
        proc, url = (None, args.url) if args.url else start_lossviz(cache)
        try:
            results, settler = [], Settler(budget_s=args.quiet_budget)
            with sync_playwright() as pw:
                one_load(pw, url + args.query, args.wait)  # not counted: the server's first page
                for i in range(args.repeat):
                    settler.settle()  # others' work on the two cores makes every time longer
                    r = one_load(pw, url + args.query, args.wait)
                    results.append(r)
                    print(f"load {i + 1}/{args.repeat}: " + lines(r)[0], flush=True)
                    if r["errors"] or r["outside"]:
                        print(f"  page problems: errors {r['errors'][:3]}, outside requests {r['outside'][:3]}")
            print(f"  plotly.js: {results[-1]['plotly']}")
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=15)
    med = {k: statistics.median(r[k] for r in results)
           for k in ("contour_s", "surface_s", "after_s", "interactive_s", "calls", "wire_kb")}
    print(f"median of {len(results)} loads: " + lines(med)[0])
    print(settler.summary().replace("timed calls", "loads"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
