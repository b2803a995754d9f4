"""Datasets as tensors: IDX files, their sources, and the paper's splits."""

from gankit.data.datasets import DATASETS, load_dataset
from gankit.data.idx import read_idx, write_idx
from gankit.data.splits import Split, Splits

__all__ = ["DATASETS", "Split", "Splits", "load_dataset", "read_idx", "write_idx"]
