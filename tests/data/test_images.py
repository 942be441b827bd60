"""Image folders (vaekit.data.images): labels from sub-folders, RGB and resizing, the lazy dataset; bad
folders and files get a UserError naming the file and the problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from helpers import data_error, random_uint8

from vaekit.config import DataConfig
from vaekit.data import load_data
from vaekit.data.images import ImageFolderDataset, estimated_bytes, load_images


def save_image(path: Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def test_image_folder_labels_come_from_sorted_sub_folders(tmp_path):
    grey = {name: random_uint8((4, 5), seed) for seed, name in enumerate(["b/1.png", "a/2.png", "b/0.png", "a/1.png"])}
    for name, pixels in grey.items():
        save_image(tmp_path / name, pixels)
    dataset = ImageFolderDataset(tmp_path)
    data = load_data(str(tmp_path), DataConfig()).train

    assert dataset.classes == ["a", "b"]
    assert data.values.dtype == torch.uint8 and data.shape == (1, 4, 5)  # all grey: one channel
    for index, path in enumerate(dataset.files):
        relative = path.relative_to(tmp_path).as_posix()
        assert data.labels[index] == (0 if relative.startswith("a/") else 1)
        assert torch.equal(data.values[index, 0], torch.from_numpy(grey[relative]))  # PNG is lossless


def test_one_colour_image_makes_every_image_rgb(tmp_path):
    grey, colour = random_uint8((3, 4), 9), random_uint8((3, 4, 3), 10)
    save_image(tmp_path / "0.png", grey)
    save_image(tmp_path / "1.png", colour)
    data = load_images(tmp_path)
    assert data.shape == (3, 3, 4) and data.labels is None
    assert torch.equal(data.values[0], torch.from_numpy(grey).expand(3, 3, 4))  # grey repeated in R, G and B
    assert torch.equal(data.values[1], torch.from_numpy(colour).permute(2, 0, 1))


def test_image_size_resizes_mixed_sizes(tmp_path):
    colours = [(200, 10, 30), (5, 100, 250)]
    for index, (size, colour) in enumerate(zip([(6, 8), (10, 3)], colours)):
        save_image(tmp_path / f"{index}.png", np.broadcast_to(np.array(colour, np.uint8), (*size, 3)).copy())
    data = load_data(str(tmp_path), DataConfig(image_size="4x5")).train
    assert data.shape == (3, 4, 5)
    for index, colour in enumerate(colours):  # a flat colour survives bilinear resizing
        assert data.values[index].flatten(1).unique(dim=1).tolist() == [[value] for value in colour]


def test_lazy_dataset_matches_the_in_memory_images(tmp_path):
    for index in range(3):
        save_image(tmp_path / "c" / f"{index}.jpg", random_uint8((6, 7, 3), 20 + index))
    dataset = ImageFolderDataset(tmp_path)
    data = load_images(tmp_path)
    assert estimated_bytes(tmp_path) == data.values.numel()
    assert estimated_bytes(tmp_path, "2x3") == 3 * 3 * 2 * 3
    for index in range(len(dataset)):
        item = dataset[index]
        assert item.dtype == torch.float32 and item.shape == (3, 6, 7)
        assert torch.allclose(item, data.inputs(slice(index, index + 1))[0])


def test_empty_image_folder(tmp_path):
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "notes.txt").write_text("no images here")
    text = data_error(f"images:{tmp_path / 'pictures'}")
    assert "pictures" in text and "no images found" in text


def test_mixed_image_sizes_name_two_files_and_the_option(tmp_path):
    Image.fromarray(np.zeros((5, 6), np.uint8)).save(tmp_path / "small.png")
    Image.fromarray(np.zeros((8, 6), np.uint8)).save(tmp_path / "tall.png")
    text = data_error(str(tmp_path))
    assert "small.png is 5x6" in text and "tall.png is 8x6" in text and "--image-size HxW" in text


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_image_file_is_named(tmp_path, damage):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "good.png")
    picture = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    Image.fromarray(picture).save(tmp_path / "bad.png")
    data = (tmp_path / "bad.png").read_bytes()
    (tmp_path / "bad.png").write_bytes(b"not an image at all" if damage == "garbage" else data[: len(data) // 2])
    text = data_error(str(tmp_path), image_size="4x4")
    assert "bad.png" in text and "truncated or corrupt" in text


def test_malformed_image_size_option(tmp_path):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "a.png")
    text = data_error(str(tmp_path), image_size="28 by 28")
    assert "data.image_size" in text and "'28 by 28'" in text and "HxW" in text
