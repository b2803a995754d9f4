"""RUN/report.html, rewritten as the run goes."""

from __future__ import annotations

import time

from gankit.training.hooks.base import Hook, Run


class HtmlReport(Hook):
    """RUN/report.html rewritten after an epoch's checkpoint: after every epoch, unless that would cost
    more than 5% of the training time (short toy epochs), then as often as 5% allows, and always at the end."""

    BUDGET = 0.05

    def __init__(self) -> None:
        self.seconds = 0.0  # what the last rewrite cost
        self.due = 0.0  # when the next rewrite may start (time.perf_counter)

    def epoch_saved(self, trainer: Run) -> None:
        from gankit.report import write_report

        now = time.perf_counter()
        if now < self.due and not trainer.finished():
            return
        write_report([trainer.run_dir], warn=trainer.log)
        self.seconds = time.perf_counter() - now
        self.due = now + self.seconds / self.BUDGET
