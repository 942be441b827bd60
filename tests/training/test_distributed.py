"""Data-parallel training on torch.distributed (gloo on the CPU): the same result whatever the number
of processes, shards that cover each epoch once, collective stops, rank-0 writes and resume.

Processes join through a temporary file and every wait has a timeout (``parallel.py``)."""

import hashlib
import json

import pytest
import torch
from helpers import cli_error, read_metrics
from parallel import GlobalNoiseHead, audit_writes, free_port, run_cli_ranks, run_ranks

from vaekit.config import ModelConfig, TrainConfig
from vaekit.data.array import ArrayData
from vaekit.evaluation.likelihood import sharded_mean_terms
from vaekit.models.model import build_model
from vaekit.objectives import ELBO
from vaekit.objectives.beta_tcvae import BetaTCVAE
from vaekit.objectives.factorvae import FactorVAE
from vaekit.objectives.vq import VQLoss
from vaekit.training.checkpoint import load_tensors
from vaekit.training.distributed import DistributedTrainer, ShardedBatches
from vaekit.training.trainer import Trainer, make_schedule

SHAPE = (20,)


def binary_data(n: int) -> ArrayData:
    values = (torch.rand(n, *SHAPE, generator=torch.Generator().manual_seed(5)) < 0.3).float()
    return ArrayData(values, None, "binary test data")


# --- shards ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, batch, world", [(100, 8, 2), (103, 12, 3), (64, 16, 4)])
def test_each_epochs_shards_are_disjoint_equal_and_cover_the_data(n, batch, world):
    data = binary_data(n)
    per_rank = [ShardedBatches(data, batch, False, seed=3, rank=r, world=world) for r in range(world)]
    for epoch in (0, 1):
        shares = [b.shares(epoch) for b in per_rank]
        assert len({len(s) for s in shares}) == 1 and len(shares[0]) == len(per_rank[0])
        for step in range(len(shares[0])):  # every rank's share of a step has the same size
            assert len({len(s[step]) for s in shares}) == 1
        taken = torch.cat([index for s in shares for index in s])
        assert len(set(taken.tolist())) == len(taken)  # disjoint
        last = n % batch
        assert len(taken) == n - last % world  # all but the last batch's remainder mod W
        # the examples of each step do not depend on the world size: step s is global batch s
        one = ShardedBatches(data, batch, False, seed=3, rank=0, world=1).shares(epoch)
        for step in range(len(shares[0])):
            together = torch.cat([s[step] for s in shares])
            assert torch.equal(together, one[step][:len(together)])
    assert not torch.equal(per_rank[0].order(0), per_rank[0].order(1))  # a new permutation each epoch


def test_steps_per_epoch_takes_the_first_global_batches_of_each_epochs_permutation():
    """train.steps_per_epoch on several processes: each epoch is its first S global batches, the
    ranks' shares disjoint and together exactly those batches; the next epoch draws afresh."""
    data = binary_data(200)
    per_rank = [ShardedBatches(data, 16, False, seed=3, rank=r, world=2, steps=3) for r in range(2)]
    assert [len(b) for b in per_rank] == [3, 3]
    for epoch in (0, 1):
        shares = [b.shares(epoch) for b in per_rank]
        taken = torch.cat([torch.cat(s) for s in shares])
        assert len(taken) == 48 and len(set(taken.tolist())) == 48
        assert set(taken.tolist()) == set(per_rank[0].order(epoch)[:48].tolist())
    first, second = (set(torch.cat(per_rank[0].shares(e)).tolist()) for e in (0, 1))
    assert first != second
    assert len(ShardedBatches(data, 16, False, seed=3, rank=0, world=2, steps=50)) == 13  # a full pass: 12 batches and 8 left, split


def test_a_batch_size_that_does_not_split_over_the_processes_is_refused():
    with pytest.raises(ValueError, match="multiple of the 3 processes"):
        ShardedBatches(binary_data(10), 8, False, seed=0, rank=0, world=3)


# --- parity: two processes with b each train as one process with 2b -------------------------------


KINDS = ("elbo", "free_bits", "vq", "beta_tcvae_mss", "beta_tcvae_mws", "factorvae")


def objective_for(kind: str, model):
    """The objective of a parity kind: the ELBO (with free bits), or one that couples a batch's
    examples (beta-TCVAE's minibatch estimates of q(z); FactorVAE's permuted codes and discriminator)."""
    if kind.startswith("beta_tcvae"):
        objective = BetaTCVAE(beta=6.0, tc_estimator=kind.rsplit("_", 1)[1])
        objective.prepare(1000)
        return objective
    if kind == "factorvae":
        objective = FactorVAE(gamma=10.0, discriminator_hidden=16, discriminator_layers=2, discriminator_lr=1e-2)
        objective.bind(model)  # from the seeded global stream: the same discriminator on every rank
        return objective
    # a floor near the KL of the first dimension (0.012 nats at the start), which the two shares
    # of a batch fall on different sides of: only the global batch mean decides as one process does
    return ELBO(free_bits=0.012 if kind == "free_bits" else 0.0)


def train_steps(kind: str, global_batch: int, steps: int, parallel: bool = True, device: str = "cpu") -> dict:
    """``steps`` Adam steps of a small model over one epoch of global batches: under DDP on this rank's
    shares (``parallel``), or with the plain trainer on whole global batches; the final state and its hash."""
    torch.manual_seed(0)
    if kind.startswith("vq"):  # vq_restarts: codes unused for 2 batches restart (rank 0's candidates)
        config = ModelConfig(name="vqvae", hidden=(16,), latent_dim=3, likelihood="bernoulli", codebook_size=8,
                             code_positions=2, codebook_ema=True, codebook_restart=2 if kind == "vq_restarts" else 0)
        model, objective = build_model(config, SHAPE), VQLoss()
    else:
        model = build_model(ModelConfig(hidden=(16,), latent_dim=4, likelihood="bernoulli"), SHAPE).to(device)
        objective = objective_for(kind, model)
        model.head = GlobalNoiseHead(model.head, global_batch)
    model = model.to(device)  # on CUDA, this rank's GPU
    initial = state_hash(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    schedule = make_schedule(optimizer, "constant", 1)
    trainer_class = DistributedTrainer if parallel else Trainer
    trainer = trainer_class(model, objective, TrainConfig(epochs=1, batch_size=global_batch), optimizer, schedule,
                            compile=False)
    data = binary_data(steps * global_batch).to(device)
    shards = {} if parallel else {"rank": 0, "world": 1}  # one process: whole global batches, same order
    trainer.fit(ShardedBatches(data, global_batch, False, seed=0, **shards))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    own = getattr(objective, "module", None)  # an objective's own parameters (FactorVAE's discriminator)
    if own is not None:
        state.update({f"objective.{k}": v.clone() for k, v in own.state_dict().items()})
    return {"state": state, "hash": state_hash(model) + (state_hash(own) if own is not None else ""), "initial": initial}


def train_every_kind(global_batch: int, steps: int, device: str = "cpu") -> dict:
    if device == "cuda":
        device = f"cuda:{torch.cuda.current_device()}"
    return {kind: train_steps(kind, global_batch, steps, device=device) for kind in (*KINDS, "vq_restarts")}


def state_hash(model) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode() + tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    """Each kind trained on two gloo processes with shares of 16 of global batches of 32 (one group)."""
    return run_ranks(train_every_kind, 2, tmp_path_factory.mktemp("parity"), global_batch=32, steps=10)


def test_restarted_codes_agree_across_ranks(two_ranks):
    first, second = two_ranks[0]["vq_restarts"], two_ranks[1]["vq_restarts"]
    assert first["hash"] == second["hash"] != first["initial"]


@pytest.mark.parametrize("kind", KINDS)
def test_two_processes_with_b_each_train_as_one_process_with_2b(kind, two_ranks):
    with torch.random.fork_rng(devices=[]):
        one = train_steps(kind, global_batch=32, steps=10, parallel=False)
    first, second = two_ranks[0][kind], two_ranks[1][kind]
    assert first["hash"] == second["hash"]  # parameters and buffers identical on both ranks
    assert one["hash"] != one["initial"]  # training moved the parameters
    for name, value in one["state"].items():
        torch.testing.assert_close(first["state"][name], value, msg=name)


# every registered model with its default objective, and the priors that hold parameters; conv trunks
# on 1 x 8 x 8 images
CONFORMANCE = [("vae", "mlp", "normal", "elbo"), ("vae", "mlp", "mog", "iwae"), ("vae", "mlp", "vamp", "elbo"),
               ("ae", "mlp", "normal", "reconstruction"), ("hvae", "mlp", "normal", "elbo"),
               ("conv_hvae", "conv", "normal", "elbo"), ("vqvae", "conv", "normal", "vq"),
               ("vqvae", "mlp", "normal", "vq"), ("dae", "conv", "normal", "denoising")]


def train_every_model() -> dict:
    """Three DDP steps of each conformance entry on this rank; the hash of each final state."""
    from vaekit.config import ObjectiveConfig
    from vaekit.models.registry import MODELS
    from vaekit.objectives import build_objective

    assert set(MODELS.names()) <= {entry[0] for entry in CONFORMANCE}  # a new model joins this list
    hashes = {}
    for name, trunk, prior, objective_name in CONFORMANCE:
        torch.manual_seed(0)
        config = ModelConfig(name=name, trunk=trunk, prior=prior, hidden=(16,), channels=(4, 8), latent_dim=3,
                             likelihood="bernoulli", prior_components=4 if prior != "normal" else 0, codebook_size=8,
                             codebook_restart=1)
        model = build_model(config, (1, 8, 8))
        objective = build_objective(ObjectiveConfig(name=objective_name), model)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        trainer = DistributedTrainer(model, objective, TrainConfig(epochs=1, batch_size=8), optimizer,
                                     make_schedule(optimizer, "constant", 1), compile=False)
        values = (torch.rand(24, 1, 8, 8, generator=torch.Generator().manual_seed(1)) < 0.5).float()
        trainer.fit(ShardedBatches(ArrayData(values, None, "images"), 8, False, seed=0))
        hashes[f"{name}-{trunk}-{prior}-{objective_name}"] = state_hash(model)
    return hashes


def test_every_model_trains_under_ddp_and_stays_identical_on_both_ranks(tmp_path):
    """DDP refuses a step where a parameter got no gradient; every model's must get one, and the
    buffers (VQ statistics, with restarts after one unused batch) must agree without being broadcast."""
    first, second = run_ranks(train_every_model, 2, tmp_path)
    assert first == second and len(first) == len(CONFORMANCE)


def test_free_bits_hold_the_global_batch_mean_kl_of_each_dimension():
    """One process: the floor applies to the batch-mean KL per dimension (the quantity the global
    mean reproduces under several processes)."""
    from vaekit.nn.collective import global_batch_mean

    values = torch.randn(6, 3, requires_grad=True)
    mean = global_batch_mean(values)
    torch.testing.assert_close(mean, values.mean(0))
    mean.sum().backward()
    torch.testing.assert_close(values.grad, torch.full((6, 3), 1 / 6))


# --- sharded evaluation ---------------------------------------------------------------------------


def sharded_likelihood(k: int, batch_size: int) -> dict:
    torch.manual_seed(0)
    model = build_model(ModelConfig(hidden=(16,), latent_dim=4, likelihood="bernoulli"), SHAPE)
    return sharded_mean_terms(model, binary_data(100), k=k, batch_size=batch_size, seed=4)


def test_the_sharded_log_likelihood_equals_the_single_process_one(tmp_path):
    # 100 examples in batches of 30: rank 0 scores batches 0 and 2, rank 1 batches 1 and 3 (of 10)
    single = sharded_likelihood(k=7, batch_size=30)
    two = run_ranks(sharded_likelihood, 2, tmp_path, k=7, batch_size=30)
    assert two[0] == two[1]
    assert set(single) >= {"log_px", "elbo", "kl"}
    for name in single:
        # float32 model arithmetic (threads differ between the processes); other draws would differ by ~1e-2
        assert two[0][name] == pytest.approx(single[name], rel=1e-6), name
    assert single["log_px"] >= single["elbo"] - 1.0  # an importance-sampled bound, near or above the ELBO


# --- the command line on two processes ------------------------------------------------------------

TRAIN = ["train", "--data", "digits", "--latent-dim", "4", "--set", "model.hidden=[32]", "--batch-size", "64",
         "--set", "train.report=false", "--device", "cpu"]


def test_a_two_process_run_writes_from_rank_0_only_and_resumes_bit_identically(tmp_path):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    done = run_cli_ranks(TRAIN + ["--epochs", "2", "--out", str(whole)], 2, tmp_path,
                         preamble={1: audit_writes(tmp_path)})
    assert [p.returncode for p in done] == [0, 0], done[1].stderr[-2000:] + done[0].stderr[-2000:]
    assert json.loads((whole / "run.json").read_text())["world_size"] == 2
    assert "run folder:" in done[0].stdout and done[1].stdout == ""  # rank 0 prints, rank 1 is silent
    done = run_cli_ranks(TRAIN + ["--epochs", "1", "--out", str(cut)], 2, tmp_path)
    assert [p.returncode for p in done] == [0, 0], done[0].stderr[-2000:]
    # the finished 1-epoch run is extended to 2 epochs, on two processes, and ends where the whole run did
    done = run_cli_ranks(["train", "--resume", str(cut), "--epochs", "2"], 2, tmp_path)
    assert [p.returncode for p in done] == [0, 0], done[0].stderr[-2000:]
    expected, _ = load_tensors(whole / "last.safetensors")
    got, metadata = load_tensors(cut / "last.safetensors")
    assert expected.keys() == got.keys() and any(key.startswith("resume.rng.cpu.1") for key in got)
    for name in expected:
        assert torch.equal(expected[name], got[name]), name
    rows = read_metrics(cut)
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert rows == [dict(row, seconds=r["seconds"]) for row, r in zip(read_metrics(whole), rows)]
    assert "epochs: 2" in (cut / "config.yaml").read_text()
    # one process continues the two-process run to 3 epochs, and says it is not bit-identical
    done = run_plain(["train", "--resume", str(cut), "--epochs", "3"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "resuming on 1 process without torch.distributed a run saved by 2 processes" in done.stderr and "not continue bit-identically" in done.stderr
    assert [row["epoch"] for row in read_metrics(cut)] == ["1", "2", "3"]


NAN_ON_RANK_1 = """
from vaekit.objectives import elbo
_call, _count = elbo.ELBO.__call__, [0]
def _nan(self, model, x, beta=None):
    output = _call(self, model, x, beta)
    _count[0] += 1
    if _count[0] == 5:
        output.loss = output.loss * float("nan")
    return output
elbo.ELBO.__call__ = _nan
"""


def test_a_nan_on_one_rank_stops_both_with_the_message(tmp_path):
    out = tmp_path / "run"
    done = run_cli_ranks(TRAIN + ["--epochs", "2", "--out", str(out)], 2, tmp_path, preamble={1: NAN_ON_RANK_1})
    assert [p.returncode for p in done] == [2, 2], done[0].stderr[-2000:]
    for process in done:
        assert "the loss became non-finite at epoch 1, step 5" in process.stderr
    assert not (out / "last.safetensors").exists()  # the bad epoch wrote nothing


def test_an_existing_run_folder_stops_both_ranks_and_is_left_alone(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    done = run_cli_ranks(TRAIN + ["--epochs", "1", "--out", str(out)], 2, tmp_path)
    assert [p.returncode for p in done] == [2, 2]
    for process in done:
        assert "the run folder exists and is not empty" in process.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"] and (out / "notes.txt").read_text() == "mine"


# --- bad input ------------------------------------------------------------------------------------


def run_plain(args, env=None, cwd=None):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "vaekit", *args], capture_output=True, text=True, timeout=120,
                          env=env if env is not None else dict(os.environ), cwd=cwd)


def test_zero_devices_and_cuda_without_a_gpu_are_refused_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "run"  # refused in this process, before any other starts
    cli_error(TRAIN + ["--devices", "0", "--out", str(out)], capsys, "--devices 0: the number of processes must be at least 1")
    if not torch.cuda.is_available():
        cuda = TRAIN[:-1] + ["cuda", "--devices", "2", "--out", str(out)]  # TRAIN ends with --device cpu
        cli_error(cuda, capsys, "no CUDA device is available here")
    assert not out.exists()


def test_a_world_size_without_a_reachable_rendezvous_exits_2_with_nothing_written(tmp_path):
    import os

    out = tmp_path / "run"
    env = dict(os.environ, RANK="1", LOCAL_RANK="1", WORLD_SIZE="2", MASTER_ADDR="127.0.0.1",
               MASTER_PORT=str(free_port()), VAEKIT_DIST_TIMEOUT="3")
    done = run_plain(TRAIN + ["--epochs", "1", "--out", str(out)], env=env)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "could not join the process group at 127.0.0.1:" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


# --- torchrun, end to end -------------------------------------------------------------------------


@pytest.mark.slow
def test_torchrun_on_two_processes_writes_one_run_folder_that_eval_opens(tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "run"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "vaekit"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(torchrun + TRAIN + ["--epochs", "2", "--out", str(out)], capture_output=True, text=True,
                          timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    rows = read_metrics(out)
    assert [row["epoch"] for row in rows] == ["1", "2"] and float(rows[1]["val_elbo"]) < 0
    plain = run_plain(["eval", str(out), "--k", "5"])
    assert plain.returncode == 0, plain.stderr[-2000:]
    single = json.loads((out / "eval.json").read_text())
    # the same evaluation sharded over two processes: one stream per batch, so the numbers agree with
    # the plain evaluation's in distribution (Monte Carlo error), not draw for draw
    done = subprocess.run(torchrun + ["eval", str(out), "--k", "5"], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    sharded = json.loads((out / "eval.json").read_text())
    assert sharded["processes"] == 2 and sharded["examples"] == single["examples"]
    assert sharded["elbo_nats"] == pytest.approx(single["elbo_nats"], abs=0.5)
    assert sharded["log_px_nats"] == pytest.approx(single["log_px_nats"], abs=0.5)


@pytest.mark.slow
def test_devices_2_launches_two_processes_through_torch_distributed_run(tmp_path):
    out = tmp_path / "run"
    done = run_plain(TRAIN + ["--devices", "2", "--epochs", "1", "--out", str(out)])
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((out / "run.json").read_text())["world_size"] == 2
    assert done.stdout.count("run folder:") == 1  # rank 0 alone reports


# --- CUDA (skipped without two GPUs) ----------------------------------------------------------------


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA devices")
def test_two_gpus_under_nccl_keep_identical_parameters(tmp_path):
    first, second = run_ranks(train_every_kind, 2, tmp_path, backend="nccl", global_batch=32, steps=10, device="cuda")
    for kind in first:
        assert first[kind]["hash"] == second[kind]["hash"], kind
