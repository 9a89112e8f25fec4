"""The same configuration in another file format, rotated by 180 deg about z, or translated: same predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.helpers.predict import big_config, trained_runs, write_dump, write_xyz


@pytest.fixture(scope="session")
def runs(tiny_dataset: Path, tmp_path_factory) -> dict[str, Path]:
    return trained_runs(str(tiny_dataset), str(tmp_path_factory.getbasetemp() / "predict_runs"))


@pytest.fixture(scope="module")
def config(tiny_dataset: Path):
    pos, sp, cell = big_config(tiny_dataset)
    assert abs(cell[1, 0]) > 1e-6 and min(np.diag(cell)) > 10.6  # tilted, passes the 2 x 5.3 size check
    return pos, sp, cell


def _close(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-6, atol=1e-6 * max(1.0, float(np.abs(a[k]).max())), err_msg=k)


def test_engine_dump_data_file_and_extxyz_agree(runs, config, tmp_path: Path):
    from taulc.predict import Predictor

    dump = write_dump(tmp_path / "conf.dump", *config, data=tmp_path / "conf.data")
    xyz = write_xyz(tmp_path / "conf.xyz", *config)
    for model in ("svm", "gnn"):
        pred = Predictor.load(runs[model] / "predictor.pt")
        (a,), (b,), (c,) = pred.predict(dump), pred.predict(xyz), pred.predict(tmp_path / "conf.data")
        np.testing.assert_array_equal(a.species, b.species)
        np.testing.assert_array_equal(c.species, b.species)
        _close(a.values, b.values)
        _close(c.values, b.values)


def _rotate_c2z(pos: np.ndarray) -> np.ndarray:
    """180 deg about z: (x, y, z) -> (-x, -y, z). The rotated cell (-a, -b, c) spans the same lattice as (a, b, c),
    so the upper-triangular cell is unchanged and only the positions move (wrapped by the predictor)."""
    return pos * np.array([-1.0, -1.0, 1.0])


@pytest.mark.parametrize("model", ["svm", "ridge", "gnn"])
def test_rotation_by_180_degrees_about_z(runs, config, model: str):
    from taulc.predict import Predictor

    pred = Predictor.load(runs[model] / "predictor.pt")
    pos, sp, cell = config
    _close(pred.predict_arrays(pos, sp, cell).values, pred.predict_arrays(_rotate_c2z(pos), sp, cell).values)


@pytest.mark.parametrize("model", ["svm", "ridge", "gnn"])
def test_translation_across_the_periodic_boundary(runs, config, model: str):
    from taulc.predict import Predictor

    pred = Predictor.load(runs[model] / "predictor.pt")
    pos, sp, cell = config
    shift = 0.37 * cell[0] + 0.81 * cell[1] - 0.45 * cell[2]  # many particles cross the (tilted) boundary
    _close(pred.predict_arrays(pos, sp, cell).values, pred.predict_arrays(pos + shift, sp, cell).values)
