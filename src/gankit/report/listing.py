"""`gankit runs`: the runs under a folder as an aligned table, one line each."""

from __future__ import annotations

from pathlib import Path

from gankit.report.record import RunRecord, healthy

COLUMNS = ("run", "preset", "epochs", "best monitor", "D(x)", "D(G(z))", "health", "last evaluation")


def _evaluation(record: RunRecord) -> str:
    if not record.evaluations:
        return "-"
    row = record.evaluations[-1]
    if "test_ll" in row:
        return f"parzen {row['test_ll']:.1f} +- {row.get('test_se', 0):.1f} (epoch {row.get('epoch')})"
    if "mean" in row and "min" in row:
        return f"class drawn as asked {row['mean']:.1%}, lowest {row['min']:.1%}"
    if "classes_covered" in row:
        return f"classes {row['classes_covered']}/{row['classes']}, KL {row['kl_from_uniform']:.3f}"
    return str(row.get("metric", row.get("kind")))


def _line(record: RunRecord, root: Path) -> tuple[str, ...]:
    last, best = record.last, record.best_epoch()
    verdict = (last.get("health") or {}).get("verdict", "-")
    planned = record.config.get("epochs")
    patience = record.config.get("patience")
    if planned and best and patience and last.get("epoch", 0) - best["epoch"] >= patience:
        planned = f"{planned} (plateau)"  # ended by --patience: finished, though short of its epochs
    try:
        name = str(record.path.relative_to(root)) if record.path != root else record.path.name
    except ValueError:
        name = str(record.path)
    return (name, record.preset, f"{last.get('epoch', 0)}/{planned}" if planned else str(last.get("epoch", 0)),
            f"{'FID ' if record.monitor == 'fid_monitor' else ''}{best[record.monitor]:.1f} (ep {best['epoch']})"
            if best else "-",
            f"{last['d_real']:.3f}" if "d_real" in last else "-", f"{last['d_fake']:.3f}" if "d_fake" in last else "-",
            "healthy" if healthy(last) else verdict.split(":")[0], _evaluation(record))


def format_runs(records: list[RunRecord], root: Path) -> str:
    lines = [COLUMNS, *(_line(r, root) for r in records)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)
