"""The door: what a request may be before Dash sees it.

Bodies over the 'request_bytes' cap get HTTP 413; a callback request that is not the shape
Dash's renderer sends gets HTTP 400 with a plain message (Dash itself would answer 500).
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from .caps import CAPS

log = logging.getLogger("lossviz.app")
CALLBACK_PATH = "_dash-update-component"


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


def protect(server: Flask) -> None:
    """Install the size cap, the shape check and the 400 answer on ``server``."""
    server.config["MAX_CONTENT_LENGTH"] = int(CAPS["request_bytes"].limit)

    @server.before_request
    def check_callback_body():
        if request.method == "POST" and request.path.endswith(CALLBACK_PATH):
            body = request.get_json(silent=True)
            if not _well_formed(body):
                return jsonify(error="malformed callback request"), 400
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
