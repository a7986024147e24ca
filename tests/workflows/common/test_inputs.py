"""Refusing bad input: the errors named become :class:`BadInputError`, others pass through."""

from __future__ import annotations

import pytest

from model.evidence.data import InputError
from model.workflows.common.inputs import BadInputError, refusing


def test_refusing_keeps_the_message_and_the_cause():
    with pytest.raises(BadInputError, match=r"^no observations$") as err:
        with refusing():
            raise ValueError("no observations")
    assert isinstance(err.value.__cause__, ValueError)


def test_refusing_passes_other_errors_through():
    """Only the errors named are input; a fit's RuntimeError, or a ValueError not named, is not."""
    with pytest.raises(RuntimeError), refusing():
        raise RuntimeError("the sampler failed")
    with pytest.raises(ValueError) as err, refusing(InputError):
        raise ValueError("not an input error")
    assert not isinstance(err.value, BadInputError)
