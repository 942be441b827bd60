"""What the commands on a trained run share (commands/_shared.py and the latent commands' parsers): every
option is described with its numeric default; bad requests print one line and exit 2."""

import argparse

import numpy as np
import pytest
from helpers import cli_error

from vaekit.cli import build_parser

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
