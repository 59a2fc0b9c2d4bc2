"""The load bench's view of the server: its processes (found by the port it listens on), their
memory (PSS) and CPU time, and how busy the whole machine is."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import now  # noqa: E402


def server_processes(url: str, workers_too: bool = False, roots: list | None = None) -> list[psutil.Process]:
    """The server's processes: what listens on the URL's port, its parent if it is the same
    program (gunicorn's master), and their descendants (workers, job processes); with
    ``workers_too`` also every `lossviz worker` on the machine (the Celery mode's workers).
    ``roots`` (``server_roots(url)``, found once) saves scanning every socket again."""
    found: dict[int, psutil.Process] = {p.pid: p for p in (roots if roots is not None else server_roots(url))}
    for proc in list(found.values()):
        try:
            found.update((child.pid, child) for child in proc.children(recursive=True))
        except psutil.Error:
            pass
    if workers_too:
        for proc in psutil.process_iter(["cmdline"]):
            line = " ".join(proc.info["cmdline"] or [])
            if "worker" in line and ("lossviz" in line or "app.main" in line) and "bench_load" not in line:
                found[proc.pid] = proc
    return list(found.values())


def server_roots(url: str) -> list[psutil.Process]:
    """What listens on the URL's port, and its parent if it is the same program (gunicorn's master)."""
    port = urlparse(url).port or 80
    found: dict[int, psutil.Process] = {}
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            proc = psutil.Process(conn.pid)
            found[proc.pid] = proc
            parent = proc.parent()
            line = " ".join(parent.cmdline()) if parent else ""
            if parent and ("app.main" in line or "lossviz" in line or "gunicorn" in line):
                found[parent.pid] = parent
    return list(found.values())


def _pss(proc: psutil.Process) -> int:
    try:
        with open(f"/proc/{proc.pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        info = proc.memory_full_info()
        return getattr(info, "pss", info.rss)
    except psutil.Error:
        return 0


def memory_mb(url: str, workers_too: bool = False, roots: list | None = None) -> float:
    """The server's memory: PSS (shared pages counted once across forked workers), in MB."""
    return sum(_pss(p) for p in server_processes(url, workers_too, roots)) / 2 ** 20


def cpu_seconds(url: str, workers_too: bool = False, roots: list | None = None) -> float:
    """CPU time (user + system) the server's processes have used so far (exited children included)."""
    total = 0.0
    for proc in server_processes(url, workers_too, roots):
        try:
            t = proc.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return total


def machine_busy() -> tuple[float, float] | None:
    """(CPU seconds the whole machine has been busy, now): /proc/stat's user, nice, system,
    irq, softirq and steal (guest time is inside user already)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    busy = fields[0] + fields[1] + fields[2] + sum(fields[5:8])
    return busy / os.sysconf("SC_CLK_TCK"), now()
