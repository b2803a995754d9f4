"""The Inception Score (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))) over the standard network's
1008-way softmax, in 10 splits, reported as the mean and standard deviation over the splits.

It follows the original TensorFlow code (and torch-fidelity, StyleGAN): the logits are the 2048-d pool
features times the output layer's weight matrix, without its bias. gankit's FID network has no output
layer, so the matrix comes from the public pt_inception-2015-12-05 weights (pytorch-fid's and
torch-fidelity's conversion of the same TensorFlow graph; its pool features equal the FID network's).
The file is taken from --inception-weights, $GANKIT_INCEPTION_WEIGHTS or the cache, or downloaded once
into the cache where the machine reaches the internet; it is checked against its sha256 (the 8-digit
prefix in its name, which is what torch.hub checks) and read as plain tensors, never unpickled."""

from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path

import torch

from gankit.data.sources import cache_root
from gankit.errors import ConfigError
from gankit.fileio import atomic_write_bytes
from gankit.outputs import expand

FILE_NAME = "pt_inception-2015-12-05-6726825d.pth"
SHA256_PREFIX = "6726825d"
URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + FILE_NAME
SPLITS = 10
_NEEDED = (f"the Inception Score needs the network's output layer from {FILE_NAME} (pytorch-fid's InceptionV3 "
           "weights, 91 MB; torch-fidelity's weights-inception-2015-12-05-6726825d.pth is the same file)")


def inception_score(logits: torch.Tensor, splits: int = SPLITS) -> tuple[float, float]:
    """(mean, standard deviation) over `splits` consecutive chunks of exp(mean KL(p(y|x) || p(y))), where p(y) is
    the chunk's mean prediction; the standard deviation is over chunks (numpy's, ddof 0), as published."""
    n = len(logits)
    if n < splits:
        raise ConfigError(f"the Inception Score in {splits} splits needs at least {splits} samples, got {n}; "
                          "raise --n-samples.")
    log_p = logits.double().log_softmax(1)
    scores = []
    for i in range(splits):
        chunk = log_p[i * n // splits : (i + 1) * n // splits]
        p = chunk.exp()
        log_marginal = p.mean(0).log()
        terms = torch.where(p > 0, p * (chunk - log_marginal), 0.0)  # 0 log 0 = 0 (classes no sample predicts)
        kl = terms.sum(1).mean()
        scores.append(float(kl.exp()))
    t = torch.tensor(scores, dtype=torch.float64)
    return float(t.mean()), float(t.std(unbiased=False))


def _check(path: Path) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if not digest.startswith(SHA256_PREFIX):
        raise ConfigError(f"{path} is not {FILE_NAME} (its sha256 begins {digest[:8]}, expected {SHA256_PREFIX}); "
                          "pass the pytorch-fid InceptionV3 weights file.")


def _download(target: Path) -> bool:
    """Fetch the file into the cache; False where the machine cannot reach it or GANKIT_OFFLINE is set (the caller
    then explains)."""
    if os.environ.get("GANKIT_OFFLINE", "") not in ("", "0"):
        return False
    try:
        with urllib.request.urlopen(URL, timeout=30) as response:
            data = response.read()
    except OSError:
        return False
    digest = hashlib.sha256(data).hexdigest()
    if not digest.startswith(SHA256_PREFIX):
        raise ConfigError(f"the download of {FILE_NAME} has sha256 {digest[:8]}..., not {SHA256_PREFIX}...; nothing "
                          f"was cached; fetch the file by hand and pass --inception-weights.")
    atomic_write_bytes(target, data)
    return True


def weights_file(explicit: str | Path | None = None) -> Path:
    """The checked weights file: the one given, else $GANKIT_INCEPTION_WEIGHTS, else the cache (downloaded once)."""
    given = explicit or os.environ.get("GANKIT_INCEPTION_WEIGHTS")
    if given:
        path = expand(given)
        if not path.is_file():
            raise ConfigError(f"{path} does not exist; {_NEEDED}.")
    else:
        path = cache_root() / "inception" / FILE_NAME
        if not path.is_file() and not _download(path):
            raise ConfigError(f"{_NEEDED}, and it could not be downloaded: put it at {path}, or pass "
                              "--inception-weights PATH or set GANKIT_INCEPTION_WEIGHTS.")
    _check(path)
    return path


_loaded: dict[str, torch.Tensor] = {}


def output_weight(explicit: str | Path | None = None) -> torch.Tensor:
    """The output layer's (1008, 2048) weight matrix, in float64 (read once per file)."""
    path = weights_file(explicit)
    if str(path) in _loaded:
        return _loaded[str(path)]
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        weight = state["fc.weight"]
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same sentence
        raise ConfigError(f"{path} holds no readable fc.weight ({type(exc).__name__}); {_NEEDED}.") from None
    if tuple(weight.shape) != (1008, 2048):
        raise ConfigError(f"{path}'s fc.weight has shape {tuple(weight.shape)}, not (1008, 2048); {_NEEDED}.")
    _loaded[str(path)] = weight.double()
    return _loaded[str(path)]


def logits(pool_features: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """The unbiased logits of the original implementation: pool features times the output weights."""
    return pool_features.double() @ weight.T
