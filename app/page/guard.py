"""The door: what a request may be before Dash sees it.

A page's callback requests beyond the 'session_requests' rate get HTTP 429 (app.page.ratelimit).

Bodies over the 'request_bytes' cap get HTTP 413 — except the one callback that uploads a CSV
table, which may carry up to the 'upload_bytes' cap (and nothing else may use that allowance); a
callback request that is not the shape Dash's renderer sends gets HTTP 400 with a plain message
(Dash itself would answer 500).
"""

from __future__ import annotations

import logging
import os
import time

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from . import ids
from ..runs.caps import CAPS
from .ratelimit import ClientLimits, RequestBuckets, session_of

log = logging.getLogger("lossviz.app")
CALLBACK_PATH = "_dash-update-component"
SLOW_ENV = "LOSSVIZ_SLOW_CALLBACKS"


def _well_formed(body) -> bool:
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        return False
    for key in ("inputs", "state"):
        if not isinstance(body.get(key, []), list):
            return False
        for spec in body.get(key, []):
            items = spec if isinstance(spec, list) else [spec]
            if not all(isinstance(s, dict) and "id" in s and isinstance(s.get("property"), str) for s in items):
                return False
    changed = body.get("changedPropIds", [])
    return isinstance(changed, list) and all(isinstance(c, str) for c in changed) \
        and isinstance(body.get("outputs"), (dict, list))


def _is_upload(body: dict) -> bool:
    """The upload callback's request: its one input is the uploaded file (app/panels/upload_page)."""
    inputs = body.get("inputs", [])
    return len(inputs) == 1 and isinstance(inputs[0], dict) and inputs[0].get("id") == ids.STORE_UPLOAD_FILE \
        and inputs[0].get("property") == "data" and ids.UPLOAD_NOTE in body["output"]


def _slowed_outputs() -> list[tuple[str, float]]:
    """For tests of a page under load: ``LOSSVIZ_SLOW_CALLBACKS="store-config.data=1.5;..."``
    holds every callback request whose output names one of these for that many seconds."""
    out = []
    for item in os.environ.get(SLOW_ENV, "").split(";"):
        name, _, seconds = item.partition("=")
        if name.strip() and seconds:
            out.append((name.strip(), min(float(seconds), 30.0)))
    return out


def client_limits() -> ClientLimits:
    """The per-address limits of the caps table ('client_requests', 'client_pages')."""
    return ClientLimits(CAPS["client_requests"].limit, CAPS["client_pages"].limit)


def protect(server: Flask, clients: ClientLimits | None = None) -> None:
    """Install the size cap, the shape check, the request rates (per page and per address) and
    the 400 answer on ``server``."""
    server.config["MAX_CONTENT_LENGTH"] = int(CAPS["request_bytes"].limit)
    slowed = _slowed_outputs()
    rate = CAPS["session_requests"].limit
    buckets = RequestBuckets(rate, 2 * rate)
    clients = clients or client_limits()
    if slowed:
        log.warning("%s is set: these callbacks answer late: %s", SLOW_ENV, slowed)

    @server.before_request
    def check_callback_body():
        if request.method == "POST" and request.path.endswith(CALLBACK_PATH):
            size = request.content_length or 0
            big = CAPS["request_bytes"].limit < size <= CAPS["upload_bytes"].limit
            if big:  # read it, then allow it only if it is the upload
                request.max_content_length = int(CAPS["upload_bytes"].limit)
            body = request.get_json(silent=True)
            if not _well_formed(body):
                return jsonify(error="malformed callback request"), 400
            if big and not _is_upload(body):
                return jsonify(error=CAPS["request_bytes"].message(f"{size:,} bytes")), 413
            session = session_of(body)
            if session is not None and not buckets.take(session):
                return jsonify(error=CAPS["session_requests"].message("more")), 429
            if not clients.request_allowed():
                return jsonify(error=CAPS["client_requests"].message("more")), 429
            for name, seconds in slowed:
                if name in body["output"]:
                    time.sleep(seconds)
        return None

    @server.errorhandler(Exception)
    def plain_error(exc):
        if isinstance(exc, HTTPException):
            if exc.code == 413:
                return jsonify(error=CAPS["request_bytes"].message("more")), 413
            return exc
        if request.path.endswith(CALLBACK_PATH):
            # Our callbacks catch their own errors; what reaches here is Dash failing on a body
            # that passed the shape check but names things the app does not have.
            log.info("callback request refused: %s: %s", type(exc).__name__, exc)
            return jsonify(error="malformed callback request"), 400
        log.exception("request failed")
        return jsonify(error="internal error"), 500
