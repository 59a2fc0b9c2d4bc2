"""The page's first figures, drawn on the server: the default run's landscape and data at step 0.

Every visitor at default settings starts from the same run (the config's seed fixes the data
and the initial weights), so its contour and data plot are the same for all of them: they are
computed once per process (from the shared results cache, if another process already did) and
kept on the app's ``FirstPage``. The layout names them (``store-first``: a token of the config
and view options) and a callback of the page's very first batch sends them, without waiting
for the page's run to be made (settings, then the run, then its view: three round trips).

Why a callback and not the layout itself: ``dcc.Graph`` mounts its graphs only once plotly.js
and its own code have loaded, and React reveals those first mounts late and all at once (a
dozen graphs, most of them hidden, ~0.3-1 s of drawing in one go), while a graph whose figure
comes in a callback answer is drawn as soon as the answer is applied. Measured with
``bench/bench_open.py``: the contour in the layout was drawn after the 3-D view, at ~2.2-3.2 s;
sent by this callback, ~1.5 s.

The 3-D view (its first paint in software WebGL blocks the page for ~0.5-1 s) and the data plot
are asked for only once the contour's answer is in (``store-first-3d``), so they never hold the
contour back.
``store-drawn`` starts with the same token, so the first view request of the page's own run
adopts all three instead of sending them again (``app.views.drawing.adopt_first``). A link or
lesson (a query string) opens without them: its first landscape must be its own run's.
"""

from __future__ import annotations

import threading
import time

from lossviz import RunConfig

from ..views.drawing import first_token
from .controls import CONTROLS, MAX_HIDDEN_LAYERS, VIEW_DEFAULTS, parse_controls

FIRST_VIEW = dict(grid=VIEW_DEFAULTS["grid"], span=VIEW_DEFAULTS["span"], mode="random", of="train", norm="filter",
                  log_z=False)
REVISION = "first"  # the prebuilt figures' uirevision (a later full figure brings its own)


def default_config() -> RunConfig:
    """The config the page's controls give before anyone touches them (what read_settings makes)."""
    raw = {c.field: (c.default if c.kind == "dropdown" else str(c.default)) for c in CONTROLS}
    return parse_controls(raw, 2, ["16"] * MAX_HIDDEN_LAYERS)


def default_token() -> str:
    """The token of the default run's first figures (what a page opened without a query shows)."""
    return first_token(default_config().to_dict(), **FIRST_VIEW)


def compute(config: RunConfig) -> dict:
    """The default run's landscape and data view at step 0, and what the landscape cost."""
    from ..runs.run import RunView, new_run
    from ..views.compute import data_view, landscape

    view = RunView.of_state(new_run(config, run_id="first"))
    start = time.time()
    drawn = landscape(view, *(FIRST_VIEW[k] for k in ("grid", "span", "mode", "of", "norm")))
    return {"landscape": drawn, "cost": time.time() - start, "data": data_view(view)}


class FirstPage:
    """The first figures of one app (one server process), made on first use."""

    def __init__(self, store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._value: dict | None = None

    def get(self) -> dict:
        """{"contour", "data", "surface": figures, "token", "views": what they were drawn from}."""
        with self._lock:
            if self._value is None:
                self._value = self._build()
            return self._value

    def _build(self) -> dict:
        from ..views.drawing import contour_of, data_figure, fresh_axes, surface3d_of

        config, token = default_config(), default_token()
        key = ("first", token)
        views = self.store.get_result(key) if self.store is not None else None
        if views is None:
            views = compute(config)
            if self.store is not None:
                self.store.put_result(key, views)
        contour = contour_of(views["landscape"], FIRST_VIEW["log_z"], False, REVISION)
        surface = surface3d_of(views["landscape"], FIRST_VIEW["log_z"], False, REVISION)
        data = fresh_axes(data_figure(views["data"]), REVISION)
        return {"contour": contour, "data": data, "surface": surface, "token": token, "views": views}
