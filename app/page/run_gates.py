"""The page's run, passed on to each panel only while the panel shows.

A change of the page's run (a press's answer, the end of a run) used to fire every panel's
callbacks (the "why", curvature and surfaces panels, four calls) whether the panel showed or
not; hidden, each answered at once that it had nothing to draw, but only after waiting its turn
behind the views' landscapes on the server. A browser keeps at most six connections to a
server, so under a class's load those calls held them, and the page's training tick, queued in
the browser behind them, came seconds late: the curve stalled just as the run started. A
client-side callback now hands the run to the one panel on screen (``PANEL_RUNS``), and when a
panel comes on screen it gets the run then; nothing goes to the server for a hidden panel.
"""

from __future__ import annotations

import json

from dash import Input, Output, State

from . import ids

# The store each panel's callbacks take the run from, by the page view (radio-page-view) that shows it.
PANEL_RUNS = {"why": ids.STORE_RUN_WHY, "curvature": ids.STORE_RUN_CURVATURE, "surfaces": ids.STORE_RUN_SURFACES}

# The run, stamped (a panel shown again gets a new value, so its callbacks fire), to the store of
# the view on screen; the others unchanged.
GATE_JS = """function (run, view) {
  var views = %s, none = window.dash_clientside.no_update;
  if (!run || typeof run !== "object") { return views.map(function () { return none; }); }
  var stamped = Object.assign({}, run, {shown: Date.now()});
  return views.map(function (v) { return v === view ? stamped : none; });
}"""


# The convexity map is cleared by a change of run (it belongs to the old one): only a page that
# has one needs to ask.
CONVEXITY_GATE_JS = """function (run, map) {
  return run && map && map.key ? run : window.dash_clientside.no_update;
}"""


def register(app) -> None:
    app.clientside_callback(GATE_JS % json.dumps(list(PANEL_RUNS)),
                            *[Output(store, "data") for store in PANEL_RUNS.values()],
                            Input(ids.STORE_RUN, "data"), Input(ids.PAGE_VIEW, "value"))
    app.clientside_callback(CONVEXITY_GATE_JS, Output(ids.STORE_RUN_CONVEXITY, "data"),
                            Input(ids.STORE_RUN, "data"), State(ids.STORE_CONVEXITY, "data"))
