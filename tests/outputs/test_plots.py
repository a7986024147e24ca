"""Figures: the sensitivity study's one-page figure draws every fit and every dyad."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import fake_sensitivity


def test_the_sensitivity_page_draws_every_fit_and_every_dyad():
    from model.outputs.plots import plot_sensitivity_page

    fits = fake_sensitivity().prior_sets.assign(
        **{"CHN-RUS|balancing-balancing": [0.6, 0.2], "CHN-RUS|hedging-hedging": [0.4, 0.8]}
    )
    fig = plot_sensitivity_page(fits, fits.assign(**{"prior set": ["1", "20"]}))
    left, bars = fig.axes
    assert [t.get_text() for t in left.get_yticklabels()][-1] == "Table 2 total 20"
    # one stacked bar per prior set per type, each row summing to one
    assert len(bars.patches) == 4
    widths = np.array([p.get_width() for p in bars.patches]).reshape(2, 2)
    assert widths.sum(axis=0) == pytest.approx([1.0, 1.0])
