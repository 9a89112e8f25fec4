"""Reusable model-contract tests (in the spirit of nequip's model test mixins).

A model's test module subclasses :class:`ModelContract` with the ``src/taulc/conf/model`` name and
overrides that keep training tiny. The model is trained once per class through ``train.py``'s code path
(:func:`taulc.training.train` on a Hydra-composed config) on the tiny dataset of
:func:`taulc.testing.data.build_tiny_dataset` (built once per session), then:

- the registry and ``src/taulc/conf/model/<short_name>.yaml`` agree with the class's declaration, and the
  declared input kind is a known one (it is what the bundle records);
- the declared outputs are consistent (names unique, every ``predict_step`` key returned, keys in the run's
  ``test_predictions.npz`` and in ``metrics.json`` ``outputs``) and the predictor returns exactly them;
- every report role the model claims is satisfied (:func:`taulc.models.roles.role_problems`);
- save/load round trip: ``save_model`` -> ``load_model`` gives identical per-particle outputs;
- predictor-bundle round trip: ``Predictor.load(run)`` reproduces the run's own test predictions;
- batching invariance: two configurations predicted in one batch == each predicted alone,
  and descriptor rows predicted in chunks == all at once;
- C2h invariance (180° about z, the z mirror, inversion) where the model declares ``symmetry = "C2h"``.

Needs pytest (the ``test`` extra).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from omegaconf import OmegaConf

from taulc.models.input_kinds import INPUT_KINDS, TABULAR
from taulc.models.outputs import check_outputs, outputs_record
from taulc.models.registry import model_class
from taulc.models.roles import ROLES, role_problems
from taulc.paths import conf_dir
from taulc.runs import Run
from taulc.structure.neighbors import wrap_positions
from taulc.testing.data import build_tiny_dataset, shard, tilted_shard, train_cfg
from taulc.training import train

__all__ = ["ModelContract", "contract_run"]

TOL = {"rtol": 1e-5, "atol": 1e-6}


@functools.cache
def contract_run(dataset: str, base: str, config: str, overrides: tuple[str, ...]) -> Path:
    """One tiny training run of ``model=<config>`` through train.py's code path (cached per session)."""

    run = Path(base) / f"{config}-{hashlib.sha1(repr(overrides).encode()).hexdigest()[:8]}"
    train(train_cfg(Path(dataset).parent, run, [f"model={config}", *overrides]))
    return run


def _close(a: dict[str, np.ndarray], b: dict[str, np.ndarray], **tol: float) -> None:
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(np.asarray(a[k], dtype=float), np.asarray(b[k], dtype=float), err_msg=k, **(tol or TOL))


class ModelContract:
    """Subclass with ``config`` (the ``src/taulc/conf/model`` name) and ``overrides`` (tiny training)."""

    config: ClassVar[str] = ""
    overrides: ClassVar[tuple[str, ...]] = ()

    # ---------------------------------------------------------------- fixtures
    @pytest.fixture(scope="class")
    def contract_dataset(self, tmp_path_factory: pytest.TempPathFactory) -> Path:
        """The tiny dataset, shared by every contract class of the session."""
        return build_tiny_dataset(str(tmp_path_factory.getbasetemp()))

    @pytest.fixture(scope="class")
    def run(self, contract_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
        return contract_run(
            str(contract_dataset), str(tmp_path_factory.getbasetemp() / "contract_runs"), self.config, tuple(self.overrides)
        )

    @pytest.fixture(scope="class")
    def predictor(self, run: Path) -> Any:
        from taulc.predict import Predictor  # noqa: PLC0415 - lazy: the predictor loads torch

        return Predictor.load(run)

    @pytest.fixture(scope="class")
    def frames(self, contract_dataset: Path, predictor: Any) -> list[tuple[Any, ...]]:
        """Two configurations of the tiny dataset (one sheared, tilted) with their descriptors (or None)."""

        out = []
        for z in (shard(contract_dataset, 0), tilted_shard(contract_dataset)):
            pos = wrap_positions(np.asarray(z["positions"], dtype=np.float64), z["cell"])
            x = predictor._features(pos, z["species"], z["cell"]) if predictor.descriptor is not None else None
            out.append((pos, np.asarray(z["species"]), np.asarray(z["cell"]), x))
        return out

    # ------------------------------------------------------------------- tests
    def test_registry_and_config_agree_with_the_declaration(self, predictor: Any) -> None:
        model = predictor.model
        cls = type(model)
        assert model_class(cls.__name__) is cls and model_class(cls.short_name) is cls
        assert cls.short_name == self.config
        target = OmegaConf.load(conf_dir() / "model" / f"{cls.short_name}.yaml")["_target_"]
        assert model_class(target) is cls
        assert cls.input_kind in INPUT_KINDS and cls.inputs is INPUT_KINDS[cls.input_kind] is model.inputs
        assert (conf_dir() / "callbacks" / f"{cls.callbacks_default}.yaml").is_file()
        assert predictor.kind == cls.input_kind  # the bundle records the declared input kind

    def test_outputs_match_the_declaration(self, run: Path, predictor: Any, frames: list[tuple[Any, ...]]) -> None:
        import torch

        model = predictor.model
        outputs = model.outputs(predictor.target)
        pos, sp, cell, x = frames[1]
        with torch.no_grad():
            res = model.predict_step(model.inputs.particle_batch(model, pos, sp, cell, x, predictor.graph_radius), 0)
        assert check_outputs(outputs, res) == []
        assert set(o.key for o in outputs) <= set(np.load(Run(run).predictions_path).files)
        assert Run(run).read_metrics()["outputs"] == outputs_record(outputs)
        out = predictor.outputs(pos, sp, cell, x)
        assert tuple(out) == tuple(o.name for o in outputs) == model.output_names(predictor.target) == predictor.output_names
        assert predictor.score_name in out
        for k, v in out.items():
            assert v.shape == (len(sp),) and np.all(np.isfinite(v)), k

    def test_report_roles_satisfy_their_protocols(self, predictor: Any) -> None:
        model = predictor.model
        assert role_problems(model, predictor.target) == []
        for role in type(model).report_roles:
            assert isinstance(model, ROLES[role]), role

    def test_save_load_round_trip(self, predictor: Any, frames: list[tuple[Any, ...]], tmp_path: Path) -> None:
        from taulc.models.io import load_model, save_model  # noqa: PLC0415 - lazy: models.io loads Lightning and torch

        model = predictor.model
        again = load_model(save_model(model, Run(tmp_path).model_path))
        assert type(again) is type(model) and dict(again.hparams) == dict(model.hparams)
        for pos, sp, cell, x in frames:
            a = model.predict_particles(pos, sp, cell, x, target=predictor.target, graph_radius=predictor.graph_radius)
            b = again.predict_particles(pos, sp, cell, x, target=predictor.target, graph_radius=predictor.graph_radius)
            _close(a, b, rtol=0, atol=0)

    def test_bundle_round_trip_reproduces_the_runs_test_predictions(
        self, run: Path, predictor: Any, contract_dataset: Path
    ) -> None:
        ref = np.load(Run(run).predictions_path)
        test_ids = Run(run).read_metrics()["configs"]["test"]
        outputs = predictor.model.outputs(predictor.target)
        for cid in test_ids:
            z = shard(contract_dataset, int(cid))
            p = predictor.predict_arrays(z["positions"], z["species"], z["cell"], allow_small_cell=True).values
            rows = ref["config_id"] == cid
            keep = np.isfinite(np.log(z["tau_lc"]))  # the split's particles: finite target
            assert keep.sum() == rows.sum()
            for o in outputs:
                r = np.asarray(ref[o.key][rows], dtype=float)
                np.testing.assert_allclose(p[o.name][keep], r, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(r).max()), err_msg=o.name)

    def test_batching_invariance(self, predictor: Any, frames: list[tuple[Any, ...]]) -> None:
        import torch

        model = predictor.model
        kind = model.inputs
        keys = [o.key for o in model.outputs(predictor.target)]
        parts = [kind.particle_batch(model, pos, sp, cell, x, predictor.graph_radius) for pos, sp, cell, x in frames]
        with torch.no_grad():
            alone = [model.predict_step(b, 0) for b in parts]
            joint = model.predict_step(kind.collate(parts), 0)
            if kind is TABULAR:  # rows: any chunking gives the same predictions
                chunks = [model.predict_step({"x": c}, 0) for c in torch.split(parts[0]["x"], 37)]
                _close({k: torch.cat([c[k] for c in chunks]).numpy() for k in keys}, {k: alone[0][k].numpy() for k in keys})
        _close({k: joint[k].numpy() for k in keys}, {k: torch.cat([a[k] for a in alone]).numpy() for k in keys})

    def test_c2h_symmetry_where_declared(self, predictor: Any, frames: list[tuple[Any, ...]]) -> None:
        model = predictor.model
        if model.symmetry != "C2h":
            pytest.skip(f"{type(model).__name__} declares no C2h symmetry")
        pos, sp, cell, _ = frames[1]  # tilted: the operations keep the sheared lattice (a, b, c) -> (±a, ±b, ±c)
        ref = predictor.outputs(pos, sp, cell)
        for op in ([-1.0, -1.0, 1.0], [1.0, 1.0, -1.0], [-1.0, -1.0, -1.0]):  # C2(z), sigma_h, inversion
            moved = wrap_positions(pos * np.array(op), cell)
            _close(predictor.outputs(moved, sp, cell), ref, rtol=1e-4, atol=1e-4)
