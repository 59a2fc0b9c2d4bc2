"""Callbacks never let an exception reach the browser: ``guarded`` turns one into a plain
message on the page (and logs what is unexpected, and what is slow)."""

from __future__ import annotations

import logging
import time
from functools import wraps

from dash import no_update, set_props
from dash.exceptions import PreventUpdate

log = logging.getLogger("lossviz.app")
SLOW_CALLBACK_S = 0.4


def guarded(message_id: str):
    """Turn any exception into a plain message in ``message_id`` and no other change."""

    def decorate(fn):
        @wraps(fn)
        def wrapper(*args):
            start = time.perf_counter()
            try:
                return fn(*args)
            except PreventUpdate:
                raise
            except (ValueError, LookupError, PermissionError) as exc:
                set_props(message_id, {"children": _sentence(exc)})
            except Exception as exc:  # noqa: BLE001 - the page must keep working
                log.exception("callback %s failed", fn.__name__)
                set_props(message_id, {"children": f"Something went wrong ({type(exc).__name__}); "
                                                   "try Reset or other settings."})
            finally:
                if (spent := time.perf_counter() - start) > SLOW_CALLBACK_S:
                    log.info("slow callback %s: %.2f s", fn.__name__, spent)
            return no_update  # (PreventUpdate would drop the message set above)

        return wrapper

    return decorate


def _sentence(exc: Exception) -> str:
    text = str(exc).strip("'\"")
    return text[:1].upper() + text[1:] if text else type(exc).__name__
