"""vaekit.files: run files get the mode the umask gives a plain open (readable by the group); a destination
is checked before any work."""

import os
import stat
from contextlib import contextmanager
from pathlib import Path

import pytest

import vaekit
from vaekit import files
from vaekit.files import atomic_write_text


@contextmanager
def umask(mask: int):
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_run_files_get_the_mode_the_umask_gives_a_plain_open(tmp_path, small_config):
    run_dir = tmp_path / "run"
    config = small_config.replace(train={"epochs": 1, "report": True})
    with umask(0o022):
        vaekit.train(config, out=run_dir)
    files = [path for path in run_dir.rglob("*") if path.is_file()]
    assert {"model.safetensors", "last.safetensors", "config.yaml", "eval.json", "report.html", "curves.png"} <= {
        path.name for path in files}
    assert {path.relative_to(run_dir).as_posix(): oct(mode(path)) for path in files if mode(path) != 0o644} == {}
    with umask(0o007):
        atomic_write_text(tmp_path / "shared.txt", "for the group")
    assert mode(tmp_path / "shared.txt") == 0o660


# --- check_destination: before any work, one line naming the path and the reason --------------------------


def test_a_destination_that_can_be_written_is_returned_and_nothing_is_left_behind(tmp_path):
    assert files.check_destination(tmp_path / "new" / "deeper" / "x.png") == tmp_path / "new" / "deeper" / "x.png"
    assert files.check_destination(tmp_path / "run", folder=True) == tmp_path / "run"
    assert list(tmp_path.iterdir()) == []  # the probe file is gone, no folder was made


@pytest.mark.parametrize("make, path, folder, message", [
    ("file", "file/x.png", False, "{p}: cannot be written, {t}/file is a file, not a folder"),
    ("file", "file/a/b/x.png", False, "{p}: cannot be written, {t}/file is a file, not a folder"),
    ("file", "file", True, "{p}: is a file; a folder is wanted here"),
    ("folder", "folder", False, "{p}: is a folder; a file is wanted here"),
])
def test_a_destination_of_the_wrong_kind_is_named_in_one_line(tmp_path, make, path, folder, message):
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder").mkdir()
    with pytest.raises(files.UserError) as refused:
        files.check_destination(tmp_path / path, folder=folder)
    assert str(refused.value) == message.format(p=tmp_path / path, t=tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a folder whose mode forbids it")
def test_a_read_only_folder_is_named_with_the_reason(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(files.UserError, match=rf"^{folder}/x.png: cannot be written, {folder} does not take new "
                                                  r"files \(Permission denied\)$"):
            files.check_destination(folder / "x.png")
    finally:
        folder.chmod(0o755)
