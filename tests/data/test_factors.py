"""Data with ground-truth factors: the dSprites drawing, its cache, factor files and factor sampling."""

import json

import numpy as np
import pytest
import torch

from vaekit.cli import main
from vaekit.data import dsprites as ds
from vaekit.data import load_data
from vaekit.data.cache import cache_folder, cached_images
from vaekit.data.factors import FactorSampler, factor_info
from vaekit.errors import UserError


@pytest.fixture(scope="module")
def bank():
    return ds.sprite_bank()


def test_sprites_fit_their_canvas_and_area_grows_with_scale_squared(bank):
    assert bank.shape == (3, 6, 40, 32, 32) and set(np.unique(bank)) == {0, 1}
    edges = bank[..., 0, :].sum() + bank[..., -1, :].sum() + bank[..., :, 0].sum() + bank[..., :, -1].sum()
    assert edges == 0  # every rotated sprite lies inside its canvas, so no placement clips it
    area = bank.sum((-1, -2)).astype(float).mean(2)  # (shape, scale): pixels, averaged over orientations
    assert (np.diff(area, axis=1) > 0).all()
    ratio = area[:, -1] / area[:, 0]
    assert np.allclose(ratio, (1.0 / 0.5) ** 2, rtol=0.05)  # area ~ scale^2 for every shape
    assert len({tuple(a.round()) for a in area}) == 3  # the three shapes differ


def test_first_and_last_orientation_draw_the_same_picture_and_rotation_keeps_area(bank):
    assert (bank[:, :, 0] == bank[:, :, -1]).all()  # 0 and 2*pi, as in the original factor list
    area = bank.sum((-1, -2)).astype(float)  # (3, 6, 40)
    assert (area.std(2) / area.mean(2) < 0.05).all()
    square = bank[0, -1]
    assert (square[10] == np.rot90(square[0])).all()  # orientation 10 is a quarter turn: the square maps onto itself
    assert (square[5] != square[0]).any()


def test_position_codes_move_the_sprite_one_pixel_per_step(bank):
    codes = np.array([[2, 3, 7, 0, 0], [2, 3, 7, 5, 0], [2, 3, 7, 5, 9], [2, 3, 7, 31, 31]])
    images = ds.render(codes, bank)
    assert images.shape == (4, 64, 64) and images.dtype == np.uint8
    assert (np.roll(images[0], 5, axis=1) == images[1]).all()  # x is the column
    assert (np.roll(images[1], 9, axis=0) == images[2]).all()  # y is the row
    assert (images.sum((1, 2)) == bank[2, 3, 7].sum()).all()  # never clipped, even at x = y = 31


def test_the_factor_space_and_row_major_index():
    assert ds.SIZES == (3, 6, 40, 32, 32) and int(np.prod(ds.SIZES)) == 737280
    assert np.allclose(ds.VALUES[1], np.linspace(0.5, 1, 6)) and np.isclose(ds.VALUES[2][-1], 2 * np.pi)
    codes = ds.all_codes()
    assert codes.shape == (737280, 5)
    assert (codes[1] == [0, 0, 0, 0, 1]).all() and (codes[32] == [0, 0, 0, 1, 0]).all()
    index = (((2 * 6 + 4) * 40 + 17) * 32 + 9) * 32 + 30
    assert (codes[index] == [2, 4, 17, 9, 30]).all()


@pytest.mark.slow
def test_the_whole_set_renders_each_combination_and_reloads_from_the_cache(tmp_path, monkeypatch, bank):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    data = load_data("dsprites", None).train
    assert tuple(data.values.shape) == (737280, 1, 64, 64) and data.values.dtype.is_floating_point is False
    rows = np.random.default_rng(0).integers(737280, size=500)
    assert (data.values[rows, 0].numpy() == ds.render(data.factors[rows].numpy(), bank)).all()
    assert (tmp_path / "vaekit" / f"{ds.CACHE_NAME}.npy").stat().st_size < 737280 * 64 * 64 / 7  # bit-packed
    again = load_data("dsprites", None).train
    assert (again.values[rows] == data.values[rows]).all()


def small_build(calls):
    def build():
        calls.append(1)
        return (np.arange(5 * 3 * 4).reshape(5, 3, 4) % 3 == 0).astype(np.uint8)
    return build


def test_the_cache_is_used_when_intact_and_rebuilt_when_damaged(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_folder() == tmp_path / "vaekit"
    calls = []
    first = cached_images("toy", "v1", (3, 4), small_build(calls))
    second = cached_images("toy", "v1", (3, 4), small_build(calls))
    assert len(calls) == 1 and (first == second).all()
    bits = tmp_path / "vaekit" / "toy.npy"
    raw = bytearray(bits.read_bytes())
    raw[-1] ^= 0xFF  # one flipped byte in the pixels
    bits.write_bytes(bytes(raw))
    third = cached_images("toy", "v1", (3, 4), small_build(calls))
    assert len(calls) == 2 and (third == first).all()
    bits.write_bytes(bits.read_bytes()[:40])  # truncated
    assert (cached_images("toy", "v1", (3, 4), small_build(calls)) == first).all() and len(calls) == 3
    cached_images("toy", "v2", (3, 4), small_build(calls))  # another renderer version: rebuilt
    assert len(calls) == 4
    meta = tmp_path / "vaekit" / "toy.json"
    meta.write_text("{not json")
    cached_images("toy", "v2", (3, 4), small_build(calls))
    assert len(calls) == 5 and json.loads(meta.read_text())["version"] == "v2"


def write_factor_file(path, n=60, **extra):
    rng = np.random.default_rng(0)
    arrays = {"x": rng.random((n, 4)).astype(np.float32), "factors": np.stack([np.arange(n) % 3, np.arange(n) % 4], 1)}
    arrays.update(extra)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def test_an_npz_with_factors_carries_them_through_subsets(tmp_path):
    path = write_factor_file(tmp_path / "f.npz", factor_names=np.array(["colour", "size"]))
    data = load_data(str(path), None).train
    assert data.factor_info.names == ("colour", "size") and data.factor_info.sizes == (3, 4)
    assert data.factors.shape == (60, 2) and not data.factor_info.full_factorial
    part = data.subset(np.arange(10, 20))
    assert (part.factors.numpy() == data.factors.numpy()[10:20]).all()


@pytest.mark.parametrize("extra, fragment", [
    ({"factors": np.full((60, 2), 0.5)}, "must be integer codes"),
    ({"factors": np.zeros((59, 2), int)}, "59 rows of factors but 60 examples"),
    ({"factors": np.stack([np.arange(60) % 3, np.zeros(60, int)], 1)}, "take a single value"),
    ({"factors": -np.ones((60, 1), int)}, "must be >= 0"),
    ({"factor_names": np.array(["a", "b", "c"])}, "3 factor names for 2 factors"),
    ({"factors": None, "factor_names": np.array(["a"])}, "has 'factor_names' but no 'factors'"),
    ({"factors_test": np.zeros((5, 2), int)}, "has 'factors_test' but no 'x_test'"),
])
def test_bad_factor_files_name_the_file_and_key(tmp_path, extra, fragment):
    path = write_factor_file(tmp_path / "bad.npz", **extra)
    with pytest.raises(UserError, match=fragment) as error:
        load_data(str(path), None)
    assert "bad.npz" in str(error.value)


def test_a_bad_factor_file_exits_2_with_one_line(tmp_path, capsys):
    path = write_factor_file(tmp_path / "bad.npz", factors=np.full((60, 2), 0.5))
    assert main(["train", "--data", str(path), "--epochs", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "bad.npz[factors]" in err


def full_factorial_sampler(sizes=(3, 4, 5)):
    codes = np.stack(np.unravel_index(np.arange(int(np.prod(sizes))), sizes), 1)
    info = factor_info(codes, ["a", "b", "c"])
    assert info.full_factorial
    return FactorSampler(codes, info)


def test_full_factorial_sampling_is_index_arithmetic_and_uniform():
    sampler = full_factorial_sampler()
    rng = np.random.default_rng(1)
    rows = sampler.sample(60000, rng)
    codes = sampler.factors_of(rows)
    assert (codes == sampler.factors[rows]).all()  # arithmetic agrees with the stored codes
    for k, size in enumerate((3, 4, 5)):
        counts = np.bincount(codes[:, k], minlength=size)
        expected = len(rows) / size
        assert np.abs(counts - expected).max() < 5 * np.sqrt(expected)  # 5 standard deviations
    shared = sampler.factors_of(sampler.sample_sharing(2, 64, rng))
    assert len(np.unique(shared[:, 2])) == 1 and len(np.unique(shared[:, 0])) > 1
    first, second = sampler.sample_pairs(1, 500, rng)
    a, b = sampler.factors_of(first), sampler.factors_of(second)
    assert (a[:, 1] == b[:, 1]).all() and (a[:, 0] != b[:, 0]).any()


def test_user_sets_pick_rows_sharing_the_value_and_refuse_too_small_groups():
    factors = np.array([[0, 0], [0, 1], [1, 1], [1, 0], [1, 1], [2, 0], [2, 1], [1, 0]])
    info = factor_info(factors)
    assert not info.full_factorial
    sampler = FactorSampler(factors, info, "toy.npz")
    rng = np.random.default_rng(0)
    for _ in range(20):
        rows = sampler.sample_sharing(0, 2, rng)
        assert len(set(rows)) == 2 and len(np.unique(factors[rows, 0])) == 1
        first, second = sampler.sample_pairs(0, 10, rng)
        assert (factors[first, 0] == factors[second, 0]).all()
    with pytest.raises(UserError, match="toy.npz: factor 'factor_0' has only .* fewer than the batch of 5"):
        for _ in range(50):
            sampler.sample_sharing(0, 5, rng)


def test_large_8_bit_data_are_checked_by_their_levels_not_a_float_copy():
    from vaekit.data.array import LEVELS_ABOVE, ArrayData
    from vaekit.data.binarize import is_binary

    n = LEVELS_ABOVE // (64 * 64) + 1
    values = torch.zeros(n, 1, 64, 64, dtype=torch.uint8)
    values[::7, 0, 3, 3] = 1
    binary = ArrayData(values, None, "big", scale=torch.tensor(1.0))
    assert binary.support_sample().tolist() == [0.0, 1.0] and is_binary(binary)
    values[5, 0, 0, 0] = 200  # one grey level
    grey = ArrayData(values, None, "big", scale=torch.tensor(1 / 255))
    assert grey.support_sample() == pytest.approx(torch.tensor([0.0, 1 / 255, 200 / 255]))
    assert not is_binary(grey)


def test_the_original_file_is_read_without_its_pickled_metadata_and_checked(tmp_path):
    images = np.zeros((16, 64, 64), np.uint8)
    classes = np.zeros((16, 6), np.int64)
    classes[:, 1:] = np.arange(16)[:, None] % np.array([3, 6, 40, 32, 32])
    path = tmp_path / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
    np.savez(path, imgs=images, latents_classes=classes, metadata=np.array([{"a": 1}], dtype=object))
    with pytest.raises(UserError, match="do not enumerate dSprites' 737280 combinations"):
        load_data(f"dsprites:{path}", None)  # reaching the order check means the pickle was skipped
    np.savez(path, imgs=images)
    with pytest.raises(UserError, match=r"no \['latents_classes'\] array"):
        load_data(f"dsprites:{path}", None)
