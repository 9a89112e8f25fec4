"""Predictor bundles: one self-contained file per training run (:attr:`taulc.runs.Run.predictor_path`).

A bundle is a ``torch.save`` dict of plain containers and tensors, read back
with ``torch.load(weights_only=True)`` (nothing arbitrary is unpickled, no
Hydra, no dataset).  Fields:

``format`` (``"taulc-predictor"``), ``format_version`` (int, :data:`BUNDLE_VERSION`),
``taulc_version``, ``created``,
``model``            the :func:`taulc.models.io.model_payload` dict (class, hyperparameters,
                     ``state_dict``); the feature scaler the model declares
                     (``feature_scaler()``) lives in it, see :meth:`Predictor.scaler`,
``inputs``           ``kind`` (the model's input kind, ``tabular`` | ``graph``), ``descriptor`` (the
                     featurize config, ``None`` when the model reads no descriptors), ``feature_names``,
                     ``graph_radius`` (graph models), ``cutoff`` (reach of descriptors/graph),
``species``          ``map`` ([[key, 0|1], ...]: LAMMPS type or symbol -> 0 big / 1 small),
                     ``symbols`` (written to extxyz), ``sigma`` ({bb, bs, ss}, for the overlap check),
``outputs``          ``target`` (e.g. ``ln_tau_lc``) and ``display`` (score name and common
                     colour range of hardness maps, from the run's test predictions of the model's
                     declared score output, :meth:`~taulc.models.base.TaulcModule.score_output`),
``domain``           training domain (optional; :func:`taulc.predict.domain.training_domain`):
                     ``fraction_small``, ``density``, ``temperature``, ``n_atoms``, ``rates``
                     ([min, max]), ``score`` ({name, lo, hi}: central 99 % of the scores of
                     every dataset configuration for descriptor models, else of the test
                     split), ``descriptor_z_max`` (largest descriptor distance of the
                     dataset's configurations), ``species`` (particles the model was trained
                     on); the descriptor distribution comes from the model's feature scaler,
``training``         model name, target, split, seed, dataset name / manifest sha256 /
                     config hash, validation score and test metrics, package versions,
                     ``provenance`` (taulc version, git commit or "not a git checkout", dataset
                     manifest sha256 / config hash / shard digest, versions of Python, torch,
                     LAMMPS, OpenMM, ...; :func:`taulc.data.manifest.provenance`) and the
                     resolved training config.

Versioning rule: ``format_version`` is bumped whenever the layout or the meaning
of a field changes (including a change of :func:`taulc.structure.featurize`
that alters the columns for the same descriptor config).  A reader accepts
exactly its own version and refuses older and newer bundles with a message
naming both versions and the taulc that wrote the bundle.  Independently, the
feature names are recomputed at prediction time and compared with the stored
ones.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from taulc.errors import TaulcError
from taulc.fileio import atomic_write_with, jsonable, read_json
from taulc.models.outputs import SCORE, Output
from taulc.runs.files import PREDICTOR

log = logging.getLogger(__name__)

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "BUNDLE_NAME",
    "BundleError",
    "descriptor_reach",
    "make_bundle",
    "save_bundle",
    "read_bundle",
    "export_run_bundle",
]

BUNDLE_FORMAT = "taulc-predictor"
BUNDLE_VERSION = 1
BUNDLE_NAME = PREDICTOR  # a run's bundle: taulc.runs.Run.predictor_path
#: Kob-Andersen sigma table (big = A, small = B), used when a bundle carries none
DEFAULT_SIGMA = {"bb": 1.0, "bs": 0.8, "ss": 0.88}


class BundleError(TaulcError, ValueError):
    """A predictor bundle is missing, unreadable or incompatible; the message names the file."""


REACH_WIDTHS = 3.0
"""Gaussian widths past the last radial grid point that count as the descriptors' reach."""


def descriptor_reach(descriptor: Mapping[str, Any] | None) -> float:
    """Physical reach of the configured descriptors (5.3 for the default ``gl``).

    ``gl``: r_max + 3δ; ``caging``: r_grid[1] + 3δ; coarse-graining: r_c.  Beyond
    three Gaussian widths past the last grid point a neighbour's weight is below
    e^-4.5 ≈ 1 %; the numerical truncation (``truncation``·δ, 5δ by default) only
    keeps the sums exact to 1e-6.  A cell narrower than twice this reach lets a
    particle see its own periodic image in its descriptors.
    """
    from taulc.structure.features import parse_families  # noqa: PLC0415
    from taulc.structure.radial import RadialGrid  # noqa: PLC0415

    if descriptor is None:
        return 0.0
    reach = 0.0
    for _key, ftype, p in parse_families(descriptor):
        if ftype == "gl":
            grid = RadialGrid.from_range(float(p.get("r_min", 0.3)), float(p.get("r_max", 5.0)), float(p.get("dr", 0.1)))
            reach = max(reach, grid.r_max + REACH_WIDTHS * float(p.get("delta", 0.1)))
            gens = int(p.get("generations", 2))
        else:
            rg = p.get("r_grid", [0.5, 2.2])
            reach = max(reach, float(rg[1]) + REACH_WIDTHS * float(p.get("delta", 0.09)))
            gens = int(p.get("generations", 0))
        if gens > 0:
            reach = max(reach, float(p.get("rc", 4.0)))
    return reach


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


def species_map_from_config(c: Mapping[str, Any]) -> list[list[Any]]:
    """[[key, species], ...] from the training config: LAMMPS types 1/2, the system's symbols, the dataset's map."""
    from taulc.data.ingest import DEFAULT_SPECIES_MAP  # noqa: PLC0415

    smap: dict[Any, int] = dict(DEFAULT_SPECIES_MAP)
    symbols = list((c.get("system") or {}).get("symbols") or [])
    for k, s in enumerate(symbols[:2]):
        smap[str(s)] = k
    for k, v in dict((c.get("dataset") or {}).get("species_map") or {}).items():
        smap[int(k) if str(k).isdigit() else str(k)] = int(v)
    return [[k, int(v)] for k, v in smap.items()]


def make_bundle(
    model: Any,
    *,
    descriptor: Mapping[str, Any] | None,
    feature_names: Sequence[str] | None,
    graph_radius: float | None,
    target: str,
    species_map: Sequence[Sequence[Any]],
    symbols: Sequence[str] = ("Ni", "P"),
    sigma: Mapping[str, float] | None = None,
    display: Mapping[str, Any] | None = None,
    training: Mapping[str, Any] | None = None,
    domain: Mapping[str, Any] | None = None,
    positions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble a bundle dict around a fitted taulc model.

    ``positions``: the recipe of the inherent-state / cage-averaged positions the descriptors read
    (:func:`taulc.predict.positions.positions_recipe`); ``None`` for snapshot descriptors."""
    import taulc  # noqa: PLC0415
    from taulc.models.io import model_payload  # noqa: PLC0415

    try:  # the model's input kind (taulc.models.input_kinds) says what serving it needs
        model.inputs.check_bundle_fields(model, descriptor, graph_radius)
    except ValueError as exc:
        raise BundleError(str(exc)) from None
    cutoff = max(descriptor_reach(descriptor), float(graph_radius or 0.0))
    return {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_VERSION,
        "taulc_version": taulc.__version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": model_payload(model),
        "inputs": jsonable({
            "kind": model.inputs.name,
            "descriptor": descriptor,
            "feature_names": list(feature_names) if feature_names is not None else None,
            "graph_radius": float(graph_radius) if graph_radius else None,
            "cutoff": cutoff,
            **({"positions": dict(positions)} if positions else {}),
        }),
        "species": jsonable({
            "map": [list(kv) for kv in species_map],
            "symbols": list(symbols),
            "sigma": dict(sigma or DEFAULT_SIGMA),
        }),
        "outputs": jsonable({"target": target, "display": dict(display or {"score": model.score_name(target), "vmin": -1.0,
                                                                           "vmax": 1.0})}),
        "training": jsonable(dict(training or {})),
        "domain": jsonable(dict(domain or {})),
    }


def save_bundle(bundle: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``bundle`` atomically (temp file + rename)."""

    path = Path(path)
    atomic_write_with(path, lambda tmp: torch.save(dict(bundle), tmp))
    return path


def read_bundle(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load and check a bundle; a run directory is accepted too (its :data:`BUNDLE_NAME`)."""
    path = Path(path)
    if path.is_dir():
        path = path / BUNDLE_NAME
    if not path.is_file():
        raise BundleError(f"{path}: predictor bundle not found (training runs write <run_dir>/{BUNDLE_NAME})")
    try:
        b = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - zip errors, unpickling refusals, truncation
        raise BundleError(f"{path}: not a readable taulc predictor bundle ({type(exc).__name__}: {exc})") from exc
    if not isinstance(b, dict) or b.get("format") != BUNDLE_FORMAT:
        fmt = b.get("format") if isinstance(b, dict) else type(b).__name__
        hint = f" (this is a model file; use the run's {BUNDLE_NAME})" if fmt == "taulc-model/1" else ""
        raise BundleError(f"{path}: format {fmt!r} is not {BUNDLE_FORMAT!r}{hint}")
    v = b.get("format_version")
    if v != BUNDLE_VERSION:
        import taulc  # noqa: PLC0415

        newer = isinstance(v, int) and v > BUNDLE_VERSION
        raise BundleError(
            f"{path}: bundle format_version {v!r} (written by taulc {b.get('taulc_version', '?')}) is incompatible with "
            f"this taulc {taulc.__version__}, which reads format_version {BUNDLE_VERSION}; "
            + ("upgrade taulc to use it." if newer else "re-export it by re-running the training (python train.py ...).")
        )
    for key in ("model", "inputs", "species", "outputs"):
        if key not in b:
            raise BundleError(f"{path}: bundle field {key!r} is missing")
    if b["model"].get("format") != "taulc-model/1":
        raise BundleError(f"{path}: embedded model format {b['model'].get('format')!r} is not 'taulc-model/1'")
    return b


def _training_ranges(bundle: Mapping[str, Any], root: Path, manifest: Mapping[str, Any],
                     descriptor: Mapping[str, Any] | None) -> dict[str, Any]:
    """Domain entries measured on every configuration of the dataset (features from the training's own cache):
    the largest descriptor distance ``descriptor_z_max`` and, for descriptor-only models, the score range of
    all configurations (the test split alone may hold one shear rate)."""
    from taulc.data.derived import shard_features  # noqa: PLC0415
    from taulc.data.storage import load_npz  # noqa: PLC0415
    from taulc.predict.predictor import Predictor  # noqa: PLC0415

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
    from taulc.data.storage import load_npz  # noqa: PLC0415
    from taulc.predict.domain import structure_reference  # noqa: PLC0415

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
    from taulc.data.manifest import package_versions, provenance  # noqa: PLC0415
    from taulc.data.storage import sha256_file  # noqa: PLC0415
    from taulc.predict.domain import training_domain  # noqa: PLC0415

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
        man_info.update(manifest_sha256=sha256_file(man), config_hash=m.get("config_hash"),
                        format_version=m.get("format_version"), n_shards=len(m.get("shards", [])))
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
        from taulc.data.inputs import descriptor_positions  # noqa: PLC0415
        from taulc.predict.positions import positions_recipe  # noqa: PLC0415

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

