"""How probabilities are printed: no more digits than their Monte Carlo error supports."""

from __future__ import annotations

import numpy as np

__all__ = ["decimals", "format_probability"]


def decimals(mcse: float, most: int = 4) -> int:
    """Decimals of a probability its Monte Carlo error supports.

    The last digit printed is the first one two standard errors can move:
    with an MCSE of 0.0004 a mean prints as 0.006, not 0.00584. At least one
    decimal, at most ``most``.
    """
    if not np.isfinite(mcse) or mcse <= 0:
        return most
    return int(min(most, max(1, -np.floor(np.log10(2 * mcse)))))


def format_probability(mean: float, mcse: float, percent: bool = False) -> str:
    """``mean ± mcse`` with no more digits than the MCSE supports.

    The last digit printed is the first one two standard errors can move
    (:func:`decimals`), so a reader is not shown digits that are noise.

    Parameters
    ----------
    mean
        A posterior mean probability.
    mcse
        Its Monte Carlo standard error.
    percent
        Print as a percentage.

    Returns
    -------
    str
        E.g. ``"0.0059 ± 0.0001"``.
    """
    if percent:
        d = max(decimals(mcse) - 2, 0)
        return f"{100 * mean:.{d}f}% ± {100 * mcse:.{d}f}"
    d = decimals(mcse)
    return f"{mean:.{d}f} ± {mcse:.{d}f}"
