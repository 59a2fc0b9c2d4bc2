"""What the callbacks share in one server process: the run store, the job runner, and the
slots for costly views. Made once by ``create_app``; nothing here holds a user's state."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .store import RunStore

VIEW_SLOTS = 1  # landscapes computed at once per process: more would only queue on the cores


@dataclass
class Services:
    store: RunStore
    runner: object  # ThreadRunner or CeleryRunner: .submit(run_id) -> bool
    view_slots: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(VIEW_SLOTS))
