"""Callbacks: read inputs, call lossviz (through app.runs / app.views), call a figure builder.

Buttons only send commands; a job (``app.runs.jobs``) trains the run outside the request. Ticks only
read: each one reads the run's small record and streams the new curve points (a client-side
callback appends them exactly once, by cursor) until the job has acknowledged the page's last
command. The landscape has its own slower interval and redraws only when the weights or a
computing option changed; view-only options re-draw from the cached result. Every run belongs
to the page session that made it (a secret made per page load). No callback lets an exception
reach the browser.
"""

from __future__ import annotations

from ..runs.services import Services
from . import run_callbacks, run_gates, settings_callbacks, view_callbacks
from .first_page import FirstPage
from .run_control import command
from .view_callbacks import PLOT_BOXES, box_styles

__all__ = ["PLOT_BOXES", "box_styles", "command", "register"]


def register(app, services: Services, first_page: FirstPage | None = None) -> None:
    """Attach every callback to ``app``; ``services`` holds the run store and the job runner,
    ``first_page`` the default run's first figures (made on first use when not given)."""
    settings_callbacks.register(app)
    run_callbacks.register(app, services)
    run_gates.register(app)
    view_callbacks.register(app, services, first_page or FirstPage(services.store))
    _register_panels(app, services)


def _register_panels(app, services: Services) -> None:
    from .panels import best_rate_page, curvature_page, export_page, inspect, lesson_page, link_page, surfaces_page, \
        upload_page, why_loss_page

    lesson_page.register(app, services)
    best_rate_page.register(app, services)
    link_page.register(app)
    why_loss_page.register(app, services)
    inspect.register(app, services)
    export_page.register(app, services)
    curvature_page.register(app, services)
    upload_page.register(app, services)
    surfaces_page.register(app, services)
