"""Browser latency of the live app, measured in real headless Chromium (software WebGL).

At the default settings (moons, 2-16-16-2 tanh, Adam, grid 41) with 2000 epochs so the run
lasts, this presses Train and records, inside the page, when each plot changes:

(a) the first contour drawn for a run with steps (its path has more than one point),
    target <= 1.5 s after Train;
(b) the first 3-D surface drawn for a run with steps, target <= 3 s;
(c) how often the loss curve grows (distinct point counts per second) over a window of
    training that includes 3-D redraws, target >= 4 per second, also in the worst second.

A ``requestAnimationFrame`` loop in the page compares the Plotly graph divs' data every frame
and stores timestamps in ``window.__marks``; a change counts as drawn two frames after it is
seen, so the (blocking) software-WebGL paint of the 3-D surface is inside the time. The clock
starts in a capture-phase listener on the Train button's click. Each repeat uses a fresh
Chromium; the app is served by ``python -m app.main`` unless ``--url`` is given. With
``--screenshot PATH`` it also saves a screenshot of the app mid-training (1366x768).

    python bench/bench_browser.py [--repeat 3] [--window 5] [--url http://127.0.0.1:8050/]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CHROMIUM, CHROMIUM_ARGS, NOT_LOCAL, VIEWPORT, start_app, verdict  # noqa: E402

TARGET_CONTOUR_S = 1.5
TARGET_SURFACE_S = 3.0
TARGET_CURVE_RATE = 4.0
TARGET_COMPARE_S = 2.0  # compare mode: both runs' first landscapes within 2 s of Train

RECORDER_JS = """(opts) => {
  const gd = id => document.getElementById(id).querySelector('.js-plotly-plot');
  const len = t => (t && t.x) ? t.x.length : 0;
  const m = window.__marks = {t0: null, curve: [], contour: [], surface: [], frames: 0};
  document.getElementById('button-train').addEventListener('click', () => {
    if (m.t0 === null) { m.t0 = performance.now(); }
  }, true);
  const pending = [];   // [frames left, list, entry]: stamped 'drawn' two frames after it is seen
  let last = {};
  function frame(now) {
    m.frames += 1;
    for (let i = pending.length - 1; i >= 0; i--) {
      if (--pending[i][0] <= 0) { pending[i][1].drawn = performance.now(); pending.splice(i, 1); }
    }
    const c = gd('graph-curves'), k = gd('graph-contour'), s = gd(opts.second);
    const seen = performance.now();
    // Compare mode: the curve has moved when every run's curve has (run i's loss is trace 4i).
    const cn = Math.min(...opts.curveTraces.map(i => len(c && c.data && c.data[i])));
    if (cn !== last.cn) {
      const e = {seen: seen, n: cn}; m.curve.push(e); pending.push([2, e]); last.cn = cn;
    }
    const kz = k && k.data && k.data[0] && k.data[0].z;
    if (kz !== last.kz) {
      const e = {seen: seen, path: len(k.data[1])}; m.contour.push(e); pending.push([2, e]); last.kz = kz;
    }
    const sz = s && s.data && s.data[0] && s.data[0].z;
    if (sz !== last.sz) {
      const e = {seen: seen, path: len(s.data[1])}; m.surface.push(e); pending.push([2, e]); last.sz = sz;
    }
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
}"""


def settle(page, quiet_s: float = 1.0, timeout_s: float = 20.0) -> None:
    """Wait until the status line has not changed for ``quiet_s``."""
    last, since, end = None, time.monotonic(), time.monotonic() + timeout_s
    while time.monotonic() < end:
        text = page.inner_text("#text-status")
        if text != last:
            last, since = text, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        page.wait_for_timeout(100)


def one_run(pw, url: str, epochs: int, window_s: float, screenshot: str | None, compare: bool = False) -> dict:
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        context = browser.new_context(viewport=VIEWPORT)
        outside: list[str] = []
        context.route(NOT_LOCAL, lambda route: (outside.append(route.request.url), route.abort()))
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=30_000)
        box = page.locator("#input-epochs")
        box.fill(str(epochs))
        box.press("Enter")
        page.wait_for_function("n => document.getElementById('text-status').innerText.includes('/ ' + n)",
                               arg=str(epochs), timeout=20_000)
        if compare:  # cross-entropy (A) and MSE (B), the defaults of the Compare section
            page.get_by_label("Compare two runs (A and B)").check()
            page.wait_for_function("() => document.getElementById('text-status').innerText.includes('B (')",
                                   timeout=20_000)
        settle(page)
        page.evaluate(RECORDER_JS, {"second": "graph-contour-b" if compare else "graph-surface",
                                    "curveTraces": [0, 4] if compare else [0]})
        page.wait_for_timeout(300)
        page.get_by_role("button", name="Train", exact=True).click()
        # Long enough for the first landscape, the 3-D surface and a full curve window after it.
        page.wait_for_timeout(1000 * (TARGET_SURFACE_S + window_s + 1.0))
        marks = page.evaluate("window.__marks")
        if screenshot:
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=screenshot, full_page=False)
        status = page.inner_text("#text-status")
        page.get_by_role("button", name="Pause", exact=True).click()
        context.close()
    finally:
        browser.close()
    return analyse(marks, window_s) | {"errors": errors, "outside": outside, "status": status}


def analyse(marks: dict, window_s: float) -> dict:
    t0 = marks["t0"]
    if t0 is None:
        raise SystemExit("the Train click was not recorded")

    def first(entries, pred):
        for e in entries:
            if e["seen"] >= t0 and pred(e) and "drawn" in e:
                return (e["drawn"] - t0) / 1000
        return float("nan")

    contour_s = first(marks["contour"], lambda e: e["path"] > 1)
    surface_s = first(marks["surface"], lambda e: e["path"] > 1)
    # Curve window: from the first curve update after Train, window_s long (3-D redraws inside).
    updates = [e["seen"] for e in marks["curve"] if e["seen"] > t0]
    if not updates:
        return dict(contour_s=contour_s, surface_s=surface_s, rate=0.0, worst=0, gap=float("inf"), redraws=0)
    start = updates[0]
    end = start + 1000 * window_s
    inside = [t for t in updates if t <= end]
    rate = (len(inside) - 1) / window_s  # changes after the first, per second
    worst = min(sum(1 for t in inside if a < t <= a + 1000) for a in _window_starts(start, end - 1000))
    gap = max((b - a for a, b in zip(inside, inside[1:])), default=float("inf")) / 1000
    redraws = sum(1 for e in marks["surface"] if start <= e["seen"] <= end)
    return dict(contour_s=contour_s, surface_s=surface_s, rate=rate, worst=worst, gap=gap, redraws=redraws,
                frames=marks["frames"])


def _window_starts(a: float, b: float, step: float = 50.0):
    t = a
    while t <= b:
        yield t
        t += step


def report(r: dict, window_s: float, compare: bool = False) -> list[str]:
    if compare:
        first = [f"A's first landscape after Train: {r['contour_s']:.2f} s (target <= {TARGET_COMPARE_S} s) "
                 f"{verdict(r['contour_s'] <= TARGET_COMPARE_S)}",
                 f"B's first landscape after Train: {r['surface_s']:.2f} s (target <= {TARGET_COMPARE_S} s) "
                 f"{verdict(r['surface_s'] <= TARGET_COMPARE_S)}"]
    else:
        first = [f"first contour after Train: {r['contour_s']:.2f} s (target <= {TARGET_CONTOUR_S} s) "
                 f"{verdict(r['contour_s'] <= TARGET_CONTOUR_S)}",
                 f"3-D surface after Train: {r['surface_s']:.2f} s (target <= {TARGET_SURFACE_S} s) "
                 f"{verdict(r['surface_s'] <= TARGET_SURFACE_S)}"]
    return first + [
        f"curve updates{' (both runs)' if compare else ''}: {r['rate']:.1f} /s over {window_s:g} s "
        f"(target >= {TARGET_CURVE_RATE:g} /s) "
        f"{verdict(r['rate'] >= TARGET_CURVE_RATE)}",
        f"curve updates in the worst 1-s window: {r['worst']} (longest gap {r['gap']:.2f} s, "
        f"{r['redraws']} {'B landscape' if compare else '3-D'} redraws in the window; target >= {TARGET_CURVE_RATE:g}) "
        f"{verdict(r['worst'] >= TARGET_CURVE_RATE)}",
    ]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="an app already running (default: start one on a free port)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--window", type=float, default=5.0, help="seconds of curve updates to count")
    p.add_argument("--epochs", type=int, default=2000)
    p.add_argument("--compare", action="store_true",
                   help="compare mode (cross-entropy vs MSE from one start): both first landscapes and both curves")
    p.add_argument("--screenshot", default="",
                   help="save a PNG of the app mid-training here, taken in the last repeat")
    args = p.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        print(f"{CHROMIUM} is missing: install Debian's chromium (`make browser`)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    proc = None
    with tempfile.TemporaryDirectory(prefix="lossviz-bench-") as cache:
        if args.url:
            url = args.url
        else:
            proc, url = start_app(cache)
        try:
            results = []
            with sync_playwright() as pw:
                for i in range(args.repeat):
                    shot = args.screenshot if (args.screenshot and i == args.repeat - 1) else None
                    r = one_run(pw, url, args.epochs, args.window, shot, args.compare)
                    results.append(r)
                    print(f"run {i + 1}/{args.repeat}  ({r['status'].split(' · ')[0]} at the end)")
                    for line in report(r, args.window, args.compare):
                        print("  " + line)
                    if r["errors"] or r["outside"]:
                        print(f"  page problems: errors {r['errors'][:3]}, outside requests {r['outside'][:3]}")
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)
    if len(results) > 1:
        med = {k: statistics.median(r[k] for r in results) for k in ("contour_s", "surface_s", "rate", "gap")}
        med["worst"] = min(r["worst"] for r in results)
        med["redraws"] = statistics.median(r["redraws"] for r in results)
        print(f"median of {len(results)} runs (worst window: the minimum)")
        for line in report(med, args.window, args.compare):
            print("  " + line)
    if args.screenshot:
        print(f"screenshot: {args.screenshot} ({os.path.getsize(args.screenshot) // 1024} KiB)")
    ok = all(all(line.endswith("PASS") for line in report(r, args.window, args.compare)) for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
