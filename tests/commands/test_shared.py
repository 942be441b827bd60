"""The options several commands share are built in one place (commands/_shared.py): every command that
takes one gives it the same name, type and default, and its help states that default."""

import pytest

from vaekit.cli import build_parser
from vaekit.commands.registry import COMMANDS, description_of


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
