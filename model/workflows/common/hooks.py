"""How a long workflow reports while it runs, without printing anything itself.

Workflows return results and never print (:mod:`model.workflows`); a fit of
minutes still owes the analyst a sign of life. A :class:`Hooks` carries the
callbacks a caller wants told: the command line passes ones that print
(:func:`model.outputs.console.console_hooks`), a notebook or a test passes
none and hears nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any


def _quietly(label: str) -> AbstractContextManager[Any]:
    """Do nothing around a stretch of work (the default of :attr:`Hooks.busy`)."""
    return nullcontext(label)


@dataclass(frozen=True)
class Hooks:
    """Callbacks a workflow calls as it goes; each is optional.

    Attributes
    ----------
    fitting
        Called with the fit's inputs and sampler settings just before a fit
        starts: the inputs are valid by then, and what is fitted can be said.
    on_chunk
        Called by a fit to a precision after each chunk of draws, with the
        draws per chain so far and the smallest bulk ESS reached (or ``None``).
    progressbar
        Whether the sampler may draw its own progress bar.
    progress
        Called as a run of several fits advances, with ``(done, total, label)``;
        ``label`` is ``None`` for the call that only announces the total.
    busy
        Wraps a stretch of work that reports nothing itself, with a label
        naming it (the command line shows a spinner).
    waiting
        Called once with a message when the work must wait for another
        process (the store's lock).
    """

    fitting: Callable[[Any, Any], None] | None = None
    on_chunk: Callable[[int, float | None], None] | None = None
    progressbar: bool = False
    progress: Callable[[int, int, str | None], None] | None = None
    busy: Callable[[str], AbstractContextManager[Any]] = _quietly
    waiting: Callable[[str], None] | None = None
