"""What the commands on a trained run share (commands/_shared.py and the latent commands' parsers): the
options several commands take are built in one place, with one name, type and default, and every option
is described with its default; bad requests print one line and exit 2."""

import argparse

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
    outs = [(name, action) for name, action in takers("--out") if name not in ("train", "sweep")]  # the folders they make
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
