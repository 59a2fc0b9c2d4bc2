"""The loss surface's fast paths (lossviz.surface_kernels) against the exact float64 path.

Every fast path -- float32 hidden layers, class blocks, the class-relative output layer, the
cross-entropy reducer, the chunking over grid points and threads -- must give the float64
result to 1e-5 relative, for every activation and every loss, classification and regression.
"""
import numpy as np
import pytest

import lossviz.landscape as landscape
import lossviz.surface_kernels as kernels
from lossviz import ACTIVATIONS, LOSSES, Network, surface, surface_naive, surface_with_metric

FAST_VS_EXACT = 1e-5


def problem(sizes, act, n=40, seed=0, scale=0.8, classes=None):
    rng = np.random.default_rng(seed)
    net = Network(sizes, act)
    theta, d1, d2 = rng.normal(0, scale, (3, net.n_params))
    X = rng.normal(size=(n, sizes[0]))
    if sizes[-1] == 1:
        y = rng.normal(0, 1.5, n)
    else:
        y = rng.choice(classes if classes is not None else sizes[-1], n)
    return theta, d1, d2, X, y


def tasks_losses():
    for name, spec in LOSSES.items():
        for k in (2, 3, 1):
            task = "regression" if k == 1 else "classification"
            if task in spec.tasks:
                yield name, k


CASES = [(act, loss, k) for act in ACTIVATIONS for loss, k in tasks_losses()]


def check(args, kw, alphas=np.linspace(-1, 1, 4), betas=np.linspace(-0.5, 0.7, 3)):
    exact = surface(*args[:3], alphas, betas, *args[3:], dtype=np.float64, **kw)
    naive = surface_naive(*args[:3], alphas, betas, *args[3:], **kw)
    fast = surface(*args[:3], alphas, betas, *args[3:], **kw)
    np.testing.assert_allclose(exact, naive, rtol=1e-9, atol=0)
    np.testing.assert_allclose(fast, exact, rtol=FAST_VS_EXACT, atol=0)
    return fast, exact


@pytest.mark.parametrize("act,loss,k", CASES)
def test_fast_path_matches_exact_for_every_activation_and_loss(act, loss, k):
    for sizes in [(2, 5, k), (3, 6, 4, k), (2, k)]:
        check(problem(sizes, act), dict(layer_sizes=sizes, activation=act, loss=loss,
                                        huber_delta=0.3))


@pytest.mark.parametrize("act,loss,k", CASES)
def test_metric_fast_path_matches_exact(act, loss, k):
    sizes = (2, 7, k)
    theta, d1, d2, X, y = problem(sizes, act, n=60, seed=3)
    kw = dict(layer_sizes=sizes, activation=act, loss=loss)
    grid = np.linspace(-1, 1, 5)
    l64, m64 = surface_with_metric(theta, d1, d2, grid, grid, X, y, dtype=np.float64, **kw)
    l32, m32 = surface_with_metric(theta, d1, d2, grid, grid, X, y, **kw)
    np.testing.assert_allclose(l32, l64, rtol=FAST_VS_EXACT, atol=0)
    net = Network(sizes, act)
    for i, j in [(0, 0), (2, 2), (4, 1)]:
        out = net.forward(theta + grid[i] * d1 + grid[j] * d2, X)
        if k == 1:
            want = 1 - ((out[:, 0] - y) ** 2).sum() / ((y - y.mean()) ** 2).sum()
            assert m64[i, j] == pytest.approx(want, rel=1e-10)
            assert m32[i, j] == pytest.approx(want, rel=1e-5, abs=1e-5)
        else:
            assert m64[i, j] == np.mean(out.argmax(axis=1) == y)
            assert abs(m32[i, j] - m64[i, j]) <= 1 / len(y)  # at most one borderline sample


@pytest.mark.parametrize("loss,k", list(tasks_losses()))
def test_one_grid_point_and_one_sample(loss, k):
    sizes = (2, 4, k)
    theta, d1, d2, X, y = problem(sizes, "tanh", n=1)
    kw = dict(layer_sizes=sizes, activation="tanh", loss=loss)
    check((theta, d1, d2, X, y), kw, alphas=[0.3], betas=[-0.2])
    check((theta, d1, d2, X, y), kw)


@pytest.mark.parametrize("budget,block,workers", [(1, 1000, 2), (1, 3, 1), (5000, 7, 2),
                                                  (10**9, 2, 2)])
@pytest.mark.parametrize("loss,k", [("cross_entropy", 3), ("cross_entropy", 2), ("mse", 3),
                                    ("huber", 1)])
def test_chunk_and_block_boundaries(budget, block, workers, loss, k, monkeypatch):
    # budget 1: one grid point per chunk; 5000: a few, the last chunk shorter; block sizes
    # that cut each class into uneven runs, or one sample per block.
    sizes = (2, 6, 5, k)
    args = problem(sizes, "tanh", n=23, seed=4)
    kw = dict(layer_sizes=sizes, activation="tanh", loss=loss)
    alphas, betas = np.linspace(-1, 1, 5), np.linspace(-1, 1, 7)
    want = surface(*args[:3], alphas, betas, *args[3:], dtype=np.float64, **kw)
    want32 = surface(*args[:3], alphas, betas, *args[3:], **kw)
    monkeypatch.setattr(landscape, "CACHE_BYTES", budget)
    monkeypatch.setattr(landscape, "BLOCK_SAMPLES", block)
    monkeypatch.setattr(landscape, "WORKERS", workers)
    got = surface(*args[:3], alphas, betas, *args[3:], dtype=np.float64, **kw)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    got32, acc = surface_with_metric(*args[:3], alphas, betas, *args[3:], **kw)
    np.testing.assert_allclose(got32, want32, rtol=1e-6, atol=0)
    np.testing.assert_allclose(got32, want, rtol=FAST_VS_EXACT, atol=0)


def test_a_class_missing_from_the_labels():
    sizes = (2, 5, 4)
    args = problem(sizes, "relu", n=30, classes=[0, 2])  # classes 1 and 3 never occur
    for loss in ("cross_entropy", "mse", "huber"):
        check(args, dict(layer_sizes=sizes, activation="relu", loss=loss))


def test_blocks_hold_one_class_each_and_cover_every_sample():
    y = np.array([2, 0, 1, 2, 2, 0, 2, 1, 2])
    blocks = kernels.blocks_by_class(y, "classification", max_samples=2)
    seen = np.concatenate([idx for _, idx in blocks])
    assert sorted(seen.tolist()) == list(range(len(y)))
    assert all(np.all(y[idx] == cls) and 1 <= idx.size <= 2 for cls, idx in blocks)
    (cls, idx), = kernels.blocks_by_class(np.array([0.5, -1.0]), "regression", max_samples=8)
    assert cls is None and idx.tolist() == [0, 1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_cross_entropy_reducer_is_accurate_for_extreme_margins(dtype, k):
    rng = np.random.default_rng(1)
    n = 64
    u = rng.normal(0, 1, (2, k - 1, n))
    u[0, :, :16] -= 60  # the true class wins by far: losses ~1e-26, must not round to 0
    u[0, :, 16:32] += 200  # the true class loses by far: exp would overflow without the shift
    u[1] *= 1e-3  # near ties
    u = u.astype(dtype)
    block = kernels.Block(np.zeros((3, 1, n), dtype), np.zeros((3, k - 1, 2), dtype), 0,
                          np.zeros(n, np.int64))
    got = kernels.cross_entropy_sums(u, block)
    z = np.concatenate([np.zeros((2, 1, n)), u.astype(np.float64)], axis=1)  # z_y = 0
    m = z.max(axis=1)
    per = m + np.log(np.exp(z - m[:, None]).sum(axis=1))  # log-sum-exp minus z_y
    per[0, :16] = np.log1p(np.exp(z[0, 1:, :16]).sum(axis=0))  # where lse - z_y cancels
    np.testing.assert_allclose(got, per.sum(axis=1), rtol=1e-6 if dtype == np.float32 else 1e-13)
    # Only the confidently right samples: a sum of ~1e-26 losses, still to 1e-6 relative.
    small = kernels.Block(block.first[..., :16], block.out, 0, block.y[:16])
    tiny = kernels.cross_entropy_sums(u[:1, :, :16], small)
    assert 0 < tiny[0] < 1e-20
    assert tiny[0] == pytest.approx(per[0, :16].sum(), rel=1e-6)


def test_accuracy_ties_go_to_the_lower_class_like_argmax():
    # z = (0, 0, 1, 1) relative to each true class: argmax picks class 2 on the tie with 3.
    z = np.array([0.0, 0.0, 1.0, 1.0])
    for y in range(4):
        u = np.delete(z - z[y], y)[None, :, None]
        block = kernels.Block(np.zeros((3, 1, 1)), np.zeros((3, 3, 2)), y, np.array([y]))
        assert kernels.correct_counts(u, block)[0] == float(np.argmax(z) == y), y
