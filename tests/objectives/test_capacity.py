"""The capacity-annealed beta-VAE (objectives/capacity.py): the target rises linearly then stays, and the
loss is gamma times the gap."""

import torch

from vaekit import ObjectiveConfig, build_objective
from vaekit.data.batch import Batch


def test_capacity_target_rises_linearly_then_stays_and_the_loss_is_gamma_times_the_gap(vae, x):
    objective = build_objective(ObjectiveConfig(name="capacity", gamma=7.0, capacity_max=2.0, capacity_steps=4), vae)
    targets = []
    for _ in range(6):
        targets.append(float(objective.capacity()))
        torch.manual_seed(0)
        output = objective(vae, Batch(x))
        objective.step(output)
    assert targets == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    expected = -output.terms["log_px_z"].mean() + 7.0 * (output.terms["kl"].mean() - 2.0).abs()
    torch.testing.assert_close(output.loss, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(output.terms["capacity"], torch.full((32,), 2.0, dtype=torch.float64))
