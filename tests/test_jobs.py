"""Jobs: exactly one trains a run whatever the timing; commands, cancellation, time limits,
a silent page, and the runner's cap."""
import threading
import time

import numpy as np
import pytest

from app.runs import jobs
from app.runs.jobs import ThreadRunner, run_job, send
from app.runs.run import advance_run, create_run, new_run, restore
from app.runs.store import RunStore
from lossviz import RunConfig, Trainer

SMALL = RunConfig(dataset="moons", n_samples=100, hidden=(6, 5), epochs=400)
HEAVY = RunConfig(dataset="moons", n_samples=4000, hidden=(128, 128), epochs=100_000)


@pytest.fixture(params=["disk", "redis"])
def store(request, tmp_path):
    """The run store on this disk, and in Redis (the scale-out path; needs redis-server)."""
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    s = RunStore.open(str(tmp_path / "store"), url)
    yield s
    s.close()


def wait_for(predicate, timeout=20.0, every=0.01):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(every)


def settled(store, run_id, seq):
    hot = store.hot(run_id)
    return hot["acked"] >= seq and hot["state"] != "training" and not store.leased(run_id)


def test_a_job_trains_to_the_end_and_leaves_a_readable_run(store):
    hot = create_run(store, SMALL.replace(epochs=30), "o" * 32)
    store.put_speed(hot["run_id"], "max")
    send(store, hot["run_id"], "train")
    assert run_job(store, hot["run_id"]) == "finished"
    hot = store.hot(hot["run_id"])
    assert hot["state"] == "finished" and hot["step"] == 30 and hot["acked"] == 1
    plain = new_run(SMALL.replace(epochs=30))
    advance_run(plain, 30)
    assert store.points_since(hot, 0) == plain.points()
    np.testing.assert_array_equal(restore(store, hot).trainer.params, plain.trainer.params)
    assert not store.leased(hot["run_id"])


def test_one_trainer_per_run_under_concurrent_presses(store, monkeypatch):
    """Presses from many threads (as from several server processes) never train a run twice at
    once, and the run ends exactly where one uninterrupted trainer ends."""
    active, most = [0], [0]
    lock = threading.Lock()
    real = Trainer.advance

    def counting(self, n=1):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            time.sleep(0.001)  # widen any window where two jobs could overlap
            return real(self, n)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(Trainer, "advance", counting)
    config = SMALL.replace(epochs=120)
    hot = create_run(store, config, "o" * 32)
    rid = hot["run_id"]
    store.put_speed(rid, "fast")
    runner = ThreadRunner(store, max_jobs=64)

    def presser(i):
        for k in range(6):
            send(store, rid, "train" if (i + k) % 3 else "pause")
            runner.submit(rid)
            time.sleep(0.01 * ((i * 7 + k) % 5))

    threads = [threading.Thread(target=presser, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seq = send(store, rid, "train")
    runner.submit(rid)
    wait_for(lambda: settled(store, rid, seq))
    assert most[0] == 1
    hot = store.hot(rid)
    assert hot["state"] == "finished" and hot["step"] == 120
    plain = Trainer(config)
    real(plain, 120)
    np.testing.assert_array_equal(restore(store, hot).trainer.params, plain.params)
    steps = [p[0] for p in store.points_since(hot, 0)]
    assert steps == sorted(set(steps)) and steps[-1] == 120


def test_pause_stops_a_busy_job_within_its_slice(store):
    """A Max-speed job (it trains without pause) sees a Pause at the end of the slice it is in:
    it takes no more steps after the press than two slices hold (the one it was in, and one
    that began as the press came). Counted in steps, not seconds, so a busy machine cannot fail
    it; a job that looked at its commands less often would."""
    hot = create_run(store, HEAVY, "o" * 32)
    rid = hot["run_id"]
    store.put_speed(rid, "max")
    runner = ThreadRunner(store)
    send(store, rid, "train")
    runner.submit(rid)
    wait_for(lambda: store.hot(rid)["step"] >= 3)
    per_slice, last = [], store.hot(rid)["step"]
    while len(per_slice) < 3:  # the steps of a slice: what each publish adds
        step = store.hot(rid)["step"]
        if step != last:
            per_slice.append(step - last)
            last = step
        time.sleep(0.002)
    at_press = store.hot(rid)["step"]
    seq = send(store, rid, "pause")
    wait_for(lambda: store.hot(rid)["acked"] >= seq, every=0.005)
    assert store.hot(rid)["step"] - at_press <= 2 * max(per_slice), (at_press, store.hot(rid)["step"], per_slice)
    wait_for(lambda: settled(store, rid, seq))
    step = store.hot(rid)["step"]
    time.sleep(0.3)
    assert store.hot(rid)["step"] == step and store.hot(rid)["state"] == "paused"


def test_steps_are_counted_per_press(store):
    hot = create_run(store, SMALL, "o" * 32)
    rid = hot["run_id"]
    for _ in range(3):
        send(store, rid, "step")
    run_job(store, rid)
    assert store.hot(rid)["step"] == 3 and store.hot(rid)["state"] == "paused"
    send(store, rid, "step")
    run_job(store, rid)
    assert store.hot(rid)["step"] == 4


def test_a_job_stops_at_its_time_limit(store):
    hot = create_run(store, SMALL.replace(epochs=100_000), "o" * 32)
    rid = hot["run_id"]
    send(store, rid, "train")
    start = time.monotonic()
    assert run_job(store, rid, time_limit_s=0.3) == "time limit"
    assert time.monotonic() - start < 0.8
    hot = store.hot(rid)
    assert hot["state"] == "paused" and "Train" in hot["message"] and hot["step"] > 0


def test_a_silent_page_stops_its_job(store, monkeypatch):
    monkeypatch.setattr(jobs, "SEEN_EVERY_S", 0.05)
    hot = create_run(store, SMALL.replace(epochs=100_000), "o" * 32)
    rid = hot["run_id"]
    store._put(rid, "seen", time.time() - 61)  # the page's last sign of life, a minute ago
    send(store, rid, "train")
    start = time.monotonic()
    assert run_job(store, rid) == "page gone"
    assert time.monotonic() - start < 1.0
    assert "closed" in store.hot(rid)["message"]
    if hasattr(store.runs, "cache"):  # a closed page's run is kept minutes, not hours
        from app.runs.store import UNTRAINED_TTL_S

        expire = store.runs.cache.get(f"run:{rid}:model", expire_time=True)[1]
        assert expire - time.time() <= UNTRAINED_TTL_S + 1


def test_a_page_never_seen_stops_its_job_idle_seconds_after_it_began(store, monkeypatch):
    from app.runs import caps

    monkeypatch.setattr(jobs, "SEEN_EVERY_S", 0.05)
    monkeypatch.setitem(caps.CAPS, "idle_seconds", caps.Cap("idle_seconds", 0.5, "seconds"))
    hot = create_run(store, SMALL.replace(epochs=100_000), "o" * 32)
    rid = hot["run_id"]
    send(store, rid, "train")
    start = time.monotonic()
    assert store.seen(rid) is None and run_job(store, rid) == "page gone"
    assert 0.5 <= time.monotonic() - start < 2.0
    assert "closed" in store.hot(rid)["message"] and store.hot(rid)["step"] > 0


def test_a_command_sent_while_a_job_stops_is_served(store):
    hot = create_run(store, SMALL, "o" * 32)
    rid = hot["run_id"]
    store.put_speed(rid, "fast")
    runner = ThreadRunner(store)
    for _ in range(30):  # press Pause then Train at once, many times: training must go on
        send(store, rid, "train")
        runner.submit(rid)
        time.sleep(0.02)
        send(store, rid, "pause")
        seq = send(store, rid, "train")
        runner.submit(rid)
    # (generous: make test runs this file at nice 19 beside the browser tests)
    wait_for(lambda: store.hot(rid)["acked"] >= seq and store.hot(rid)["state"] in ("training", "finished"), timeout=60)
    wait_for(lambda: store.hot(rid)["step"] >= 5, timeout=60)
    seq = send(store, rid, "pause")
    wait_for(lambda: settled(store, rid, seq), timeout=60)


def test_runner_refuses_beyond_its_memory_budget(store):
    runner = ThreadRunner(store, max_jobs=10)
    runner.budget.max_bytes = 100
    runs = [create_run(store, SMALL.replace(epochs=100_000), "o" * 32)["run_id"] for _ in range(2)]
    for rid in runs:
        send(store, rid, "train")
    assert runner.submit(runs[0], cost=80)  # the first job always fits
    assert not runner.submit(runs[1], cost=80)
    seq = send(store, runs[0], "pause")
    wait_for(lambda: settled(store, runs[0], seq))
    wait_for(lambda: runner.budget.bytes.value == 0)
    assert runner.submit(runs[1], cost=80)
    seq = send(store, runs[1], "pause")
    wait_for(lambda: settled(store, runs[1], seq))


def test_job_memory_estimate_grows_with_the_network(store):
    from app.runs.jobs import job_bytes

    small = job_bytes(create_run(store, SMALL, "o" * 32))
    big = job_bytes(create_run(store, SMALL.replace(hidden=(256, 256), n_samples=2000), "o" * 32))
    assert 0 < small < 5 * 2 ** 20 < 2 ** 23 < big


def test_runner_refuses_beyond_its_cap(store):
    runs = [create_run(store, SMALL.replace(epochs=100_000), "o" * 32)["run_id"] for _ in range(3)]
    runner = ThreadRunner(store, max_jobs=2)
    for rid in runs:
        send(store, rid, "train")
    assert runner.submit(runs[0]) and runner.submit(runs[1])
    assert not runner.submit(runs[2])
    for rid in runs[:2]:
        seq = send(store, rid, "pause")
        wait_for(lambda: settled(store, rid, seq))
    wait_for(lambda: runner.submit(runs[2]))
    seq = send(store, runs[2], "pause")
    wait_for(lambda: settled(store, runs[2], seq))


def test_an_expired_run_ends_its_job(store):
    assert run_job(store, "nosuchrun") == "expired"


def test_an_experiment_trains_both_runs_in_lockstep(store):
    from app.runs.run import create_experiment
    from lossviz import Experiment

    config = SMALL.replace(epochs=60, optimizer="sgd", lr=0.5)
    lead, partner = create_experiment(store, config, "o" * 32, "loss", "mse")
    assert store.partners(lead["run_id"]) == [partner["run_id"]] and partner["lead"] == lead["run_id"]
    assert (lead["label"], partner["label"]) == ("Cross-entropy", "Mean squared error")
    a0, b0 = (restore(store, h).trainer.params_init for h in (lead, partner))
    np.testing.assert_array_equal(a0, b0)  # one start
    store.put_speed(lead["run_id"], "fast")
    seen_behind = []

    def watch():  # as a tick reads: the lead's record, then its partner's
        while not store.hot(lead["run_id"])["state"] in ("finished",):
            a = store.hot(lead["run_id"])
            b = store.hot(partner["run_id"])
            if b["step"] < a["step"]:
                seen_behind.append((a["step"], b["step"]))
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    send(store, lead["run_id"], "train")
    watcher.start()
    assert run_job(store, lead["run_id"]) == "finished"
    watcher.join(timeout=10)
    assert not seen_behind, seen_behind[:5]
    hots = [store.hot(h["run_id"]) for h in (lead, partner)]
    assert [h["step"] for h in hots] == [60, 60] and all(h["state"] == "finished" for h in hots)
    plain = Experiment(config, "loss", "mse")
    plain.advance(60)
    for h, tr in zip(hots, plain.runs):
        np.testing.assert_array_equal(restore(store, h).trainer.params, tr.params)


def test_in_an_experiment_a_diverging_run_stops_alone(store):
    from app.runs.run import create_experiment

    config = RunConfig(dataset="sine", loss="mse", optimizer="sgd", lr=0.05, n_samples=100, epochs=80)
    lead, partner = create_experiment(store, config, "o" * 32, "lr", 100.0)
    store.put_speed(lead["run_id"], "max")
    send(store, lead["run_id"], "train")
    run_job(store, lead["run_id"])
    a, b = store.hot(lead["run_id"]), store.hot(partner["run_id"])
    assert b["state"] == "diverged" and b["step"] < 80
    assert a["state"] == "finished" and a["step"] == 80


def test_dropping_the_partner_keeps_the_lead_training(store):
    from app.runs.run import create_experiment

    lead, partner = create_experiment(store, SMALL.replace(epochs=100_000), "o" * 32, "lr", 0.05)
    rid = lead["run_id"]
    runner = ThreadRunner(store)
    send(store, rid, "train")
    runner.submit(rid)
    wait_for(lambda: store.hot(rid)["step"] >= 5)
    store.put_partners(rid, [])  # Compare off
    wait_for(lambda: store.hot(partner["run_id"])["state"] == "paused")
    b_step = store.hot(partner["run_id"])["step"]
    a_step = store.hot(rid)["step"]
    wait_for(lambda: store.hot(rid)["step"] > a_step + 5)  # A goes on alone
    assert store.hot(partner["run_id"])["step"] == b_step and store.hot(rid)["state"] == "training"
    seq = send(store, rid, "pause")
    wait_for(lambda: settled(store, rid, seq))


@pytest.mark.parametrize("vary, value", [(None, None), ("loss", "mse"), ("hidden", (9,))])
def test_a_run_is_stored_as_its_record_until_it_trains(store, vary, value):
    """A run at step 0 is its record only (no weights, no trainer state), and reads back as made:
    A and B of a comparison from their one start (B of another shape from its own). Fails when
    the untrained weights are stored again, or rebuilt from the wrong seed or start."""
    from app.runs.run import create_experiment, load_view
    from lossviz import Experiment

    big = SMALL.replace(hidden=(256, 256, 32))
    hots = create_experiment(store, big, "o" * 32, vary, value)
    made = Experiment(big, vary, value)
    for hot, trainer in zip(hots, made.runs):
        rid = hot["run_id"]
        assert store.model(rid) is None and store.params(rid) is None
        np.testing.assert_array_equal(restore(store, hot).trainer.params_init, trainer.params_init)
        np.testing.assert_array_equal(load_view(store, hot).params, trainer.params_init)
        assert restore(store, hot).history["train_loss"] == [hot["last"][1]]
    assert made.same_start == (vary != "hidden")


def test_an_untrained_run_trains_from_its_rebuilt_start(store):
    """Train from a record that holds no weights: the job rebuilds the start, trains, and saves
    weights and state; the run's path begins at its start. Fails when the job needs stored
    weights to begin."""
    from app.runs.run import create_experiment, load_view

    hot, = create_experiment(store, SMALL.replace(epochs=5), "o" * 32)
    start = Trainer(SMALL.replace(epochs=5)).params_init
    send(store, hot["run_id"], "train")
    run_job(store, hot["run_id"])
    hot = store.hot(hot["run_id"])
    assert hot["state"] == "finished" and store.model(hot["run_id"]) is not None
    view = load_view(store, hot)
    np.testing.assert_array_equal(view.trajectory[0], start)
    assert view.version == hot["step"] > 0


@pytest.mark.parametrize("speed, stepped_aside", [("max", True), ("normal", False)])
def test_only_max_speed_steps_aside_and_the_thread_gets_its_priority_back(store, monkeypatch, speed, stepped_aside):
    """A Max-speed job's thread runs at MAX_SPEED_NICENESS (it trains without pause); any other
    job at the web server's priority; the thread is back at its own after. Fails when every job
    is niced again (curves fell behind the views) or Max speed is not."""
    from app.runs import priority

    asked, seen = [], []

    def recording(niceness):
        asked.append(niceness)
        done = priority.set_thread_niceness(niceness)
        seen.append(priority.thread_niceness())
        return done

    monkeypatch.setattr(jobs, "set_thread_niceness", recording)
    hot = create_run(store, SMALL.replace(epochs=30), "o" * 32)
    store.put_speed(hot["run_id"], speed)
    send(store, hot["run_id"], "train")
    before = priority.thread_niceness()  # the test runner's own (0, or what `nice` gave it)
    assert run_job(store, hot["run_id"]) == "finished"
    assert (max(before, priority.MAX_SPEED_NICENESS) in asked[:-1]) == stepped_aside  # the last: back
    if stepped_aside:  # stepped aside: never to a higher priority than it had
        assert seen[0] == max(before, priority.MAX_SPEED_NICENESS)
    assert all(n >= before for n in seen)
    assert asked[-1] == before == priority.thread_niceness()  # back (lowering it needs root, as here)
