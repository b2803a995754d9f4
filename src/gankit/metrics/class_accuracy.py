"""For a conditional G: how often it draws the class it is asked for, per class, by the cached classifier."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gankit.errors import ConfigError
from gankit.metrics.base import Evaluation, Metric
from gankit.metrics.classifier import LABELLED_DATASETS, ClassHistogram

if TYPE_CHECKING:
    from gankit.generator import LoadedGenerator


class ClassAccuracy(Metric):
    """n_samples / k samples of each of the k classes; the share the classifier assigns to the class asked for."""

    name = "class-accuracy"

    def available(self, g: LoadedGenerator, dataset: str) -> bool:
        return bool(g.n_classes) and dataset in LABELLED_DATASETS

    def compute(self, g: LoadedGenerator, ev: Evaluation) -> dict[str, Any]:
        if not g.n_classes:
            raise ConfigError(f"{g.source} is an unconditional generator; class-accuracy needs a conditional one.")
        classifier = ClassHistogram().classifier(ev)
        per_class = max(1, ev.n_samples // g.n_classes)
        shares = []
        for c in range(g.n_classes):
            predicted = classifier.predict(g.sample(per_class, seed=ev.seed + c, wanted=c))
            shares.append(round(float((predicted == c).double().mean()), 4))
        worst = min(range(g.n_classes), key=shares.__getitem__)
        return {"metric": "requested_class_share", "per_class_samples": per_class, "per_class": shares,
                "min": shares[worst], "min_class": worst, "mean": round(sum(shares) / len(shares), 4),
                "classifier": str(classifier.path), "classifier_test_accuracy": classifier.test_accuracy,
                "seeds": f"{ev.seed} + class"}

    def format(self, row: dict[str, Any]) -> str:
        return (f"Requested class drawn: mean {row['mean']:.1%}, lowest {row['min']:.1%} (class {row['min_class']}) "
                f"over {len(row['per_class'])} classes, {row['per_class_samples']} samples each (classifier test "
                f"accuracy {row['classifier_test_accuracy']:.4f})")
