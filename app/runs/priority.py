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
# The web server's common request threads (views: landscapes, figures, page open) run a little
# below training and the fast lane (the tick and the run buttons, app.page.lanes): under a
# class's load a press's answer took 0.5-3.3 s while those threads and the jobs filled the CPUs.
# Measured (bench/bench_load.py, 27 simulated + 3 real pages, 3 rounds each): runs finished at
# p50 7.6-8.6 s (9.6-10.3 s before), first curve points at p95 1.6-2.4 s (3.5-4.9 s); the
# price is slower live landscapes (p50 1.5-2.6 s, was 0.8-1.2 s), which pace themselves anyway.
VIEW_NICENESS = 5


def thread_niceness() -> int:
    """The calling thread's nice value (Linux threads have their own; elsewhere the process's)."""
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except (AttributeError, OSError):
        return 0


def step_aside(niceness: int) -> bool:
    """Run the calling thread at ``niceness`` or below its own priority, never above it (a
    process started under ``nice 19`` keeps its threads there); True when set."""
    return set_thread_niceness(max(thread_niceness(), niceness))


def set_thread_niceness(niceness: int) -> bool:
    """Set the calling thread's nice value (lowering it needs privileges: then it stays); True when set."""
    try:
        if os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) != niceness:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
        return True
    except (AttributeError, OSError):
        return False
