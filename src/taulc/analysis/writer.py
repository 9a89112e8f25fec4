"""Markdown / figure / CSV writer of the evaluation report (``python evaluate.py``).

:class:`ReportWriter` collects everything in a temporary directory and renames it into place at the end,
so a failed report leaves nothing partial behind.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from taulc.analysis.plotting import save_figure
from taulc.fileio import json_text

log = logging.getLogger("taulc.evaluate")

__all__ = ["ReportWriter", "markdown_table"]


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(v):
            return "–"
        return f"{v:.4g}"
    if v is None:
        return "–"
    return str(v)


def markdown_table(df: pd.DataFrame, max_rows: int = 40) -> str:
    """A GitHub-markdown table (no external dependency)."""
    d = df.head(max_rows)
    lines = ["| " + " | ".join(str(c) for c in d.columns) + " |", "|" + "---|" * len(d.columns)]
    for _, row in d.iterrows():
        lines.append("| " + " | ".join(_fmt(v) for v in row.to_list()) + " |")
    if len(df) > max_rows:
        lines.append(f"\n({len(df) - max_rows} more rows in the CSV)")
    return "\n".join(lines)


class ReportWriter:
    """Collects markdown, figures and CSV tables in a temporary directory and renames it into place."""

    def __init__(self, final_dir: Path) -> None:
        self.final = Path(final_dir)
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.final.parent / f".{self.final.name}.tmp-{os.getpid()}"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        (self.tmp / "figures").mkdir(parents=True)
        (self.tmp / "tables").mkdir()
        self.md: list[str] = []
        self.figures: list[str] = []
        self.tables: list[str] = []
        self.skipped: list[str] = []
        self.summary: dict[str, Any] = {}

    def h(self, text: str, level: int = 2) -> None:
        self.md += ["", "#" * level + " " + text, ""]

    def p(self, text: str) -> None:
        self.md += [text, ""]

    def figure(self, name: str, fig: Any, caption: str) -> None:
        save_figure(fig, self.tmp / "figures" / f"{name}.png")
        self.figures.append(f"figures/{name}.png")
        self.md += [f"![{name}](figures/{name}.png)", "", f"*{caption}*", ""]

    def table(self, name: str, df: pd.DataFrame, caption: str | None = None, show: bool = True, max_rows: int = 40) -> None:
        df.to_csv(self.tmp / "tables" / f"{name}.csv", index=False)
        self.tables.append(f"tables/{name}.csv")
        if caption:
            self.md += [f"**{caption}** ([`tables/{name}.csv`](tables/{name}.csv))", ""]
        if show:
            self.md += [markdown_table(df, max_rows), ""]

    def skip(self, what: str, why: str) -> None:
        log.warning("skipped %s: %s", what, why)
        self.skipped.append(f"{what}: {why}")

    def finish(self, title: str, header: Sequence[str]) -> Path:
        body = [f"# {title}", "", *header, ""]
        body += self.md
        body += ["", "## Skipped", ""] + ([f"- {s}" for s in self.skipped] or ["- nothing"]) + [""]
        body += [
            "## Files",
            "",
            f"- figures: {', '.join(f'`{f}`' for f in self.figures)}",
            f"- tables: {', '.join(f'`{t}`' for t in self.tables)}",
            "- `summary.json`: the headline numbers",
            "",
        ]
        (self.tmp / "report.md").write_text("\n".join(body))
        (self.tmp / "summary.json").write_text(json_text(self.summary, strict=True))
        old = None
        if self.final.exists():
            old = self.final.parent / f".{self.final.name}.old-{os.getpid()}"
            os.replace(self.final, old)
        os.replace(self.tmp, self.final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.final

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
