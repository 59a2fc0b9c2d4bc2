"""How training shares the CPUs with the web server: the job processes' and threads' nice values."""

from __future__ import annotations

import os
import threading

# Jobs run at the web server's priority: under a class's load the views' landscapes filled the
# CPUs, and jobs at nice 10 beneath them took 25 s for a 5 s run (fewer, later curve points and
# more view requests while they lasted); at nice 0 the same class's runs took 9 s and the server
# half the CPU. Training is cheap (~0.3 s of CPU for a default run); only Max speed, which
# trains without pause, steps aside: its thread runs at MAX_SPEED_NICENESS.
JOB_NICENESS = 0
MAX_SPEED_NICENESS = 10


def thread_niceness() -> int:
    """The calling thread's nice value (Linux threads have their own; elsewhere the process's)."""
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except (AttributeError, OSError):
        return 0


def set_thread_niceness(niceness: int) -> bool:
    """Set the calling thread's nice value (lowering it needs privileges: then it stays); True when set."""
    try:
        if os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) != niceness:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
        return True
    except (AttributeError, OSError):
        return False
