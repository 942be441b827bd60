"""TensorBoard event files for a run, written only when the ``tensorboard`` package is installed."""

from __future__ import annotations

from pathlib import Path


def is_available() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


class EpochWriter:
    """Writes each epoch's metrics row as scalars into ``log_dir`` (a run's ``RunDir.events``); a no-op without tensorboard."""

    def __init__(self, log_dir: Path):
        self.writer = None
        if is_available():
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(log_dir=str(log_dir))

    def write(self, row: dict) -> None:
        if self.writer is None:
            return
        for name, value in row.items():
            if name != "epoch":
                group = "val" if name.startswith("val_") else "train" if name.startswith("train_") else "trainer"
                self.writer.add_scalar(f"{group}/{name.removeprefix(group + '_')}", value, row["epoch"])
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
