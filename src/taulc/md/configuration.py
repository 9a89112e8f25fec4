"""Particle configurations and their on-disk form (extended XYZ).

A :class:`Configuration` is one microscopic state of the binary LJ mixture
(Yu, Zeng & Wang 2025, Sec. II.A): Cartesian positions wrapped into an
upper-triangular, possibly tilted (Lees-Edwards) periodic cell, species,
peculiar velocities and metadata.  Conventions follow ``docs/CONTRACTS.md``:
cell rows ``a=(Lx,0,0)``, ``b=(xy,Ly,0)``, ``c=(0,0,Lz)``, origin at 0,
species 0 = big, 1 = small.

Files are extended XYZ readable by ASE and OVITO.  taulc writes them itself
(``%.17g``, i.e. round-trip exact) because ASE's writer truncates to 8
decimals; they are read back with :func:`ase.io.read`, so a file written and
read gives bit-identical positions and velocities.  Writes are atomic.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from taulc.errors import TaulcError
from taulc.fileio import atomic_write_text, jsonable

log = logging.getLogger(__name__)

#: Chemical symbols used for the two species in extxyz files.  The
#: Kob-Andersen mixture was modelled on Ni80P20, so big = Ni, small = P.
DEFAULT_SYMBOLS: tuple[str, str] = ("Ni", "P")

FORMAT_VERSION = 1


class ConfigurationError(TaulcError, ValueError):
    """A configuration (in memory or on disk) is malformed."""


@dataclass
class Configuration:
    """One state of the system (see ``docs/CONTRACTS.md``).

    Attributes:
        positions: ``(N, 3)`` float64 Cartesian, wrapped into ``cell``, origin 0,
            ordered by LAMMPS atom id.
        species: ``(N,)`` int64 in {0 (big), 1 (small)}.
        cell: ``(3, 3)`` float64, rows are lattice vectors (upper-triangular).
        velocities: ``(N, 3)`` peculiar velocities (streaming ``u_x = γ̇ y``
            removed) or ``None``.
        meta: system, T, rho, rate, protocol, strain, time, seeds, engine version.
    """

    positions: np.ndarray
    species: np.ndarray
    cell: np.ndarray
    velocities: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.positions = np.ascontiguousarray(self.positions, dtype=np.float64)
        self.species = np.ascontiguousarray(self.species, dtype=np.int64)
        self.cell = np.ascontiguousarray(self.cell, dtype=np.float64)
        if self.velocities is not None:
            self.velocities = np.ascontiguousarray(self.velocities, dtype=np.float64)
        self.validate()

    # ------------------------------------------------------------------ checks
    def validate(self, source: str = "configuration") -> None:
        """Raise :class:`ConfigurationError` naming the offending field."""
        n = self.positions.shape[0] if self.positions.ndim == 2 else -1
        if self.positions.ndim != 2 or self.positions.shape[1] != 3:
            raise ConfigurationError(f"{source}: field 'positions' must have shape (N, 3), got {self.positions.shape}")
        if self.species.shape != (n,):
            raise ConfigurationError(f"{source}: field 'species' must have shape ({n},), got {self.species.shape}")
        bad = ~np.isin(self.species, (0, 1))
        if bad.any():
            raise ConfigurationError(
                f"{source}: field 'species' must be 0 (big) or 1 (small); found {sorted(set(self.species[bad].tolist()))[:5]}"
            )
        if self.cell.shape != (3, 3):
            raise ConfigurationError(f"{source}: field 'cell' must be a (3, 3) matrix, got {self.cell.shape}")
        c = self.cell
        if not (c[0, 1] == 0 and c[0, 2] == 0 and c[1, 2] == 0):
            raise ConfigurationError(
                f"{source}: field 'cell' must be upper-triangular with rows a=(Lx,0,0), b=(xy,Ly,0), c=(xz,yz,Lz); got\n{c}"
            )
        if not (c[0, 0] > 0 and c[1, 1] > 0 and c[2, 2] > 0):
            raise ConfigurationError(f"{source}: field 'cell' needs positive Lx, Ly, Lz; got {np.diag(c)}")
        if not np.isfinite(self.positions).all():
            raise ConfigurationError(f"{source}: field 'positions' has non-finite values")
        if self.velocities is not None and self.velocities.shape != (n, 3):
            raise ConfigurationError(f"{source}: field 'velocities' must have shape ({n}, 3), got {self.velocities.shape}")

    # --------------------------------------------------------------- geometry
    @property
    def n_atoms(self) -> int:
        return int(self.positions.shape[0])

    @property
    def volume(self) -> float:
        return float(abs(np.linalg.det(self.cell)))

    @property
    def density(self) -> float:
        return self.n_atoms / self.volume

    @property
    def tilt(self) -> float:
        """xy tilt factor of the cell."""
        return float(self.cell[1, 0])

    def wrapped_positions(self) -> np.ndarray:
        """Positions wrapped into the cell in fractional coordinates."""
        frac = np.linalg.solve(self.cell.T, self.positions.T).T
        frac -= np.floor(frac)
        return frac @ self.cell

    def copy(self) -> Configuration:
        return Configuration(
            self.positions.copy(),
            self.species.copy(),
            self.cell.copy(),
            None if self.velocities is None else self.velocities.copy(),
            jsonable(self.meta),
        )


# --------------------------------------------------------------------- disk I/O
def _fmt(x: float) -> str:
    return repr(float(x))


def write_configuration(path: str | os.PathLike, conf: Configuration, symbols: tuple[str, str] | None = None) -> Path:
    """Write ``conf`` to ``path`` as extended XYZ, atomically (temp file + rename).

    Positions, velocities and the cell are written with 17 significant digits
    so :func:`read_configuration` returns bit-identical arrays.  ``meta`` is
    stored as one JSON string (``taulc_meta``) in the comment line.
    """
    conf.validate(str(path))
    path = Path(path)
    symbols = tuple(symbols or conf.meta.get("symbols") or DEFAULT_SYMBOLS)  # type: ignore[assignment]
    if len(symbols) != 2 or symbols[0] == symbols[1]:
        raise ConfigurationError(f"{path}: need two distinct species symbols, got {symbols}")
    meta = dict(conf.meta)
    meta["symbols"] = list(symbols)
    meta["format_version"] = FORMAT_VERSION
    lattice = " ".join(_fmt(v) for v in conf.cell.reshape(-1))
    props = "species:S:1:pos:R:3"
    if conf.velocities is not None:
        props += ":velo:R:3"
    meta_json = json.dumps(jsonable(meta), sort_keys=True)
    # extxyz strings: double-quoted, backslash-escaped
    meta_str = meta_json.replace("\\", "\\\\").replace('"', '\\"')
    header = f'Lattice="{lattice}" Properties={props} pbc="T T T" taulc_meta="{meta_str}"'
    sym = np.asarray(symbols, dtype=object)[conf.species]
    cols = [conf.positions]
    if conf.velocities is not None:
        cols.append(conf.velocities)
    data = np.concatenate(cols, axis=1)
    body = "\n".join(s + " " + " ".join(map(repr, row)) for s, row in zip(sym, data.tolist()))
    text = f"{conf.n_atoms}\n{header}\n{body}\n"
    atomic_write_text(path, text)
    log.debug("wrote %s (%d atoms)", path, conf.n_atoms)
    return path


def read_configuration(path: str | os.PathLike, symbols: tuple[str, str] | None = None, index: int = -1) -> Configuration:
    """Read an extended XYZ file (taulc's or any ASE-readable one) into a Configuration.

    Species are mapped from chemical symbols (``symbols[0]`` -> 0 = big,
    ``symbols[1]`` -> 1 = small; default: those recorded in the file, else
    ``("Ni", "P")``).  The cell must be a periodic, upper-triangular cell; a
    cell with its origin elsewhere is not supported.

    Raises:
        ConfigurationError: missing cell, unknown species, bad shapes.
    """
    from ase.io import read

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"configuration file not found: {path}")
    try:
        atoms = read(path, index=index, format="extxyz")
    except Exception as exc:  # re-raise with the file name
        raise ConfigurationError(f"{path}: not a readable extended XYZ file ({exc})") from exc
    meta_raw = atoms.info.get("taulc_meta")
    meta: dict[str, Any] = {}
    if meta_raw is not None:
        if isinstance(meta_raw, dict):
            meta = meta_raw
        else:
            try:
                meta = json.loads(meta_raw)
            except json.JSONDecodeError as exc:
                raise ConfigurationError(f"{path}: field 'taulc_meta' is not valid JSON") from exc
    if not atoms.pbc.all() or atoms.cell.rank != 3:
        raise ConfigurationError(
            f"{path}: field 'Lattice' (the periodic cell) is missing or not 3-D periodic; taulc needs a full periodic cell"
        )
    cell = np.array(atoms.cell[:], dtype=np.float64)
    if not (cell[0, 1] == 0 and cell[0, 2] == 0 and cell[1, 2] == 0):
        raise ConfigurationError(f"{path}: field 'Lattice' must be upper-triangular (a=(Lx,0,0), b=(xy,Ly,0)); got\n{cell}")
    syms = tuple(symbols or meta.get("symbols") or DEFAULT_SYMBOLS)
    file_syms = np.asarray(atoms.get_chemical_symbols())
    species = np.full(len(atoms), -1, dtype=np.int64)
    species[file_syms == syms[0]] = 0
    species[file_syms == syms[1]] = 1
    if (species < 0).any():
        unknown = sorted(set(file_syms[species < 0].tolist()))
        raise ConfigurationError(
            f"{path}: field 'species' has unknown symbols {unknown}; expected {syms[0]!r} (big) and {syms[1]!r} (small)"
        )
    vel = atoms.arrays.get("velo")
    if vel is None and "momenta" in atoms.arrays:
        vel = atoms.get_velocities()
    meta.pop("format_version", None)
    conf = Configuration(
        positions=np.array(atoms.positions, dtype=np.float64),
        species=species,
        cell=cell,
        velocities=None if vel is None else np.array(vel, dtype=np.float64),
        meta=meta,
    )
    conf.validate(str(path))
    return conf
