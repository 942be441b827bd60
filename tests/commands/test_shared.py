"""What the commands on a trained run share (commands/_shared.py and the latent commands' parsers): the
options several commands take are built in one place, with one name, type and default, and every option
is described with its default; bad requests print one line and exit 2."""

import argparse
import dataclasses
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import cli_error

from vaekit.cli import build_parser
from vaekit.commands._shared import Number, shown_default, shows_default
from vaekit.config import Config
from vaekit.config.ranges import COUNT, SEED
from vaekit.runs.train import FLAG_FIELDS
from vaekit.commands.registry import COMMANDS, description_of



@pytest.mark.parametrize(
    "arguments, message",
    [
        (["interpolate", "RUN", "--from", "359"], r"--from 359: the evaluation split \(digits, test\) has examples 0 to 358"),
        (["interpolate", "RUN", "--from-file", "missing.npy"], r"missing.npy: no such file"),
        (["interpolate", "RUN", "--from-file", "WRONG"], r"wrong.npy: an example of shape \(3, 3\) does not fit"),
        (["interpolate", "RUN", "--steps", "1"], r"argument --steps: must be an integer from 2 to 1000, got '1'"),
        (["interpolate", "RUN", "--to", "1e9"], r"argument --to: must be an integer at least 0, got '1e9'"),
        (["interpolate", "RUN", "--to", "1000000000"], r"--to 1000000000: the evaluation split \(digits, test\) has examples"),
        (["reconstruct", "RUN", "--n", "360"], r"--n 360: the evaluation split \(digits, test\) has 359 examples; ask for at most 359$"),
        (["denoise", "RUN", "--n", "1000"], r"--n 1000: the evaluation split \(digits, test\) has 359 examples"),
        (["traverse", "RUN", "--top", "5"], r"top must be between 1 and the latent dimension 4, got 5"),
        (["traverse", "RUN", "--index", "-1"], r"argument --index: must be an integer at least 0, got '-1'"),
        (["traverse", "RUN", "--span", "inf"], r"argument --span: must be a finite number above 0 and at most 100, got 'inf'"),
        (["traverse", "RUN", "--index", "359"], r"--index 359: the evaluation split"),
        (["denoise", "RUN", "--noise", "1.5"], r"flip probability must be in \[0, 1\], got 1.5"),
        (["latent-map", "RUN", "--method", "means"], r"needs latent_dim = 2, not 4"),
        (["encode", "RUN", "--device", "tpu"], r"--device 'tpu' is not one of: auto, cpu, cuda$"),  # not train.device
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


def rendered_help(parser, action) -> str:
    """The help text of ``action`` as 'vaekit COMMAND --help' prints it (defaults added, on one line)."""
    return " ".join(parser._get_formatter()._expand_help(action).split())


def states_default(text: str, value) -> bool:
    """Whether a help text states ``value`` as the default: '... (default 3)' or, in a list, 'auto (default)', 'auto (default: ...)'."""
    shown = shown_default(value)
    return any(form in text for form in (f"(default {shown})", f"(default {shown}:", f"{shown} (default)", f"{shown} (default:"))


def numeric_options():
    """(command, parser, action) for every option of every registered command that takes a number."""
    for name, parser in subparsers().items():
        for action in parser._actions:
            if action.type in (int, float) or isinstance(action.type, Number):
                yield name, parser, action


@pytest.mark.parametrize("command", sorted(COMMANDS.names()))
def test_every_option_of_every_command_has_help_and_shows_its_default(command):
    parser = subparsers()[command]
    for action in parser._actions:
        if action.dest == "help":
            continue
        text = rendered_help(parser, action)
        assert action.help and text, f"{command} {action.option_strings or action.dest} has no help"
        if shows_default(action.default):
            assert states_default(text, action.default), (command, action.option_strings, text)


def test_train_s_flags_show_the_config_s_defaults():
    parser, defaults = subparsers()["train"], Config()
    values = {section: getattr(defaults, section).to_dict() if section in ("model", "objective")
              else dataclasses.asdict(getattr(defaults, section)) for section in ("model", "objective", "data", "train")}
    for flag, (section, key) in FLAG_FIELDS.items():
        value = values[section][key]
        value = value["name"] if isinstance(value, dict) else value  # a part: its name
        if value is None or isinstance(value, bool):
            continue
        action = option(parser, "--" + flag.replace("_", "-"))
        assert states_default(rendered_help(parser, action), value), (flag, value, action.help)


def test_every_numeric_option_except_train_s_config_flags_is_range_checked_by_its_parser():
    """train's numeric flags set config keys, which the config's own classes check (one place per key);
    every other command's numbers are declared ranges (``number_option``), checked before anything runs."""
    options = list(numeric_options())
    assert len(options) > 25
    for name, _, action in options:
        if name == "train":
            continue
        assert isinstance(action.type, Number), (name, action.option_strings)


def test_a_numeric_option_out_of_range_is_one_line_naming_the_option_the_value_and_the_range(capsys):
    for name, _, action in numeric_options():
        if name == "train":
            continue
        flag = action.option_strings[0]
        error = cli_error([name, "RUN", flag, "nan"], capsys, rf"^vaekit {name}: error: argument {flag}: must be ")
        assert "'nan'" in error and action.type.allowed.describe() in error


def command_parsers() -> dict:
    """name -> the argparse parser of 'vaekit NAME'."""
    (subparsers,) = [action for action in build_parser()._actions if action.dest == "command"]
    return dict(subparsers.choices)


def option(parser, flag: str):
    """The argparse action of ``flag`` in ``parser``, or None."""
    return next((action for action in parser._actions if flag in action.option_strings), None)


def takers(flag: str) -> list:
    return [(name, option(parser, flag)) for name, parser in command_parsers().items() if option(parser, flag)]


def test_every_seed_option_is_a_seed_defaulting_to_zero_and_says_what_it_seeds():
    seeds = [(name, action) for name, action in takers("--seed") if name != "train"]  # train's is a config key
    assert {"denoise", "score", "disentangle", "fit-code-prior", "eval"} <= {name for name, _ in seeds}
    for name, action in seeds:
        assert (action.type.allowed, action.default) == (SEED, 0), name
        text = rendered_help(command_parsers()[name], action)
        assert text.startswith("seed of ") and text.endswith("(default 0)"), (name, text)


def test_every_output_option_names_its_default_file_in_the_run_folder():
    outs = [(name, action) for name, action in takers("--out") if name not in ("train", "sweep")]  # the folders they make
    assert {"denoise", "encode", "score", "traverse", "sample", "reconstruct"} <= {name for name, _ in outs}
    for name, action in outs:
        assert action.default is None and "(default RUN_DIR/" in action.help, (name, action.help)
    assert "(default RUN_DIR/scores.csv)" in option(command_parsers()["score"], "--out").help


@pytest.mark.parametrize("name", ["encode", "fit-code-prior"])
def test_batch_size_options_state_their_own_default(name):
    action = option(command_parsers()[name], "--batch-size")
    assert action.type.allowed == COUNT
    assert rendered_help(command_parsers()[name], action).endswith(f"(default {action.default})")


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
@pytest.mark.parametrize(("argv", "pattern"), [
    (["sample"], r"^vaekit sample: error: the following arguments are required: RUN_DIR; see 'vaekit sample --help'$"),
    (["nonsense"], r"^vaekit: error: argument COMMAND: invalid choice: 'nonsense'"),
    (["eval", "RUN", "--bogus"], r"unrecognized arguments: --bogus"),
    (["latent-map", "RUN", "--method", "umap"], r"^vaekit latent-map: error: argument --method: invalid choice: 'umap'"),
    (["score", "RUN", "--k"], r"^vaekit score: error: argument --k: expected one argument"),
])
def test_a_malformed_command_line_is_one_line_and_exit_2_without_the_usage_block(argv, pattern, capsys):
    cli_error(argv, capsys, pattern)
