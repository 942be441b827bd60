"""``vaekit train --devices N``: the same command on N processes of this machine, started by
torch.distributed.run (torchrun's engine) with a private rendezvous (``--standalone``)."""

from __future__ import annotations

import torch

from ..errors import UserError
from .distributed import launched


def launch_devices(devices: int, device: str | None, argv: list[str] | None) -> int:
    """Run ``vaekit`` with ``argv`` less ``--devices`` on ``devices`` processes; the exit status of
    the first process that failed (each prints its own error), else 0."""
    check_devices(devices, device or "auto")
    if argv is None:
        raise UserError("--devices relaunches the command line, so it needs its arguments; call vaekit.cli.main(argv)")
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    launch = parse_args(["--standalone", f"--nproc-per-node={devices}", "--module", "vaekit", *without_devices(argv)])
    try:
        run(launch)
    except ChildFailedError as exc:
        codes = [failure.exitcode for failure in exc.failures.values()]
        return next((code for code in codes if code > 0), 1)
    return 0


def check_devices(devices: int, device: str) -> None:
    """A UserError for a process count that cannot run here, before any process starts."""
    if devices < 1:
        raise UserError(f"--devices {devices}: the number of processes must be at least 1")
    if launched():
        raise UserError("--devices starts its own processes; under torchrun leave it out (torchrun's "
                        "--nproc-per-node sets the number)")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {device} with --devices {devices}: no CUDA device is available here; use "
                        "--device cpu (gloo processes)")
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if device != "cpu" and gpus and devices > gpus:
        raise UserError(f"--devices {devices}: this machine has {gpus} GPU(s), one per process; use --devices "
                        f"{gpus} or --device cpu")


def without_devices(argv: list[str]) -> list[str]:
    """``argv`` without ``--devices N`` / ``--devices=N``."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--devices":
            skip = True
        elif not arg.startswith("--devices="):
            kept.append(arg)
    return kept
