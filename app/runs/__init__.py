"""The run machinery: a run's life from a Train press to its last stored step, with no page in sight.

Owns the runs as values in a store (``run``: made, advanced, saved, loaded; ``store`` over the
key-value backends of ``kv``, values packed by ``codec``), the jobs that train them (``jobs``:
threads, a child process or Celery ``worker``s; ``budget``, ``memory``), the limits every request
is checked against (``caps``), and what a server process shares (``services``, ``load``).

May import: the engine (``lossviz``), the standard library and the packages the store and the
jobs need (diskcache, redis, celery). Never ``app.views``, ``app.page`` or a web framework.
"""
