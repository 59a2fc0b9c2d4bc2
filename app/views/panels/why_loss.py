"""The "Why the loss matters" panel of compare mode: formulas, loss profiles, gradient histograms.

Compare mode trains two networks on the same data from the same initial weights with two
losses. This panel shows why they learn differently: each loss's formula and gradient in words,
one training point's loss and push against how right it is (``lossviz.loss_profile``), and how
hard every training point really pushes, with the misclassified points or outliers picked out.

Pure functions: arrays in, Markdown text or plain-dict figures (see :mod:`app.views.figures`) out. No
dash, no plotly: the callbacks place these on the page.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

import lossviz
from app.views.figures import Figure, message_figure
from app.views.figures import _figure as _with_look  # the shared look: title, fonts, template, kept zoom
from lossviz.checks import number, short
from lossviz.losses import hyper_value

RUN_COLOURS = ("#009E73", "#CC79A7")  # run A, run B: Okabe-Ito green and purple (blue/orange mean train/test)
RUN_DASHES = ("solid", "dash")
GUIDE_COLOUR = "#555555"
# p = 0.005 .. 1 in steps of 0.005 (0.01 and 0.5 exactly): at p = 0 cross-entropy is
# log(1e12) ≈ 28, a spike that would flatten every other line on the shared axes.
PROFILE_P = np.arange(1, 201) / 200
RESIDUAL_HALF_WIDTH = 3.0  # residuals -3..3, widened to ±2.5 δ so Huber's kinks show
HIST_BINS = 30
LOG_SPAN = 100.0  # log-spaced bins once the norms span more than two decades
LOG_FLOOR = 1e-12  # log bins start no lower than 1e-12 × the largest norm; smaller ones join bin 1
PROFILE_TITLE = "One training point: loss and gradient"
HIST_TITLE = "How hard each training point pushes"
DELTA = "<delta>"  # stands for Huber's δ in the TeX below
EPS, TARGET = "<eps>", "<target>"  # label smoothing ε, and the true class's target 1 − ε + ε/K

_HUBER_CASES = (r"\begin{cases} \tfrac12 r^2 & |r| \le \delta \\ "
                r"\delta\,(|r| - \tfrac12\delta) & |r| > \delta \end{cases}")
_SOFTMAX_SLOPE = r"\underbrace{p_y(1 - p_y)}_{\text{softmax slope}}"
# (loss, task) -> (TeX lines of an aligned block, one plain sentence). Conventions as PyTorch
# (README); each is the per-sample loss that lossviz.loss_profile draws, and its gradient
# at the output. A loss missing here falls back to the registry's formula and explanation.
_FORMULAS: dict[tuple[str, str], tuple[str, str]] = {
    ("cross_entropy", "classification"): (
        r"L &= -\log \mathrm{softmax}(z)_y = -\log p_y \\"
        "\n" r"\frac{\partial L}{\partial z_y} &= p_y - 1",
        "Cross-entropy grows without limit as the probability of the true class falls to zero, "
        "and its push on the true logit is strongest, close to −1, exactly when the network is "
        "confidently wrong."),
    ("cross_entropy+smoothing", "classification"): (
        r"L &= -\sum_{k=1}^{K} t_k \log p_k, \qquad t_k = (1 - \varepsilon)\,[k = y] + \varepsilon/K, "
        r"\quad \varepsilon = " + EPS + r" \\"
        "\n" r"\frac{\partial L}{\partial z_y} &= p_y - \Big(1 - \varepsilon + \frac{\varepsilon}{K}\Big) "
        r"= p_y - " + TARGET,
        "Label smoothing aims the true class at 1 − ε + ε/K = " + TARGET + ", not at 1: the push on "
        "the true logit is zero there, and once the network is surer than that it pulls the logit "
        "back, so the logits stop growing. Far from it, it pushes as cross-entropy does."),
    ("mse", "classification"): (
        r"L &= \frac{1}{K}\sum_{k=1}^{K} \big(p_k - [k = y]\big)^2, \qquad p = \mathrm{softmax}(z) \\"
        "\n" r"\frac{\partial L}{\partial z_y} &= \frac{2}{K}\Big[(p_y - 1)\," + _SOFTMAX_SLOPE
        + r" - \sum_{k \ne y} p_k^2\, p_y\Big] \;\to\; 0 \ \text{ as } p_y \to 0",
        "Squared error on the softmax probabilities reaches the logits through the softmax slope, "
        "so its push fades away when the network is confidently wrong, just where a push is "
        "needed most."),
    ("huber", "classification"): (
        r"L &= \frac{1}{K}\sum_{k=1}^{K} h_\delta\big(p_k - [k = y]\big), \qquad p = \mathrm{softmax}(z) \\"
        "\n" r"h_\delta(r) &= " + _HUBER_CASES + r", \qquad \delta = " + DELTA + r" \\"
        "\n" r"\frac{\partial L}{\partial z_y} &= \frac{1}{K}\Big[h_\delta'(p_y - 1)\,"
        + _SOFTMAX_SLOPE + r" - \sum_{k \ne y} h_\delta'(p_k)\, p_k\, p_y\Big] \\"
        "\n" r"h_\delta'(r) &= \max(-\delta, \min(r, \delta))",
        "Like squared error on probabilities with each residual's push capped at δ, it still "
        "reaches the logits through the softmax slope, so its push fades when the network is "
        "confidently wrong."),
    ("mse", "regression"): (
        r"L &= (\hat y - y)^2 = r^2, \qquad r = \hat y - y \\"
        "\n" r"\frac{\partial L}{\partial \hat y} &= 2r",
        "The push grows in proportion to the residual, so one far-off point (an outlier) pulls on "
        "the fit as hard as many well-fitted points together."),
    ("huber", "regression"): (
        r"L &= " + _HUBER_CASES + r", \qquad r = \hat y - y, \quad \delta = " + DELTA + r" \\"
        "\n" r"\frac{\partial L}{\partial \hat y} &= \begin{cases} r & |r| \le \delta \\ "
        r"\delta\,\operatorname{sign}(r) & |r| > \delta \end{cases}",
        "Squared error near the target and absolute error beyond δ, so the push is capped at ±δ "
        "and an outlier pulls no harder than any other badly fitted point."),
}


def formula_markdown(loss: str, task: str, huber_delta: float = 1.0, label_smoothing: float = 0.0,
                     *, k: int = 2) -> str:
    """Markdown for ``dcc.Markdown(mathjax=True)``: the loss and its gradient as display TeX, then
    one plain sentence.

    Parameters
    ----------
    loss : a name in ``lossviz.LOSSES``; task : "classification" or "regression"
    huber_delta : Huber's δ, shown with its value in Huber's formula
    label_smoothing : cross-entropy's ε; above 0 the formula has the smoothed targets and the
        true class's target 1 − ε + ε/K for ``k`` classes

    Returns
    -------
    str : a ``$$`` block on lines of its own (remark-math's display math), a blank line, the sentence

    Raises
    ------
    ValueError : the registry's message for an unknown loss or task, or a loss the task refuses
    """
    entry = lossviz.get_loss(loss, task)
    delta, eps = _delta(huber_delta), _eps(entry, label_smoothing)
    key = entry.name + ("+smoothing" if eps else "")
    tex, sentence = _FORMULAS.get((key, task), (entry.formula, entry.explanation))
    target = smoothed_target(eps, k)
    tex = tex.replace(DELTA, _tex_number(delta)).replace(EPS, _tex_number(eps)).replace(TARGET, _tex_number(target))
    sentence = sentence.replace(TARGET, f"{target:.4g} (K = {k})")
    return f"$$\n\\begin{{aligned}}\n{tex}\n\\end{{aligned}}\n$$\n\n{sentence}\n"


def _delta(huber_delta: object) -> float:
    delta = number(huber_delta, "huber_delta")
    if delta <= 0:
        raise ValueError(f"huber_delta must be a positive number, got {short(huber_delta)}")
    return delta


def _eps(entry: lossviz.losses.Loss, label_smoothing: object) -> float:
    """ε for a loss that takes it (cross-entropy), else 0; refused outside [0, 1) either way."""
    eps = hyper_value(lossviz.get_loss("cross_entropy"), 1.0, label_smoothing)
    return eps if entry.hyper == "label_smoothing" else 0.0


def smoothed_target(eps: float, k: int) -> float:
    """1 − ε + ε/K: the true class's target under label smoothing ε, where the push on the true
    logit, p − (1 − ε + ε/K), vanishes (1 without smoothing)."""
    return 1.0 - eps + eps / k


def _tex_number(x: float) -> str:
    """``x`` to four significant digits, as TeX (1e-05 -> 1 \\times 10^{-5})."""
    mantissa, _, exponent = f"{x:.4g}".partition("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}" if exponent else mantissa


# --- one training point: loss and gradient against p or r ------------------------------------

def profile_x(task: str, huber_delta: float = 1.0, targets: Sequence[float] = ()) -> np.ndarray:
    """The x values of :func:`profile_figure`: p (classification) or residuals r (regression).

    Returns
    -------
    (M,) ``PROFILE_P`` with the smoothed ``targets`` p (where a push vanishes) exactly, or
    residuals over ±max(3, 2.5 δ) that include ±δ exactly (Huber's kinks)
    """
    if task == "classification":
        marks = np.array([t for t in targets if t < 1])
        if marks.size == 0:
            return PROFILE_P.copy()
        near = (np.abs(PROFILE_P[:, None] - marks[None, :]) < 1e-9).any(axis=1)  # 0.68 vs 136/200
        return np.union1d(PROFILE_P[~near], marks)
    if task != "regression":
        raise ValueError(f"unknown task {task!r}; choose one of: classification, regression")
    delta = _delta(huber_delta)
    half = max(RESIDUAL_HALF_WIDTH, 2.5 * delta)
    return np.union1d(np.linspace(-half, half, 241), [-delta, delta])


def profile_figure(losses: Sequence[tuple[str, str]], task: str, huber_delta: float = 1.0,
                   *, k: int = 2, label_smoothing: float | Sequence[float] = 0.0) -> Figure:
    """One training point's loss (top) and gradient (bottom) against p or r, for one or two losses.

    Parameters
    ----------
    losses : one or two (label, loss name) pairs, e.g. [("A", "cross_entropy"), ("B", "mse")]:
        the first drawn solid, the second dashed, on the same axes
    task : "classification" (x = p, the probability of the true class; the gradient is taken at
        the true logit) or "regression" (x = r = ŷ − y; the gradient is dL/dŷ)
    huber_delta : Huber's δ; k : number of classes (classification)
    label_smoothing : cross-entropy's ε, one for all runs or one per run (a loss without ε
        ignores it). A run with ε > 0 gets a dotted line at p = 1 − ε + ε/K, where its push on
        the true logit vanishes, named in the gradient row.

    Returns
    -------
    Figure : traces 0..n-1 the losses (row 1), n..2n-1 their gradients (row 2), n = len(losses);
        every number from ``lossviz.loss_profile``; x holds each smoothed target exactly
    """
    if not 1 <= len(losses) <= len(RUN_COLOURS):
        raise ValueError(f"losses must hold one or two (label, loss) pairs, got {len(losses)}")
    for _, name in losses:
        lossviz.get_loss(name, task)  # the registry's message for a bad name or task
    delta = _delta(huber_delta)
    smooth = [label_smoothing] * len(losses) if np.ndim(label_smoothing) == 0 else list(label_smoothing)
    if len(smooth) != len(losses):
        raise ValueError(f"label_smoothing must be one number or one per loss ({len(losses)}), got {len(smooth)}")
    eps = [_eps(lossviz.LOSSES[name], e) for (_, name), e in zip(losses, smooth)]
    targets = sorted({smoothed_target(e, k) for e in eps if e}) if task == "classification" else []
    x = profile_x(task, delta, targets)
    rows: tuple[list, list] = ([], [])
    for i, (label, name) in enumerate(losses):
        curves = lossviz.loss_profile(name, task, x, k=k, huber_delta=delta, label_smoothing=eps[i])
        for row, y in enumerate(curves):
            words = lossviz.LOSSES[name].label + (f" (ε = {eps[i]:g})" if eps[i] else "")
            rows[row].append(_profile_line(x, y, i, f"{label}: {words}" if label else words, row, task))
    kinks = any(r"\delta" in lossviz.LOSSES[name].formula for _, name in losses)  # Huber's ±δ
    title = PROFILE_TITLE + (f" (K = {k})" if task == "classification" else "")
    return _with_look(rows[0] + rows[1], title, **_profile_layout(task, x, delta, kinks, targets))


def _profile_line(x: np.ndarray, y: np.ndarray, i: int, name: str, row: int, task: str) -> dict:
    axis = "" if row == 0 else "2"
    var = "p" if task == "classification" else "r"
    what = "L" if row == 0 else "dL/dz" if task == "classification" else "dL/dŷ"
    return dict(type="scatter", x=x.tolist(), y=y.tolist(), mode="lines", name=name,
                legendgroup=name, showlegend=row == 0, xaxis="x" + axis, yaxis="y" + axis,
                line=dict(color=RUN_COLOURS[i], width=3, dash=RUN_DASHES[i]),
                hovertemplate=f"{var} %{{x:.3f}}<br>{what} %{{y:.4g}}<extra>{name}</extra>")


def _profile_layout(task: str, x: np.ndarray, delta: float, kinks: bool,
                    targets: Sequence[float] = ()) -> dict:
    """Two rows sharing x (as curves_figure: make_subplots(rows=2, shared_xaxes=True)); the
    legend sits where the lines are not: top right for p (losses fall to 0 at p = 1), top centre
    for r (losses are U-shaped)."""
    classify = task == "classification"
    x_title = "p = probability of the true class" if classify else "residual r = ŷ − y"
    # Paper x refs, not "x2 domain": plotly.js 4.1 fails to draw a layer="between" shape with
    # an axis-domain ref (a silent TypeError), and x spans the whole paper width here anyway.
    shapes = [dict(type="line", xref="paper", x0=0, x1=1, yref="y2", y0=0, y1=0, layer="between",
                   line=dict(color=GUIDE_COLOUR, width=1.5, dash="dot"))]
    notes = []
    if kinks and not classify:  # a loss with δ bends at |r| = δ: marked in both rows, named in the gap
        for side, sign in (("−δ", -1), ("+δ", 1)):
            shapes += [dict(type="line", xref="x2", x0=sign * delta, x1=sign * delta, yref="paper",
                            y0=y0, y1=y1, layer="between", line=dict(color=GUIDE_COLOUR, width=1, dash="dot"))
                       for y0, y1 in ((0.0, 0.45), (0.55, 1.0))]
            notes.append(dict(text=side, xref="x2", x=sign * delta, yref="paper", y=0.5, showarrow=False,
                              font=dict(size=13, color=GUIDE_COLOUR)))
    for t in targets:  # label smoothing: the push vanishes before p reaches 1
        shapes.append(dict(type="line", xref="x2", x0=t, x1=t, yref="paper", y0=0.0, y1=1.0,
                           layer="between", line=dict(color=GUIDE_COLOUR, width=1.5, dash="dot")))
        notes.append(dict(text=f"push 0 at p = 1 − ε + ε/K = {t:.3g}", xref="x2", x=t, xanchor="right",
                          yref="paper", y=0.43, yanchor="top", showarrow=False,
                          bgcolor="rgba(255,255,255,0.85)", font=dict(size=13, color=GUIDE_COLOUR)))
    return dict(
        hovermode="x unified", shapes=shapes, **(dict(annotations=notes) if notes else {}),
        legend=dict(x=0.98 if classify else 0.5, xanchor="right" if classify else "center", y=0.99,
                    yanchor="top", bgcolor="rgba(255,255,255,0.85)", font=dict(size=13)),
        xaxis=dict(anchor="y", domain=[0.0, 1.0], matches="x2", showticklabels=False),
        yaxis=dict(anchor="x", domain=[0.55, 1.0], title=dict(text="loss L")),
        xaxis2=dict(anchor="y2", domain=[0.0, 1.0], title=dict(text=x_title),
                    range=[0.0, 1.0] if classify else [float(x[0]), float(x[-1])]),
        yaxis2=dict(anchor="x2", domain=[0.0, 0.45],
                    # two lines: on one, the rotated title outgrew the row's height at 18 px
                    title=dict(text="dL/dz at<br>the true logit" if classify else "dL/dŷ")))


# --- every training point: how hard it pushes -------------------------------------------------

def per_sample_grad_norms(out: np.ndarray, y: np.ndarray, loss: str, task: str,
                          huber_delta: float = 1.0, label_smoothing: float = 0.0) -> np.ndarray:
    """‖dLₙ/d outₙ‖ of each sample's own loss (lossviz.loss_grad_per_sample, row norms).

    Parameters
    ----------
    out : (N, K) network outputs (logits, or K = 1 predictions); y : (N,) labels or targets
    loss, task, huber_delta, label_smoothing : as :func:`lossviz.loss_grad_per_sample`

    Returns
    -------
    (N,) non-negative norms; NaN where the output is NaN (a diverged run)
    """
    return np.linalg.norm(lossviz.loss_grad_per_sample(loss, out, y, task, huber_delta, label_smoothing),
                          axis=-1)


def flagged_points(out: np.ndarray, y: np.ndarray, task: str,
                   outlier_mask: np.ndarray | None = None) -> np.ndarray:
    """The training points to pick out: misclassified (classification) or outliers (regression).

    Parameters
    ----------
    out : (N, K) network outputs; y : (N,) labels or targets
    task : "classification" (argmax(out) != y; a row with a NaN or infinite output counts as
        misclassified) or "regression" (``outlier_mask``, or no point when it is None)
    outlier_mask : (N,) bool, regression only

    Returns
    -------
    (N,) bool
    """
    out = np.asarray(out, dtype=float)
    if out.ndim != 2 or np.shape(y) != out.shape[:1]:
        raise ValueError(f"out must be (N, K) and y (N,), got shapes {out.shape} and {np.shape(y)}")
    if task == "classification":
        if outlier_mask is not None:
            raise ValueError("outlier_mask is for regression; classification flags misclassified points")
        return (out.argmax(axis=1) != np.asarray(y)) | ~np.isfinite(out).all(axis=1)
    if task != "regression":
        raise ValueError(f"unknown task {task!r}; choose one of: classification, regression")
    if outlier_mask is None:
        return np.zeros(len(out), dtype=bool)
    mask = np.asarray(outlier_mask)
    if mask.shape != out.shape[:1] or mask.dtype != bool:
        raise ValueError(f"outlier_mask must be ({len(out)},) bool, got {mask.dtype} {mask.shape}")
    return mask.copy()


def gradient_histogram_figure(runs: Sequence[dict]) -> Figure:
    """Overlaid histograms of per-sample ‖dL/dz‖, all points and flagged points, per run.

    Parameters
    ----------
    runs : one or two dicts with "label" (str), "norms" (N,) float, "flagged" (N,) bool and
        "flag_label" (str, e.g. "misclassified" or "outliers"); the first drawn filled, the
        second outlined (flagged points hatched)

    Returns
    -------
    Figure : bar traces [A all, A flagged, B all, B flagged] over one set of ~30 bins shared by
        the runs, log-spaced when the norms span more than two decades; a message figure when no
        run has a finite, non-zero norm. NaN or infinite norms are left out and counted in the
        legend.
    """
    if len(runs) > len(RUN_COLOURS):
        raise ValueError(f"runs must hold at most two runs, got {len(runs)}")
    parts = [_run_parts(run) for run in runs]
    finite = np.concatenate([norms[np.isfinite(norms)] for _, norms, _, _ in parts] or [np.zeros(0)])
    if not any(norms.size for _, norms, _, _ in parts):
        return message_figure("No training points to show yet.", HIST_TITLE)
    if finite.size == 0:
        return message_figure("No finite gradients to show: the outputs are NaN or infinite "
                              "(the run diverged).", HIST_TITLE)
    if finite.max() <= 0:
        return message_figure("Every training point's gradient is zero: nothing pushes the "
                              "weights any more.", HIST_TITLE)
    edges, log = _shared_edges(finite)
    data = [bar for i, part in enumerate(parts) for bar in _run_bars(i, *part, edges)]
    return _with_look(data, HIST_TITLE, barmode="overlay", bargap=0,
                      # at the figure's foot, below the x-axis title, whatever its rows (4 entries in compare mode)
                      legend=dict(orientation="h", x=0.0, yref="container", y=0.0, yanchor="bottom",
                                  font=dict(size=13)),
                      margin=dict(l=60, r=20, t=44, b=30),
                      xaxis=dict(title=dict(text="per-sample ‖dL/dz‖ at the output"),
                                 **(_decades(edges) if log else {"type": "linear"})),
                      yaxis=dict(title=dict(text="points")))  # a longer title outgrew a short plot


def _decades(edges: np.ndarray) -> dict:
    """A log axis over ``edges`` labelled at whole decades only (10⁻³, 10⁻², …; every second one
    past five): plotly's own labels of the 2s and 5s between them ran into the decades' labels."""
    span = np.log10(edges[-1]) - np.log10(edges[0])
    return dict(type="log", exponentformat="power", dtick=1 if span <= 5 else 2)


def _run_parts(run: dict) -> tuple[str, np.ndarray, np.ndarray, str]:
    """(label, norms (N,) float, flagged (N,) bool, flag label) of one run, checked."""
    norms = np.asarray(run["norms"], dtype=float)
    flagged = np.asarray(run.get("flagged", np.zeros(norms.shape, dtype=bool)))
    if norms.ndim != 1 or flagged.shape != norms.shape or flagged.dtype != bool:
        raise ValueError(f"run {run.get('label')!r}: norms must be (N,) and flagged (N,) bool, "
                         f"got {norms.shape} and {flagged.dtype} {flagged.shape}")
    return str(run["label"]), norms, flagged, str(run.get("flag_label", "flagged"))


def _shared_edges(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """(HIST_BINS + 1,) bin edges over finite ``values`` (max > 0), and whether they are log-spaced."""
    hi = float(values.max())
    lo = float(values[values > 0].min())
    if hi / lo > LOG_SPAN:
        return np.geomspace(max(lo, hi * LOG_FLOOR), hi, HIST_BINS + 1), True
    lo = float(values.min())
    if lo == hi:  # one value: a bin around it
        lo, hi = 0.5 * hi, 1.5 * hi
    return np.linspace(lo, hi, HIST_BINS + 1), False


def _run_bars(i: int, label: str, norms: np.ndarray, flagged: np.ndarray, flag_label: str,
              edges: np.ndarray) -> list[dict]:
    """Two bar traces of one run: all its points, then its flagged ones."""
    ok = np.isfinite(norms)
    bad = int(norms.size - ok.sum())
    left = f"; {bad} NaN/inf not shown" if bad else ""
    colour = RUN_COLOURS[i]
    bars = []
    for sel, what, strong in ((ok, "all points", False), (ok & flagged, flag_label, True)):
        counts = np.histogram(np.clip(norms[sel], edges[0], edges[-1]), bins=edges)[0]
        words = f"{what} ({int(sel.sum())}{left if not strong else ''})"
        name = f"{label}: {words}" if label else words
        bars.append(dict(type="bar", x=((edges[:-1] + edges[1:]) / 2).tolist(), y=counts.tolist(),
                         width=np.diff(edges).tolist(), name=name, legendgroup=label,
                         customdata=np.column_stack([edges[:-1], edges[1:]]).tolist(),
                         marker=_bar_marker(i, colour, strong),
                         hovertemplate="‖dL/dz‖ %{customdata[0]:.3g} to %{customdata[1]:.3g}<br>"
                                       f"%{{y}} points<extra>{name}</extra>"))
    return bars


def _bar_marker(i: int, colour: str, strong: bool) -> dict:
    """Run A filled (flagged points in its full colour), run B outlined (flagged points hatched)."""
    if i == 0:
        return dict(color=_rgba(colour, 0.9 if strong else 0.3), line=dict(width=0))
    if strong:
        return dict(color="rgba(0,0,0,0)", line=dict(color=colour, width=1.5),
                    pattern=dict(shape="/", fgcolor=colour, solidity=0.5))
    return dict(color="rgba(0,0,0,0)", line=dict(color=colour, width=2.5))


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[j:j + 2], 16) for j in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
