"""What a lesson may claim, and how the engine measures it: the claim kinds.

A claim kind (``ClaimKind``) says in words what it asserts, which parameters it takes (each with
its parser and default) and how it is measured: ``measure(lesson, experiment, params)`` trains
the lesson's runs and returns ``Evidence``, one line and one verdict per run. The kinds here and
those of ``app.page.claims_more`` make ``app.page.lessons.CLAIMS``, which the lesson loader
checks every lesson's claim against. Pure Python and NumPy: no dash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np

import lossviz
from lossviz import Experiment, RunConfig
from lossviz.checks import finite_real, short, whole

if TYPE_CHECKING:  # what a measure reads; the lesson loader imports this module, not the reverse
    from .lessons import Compare, Lesson

RUNS = ("a", "b")
REQUIRED = object()  # a claim parameter without a default
SURFACE_GRID = 11  # points per axis when a claim measures a landscape


@dataclass(frozen=True)
class Evidence:
    """What a claim measured: one line per run, per run whether the claim holds naming it, and
    (for some kinds) per run the measured numbers by name, for tests that look further."""

    per_run: tuple[str, ...]
    holds_for: tuple[bool, ...]
    numbers: tuple[Mapping[str, float], ...] = ()


def _choice(*options: Any) -> Callable[[Any], Any]:
    def parse(v: Any) -> Any:
        if isinstance(v, (str, bool)) and v in options:
            return v
        raise ValueError(f"choose one of: {', '.join(map(str, options))}; got {short(v)}")
    return parse


def _number(lo: float, hi: float, *, low_open: bool = False, integral: bool = False) -> Callable[[Any], Any]:
    def parse(v: Any) -> Any:
        f = whole(v) if integral else finite_real(v)
        if f is None or f < lo or f > hi or (low_open and f == lo):
            span = f"({lo:g}, {hi:g}]" if low_open else f"[{lo:g}, {hi:g}]"
            raise ValueError(f"must be a {'whole ' if integral else ''}number in {span}, got {short(v)}")
        return f
    return parse


@dataclass(frozen=True)
class ClaimKind:
    """One kind of claim: its parameters (name -> (parser, default or REQUIRED)), what it says, and
    ``measure(lesson, experiment, params) -> Evidence``; ``task``/``two_runs``/``same_loss`` say
    which lessons it fits (checked at load)."""

    name: str
    params: dict[str, tuple[Callable[[Any], Any], Any]]
    says: str
    measure: Callable[[Lesson, Experiment, Mapping[str, Any]], Evidence]
    task: str | None = None
    two_runs: bool = True
    same_loss: bool = False
    fits: Callable[[RunConfig], str] | None = None  # why the claimed run's config does not fit ("" if it does)
    # (parameter, why it does not fit run A's config and the compare table) or ("", "")
    fits_params: Callable[[RunConfig, Compare | None, Mapping[str, Any]], tuple[str, str]] | None = None
    words: Callable[[Mapping[str, Any]], dict] | None = None  # more names for ``says``, from the parameters


def _smaller_by(x: float, y: float, factor: float) -> bool:
    """x is below y, and at most y / factor (False for NaN)."""
    return bool(x < y and x * factor <= y)


def _pairwise(values: list[float], factor: float, smaller: bool = True) -> tuple[bool, ...]:
    """Per run i of two: does it beat the other by ``factor`` (lower value, or higher)?"""
    return tuple(_smaller_by(values[i], values[1 - i], factor) if smaller
                 else _smaller_by(values[1 - i], values[i], factor) for i in range(2))


def _finish(exp: Experiment) -> None:
    while not exp.finished:
        exp.advance(1000)


def _accuracy(run: lossviz.Trainer) -> float:
    out = run.net.forward(run.params, run.data.X_train)
    return float((out.argmax(axis=1) == run.data.y_train).mean())


def _reaches_first(lesson: Lesson, exp: Experiment, p: Mapping[str, Any]) -> Evidence:
    steps = [0 if _accuracy(r) >= p["target"] else math.inf for r in exp.runs]
    while not exp.finished and math.inf in steps:
        exp.advance(1)
        for i, r in enumerate(exp.runs):
            if steps[i] == math.inf and _accuracy(r) >= p["target"]:
                steps[i] = r.step_count
    lines = tuple(f"{p['target']:.0%} training accuracy at step {s}" if s < math.inf
                  else f"never {p['target']:.0%} in {r.step_count} steps" for s, r in zip(steps, exp.runs))
    return Evidence(lines, _pairwise(steps, p["factor"]))


def _fits_clean(lesson: Lesson, exp: Experiment, p: Mapping[str, Any]) -> Evidence:
    exp.advance(max(r.total_steps for r in exp.runs) * 9 // 10)
    before = [r.params.copy() for r in exp.runs]  # the weights with a tenth of the steps to go
    _finish(exp)
    errors, moves = [], []
    for r, w in zip(exp.runs, before):
        ok = r.evaluate().status == "done"
        out = r.net.forward(r.params, r.data.X_test)[:, 0]
        errors.append(float(np.mean((out - r.data.y_test) ** 2)) if ok else math.nan)
        moves.append(float(np.abs(r.params - w).max()) if ok else math.inf)
    settled = all(m <= p["settle"] for m in moves)  # the fits are where each loss leads, not a snapshot
    return Evidence(tuple(f"MSE on the clean test points {e:.4g}; in the last tenth of the steps no weight "
                          f"moved more than {m:.2g}" for e, m in zip(errors, moves)),
                    tuple(h and settled for h in _pairwise(errors, p["factor"])))


def _diverges(lesson: Lesson, exp: Experiment, p: Mapping[str, Any]) -> Evidence:
    runs = exp.runs
    first = [r.evaluate().train_loss for r in runs]
    before, last = [r.params.copy() for r in runs], [None] * len(runs)
    turns, pairs = [0] * len(runs), [0] * len(runs)
    with np.errstate(all="ignore"):
        while not exp.finished:
            exp.advance(1)
            for i, r in enumerate(runs):
                move, before[i] = r.params - before[i], r.params.copy()
                if not move.any() or not np.isfinite(move).all():
                    continue
                if last[i] is not None:  # a step against the one before: the path zig-zags
                    pairs[i], turns[i] = pairs[i] + 1, turns[i] + int(move @ last[i] < 0)
                last[i] = move
    ends = [r.evaluate() for r in runs]
    learnt = [s.status == "done" and s.train_loss < l0 for s, l0 in zip(ends, first)]
    zigzag = [pairs[i] > 0 and turns[i] >= p["reversals"] * pairs[i] for i in range(len(runs))]
    holds = tuple(ends[i].status == "diverged" and zigzag[i] and all(learnt[j] for j in range(len(runs)) if j != i)
                  for i in range(len(runs)))
    lines = tuple(f"{s.status} at step {s.step}, loss {l0:.3g} -> {s.train_loss:.3g}, {t} of {n} steps reversed"
                  for s, l0, t, n in zip(ends, first, turns, pairs))
    return Evidence(lines, holds)


def _rise(run: lossviz.Trainer, span: float, planes: int) -> float:
    """Mean rise of the run's loss over ±span of filter-normalized random planes through its weights
    (the first plane is the one the app draws for one run), averaged over ``planes`` planes."""
    ax = np.linspace(-span, span, SURFACE_GRID)
    c, rises = run.config, []
    with np.errstate(all="ignore"):
        for k in range(planes):
            d1, d2 = lossviz.random_directions(run.params, run.net, c.seed + k, "filter")
            z = lossviz.surface(run.params, d1, d2, ax, ax, run.data.X_train, run.data.y_train,
                                layer_sizes=run.net.layer_sizes, activation=c.activation, loss=c.loss,
                                huber_delta=c.huber_delta, label_smoothing=c.label_smoothing, dtype=np.float64)
            rises.append(z.mean() - z[SURFACE_GRID // 2, SURFACE_GRID // 2])
    return float(np.mean(rises))


def _landscape(smaller: bool) -> Callable[[Lesson, Experiment, Mapping[str, Any]], Evidence]:
    def measure(lesson: Lesson, exp: Experiment, p: Mapping[str, Any]) -> Evidence:
        if p["at"] == "end":
            _finish(exp)
        span = lesson.view.get("range", 1.0)
        ok = [r.status != "diverged" and (p["at"] == "start" or r.finished) for r in exp.runs]
        rises = [_rise(r, span, p["planes"]) if good else math.nan for r, good in zip(exp.runs, ok)]
        return Evidence(tuple(f"loss rises {v:.4g} on average within ±{span:g} of its {p['at']} weights"
                              for v in rises), _pairwise(rises, p["factor"], smaller))
    return measure


def _one_start(config: RunConfig, compare: Compare | None, p: Mapping[str, Any]) -> tuple[str, str]:
    if p["at"] == "start" and compare is not None and compare.field == "hidden":
        return "at", "at the start compares the runs at their shared initial weights; two network shapes share none"
    return "", ""


def _where(p: Mapping[str, Any]) -> dict:
    return {"where": "the initial weights both runs share" if p["at"] == "start" else "its final weights"}


PUSH_P_MIN = 1e-6  # the smallest true-class probability a push claim looks at


def _vanishing_push(lesson: Lesson, exp: Experiment, p: Mapping[str, Any]) -> Evidence:
    """Each run's loss's push |dL/dz_true| at one point whose true class has probability p (the
    rest shared by the other classes), for p from PUSH_P_MIN to ``below_p``: the curve the "why"
    view draws (``lossviz.loss_profile``), from the registry's gradients."""
    ps = np.geomspace(PUSH_P_MIN, p["below_p"], 61)
    k = exp.a.data.n_classes
    pushes = [np.abs(lossviz.loss_profile(r.config.loss, "classification", ps, k=k, huber_delta=r.config.huber_delta,
                                          label_smoothing=r.config.label_smoothing)[1]) for r in exp.runs]
    holds, lines = [], []
    for i, mine in enumerate(pushes):
        other = pushes[1 - i]
        holds.append(bool((mine <= p["fraction"] * other).all() and (mine <= p["slope"] * ps * (1 + 1e-9)).all()
                          and (other >= p["keeps"]).all()))
        lines.append(f"push {mine[-1]:.3g} at p = {p['below_p']:g}, {mine[0]:.2g} at p = {PUSH_P_MIN:g}; at most "
                     f"{(mine / ps).max():.3g}·p and {(mine / other).max():.3g}x the other run's")
    return Evidence(tuple(lines), tuple(holds))


def _train_loss(run: lossviz.Trainer) -> float:
    return run.evaluate().train_loss


def _edge_of_stability(lesson: Lesson, exp: Experiment, p: Mapping[str, Any]) -> Evidence:
    from lossviz.sharpness import sharpness, stability_threshold

    lines, holds = [], []
    for r in exp.runs:  # one run at a time: λmax every `every` steps, the loss at every step
        edge, steps, share, losses = stability_threshold(r.config), [], [], [_train_loss(r)]
        while r.status != "diverged":
            if r.step_count % p["every"] == 0 or r.finished:
                steps.append(r.step_count)
                share.append(sharpness(r) / edge)
            if r.finished:
                break
            r.advance(1)
            losses.append(_train_loss(r))
        at = next((i for i, v in enumerate(share) if v >= p["fraction"]), None)
        if at is None or r.status == "diverged":
            holds.append(False)
            lines.append(f"λmax from {share[0]:.0%} of its line {edge:.4g} up to {max(share):.0%}, "
                         f"never {p['fraction']:.0%} of it with the run going on ({r.evaluate().status})")
            continue
        then, after = steps[at], np.array(share[at:])
        ups = float((np.diff(losses[then:]) > 0).mean()) if len(losses) > then + 1 else 0.0
        # the end is the median of the last tenth of the steps from there: a run at the edge
        # spikes now and then, and its very last step may be one of the spikes
        end = float(np.median(losses[-max(1, (len(losses) - then) // 10):]))
        drop = 1 - end / losses[then]
        holds.append(share[0] <= p["start_below"] and 1 - p["band"] <= after.min() and after.max() <= 1 + p["band"]
                     and drop >= p["drop"] and ups >= p["rises"])
        lines.append(f"λmax {share[0]:.0%} of its line {edge:.4g} at the start, {share[at]:.0%} at step {then}, "
                     f"then {after.min():.0%} to {after.max():.0%}; the loss {losses[then]:.3g} there, "
                     f"{end:.3g} over its last tenth of steps (median, {drop:.0%} lower), up on {ups:.1%} "
                     "of the steps between")
    return Evidence(tuple(lines), tuple(holds))


def _plain_full_batch(config: RunConfig) -> str:
    from lossviz.sharpness import line_is_preconditioned

    if line_is_preconditioned(config):
        return (f"is for a plain optimizer's λmax(H); {config.optimizer}'s stability line holds for the "
                "preconditioned sharpness λmax(P⁻¹H): use reaches_preconditioned_edge")
    return "" if config.batch_size == 0 else "needs full-batch training (batch_size = 0): the line is a full-batch rule"


def _sweep_rates(p: Mapping[str, Any]) -> np.ndarray:
    from lossviz.sweep import log_rates

    return log_rates(p["low"], p["high"], p["count"])


def _rate_in_sweep(config: RunConfig, compare: Compare | None, p: Mapping[str, Any]) -> tuple[str, str]:
    if compare is not None and compare.field == "lr":
        return "kind", "sweeps the learning rate itself: compare another setting"
    if p["high"] <= p["low"]:
        return "high", f"needs high above low ({p['low']:g})"
    rates = _sweep_rates(p)
    if not np.isclose(rates, config.lr, rtol=1e-9, atol=0).any():
        return "low", (f"sweeps {', '.join(f'{r:.4g}' for r in rates)}: the lesson's learning rate {config.lr:g} "
                       "must be one of them (the race at the shared rate is one row of the sweep)")
    return "", ""


def _faster_until_tuned(lesson: Lesson, exp: Experiment, p: Mapping[str, Any]) -> Evidence:
    from lossviz.sweep import lr_sweep

    rates, target = _sweep_rates(p), p["target"]
    shared = int(np.argmin(np.abs(np.log(rates / exp.a.config.lr))))
    sweeps = [lr_sweep(r.config, rates, every=p["every"], params_init=r.params_init, data=exp.data)
              for r in exp.runs]
    at_shared = [s.first_step_at(target, shared) for s in sweeps]
    at_best = [s.first_step_at(target) for s in sweeps]
    final = [100 * float(s.metric[s.best, -1]) for s in sweeps]
    close = abs(final[0] - final[1]) <= p["gap"]
    holds = tuple(_smaller_by(at_shared[i], at_shared[1 - i], p["factor"]) and at_best[1 - i] < at_shared[i]
                  and close for i in range(2))
    when = lambda s: f"at step {s:g}" if s < math.inf else "never"  # noqa: E731
    lines = tuple(f"{target:.0%} training accuracy {when(a)} at lr {rates[shared]:g}; best rate {s.best_rate:g} "
                  f"(final loss {s.final_loss[s.best]:.3g}): {target:.0%} {when(b)}, {f:.1f}% at the end"
                  for s, a, b, f in zip(sweeps, at_shared, at_best, final))
    numbers = tuple(MappingProxyType({"at_shared": a, "at_best": b, "best_rate": s.best_rate, "final": f})
                    for s, a, b, f in zip(sweeps, at_shared, at_best, final))
    return Evidence(lines, holds, numbers)


def _adaptive_full_batch(config: RunConfig) -> str:
    from lossviz.sharpness import line_is_preconditioned

    if not line_is_preconditioned(config):
        return f"needs an adaptive optimizer (adam or rmsprop), not {config.optimizer!r}"
    return "" if config.batch_size == 0 else "needs full-batch training (batch_size = 0): the line is a full-batch rule"


def _preconditioned_edge(lesson: Lesson, exp: Experiment, p: Mapping[str, Any]) -> Evidence:
    from lossviz.sharpness import sharpness, stability_threshold

    lines, holds = [], []
    for r in exp.runs:  # each run measured every `every` steps to its end, from its first step on
        edge, steps, pre, raw = stability_threshold(r.config), [], [], []
        while r.status != "diverged":
            if r.step_count and r.optimizer.adaptive:
                steps.append(r.step_count)
                pre.append(sharpness(r, preconditioned=True))
                raw.append(sharpness(r))
            if r.finished:
                break
            r.advance(p["every"])
        at = next((i for i, v in enumerate(pre) if v >= p["fraction"] * edge), None) if pre else None
        if at is None:
            holds.append(False)
            lines.append(f"λmax(P⁻¹H) up to {max(pre, default=math.nan):.4g}, never at {p['fraction']:.0%} of "
                         f"its line {edge:.4g} ({r.evaluate().status})")
            continue
        after, top_raw = pre[at:], max(raw)
        holds.append(r.evaluate().status == "done" and top_raw < p["raw_below"] * edge
                     and (1 - p["band"]) * edge <= min(after) and max(after) <= (1 + p["band"]) * edge)
        lines.append(f"λmax(P⁻¹H) at {p['fraction']:.0%} of its line {edge:.4g} by step {steps[at]}, "
                     f"then {min(after):.4g} to {max(after):.4g}; λmax(H) at most {top_raw:.4g} "
                     f"({top_raw / edge:.1%} of the line)")
    return Evidence(tuple(lines), tuple(holds))


RUN = (_choice(*RUNS), REQUIRED)
FACTOR = (_number(1, 1e6), 1.0)
PLANES = (_number(1, 16, integral=True), 4)
AT = (_choice("start", "end"), "end")  # a landscape claim's weights: the shared initial ones, or each run's final
# {RUN} is the run a claim names, {OTHER} the other one; the rest are the claim's parameters.
FIRST_CLAIMS: dict[str, ClaimKind] = {k.name: k for k in [
    ClaimKind("reaches_accuracy_first", {"run": RUN, "target": (_number(0, 1, low_open=True), REQUIRED),
                                         "factor": FACTOR},
              "run {RUN} reaches {target:.0%} training accuracy first, in at most 1/{factor:g} of the steps "
              "run {OTHER} takes (or run {OTHER} never does)", _reaches_first, task="classification"),
    ClaimKind("fits_clean_points_better", {"run": RUN, "factor": FACTOR, "settle": (_number(0, 1), 1e-4)},
              "both runs end settled (in the last tenth of the steps no weight moves more than {settle:g}), and "
              "run {RUN}'s fit has at least {factor:g}x smaller squared error on the clean test points than "
              "run {OTHER}'s", _fits_clean, task="regression"),
    ClaimKind("diverges", {"run": RUN, "reversals": (_number(0, 1), 0.0)},
              "run {RUN} zig-zags (at least {reversals:.0%} of its steps reverse the one before), then "
              "diverges; the other run trains to the end with a falling loss", _diverges, two_runs=False),
    ClaimKind("flatter", {"run": RUN, "factor": FACTOR, "planes": PLANES, "at": AT},
              "around {where} run {RUN}'s loss rises at least {factor:g}x less than run {OTHER}'s "
              "(mean over {planes} random filter-normalized planes)", _landscape(smaller=True), same_loss=True,
              fits_params=_one_start, words=_where),
    ClaimKind("sharper", {"run": RUN, "factor": FACTOR, "planes": PLANES, "at": AT},
              "around {where} run {RUN}'s loss rises at least {factor:g}x more than run {OTHER}'s "
              "(mean over {planes} random filter-normalized planes)", _landscape(smaller=False), same_loss=True,
              fits_params=_one_start, words=_where),
    ClaimKind("smaller_push_on_wrong_points", {"run": RUN, "below_p": (_number(0, 0.5, low_open=True), 0.05),
                                               "fraction": (_number(0, 1, low_open=True), 0.1),
                                               "slope": (_number(0, 1e6, low_open=True), 2.0),
                                               "keeps": (_number(0, 1), 0.9)},
              "at a point whose true class has probability p, anywhere from {below_p:g} down to 1e-6 (confidently "
              "wrong), run {RUN}'s loss pushes the true logit at most {fraction:.0%} as hard as run {OTHER}'s, "
              "and its push fades to 0 with p (it is at most {slope:g}·p), while run {OTHER}'s stays at "
              "{keeps:g} or more", _vanishing_push, task="classification"),
    ClaimKind("reaches_edge_of_stability", {"run": RUN, "fraction": (_number(0, 2, low_open=True), 0.9),
                                            "start_below": (_number(0, 2, low_open=True), 0.8),
                                            "band": (_number(0, 1, low_open=True), 0.25),
                                            "drop": (_number(0, 1), 0.05), "rises": (_number(0, 1), 0.02),
                                            "every": (_number(1, 1000, integral=True), 10)},
              "run {RUN}'s sharpness λmax starts below {start_below:.0%} of its stability line (2/η for plain "
              "gradient descent), climbs to {fraction:.0%} of it and from then on stays within ±{band:.0%} of it "
              "(λmax measured every {every} steps); from there the loss falls, its median over the run's last "
              "tenth of steps {drop:.0%} or more lower, not smoothly: it rises on at least {rises:.0%} of those steps",
              _edge_of_stability, two_runs=False, fits=_plain_full_batch),
    ClaimKind("faster_until_tuned", {"run": RUN, "target": (_number(0, 1, low_open=True), REQUIRED),
                                     "factor": FACTOR, "low": (_number(0, 100, low_open=True), REQUIRED),
                                     "high": (_number(0, 100, low_open=True), REQUIRED),
                                     "count": (_number(2, 25, integral=True), 7), "gap": (_number(0, 100), 2.0),
                                     "every": (_number(1, 1000, integral=True), 1)},
              "at the lesson's learning rate run {RUN} reaches {target:.0%} training accuracy in at most "
              "1/{factor:g} of run {OTHER}'s steps; swept over {count} log-spaced learning rates from {low:g} to "
              "{high:g} from the same start, run {OTHER} at its own best rate (its lowest final training loss) "
              "reaches {target:.0%} in fewer steps than run {RUN} took at the lesson's rate, and each at its best "
              "rate the two end within {gap:g} percentage points of each other's training accuracy (accuracy read "
              "every {every} steps)",
              _faster_until_tuned, task="classification", fits_params=_rate_in_sweep),
    ClaimKind("reaches_preconditioned_edge", {"run": RUN, "fraction": (_number(0, 2, low_open=True), 0.9),
                                              "band": (_number(0, 1, low_open=True), 0.5),
                                              "raw_below": (_number(0, 1, low_open=True), 0.05),
                                              "every": (_number(1, 1000, integral=True), 10)},
              "run {RUN}'s preconditioned sharpness λmax(P⁻¹H), P from its optimizer's own state, rises to at "
              "least {fraction:.0%} of its stability line (38/η for Adam) and from then on stays within "
              "±{band:.0%} of it, while λmax(H), the Hessian's own sharpness, stays below {raw_below:.0%} of that "
              "line all run (both measured every {every} steps)",
              _preconditioned_edge, two_runs=False, fits=_adaptive_full_batch),
]}
