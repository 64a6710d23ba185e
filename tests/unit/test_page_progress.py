"""`zhiku ingest` shows a long scan's pages as they are read: a pages bar that follows
`Progress.page_done` and hides when the file's last page is done."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import Progress as RichProgress

from app.cli.ingest import RichIngestProgress


def test_the_pages_bar_follows_the_pages_and_hides_at_the_last() -> None:
    with RichProgress(console=Console(file=io.StringIO())) as bars:
        progress = RichIngestProgress(bars)
        progress.page_done("scans/合同.pdf", 2, 40)
        assert progress.pages is not None
        task = bars.tasks[progress.pages]
        assert (task.completed, task.total, task.visible) == (2, 40, True)
        assert "合同.pdf" in task.description
        progress.page_done("scans/合同.pdf", 40, 40)
        assert bars.tasks[progress.pages].visible is False
        progress.page_done("b.pdf", 1, 3)  # the next file reuses the bar
        assert len(bars.tasks) == 3 and bars.tasks[progress.pages].total == 3
