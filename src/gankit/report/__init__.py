"""Seeing a run: the HTML report (page.py), its plots (charts.py) and what it reads of a run (record.py)."""

from gankit.report.page import write_report
from gankit.report.record import RunRecord, find_runs, load_record

__all__ = ["RunRecord", "find_runs", "load_record", "write_report"]
