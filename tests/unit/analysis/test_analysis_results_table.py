"""python -m taulc.analysis.results_table: the docs' honest-skill table read back from runs' metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taulc.analysis.results_table import CLASS_HEADER, HEADER, class_rows, main, markdown_table, table_rows
from taulc.analysis.runs_index import RunInfo


def _metrics() -> dict:
    rows = [{"scope": "rate", "group": g, "pearson": p} for g, p in (("0.1", 0.31), ("0", 0.52), ("0.01", 0.40))]
    rows += [{"scope": "pooled_all_species", "group": "all", "pearson": 0.71, "baseline_species_rate": 0.66}]
    head = {"pearson": 0.41, "ceiling": 0.80, "baseline_structural": 0.12, "skill": 0.29, "fraction_of_ceiling": 0.51}
    return {
        "split": {"kind": "config"},
        "selected": {"alpha": 1000.0},
        "train_seconds": 12.4,
        "skill": {"regression": {"prediction": "y_pred", "headline": head, "rows": rows}},
    }


def test_row_reads_the_runs_skill_table_in_rate_order(tmp_path: Path) -> None:
    run = RunInfo(tmp_path, cfg={}, model_class="RidgeRegressor", metrics=_metrics())
    (row,) = table_rows([run])
    got = dict(zip(HEADER, row))
    assert got["model"] == "ridge" and got["split"] == "config" and got["scored"] == "y_pred"
    assert got["Pearson within each γ̇ (reference)"] == "0.52 / 0.40 / 0.31"  # sorted by rate, not file order
    assert (got["within-rate mean"], got["skill"], got["ceiling (mean)"]) == ("0.410", "+0.290", "0.800")
    assert got["pooled all species (species×rate table)"] == "0.710 (0.660)"
    assert got["selected"] == "alpha = 1000" and got["train s"] == "12"
    table = markdown_table([row]).splitlines()
    assert len(table) == 3 and table[0].count("|") == len(HEADER) + 1


def test_classification_rows_per_rate_leave_one_class_rates_undefined(tmp_path: Path) -> None:
    """A rate whose test particles are all fast has no balanced accuracy or ROC-AUC: printed n/a, never 0.5."""
    m = _metrics()
    rate_rows = [
        {
            "scope": "rate",
            "group": "0.1",
            "n": 100,
            "p_true": 0.2,
            "p_pred": 0.5,
            "balanced_accuracy": 0.6,
            "roc_auc": 0.7,
            "mcc": 0.15,
            "average_precision": 0.3,
        },
        {
            "scope": "rate",
            "group": "0",
            "n": 100,
            "p_true": 0.0,
            "p_pred": 0.4,
            "balanced_accuracy": float("nan"),
            "roc_auc": float("nan"),
            "mcc": 0.0,
            "average_precision": float("nan"),
        },
    ]
    mean = {
        "scope": "within_rate_mean",
        "group": "mean",
        "n": 200,
        "p_true": 0.1,
        "p_pred": 0.45,
        "balanced_accuracy": 0.6,
        "roc_auc": 0.7,
        "mcc": 0.15,
        "average_precision": 0.3,
    }
    m["skill"]["classification"] = {"prediction": "hardness", "headline": mean, "rows": [*rate_rows, mean]}
    rows = [dict(zip(CLASS_HEADER, r)) for r in class_rows([RunInfo(tmp_path, cfg={}, model_class="LinearSVM", metrics=m)])]
    assert [r["γ̇"] for r in rows] == ["0", "0.1", "mean"]  # rate order, then the mean
    assert (rows[0]["p_slow"], rows[0]["balanced accuracy"], rows[0]["ROC-AUC"], rows[0]["MCC"]) == ("0.000", "n/a", "n/a", "n/a")
    assert (rows[1]["balanced accuracy"], rows[1]["ROC-AUC"], rows[1]["MCC"]) == ("0.600", "0.700", "+0.150")
    assert markdown_table([tuple(r.values()) for r in rows], CLASS_HEADER).count("\n") == 5
    assert class_rows([RunInfo(tmp_path, cfg={}, model_class="RidgeRegressor", metrics=_metrics())]) == []


def test_command_refuses_a_directory_without_runs(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no run with metrics"):
        main([str(tmp_path)])


def test_command_reads_a_trained_run(tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from taulc.testing.contract import contract_run

    run = contract_run(str(tiny_dataset), str(tmp_path), "ridge", ())
    capsys.readouterr()  # what training printed
    main([str(run), "--json", "--out", str(tmp_path / "t.md")])
    rows = json.loads(capsys.readouterr().out)
    m = json.loads((run / "metrics.json").read_text())["skill"]["regression"]["headline"]
    assert rows[0]["model"] == "ridge" and rows[0]["within-rate mean"] == f"{m['pearson']:.3f}"
    assert (tmp_path / "t.md").read_text().startswith("| model |")
