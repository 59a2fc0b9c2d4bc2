"""Which requests go ahead of the views: the training tick, the run buttons' call, and the
settings calls a press waits for.

Under a class's load each server process's request threads are mostly computing landscapes
(hundreds of ms to seconds each). A tick queued behind them waited seconds, and the curves
stalled; a Train pressed while the page opens waits in the browser for the settings chain
(settings -> comparison rows -> comparison -> run), each link of which queued behind landscapes
too: real pages showed "training" 8-14 s after the press. ``app.front`` runs the requests this
module names on threads of their own, which the views never hold; these callbacks only check
settings, read records and send commands (a few ms each). (A page opened at its defaults no
longer runs that chain at all: its layout holds the settings, so its press goes out at once.)
"""

from __future__ import annotations

import json
import re
from typing import Callable

from . import ids

# A callback is in the fast lane when one of its outputs is one of these. The last three are the
# page's address read at page open (a link's settings; a lesson's name, or why there is none): Dash holds a press back
# until every call whose outputs could lead to the settings is answered, even when the address
# has nothing to say.
FAST_OUTPUTS = (f"{ids.STORE_STREAM}.data", f"{ids.STORE_RUN}.data", f"{ids.STORE_CONFIG}.data",
                f"{ids.COMPARE_ROWS}.style", f"{ids.STORE_COMPARE}.data", f"{ids.STORE_RESTORED}.data",
                f"{ids.STORE_LESSON_STEPS}.data", f"{ids.LESSON_TEXT}.children")
MOST_BYTES = 16 * 1024  # a tick's body is ~0.5 KB and a press's ~3 KB; larger bodies queue as usual


def fast_lane(callback_map: dict) -> Callable[[bytes], bool]:
    """A test of a request body: True for a call of a callback (in Dash's ``callback_map``) that
    outputs one of FAST_OUTPUTS. The body is parsed (not searched), so a call that only mentions
    the tick in a value stays in the common queue."""
    outputs = frozenset(k for k in callback_map if any(_outputs(k, o) for o in FAST_OUTPUTS))
    markers = tuple(o.encode() for o in FAST_OUTPUTS)

    def fast(body: bytes) -> bool:
        if not body or len(body) > MOST_BYTES or not any(m in body for m in markers):
            return False
        try:
            call = json.loads(body)
        except ValueError:
            return False
        return isinstance(call, dict) and call.get("output") in outputs

    return fast


def _outputs(key: str, output: str) -> bool:
    """Whether Dash's callback key (``a.b`` or ``..a.b...c.d..``, an output with
    ``allow_duplicate`` suffixed ``@hash``) has ``output`` among its outputs."""
    plain = re.sub(r"@[0-9a-f]+", "", key)
    return plain == output or f"..{output}.." in f".{plain}."
