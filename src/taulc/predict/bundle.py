"""Predictor bundles: one self-contained file per training run (:attr:`taulc.runs.Run.predictor_path`).

This module is the format (make, save, read); a training run writes its bundle with
:func:`taulc.predict.export.export_run_bundle`.

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

import torch

import taulc
from taulc.data.ingest import DEFAULT_SPECIES_MAP
from taulc.errors import TaulcError
from taulc.fileio import atomic_write_with, jsonable
from taulc.runs.files import PREDICTOR
from taulc.structure.features import parse_families
from taulc.structure.radial import RadialGrid

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


def species_map_from_config(c: Mapping[str, Any]) -> list[list[Any]]:
    """[[key, species], ...] from the training config: LAMMPS types 1/2, the system's symbols, the dataset's map."""

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
    from taulc.models.io import model_payload  # noqa: PLC0415 - lazy: models.io loads Lightning and torch

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
        "inputs": jsonable(
            {
                "kind": model.inputs.name,
                "descriptor": descriptor,
                "feature_names": list(feature_names) if feature_names is not None else None,
                "graph_radius": float(graph_radius) if graph_radius else None,
                "cutoff": cutoff,
                **({"positions": dict(positions)} if positions else {}),
            }
        ),
        "species": jsonable(
            {
                "map": [list(kv) for kv in species_map],
                "symbols": list(symbols),
                "sigma": dict(sigma or DEFAULT_SIGMA),
            }
        ),
        "outputs": jsonable(
            {"target": target, "display": dict(display or {"score": model.score_name(target), "vmin": -1.0, "vmax": 1.0})}
        ),
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
    except Exception as exc:  # zip errors, unpickling refusals, truncation
        raise BundleError(f"{path}: not a readable taulc predictor bundle ({type(exc).__name__}: {exc})") from exc
    if not isinstance(b, dict) or b.get("format") != BUNDLE_FORMAT:
        fmt = b.get("format") if isinstance(b, dict) else type(b).__name__
        hint = f" (this is a model file; use the run's {BUNDLE_NAME})" if fmt == "taulc-model/1" else ""
        raise BundleError(f"{path}: format {fmt!r} is not {BUNDLE_FORMAT!r}{hint}")
    v = b.get("format_version")
    if v != BUNDLE_VERSION:
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
