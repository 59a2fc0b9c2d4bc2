"""The ``lossviz`` console script: serve the app, or ``lossviz export`` a run to an .npz."""

from __future__ import annotations

import argparse
import ctypes
import logging
import sys
from pathlib import Path
from typing import Sequence

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def create_app(cache_dir: str | None = None):
    """Build the Dash app. Runs live in a diskcache under ``cache_dir`` (shared by workers)."""
    import dash

    from . import callbacks
    from .layout import serve_layout
    from .runs import RunStore

    app = dash.Dash(__name__, title="lossviz — loss landscape explorer", assets_folder=str(ASSETS),
                    update_title=None, serve_locally=True)
    app.layout = serve_layout
    callbacks.register(app, RunStore(cache_dir))
    return app


def _limit_malloc_arenas(n: int = 2) -> None:
    """Each request thread may get its own glibc malloc arena, which keeps freed NumPy buffers;
    a few shared arenas keep a long-running server's memory flat (no-op off glibc)."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, n)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def _serve(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="lossviz", description="Start the lossviz app "
                                "(or run `lossviz export --help` to write a run to an .npz).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--debug", action="store_true", help="Dash debug mode (dev tools, reloader off)")
    p.add_argument("--cache-dir", default=None, help="where runs are stored (default: a temp dir)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    _limit_malloc_arenas()
    app = create_app(args.cache_dir)
    print(f"lossviz is running at http://{args.host}:{args.port}/  (Ctrl+C to stop)", flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug, threaded=True, use_reloader=False,
            dev_tools_disable_version_check=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["export"]:
        from lossviz.export import main as export_main

        return export_main(argv[1:])
    return _serve(argv)


if __name__ == "__main__":
    sys.exit(main())
