"""Apply a predictor bundle to configurations: ``Predictor.load(path).predict(atoms_or_path)``.

Inputs: LAMMPS text dumps and data files, extxyz / xyz with any species labels,
HOOMD gsd (:mod:`taulc.data.ingest` reads and validates them; docs/inputs.md).
Before predicting, each frame is checked (every failure is an
:class:`~taulc.data.ingest.InputError` naming the file, the frame and the problem):

* the cell exists, is periodic in x, y, z and sheared in one plane (xz / yz
  tilts are rotated into the xy frame, a negative rate mirrored x -> -x);
* every perpendicular cell width is at least twice the bundle's ``cutoff``
  (the reach of the descriptors, r_max + 3δ = 5.3 for the default
  g_l^m, or the graph radius) so no particle sees its own periodic image;
  ``allow_small_cell=True`` skips this (the descriptors stay exact, with every
  image counted, which is how tiny training sets are featurised);
* species are known (LAMMPS type / symbol through the bundle's species map)
  and present (a ``type``/``element`` column or per-atom symbols);
* coordinates are finite;
* no two particles are closer than :data:`OVERLAP_RATIO` · σ_αβ (0.5 σ_αβ,
  where the LJ pair energy 4ε[(σ/r)¹² − (σ/r)⁶] exceeds 1.6·10⁴ ε: such a
  configuration is corrupt, in other units, or not a liquid state).

Each prediction then carries its distance from the bundle's training domain
(:mod:`taulc.predict.domain`): findings are logged as warnings, or refused when
``strict`` is set (``taulc-predict --strict``).

Per particle the predictor returns ``H`` (SVM hardness, > 0 = slow) and
``slow_pred``, ``<target>_pred`` (ridge, GNN, MLP; e.g. ``ln_tau_lc_pred``),
and for GNN/MLP ``logit``, ``p_slow`` and ``mobility_pred`` (heads that were
trained, i.e. task weight > 0).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from taulc.data.ingest import DEFAULT_SPECIES_MAP, Frame, InputError, iter_frames, kinetic_temperature, read_frame
from taulc.data.inputs import descriptor_matrix
from taulc.models.outputs import Output
from taulc.predict.bundle import DEFAULT_SIGMA, BundleError, read_bundle
from taulc.predict.domain import Domain
from taulc.predict.positions import cage_position_sets, sample_temperature
from taulc.runs import Run
from taulc.structure.neighbors import validate_system, wrap_positions
from taulc.structure.overlaps import OVERLAP_RATIO, find_overlaps, overlap_message

log = logging.getLogger(__name__)

__all__ = ["OVERLAP_RATIO", "Prediction", "Predictor"]


@dataclass
class Prediction:
    """Per-particle predictions for one frame (arrays follow docs/CONTRACTS.md: origin 0, wrapped)."""

    source: str
    frame: int
    positions: np.ndarray  # (N, 3) float64
    species: np.ndarray  # (N,) int64
    cell: np.ndarray  # (3, 3)
    values: dict[str, np.ndarray]  # name -> (N,)
    info: dict[str, Any] = field(default_factory=dict)
    frame_in: Frame | None = None  # the input as read (ids, input positions/cell/origin, transform)
    domain: dict[str, Any] = field(default_factory=dict)  # distance from the training domain (Domain.assess)
    outputs: tuple[Output, ...] = ()  # the model's declared outputs (their frame-summary columns)

    @property
    def n_atoms(self) -> int:
        return int(self.species.shape[0])

    def summary(self) -> dict[str, Any]:
        """One row of the CSV summary: geometry, then the summary columns each declared output asks for
        (p_H and H̄ of the SVM hardness, the fraction with logit > 0, means and spreads of predictions)."""
        c = self.cell
        vol = float(abs(np.linalg.det(c)))
        row: dict[str, Any] = {
            "file": self.source,
            "frame": self.frame,
            "n_atoms": self.n_atoms,
            "n_small": int((self.species == 1).sum()),
            "Lx": c[0, 0],
            "Ly": c[1, 1],
            "Lz": c[2, 2],
            "xy": c[1, 0],
            "density": self.n_atoms / vol,
        }
        if "timestep" in self.info:
            row["timestep"] = self.info["timestep"]
        if self.frame_in is not None and self.frame_in.transform:
            row["transform"] = ",".join(self.frame_in.transform)
        for o in self.outputs:
            if o.name in self.values:
                row.update(o.summarize(self.values[o.name]))
        row.update(self.domain)
        return row


def shortest_translation(cell: np.ndarray) -> float:
    """Length of the shortest non-zero lattice vector n1 a + n2 b + n3 c (|n_i| <= 2).

    Two periodic images of one neighbour lie within a reach r of a particle only
    if some lattice vector is shorter than 2 r.  For LAMMPS cells (|xy| <= Lx/2
    after flips) this is min(Lx, Ly, Lz)-like whatever the tilt, unlike the
    perpendicular widths, which shrink with the tilt.
    """
    n = np.array(np.meshgrid(*[np.arange(-2, 3)] * 3, indexing="ij")).reshape(3, -1).T
    n = n[np.any(n != 0, axis=1)]
    return float(np.linalg.norm(n @ np.asarray(cell, dtype=np.float64), axis=1).min())


class Predictor:
    """A loaded bundle: validates configurations and predicts per-particle outputs."""

    def __init__(self, bundle: Mapping[str, Any], path: str | os.PathLike[str] | None = None, device: str = "cpu") -> None:
        from taulc.models.io import model_from_payload  # noqa: PLC0415 - lazy: models.io loads Lightning and torch

        self.bundle = dict(bundle)
        self.path = Path(path) if path is not None else None
        try:
            self.model = model_from_payload(bundle["model"]).to(device).eval()
        except Exception as exc:  # a mismatched state_dict, unknown class ...
            raise BundleError(f"{self.path or '<bundle>'}: cannot rebuild the model ({type(exc).__name__}: {exc})") from exc
        self.device = torch.device(device)
        inp = bundle["inputs"]
        self.kind: str = inp["kind"]
        self.descriptor: dict[str, Any] | None = inp.get("descriptor")
        self.feature_names: list[str] | None = inp.get("feature_names")
        self.graph_radius: float | None = inp.get("graph_radius")
        self.cutoff: float = float(inp["cutoff"])
        sp = bundle["species"]
        # Kob-Andersen's A/B, a/b and LAMMPS 1/2 are known to every bundle; the bundle's own entries win
        self.species_map: dict[Any, int] = {**DEFAULT_SPECIES_MAP, **{k: int(v) for k, v in sp["map"]}}
        self.symbols: list[str] = list(sp.get("symbols") or ["Ni", "P"])
        sig = dict(sp.get("sigma") or DEFAULT_SIGMA)
        self.sigma = np.array([[sig["bb"], sig["bs"]], [sig["bs"], sig["ss"]]], dtype=float)
        self.target: str = bundle["outputs"]["target"]
        self.display: dict[str, Any] = dict(bundle["outputs"].get("display") or {})
        self._names_checked = self.feature_names is None
        self.domain = Domain.from_bundle(bundle, self.scaler())
        self.strict = False
        #: how to make the inherent-state / cage-averaged positions the descriptors read (None: snapshot only;
        #: :mod:`taulc.predict.positions`), and the temperature for its MD (None: from the file, else training)
        self.positions_recipe: dict[str, Any] | None = inp.get("positions")
        self.temperature: float | None = None

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str = "cpu") -> Predictor:
        """Load ``predictor.pt`` (or a run directory holding it); refuses incompatible versions."""
        p = Path(path)
        p = Run(p).predictor_path if p.is_dir() else p
        return cls(read_bundle(p), p, device)

    @property
    def model_name(self) -> str:
        return type(self.model).__name__

    @property
    def training(self) -> dict[str, Any]:
        """Training metadata stored in the bundle (dataset, metrics, versions, config)."""
        return dict(self.bundle.get("training") or {})

    def scaler(self) -> dict[str, np.ndarray]:
        """Feature standardisation the model declares (``feature_scaler()``): ``mean`` and ``scale`` (empty when
        it keeps none, e.g. a species-only GNN)."""
        sc = self.model.feature_scaler()
        if sc is None:
            return {}
        return {"mean": sc[0].detach().cpu().numpy(), "scale": sc[1].detach().cpu().numpy()}

    @property
    def outputs_declared(self) -> tuple[Output, ...]:
        """The model's declared per-particle outputs (:mod:`taulc.models.outputs`)."""
        return self.model.outputs(self.target)

    @property
    def score_output(self) -> Output:
        """The output shown in hardness maps (the model's declaration)."""
        return self.model.score_output(self.target)

    @property
    def score_name(self) -> str:
        """Name of :attr:`score_output`."""
        return self.score_output.name

    @property
    def output_names(self) -> tuple[str, ...]:
        """Per-particle arrays :meth:`outputs` returns (the model's declaration)."""
        return self.model.output_names(self.target)

    # --------------------------------------------------------------- validation
    def check_frame(
        self,
        positions: np.ndarray,
        species: np.ndarray,
        cell: np.ndarray,
        source: str = "<arrays>",
        frame: int = 0,
        *,
        allow_small_cell: bool = False,
    ) -> None:
        """Raise :class:`InputError` if the frame is unusable (small cell, non-finite or overlapping particles)."""
        where = f"{source} (frame {frame})"
        pos = np.asarray(positions, dtype=np.float64)
        if not np.all(np.isfinite(pos)):
            raise InputError(f"{where}: positions contain NaN or inf")
        if not np.all(np.isfinite(cell)):
            raise InputError(f"{where}: cell contains NaN or inf")
        shortest = shortest_translation(cell)
        if not allow_small_cell and shortest < 2.0 * self.cutoff:
            raise InputError(
                f"{where}: cell too small: shortest periodic translation {shortest:.4g} must be >= "
                f"2 x cut-off = {2 * self.cutoff:g} (the descriptors/graph of this predictor reach {self.cutoff:g}, "
                "so a neighbour would be counted through two periodic images); use a larger configuration "
                "(or allow_small_cell / --allow-small-cell to accept repeated images)"
            )
        found = find_overlaps(pos, species, cell, self.sigma)
        if found[0]:
            raise InputError(overlap_message(where, found))

    def read_frame(self, atoms: Any, source: str = "<atoms>", frame: int = 0) -> Frame:
        """Validated :class:`~taulc.data.ingest.Frame` of an ASE ``Atoms`` (shear frame, species, ids, origin)."""
        where = f"{source} (frame {frame})"
        cell = np.asarray(atoms.cell.array, dtype=np.float64)
        if not np.all(np.isfinite(cell)) or abs(np.linalg.det(cell)) < 1e-12:
            raise InputError(
                f"{where}: no cell: the file defines no (or a degenerate) periodic box "
                "(extxyz needs Lattice=..., LAMMPS dumps/data files their box bounds)"
            )
        # species come from a 'species' column, labels, the LAMMPS 'type' array or the element (taulc.data.ingest)
        if not {"species", "type", "label"} & set(atoms.arrays) and len(atoms) and not np.any(atoms.numbers):
            raise InputError(f"{where}: missing species: no 'species' column, element symbols or LAMMPS types")
        try:
            return read_frame(atoms, Path(source), frame, self.species_map)
        except InputError as exc:
            if "species map" in str(exc):
                known = sorted(map(str, self.species_map))
                raise InputError(f"{exc}. This predictor knows {known}") from None
            raise

    def arrays_from_atoms(self, atoms: Any, source: str = "<atoms>", frame: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Validated (positions wrapped from origin 0, species, cell) of an ASE ``Atoms``."""
        f = self.read_frame(atoms, source, frame)
        return f.positions, f.species, f.cell

    def iter_atoms(self, path: str | os.PathLike[str], fmt: str | None = None) -> Iterator[Any]:
        """Stream ASE frames of a file (bounded memory), with clear errors for unreadable input."""
        path = Path(path)
        try:
            yield from iter_frames(path, fmt)
        except InputError as exc:
            if "Cannot determine atom types" in str(exc):
                raise InputError(f"{path}: missing species: the LAMMPS dump has no 'type' or 'element' column") from None
            raise

    # --------------------------------------------------------------- prediction
    def _features(
        self,
        pos: np.ndarray,
        sp: np.ndarray,
        cell: np.ndarray,
        frame_in: Frame | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> np.ndarray:
        """Descriptor matrix (N, F) float32, built exactly as for training (:mod:`taulc.data.inputs`).

        A bundle whose descriptors read the inherent-state or cage-averaged positions first makes them
        with LAMMPS (:mod:`taulc.predict.positions`) at the sample's temperature (``self.temperature``,
        else what ``info`` / ``frame_in`` record, else the training temperature).
        """

        sets = None
        if self.positions_recipe:
            kin = (
                kinetic_temperature(frame_in.velocities, frame_in.positions)
                if frame_in is not None and frame_in.velocities is not None
                else None
            )
            t, how = sample_temperature(self.positions_recipe, flag=self.temperature, info=info, kinetic=kin)
            log.info("positions of the cage (%s) at T = %.4g from %s", "+".join(self.positions_recipe["sets"]), t, how)
            sets = cage_position_sets(self.positions_recipe, pos, sp, cell, t)
        x, names = descriptor_matrix(pos, sp, cell, self.descriptor, position_sets=sets)
        if not self._names_checked:
            got = [str(n) for n in names]
            if got != self.feature_names:
                raise BundleError(
                    f"{self.path or '<bundle>'}: this taulc computes {len(got)} descriptor columns that differ from the "
                    f"{len(self.feature_names or [])} the model was trained on; re-export the bundle with this taulc"
                )
            self._names_checked = True
        return x

    def model_inputs(self, positions: np.ndarray, species: np.ndarray, cell: np.ndarray) -> dict[str, Any]:
        """What the model is fed for validated arrays (its input kind's ``serving_inputs``): ``x`` (descriptors,
        if the bundle uses them) and, for a graph model, ``graph``; identical to the training datamodules'
        inputs (tests/test_data_inputs.py)."""
        x = self._features(positions, species, cell) if self.descriptor is not None else None
        return self.model.inputs.serving_inputs(self.model, positions, species, cell, x, self.graph_radius)

    @torch.no_grad()
    def outputs(
        self, positions: np.ndarray, species: np.ndarray, cell: np.ndarray, x: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """Per-particle outputs of already validated arrays (no checks); ``x``: descriptors if already computed."""
        if x is None and self.descriptor is not None:
            x = self._features(positions, species, cell)
        return self.model.predict_particles(positions, species, cell, x, target=self.target, graph_radius=self.graph_radius)

    def predict_arrays(
        self,
        positions: np.ndarray,
        species: np.ndarray,
        cell: np.ndarray,
        *,
        source: str = "<arrays>",
        frame: int = 0,
        allow_small_cell: bool = False,
        info: Mapping[str, Any] | None = None,
        frame_in: Frame | None = None,
    ) -> Prediction:
        """Check and predict one configuration given as arrays (docs/CONTRACTS.md conventions).

        The result carries its distance from the training domain (:class:`~taulc.predict.domain.Domain`);
        each finding is logged as a warning, or raised as :class:`InputError` when ``self.strict`` is set.
        """

        try:
            pos, c, sp = validate_system(positions, cell, species)
        except ValueError as exc:
            raise InputError(f"{source} (frame {frame}): {exc}") from None
        assert sp is not None
        pos = wrap_positions(pos, c)
        self.check_frame(pos, sp, c, source, frame, allow_small_cell=allow_small_cell)
        x = self._features(pos, sp, c, frame_in, info) if self.descriptor is not None else None
        values = self.outputs(pos, sp, c, x)
        info = dict(info or {})
        temperature = recorded = None
        if frame_in is not None and frame_in.velocities is not None:
            temperature = kinetic_temperature(frame_in.velocities, frame_in.positions)
        if frame_in is not None:
            recorded = frame_in.recorded_temperature
        rate = frame_in.rate if frame_in is not None else info.get("rate")
        dom, warnings = self.domain.assess(
            sp, c, x, values, temperature=temperature, rate=rate, recorded_temperature=recorded, positions=pos
        )
        where = f"{source} (frame {frame})"
        for w in warnings:
            if self.strict:
                raise InputError(f"{where}: outside the training domain (--strict): {w}")
            log.warning("%s: %s", where, w)
        return Prediction(source, frame, pos, sp, c, values, info, frame_in, dom, self.outputs_declared)

    def predict_atoms(
        self, atoms: Any, source: str | None = None, frame: int = 0, *, allow_small_cell: bool = False
    ) -> Prediction:
        """Check and predict one ASE ``Atoms``."""
        source = source or str(atoms.info.get("source_file", "<atoms>"))
        fr = self.read_frame(atoms, source, frame)
        return self.predict_arrays(
            fr.positions,
            fr.species,
            fr.cell,
            source=source,
            frame=frame,
            allow_small_cell=allow_small_cell,
            info=fr.info,
            frame_in=fr,
        )

    def iter_predict(
        self, path: str | os.PathLike[str], *, fmt: str | None = None, allow_small_cell: bool = False
    ) -> Iterator[Prediction]:
        """Predict every frame of a file, one at a time (bounded memory for long trajectories)."""
        for k, atoms in enumerate(self.iter_atoms(path, fmt)):
            yield self.predict_atoms(atoms, str(path), k, allow_small_cell=allow_small_cell)

    def predict(
        self, atoms_or_path: Any, *, fmt: str | None = None, allow_small_cell: bool = False
    ) -> Prediction | list[Prediction]:
        """``Atoms`` -> one :class:`Prediction`; a file path -> a list, one per frame (see :meth:`iter_predict`)."""
        if isinstance(atoms_or_path, (str, os.PathLike)):
            return list(self.iter_predict(atoms_or_path, fmt=fmt, allow_small_cell=allow_small_cell))
        return self.predict_atoms(atoms_or_path, allow_small_cell=allow_small_cell)
