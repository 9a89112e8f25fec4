"""The honest-skill table of several runs, as the docs show it: one row per run and scored output.

    python -m taulc.analysis.results_table runs/ridge/latest runs/svm/latest [--out table.md]
    python -m taulc.analysis.results_table runs/svm/latest --classification

Each row reads the run's ``skill`` section (:mod:`taulc.evaluation.skill`): the reference particles'
Pearson within each shear rate and its mean over rates (the headline), the mean noise ceiling, the
best training-split baseline (structural: caging depth), ``skill`` = headline − that baseline, the
fraction of the ceiling reached, and, labelled as pooled, the all-species Pearson pooled over rates
next to the species × rate lookup table's score on the same particles.  Nothing is recomputed: the
numbers are the ones ``train.py`` printed and wrote to ``metrics.json``.

``--classification`` prints the slow/fast table instead (``skill.classification``, the hardness or logit
> 0 against the Eq. 2 class of Yu, Zeng & Wang 2025): per shear rate, the slow fraction p_slow, the
predicted fraction p_H, balanced accuracy, ROC-AUC, Matthews correlation and average precision (whose
chance level is p_slow); a rate without slow test particles has no defined score (``n/a``).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from taulc.analysis.runs_index import RunInfo, load_run
from taulc.runs import runs_below

__all__ = ["CLASS_HEADER", "HEADER", "class_rows", "main", "markdown_table", "table_rows"]

HEADER = (
    "model",
    "split",
    "scored",
    "Pearson within each γ̇ (reference)",
    "within-rate mean",
    "ceiling (mean)",
    "structural baseline",
    "skill",
    "fraction of ceiling",
    "pooled all species (species×rate table)",
    "selected",
    "train s",
)
CLASS_HEADER = (
    "model",
    "split",
    "scored",
    "γ̇",
    "n",
    "p_slow",
    "p_H",
    "balanced accuracy",
    "ROC-AUC",
    "MCC",
    "average precision",
)


def _f(x: Any, signed: bool = False) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:+.3f}" if signed else f"{x:.3f}"


def _row(run: RunInfo, kind: str, table: Mapping[str, Any]) -> tuple[str, ...]:
    rows = table.get("rows", [])
    per_rate = sorted((float(r["group"]), r["pearson"]) for r in rows if r.get("scope") == "rate")
    head = table.get("headline", {})
    pooled = next((r for r in rows if r.get("scope") == "pooled_all_species"), {})
    m = run.metrics
    return (
        run.short,
        str((m.get("split") or {}).get("kind", "?")),
        str(table.get("prediction", kind)),
        " / ".join(f"{p:.2f}" for _, p in per_rate),
        _f(head.get("pearson")),
        _f(head.get("ceiling")),
        _f(head.get("baseline_structural")),
        _f(head.get("skill"), signed=True),
        _f(head.get("fraction_of_ceiling")),
        f"{_f(pooled.get('pearson'))} ({_f(pooled.get('baseline_species_rate'))})",
        ", ".join(f"{k} = {v:g}" if isinstance(v, (int, float)) else f"{k} = {v}" for k, v in (m.get("selected") or {}).items()),
        f"{m.get('train_seconds', float('nan')):.0f}",
    )


def table_rows(runs: Iterable[RunInfo]) -> list[tuple[str, ...]]:
    """One row per run and scored output (``skill.regression``, then ``skill.hardness``: H or a logit)."""
    out = []
    for run in runs:
        skill = run.metrics.get("skill") or {}
        for kind in ("regression", "hardness"):
            if kind in skill:
                out.append(_row(run, kind, skill[kind]))
    return out


def class_rows(runs: Iterable[RunInfo]) -> list[tuple[str, ...]]:
    """One row per run with a slow/fast table and per shear rate (rate order), then its within-rate mean."""
    out = []
    for run in runs:
        table = (run.metrics.get("skill") or {}).get("classification")
        if not table:
            continue
        rows = table.get("rows", [])
        per_rate = sorted((float(r["group"]), r) for r in rows if r.get("scope") == "rate")
        mean = next((r for r in rows if r.get("scope") == "within_rate_mean"), None)
        for label, r in [*((f"{g:g}", r) for g, r in per_rate), *([("mean", mean)] if mean else [])]:
            two = 0 < float(r.get("p_true", 0.0)) < 1
            out.append(
                (
                    run.short,
                    str((run.metrics.get("split") or {}).get("kind", "?")),
                    str(table.get("prediction", "hardness")),
                    label,
                    str(r.get("n", "")),
                    _f(r.get("p_true")),
                    _f(r.get("p_pred")),
                    _f(r.get("balanced_accuracy") if two else None),
                    _f(r.get("roc_auc") if two else None),
                    _f(r.get("mcc") if two else None, signed=True),
                    _f(r.get("average_precision") if two else None),
                )
            )
    return out


def markdown_table(rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> str:
    """A GitHub/mkdocs markdown table under ``header`` (default :data:`HEADER`)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", type=Path, help="run directories (or directories holding runs: every finished run below)")
    p.add_argument("--out", type=Path, default=None, help="also write the table to this markdown file")
    p.add_argument("--json", action="store_true", help="print the rows as JSON instead")
    p.add_argument("--classification", action="store_true", help="the slow/fast table per shear rate (Eq. 2 classes)")
    a = p.parse_args(argv)
    runs = [load_run(r.path) for r in runs_below(a.runs)]
    if not runs:
        raise SystemExit(f"no run with metrics at or below {', '.join(map(str, a.runs))}")
    header, rows = (CLASS_HEADER, class_rows(runs)) if a.classification else (HEADER, table_rows(runs))
    if not rows:
        raise SystemExit("none of these runs has a slow/fast table (models with a hardness or logit output write one)")
    text = json.dumps([dict(zip(header, r)) for r in rows], indent=1) if a.json else markdown_table(rows, header)
    print(text)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(markdown_table(rows, header), encoding="utf-8")


if __name__ == "__main__":
    main()
