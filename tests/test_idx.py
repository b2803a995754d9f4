import gzip

import numpy as np
import pytest

from gankit.data.idx import md5, read_bytes, read_idx, write_idx
from gankit.errors import DataError


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("gz", [False, True])
def test_round_trip(tmp_path, dtype, gz):
    rng = np.random.default_rng(0)
    array = (rng.normal(size=(7, 5, 3)) * 50).astype(dtype)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == gz
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (7, 5, 3)
    np.testing.assert_array_equal(back, array)


def test_header_bytes_match_mnist_layout(tmp_path):
    path = tmp_path / "x"
    write_idx(path, np.zeros((2, 28, 28), np.uint8))
    raw = path.read_bytes()
    assert raw[:4] == bytes([0, 0, 8, 3]) and int.from_bytes(raw[4:8], "big") == 2
    assert len(raw) == 16 + 2 * 784


def _good(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    write_idx(path, np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28))
    return path


def test_truncated_file_names_file(tmp_path):
    path = _good(tmp_path)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte is truncated"):
        read_idx(path)


def test_too_long_file(tmp_path):
    path = _good(tmp_path)
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(DataError, match="longer than its header"):
        read_idx(path)


def test_wrong_magic(tmp_path):
    path = _good(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[0:4] = b"PK\x03\x04"
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="wrong magic number"):
        read_idx(path)


def test_wrong_dimensions(tmp_path):
    path = _good(tmp_path)
    with pytest.raises(DataError, match=r"dimensions \(2, 28, 28\), expected \('any', 32, 32\)"):
        read_idx(path, expect_shape=(None, 32, 32))
    assert read_idx(path, expect_shape=(None, 28, 28)).shape == (2, 28, 28)


def test_checksum_mismatch(tmp_path):
    path = _good(tmp_path)
    good = md5(path.read_bytes())
    assert read_idx(path, expect_md5=good).shape[0] == 2
    with pytest.raises(DataError, match="fails its checksum"):
        read_idx(path, expect_md5="0" * 32)


def test_damaged_gzip(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(b"\0\0\x08\x01" + (3).to_bytes(4, "big") + b"abc")[:-6])
    with pytest.raises(DataError, match="damaged gzip"):
        read_bytes(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        read_idx(tmp_path / "nope")
