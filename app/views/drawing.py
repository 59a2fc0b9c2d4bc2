"""What the landscape, 3-D and data plots show next, and how little can be sent for it.

``draw`` decides, from what the browser already shows (kept in ``store-drawn``), which plots
need a repaint: a cached landscape is re-used when nothing it depends on changed; while a
figure's shape (run, plane, log scale) stays the same only the changing arrays go out as a
``Patch``; the 3-D surface (slow to paint in software WebGL) and the data plot repaint less often
while training, never in the same tick, and a big network's landscape paces itself by its cost.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from dash import Patch, no_update
from dash.exceptions import PreventUpdate

from . import data_figures, figures, landscape_figures
from ..runs.run import RunView
from ..runs.services import Services
from .compute import data_view, landscape

SURFACE_3D_EVERY_S = 2.5  # each 3-D repaint blocks a software-WebGL page for ~0.2 s
DATA_EVERY_S = 0.9
CONTOUR_EVERY_S = 0.3  # live contour; all three live paces stretch when the machine is busy
BUSY_3D_NOTE = ("This page is busy drawing, so the 3-D view is brought up to date less often while training "
                "(always when the run pauses or finishes).")
SURFACE_3D_LIVE_MAX = 21  # grid points per axis of the 3-D mesh while training
GRAPH_2D, GRAPH_3D, GRAPH_DATA = "graph-contour", "graph-surface", "graph-data"  # the page's ids (app.page.ids)


@dataclass(frozen=True)
class PageLoad:
    """How the page copes, as it measures itself (assets/lossviz.js): ``busy``, its main thread
    mostly in long tasks; ``ms``, what its last draw of each graph took it (ms, by graph id)."""

    busy: bool = False
    ms: dict = field(default_factory=dict)

    SHARE_INVERSE: ClassVar[int] = 6  # a live view takes at most a sixth of the page's time
    MAX_COST_S: ClassVar[float] = 30.0
    # A page whose contour takes longer than this to draw gets no live 3-D view (as before its
    # first 3-D view: assets/lossviz.js SLOW_2D_MS): a 3-D draw costs 4-8 contour draws, more in
    # software WebGL. Measured under a class's load, real pages drew their live 3-D view in 1.9 s
    # (contour 2.4 s) while their curves waited, after a first 3-D draw that had taken 0.14 s.
    SLOW_2D_S: ClassVar[float] = 0.16

    @classmethod
    def of(cls, data) -> "PageLoad":
        """From the page's store, whatever it holds (a client's value: anything)."""
        if not isinstance(data, dict):
            return cls()
        ms = data.get("ms") if isinstance(data.get("ms"), dict) else {}
        return cls(data.get("busy") is True,
                   {k: float(v) for k, v in list(ms.items())[:32] if isinstance(k, str) and _finite(v)})

    @property
    def holds_3d(self) -> bool:
        """No live 3-D view now: the page is busy, or draws its contour slowly (SLOW_2D_S)."""
        return self.busy or self.cost(GRAPH_2D) > self.SLOW_2D_S

    def cost(self, graph: str) -> float:
        """What the page's last draw of ``graph`` took it, seconds (0: not measured)."""
        return min(max(self.ms.get(graph, 0.0), 0.0) / 1000, self.MAX_COST_S)

    def every(self, graph: str) -> float:
        """The least time between two live draws of ``graph``, seconds."""
        return self.SHARE_INVERSE * self.cost(graph)


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def draw(services: Services, state: RunView, grid: int, span: float, directions: str, log_z: bool,
          display: str, running: bool, drawn: dict, of: str = "train", norm: str = "filter",
          page: PageLoad | None = None):
    """Landscape and data plots for the current run, sending as little as possible.

    A cached landscape is re-used when nothing it depends on changed; while the figure's shape
    (run, plane, log scale) stays the same only the changing arrays go out as a ``Patch``; the
    3-D surface (slow to paint in software WebGL) and the data plot redraw less often. The page
    says how it copes (``page``): while training, each view takes at most a sixth of the page's
    time (it comes no more often than six times what its last draws took the page), and on a page
    busy drawing the 3-D view waits; the note says so.
    """
    page = page or PageLoad()
    mode, note = directions, ""
    key, now = [state.run_id, state.version, grid, span, mode, of, norm], time.time()
    shape = [state.run_id, mode, log_z, directions, of, norm]  # asked-for plane too: its note must show
    if drawn.get("first"):
        drawn = adopt_first(services, state, drawn, key, shape, log_z)
    settled = not running
    slow = 1.0 if settled else services.load.slowdown()
    draw_2d, draw_3d, draw_data = _due(state, drawn, key, shape, display, settled, slow, page, now)
    data_shown = (drawn.get("data_key") or [None])[0] == state.run_id
    if not (draw_2d or draw_3d or draw_data):
        raise PreventUpdate
    meta, contour, surface, data_fig = dict(drawn, run_id=state.run_id), no_update, no_update, no_update
    view = None
    if draw_2d or draw_3d:
        view, key, cost = landscape_for(services, state, key, grid, span, mode, running)
        if view is None:  # the server is busy and there is nothing to show yet: ask again soon
            draw_2d = draw_3d = False
            if not draw_data:
                raise PreventUpdate
        meta["cost"] = cost
        if view is not None:
            note = note or _landscape_note(state, view, span)
            if not settled and display != "2d" and (page.holds_3d or page.every(GRAPH_3D) > SURFACE_3D_EVERY_S * slow):
                note = " ".join(filter(None, [note, BUSY_3D_NOTE]))
            draw_2d = draw_2d and (drawn.get("key") != key or drawn.get("shape") != shape)
    if draw_2d:
        contour = contour_of(view, log_z, drawn.get("shape") == shape, str(shape))
        meta.update(key=key, shape=shape, t2d=now)
    if draw_3d:
        surface = surface3d_of(view, log_z, drawn.get("shape3d") == shape, str(shape), coarse=not settled)
        meta.update(key3d=key, shape3d=shape, t3d=now, coarse3d=not settled)
    if draw_data:
        data_fig = _data_output(data_view_paced(services, state), data_shown, state.run_id)
        meta.update(data_key=key[:2], t_data=now)
    if not (draw_2d or draw_3d):
        note = no_update
    return contour, surface, data_fig, meta, "", note


def _due(state: RunView, drawn: dict, key: list, shape: list, display: str, settled: bool, slow: float,
         page: PageLoad, now: float) -> tuple[bool, bool, bool]:
    """Which of (contour, 3-D view, data plot) to redraw now. A changed shape redraws at once;
    while training, each comes at its own pace, stretched by the server's load (``slow``) and
    by what its last draw cost the page; the 3-D view not while the page is busy or slow to draw."""
    want_3d = display != "2d" and (drawn.get("key3d") != key or drawn.get("shape3d") != shape
                                   or drawn.get("coarse3d", False) != (not settled))
    shown_3d, shown_2d = drawn.get("key3d") or [None, 0], drawn.get("key") or [None, 0]
    # The 3-D view's first live update comes one tick after the contour's, so the page never
    # paints both (plus the data plot) in one blocking go.
    first_live = (shown_3d[0] != state.run_id or shown_3d[1] == 0) and shown_2d[:2] != [state.run_id, 0]
    # A big network's landscape can take most of a second: while training, leave the server
    # at least twice as much time for training as the last landscape took to compute.
    last_drawn = max(drawn.get("t2d", 0), drawn.get("t3d", 0))
    paced = settled or now - last_drawn >= max(2 * drawn.get("cost", 0), CONTOUR_EVERY_S * slow)
    every_3d = max(SURFACE_3D_EVERY_S * slow, page.every(GRAPH_3D))
    due_3d = now - drawn.get("t3d", 0) >= every_3d or (first_live and not page.cost(GRAPH_3D))
    draw_3d = want_3d and (settled or (not page.holds_3d and paced and due_3d))
    paced = paced and (settled or now - drawn.get("t2d", 0) >= page.every(GRAPH_2D))
    draw_2d = (drawn.get("key") != key or drawn.get("shape") != shape) and (paced or drawn.get("shape") != shape)
    data_shown = (drawn.get("data_key") or [None])[0] == state.run_id
    draw_data = drawn.get("data_key") != key[:2] and (
        settled or not data_shown or (now - drawn.get("t_data", 0) >= max(DATA_EVERY_S * slow, page.every(GRAPH_DATA))
                                      and not draw_3d))
    return draw_2d, draw_3d, draw_data


def first_token(config: dict, grid: int, span: float, mode: str, of: str, norm: str, log_z: bool) -> str:
    """What the prebuilt figures show: the run's settings and the view options they were drawn
    with (those of this module's landscape key, and the log scale)."""
    return json.dumps([config, grid, float(span), mode, of, norm, bool(log_z)], sort_keys=True,
                      separators=(",", ":"))


def adopt_first(services: Services, state: RunView, drawn: dict, key: list, shape: list, log_z: bool) -> dict:
    """``drawn`` as if this request had drawn the contour, 3-D view and data plot, when the page
    was sent them at once (``app.page.first_page``) for this very run at step 0 and these options;
    else ``drawn`` without the layout's mark (what the page shows is then drawn again)."""
    rest = {k: v for k, v in drawn.items() if k != "first"}
    token = first_token(state.config.to_dict(), *key[2:], log_z=log_z)
    if state.version != 0 or drawn["first"] != token:
        return rest
    first = services.store.get_result(("first", token))
    if first is not None:  # the 3-D view (drawn next) then needs no landscape of its own
        services.store.put_result(tuple(key), first["landscape"])
    return dict(rest, key=key, shape=shape, t2d=0, data_key=key[:2], t_data=0, key3d=key, shape3d=shape, t3d=0,
                coarse3d=False, cost=first["cost"] if first else 0.0)


def landscape_for(services: Services, state: RunView, key: list, grid: int, span: float, mode: str,
                   running: bool) -> tuple[dict | None, list, float]:
    """The landscape for ``key`` (cached by its inputs), its key and what it cost to compute.

    While training, the run's latest landscape stands in for a new one when computing it now
    would crowd out training (it is younger than twice its cost), or when this process is
    already computing one for someone (the page
    degrades to a slower landscape refresh under load, never to queued requests). With nothing
    to stand in, a busy server answers None at once and the page asks again on its next tick.
    """
    store = services.store
    view = store.get_result(tuple(key))
    last = store.get_result(("last", state.run_id))
    usable = running and last is not None and last["key"][2:] == key[2:]
    if view is not None:
        return view, key, last["cost"] if last else 0.0
    if usable and time.time() - last["t"] < 2 * last["cost"]:
        return last["view"], last["key"], last["cost"]
    # Settled views (paused, finished, a new option) wait their turn; live ones never do.
    if not services.view_slots.acquire(timeout=None if not running else 0.0):
        return (last["view"], last["key"], last["cost"]) if usable else (None, key, 0.0)
    try:
        start = time.time()
        view = landscape(state, grid, span, mode, key[5], key[6] if len(key) > 6 else "filter")
        cost = time.time() - start
    finally:
        services.view_slots.release()
    store.put_result(tuple(key), view)
    store.put_result(("last", state.run_id), {"t": time.time(), "cost": cost, "key": key, "view": view})
    return view, key, cost


def data_view_paced(services: Services, state: RunView) -> dict:
    """The data plot's arrays, computed one at a time per process (a wide network's pass over
    the grid is the biggest allocation a view makes)."""
    with services.view_slots:
        return data_view(state)


def _landscape_note(state: RunView, view: dict, span: float) -> str:
    return " ".join(filter(None, [_path_note(state, view, span), _budget_note(view)]))


def _budget_note(view: dict) -> str:
    parts = []
    if view.get("n_points", 0) < view.get("n_train", 0):
        parts.append(f"on {view['n_points']:,} of the {view['n_train']:,} training points")
    if view.get("grid", 0) < view.get("grid_asked", 0):
        parts.append(f"on a {view['grid']}×{view['grid']} grid")
    return f"For speed, this network's landscape is computed {' and '.join(parts)}." if parts else ""


def _path_note(state: RunView, view: dict, span: float) -> str:
    parts = [view.get("note", "")]
    if view["mode"] == "pca":
        e = view["explained"]
        parts.append(f"Path plane: directions 1 and 2 hold {100 * e[0]:.0f}% and {100 * e[1]:.0f}% of the "
                     "path's movement.")
    elif view["mode"] == "random" and state.step_count and np.ptp(view["path"], axis=0).max() < 0.1 * span:
        parts.append("The path looks short: random directions are almost perpendicular to it in a space of "
                     f"{state.net.n_params} weights. Switch to “Path (PCA) plane” to see the whole route.")
    far = view.get("offplane_relative")
    if far is not None and len(far) > 1 and state.step_count and float(np.max(far)) > 0.05:
        parts.append(f"Path points lie up to {100 * float(np.max(far)):.0f}% of their distance from here off "
                     "this plane (hover a point): such a point does not sit at the loss drawn under it.")
    return " ".join(p for p in parts if p)


def _as_patch(updates: dict[tuple, object]) -> Patch:
    patch = Patch()
    for path, value in updates.items():
        node = patch
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return patch


PLANE_TITLES = {"pca": " (path plane)", "hessian": " (Hessian eigenvectors)", "init_final": " (init → now)"}


def contour_of(view: dict, log_z: bool, same_shape: bool, revision: str):
    args = (view["alphas"], view["betas"], view["z"], view["path"])
    metric, offplane = view.get("metric"), view.get("offplane")
    if same_shape:
        return _as_patch(landscape_figures.contour_updates(*args, log_z=log_z, metric=metric, offplane=offplane))
    title = "Loss around the weights" + PLANE_TITLES.get(view["mode"], "")
    return fresh_axes(landscape_figures.contour_figure(*args, log_z=log_z, title=title, metric=metric,
                                              metric_label=view.get("metric_label", "accuracy"),
                                              z_label=view.get("z_label", "loss"), offplane=offplane), revision)


def surface3d_of(view: dict, log_z: bool, same_shape: bool, revision: str, coarse: bool = False):
    a, b, z = view["alphas"], view["betas"], view["z"]
    if coarse:  # while training: a lighter mesh, because each 3-D repaint blocks the page
        ia, ib = _thin(len(a), SURFACE_3D_LIVE_MAX), _thin(len(b), SURFACE_3D_LIVE_MAX)
        a, b, z = a[ia], b[ib], z[np.ix_(ia, ib)]
    args = (a, b, z, view["path"], view["path_loss"])
    if same_shape:
        return _as_patch(landscape_figures.surface3d_updates(*args, log_z=log_z))
    return fresh_axes(landscape_figures.surface3d_figure(*args, log_z=log_z, z_label=view.get("z_label", "loss")), revision)


def _thin(n: int, most: int) -> np.ndarray:
    """At most ``most`` evenly spread indices of range(n), first and last included."""
    return np.unique(np.linspace(0, n - 1, min(n, most)).round().astype(int))


def _data_output(view: dict, same_run: bool, revision: str):
    if same_run and view["kind"] == "regions":
        return _as_patch({("data", 0, "z"): data_figures.region_values(view["prob"]).tolist()})
    if same_run and view["kind"] == "curve":
        return _as_patch(data_figures.regression_curve_updates(view["y_line"]))
    return fresh_axes(data_figure(view), revision)


def fresh_axes(fig: figures.Figure, revision: str) -> figures.Figure:
    """Zoom and camera persist while ``revision`` (run, plane, scale) stays; a new one resets."""
    fig["layout"]["uirevision"] = revision
    return fig


def data_figure(view: dict, others: list[tuple[str, dict]] = (), name: str = "network"):
    """The data plot of a data view; ``others`` [(name, view)]: in compare mode the other run's
    fitted curve is drawn in the same plot (1-D regression only), this one's named ``name``."""
    kind = view["kind"]
    names = tuple(view.get("class_names", ()))
    if kind == "regions":
        return data_figures.classification_figure(view["xx"], view["yy"], view["prob"], view["points"],
                                             axis_titles=tuple(view.get("axis_titles", ("x₁", "x₂"))),
                                             class_names=names)
    if kind == "projected":
        return data_figures.projected_classes_figure(view["points"], view["pred_train"], view["pred_test"], view["k"],
                                                class_names=names)
    if kind == "curve":
        return data_figures.regression_curve_figure(view["x_line"], view["y_line"], view["points"],
                                               axis_titles=tuple(view.get("axis_titles", ("x", "y"))),
                                               outliers=view.get("outliers"), line_name=name,
                                               others=[(n, o["y_line"]) for n, o in others if o["kind"] == "curve"])
    return data_figures.predicted_vs_actual_figure(view["points"], view["pred_train"], view["pred_test"])
