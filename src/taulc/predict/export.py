"""Export a training run's predictor bundle (:func:`export_run_bundle`, called by :func:`taulc.training.train`).

The bundle format is :mod:`taulc.predict.bundle`; measuring the training domain applies the new bundle with
:class:`taulc.predict.predictor.Predictor`, so the export sits above both.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from taulc.data.derived import shard_features
from taulc.data.inputs import descriptor_positions
from taulc.data.manifest import package_versions, provenance
from taulc.data.storage import load_npz, sha256_file
from taulc.fileio import read_json
from taulc.models.outputs import SCORE, Output
from taulc.predict.bundle import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    BundleError,
    make_bundle,
    save_bundle,
    species_map_from_config,
)
from taulc.predict.domain import structure_reference, training_domain
from taulc.predict.positions import positions_recipe
from taulc.predict.predictor import Predictor

log = logging.getLogger(__name__)

__all__ = ["export_run_bundle"]


def _display_range(pred: Mapping[str, np.ndarray], score: Output) -> dict[str, Any]:
    """Common colour range of hardness maps of the declared ``score`` output (its test predictions ``pred``):
    symmetric 99th percentile of |score| for a classification score (H, logit), else its 1-99 % range."""
    v = np.asarray(pred.get(score.key, []), dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return {"score": score.name, "vmin": -1.0, "vmax": 1.0}
    if score.task == SCORE:
        vmax = float(np.percentile(np.abs(v), 99)) or 1.0
        return {"score": score.name, "vmin": -vmax, "vmax": vmax}
    lo, hi = (float(q) for q in np.percentile(v, [1, 99]))
    return {"score": score.name, "vmin": lo, "vmax": hi if hi > lo else lo + 1.0}


def _training_ranges(
    bundle: Mapping[str, Any], root: Path, manifest: Mapping[str, Any], descriptor: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Domain entries measured on every configuration of the dataset (features from the training's own cache):
    the largest descriptor distance ``descriptor_z_max`` and, for descriptor-only models, the score range of
    all configurations (the test split alone may hold one shear rate)."""
    try:
        xs, _, _ = shard_features(root, manifest, descriptor, progress=False)
        pred = Predictor(bundle)
    except Exception as exc:  # noqa: BLE001 - the bundle stays usable with the default limits
        log.warning("training domain of %s not measured (%s)", root, exc)
        return {}
    dom = pred.domain
    zs, scores = [], []
    name = (dom.score or {}).get("name")
    every = pred.model.inputs.scores_every_configuration
    for x, s in zip(xs, manifest["shards"]):
        z = load_npz(root / s["file"], ("positions", "species", "cell"))
        zs.append(dom.descriptor_z(x, z["species"]))
        if name and every:
            v = pred.outputs(z["positions"], z["species"], z["cell"], np.asarray(x, dtype=np.float64)).get(name)
            if v is not None:
                scores.append(np.asarray(v, dtype=float))
    out: dict[str, Any] = {}
    zs = [z for z in zs if z is not None]
    if zs:
        out["descriptor_z_max"] = max(zs)
    if scores:
        lo, hi = np.percentile(np.concatenate(scores), [0.5, 99.5])
        out["score"] = {"name": name, "lo": float(lo), "hi": float(hi), "from": "all configurations"}
    return out


def _structure_reference(root: Path, manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The model-independent structure reference of every dataset configuration (:func:`structure_reference`)."""

    def frames() -> Any:
        for s in manifest["shards"]:
            z = load_npz(root / s["file"], ("positions", "species", "cell"))
            yield z["positions"], z["species"], z["cell"]

    try:
        return structure_reference(frames())
    except Exception as exc:  # noqa: BLE001 - the bundle stays usable without the structure check
        log.warning("structure reference of %s not measured (%s)", root, exc)
        return {}


def export_run_bundle(
    path: str | os.PathLike[str],
    model: Any,
    c: Mapping[str, Any],
    metrics: Mapping[str, Any],
    dataset_root: str | os.PathLike[str],
    pred: Mapping[str, np.ndarray],
    feature_names: Sequence[str] | None = None,
) -> Path:
    """Write the bundle of one training run (called at the end of :func:`taulc.training.train`)."""
    root = Path(dataset_root)
    uses_x = model.uses_descriptors
    fields = model.inputs.bundle_fields(model, c)  # descriptor and graph_radius, as the input kind serves them
    target = str(c.get("target", "ln_tau_lc"))
    score = model.score_output(target)
    man = root / "manifest.json"
    man_info: dict[str, Any] = {"name": root.name, "root": str(root)}
    m: dict[str, Any] = {}
    if man.exists():
        m = read_json(man, error=BundleError)
        man_info.update(
            manifest_sha256=sha256_file(man),
            config_hash=m.get("config_hash"),
            format_version=m.get("format_version"),
            n_shards=len(m.get("shards", [])),
        )
    system = c.get("system") or {}
    sig = system.get("sigma")
    training = {
        "model": metrics.get("model"),
        "target": c.get("target"),
        "split": c.get("split"),
        "seed": c.get("seed"),
        "dataset": man_info,
        "monitor": metrics.get("monitor"),
        "val_score": metrics.get("val_score"),
        "selected": metrics.get("selected"),
        "test": metrics.get("test"),
        "skill": metrics.get("skill"),  # honest-skill tables (docs/honest-skill.md)
        "noise_ceiling": metrics.get("noise_ceiling"),
        "versions": package_versions(),
        "provenance": metrics.get("provenance") or provenance(root),  # git commit, dataset hash, versions
        "config": c,
    }
    recipe = None
    if uses_x:
        sets = descriptor_positions(c.get("descriptor"))
        if sets:
            recipe = positions_recipe(sets, ((m.get("config") or {}).get("dataset") or {}).get("positions"), system)
    bundle = make_bundle(
        model,
        positions=recipe,
        descriptor=fields["descriptor"],
        feature_names=list(feature_names) if (uses_x and feature_names is not None) else None,
        graph_radius=fields["graph_radius"],
        target=target,
        species_map=species_map_from_config(c),
        symbols=list(system.get("symbols") or ["Ni", "P"]),
        sigma={k: float(sig[k]) for k in ("bb", "bs", "ss")} if isinstance(sig, Mapping) else None,
        display=_display_range(pred, score),
        training=training,
        domain=training_domain(c, m, pred, score),
    )
    if uses_x and m.get("shards"):
        bundle["domain"].update(_training_ranges(bundle, root, m, c.get("descriptor")))
    if m.get("shards"):
        bundle["domain"]["structure"] = _structure_reference(root, m)
    out = save_bundle(bundle, path)
    log.info("predictor bundle written to %s (format %s v%d)", out, BUNDLE_FORMAT, BUNDLE_VERSION)
    return out
