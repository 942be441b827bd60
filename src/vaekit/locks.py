"""A lock on a folder, held by one process for as long as it works there (a training on its run folder).

The lock is a file in the folder, locked with ``fcntl.flock`` and holding its holder's pid, host and start
time as JSON. The kernel releases a flock when its process ends, however it ends (an exception, Ctrl-C,
SIGKILL, a crash), so a lock is never left held by a dead process: a lock file found unlocked is a dead
process's leftover and is taken over. Taking the flock is the atomic step (of two processes that try at
once, exactly one gets it); the JSON only names the holder in the refusal the other one gets. Chosen over
a file created with O_CREAT|O_EXCL, which needs a guess (is that pid still alive, here?) to tell a dead
holder from a live one, and is fooled by a reused pid.

On a system without ``fcntl`` (Windows) the lock file is still written and removed, but not locked.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None

HOLDER_WAIT_S, HOLDER_POLL_S = 2.0, 0.05  # how long a refusal waits for a new holder to write its name


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a lock: process id, host name and start time (UTC, ISO 8601 to the second)."""

    pid: int
    host: str
    since: str

    @classmethod
    def me(cls) -> Holder:
        return cls(os.getpid(), socket.gethostname(), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        """The holder a lock file's text names; None for an empty or unreadable text."""
        try:
            value = json.loads(text)
            return cls(int(value["pid"]), str(value["host"]), str(value["since"]))
        except (ValueError, KeyError, TypeError):
            return None

    def text(self) -> str:
        return json.dumps({"pid": self.pid, "host": self.host, "since": self.since}) + "\n"

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host} since {self.since}"


class FolderLock:
    """The lock file ``path``: ``acquire()`` takes it or raises a UserError naming the holder (``what``: the
    holder's work, for that message); ``release()`` removes the file and lets it go.
    ``taken_over``: the holder of a dead process's lock file that ``acquire`` found and took over (else None)."""

    def __init__(self, path: str | Path, what: str = "another process"):
        self.path, self.what = Path(path), what
        self.fd: int | None = None
        self.taken_over: Holder | None = None

    def acquire(self) -> FolderLock:
        while self.fd is None:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            if not _try_lock(fd):
                holder = _wait_for_holder(fd)
                os.close(fd)
                named = f" ({holder})" if holder else ""
                raise UserError(f"{self.path.parent}: in use by {self.what}{named}; wait for it to end "
                                f"(the lock is {self.path}, released when that process ends)")
            if _same_file(fd, self.path):
                self.fd = fd
            else:  # the holder released it (removing the file) between our open and our lock: open it again
                os.close(fd)
        self.taken_over = Holder.parse(_read(self.fd))
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, Holder.me().text().encode(), 0)
        os.fsync(self.fd)
        return self

    def release(self) -> None:
        """Remove the lock file, then let the lock go (so no one takes a file about to vanish)."""
        if self.fd is None:
            return
        try:
            if _same_file(self.fd, self.path):
                os.unlink(self.path)
        except OSError:  # the folder went first (a failed run's cleanup) or is read-only now
            pass
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _try_lock(fd: int) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` is still the file open as ``fd`` (not removed, nor replaced by a new one)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _read(fd: int) -> str:
    return os.pread(fd, 4096, 0).decode(errors="replace")


def _wait_for_holder(fd: int) -> Holder | None:
    """The holder named in a locked file; a holder that has only just taken the lock writes its name a moment
    later, so wait for it briefly (None if it never comes)."""
    deadline = time.monotonic() + HOLDER_WAIT_S
    while (holder := Holder.parse(_read(fd))) is None and time.monotonic() < deadline:
        time.sleep(HOLDER_POLL_S)
    return holder
