"""The Toronto Face Database as pylearn2 reads it: TFD_48x48.mat with its 5 folds.

folds[:, f] marks each image of fold f as 0 = unlabeled, 1 = train, 2 = valid, 3 = test. The
paper trains on the unlabeled split (fold 0 indexing) and reports Parzen per fold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gankit.errors import DataError

SPLIT_CODES = {"unlabeled": 0, "train": 1, "valid": 2, "test": 3}


def find_mat(data_dir: str | Path) -> Path:
    root = Path(data_dir)
    for candidate in (root, root / "TFD_48x48.mat", root / "tfd" / "TFD_48x48.mat"):
        if candidate.is_file():
            return candidate
    raise DataError(
        f"no TFD_48x48.mat under {root}; TFD is distributed by its authors on request, "
        "put the file there and pass --data-dir."
    )


def load_tfd(data_dir: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 48, 48), folds int (N, 5)) from TFD_48x48.mat."""
    from scipy.io import loadmat

    path = find_mat(data_dir)
    try:
        mat = loadmat(path)
    except Exception as exc:  # scipy raises many kinds for a damaged file
        raise DataError(f"{path} is not a readable MATLAB file ({exc.__class__.__name__}); replace it.") from None
    images, folds = mat.get("images"), mat.get("folds")
    if images is None or folds is None:
        raise DataError(f"{path} lacks the 'images' or 'folds' variable of TFD_48x48.mat; replace it.")
    if images.ndim != 3 or images.shape[1:] != (48, 48):
        raise DataError(f"{path} holds images of shape {images.shape}, expected (N, 48, 48).")
    if folds.shape != (len(images), 5):
        raise DataError(f"{path} holds folds of shape {folds.shape}, expected ({len(images)}, 5).")
    return images.astype(np.uint8), folds.astype(np.int64)


def tfd_split(images: np.ndarray, folds: np.ndarray, split: str, fold: int = 0) -> np.ndarray:
    """Indices of one split of one fold."""
    if not 0 <= fold < 5:
        raise DataError(f"TFD fold must be 0..4, got {fold}.")
    return np.flatnonzero(folds[:, fold] == SPLIT_CODES[split])
