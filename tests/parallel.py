"""Running a function, or the command line, on several gloo processes for the data-parallel tests.

Processes join through a temporary file (``file://``), never a fixed port, and every wait has a
timeout, so a hang fails the test instead of blocking the suite.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import traceback
from pathlib import Path

import torch
import torch.multiprocessing as mp
from torch import nn

from vaekit.nn.collective import rank

TIMEOUT = 180  # seconds for a group of processes to finish (2 shared CPU cores, each importing torch)


def _entry(fn, rank_index: int, world: int, init_file: str, out: str, kwargs: dict, backend: str) -> None:
    from vaekit.training.distributed import leave, start_group

    torch.set_num_threads(1)
    try:
        if backend == "nccl":
            torch.cuda.set_device(rank_index)
        start_group(backend, rank_index, world, f"file://{init_file}")
        torch.save({"result": fn(**kwargs)}, out)
    except BaseException:  # reported to the test through the result file
        torch.save({"error": traceback.format_exc()}, out)
        raise
    finally:
        leave()


def run_ranks(fn, world: int, tmp_path: Path, backend: str = "gloo", **kwargs) -> list:
    """``fn(**kwargs)`` on ``world`` processes of one group (gloo; nccl: rank r on GPU r); the results, by rank."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    init_file = tmp_path / f"init-{world}-{fn.__name__}"
    init_file.unlink(missing_ok=True)
    context = mp.get_context("spawn")
    outs = [tmp_path / f"result-{world}-{fn.__name__}-{r}.pt" for r in range(world)]
    processes = [context.Process(target=_entry, args=(fn, r, world, str(init_file), str(outs[r]), kwargs, backend))
                 for r in range(world)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(TIMEOUT)
    hung = [r for r, process in enumerate(processes) if process.is_alive()]
    for process in processes:
        if process.is_alive():
            process.kill()
    assert not hung, f"ranks {hung} still running after {TIMEOUT} s"
    results = [torch.load(out, weights_only=False) for out in outs]
    errors = [r["error"] for r in results if "error" in r]
    assert not errors, errors[0]
    return [r["result"] for r in results]


def free_port() -> int:
    """A TCP port that nothing listened on a moment ago (chosen by the OS, never fixed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rank_environment(rank_index: int, world: int, init_file: Path) -> dict:
    env = dict(os.environ, RANK=str(rank_index), LOCAL_RANK=str(rank_index), WORLD_SIZE=str(world),
               VAEKIT_DIST_INIT=f"file://{init_file}", OMP_NUM_THREADS="1", VAEKIT_DIST_TIMEOUT="120")
    env.pop("VAEKIT_COMPILE", None)
    return env


def run_cli_ranks(args: list[str], world: int, tmp_path: Path, preamble: dict[int, str] | None = None,
                  cwd: Path | None = None) -> list[subprocess.CompletedProcess]:
    """``vaekit ARGS`` on ``world`` processes (as torchrun would start them, joined by a file);
    ``preamble[r]``: Python run first in rank r (a fault to inject, an audit hook)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    init_file = tmp_path / f"init-cli-{len(list(tmp_path.glob('init-cli-*')))}"
    processes = []
    for r in range(world):
        code = (preamble or {}).get(r, "") + f"\nimport sys\nfrom vaekit.cli import main\nsys.exit(main({args!r}))\n"
        processes.append(subprocess.Popen([sys.executable, "-c", code], env=rank_environment(r, world, init_file),
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd))
    finished = []
    try:
        for r, process in enumerate(processes):
            out, err = process.communicate(timeout=TIMEOUT)
            finished.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    return finished


class GlobalNoiseHead(nn.Module):
    """A test mode for parity: the posterior's noise of training step s is drawn for the whole global
    batch from a generator seeded with s, and each rank takes its share, so one process with batch
    2b and two with b each see the same noise per example."""

    def __init__(self, head: nn.Module, global_batch: int):
        super().__init__()
        self.head, self.global_batch, self.step = head, global_batch, 0

    def forward(self, h: torch.Tensor):
        q = self.head(h)
        if self.training:
            generator = torch.Generator().manual_seed(1000 + self.step)
            self.step += 1
            eps = torch.randn(self.global_batch, *q.event_shape, generator=generator)
            share = eps[rank() * len(h):(rank() + 1) * len(h)].to(h.device)
            q.rsample = lambda sample_shape=torch.Size(): q.mean + q.stddev * share
        return q


def audit_writes(folder: Path) -> str:
    """A preamble that makes any write under ``folder`` (open for writing, mkdir, rename, remove)
    end the process with status 99, so a rank that must not write fails loudly."""
    return f"""
import os, sys
_FOLDER = os.path.realpath({str(folder)!r})
def _hook(event, args):
    if event in ("open", "os.mkdir", "os.rename", "os.replace", "os.remove", "shutil.rmtree"):
        path = args[0]
        if event == "open":
            mode, flags = args[1], args[2]
            writing = (mode and any(c in mode for c in "wax+")) or (flags and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if not writing:
                return
        if isinstance(path, (str, bytes, os.PathLike)) and os.path.realpath(os.fsdecode(path)).startswith(_FOLDER):
            sys.stderr.write(f"rank wrote {{event}} {{path}}\\n"); sys.stderr.flush(); os._exit(99)
sys.addaudithook(_hook)
"""
