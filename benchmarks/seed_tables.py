"""Print the README's per-seed tables from docs/results/seed-study.json and demo-seeds.json."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def table(runs: list[dict]) -> str:
    lines = ["| recipe | epochs | seed | classes covered | largest class | Parzen (nats) | diversity | dead ReLUs "
             "(layer 2) | D(x) / D(G(z)) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['loop']} | {r['epochs']} | {r['seed']} | {r['classes_covered']} of 10 | "
                     f"{r['largest_class_share']:.0%} ({r['largest_class']}) | {r['parzen_ll']:.1f} | "
                     f"{r['diversity']:.2f} | {r['dead_relu'][-1]:.1%} | {r['d_real']:.2f} / {r['d_fake']:.2f} |")
    return "\n".join(lines)


def summary(runs: list[dict]) -> str:
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault((r["loop"], r["epochs"]), []).append(r)
    lines = []
    for (loop, epochs), rs in sorted(groups.items()):
        ok = sum(r["classes_covered"] >= 9 and r["largest_class_share"] <= 0.25 for r in rs)
        collapsed = sum(r["classes_covered"] < 6 or r["largest_class_share"] > 0.5 for r in rs)
        parzen = sorted(r["parzen_ll"] for r in rs)
        lines.append(f"{loop} at {epochs} epochs, {len(rs)} seeds: {ok} meet the demo bar (>= 9 classes, none "
                     f"above 25%), {collapsed} flagged as collapsed by the monitor; Parzen {parzen[0]:.1f} to "
                     f"{parzen[-1]:.1f} (median {parzen[len(parzen) // 2]:.1f})")
    return "\n".join(lines)


if __name__ == "__main__":
    for name in ("seed-study.json", "demo-seeds.json"):
        path = ROOT / "docs" / "results" / name
        if path.exists():
            runs = json.loads(path.read_text())["runs"]
            print(f"## {name}\n\n{table(runs)}\n\n{summary(runs)}\n")
