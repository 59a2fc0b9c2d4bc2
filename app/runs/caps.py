"""One table of caps: how much work one request, one run, one page and one server may ask for.

The server enforces them where a request enters (``check_config`` on every command, the view
options in the view callback, the body size in Flask), not only in the widgets; anything over
a cap gets a message naming it. The widgets and their tooltips read their limits from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from lossviz import RunConfig
from lossviz.datasets import N_SAMPLES_RANGE
from lossviz import tabular
from lossviz.landscape import GRID_RANGE


@dataclass(frozen=True)
class Cap:
    """One limit: its name (used in messages and tests), the number, and what it counts."""

    name: str
    limit: float
    counts: str

    def message(self, asked: float | str) -> str:
        asked = f"{asked:,.0f}" if isinstance(asked, (int, float)) else asked
        return f"Over the '{self.name}' cap: at most {self.limit:,.0f} {self.counts} (asked for {asked})."


CAPS: dict[str, Cap] = {c.name: c for c in [
    Cap("hidden_layers", 4, "hidden layers"),
    Cap("width", 512, "neurons in a hidden layer"),
    Cap("samples", N_SAMPLES_RANGE[1], "samples"),
    Cap("epochs", 100_000, "epochs"),
    Cap("parameters", 300_000, "weights in one network"),
    # One evaluation of the network on every sample: weights × samples multiply-adds. It bounds
    # the time of one step (so a cancelled job stops within half a second) and a job's memory.
    Cap("work_per_step", 2e8, "weight·samples in one pass over the data"),
    Cap("grid", min(GRID_RANGE[1], 101), "grid points per axis"),
    Cap("range", 100, "direction units of landscape range"),
    Cap("request_bytes", 256 * 1024, "bytes in one request"),
    # An uploaded CSV: the file, and the one request that carries it (base64: 4/3 of the file).
    Cap("table_bytes", tabular.MAX_BYTES, "bytes in an uploaded table"),
    Cap("table_rows", tabular.MAX_ROWS, "rows in an uploaded table"),
    Cap("upload_bytes", tabular.MAX_BYTES * 4 // 3 + 64 * 1024, "bytes in the request that uploads a table"),
    # Uploaded tables are kept as long as a run on them (6 h after its last change): a quota per
    # page and one for all pages (a client can open many pages; the store cannot grow forever).
    Cap("session_tables", 4 * tabular.MAX_BYTES // 2 ** 20, "MB of uploaded tables kept for one page"),
    Cap("server_tables", 256, "MB of uploaded tables kept at once for every page"),
    # Every page's runs and tables together (disk, or Redis's memory): beyond it, new runs are
    # refused until old ones expire (a run that never trained lives 15 min, a trained one 6 h).
    Cap("run_store", 4096, "MB of runs and tables stored at once"),
    # A page's ticks wait for their answers (about ten requests a second while it trains).
    Cap("session_requests", 40, "callback requests a second from one page (bursts of twice that)"),
    Cap("session_jobs", 2, "runs training at once for one page"),
    # One network address: a page opened is a new session (its own request and job caps), so a
    # client could make any number of them; these bound what one address can do. A class behind
    # one router shares its address: 30 pages send about 300 requests a second while they train.
    # (Runs training at once are not capped per address: 'server_jobs' is below what such a
    # class needs, so a cap per address would be either that or meaningless.)
    Cap("client_requests", 1000, "callback requests a second from one network address (bursts of twice that)"),
    Cap("client_pages", 240, "pages opened a minute from one network address"),
    Cap("server_jobs", 32, "runs training at once in one server process"),
    Cap("job_memory", 250, "MB of training state at once in one server process"),
    # A `lossviz worker` (the Celery path) runs this many jobs at once on threads (its default
    # --concurrency); the web servers take 'server_jobs' and 'job_memory' per live worker from a
    # budget kept in Redis, so no job waits in the queue for a thread.
    # 32, as 'server_jobs': one worker trains a class of 30 at a normal speed (slower, not refused).
    Cap("worker_jobs", 32, "runs training at once in one `lossviz worker` process"),
    Cap("job_seconds", 600, "seconds of training per press of Train"),
    Cap("idle_seconds", 60, "seconds without a sign of the page before its training stops"),
]}


def limit(name: str) -> float:
    return CAPS[name].limit


class CapExceeded(ValueError):
    """A request asked for more than a cap allows (the message names the cap)."""


def check(name: str, asked: float) -> None:
    if asked > CAPS[name].limit:
        raise CapExceeded(CAPS[name].message(asked))


def check_settings(d: dict) -> None:
    """The caps that raw settings (a dict as a client sent it) can be checked against before
    they are parsed, so a message names the cap rather than the engine's own range."""
    hidden = d.get("hidden")
    if isinstance(hidden, (list, tuple)):
        check("hidden_layers", len(hidden))
        widths = [w for w in hidden if isinstance(w, (int, float)) and not isinstance(w, bool)]
        check("width", max(widths, default=0))
    for field, name in (("n_samples", "samples"), ("epochs", "epochs")):
        v = d.get(field)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            check(name, v)


def check_config(config: RunConfig, n_params: int | None = None, n_rows: int | None = None) -> None:
    """Every cap a run's settings touch (CapExceeded naming the first one exceeded). An uploaded
    table's size is known only with its data: ``n_params`` and ``n_rows`` give it then."""
    check("hidden_layers", len(config.hidden))
    check("width", max(config.hidden, default=0))
    check("samples", config.n_samples)
    check("epochs", config.epochs)
    if n_params is None:
        n_params = network_size(config)
    check("parameters", n_params)
    rows = config.n_samples if n_rows is None else n_rows
    work = n_params * rows
    if work > CAPS["work_per_step"].limit:
        raise CapExceeded(CAPS["work_per_step"].message(work)[:-1]
                          + f": {n_params:,} weights × {rows:,} samples). "
                            "Use fewer samples or a smaller network.")


def network_size(config: RunConfig) -> int:
    """Weights and biases of the config's network (input and output widths from its dataset; an
    uploaded table's are not known from the config: a lower bound, one input and two outputs)."""
    from lossviz import DATASETS

    if tabular.is_table_name(config.dataset):
        n_in, n_out = 1, 2
    else:
        spec = DATASETS[config.dataset]
        n_in = spec.n_features
        n_out = max(spec.n_classes, 2) if spec.task == "classification" else 1
    sizes = (n_in, *config.hidden, n_out)
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
