"""vaekit.locks: a folder lock held by one process at a time, naming its holder, taken over from a process
that has ended, and gone when let go."""

import os
import socket
import subprocess
import sys

import pytest

from vaekit.errors import UserError
from vaekit.locks import FolderLock, Holder


def test_a_held_lock_names_its_holder_and_refuses_a_second_taker_until_let_go(tmp_path):
    path = tmp_path / "train.lock"
    first = FolderLock(path, "a training").acquire()
    holder = Holder.parse(path.read_text())
    assert (holder.pid, holder.host) == (os.getpid(), socket.gethostname()) and first.taken_over is None
    with pytest.raises(UserError) as refused:
        FolderLock(path, "a training").acquire()  # another open file: flock refuses it as it would another process
    assert str(refused.value) == (f"{tmp_path}: in use by a training ({holder}); wait for it to end (the lock is "
                                  f"{path}, released when that process ends)")
    first.release()
    assert not path.exists()
    with FolderLock(path) as second:
        assert second.taken_over is None and Holder.parse(path.read_text()).pid == os.getpid()
    assert not path.exists()


def test_the_lock_file_of_a_process_that_has_ended_is_taken_over_and_names_it(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    ended = Holder(child.pid, socket.gethostname(), "2026-01-01T00:00:00Z")
    path = tmp_path / "train.lock"
    path.write_text(ended.text())  # left behind: nothing holds its flock any more
    with FolderLock(path) as lock:
        assert lock.taken_over == ended
        assert Holder.parse(path.read_text()).pid == os.getpid()


@pytest.mark.parametrize("text", ["", "{", '{"pid": "x"}', "[]"])
def test_an_unreadable_holder_record_reads_as_none(text):
    assert Holder.parse(text) is None
