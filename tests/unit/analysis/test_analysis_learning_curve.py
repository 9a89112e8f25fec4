"""Learning-curve collection: runs grouped by training configurations, mean and s.d. over seeds, the figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taulc.analysis.learning_curve import collect_runs, learning_curve, main


def _run(root: Path, name: str, n: int | None, seed: int, p0: float, p1: float, train_ids: int = 0) -> None:
    rows = [{"scope": "rate", "group": g, "pearson": p, "ceiling": 0.8} for g, p in (("0", p0), ("0.1", p1))]
    m = {
        "model": "RidgeRegressor",
        "split": {"train_configs": n, "seed": seed},
        "configs": {"train": list(range(train_ids))},
        "skill": {"regression": {"rows": rows, "headline": {"pearson": (p0 + p1) / 2}}},
    }
    (root / name).mkdir(parents=True)
    (root / name / "metrics.json").write_text(json.dumps(m))


def test_points_average_over_seeds(tmp_path: Path, capsys):
    _run(tmp_path, "a", 2, 0, 0.30, 0.10)
    _run(tmp_path, "b", 2, 1, 0.40, 0.20)
    _run(tmp_path, "c", None, 0, 0.50, 0.30, train_ids=40)  # all 20 per rate, counted from the recorded split
    res = learning_curve(collect_runs([tmp_path]))
    assert [p["n_configs"] for p in res["points"]] == [2, 20]
    p2 = res["points"][0]
    assert p2["pearson_0"] == pytest.approx(0.35) and p2["sd_0"] == pytest.approx(0.0707, abs=1e-4)
    assert p2["within_rate_mean"] == pytest.approx(0.25) and res["ceiling_mean"] == pytest.approx(0.8)
    main([str(tmp_path), "--out", str(tmp_path / "out")])
    assert (tmp_path / "out" / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert "| 20 |" in capsys.readouterr().out


def test_no_runs_is_an_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="no run"):
        collect_runs([tmp_path])
