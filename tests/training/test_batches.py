"""The one factory of training batches: the same examples, in the same order, with the same random
draws as before the batch became a value (each epoch one torch.randperm, then the binarization draws
of each batch in turn), for resident and sharded data; labels attached from the batch's positions."""

import torch

from vaekit.data.array import ArrayData
from vaekit.data.batch import Batch
from vaekit.data.streaming import StreamedData
from vaekit.training.batches import (
    ResidentBatches,
    ShardedBatches,
    StreamingBatches,
    binarize,
    binarize_levels,
    training_batches,
)


def grey_data(n=23, levels=True):
    generator = torch.Generator().manual_seed(0)
    if levels:  # 8-bit grey levels, as images are held
        return ArrayData(torch.randint(0, 256, (n, 1, 2, 3), generator=generator, dtype=torch.uint8),
                         torch.arange(n) % 5, "levels", scale=torch.tensor(1 / 255))
    return ArrayData(torch.rand(n, 4, generator=generator), torch.arange(n) % 5, "floats")


def old_epoch(data, batch_size, dynamic):
    """What the trainer's batches were before: one permutation, then each batch's draws in turn."""
    out = []
    for index in torch.randperm(len(data)).split(batch_size):
        if dynamic and data.values.dtype == torch.uint8:
            out.append((index, binarize_levels(data.values.index_select(0, index))))
        else:
            x = data.inputs(index)
            out.append((index, binarize(x) if dynamic else x))
    return out


def test_the_factory_chooses_the_strategy_from_the_data_and_the_sharding():
    data = grey_data()
    assert type(training_batches(data, 4, torch.device("cpu"))) is ResidentBatches
    sharded = training_batches(data, 4, torch.device("cpu"), sharded=True, seed=3)
    assert type(sharded) is ShardedBatches and sharded.seed == 3
    streamed = StreamedData(None, torch.arange(5), "files")  # read from files batch by batch
    assert type(training_batches(streamed, 4, torch.device("cpu"))) is StreamingBatches


def test_resident_batches_repeat_the_old_order_and_draws_bit_for_bit():
    for levels in (True, False):
        for dynamic in (False, True):
            data = grey_data(levels=levels)
            torch.manual_seed(7)
            expected = old_epoch(data, 5, dynamic) + old_epoch(data, 5, dynamic)
            factory = training_batches(data, 5, torch.device("cpu"), dynamic_binarize=dynamic)
            torch.manual_seed(7)
            got = list(factory) + list(factory)
            assert len(got) == len(expected) == 10
            for batch, (index, x) in zip(got, expected):
                assert isinstance(batch, Batch) and batch.labels is None
                assert torch.equal(batch.index, index) and torch.equal(batch.x, x)


def test_labels_come_from_each_batchs_own_positions():
    data = grey_data()
    torch.manual_seed(1)
    for batch in training_batches(data, 4, torch.device("cpu"), labels=data.labels):
        assert torch.equal(batch.labels, data.labels[batch.index])
        assert torch.equal(batch.x, data.inputs(batch.index))


def test_steps_per_epoch_cuts_the_same_permutation():
    data = grey_data()
    torch.manual_seed(2)
    order = torch.randperm(len(data))[:6]
    torch.manual_seed(2)
    got = list(training_batches(data, 3, torch.device("cpu"), steps=2))
    assert torch.equal(torch.cat([b.index for b in got]), order)


def test_sharded_batches_are_each_ranks_shares_with_their_labels():
    data = grey_data(40)
    world = 2
    per_rank = [ShardedBatches(data, 8, False, 4, rank=r, world=world, labels=data.labels) for r in range(world)]
    for rank, batches in enumerate(per_rank):
        got = list(batches)
        shares = batches.shares(0)
        assert len(got) == len(shares) == 5
        for batch, index in zip(got, shares):
            assert len(batch) == 4
            assert torch.equal(batch.index, index) and torch.equal(batch.labels, data.labels[index])
            assert torch.equal(batch.x, data.inputs(index))


def test_dynamic_binarization_of_8_bit_levels_draws_bernoulli_of_level_over_255():
    levels = torch.tensor([0, 1, 64, 128, 254, 255], dtype=torch.uint8)
    data = ArrayData(levels.repeat(4000, 1), None, "levels", scale=torch.tensor(1 / 255))
    batches = ResidentBatches(data, batch_size=4000, dynamic_binarize=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        bits = torch.cat([batch.x for _ in range(5) for batch in batches])  # (20000, 6)
    assert bits.dtype == torch.float32 and set(bits.unique().tolist()) <= {0.0, 1.0}
    assert bits[:, 0].sum() == 0 and bits[:, -1].sum() == len(bits)  # never and always
    p = levels.double() / 255
    standard_error = (p * (1 - p) / len(bits)).sqrt()
    assert ((bits.double().mean(0) - p).abs() <= 4 * standard_error + 1e-12).all()
