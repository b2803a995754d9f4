"""Your own images: every image file under a folder, decoded once, resized and cached as uint8.

Each image is converted to grey or RGB (transparency composited onto white), cut to its centre
square at the source resolution and resized to the requested size with antialiasing (images more than
10 times longer than wide are skipped with a warning: that square would hold little of them). The set
is grey when every image is, else RGB. With first-level sub-folders, each sub-folder is a class
(images directly in the folder then are unlabelled and refused). The decoded set is cached under
the cache folder, keyed by the files' names, sizes and modification times and the image size, so a
second run starts in seconds. Splits: a fixed shuffle, the last 10% (at least one image) for
validation, which also serves as the test split.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from gankit import checkpoint
from gankit.data.sources import Log, cache_root, log_stderr
from gankit.data.splits import Split, Splits
from gankit.errors import CheckpointError, DataError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
FOLDER_FORMAT = "gankit-folder-cache-2"  # 2: the centre square is cut before resizing
MAX_ASPECT = 10  # images longer than 10:1 are skipped, with a warning
DEFAULT_SIZE = 64


def list_images(root: Path) -> tuple[list[Path], list[str]]:
    """(image files, class names): classes are the first-level sub-folders that hold images, if any."""
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
    classes = sorted({p.relative_to(root).parts[0] for p in files if len(p.relative_to(root).parts) > 1})
    if classes and any(len(p.relative_to(root).parts) == 1 for p in files):
        loose = sum(len(p.relative_to(root).parts) == 1 for p in files)
        raise DataError(f"{root} has class sub-folders and also {loose} image(s) directly in it; move those into "
                        "a sub-folder (or put every image directly in the folder for unlabelled data).")
    return files, classes


class ExtremeAspect(ValueError):
    """An image far from square: its centre square would be a sliver of it (and resizing it whole, costly)."""


def read_image(path: Path, max_aspect: float | None = None) -> Image.Image:
    """One image file as grey ("L") or RGB at its own size; transparency composited onto white.

    max_aspect: refuse (ExtremeAspect) an image longer than this many times its width, from its header,
    before its pixels are decoded (a 2 KB PNG of 1 x 1,000,000 px)."""
    with Image.open(path) as image:
        w, h = image.size
        if max_aspect is not None and max(w, h) > max_aspect * min(w, h):
            raise ExtremeAspect(f"{w} x {h}")
        image.load()
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        return image.convert("L" if image.mode in ("L", "I", "I;16", "1") else "RGB")


def decode(path: Path, size: int) -> np.ndarray:
    """One image as uint8 (size, size, 3) RGB, or (size, size) when it is grey; transparency onto white.

    The centre square is cut at the source resolution and then resized, so the cost is bounded by the square,
    not by how long the image is."""
    image = read_image(path, MAX_ASPECT)
    w, h = image.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    return np.asarray(image.crop((left, top, left + side, top + side)).resize((size, size), Image.LANCZOS))


def _cache_key(root: Path, files: list[Path], size: int) -> str:
    h = hashlib.sha256(f"{FOLDER_FORMAT} {size}".encode())
    for p in files:
        st = p.stat()
        h.update(os.fsencode(p.relative_to(root)) + f" {st.st_size} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def _decode_all(root: Path, files: list[Path], classes: list[str], size: int,
                log: Log) -> tuple[torch.Tensor, torch.Tensor, tuple[int, int, int]]:
    images, labels, skipped, sliver = [], [], 0, 0
    for path in tqdm(files, desc=f"decoding {root.name}", unit="img", leave=False, disable=len(files) < 200):
        try:
            images.append(decode(path, size))
        except ExtremeAspect:
            sliver += 1
            continue
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            skipped += 1
            continue
        labels.append(classes.index(path.relative_to(root).parts[0]) if classes else 0)
    if skipped:
        log(f"skipped {skipped} of {len(files)} files under {root} that are not readable images")
    if sliver:
        log(f"skipped {sliver} image(s) under {root} more than {MAX_ASPECT} times longer than wide (or wider than "
            "long): their centre square would hold little of them; crop them by hand to use them")
    if len(images) < 2:
        raise DataError(f"{root} holds {len(images)} readable image(s); a GAN needs at least 2 "
                        "(PNG, JPEG, WebP or BMP files, in the folder or its class sub-folders).")
    grey = all(a.ndim == 2 for a in images)
    arrays = [a if grey else (np.repeat(a[:, :, None], 3, 2) if a.ndim == 2 else a) for a in images]
    channels = 1 if grey else 3
    stacked = np.stack([a.reshape(size, size, channels).transpose(2, 0, 1).reshape(-1) for a in arrays])
    return torch.from_numpy(stacked), torch.tensor(labels, dtype=torch.long), (channels, size, size)


def load_folder(data_dir: str | Path | None, log: Log = log_stderr, image_size: int | None = None) -> Splits:
    if data_dir is None:
        raise DataError("dataset 'folder' needs --data-dir pointing at a folder of images.")
    root = Path(data_dir)
    if not root.is_dir():
        raise DataError(f"{root} is not a folder; pass --data-dir pointing at a folder of images.")
    size = image_size or DEFAULT_SIZE
    files, classes = list_images(root)
    if not files:
        raise DataError(f"{root} holds no image files ({', '.join(EXTENSIONS)}); point --data-dir at your images.")
    cache = cache_root() / "folders" / f"{_cache_key(root, files, size)}.safetensors"
    try:
        tensors, meta = checkpoint.read(cache, formats=(FOLDER_FORMAT,))
        images, labels, shape = tensors["images"], tensors["labels"], tuple(meta["shape"])
    except (CheckpointError, KeyError):
        images, labels, shape = _decode_all(root, files, classes, size, log)
        checkpoint.write(cache, {"images": images, "labels": labels},
                         {"root": str(root), "shape": list(shape), "classes": classes}, fmt=FOLDER_FORMAT)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    n_valid = max(1, len(images) // 10)
    train_idx, valid_idx = order[:-n_valid], order[-n_valid:]

    def split(idx: torch.Tensor) -> Split:
        return Split(images[idx].contiguous(), labels[idx].contiguous(), shape)

    valid = split(valid_idx)
    return Splits(split(train_idx), valid, valid, n_classes=len(classes) if len(classes) > 1 else 0,
                  class_names=classes if len(classes) > 1 else [])

