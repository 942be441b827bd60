"""Property: whatever number a user types for a numeric option of train, sample, eval, score, interpolate or
traverse (any integer, float, NaN or infinity), the command exits 0, or exits 2 with exactly one line on
stderr; never a traceback.

Cheap by construction: every command runs in-process on one small trained run (copied once per module, so
eval.json of the shared run is untouched); pictures are not rendered (Figure.savefig writes a stub); sample
sees 2 MB of memory, so a large --n is refused by its size check instead of drawn; eval and score score one
example; train stops right after its run folder is claimed (the model and objective are built, every range
checked), which the test asserts it reached."""

import itertools
import shutil

import matplotlib.figure
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import vaekit.commands._shared as shared
import vaekit.runs.train as training
from vaekit.cli import main

TYPED = st.one_of(
    st.integers(),
    st.integers(min_value=-3, max_value=400),  # the small values where most options' bounds lie
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["nan", "-nan", "inf", "-inf", "1e400", "-0", "0x10", "1_000", "", " 3", "2.0", "1e3"]),
)
EXAMPLES = 15
# Values that ended in a traceback or an allocator's death before the ranges were declared, tried every time.
KNOWN = [2**64, 10**11, -1, 0, "nan", 1e300]


def with_known(test):
    for value in KNOWN:
        test = example(value=value)(test)
    return test
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,  # the same values each run: a steady cost
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def as_text(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


class Claimed(Exception):
    """Raised by train's optimizer in place of training: the run got past every check of its options."""


@pytest.fixture(scope="module")
def run(opened, tmp_path_factory):
    """A copy of the shared small run (latent_dim 4, digits) and a folder for outputs."""
    folder = tmp_path_factory.mktemp("properties")
    np.save(folder / "one.npy", (np.random.default_rng(0).random((1, 1, 8, 8)) < 0.5).astype(np.float32))
    return shutil.copytree(opened.run_dir, folder / "run"), folder


@pytest.fixture
def cheap(monkeypatch):
    """No picture is rendered; a result over 1 MB is beyond the memory available."""
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda self, path, **options: open(path, "wb").close())
    monkeypatch.setattr(shared, "available_memory", lambda: 2 * 10**6)


def exits_0_or_one_line(argv: list[str], capsys) -> int:
    """Run ``vaekit argv``; assert it exits 0, or 2 with exactly one line on stderr; return the status."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        assert err.count("\n") == 1 and err.startswith(f"vaekit {argv[0]}: error: ") and "Traceback" not in err, (argv, err)
    return code


COMMANDS = [  # (command, option, the other options that keep an accepted value cheap)
    ("sample", "--n", []),
    ("sample", "--temperature", ["--n", "4"]),
    ("sample", "--seed", ["--n", "4"]),
    ("eval", "--k", ["--examples", "1"]),  # up to 1,000,000 importance samples of one example
    ("eval", "--seed", ["--examples", "1"]),
    ("eval", "--examples", []),
    ("score", "--k", ["--data", "ONE"]),
    ("score", "--seed", ["--data", "ONE"]),
    ("interpolate", "--from", ["--steps", "2"]),
    ("interpolate", "--to", ["--steps", "2"]),
    ("interpolate", "--steps", []),
    ("traverse", "--index", ["--steps", "2", "--top", "1"]),
    ("traverse", "--top", ["--steps", "2"]),
    ("traverse", "--span", ["--steps", "2", "--top", "1"]),
    ("traverse", "--steps", ["--top", "1"]),
]
OUTPUT = {"sample": "s.png", "score": "s.csv", "interpolate": "i.png", "traverse": "t.png"}


@pytest.mark.parametrize(("command", "flag", "others"), COMMANDS, ids=[f"{c} {f}" for c, f, _ in COMMANDS])
@PROPERTY
@with_known
@given(value=TYPED)
def test_a_command_s_numeric_option_gives_exit_0_or_one_line(run, cheap, capsys, command, flag, others, value):
    run_dir, folder = run
    others = [str(folder / "one.npy") if item == "ONE" else item for item in others]
    out = ["--out", str(folder / OUTPUT[command])] if command in OUTPUT else []
    exits_0_or_one_line([command, str(run_dir), *others, *out, f"{flag}={as_text(value)}"], capsys)


TRAIN_OPTIONS = ["--latent-dim", "--beta", "--epochs", "--batch-size", "--lr", "--seed"]
TINY = ["--data", "digits", "--set", "model.trunk.hidden=[8]", "--set", "train.report=false", "--device", "cpu"]
COUNTER = itertools.count()


@pytest.fixture
def stops_when_claimed(monkeypatch):
    def claimed(*args, **kwargs):
        raise Claimed

    monkeypatch.setattr(training, "make_optimizer", claimed)


@pytest.mark.parametrize("flag", TRAIN_OPTIONS)
@PROPERTY
@with_known
@given(value=TYPED)
def test_a_train_option_gives_exit_2_with_one_line_or_a_run_past_every_check(stops_when_claimed, tmp_path_factory,
                                                                             capsys, flag, value):
    out = tmp_path_factory.getbasetemp() / f"train-properties-{next(COUNTER)}"
    try:
        code = exits_0_or_one_line(["train", *TINY, "--out", str(out), f"{flag}={as_text(value)}"], capsys)
    except Claimed:
        return  # every option was accepted and checked: the run folder was claimed
    assert code == 2 and not out.exists()
