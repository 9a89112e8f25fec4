"""The DMS figure draws the power law of Eq. 1 (Yu, Gao, Gao & Samwer) only where IS D_min can test it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from taulc.analysis import dms


def _table(dmin: np.ndarray, a: float = 0.8, b: float = 0.5) -> pd.DataFrame:
    period = np.array([2.0, 5.0, 12.5, 30.0])
    return pd.DataFrame(
        {
            "period": period,
            "storage": 10 / period,
            "loss": 5 / period**0.5,
            "delta": a * dmin**b,
            "is_dmin": dmin,
            "labelled_rmsd": 1.2 * dmin,
        }
    )


@pytest.fixture
def captured(monkeypatch):
    figs = []
    monkeypatch.setattr(dms, "save_figure", lambda fig, path: figs.append(fig) or path)
    return figs


def test_power_law_drawn_and_recovered_when_dmin_spans(captured, tmp_path) -> None:
    dms.plot_dms(_table(np.array([0.05, 0.1, 0.2, 0.4])), tmp_path / "d.png")
    labels = [ln.get_label() for ln in captured[0].axes[1].lines]  # axes: left, right, left twin
    fit = [lab for lab in labels if lab.startswith(r"$\delta =")]
    assert fit == [r"$\delta = 0.80\,D^{0.50}$"]  # planted δ = 0.8 D^0.5


def test_no_fit_on_saturated_dmin(captured, tmp_path) -> None:
    dms.plot_dms(_table(np.array([0.49, 0.63, 0.64, 0.65])), tmp_path / "d.png")
    right = captured[0].axes[1]
    assert not any(ln.get_label().startswith(r"$\delta =") for ln in right.lines)
    assert "no power-law fit" in right.get_title()
