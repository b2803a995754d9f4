"""Class histograms of generated digits: the cached classifier, its statistics and `gankit evaluate`."""

import math
from pathlib import Path

import pytest
import torch

from gankit import checkpoint
from gankit.cli import main
from gankit.errors import ConfigError
from gankit.metrics import classifier as clf
from gankit.metrics.modes import histogram_stats

REPO = Path(__file__).resolve().parent.parent


def test_histogram_stats_closed_forms():
    uniform = histogram_stats(torch.full((10,), 100))
    assert uniform["kl_from_uniform"] == pytest.approx(0.0, abs=1e-15) and uniform["modes_covered"] == 10
    single = histogram_stats(torch.tensor([0, 0, 0, 500, 0, 0, 0, 0, 0, 0]))
    assert single["kl_from_uniform"] == pytest.approx(math.log(10)) and single["modes_covered"] == 1
    counts = torch.tensor([300, 100, 100, 100, 100, 100, 100, 50, 30, 20])
    p = counts.double() / counts.sum()
    expected = float((p * torch.log(10 * p)).sum())
    stats = histogram_stats(counts)
    assert stats["kl_from_uniform"] == pytest.approx(expected, rel=1e-12)
    # threshold: a quarter of the uniform share 1000/10 -> 25, so the class with 20 is not covered
    assert stats["threshold"] == 25 and stats["modes_covered"] == 9
    assert histogram_stats(torch.zeros(10))["kl_from_uniform"] == math.inf


class _FakeTraining:
    """Stands in for the minute-long training where only the caching logic is under test."""

    def __init__(self):
        self.calls = 0

    def __call__(self, dataset, data_dir, log, splits=None):
        self.calls += 1
        torch.manual_seed(self.calls)
        return clf.classifier_net().eval(), 0.5 + self.calls / 100


def test_classifier_cache_is_reused_and_rebuilt_when_corrupt(tmp_path, monkeypatch):
    fake = _FakeTraining()
    monkeypatch.setattr(clf, "_train", fake)
    messages = []
    first = clf.load_classifier("mnist", cache_dir=tmp_path, log=messages.append)
    x = torch.rand(50, 784)
    again = clf.load_classifier("mnist", cache_dir=tmp_path, log=messages.append)
    assert fake.calls == 1 and again.test_accuracy == first.test_accuracy == 0.51
    assert torch.equal(first.predict(x), again.predict(x))
    first.path.write_bytes(first.path.read_bytes()[:100])  # a torn cache file
    rebuilt = clf.load_classifier("mnist", cache_dir=tmp_path, log=messages.append)
    assert fake.calls == 2 and rebuilt.test_accuracy == 0.52 and any("unusable" in m for m in messages)
    tensors, meta = checkpoint.read(rebuilt.path, formats=(clf.CLASSIFIER_FORMAT,))
    assert meta["test_accuracy"] == 0.52 and meta["recipe"] == clf.RECIPE
    monkeypatch.setattr(clf, "RECIPE", {**clf.RECIPE, "epochs": 7})  # another recipe: not reused
    clf.load_classifier("mnist", cache_dir=tmp_path, log=messages.append)
    assert fake.calls == 3 and any("another recipe" in m for m in messages)


def test_classifier_refuses_unlabelled_datasets(tmp_path):
    with pytest.raises(ConfigError, match="no class counts for 'cifar10'"):
        clf.load_classifier("cifar10", cache_dir=tmp_path)


@pytest.mark.slow
def test_real_classifier_accuracy_and_class_counts(mnist_classifier):
    model, splits = mnist_classifier
    assert model.test_accuracy >= 0.98
    test = splits.test.float()
    assert float((model.predict(test) == splits.test.labels).double().mean()) == model.test_accuracy
    real = clf.class_stats(model, test)
    assert real["classes_covered"] == 10 and real["kl_from_uniform"] < 0.01
    # a "generator" that draws only 3s and 7s: two classes, KL close to log 5
    keep = (splits.test.labels == 3) | (splits.test.labels == 7)
    collapsed = clf.class_stats(model, test[keep])
    assert collapsed["classes_covered"] == 2 and abs(collapsed["kl_from_uniform"] - math.log(5)) < 0.1
    assert sum(collapsed["class_counts"]) == int(keep.sum())


@pytest.mark.slow
def test_evaluate_reports_classes_of_the_committed_generator(real_mnist_cache, capsys):
    """`gankit evaluate --metrics classes` on the committed MNIST G: all ten digits, close to uniform."""
    code = main(["evaluate", str(REPO / "docs/models/paper-mnist-G.safetensors"), "--dataset", "mnist",
                 "--metrics", "classes", "--n-samples", "2000"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "training" not in err  # the cached classifier was used
    assert "10 of 10 covered" in out and "classifier test accuracy" in out
    kl = float(out.split("KL from uniform ")[1].split(" ")[0])
    assert kl < 0.05



def test_classifier_trains_when_first_needed_inside_no_grad(tmp_path, monkeypatch, fixture_dir):
    """The FID monitor measures under no_grad; the classifier it trains on first use must still learn."""
    from gankit.data import load_dataset

    splits = load_dataset("idx", fixture_dir)
    monkeypatch.setattr(clf, "RECIPE", {**clf.RECIPE, "epochs": 1})
    with torch.no_grad():
        model = clf.load_classifier("mnist", cache_dir=tmp_path, log=lambda m: None, splits=splits)
    assert model.test_accuracy > 0.5  # the bar's row band is easy to learn; untrained it would be ~0.1
