"""The fast lane: the training tick, the run buttons' call and the settings calls a press waits for
run on threads the views never hold.

Mutations these catch: a front that queues every request in one pool (the tick waits behind the
held threads), a lane test that searches the body for the tick's name instead of reading its
output (a view's call carrying it in a value jumps the queue), a lane that forgets the press.
"""
from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.front import Front
from app.page import ids
from app.page.lanes import FAST_OUTPUTS, fast_lane


@pytest.fixture(scope="module")
def callback_map():
    from app.main import create_app

    return create_app(None, None).callback_map


def call(output: str, **rest) -> bytes:
    return json.dumps({"output": output, "inputs": [], **rest}).encode()


def test_the_tick_and_the_run_buttons_go_fast_and_the_views_do_not(callback_map):
    fast = fast_lane(callback_map)
    def named(output):  # the callback with ``output`` among its outputs
        return next(k for k in callback_map if f"..{output}.." in f".{k}.")

    assert fast(call(f"{ids.STORE_STREAM}.data")) and fast(call(named(f"{ids.STORE_RUN}.data")))
    # what a press made while the page opens waits for: settings, the comparison's rows, the comparison
    for output in (f"{ids.STORE_CONFIG}.data", f"{ids.COMPARE_ROWS}.style", f"{ids.STORE_COMPARE}.data"):
        assert fast(call(named(output)))
    # and the page's address read at page open (a press waits for them too, even on a plain page)
    for output in (f"{ids.STORE_RESTORED}.data", f"{ids.LESSON}.value"):
        assert fast(call(named(output)))
    views = [k for k in callback_map if not any(o in k for o in FAST_OUTPUTS)]
    assert len(views) > 20 and not any(fast(call(k)) for k in views)
    # named in a value, or as a first "output" that a second one replaces (as Flask reads it)
    assert not fast(call(views[0], state=[{"id": "x", "property": "data", "value": f"{ids.STORE_STREAM}.data"}]))
    assert not fast(('{"output":"%s.data","output":"%s"}' % (ids.STORE_STREAM, views[0])).encode())
    assert not fast(b"not json " + FAST_OUTPUTS[0].encode()) and not fast(b"")
    assert not fast(call(f"{ids.STORE_STREAM}.data", pad="x" * 20_000))  # big bodies queue as usual


def _asgi_post(app, body: bytes):
    """POST ``body`` through the ASGI app; returns (status, body bytes)."""
    sent, messages = [], [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # no disconnect

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/_dash-update-component", "raw_path": b"/_dash-update-component",
             "query_string": b"", "headers": [(b"content-length", str(len(body)).encode())], "http_version": "1.1",
             "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5), "root_path": ""}

    async def run():
        await app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    return run()


def test_a_fast_request_is_answered_while_every_common_thread_is_held():
    release, started = threading.Event(), threading.Semaphore(0)

    def wsgi(environ, start_response):
        body = environ["wsgi.input"].read()
        if body != b"fast":
            started.release()
            release.wait(30)  # a landscape that holds its thread
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done " + body]

    front = Front(wsgi, 2, 1 << 20, "too large", fast=lambda body: body == b"fast")

    async def scenario():
        held = [asyncio.ensure_future(_asgi_post(front, b"slow")) for _ in range(3)]  # 2 running, 1 queued
        for _ in range(2):
            while not started.acquire(blocking=False):
                await asyncio.sleep(0.01)
        quick = await asyncio.wait_for(_asgi_post(front, b"fast"), 10)
        still_held = not any(h.done() for h in held)
        release.set()
        return quick, still_held, await asyncio.gather(*held)

    # on a thread of its own: an earlier test's Playwright may have left this thread's loop running
    with ThreadPoolExecutor(1) as pool:
        quick, still_held, slow = pool.submit(asyncio.run, scenario()).result()
    assert quick == (200, b"done fast") and still_held
    assert slow == [(200, b"done slow")] * 3


def test_the_views_threads_run_below_the_fast_lane_and_training():
    """The common threads (views: landscapes, figures) run at VIEW_NICENESS, the fast lane's at
    the process's own: under a class's load a press's answer waited 0.5-3.3 s behind them.
    Mutation caught: the pools' niceness left alone (both at the process's)."""
    from app.runs.priority import JOB_NICENESS, VIEW_NICENESS, thread_niceness

    def wsgi(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(thread_niceness()).encode()]

    front = Front(wsgi, 2, 1 << 20, "too large", fast=lambda body: body == b"fast")
    own = thread_niceness()

    async def scenario():
        return await _asgi_post(front, b"view"), await _asgi_post(front, b"fast")

    with ThreadPoolExecutor(1) as pool:
        view, fast = pool.submit(asyncio.run, scenario()).result()
    assert VIEW_NICENESS > JOB_NICENESS
    assert int(view[1]) == max(own, VIEW_NICENESS) and int(fast[1]) == own


def test_a_page_opens_with_two_calls_outside_the_fast_lane():
    """A browser keeps six connections to a server: the calls a page makes as it opens, when
    they wait behind landscapes, hold them, and a Train pressed then (its call, then the ticks)
    queues in the browser behind them. So the callbacks that fire at page open are the fast ones
    (the run, the address) and two views: the first figures and the page's run's views. Mutation
    caught: a panel's show/hide or text callback firing at open again (eight did)."""
    from app.main import create_app

    app = create_app(None, None)
    fast = fast_lane(app.callback_map)
    deps = app.server.test_client().get("/_dash-dependencies").get_json()
    at_open = [d["output"] for d in deps if not d.get("clientside_function") and d.get("prevent_initial_call") is not True]
    slow = [o for o in at_open if not fast(call(o))]
    assert len(slow) == 2, slow
    assert all(f"{ids.GRAPH_CONTOUR}.figure" in o for o in slow), slow
    assert fast(call(next(o for o in at_open if o.startswith(f"{ids.LESSON_TEXT}.children@"))))
