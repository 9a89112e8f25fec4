"""Fixed splits with asymmetric replicas and cage positions in the builder (dataset.splits, dataset.positions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from taulc.data.builder import DatasetBuilder
from taulc.data.specs import SplitLabelsSpec
from taulc.dynamics.labels import LabelSettings
from taulc.errors import ConfigError
from taulc.md.cage import jumps_inside_window
from taulc.testing.data import tiny_build_cfg

SPLIT_OVERRIDES = [
    "dataset.n_configs=4",
    "+dataset.splits.val=1",
    "+dataset.splits.test=1",
    "+dataset.splits.test_labels.n_replicas=4",
    "+dataset.positions.window=1.0",
    "+dataset.first_jump_dtype=float16",
]


@pytest.fixture(scope="module")
def split_dataset(tiny_dataset: Path, tmp_path_factory) -> Path:
    """The tiny dataset with one more configuration per rate, held out as test (4 replicas) and val.

    Starts from a copy of the tiny dataset's caches: the simulation key is the same (splits and positions
    do not change the sampled configurations), so only configuration 3, the test labels and the cage
    positions are computed -- which is itself the resumability the real build relies on."""
    import shutil

    from taulc.build import run

    root = tmp_path_factory.mktemp("splitdata")
    shutil.copytree(tiny_dataset / "cache", root / "tiny" / "cache")
    run(tiny_build_cfg(root, SPLIT_OVERRIDES))
    return root / "tiny"


def _builder(root: Path, extra: list[str]) -> DatasetBuilder:
    from omegaconf import OmegaConf

    return DatasetBuilder(OmegaConf.to_container(tiny_build_cfg(root, extra), resolve=True), root / "tiny", progress=False)


def test_roles_are_the_last_indices_per_rate():
    sp = SplitLabelsSpec(val=3, test=3, test_labels={"n_replicas": 48})
    assert [sp.role(i, 26) for i in (0, 19, 20, 22, 23, 25)] == ["train", "train", "val", "val", "test", "test"]
    lab = LabelSettings(n_replicas=8, t_max=25)
    assert sp.labels_for(lab, "train") is lab and sp.labels_for(lab, "val") is lab
    assert sp.labels_for(lab, "test").n_replicas == 48 and sp.labels_for(lab, "test").t_max == 25
    with pytest.raises(ConfigError, match="n_replica"):
        SplitLabelsSpec(test=1, test_labels={"n_replica": 4})


def test_splits_and_positions_leave_the_simulation_key_alone(tmp_path: Path):
    plain, split = _builder(tmp_path, []), _builder(tmp_path, SPLIT_OVERRIDES)
    assert plain.k_sim == split.k_sim  # held-out roles and cage positions do not change the sampled configurations
    assert plain.k_lab == split.k_lab  # training labels are the plain labels
    test_shard = next(s for s in split.shards() if split.role(s) == "test")
    assert split.label_key(test_shard) != split.k_lab


def test_too_many_held_out_configurations_are_refused(tmp_path: Path):
    with pytest.raises(ConfigError, match="leaves none"):
        _builder(tmp_path, ["dataset.n_configs=4", "+dataset.splits.val=2", "+dataset.splits.test=2"])


def test_manifest_records_roles_and_replicas(split_dataset: Path):
    import json

    man = json.loads((split_dataset / "manifest.json").read_text())
    roles = {(s["rate"], s["config_index"]): s["split"] for s in man["shards"]}
    for r in (0.0, 0.1):
        assert [roles[(r, i)] for i in range(4)] == ["train", "train", "val", "test"]
    assert man["labels_by_split"]["train"]["n_replicas"] == 2 and man["labels_by_split"]["test"]["n_replicas"] == 4
    assert sorted(man["splits"]["test"]) == ["r0.000e+00_c003", "r1.000e-01_c003"]
    for s in man["shards"]:
        z = np.load(split_dataset / s["file"])
        assert z["first_jump_lc"].dtype == np.float16
        assert z["first_jump_lc"].shape == (4 if s["split"] == "test" else 2, 300) == (s["n_replicas"], 300)


def test_cage_positions_sit_between_the_snapshot_and_the_inherent_state(split_dataset: Path):
    """Physics: minimisation lowers the energy to a force-free state; averaging over 1 tau removes most
    of the vibration, so the cage centre is closer to the inherent state than the thermal snapshot is
    (measured on a ka_shear configuration, N = 1500: median distance 0.12 vs 0.15; with a 0.2 tau window 0.14)."""
    import json

    from taulc.md.configuration import Configuration
    from taulc.md.lammps_engine import LammpsEngine
    from taulc.md.system import SystemSpec

    man = json.loads((split_dataset / "manifest.json").read_text())
    z = np.load(split_dataset / man["shards"][0]["file"])
    cell = z["cell"]

    def dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        f = np.linalg.solve(cell.T, (np.asarray(a, float) - np.asarray(b, float)).T).T
        f -= np.round(f)
        return np.linalg.norm(f @ cell, axis=1)

    d_snap, d_cage = dist(z["positions"], z["positions_inherent"]), dist(z["positions_cage"], z["positions_inherent"])
    assert np.median(d_cage) < 0.95 * np.median(d_snap)
    assert float(z["is_fnorm"]) < 1e-5 and float(z["cage_window"]) == pytest.approx(1.0)
    system = SystemSpec.from_config({**man["config"]["system"]})
    with LammpsEngine(system, n_threads=1) as eng:
        _, u_snap, _ = eng.forces(Configuration(positions=z["positions"], species=z["species"], cell=cell))
        _, u_is, _ = eng.forces(Configuration(positions=z["positions_inherent"].astype(float), species=z["species"], cell=cell))
    assert u_is < u_snap - 0.3  # T = 0.6 puts ~3/2 kT of potential energy per particle above the IS
    assert u_is == pytest.approx(float(z["is_energy"]), abs=1e-4)
    assert 0.0 <= float(z["cage_jump_fraction"]) < 0.2


def test_jumps_inside_window_counts_replica_particle_pairs():
    fj = np.array([[0.5, np.nan, 3.0], [1.5, 0.9, np.nan]])
    assert jumps_inside_window(fj, 1.0) == pytest.approx(2 / 6)
    assert jumps_inside_window(fj, 0.1) == 0.0


def test_predictor_recomputes_the_positions_of_the_cage(split_dataset: Path, tmp_path: Path):
    """A predictor trained on gl_is + gl_cage makes the inherent state and the cage average of a new sample
    itself (LAMMPS): the inherent-state descriptors equal the training ones (deterministic minimisation), the
    cage-average ones agree to the noise of a different velocity draw; the model card says it runs MD."""
    from omegaconf import open_dict

    from taulc.data.dataset import load_dataset, load_shard
    from taulc.data.manifest import read_manifest
    from taulc.predict import Predictor
    from taulc.testing.data import TRAIN_OVERRIDES, compose
    from taulc.training import train

    cfg = compose(
        "train",
        [
            f"data_root={split_dataset.parent}",
            *TRAIN_OVERRIDES,
            *SPLIT_OVERRIDES,
            "model=ridge",
            "descriptor=gl_is_cage",
            f"results_table={tmp_path / 'results.csv'}",
            "trainer.enable_progress_bar=false",
            "trainer.enable_model_summary=false",
        ],
    )
    with open_dict(cfg):
        cfg.run_dir = str(tmp_path / "run")
    train(cfg)
    assert "runs LAMMPS on every new sample" in (tmp_path / "run" / "model_card.md").read_text()
    pred = Predictor.load(tmp_path / "run" / "predictor.pt")
    assert pred.positions_recipe["sets"] == ["inherent", "cage"] and pred.positions_recipe["window"] == 1.0
    man = read_manifest(split_dataset)
    k = next(i for i, s in enumerate(man["shards"]) if s["rate"] > 0)
    z = load_shard(split_dataset, man["shards"][k])
    served = pred.model_inputs(z["positions"], z["species"], z["cell"])["x"]
    table = load_dataset(split_dataset, descriptor=pred.descriptor, progress=False)
    trained = table.features[table.shard_offsets[k] : table.shard_offsets[k + 1]]
    half = trained.shape[1] // 2
    np.testing.assert_allclose(served[:, :half], trained[:, :half], atol=2e-3 * float(np.abs(trained[:, :half]).max()))
    r = np.corrcoef(served[:, half:].ravel(), trained[:, half:].ravel())[0, 1]
    assert r > 0.95 and not np.allclose(served[:, half:], trained[:, half:])


def test_learning_targets_are_log_means_and_the_stored_times_stay(tiny_dataset: Path):
    """load_dataset re-estimates ln tau from the per-replica times with the target estimator, and the Eq. 2 classes
    on the Kaplan-Meier ICE means at the same horizon; estimator=None gives the shards' stored Kaplan-Meier means,
    which the physics analyses read."""
    from taulc.data.dataset import load_dataset, load_shard
    from taulc.dynamics.estimators import ice_estimate, log_mean

    t = load_dataset(tiny_dataset, progress=False)
    stored = load_dataset(tiny_dataset, progress=False, estimator=None)
    assert t.estimator == "logmean" and t.horizon == pytest.approx(3.0) and stored.estimator is None
    for k, entry in enumerate(t.manifest["shards"]):
        z = load_shard(tiny_dataset, entry)
        lo, hi = t.shard_offsets[k], t.shard_offsets[k + 1]
        np.testing.assert_allclose(t.ln_tau_lc[lo:hi], log_mean(z["first_jump_lc"], 3.0))
        np.testing.assert_allclose(stored.ln_tau_lc[lo:hi], np.log(z["tau_lc"]))
        km_lc, km_sh = (ice_estimate(z[f"first_jump_{s}"], t.horizon, "km")[0] for s in ("lc", "sh"))
        np.testing.assert_array_equal(t.slow[lo:hi], (km_lc - km_sh >= float(z["tau_2"])).astype(int))
        # at the shards' own horizon these are the stored classes, up to ties D = tau_2 that rounding of the
        # stored first jumps (float32) tips either way
        assert np.mean(t.slow[lo:hi] == z["slow"]) > 0.98
    # the geometric mean is below the arithmetic one wherever a particle's replicas differ (Jensen)
    assert np.mean(t.ln_tau_lc <= stored.ln_tau_lc + 1e-9) > 0.99
    half = load_dataset(tiny_dataset, progress=False, horizon=1.5)
    assert half.ln_tau_lc.max() <= np.log(1.5) + 1e-12
