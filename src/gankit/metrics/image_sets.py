"""Any two image sets compared in the FID network's features: `gankit evaluate --samples A --reference B`
and `gankit stats SOURCE --out FILE.npz`.

A set is a folder of images (all of one size), an .npy or .npz array (uint8 0-255, or floats in [0, 1];
N x C x H x W, N x H x W x C or N x H x W), a gankit run or generator (sampled), or a statistics file: mu
and sigma in pytorch-fid's npz layout, plus the protocol they were made with (network hash,
preprocessing, feature, n). A statistics file made with another protocol is refused; one that records
none (made elsewhere) is used with a warning. Features of image sets are cached on disk by content,
network and preprocessing, so a reference set is embedded once."""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from gankit.data.folder import EXTENSIONS, list_images, read_image
from gankit.data.sources import Log, cache_root, log_stderr
from gankit.errors import DataError
from gankit.fileio import atomic_write_bytes
from gankit.metrics import inception
from gankit.metrics.distances import gaussian_stats
from gankit.metrics.sample_quality import cached_features
from gankit.outputs import expand
from gankit.rundir import RunDir

FEATURES = "InceptionV3 pool (2048)"


def protocol() -> dict[str, str]:
    """What makes two sets of Inception statistics comparable."""
    return {"features": FEATURES, "network_sha256": inception.SHA256[:16], "preprocessing": inception.PREPROCESSING}


@dataclass
class Statistics:
    """mu and sigma of a set's features, with how they were made (empty when the file recorded nothing)."""

    mu: torch.Tensor
    sigma: torch.Tensor
    n: int | None
    protocol: dict[str, str] = field(default_factory=dict)


@dataclass
class ImageSet:
    """Where a set came from, and either its images (uint8 N x C x H x W) or only its statistics."""

    source: str
    images: torch.Tensor | None = None
    stats: Statistics | None = None

    def __len__(self) -> int:
        if self.images is not None:
            return len(self.images)
        return (self.stats.n or 0) if self.stats else 0


def read_statistics(path: Path, log: Log = log_stderr) -> Statistics:
    try:
        with np.load(path, allow_pickle=False) as f:
            mu, sigma = torch.from_numpy(f["mu"]).double(), torch.from_numpy(f["sigma"]).double()
            recorded = {k: str(f[k]) for k in ("features", "network_sha256", "preprocessing") if k in f.files}
            n = int(f["n"]) if "n" in f.files else None
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"{path} is not a statistics file with mu and sigma ({type(exc).__name__}); make one with "
                        "gankit stats.") from None
    if mu.shape != (2048,) or sigma.shape != (2048, 2048):
        raise DataError(f"{path} holds mu {tuple(mu.shape)} and sigma {tuple(sigma.shape)}, not the FID network's "
                        "2048 features; make it with gankit stats.")
    ours = protocol()
    if not recorded:
        log(f"warning: {path} records no protocol; its FID is comparable only if it was made with the same network "
            f"and preprocessing ({ours['preprocessing']})")
    for key, value in recorded.items():
        if value != ours[key]:
            raise DataError(f"{path} was made with {key} {value!r}, this evaluation uses {ours[key]!r}; make it again "
                            "with gankit stats.")
    return Statistics(mu, sigma, n, recorded)


def write_statistics(path: Path, features: torch.Tensor) -> Statistics:
    mu, sigma = gaussian_stats(features)
    stats = Statistics(mu, sigma, len(features), protocol())
    buffer = io.BytesIO()
    np.savez(buffer, mu=mu.numpy(), sigma=sigma.numpy(), n=np.int64(len(features)),
             **{k: np.str_(v) for k, v in stats.protocol.items()})
    atomic_write_bytes(path, buffer.getvalue())
    return stats


def _as_uint8(array: np.ndarray, where: str) -> torch.Tensor:
    """An image array in any common layout as uint8 (N, C, H, W)."""
    if array.ndim == 3:
        array = array[:, None]
    elif array.ndim == 4 and array.shape[-1] in (1, 3) and array.shape[1] not in (1, 3):
        array = array.transpose(0, 3, 1, 2)
    if array.ndim != 4 or array.shape[1] not in (1, 3):
        raise DataError(f"{where} holds an array of shape {array.shape}; give images as N x H x W, N x C x H x W or "
                        "N x H x W x C with 1 or 3 channels.")
    if array.dtype == np.uint8:
        return torch.from_numpy(np.ascontiguousarray(array))
    floats = np.issubdtype(array.dtype, np.floating)
    if not floats or not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
        raise DataError(f"{where} holds {array.dtype} values outside [0, 1]; give uint8 0-255 or floats in [0, 1].")
    return inception.to_uint8(torch.from_numpy(np.ascontiguousarray(array)))


def _folder(root: Path) -> torch.Tensor:
    files, _ = list_images(root)
    if not files:
        raise DataError(f"{root} holds no image files ({', '.join(EXTENSIONS)}).")
    images = []
    for path in files:
        try:
            images.append(np.asarray(read_image(path)))
        except (OSError, ValueError) as exc:
            raise DataError(f"{path} is not a readable image ({type(exc).__name__}); remove it from {root}.") from None
    sizes = sorted({a.shape[:2] for a in images})
    if len(sizes) > 1:
        raise DataError(f"{root} holds images of {len(sizes)} sizes ({sizes[0][1]}x{sizes[0][0]} and "
                        f"{sizes[-1][1]}x{sizes[-1][0]}, among others); compare images of one size.")
    grey = all(a.ndim == 2 for a in images)
    return _as_uint8(np.stack([a if grey or a.ndim == 3 else np.repeat(a[:, :, None], 3, 2) for a in images]),
                     str(root))


def load_set(source: str | Path, n_samples: int, seed: int = 0, device: str = "cpu",
             log: Log = log_stderr) -> ImageSet:
    """A folder, an array, a statistics file, or a gankit run or generator (n_samples drawn from seed)."""
    path = expand(source)
    name = str(source)
    if path.suffix == ".npz" and path.is_file():
        with np.load(path, allow_pickle=False) as f:
            keys = f.files
            if "mu" in keys and "sigma" in keys:
                return ImageSet(name, stats=read_statistics(path, log))
            array = f["images"] if "images" in keys else f[keys[0]] if len(keys) == 1 else None
        if array is None:
            raise DataError(f"{path} holds arrays {', '.join(keys)}; name the images 'images' or keep one array.")
        return ImageSet(name, images=_as_uint8(array, name))
    if path.suffix == ".npy" and path.is_file():
        try:
            array = np.load(path, allow_pickle=False)
        except ValueError:
            raise DataError(f"{path} is not a plain .npy array; save the images with numpy.save.") from None
        return ImageSet(name, images=_as_uint8(array, name))
    if path.suffix == ".safetensors" or RunDir(path).config.is_file():
        from gankit.generator import load_generator
        from gankit.runtime import resolve_device

        g = load_generator(path).to(resolve_device(device))
        return ImageSet(name, images=inception.to_uint8(g.sample(n_samples, seed=seed)))
    if path.is_dir():
        return ImageSet(name, images=_folder(path))
    raise DataError(f"{source} is not a folder of images, an .npy/.npz file, a statistics file or a gankit run or "
                    "generator.")


def features(s: ImageSet, device: str | torch.device = "cpu") -> torch.Tensor:
    """The set's Inception pool features, from the disk cache when these images were embedded before."""
    assert s.images is not None
    crc = f"{zlib.crc32(s.images.numpy().tobytes()):08x}"
    shape = "x".join(map(str, s.images.shape))
    path = cache_root() / "features" / f"{shape}-{crc}-{inception.SHA256[:16]}-{inception.PREPROCESSING_ID}.safetensors"
    images = s.images
    return cached_features(path, lambda: inception.inception_features(images, tuple(images.shape[1:]), device))
