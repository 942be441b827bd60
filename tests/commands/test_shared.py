"""What the commands on a trained run share (commands/_shared.py and the latent commands' parsers): the
options several commands take are built in one place, with one name, type and default, and every option
is described with its default; bad requests print one line and exit 2."""

import argparse
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import cli_error

from vaekit.cli import build_parser
from vaekit.commands.registry import COMMANDS, description_of

NEW_COMMANDS = ["encode", "denoise", "interpolate", "traverse", "latent-map"]


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["interpolate", "RUN", "--from", "359"], r"--from 359: the evaluation split \(digits, test\) has examples 0 to 358"),
        (["interpolate", "RUN", "--from-file", "missing.npy"], r"missing.npy: no such file"),
        (["interpolate", "RUN", "--from-file", "WRONG"], r"wrong.npy: an example of shape \(3, 3\) does not fit"),
        (["interpolate", "RUN", "--steps", "1"], r"steps must be at least 2"),
        (["traverse", "RUN", "--top", "5"], r"top must be between 1 and the latent dimension 4, got 5"),
        (["traverse", "RUN", "--index", "-1"], r"--index -1: the evaluation split"),
        (["denoise", "RUN", "--noise", "1.5"], r"flip probability must be in \[0, 1\], got 1.5"),
        (["latent-map", "RUN", "--method", "means"], r"needs latent_dim = 2, not 4"),
    ],
)
def test_bad_requests_print_one_line_and_exit_2(opened, arguments, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "wrong.npy", np.zeros((3, 3)))
    arguments = [str(opened.run_dir) if a == "RUN" else str(tmp_path / "wrong.npy") if a == "WRONG" else a
                 for a in arguments]
    cli_error(arguments, capsys, message)


def subparsers() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


@pytest.mark.parametrize("command", NEW_COMMANDS + ["sample", "reconstruct"])
def test_every_option_is_described_with_its_numeric_default(command):
    parser = subparsers()[command]
    for action in parser._actions:
        if action.dest == "help":
            continue
        assert action.help, f"{command} {action.option_strings or action.dest} has no help"
        if isinstance(action.default, (int, float)) and not isinstance(action.default, bool):
            assert f"default {action.default:g}" in action.help, (command, action.option_strings, action.help)


def command_parsers() -> dict:
    """name -> the argparse parser of 'vaekit NAME'."""
    (subparsers,) = [action for action in build_parser()._actions if action.dest == "command"]
    return dict(subparsers.choices)


def option(parser, flag: str):
    """The argparse action of ``flag`` in ``parser``, or None."""
    return next((action for action in parser._actions if flag in action.option_strings), None)


def takers(flag: str) -> list:
    return [(name, option(parser, flag)) for name, parser in command_parsers().items() if option(parser, flag)]


def test_every_seed_option_is_an_int_defaulting_to_zero_and_says_what_it_seeds():
    seeds = [(name, action) for name, action in takers("--seed") if name != "train"]  # train's is a config key
    assert {"denoise", "score", "disentangle", "fit-code-prior", "eval"} <= {name for name, _ in seeds}
    for name, action in seeds:
        assert (action.type, action.default) == (int, 0), name
        assert action.help.startswith("seed of ") and action.help.endswith("(default 0)"), (name, action.help)


def test_every_output_option_names_its_default_file_in_the_run_folder():
    outs = [(name, action) for name, action in takers("--out") if name != "train"]  # train's is the run folder
    assert {"denoise", "encode", "score", "traverse", "sample", "reconstruct"} <= {name for name, _ in outs}
    for name, action in outs:
        assert action.default is None and "(default RUN_DIR/" in action.help, (name, action.help)
    assert "(default RUN_DIR/scores.csv)" in option(command_parsers()["score"], "--out").help


@pytest.mark.parametrize("name", ["encode", "fit-code-prior"])
def test_batch_size_options_state_their_own_default(name):
    action = option(command_parsers()[name], "--batch-size")
    assert action.type is int and action.help.endswith(f"(default {action.default})")


def test_report_reads_only_the_run_s_own_data_and_disentangle_asks_for_factors():
    parsers = command_parsers()
    assert option(parsers["report"], "--data") is None
    assert "factors" in option(parsers["disentangle"], "--data").help
    assert option(parsers["report"], "--device").default == option(parsers["score"], "--device").default == "auto"


def test_a_command_s_help_page_shows_its_description_or_else_its_help_line():
    parsers = command_parsers()
    for name in COMMANDS.names():
        command = COMMANDS.get(name)
        assert parsers[name].description == description_of(command)
        assert description_of(command) == getattr(command, "description", command.help)


# --- every writing command checks its destination before any work (check_writable) -----------------------

OUT_COMMANDS = [("sample", "x.png"), ("reconstruct", "x.png"), ("denoise", "x.png"), ("encode", "x.npz"),
                ("interpolate", "x.png"), ("traverse", "x.png"), ("latent-map", "x.png"), ("score", "x.csv")]
# The commands that write into RUN_DIR only, each with an entry of the wrong kind in the way (a folder where
# its file goes, a file where its folder goes).
RUN_COMMANDS = [(["eval"], "eval.json", "folder"), (["report"], "report", "file"),
                (["disentangle", "--fast"], "disentanglement", "file"), (["fit-code-prior"], "samples.png", "folder")]


@pytest.mark.parametrize("command, name", OUT_COMMANDS)
def test_an_out_below_a_file_is_refused_in_one_line_before_any_work(opened, tmp_path, capsys, command, name):
    (tmp_path / "file").write_text("a file, not a folder")
    out = tmp_path / "file" / name
    cli_error([command, str(opened.run_dir), "--out", str(out)], capsys,
              rf"^vaekit {command}: error: {out}: cannot be written, {tmp_path / 'file'} is a file, not a folder$")


@pytest.mark.parametrize("arguments, name, kind", RUN_COMMANDS)
def test_a_run_folder_entry_of_the_wrong_kind_is_refused_in_one_line_and_nothing_is_written(opened, tmp_path, capsys,
                                                                                              arguments, name, kind):
    run = Path(shutil.copytree(opened.run_dir, tmp_path / "run"))
    entry = run / name
    shutil.rmtree(entry) if entry.is_dir() else entry.unlink(missing_ok=True)
    entry.mkdir() if kind == "folder" else entry.write_text("in the way")
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    wanted = "a file" if kind == "folder" else "a folder"
    cli_error([arguments[0], str(run), *arguments[1:]], capsys,
              rf"^vaekit {arguments[0]}: error: {entry}: is a {kind}; {wanted} is wanted here$")
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a folder whose mode forbids it")
@pytest.mark.parametrize("command", ["eval", "report", "sample"])
def test_a_read_only_run_folder_is_refused_in_one_line(opened, tmp_path, capsys, command):
    run = Path(shutil.copytree(opened.run_dir, tmp_path / "run"))
    run.chmod(0o555)
    try:
        cli_error([command, str(run)], capsys, rf"cannot be written, {run} does not take new files \(Permission denied\)$")
    finally:
        run.chmod(0o755)
