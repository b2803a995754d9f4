"""CIFAR-10 and TFD: loaders on files written here in the real formats, and the paper's presets."""

import pickle

import numpy as np
import pytest
import torch
from scipy.io import savemat

from gankit.config import apply_overrides, from_preset
from gankit.data import load_dataset
from gankit.data.cifar import global_contrast_normalize
from gankit.errors import ConfigError, DataError
from gankit.training import Trainer


def write_cifar(root, n_per_batch=20, seed=0):
    """cifar-10-batches-py with small batches, pickled as the original (dict of bytes keys, protocol 2)."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"batch_label": name.encode(), b"labels": rng.integers(0, 10, n_per_batch).tolist(),
                 b"data": rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8),
                 b"filenames": [b"x.png"] * n_per_batch}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    return root


def write_tfd(path, n=60, seed=0):
    rng = np.random.default_rng(seed)
    folds = rng.integers(0, 4, (n, 5))
    folds[:4, :] = np.arange(4)[:, None]  # every split present in every fold
    savemat(path, {"images": rng.integers(0, 256, (n, 48, 48), dtype=np.uint8), "folds": folds,
                   "labs_ex": np.zeros((n, 1)), "labs_id": np.zeros((n, 1))})
    return path


def test_cifar_loader_splits_and_gcn(tmp_path):
    root = write_cifar(tmp_path, n_per_batch=10000 // 500)  # 20 per batch: 100 train images
    # the paper's split is by index: train = 0..39,999 of the 50,000; with 100 images all are train
    splits = load_dataset("cifar10", root)
    assert len(splits.train) == 100 and len(splits.valid) == 0 and len(splits.test) == 20
    x = splits.train.float()
    assert x.shape == (100, 3072)
    torch.testing.assert_close(x.mean(1), torch.zeros(100), atol=1e-5, rtol=0)
    torch.testing.assert_close(x.norm(dim=1), torch.full((100,), 55.0), atol=1e-3, rtol=0)
    raw = pickle.loads((root / "cifar-10-batches-py" / "data_batch_1").read_bytes())
    assert torch.equal(splits.train.images[:20], torch.from_numpy(raw[b"data"]))
    assert splits.train.labels[:20].tolist() == raw[b"labels"]


def test_cifar_paper_split_sizes(tmp_path):
    splits = load_dataset("cifar10", write_cifar(tmp_path, n_per_batch=10000))
    assert (len(splits.train), len(splits.valid), len(splits.test)) == (40000, 10000, 10000)


def test_gcn_of_constant_image_is_zero():
    x = torch.cat([torch.full((1, 6), 0.3), torch.arange(6.0).unsqueeze(0)])
    y = global_contrast_normalize(x)
    assert torch.equal(y[0], torch.zeros(6)) and float(y[1].norm()) == pytest.approx(55.0)


class Evil:
    def __reduce__(self):
        return (exec, ("open('PWNED', 'w').write('x')",))


def test_cifar_batch_with_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = write_cifar(tmp_path / "c")
    (root / "cifar-10-batches-py" / "data_batch_3").write_bytes(pickle.dumps({b"data": Evil()}))
    with pytest.raises(DataError, match="data_batch_3 is not a valid CIFAR-10 batch"):
        load_dataset("cifar10", root)
    assert not (tmp_path / "PWNED").exists()


def test_cifar_missing_and_truncated(tmp_path):
    with pytest.raises(DataError, match="no CIFAR-10 batches"):
        load_dataset("cifar10", tmp_path)
    root = write_cifar(tmp_path / "c")
    path = root / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(DataError, match="test_batch is not a valid"):
        load_dataset("cifar10", root)


def test_tfd_loader_folds(tmp_path):
    path = write_tfd(tmp_path / "TFD_48x48.mat")
    splits = load_dataset("tfd", tmp_path)
    from scipy.io import loadmat

    mat = loadmat(path)
    folds = mat["folds"]
    assert len(splits.train) == int((folds[:, 0] == 0).sum())
    assert len(splits.valid) == int((folds[:, 0] == 2).sum()) and len(splits.test) == int((folds[:, 0] == 3).sum())
    assert splits.train.shape == (1, 48, 48) and splits.train.float().shape[1] == 2304
    first_unlabeled = int(np.flatnonzero(folds[:, 0] == 0)[0])
    assert torch.equal(splits.train.images[0], torch.from_numpy(mat["images"][first_unlabeled].reshape(-1)))
    from gankit.data.datasets import load_tfd_splits

    fold3 = load_tfd_splits(tmp_path, fold=3)
    assert len(fold3.test) == int((folds[:, 3] == 3).sum())


def test_tfd_bad_files(tmp_path):
    with pytest.raises(DataError, match="no TFD_48x48.mat"):
        load_dataset("tfd", tmp_path)
    (tmp_path / "TFD_48x48.mat").write_bytes(b"not a mat file at all")
    with pytest.raises(DataError, match="not a readable MATLAB file"):
        load_dataset("tfd", tmp_path)
    savemat(tmp_path / "TFD_48x48.mat", {"images": np.zeros((3, 32, 32), np.uint8), "folds": np.zeros((3, 5))})
    with pytest.raises(DataError, match=r"expected \(N, 48, 48\)"):
        load_dataset("tfd", tmp_path)


def _few_steps(config, splits, tmp_path, steps=2):
    config = apply_overrides(config, {"max_steps": steps, "grid_size": 4, "monitor_parzen": 8}, "test")
    t = Trainer(config, tmp_path, splits, progress_bar=False, log=lambda m: None)
    before = {k: v.clone() for k, v in t.state.G.state_dict().items()}
    t.run()
    after = t.state.G.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    with torch.no_grad():
        t.state.G.eval()
        t.state.D.eval()
        x = t.state.G(t.samples.z[:3])
        return t, x, t.state.D(x)


@pytest.mark.slow
def test_paper_cifar10_presets_build_and_train(tmp_path):
    splits = load_dataset("cifar10", write_cifar(tmp_path / "data", n_per_batch=20))
    for preset, lr, batch in (("paper-cifar10-fc", 0.025, 100), ("paper-cifar10-conv", 0.004, 128)):
        config = from_preset(preset)
        assert (config.lr, config.batch_size, config.noise, config.max_norm) == (lr, batch, "gaussian", None)
        config = apply_overrides(config, {"batch_size": 10}, "test")
        t, x, logits = _few_steps(config, splits, tmp_path / preset)
        assert x.shape == (3, 3072) and logits.shape == (3,)
        assert (tmp_path / preset / "samples" / "epoch-0000.png").exists()
    g, d = t.state.G, t.state.D
    assert tuple(g.deconv.weight.shape) == (80, 3, 5, 5) and tuple(g.bias.shape) == (3, 32, 32)
    assert d.fc.in_features == 192 * 5 * 5  # 32 -> 33 -> 16 -> 15 -> 7 -> 9 -> 5, as cuda-convnet pools
    assert float(g.mlp.layers[0].weight.detach().abs().max()) <= 0.05


@pytest.mark.slow
def test_paper_tfd_two_stage_recipe(tmp_path):
    write_tfd(tmp_path / "TFD_48x48.mat", n=40)
    splits = load_dataset("tfd", tmp_path)
    config = apply_overrides(from_preset("paper-tfd"), {"batch_size": 4}, "test")
    assert (config.epochs, config.lr, config.max_norm, config.noise) == (50, 0.05, 1.9365, "gaussian")
    stage1, x, logits = _few_steps(config, splits, tmp_path / "stage1")
    assert x.shape == (3, 2304) and logits.shape == (3,)
    for module in (stage1.state.G, stage1.state.D):  # max-norm holds after every update
        for layer in module.modules():
            if isinstance(layer, torch.nn.Linear):
                assert float(layer.weight.detach().norm(dim=1).max()) <= 1.9365 + 1e-4
    with pytest.raises(ConfigError, match="needs --g-init-from"):
        from_preset("paper-tfd-stage2").validate()
    config2 = apply_overrides(from_preset("paper-tfd-stage2"),
                              {"batch_size": 4, "g_init_from": str(tmp_path / "stage1")}, "test")
    assert config2.epochs == 22
    t2 = Trainer(config2, tmp_path / "stage2", splits, progress_bar=False, log=lambda m: None)
    sizes = [tuple(layer.weight.shape) for layer in t2.state.G.layers]
    assert sizes == [(8000, 100), (100, 8000), (8000, 100), (8000, 8000), (2304, 8000)]
    for i in range(3):  # the top three layers are the stage-1 G
        assert torch.equal(t2.state.G.layers[i + 2].weight, stage1.state.G.layers[i].weight)
    assert float(t2.state.G.layers[1].bias.detach().mean()) == -2.0


def test_sparse_init_has_k_nonzero_incoming_weights():
    from gankit.nets.paper import sparse_

    w = sparse_(torch.empty(50, 400), 100, torch.Generator().manual_seed(0))
    assert ((w != 0).sum(1) == 100).all()
    assert abs(float(w[w != 0].std()) - 1.0) < 0.05
