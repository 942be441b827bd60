"""vaekit.files: run files get the mode the umask gives a plain open (readable by the group)."""

import os
import stat
from contextlib import contextmanager
from pathlib import Path

import vaekit
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
