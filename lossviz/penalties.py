"""L2 and L1 penalties on weights (never biases), added to the training objective.

L2 follows PyTorch's ``weight_decay`` convention: the penalty (l2 / 2) * sum(w^2) has gradient
l2 * w, the term ``torch.optim`` adds for ``weight_decay=l2``. L1 is l1 * sum(|w|), gradient
l1 * sign(w).
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def penalty_value(params: Array, weight_mask: Array, l2: float, l1: float) -> float:
    """(l2/2)·Σw² + l1·Σ|w| over the weights selected by ``weight_mask`` (n_params,) bool."""
    w = params[weight_mask]
    return float(0.5 * l2 * (w @ w) + l1 * np.abs(w).sum())


def penalty_grad(params: Array, weight_mask: Array, l2: float, l1: float) -> Array:
    """Gradient of :func:`penalty_value`, shape (n_params,); zero on biases."""
    return np.where(weight_mask, l2 * params + l1 * np.sign(params), 0.0)
