"""What Dash's renderer sends: callback request bodies built from the layout and the
dependency list, as a fresh page would build them.

Callbacks are found in ``/_dash-dependencies`` by the component properties they write, and
their inputs' values come from ``/_dash-layout``. The tests drive the app through this over
Flask's test client; ``bench/bench_load.py`` drives a running server through it over HTTP.
"""
from __future__ import annotations

import json

from dash._utils import split_callback_id, stringify_id


def updates(data):
    """All updates of a response, declared outputs and set_props side updates: {id: {prop: v}}."""
    merged = {}
    for part in ("response", "sideUpdate"):
        for cid, props in (data or {}).get(part, {}).items():
            merged.setdefault(cid, {}).update(props)
    return merged


def _walk(node):
    if isinstance(node, list):
        for child in node:
            yield from _walk(child)
    elif isinstance(node, dict) and "props" in node:
        yield node
        props = node["props"]
        for value in props.values():
            if isinstance(value, (list, dict)):
                yield from _walk(value)


def _is_wildcard(id_):
    return isinstance(id_, dict) and any(isinstance(v, list) for v in id_.values())


def _parse_id(text):
    return json.loads(text) if text.startswith("{") else text


class Page:
    """The layout's component values and the callbacks' dependency list, like the renderer.

    ``transport`` has ``get_json(path)`` and ``post_json(path, body) -> (status, json or None)``.
    """

    def __init__(self, transport, deps=None):
        self.transport = transport
        self.deps = deps if deps is not None else transport.get_json("/_dash-dependencies")
        layout = transport.get_json("/_dash-layout")
        self.props = {stringify_id(n["props"]["id"]): dict(n["props"])
                      for n in _walk(layout) if "id" in n["props"]}
        self.clicks: dict = {}  # button id -> presses so far (a page's n_clicks only grow)

    def _matching(self, pattern):
        """Concrete ids in the layout that match a wildcard id (ALL)."""
        found = []
        for key, props in self.props.items():
            cid = props["id"]
            if isinstance(cid, dict) and set(cid) == set(pattern) and all(
                    isinstance(pattern[k], list) or pattern[k] == cid[k] for k in pattern):
                found.append(cid)
        return sorted(found, key=lambda c: json.dumps(c, sort_keys=True))

    @staticmethod
    def outputs_of(dep):
        out = split_callback_id(dep["output"])
        return out if isinstance(out, list) else [out]

    def find(self, component, prop, duplicate=False):
        """The server callback writing component.prop (the ``allow_duplicate`` one or not)."""
        hits = []
        for dep in self.deps:
            if dep.get("clientside_function"):
                continue
            for o in self.outputs_of(dep):
                name, _, dup = o["property"].partition("@")
                if _parse_id(o["id"]) == component and name == prop and bool(dup) == duplicate:
                    hits.append(dep)
        assert len(hits) == 1, (component, prop, duplicate, len(hits))
        return hits[0]

    def server_callbacks(self):
        return [d for d in self.deps if not d.get("clientside_function")]

    def value(self, id_, prop):
        return self.props.get(stringify_id(id_), {}).get(prop)

    def _dep_list(self, specs, values):
        out = []
        for spec in specs:
            id_ = _parse_id(spec["id"])
            if _is_wildcard(id_):
                out.append([{"id": cid, "property": spec["property"],
                             "value": values.get((stringify_id(cid), spec["property"]),
                                                 self.value(cid, spec["property"]))}
                            for cid in self._matching(id_)])
            else:
                key = (id_, spec["property"])
                out.append({"id": id_, "property": spec["property"],
                            "value": values[key] if key in values else self.value(id_, spec["property"])})
        return out

    def body(self, dep, values=None, changed=None):
        """The request body for ``dep`` with some values set: {(id, prop): value}."""
        values_in = values or {}
        values = dict(values_in)
        for key, v in list(values.items()):  # a press: the button's count goes up by one
            if key[1] == "n_clicks" and isinstance(v, int) and v > 0:
                self.clicks[key[0]] = self.clicks.get(key[0], 0) + 1
                values[key] = self.clicks[key[0]]
        for key, n in self.clicks.items():  # every later request carries the count, as a page's does
            values.setdefault((key, "n_clicks"), n)
        outputs = []
        for o in self.outputs_of(dep):
            id_ = _parse_id(o["id"])
            outputs.append([{"id": cid, "property": o["property"]} for cid in self._matching(id_)]
                           if _is_wildcard(id_) else {"id": id_, "property": o["property"]})
        if changed is None:
            changed = [f"{i}.{p}" for i, p in values if (i, p) in values_in and any(
                s["id"] == i and s["property"] == p for s in dep["inputs"])]
        return {"output": dep["output"], "outputs": outputs if len(outputs) > 1 or
                dep["output"].startswith("..") else outputs[0],
                "inputs": self._dep_list(dep["inputs"], values),
                "state": self._dep_list(dep["state"], values),
                "changedPropIds": changed}

    def call(self, dep, values=None, changed=None):
        """POST like the renderer; returns (status, response json or None)."""
        return self.transport.post_json("/_dash-update-component", self.body(dep, values, changed))


