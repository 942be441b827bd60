"""A training run stopped from outside after a given number of epochs, as a crash would stop it:
the run folder is left as the last completed epoch wrote it, ready for ``train(resume=...)``."""

from pathlib import Path

import pytest

import vaekit


class Interrupt(Exception):
    """Raised from the epoch hook; nothing in vaekit catches it."""


def train_interrupted(config, out: Path, epochs: int) -> Path:
    """Train ``config`` into ``out`` and stop it once ``epochs`` epochs are complete; returns ``out``."""

    def stop(state):
        if state.epoch == epochs:
            raise Interrupt

    with pytest.raises(Interrupt):
        vaekit.train(config, out=out, on_epoch=stop)
    return out
