"""The batch as a value: its fields, its first examples, and the evaluation batches of a split in data order."""

import dataclasses

import pytest
import torch

from vaekit.data.array import ArrayData, batches
from vaekit.data.batch import Batch, split_batches


def labelled_data(n=10):
    values = torch.arange(n * 3, dtype=torch.float32).view(n, 3)
    return ArrayData(values, torch.arange(n) % 4, "ten")


def test_a_batch_is_frozen_and_its_head_cuts_every_field_alike():
    batch = Batch(torch.zeros(5, 2), torch.arange(5), torch.arange(10, 15))
    with pytest.raises(dataclasses.FrozenInstanceError):
        batch.labels = None
    head = batch.head(2)
    assert len(batch) == 5 and len(head) == 2
    assert head.labels.tolist() == [0, 1] and head.index.tolist() == [10, 11]
    assert Batch(torch.zeros(3, 1)).head(2).labels is None


def test_split_batches_are_data_order_with_the_labels_of_their_own_rows():
    data = labelled_data()
    parts = list(split_batches(data, 4, torch.empty(0, dtype=torch.float64), data.labels))
    assert [len(b) for b in parts] == [4, 4, 2]
    assert torch.equal(torch.cat([b.x for b in parts]), data.values.double())
    assert parts[0].x.dtype == torch.float64  # in the dtype of ``like``
    assert [b.labels.tolist() for b in parts] == [[0, 1, 2, 3], [0, 1, 2, 3], [0, 1]]


def test_without_labels_split_batches_carry_none_and_the_inputs_equal_array_batches():
    data = labelled_data(7)
    like = torch.empty(0)
    parts = list(split_batches(data, 3, like))
    assert all(b.labels is None for b in parts)
    assert all(torch.equal(b.x, x) for b, x in zip(parts, batches(data, 3, like)))
