"""The streaming path: image folders read batch by batch from files, chosen when they do not fit."""

import logging

import numpy as np
import pytest
import torch
from PIL import Image

import vaekit
from vaekit.data import load_data, streaming
from vaekit.data.streaming import StreamedData
from vaekit.training.batches import ResidentBatches, StreamingBatches


@pytest.fixture
def image_folder(tmp_path):
    """120 grey 12x9 images in two class folders: a bar on the left or on the right."""
    rng = np.random.default_rng(0)
    for label in range(2):
        (tmp_path / f"class{label}").mkdir()
        for i in range(60):
            pixels = np.zeros((12, 9), np.uint8)
            pixels[:, 5 * label : 5 * label + 4] = rng.integers(100, 256)
            Image.fromarray(pixels).save(tmp_path / f"class{label}" / f"{i}.png")
    return tmp_path


def test_auto_streams_with_a_message_when_the_data_exceed_the_memory_budget(image_folder, monkeypatch, caplog):
    monkeypatch.setattr(streaming, "available_bytes", lambda device: 1000)  # 120 * 108 bytes > 500
    with caplog.at_level(logging.INFO, logger="vaekit"):
        splits = load_data(str(image_folder), vaekit.DataConfig(stream="auto"))
    assert isinstance(splits.train, StreamedData)
    assert "streaming batches from the files" in caplog.text and str(image_folder) in caplog.text
    monkeypatch.setattr(streaming, "available_bytes", lambda device: 10**9)
    assert not isinstance(load_data(str(image_folder), vaekit.DataConfig(stream="auto")).train, StreamedData)


def test_a_streamed_epoch_yields_every_example_once_with_the_in_memory_values(image_folder):
    streamed = load_data(str(image_folder), vaekit.DataConfig(stream="always")).train
    resident = load_data(str(image_folder), vaekit.DataConfig(stream="never")).train
    assert torch.equal(streamed.inputs(), resident.inputs())
    assert torch.equal(streamed.labels, resident.labels)
    torch.manual_seed(0)
    batches = list(StreamingBatches(streamed, 32, False, torch.device("cpu"), workers=2, labels=streamed.labels))
    assert [len(b) for b in batches] == [32, 32, 32, 24]
    assert all(torch.equal(b.labels, streamed.labels[b.index]) for b in batches)  # each batch its own rows' labels
    seen = torch.cat([b.x for b in batches]).flatten(1)
    expected = resident.inputs().flatten(1)
    assert sorted(map(tuple, seen.tolist())) == sorted(map(tuple, expected.tolist()))
    torch.manual_seed(0)
    resident_batches = list(ResidentBatches(resident, 32))
    assert torch.equal(torch.cat([b.x for b in batches]), torch.cat([b.x for b in resident_batches]))  # same order too
    assert all(torch.equal(s.index, r.index) for s, r in zip(batches, resident_batches))


def test_training_on_a_streamed_folder_improves_the_elbo(image_folder, tmp_path):
    config = vaekit.Config().replace(
        model={"hidden": [32], "latent_dim": 2}, train={"epochs": 4, "batch_size": 16}, data={"stream": "always"}
    )
    run = vaekit.train(config, data=str(image_folder), out=tmp_path / "run")
    assert isinstance(run.data.train, StreamedData)
    assert run.state.history[-1]["train_elbo"] > run.state.history[0]["train_elbo"]


def test_unknown_stream_setting_is_rejected(image_folder):
    with pytest.raises(vaekit.UserError, match="data.stream 'sometimes' is not one of: auto, always, never"):
        load_data(str(image_folder), vaekit.DataConfig(stream="sometimes"))
