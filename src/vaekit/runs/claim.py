"""A training's hold on its run folder: claimed atomically, locked for the training's whole life, and
left as it was found when a new run fails before its first checkpoint.

The lock is RUN_DIR/train.lock (``RunDir.LOCK``), a ``vaekit.locks.FolderLock``: a second training or
resume into a folder in use is refused naming the holder (pid, host, since), and the lock of a process
that has ended is taken over with a note on the 'vaekit' logger. A new run that ends in an exception
(or Ctrl-C) before its first checkpoint (``RunDir.RESUME``) removes what it wrote, the folder too when
it made it, so the same --out can be used again at once; a folder that such a run left because its
process was killed (no cleanup ran) holds a dead lock and no checkpoint, and the next training into
it takes it over and empties it first.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from ..errors import UserError
from ..files import check_destination
from ..locks import FolderLock
from ..rundir import RunDir

log = logging.getLogger("vaekit")


class RunClaim:
    """``with RunClaim() as claim``: ``check_new(out)`` before any work, then ``new(out)`` (a new run) or
    ``existing(run_dir)`` (a resume) takes the folder; the block's end lets it go, after removing a new
    run's files when the block ended in an exception before the first checkpoint. Under torch.distributed
    only global rank 0 calls these; on the other ranks the claim holds nothing."""

    def __init__(self):
        self.run: RunDir | None = None
        self.lock: FolderLock | None = None
        self.fresh = False
        self.made = False  # whether this training made the folder itself

    def check_new(self, out: Path) -> Path:
        """Refuse ``out`` for a new run, before any work, when it cannot be written or holds a run (or
        anything else) with no lock, i.e. not a training at work nor one that died before its first
        checkpoint; returns ``out``."""
        check_destination(out, folder=True)
        run = RunDir(out)
        if out.is_dir() and not run.lock.exists() and contents(run):
            raise UserError(f"{out}: the run folder exists and is not empty; choose another --out or --resume {out}")
        return out

    def new(self, out: Path) -> Path:
        """Take ``out`` for a new run: made (``os.mkdir``, atomic) or found empty, and locked; of two
        trainings into one --out exactly one gets it."""
        self.check_new(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.mkdir(out)
            self.made = True
        except FileExistsError:
            pass
        self._lock(RunDir(out))
        self.fresh = True
        left = contents(self.run)
        if left and self.lock.taken_over is not None and not self.run.resume.is_file():
            log.warning(f"{out}: emptying the folder a training ({self.lock.taken_over}) left when it ended before "
                        "its first checkpoint")
            remove(left)
        elif left:  # filled between the check and the lock: by a training that has finished since
            self._let_go()
            raise UserError(f"{out}: the run folder exists and is not empty; choose another --out or --resume {out}")
        return out

    def existing(self, run_dir: Path) -> None:
        """Lock ``run_dir`` to resume it (refused, naming the holder, while a training works there)."""
        check_destination(run_dir, folder=True)
        self._lock(RunDir(run_dir))

    def _lock(self, run: RunDir) -> None:
        self.run, self.lock = run, FolderLock(run.lock, "a training").acquire()
        held = self.lock.taken_over
        if held is not None:
            log.warning(f"{run.path}: taking over {run.lock.name}, left by {held}, a process that has ended")

    def _let_go(self) -> None:
        self.lock.release()
        if self.made:
            try:
                os.rmdir(self.run.path)
            except OSError:  # not empty: another training has it now
                pass
        self.lock, self.made = None, False

    def __enter__(self) -> RunClaim:
        return self

    def __exit__(self, failed, *exc) -> None:
        if self.lock is None:
            return
        if failed is not None and self.fresh and not self.run.resume.is_file():
            remove(contents(self.run))  # a new run that failed before its first checkpoint
            self._let_go()
        else:
            self.made = False  # a run to keep
            self._let_go()


def contents(run: RunDir) -> list[Path]:
    """What the folder holds, its lock aside."""
    return [path for path in run.path.iterdir() if path.name != RunDir.LOCK]


def remove(paths: list[Path]) -> None:
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
