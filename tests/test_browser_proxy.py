"""Two web servers, each with a folder of its own, one Celery worker and one Redis, behind a
proxy that sends each request to the next server in turn (no sticky sessions): a page trains,
compares and trains on an uploaded table. What it needs: sessions signed with a key both
servers share (kept in Redis), runs and uploaded tables in Redis, presses counted in Redis.

Mutations it catches: a session key made per process or per folder (the other server refuses
the page's session), a table or run kept on one server's disk, a press counted in one
process's memory.
"""
from __future__ import annotations

import http.client
import itertools
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import pytest

from conftest import LOCAL_HOST, _serve_app, _stop, open_page
from test_browser import button, settle, step, type_into, wait_for

pytestmark = pytest.mark.browser

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "content-length"}


def round_robin_proxy(backends: list[str]):
    """A threaded HTTP proxy on a free port: request i goes to backends[i % n]. Returns (url,
    server, per-backend request counts)."""
    turn, lock = itertools.cycle(range(len(backends))), threading.Lock()
    counts = [0] * len(backends)
    hosts = [urlparse(b) for b in backends]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _forward(self):
            with lock:
                i = next(turn)
                counts[i] += 1
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            conn = http.client.HTTPConnection(hosts[i].hostname, hosts[i].port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            conn.request(self.command, self.path, body=body or None, headers=headers)
            r = conn.getresponse()
            data = r.read()
            self.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in HOP_BY_HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

        do_GET = do_POST = _forward

    server = ThreadingHTTPServer((LOCAL_HOST, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://{LOCAL_HOST}:{server.server_address[1]}/", server, counts


@pytest.fixture(scope="module")
def proxied(redis_url, celery_worker, tmp_path_factory):
    env = dict(os.environ, LOSSVIZ_REDIS_URL=redis_url)
    servers = [_serve_app(tmp_path_factory.mktemp(f"web-{i}"), env, workers=1) for i in range(2)]
    url, proxy, counts = round_robin_proxy([u for u, _ in servers])
    try:
        yield url, counts
    finally:
        proxy.shutdown()
        for _, proc in servers:
            _stop(proc)


def test_a_page_behind_a_round_robin_proxy_trains_compares_and_uploads(chromium, proxied):
    url, counts = proxied
    gen = open_page(chromium, url)
    page, log = next(gen)
    try:
        type_into(page, "#input-epochs", "60")
        settle(page)
        button(page, "Train").click()
        s = wait_for(page, lambda s: "finished" in s["status"], timeout=60, what="the run to finish")
        assert step(s["status"]) == 60 and s["curve_n"] == 61

        page.locator("#checklist-compare input").check()
        wait_for(page, lambda s: "B (" in s["status"], timeout=20, what="compare mode")
        button(page, "Train").click()
        s = wait_for(page, lambda s: "finished" in s["status"] and "B (" in s["status"], timeout=60,
                     what="both runs to finish")
        assert step(s["status"]) == 60
        page.locator("#checklist-compare input").uncheck()

        table = ("x1,x2,label\n" + "".join(f"{i % 7 / 7:.3f},{i % 5 / 5:.3f},{int(i % 7 > 3)}\n"
                                            for i in range(120))).encode()
        page.set_input_files("#upload-csv input[type=file]",
                             files=[{"name": "points.csv", "mimeType": "text/csv", "buffer": table}])
        page.wait_for_function("document.getElementById('text-upload-note').innerText.includes('120 rows')")
        wait_for(page, lambda s: "points.csv" in page.inner_text("#dropdown-dataset"), timeout=30,
                 what="the uploaded table as the dataset")
        settle(page)
        button(page, "Train").click()
        s = wait_for(page, lambda s: "finished" in s["status"], timeout=60, what="the table's run to finish")
        assert step(s["status"]) > 0
        assert not log.problems(), log.problems()
        assert min(counts) > 20, counts  # both servers answered the page
    finally:
        gen.close()
