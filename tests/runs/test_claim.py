"""vaekit.runs.claim: a training's hold on its run folder. Two trainings into one --out: exactly one gets it,
the other is refused naming the holder; a resume into a folder in use is refused; a dead holder's lock is
taken over with a note; a new run that fails before its first checkpoint leaves --out free for the retry;
refused commands leave every file of a finished run as it was."""

import logging
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import REPOSITORY, TESTS, assert_one_line_error, cli_error, copy_of_run, tiny_config

import vaekit
from vaekit.cli import main
from vaekit.locks import FolderLock, Holder
from vaekit.rundir import RunDir

# A training into argv[1] whose epochs each take a second longer than they need (so that it still holds the
# folder when a rival started with it reaches its own claim); a refusal exits 2 with its one line, as the CLI.
SLOW_TRAINING = textwrap.dedent("""
    import sys, time
    import vaekit
    from helpers import tiny_config
    from vaekit.errors import UserError
    try:
        vaekit.train(tiny_config().replace(train={"epochs": 2}), out=sys.argv[1], on_epoch=lambda state: time.sleep(1.0))
    except UserError as error:
        print(error, file=sys.stderr)
        sys.exit(2)
""")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` by its relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


TINY = tiny_config()


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    return vaekit.train(TINY, out=tmp_path_factory.mktemp("claim") / "run").dir


@pytest.fixture
def run_copy(finished, tmp_path) -> Path:
    return copy_of_run(finished, tmp_path)


def dead_holder() -> Holder:
    """The holder record of a process that has ended (a child that exited), on this host."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return Holder(child.pid, socket.gethostname(), "2026-01-01T00:00:00Z")


def test_two_trainings_started_together_into_one_out_one_wins_the_other_names_it(tmp_path):
    out = tmp_path / "run"
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPOSITORY / "src"), str(TESTS)]),
                   "OMP_NUM_THREADS": "1"}
    rivals = [subprocess.Popen([sys.executable, "-c", SLOW_TRAINING, str(out)], env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = [(rival.pid, rival.wait(timeout=300), rival.stderr.read()) for rival in rivals]
    for rival in rivals:
        rival.stdout.close(), rival.stderr.close()
    assert sorted(code for _, code, _ in outcomes) == [0, 2], outcomes
    (winner, _, _), (_, _, refusal) = sorted(outcomes, key=lambda outcome: outcome[1])
    assert_one_line_error(refusal, rf"^{out}: in use by a training \(pid {winner} on {socket.gethostname()} since "
                                   r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\); wait for it to end")
    assert len(RunDir(out).read_metrics()) == 2  # the winner's run, whole
    assert not (out / RunDir.LOCK).exists()  # let go at the end


def test_a_resume_into_a_folder_in_use_is_refused_naming_the_holder_and_writes_nothing(run_copy, capsys):
    before = snapshot(run_copy)
    with FolderLock(RunDir(run_copy).lock, "a training"):
        cli_error(["train", "--resume", str(run_copy), "--epochs", "2"], capsys,
                  rf"in use by a training \(pid {os.getpid()} on {socket.gethostname()} since ")
        assert snapshot(run_copy).keys() == before.keys() | {RunDir.LOCK}
    assert snapshot(run_copy) == before


def test_a_lock_left_by_a_process_that_ended_is_taken_over_with_a_note(run_copy, caplog):
    holder = dead_holder()
    RunDir(run_copy).lock.write_text(holder.text())
    with caplog.at_level(logging.INFO, logger="vaekit"):
        assert main(["train", "--resume", str(run_copy), "--epochs", "2"]) == 0
    note = [record.getMessage() for record in caplog.records if "taking over" in record.getMessage()]
    assert note == [f"{run_copy}: taking over {RunDir.LOCK}, left by {holder}, a process that has ended"]
    assert len(RunDir(run_copy).read_metrics()) == 2 and not RunDir(run_copy).lock.exists()


def test_a_run_that_fails_before_its_first_checkpoint_leaves_out_free_for_the_retry(tmp_path):
    def fail(*_):
        raise RuntimeError("stopped in the first epoch")

    made, empty = tmp_path / "made", tmp_path / "empty"
    empty.mkdir()
    for out in (made, empty):
        with pytest.raises(RuntimeError, match="first epoch"):
            vaekit.train(TINY, out=out, on_step=fail)
    assert not made.exists()  # it made the folder: the folder goes
    assert list(empty.iterdir()) == []  # it found the folder empty: left empty
    retry = vaekit.train(TINY, out=made)
    assert RunDir.is_run(retry.dir) and len(RunDir(made).read_metrics()) == 1


def test_a_run_that_fails_after_its_first_checkpoint_is_kept_for_resume(tmp_path):
    def fail(state):
        raise RuntimeError("stopped after epoch 1")

    with pytest.raises(RuntimeError):
        vaekit.train(TINY.replace(train={"epochs": 2}), out=tmp_path / "run", on_epoch=fail)
    assert RunDir(tmp_path / "run").epochs_done() == 1 and not RunDir(tmp_path / "run").lock.exists()


def test_a_folder_left_by_a_killed_run_before_its_first_checkpoint_is_emptied_and_reused(tmp_path,
                                                                                           caplog):
    out = tmp_path / "run"
    out.mkdir()
    (out / RunDir.CONFIG).write_text("model: {}\n")  # what such a run writes before its first epoch ends
    (out / RunDir.EVENTS).mkdir()
    holder = dead_holder()
    RunDir(out).lock.write_text(holder.text())
    with caplog.at_level(logging.INFO, logger="vaekit"):
        vaekit.train(TINY, out=out)
    assert f"{out}: emptying the folder a training ({holder}) left when it ended before its first checkpoint" \
        in caplog.text
    assert RunDir.is_run(out) and len(RunDir(out).read_metrics()) == 1


@pytest.mark.parametrize("arguments", [
    ["--epochs", "1"],  # no more epochs than done
    ["--epochs", "3", "--batch-size", "7"],  # a setting other than the epochs and the optimiser's
])
def test_a_refused_resume_leaves_every_file_of_the_finished_run_as_it_was(run_copy, capsys, arguments):
    before = snapshot(run_copy)
    assert main(["train", "--resume", str(run_copy), *arguments]) == 2
    assert_one_line_error(capsys.readouterr().err, "error: ")
    assert snapshot(run_copy) == before


def test_a_new_run_into_a_finished_one_is_refused_before_any_work_and_writes_nothing(run_copy, capsys):
    before = snapshot(run_copy)
    cli_error(["train", "--out", str(run_copy), "--epochs", "1"], capsys,
              rf"{run_copy}: the run folder exists and is not empty; choose another --out or --resume {run_copy}$")
    assert snapshot(run_copy) == before


@pytest.mark.parametrize("where, message", [
    ("file", r"{out}: is a file; a folder is wanted here$"),
    ("file/run", r"{out}: cannot be written, {base}/file is a file, not a folder$"),
])
def test_an_out_that_cannot_be_a_folder_is_refused_in_one_line(tmp_path, capsys, where, message):
    (tmp_path / "file").write_text("not a folder")
    out = tmp_path / where
    cli_error(["train", "--out", str(out), "--epochs", "1"], capsys, message.format(out=out, base=tmp_path))
    assert (tmp_path / "file").read_text() == "not a folder"
