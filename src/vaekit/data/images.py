"""A folder of PNG/JPEG images, optionally one sub-folder per class.

Layout: FOLDER/*.png (no labels) or FOLDER/CLASS/.../*.png (label = index of CLASS among the
sorted class-folder names). Every image becomes uint8 (C, H, W) with scale 1/255: C = 1 when every
image is grey, else C = 3 (RGB; alpha is dropped). The images must share one size unless
``image_size`` ('HxW') resizes them all.

``decode_image`` is the one decoder: the in-memory source and the lazy ``ImageFolderDataset``
(for folders that do not fit in memory; see ``estimated_bytes``) both call it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import UserError
from .array import ArrayData, Splits
from .registry import SOURCES
from .streaming import should_stream, streamed

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
GREY_MODES = {"1", "L", "LA", "La"}  # binary, grey, grey with alpha
READ_ERRORS = (OSError, SyntaxError, ValueError)  # what Pillow raises for damaged or truncated files
IMAGE_SIZE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


@dataclass(frozen=True)
class ImageList:
    """The images of a folder: ``files`` (N paths), ``labels`` (N,) int64 or None, ``classes`` (L names)."""

    files: list[Path]
    labels: torch.Tensor | None
    classes: list[str]


def is_image_file(path: Path) -> bool:
    # hidden files are skipped: macOS '._x.png' resource forks carry an image suffix but no image
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".") and path.is_file()


def images_under(folder: Path) -> list[Path]:
    """Image files anywhere below ``folder`` (not in hidden folders), sorted so the order is reproducible."""
    return sorted(p for p in folder.rglob("*") if is_image_file(p) and not any(
        part.startswith(".") for part in p.relative_to(folder).parts))


def list_images(folder: Path) -> ImageList:
    """The images of ``folder`` with labels from class sub-folders; sub-folders without images are not classes."""
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "no such folder"
        raise UserError(f"{folder}: {what}; pass a folder of PNG/JPEG images (optionally one sub-folder per class)")
    top = sorted(p for p in folder.iterdir() if is_image_file(p))
    sub_folders = sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    classes = [(d.name, files) for d in sub_folders if (files := images_under(d))]
    if top and classes:
        raise UserError(f"{folder}: has images both at the top ({top[0].name}) and in sub-folders ({classes[0][0]}/); "
                        "put every image in a class sub-folder, or every image at the top for unlabelled data")
    if classes:
        files = [path for _, class_files in classes for path in class_files]
        labels = torch.cat([torch.full((len(class_files),), index) for index, (_, class_files) in enumerate(classes)])
        return ImageList(files, labels.long(), [name for name, _ in classes])
    if not top:
        raise UserError(f"{folder}: no images found; expected PNG or JPEG files ({', '.join(sorted(IMAGE_SUFFIXES))}) "
                        "in the folder or in one sub-folder per class")
    return ImageList(top, None, [])


def parse_image_size(text: str) -> tuple[int, int] | None:
    """(H, W) from 'HxW' such as '28x28'; None for '' (keep the images' own size)."""
    if not text:
        return None
    match = IMAGE_SIZE.match(text)
    if match is None or 0 in (size := (int(match[1]), int(match[2]))):
        raise UserError(f"data.image_size {text!r}: expected HxW with positive integers, such as 28x28")
    return size


def damaged(path: Path, exc: Exception) -> UserError:
    return UserError(f"{path}: cannot decode the image, the file is truncated or corrupt ({exc}); "
                     "replace or remove the file")


def channels_of(mode: str, path: Path) -> int:
    """1 for a grey Pillow mode, 3 for colour; 16-bit and float images are refused rather than clipped."""
    if mode.startswith(("I", "F")):
        raise UserError(f"{path}: 16-bit or floating-point image (mode {mode}); vaekit reads 8-bit images: "
                        "convert the images to 8 bits, or load the pixels yourself into a .npy file")
    return 1 if mode in GREY_MODES else 3


def probe(path: Path) -> tuple[int, tuple[int, int]]:
    """(channels, (H, W)) from the file's header, without decoding the pixels."""
    try:
        with Image.open(path) as image:
            return channels_of(image.mode, path), (image.height, image.width)
    except READ_ERRORS as exc:
        raise damaged(path, exc) from None


def decode_image(path: Path, channels: int, size: tuple[int, int] | None = None) -> torch.Tensor:
    """uint8 (channels, H, W) pixels of one image file, resized (bilinear) to ``size`` = (H, W) when it differs."""
    try:
        with Image.open(path) as image:
            channels_of(image.mode, path)
            if image.mode in ("P", "PA"):
                image = image.convert("RGBA")  # palette transparency would warn when converted to RGB directly
            image = image.convert("L" if channels == 1 else "RGB")
            if size is not None and (image.height, image.width) != size:
                image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)  # Pillow sizes are (W, H)
            pixels = np.array(image)  # (H, W) or (H, W, 3); a writable copy, as torch wants
    except READ_ERRORS as exc:
        raise damaged(path, exc) from None
    pixels = pixels.reshape(pixels.shape[0], pixels.shape[1], -1)  # (H, W, C)
    return torch.from_numpy(pixels).permute(2, 0, 1).contiguous()  # (C, H, W)


def common_layout(files: list[Path], image_size: str) -> tuple[int, tuple[int, int]]:
    """(C, (H, W)) shared by all images: C = 1 when every image is grey, else 3; (H, W) = image_size or their size."""
    size = parse_image_size(image_size)
    channels, first = 1, None
    for path in files:  # headers only: cheap next to decoding
        file_channels, file_size = probe(path)
        channels = max(channels, file_channels)
        if size is None and first is None:
            first = (path, file_size)
        elif size is None and file_size != first[1]:
            raise UserError(
                f"images of different sizes: {first[0]} is {first[1][0]}x{first[1][1]} (HxW) but {path} is "
                f"{file_size[0]}x{file_size[1]}; pass --image-size HxW (or --set data.image_size=HxW), "
                f"e.g. {first[1][0]}x{first[1][1]}, to resize them all"
            )
    return channels, size or first[1]


class ImageFolderDataset(torch.utils.data.Dataset):
    """The images of a folder decoded one per item, for folders too large to hold in memory.

    ``dataset[i]`` is float32 (C, H, W) in [0, 1]; ``labels`` (N,) int64 or None; ``classes`` the class
    names; ``shape`` (C, H, W). Construction reads every file's header (not its pixels) to fix C and (H, W)
    by the same rules as the in-memory source.
    """

    def __init__(self, folder, image_size: str = ""):
        self.folder = Path(folder).expanduser()
        listing = list_images(self.folder)
        self.files, self.labels, self.classes = listing.files, listing.labels, listing.classes
        self.channels, self.size = common_layout(self.files, image_size)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.channels, *self.size)

    def __len__(self) -> int:
        return len(self.files)

    def pixels(self, index: int) -> torch.Tensor:
        """uint8 (C, H, W) pixels of image ``index``."""
        return decode_image(self.files[index], self.channels, self.size)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.pixels(index).float() / 255  # (C, H, W) in [0, 1]


def load_images(folder: Path, image_size: str = "") -> ArrayData:
    """All images of ``folder`` in memory: uint8 (N, C, H, W), scale 1/255, labels from class sub-folders."""
    dataset = ImageFolderDataset(folder, image_size)
    values = torch.empty((len(dataset), *dataset.shape), dtype=torch.uint8)  # (N, C, H, W)
    for index in range(len(dataset)):
        values[index] = dataset.pixels(index)
    classes = dataset.classes if dataset.labels is not None else None
    return ArrayData(values, dataset.labels, str(dataset.folder), scale=torch.tensor(1 / 255), classes=classes)


def estimated_bytes(folder, image_size: str = "") -> int:
    """Bytes of the folder held as uint8 (N, C, H, W): N files, C and (H, W) from the first image (or image_size)."""
    files = list_images(Path(folder).expanduser()).files
    channels, size = probe(files[0])
    height, width = parse_image_size(image_size) or size
    return len(files) * channels * height * width


@SOURCES.register("images")
def load_images_source(argument: str, config) -> Splits:
    """--data FOLDER (or images:FOLDER): a folder of images; no test split of its own."""
    if not argument:
        raise UserError("--data images needs a folder: --data images:FOLDER or --data FOLDER")
    folder = Path(argument).expanduser()
    if should_stream(config.stream, estimated_bytes(folder, config.image_size), torch.device("cpu"), str(folder)):
        return Splits(streamed(ImageFolderDataset(folder, config.image_size), str(folder)), None)
    return Splits(load_images(folder, config.image_size), None)
