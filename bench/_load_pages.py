"""The load bench's real pages: headless Chromium (at nice 19) on the app, a script that presses
Train the moment its button shows and records the status and the curve's length every 25 ms,
and what each page's record says (lost press, curve updates a second, time to finished)."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
import threading
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CHROMIUM, CHROMIUM_ARGS, NOT_LOCAL, VIEWPORT, now, pct  # noqa: E402


LOST_AFTER_S = 10.0  # a press is lost if the status still says "ready" this long after it


def lost_press(pressed: float | None, statuses: list, finished_after: float | None) -> bool:
    """Lost: never pressed, the status still said "ready" LOST_AFTER_S after the press, or the
    run never said "finished"."""
    return pressed is None or finished_after is None or said_ready(pressed, statuses)


def said_ready(pressed: float | None, statuses: list) -> bool:
    """The status shown LOST_AFTER_S after the press (or never pressed) still says "ready"."""
    if pressed is None:
        return True
    shown = [text for t, text in statuses if t <= pressed + LOST_AFTER_S]
    return bool(shown) and shown[-1].strip().lower().startswith("ready")


PAGE_JS = """(() => {
  const m = window.__lv = {press: null, statuses: [], grows: [], len: null, ticks: [], long: []};
  const send = window.fetch.bind(window);  // the training ticks' requests, sent to answered
  window.fetch = function (url, opts) {
    const body = opts && opts.body;
    if (typeof body !== 'string' || body.indexOf('"output":"store-stream.data"') < 0) { return send(url, opts); }
    const tick = [performance.now(), null];
    m.ticks.push(tick);
    const done = () => { tick[1] = performance.now(); };
    const answer = send(url, opts);
    answer.then(done, done);
    return answer;
  };
  try {  // the main thread's long tasks (drawing, mostly): a busy page applies answers late
    new PerformanceObserver(l => l.getEntries().forEach(e => m.long.push([e.startTime, e.duration])))
      .observe({type: 'longtask', buffered: true});
  } catch (e) {}
  function look() {
    const t = performance.now();
    if (m.press === null) {
      const b = document.getElementById('button-train');
      if (b && b.offsetParent !== null) { m.press = t; b.click(); }
    }
    const s = document.getElementById('text-status');
    if (s) {
      const text = s.textContent;
      if (!m.statuses.length || m.statuses[m.statuses.length - 1][1] !== text) { m.statuses.push([t, text]); }
    }
    const g = document.getElementById('graph-curves');
    const gd = g && (g.classList.contains('js-plotly-plot') ? g : g.querySelector('.js-plotly-plot'));
    const tr = gd && gd.data && gd.data[0];
    if (tr && tr.x) {
      const n = tr.x.length;
      if (m.len !== null && n > m.len) { m.grows.push([t, n]); }
      m.len = n;
    }
  }
  const watch = new MutationObserver(() => { if (m.press === null) { look(); } else { watch.disconnect(); } });
  document.addEventListener('DOMContentLoaded', () => watch.observe(document.body, {childList: true, subtree: true}));
  setInterval(look, 25);
})();"""


class RealPages(threading.Thread):
    """N headless Chromium pages (one browser, a context each: their own sessions), at nice 19."""

    def __init__(self, url: str, n: int, timeout_s: float) -> None:
        super().__init__(daemon=True, name="bench-pages")
        self.url, self.n, self.timeout_s = url, n, timeout_s
        self.ready = threading.Event()
        self.results: list[dict] = []
        self.bad: list[str] = []
        self.cpu_s = 0.0
        self.error = None

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 - reported, the simulated pages go on
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.ready.set()

    def _run(self) -> None:
        from playwright.sync_api import sync_playwright

        with tempfile.TemporaryDirectory(prefix="bench-load-chromium-") as home, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=nice_chromium(home), args=CHROMIUM_ARGS, headless=True,
                                         env=dict(os.environ, HOME=home))
            try:
                pages = []
                for i in range(self.n):
                    ctx = browser.new_context(viewport=VIEWPORT)
                    ctx.route(NOT_LOCAL, lambda route: (self.bad.append(f"outside request {route.request.url}"),
                                                        route.abort()))
                    ctx.add_init_script(PAGE_JS)
                    page = ctx.new_page()
                    page.on("response", lambda r: r.status >= 500 and self.bad.append(
                        f"{r.url[-60:]} answered {r.status}"))
                    page.on("pageerror", lambda e: self.bad.append(f"page error: {e}"))
                    page.goto(self.url, wait_until="commit")
                    pages.append(page)
                self.ready.set()
                deadline = now() + self.timeout_s
                while now() < deadline:
                    pages[0].wait_for_timeout(500)
                    states = [p.evaluate("() => window.__lv ? window.__lv.statuses.slice(-1).map(s => s[1]) : []")
                              for p in pages]
                    if all(s and "finished" in s[0] for s in states):
                        break
                logs = [p.evaluate("() => window.__lv") for p in pages]
                self.cpu_s = chromium_cpu()
            finally:
                browser.close()
        for log in logs:
            self.results.append(page_result(log))


def nice_chromium(folder: str) -> str:
    """A wrapper that runs Chromium at nice 19 (the server keeps the CPU a class's laptops would not take).

    Measured, this holds less than it says: Playwright starts the browser in a session of its
    own, and with the kernel's autogroup scheduling (``/proc/sys/kernel/sched_autogroup_enabled``)
    each session is a group with a fair share of the CPUs whatever its processes' nice values
    (Chromium, as root, also raises its browser and GPU processes to nice -8). So the three
    pages take about one core of two, like three slow laptops at a third of a core each, and
    the server is slowed by them (runs finish in 8-15 s instead of 7). Setting the group's nice
    too (``/proc/self/autogroup``) starves the pages instead: they then press Train 6-13 s after
    opening, when the class's runs are nearly over, which measures nothing of a page under load."""
    path = os.path.join(folder, "chromium-nice")
    with open(path, "w") as f:
        f.write(f'#!/bin/sh\nexec nice -n 19 {CHROMIUM} "$@"\n')
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


def chromium_cpu() -> float:
    total = 0.0
    for proc in psutil.Process().children(recursive=True):
        try:
            if "chrom" in proc.name():
                t = proc.cpu_times()
                total += t.user + t.system
        except psutil.Error:
            pass
    return total


def page_result(log: dict | None) -> dict:
    log = log or {}
    press = log.get("press")
    statuses = [(t / 1000, s) for t, s in log.get("statuses", [])]
    p = press / 1000 if press is not None else None
    fin = next((t - p for t, s in statuses if p is not None and t >= p and "finished" in s), None)
    grows = [t / 1000 for t, _ in log.get("grows", [])]
    rate = None
    if p is not None and fin:
        rate = sum(1 for g in grows if p <= g <= p + fin) / fin
    end = p + fin if p is not None and fin else float("inf")
    ticks = [b - a for a, b in log.get("ticks", []) if b is not None and p is not None and p <= a / 1000 <= end]
    busy = sum(d for t, d in log.get("long", []) if p is not None and p <= t / 1000 <= end) / 1000
    started = next((t - p for t, s in statuses if p is not None and t >= p and not s.lower().startswith("ready")), None)
    return {"press_s": p, "finish_s": fin, "curve_updates_per_s": rate, "updates": len(grows),
            "lost": lost_press(p, statuses, fin), "still_ready": said_ready(p, statuses),
            "last_status": statuses[-1][1][:100] if statuses else "",
            "started_s": started, "ticks": len(ticks), "tick_p50_ms": pct(ticks, 50), "busy_s": busy}


# -- the server's processes --------------------------------------------------------------------


def page_line(pr: dict) -> str:
    def num(v, digits):
        return "-" if v is None or v != v else f"{v:.{digits}f}"

    return (f"pressed {num(pr['press_s'], 2)} s after navigation, finished {num(pr['finish_s'], 1)} s after · "
            f"{pr['updates']} curve growths ({num(pr['curve_updates_per_s'], 2)}/s) · first status after the "
            f"press {num(pr['started_s'], 1)} s · {pr['ticks']} training ticks, p50 {num(pr['tick_p50_ms'], 0)} ms "
            f"in the page · main thread busy (long tasks) {num(pr['busy_s'], 1)} s"
            f"{' · LOST' if pr['lost'] else ''} · last status: {pr['last_status']}")
