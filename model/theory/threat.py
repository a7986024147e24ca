"""Threat measurement: latent scores, their ordinal levels, and coded evidence.

The latent threat ``theta`` is continuous. Two fixed scales hang on it:

* the theory's ordinal level L in {low, medium, high}, with anchors
  :data:`LEVEL_ANCHORS` and a sharpness ``s``:
  ``P(L <= k | theta) = logistic(s * (kappa_k - theta))``;
* the analyst's 0-4 threat code, an ordered logistic with base cutpoints
  :data:`CODE_CUTPOINTS`, shifted and sharpened per indicator.

The anchors pin the latent scale; the code cutpoints are placed so that a
code's meaning matches the level it names: code 2 "medium" spans exactly the
medium level (-1, 1), codes 0-1 the low level and codes 3-4 the high level,
and every interior code interval has the same width (2) as the medium level.
Equal widths are the neutral choice for an ordinal scale; they put a run of
"high" (3) codes inside the high level rather than on its edge.

Every function works on numpy arrays and pytensor tensors alike and returns
a pytensor tensor (call ``.eval()`` for numbers).
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.tensor import TensorLike, TensorVariable

#: Latent-scale boundaries low|medium and medium|high of the level L.
LEVEL_ANCHORS: np.ndarray = np.array([-1.0, 1.0])

#: Base cutpoints of the 0-4 threat code: none|low, low|medium, medium|high, high|severe.
CODE_CUTPOINTS: np.ndarray = np.array([-3.0, -1.0, 1.0, 3.0])


def ordered_log_probs(eta: TensorLike, cutpoints: TensorLike) -> TensorVariable:
    """Log category probabilities of an ordered logistic, stable for any ``eta``.

    ``P(Y > c) = logistic(eta - c_c)``. A middle category's probability is a
    difference of two logistics, which cancels catastrophically far from the
    cutpoints; the identity
    ``logistic(a) - logistic(b) = logistic(a) logistic(-b) (1 - exp(b - a))``
    gives its log without any difference of nearly equal numbers, so NUTS
    never sees a ``log(0)``.

    ``cutpoints`` (increasing on the last axis) broadcast against
    ``eta[..., None]``; the result has one more category than cutpoints.
    """
    eta = pt.as_tensor_variable(eta)[..., None]
    c = pt.as_tensor_variable(cutpoints)
    first = -pt.softplus(eta - c[..., :1])  # log(1 - logistic(eta - c_0))
    last = -pt.softplus(c[..., -1:] - eta)  # log logistic(eta - c_last)
    a = eta - c[..., :-1]
    b = eta - c[..., 1:]
    middle = -pt.softplus(-a) - pt.softplus(b) + pt.log1mexp(b - a)
    return pt.concatenate([first, middle, last], axis=-1)


def level_log_probs(theta: TensorLike, sharpness: TensorLike) -> TensorVariable:
    """Log P(L = low, medium, high | theta), on a new last axis.

    Parameters
    ----------
    theta
        Latent threat scores, any shape.
    sharpness
        ``s`` in the design: a scalar.
    """
    s = pt.as_tensor_variable(sharpness)
    return ordered_log_probs(s * pt.as_tensor_variable(theta), s * LEVEL_ANCHORS)


def level_probs(theta: TensorLike, sharpness: TensorLike) -> TensorVariable:
    """P(L = low, medium, high | theta): ``P(L <= k) = logistic(s (kappa_k - theta))``."""
    return pt.exp(level_log_probs(theta, sharpness))


def code_log_probs(
    theta: TensorLike, discrimination: TensorLike, shift: TensorLike
) -> TensorVariable:
    """Log P(code = 0..4 | theta) for threat evidence of one indicator type.

    ``P(code > c) = logistic(d * (theta - tau_c - delta))`` with base
    cutpoints ``tau`` (:data:`CODE_CUTPOINTS`), discrimination ``d`` and
    threshold shift ``delta`` broadcast against ``theta``.
    """
    d = pt.as_tensor_variable(discrimination)
    delta = pt.as_tensor_variable(shift)
    theta = pt.as_tensor_variable(theta)
    return ordered_log_probs(d * (theta - delta), d[..., None] * CODE_CUTPOINTS)


def random_walk(init: TensorLike, drift: TensorLike, innovations: TensorLike) -> TensorVariable:
    """Latent paths ``theta[s, t] = theta[s, t-1] + drift[s] * innovations[s, t-1]``.

    Non-centred: the innovations are standardised, so NUTS sees a well-scaled
    geometry whatever the drift.
    """
    init = pt.as_tensor_variable(init)
    steps = pt.as_tensor_variable(drift)[:, None] * pt.as_tensor_variable(innovations)
    return pt.concatenate([init[:, None], init[:, None] + pt.cumsum(steps, axis=1)], axis=1)
