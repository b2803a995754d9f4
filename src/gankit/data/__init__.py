"""Datasets as tensors: IDX files, their sources, and the paper's splits."""

from gankit.data.datasets import DATASETS, Split, Splits, load_dataset
from gankit.data.idx import read_idx, write_idx

__all__ = ["DATASETS", "Split", "Splits", "load_dataset", "read_idx", "write_idx"]
