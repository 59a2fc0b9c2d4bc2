"""The run store: values without pickle, private files, small records, chunks, leases, expiry."""
import os
import pickle
import stat
import threading

import numpy as np
import pytest

from app.runs import codec
from app.runs.kv import DiskKV, private_directory
from app.runs.run import RunView, advance_run, create_run, load_view, new_run, publish, restore, save_model, save_params
from app.runs.store import CURVE_CHUNK, RunStore, owner_of
from lossviz import RunConfig

SMALL = RunConfig(dataset="moons", n_samples=100, hidden=(6, 5), epochs=300)
MINIBATCH = RunConfig(dataset="moons", n_samples=100, hidden=(6,), batch_size=10, epochs=40)


@pytest.fixture
def store(tmp_path):
    s = RunStore.open(str(tmp_path / "store"))
    yield s
    s.close()


# --- codec ----------------------------------------------------------------------------------

def test_codec_round_trips_nested_values_with_arrays():
    value = {"a": np.arange(6.0).reshape(2, 3), "b": [1, 2.5, None, "x", True, float("nan")],
             "c": {"d": np.array(["random", "pca"]), "e": np.int64(3)}, "f": (1, 2)}
    back = codec.decode(codec.encode(value))
    np.testing.assert_array_equal(back["a"], value["a"])
    assert back["b"][:5] == [1, 2.5, None, "x", True] and np.isnan(back["b"][5])
    assert list(back["c"]["d"]) == ["random", "pca"] and back["c"]["e"] == 3 and back["f"] == [1, 2]


@pytest.mark.parametrize("junk", [b"", b"\x00\x00\x00\x05hello", pickle.dumps({"a": 1}), "text", None])
def test_codec_refuses_what_it_did_not_write(junk):
    with pytest.raises(ValueError):
        codec.decode(junk)


def test_codec_never_unpickles_an_object_array():
    evil = codec.encode({"a": np.zeros(2)}).replace(b"<f8", b"|O8")  # an object array in disguise
    with pytest.raises(ValueError):
        codec.decode(evil)


def test_codec_refuses_objects():
    with pytest.raises(TypeError):
        codec.encode({"f": object()})


# --- files ----------------------------------------------------------------------------------

def test_store_directory_is_private(tmp_path):
    path = tmp_path / "loose"
    path.mkdir(mode=0o755)
    os.chmod(path, 0o755)
    private_directory(str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    s = RunStore.open(str(tmp_path / "new"))
    try:
        for sub in ("", "/runs", "/results"):
            assert stat.S_IMODE(os.stat(f"{tmp_path}/new{sub}").st_mode) == 0o700, sub
    finally:
        s.close()


def test_nothing_in_the_store_is_a_pickle(store):
    hot = create_run(store, SMALL, owner_of("s" * 32))
    for key in store.runs.cache.iterkeys():
        raw = store.runs.cache.get(key)
        assert isinstance(key, str) and isinstance(raw, bytes), key
        with pytest.raises(Exception):
            pickle.loads(raw)
    assert hot["owner"] != "s" * 32  # the secret itself is never stored


# --- records --------------------------------------------------------------------------------

def test_created_run_is_small_and_readable(store):
    hot = create_run(store, SMALL, "o" * 32)
    assert store.hot(hot["run_id"]) == hot
    assert hot["state"] == "ready" and hot["step"] == 0 and hot["n_points"] == 1
    assert len(codec.encode(hot)) < 4000
    view = load_view(store, hot)
    np.testing.assert_array_equal(view.params, new_run(SMALL).trainer.params)
    assert view.trajectory.shape == (1, view.net.n_params)


def test_a_write_that_races_a_delete_leaves_nothing_behind(store, monkeypatch):
    """A job publishes as the page replaces its run: the run is deleted after the job looked for
    the deletion mark and before it wrote. Nothing of the run may stay (it did: a 'hot' record
    kept for hours, seen once in a full suite under load). Mutation caught: the look only before
    the write."""
    hot = create_run(store, SMALL, "o" * 32)
    rid, looked = hot["run_id"], []
    get = store.runs.get

    def get_then_delete(key):  # the deletion lands right after the writer's first look
        value = get(key)
        if key == f"run:{rid}:gone" and not looked:
            looked.append(key)
            store.delete_run(rid)
        return value

    monkeypatch.setattr(store.runs, "get", get_then_delete)
    store.put_hot(dict(hot, step=5))
    monkeypatch.undo()
    assert looked and store.hot(rid) is None
    assert not [k for k in store.runs.cache.iterkeys() if str(k).startswith(f"run:{rid}:") and not str(k).endswith(":gone")]


@pytest.mark.parametrize("run_id", [None, "", 3, "../../etc", "a" * 100, {"x": 1}])
def test_bad_run_ids_are_misses(store, run_id):
    assert store.hot(run_id) is None


def test_publish_restore_continues_exactly(store):
    hot = create_run(store, MINIBATCH, "o" * 32)
    state = restore(store, hot)
    for chunk in (7, 60, 3, 101):  # crosses curve and trajectory chunk boundaries
        advance_run(state, chunk)
        hot = publish(store, state, hot, "training")
        save_params(store, state, hot)
    save_model(store, state, hot)
    back = restore(store, store.hot(hot["run_id"]))
    plain = new_run(MINIBATCH)
    advance_run(plain, 171)
    np.testing.assert_array_equal(back.trainer.params, plain.trainer.params)
    np.testing.assert_array_equal(back.trainer.trajectory, plain.trainer.trajectory)
    assert back.history == plain.history
    assert hot["chunks"] == plain.n_points // CURVE_CHUNK
    assert store.points_since(hot, 0) == plain.points()
    assert store.points_since(hot, 60) == plain.points(60)
    view = load_view(store, hot)
    np.testing.assert_array_equal(view.trajectory, RunView.of_state(plain).trajectory)
    advance_run(back, 9)
    advance_run(plain, 9)
    np.testing.assert_array_equal(back.trainer.params, plain.trainer.params)


def test_tick_record_stays_small_on_a_long_run(store):
    hot = create_run(store, SMALL, "o" * 32)
    state = restore(store, hot)
    advance_run(state, 300)
    hot = publish(store, state, hot, "finished")
    assert hot["n_points"] == 301 and len(hot["tail"]) < CURVE_CHUNK
    assert len(codec.encode(hot)) < 8000


# --- leases ---------------------------------------------------------------------------------

def test_one_lease_per_run_whatever_the_timing(store):
    wins = []
    barrier = threading.Barrier(8)

    def grab(i):
        barrier.wait()
        if store.acquire("r1", f"job{i}"):
            wins.append(i)

    threads = [threading.Thread(target=grab, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert not store.renew("r1", "someone-else") and store.renew("r1", f"job{wins[0]}")
    store.release("r1", "someone-else")
    assert store.leased("r1")
    store.release("r1", f"job{wins[0]}")
    assert not store.leased("r1") and store.acquire("r1", "next")


def test_results_never_evict_runs(tmp_path):
    s = RunStore(DiskKV(str(tmp_path / "runs")), DiskKV(str(tmp_path / "results"), size_limit=2 ** 20))
    try:
        hot = create_run(s, SMALL, "o" * 32)
        for i in range(40):  # 40 x 100 KB of results into a 1 MB results store
            s.put_result(("big", i), np.random.default_rng(i).random(12_500))
        s.results.cache.cull()
        assert s.get_result(("big", 0)) is None  # results were evicted...
        assert s.hot(hot["run_id"]) == hot  # ...the run was not
        assert load_view(s, hot).params.shape == (hot["n_params"],)
    finally:
        s.close()


def test_runs_and_results_expire(store, monkeypatch):
    import time as time_module

    hot = create_run(store, SMALL, "o" * 32)
    store.put_result(("x",), {"a": 1}, ttl=0.05)
    real = time_module.time
    monkeypatch.setattr(time_module, "time", lambda: real() + 7 * 3600)  # after the run's 6 h
    assert store.hot(hot["run_id"]) is None and store.get_result(("x",)) is None


def test_owner_needs_a_real_secret():
    for bad in (None, "", "short", 3, ["x" * 30], "x" * 500):
        with pytest.raises(PermissionError):
            owner_of(bad)
    assert owner_of("a" * 32) != owner_of("b" * 32) and len(owner_of("a" * 32)) == 32


def test_a_process_threads_write_the_disk_store_one_at_a_time(tmp_path):
    """Writers of one process queue on a lock instead of meeting in SQLite's busy handler (which
    sleeps 25-100 ms once a writer has waited a little): at most one thread is inside a write."""
    kv, inside, most, guard = DiskKV(str(tmp_path / "kv")), [0], [0], threading.Lock()
    real_set = kv.cache.set

    def counting_set(*args, **kwargs):
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            threading.Event().wait(0.001)  # a write that takes a moment, as under load
            return real_set(*args, **kwargs)
        finally:
            with guard:
                inside[0] -= 1

    kv.cache.set = counting_set
    threads = [threading.Thread(target=lambda i=i: [kv.set(f"k{i}-{j}", b"v", 60) for j in range(30)])
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
    assert kv.get("k7-29") == b"v"
    kv.close()


def test_decoded_arrays_are_read_without_the_python_parser(monkeypatch):
    """np.load reads an .npy header with ast.literal_eval, whose bookkeeping CPython 3.11 shares
    between threads: under a class's load one request failed with "SystemError: AST constructor
    recursion depth mismatch". The store's own arrays are read without it, whole and writable;
    a header np.save would not write still reads (through np.load). Mutation caught: np.load
    used for every array (the patched parser raises)."""
    import ast
    import io

    import numpy as np

    from app.runs import codec

    values = {"w": np.arange(12.0).reshape(3, 4), "empty": np.zeros((0, 3)), "names": np.array(["ab", "c"]),
              "steps": np.arange(5, dtype=np.int32), "flags": np.array([True, False]),
              "f": np.asfortranarray(np.arange(6.0).reshape(2, 3)), "odd": np.array([np.nan, np.inf, -0.0])}
    blob = codec.encode(values)

    def no_parser(*_):
        raise AssertionError("the Python parser read an array header")

    monkeypatch.setattr(ast, "literal_eval", no_parser)
    back = codec.decode(blob)
    for k, v in values.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape, k
        assert np.array_equal(back[k], v, equal_nan=v.dtype.kind == "f"), k
        assert back[k].flags.writeable, k
    monkeypatch.undo()
    buf = io.BytesIO()  # a version-2 header: not what np.save writes for these, read by np.load
    np.lib.format.write_array(buf, np.arange(3.0), version=(2, 0))
    raw = buf.getvalue()
    head = b'{"a":{"__array__":[0,%d]}}' % len(raw)
    odd = len(head).to_bytes(4, "big") + head + raw
    assert codec.decode(odd)["a"].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError):
        codec.decode(len(head).to_bytes(4, "big") + head + b"\x93NUMPY" + raw[6:-8])  # cut short
