"""What `gankit train --report` costs: the time to rewrite RUN/report.html against the run's own epoch time.

For each run directory given (or found under --runs), the report is written --repeats times into a
temporary file; the figure is the median write time divided by the run's median training epoch time
(metrics.jsonl), i.e. the share by which --report lengthens an epoch of that run. Usage:

    python benchmarks/report_overhead.py [--runs runs] [--repeats 3] [--out benchmarks/results/report_overhead.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from gankit.report import find_runs, load_record, write_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dirs", nargs="*", help="run directories (default: every run under --runs)")
    parser.add_argument("--runs", default="runs", help="folder searched when no run directory is given")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results/report_overhead.json")
    args = parser.parse_args()
    paths = [Path(p) for p in args.run_dirs] or find_runs(args.runs)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            record = load_record(path)
            if not record.epochs:
                continue
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                out = write_report([path], Path(tmp) / "report.html")
                times.append(time.perf_counter() - start)
            epoch_s = statistics.median(r["epoch_s"] for r in record.epochs)
            report_s = statistics.median(times)
            rows.append({"run": str(path), "dataset": record.config.get("dataset"), "epochs": len(record.epochs),
                         "grids": len(record.grids), "report_mb": round(out.stat().st_size / 1e6, 2),
                         "report_s": round(report_s, 3), "epoch_s": round(epoch_s, 2),
                         "overhead": round(report_s / epoch_s, 4)})
            print(f"{path}: {report_s:.2f} s per report ({rows[-1]['report_mb']} MB), epoch {epoch_s:.1f} s: "
                  f"+{report_s / epoch_s:.1%}")
    result = {"what": "seconds to rewrite report.html, against the run's median epoch time",
              "machine": f"{platform.processor() or platform.machine()}", "repeats": args.repeats, "runs": rows,
              "max_overhead": max((r["overhead"] for r in rows), default=None)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
