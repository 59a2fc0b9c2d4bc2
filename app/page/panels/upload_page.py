"""Your own data: "Upload CSV…" in the Data section, a label-column choice, and what was done.

The browser reads the file; a client-side check refuses one over the 'table_bytes' cap before it
is sent. The server reads it with ``lossviz.read_csv`` (a message naming the row or column when
it cannot), keeps the bytes in the run store under their content hash — only for a page with a
session this server made, and within the 'session_tables' and 'server_tables' quotas (a message
naming the quota when over) — and selects the dataset
``csv:<hash>`` — a name links carry, so the same file gives the same run. The dataset dropdown
lists the file while the page has it; a link to a table the store no longer has says to upload
the same file again.
"""

from __future__ import annotations

import base64
import binascii

from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from lossviz import tabular

from ...runs import caps
from .. import ids
from ..controls import BY_FIELD, DEFAULT
from ..messages import guarded
from ...runs.run import TABLE_GONE
from ...runs.store import RUN_TTL_S

BOX_LABEL = "box-upload-label"
HIDDEN = {"display": "none"}
TIP = ("A CSV file: a header row naming the columns, then one row per sample; the label is the "
       f"last column unless you pick another. At most {caps.limit('table_bytes') / 2 ** 20:.0f} MB "
       f"and {caps.limit('table_rows'):,.0f} rows, {tabular.MAX_FEATURES} features; "
       f"at most {caps.limit('session_tables'):.0f} MB of tables kept for one page.")


def layout() -> html.Div:
    upload = dcc.Upload(html.Button("Upload CSV…", className="btn small", type="button"), id=ids.UPLOAD,
                        accept=".csv,.tsv,.txt,text/csv,text/plain", multiple=False, className="upload")
    label = dcc.Dropdown(id=ids.UPLOAD_LABEL, options=[], clearable=False, searchable=False,
                         placeholder="label column", className="ctl-dropdown")
    return html.Div([
        html.Div(upload, title=TIP),
        html.Div([html.Label("Label column", className="ctl-label"), html.Div(label, className="ctl-widget")],
                 id=BOX_LABEL, className="ctl-row", style=HIDDEN, title="The column the network learns to predict"),
        html.Div(id=ids.UPLOAD_NOTE, className="note upload-note", role="status", **{"aria-live": "polite"}),
        dcc.Store(id=ids.STORE_UPLOAD_FILE), dcc.Store(id=ids.STORE_UPLOAD)], className="upload-box")


def decode(contents: object) -> bytes:
    """The file's bytes from the data URL a dcc.Upload gives (``data:<type>;base64,<data>``)."""
    if not isinstance(contents, str) or "," not in contents or ";base64" not in contents.split(",", 1)[0]:
        raise ValueError("the browser did not send the file: try again")
    try:
        return base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the browser sent the file garbled: try again") from None


def dataset_options(name: str, filename: str, title: str = "") -> list[dict]:
    """The registry's datasets, then the uploaded table under its file name."""
    return list(BY_FIELD["dataset"].options) + [
        {"label": "— Your data —", "value": "__table", "disabled": True},
        {"label": filename, "value": name, "title": title}]


def _shown(table: tabular.TableData, filename: str, loss) -> dict:
    """What the page shows for a table read: its note, its dropdown entry, samples and loss."""
    text = table.describe(DEFAULT.test_fraction)
    loss = "mse" if table.task == "regression" and loss == "cross_entropy" else no_update
    return {"store": {"hash": table.content_hash, "filename": filename, "name": table.name,
                      "label": table.label_index},
            "note": f"{filename}: {text}", "options": dataset_options(table.name, filename, text),
            "samples": str(table.n_rows), "loss": loss}


def over_quota(filename: str, exc: caps.CapExceeded) -> str:
    """What the page says when keeping a table would go over a quota."""
    return (f"Could not keep {filename}: {exc} Tables already uploaded stay usable; each is kept "
            f"{RUN_TTL_S // 3600:.0f} h after its last use.")


def _columns(table: tabular.TableData) -> list[dict]:
    """The label dropdown's options: every column of the file, in its order."""
    names = list(table.feature_names)
    names.insert(table.label_index, table.label)
    return [{"label": n, "value": i} for i, n in enumerate(names)]


def register(app, services) -> None:
    store = services.store
    app.clientside_callback(
        """function(contents, filename) {
            if (!contents) { return [window.dash_clientside.no_update, window.dash_clientside.no_update]; }
            var bytes = Math.floor((contents.length - contents.indexOf(',') - 1) * 3 / 4);
            if (bytes > %d) {
                return [null, filename + ': the file is ' + (bytes / 1048576).toFixed(1) + ' MB: at most %d MB'];
            }
            return [{contents: contents, filename: filename}, 'reading ' + filename + '…'];
        }""" % (caps.limit("table_bytes"), caps.limit("table_bytes") // 2 ** 20),
        Output(ids.STORE_UPLOAD_FILE, "data"), Output(ids.UPLOAD_NOTE, "children"),
        Input(ids.UPLOAD, "contents"), State(ids.UPLOAD, "filename"), prevent_initial_call=True)

    @app.callback(Output(ids.STORE_UPLOAD, "data"), Output(ids.UPLOAD_LABEL, "options"),
                  Output(ids.UPLOAD_LABEL, "value"), Output(BOX_LABEL, "style"),
                  Output(ids.UPLOAD_NOTE, "children", allow_duplicate=True),
                  Output(ids.DATASET, "options", allow_duplicate=True),
                  Output(ids.DATASET, "value", allow_duplicate=True),
                  Output(ids.SAMPLES, "value", allow_duplicate=True), Output(ids.LOSS, "value", allow_duplicate=True),
                  Input(ids.STORE_UPLOAD_FILE, "data"), State(ids.LOSS, "value"), State(ids.STORE_SESSION, "data"),
                  prevent_initial_call=True)
    @guarded(ids.UPLOAD_NOTE)
    def read_upload(file, loss, session):
        """The one request that carries the file (app/page/guard.py lets it be big): read, keep, select."""
        if not isinstance(file, dict):
            raise PreventUpdate
        owner = store.owner(session)  # a page this server made (PermissionError: its message)
        filename = str(file.get("filename") or "the file")[:100]
        try:
            raw = decode(file.get("contents"))
            caps.check("table_bytes", len(raw))
            table = tabular.read_csv(raw)
        except ValueError as exc:
            return (no_update,) * 4 + (f"Could not use {filename}: {exc}.",) + (no_update,) * 4
        try:
            store.put_table(table.content_hash, raw, filename, owner)
        except caps.CapExceeded as exc:
            return (no_update,) * 4 + (over_quota(filename, exc),) + (no_update,) * 4
        s = _shown(table, filename, loss)
        return s["store"], _columns(table), table.label_index, {}, s["note"], s["options"], table.name, s["samples"], s["loss"]

    @app.callback(Output(ids.STORE_UPLOAD, "data", allow_duplicate=True),
                  Output(ids.UPLOAD_NOTE, "children", allow_duplicate=True),
                  Output(ids.DATASET, "options", allow_duplicate=True),
                  Output(ids.DATASET, "value", allow_duplicate=True),
                  Output(ids.SAMPLES, "value", allow_duplicate=True), Output(ids.LOSS, "value", allow_duplicate=True),
                  Input(ids.UPLOAD_LABEL, "value"), State(ids.STORE_UPLOAD, "data"), State(ids.LOSS, "value"),
                  prevent_initial_call=True)
    @guarded(ids.UPLOAD_NOTE)
    def pick_label(label, loaded, loss):
        """Another label column: the same file is other data (``csv:<hash>:<column>``)."""
        if not isinstance(loaded, dict) or not isinstance(label, int) or label == loaded.get("label"):
            raise PreventUpdate
        raw = store.table(loaded.get("hash"))
        if raw is None:
            return no_update, TABLE_GONE, no_update, no_update, no_update, no_update
        filename = loaded["filename"]
        try:
            table = tabular.read_csv(raw, label=label)
        except ValueError as exc:
            return no_update, f"Could not use that label in {filename}: {exc}.", no_update, no_update, no_update, no_update
        s = _shown(table, filename, loss)
        return s["store"], s["note"], s["options"], table.name, no_update, s["loss"]

    @app.callback(Output(ids.STORE_UPLOAD, "data", allow_duplicate=True),
                  Output(ids.UPLOAD_LABEL, "options", allow_duplicate=True), Output(BOX_LABEL, "style", allow_duplicate=True),
                  Output(ids.UPLOAD_NOTE, "children", allow_duplicate=True),
                  Output(ids.DATASET, "options", allow_duplicate=True),
                  Input(ids.DATASET, "value"), State(ids.DATASET, "options"), prevent_initial_call=True)
    @guarded(ids.UPLOAD_NOTE)
    def table_from_link(name, options):
        """A link names a table the dropdown does not list: show it, or say how to get it back."""
        if not tabular.is_table_name(name) or any(isinstance(o, dict) and o.get("value") == name
                                                  for o in options or []):
            raise PreventUpdate
        digest, label = tabular.parse_table_name(name)
        raw, filename = store.table(digest), store.table_filename(digest) or "uploaded CSV"
        if raw is None:
            return (no_update, no_update, no_update, TABLE_GONE,
                    dataset_options(name, "uploaded CSV (upload it again)"))
        table = tabular.read_csv(raw, label=label)
        s = _shown(table, filename, None)
        return s["store"], _columns(table), {}, s["note"], s["options"]
