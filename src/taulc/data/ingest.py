"""Bring your own configurations: other codes' files as taulc configurations in the shear frame.

File formats are read by :mod:`taulc.data.formats` (LAMMPS dumps and data files, extxyz / xyz
with any species labels, HOOMD gsd).  This module gives the frames their meaning:
Frames: the cell must be periodic; a LAMMPS-style cell (rows a = (Lx,0,0),
b = (xy,Ly,0), c = (xz,yz,Lz)) tilted in *one* plane is accepted: xy as is
(x flow, y gradient, z vorticity), xz and yz rotated into the xy frame
(:func:`to_shear_frame`; two tilts are ambiguous and refused).  A negative
shear rate (frame metadata ``rate``) is mirrored x -> -x, which maps the flow
u_x = γ̇ y onto u_x = -γ̇ y.

Species: a per-atom ``species`` array (taulc's own extxyz) is used as is;
otherwise labels (plain xyz / gsd type names), LAMMPS types or element symbols
go through ``species_map`` on top of :data:`DEFAULT_SPECIES_MAP` (LAMMPS type 1 =
big, type 2 = small; Kob-Andersen's A/B and a/b; taulc's extxyz names big "Ni" and
small "P", after Ni80P20); the map used is logged once per file.  Unknown labels
are refused with the labels found and the option that maps them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from taulc.data.formats import InputError, iter_frames
from taulc.data.storage import sha256_file
from taulc.md.configuration import Configuration

log = logging.getLogger(__name__)

DEFAULT_SPECIES_MAP: dict[Any, int] = {1: 0, 2: 1, "A": 0, "B": 1, "a": 0, "b": 1, "Ni": 0, "P": 1}
"""Type names recognised without a map: LAMMPS types 1/2, Kob-Andersen's A/B (HOOMD, RUMD, atooms, gamdpy) and
a/b, and taulc's own Ni/P symbols (0 = big, 1 = small).  A map given by the user or a bundle is applied on top."""
TILT_TOL = 1e-9
"""Relative size below which a cell tilt counts as zero."""
_NAMES = ("big", "small")


# ----------------------------------------------------------------------------- species
def _key(v: Any) -> Any:
    s = str(v)
    return int(s) if s.lstrip("-").isdigit() else s


def _lookup(
    keys: np.ndarray, lut: Mapping[Any, int], symbols: np.ndarray | None
) -> tuple[np.ndarray, dict[Any, int], dict[Any, tuple[int, int]]]:
    """Species of every particle from its label (vectorised over unique labels): (species, unknown, used map)."""
    uniq, inv = np.unique(keys, return_inverse=True)
    counts = np.bincount(inv, minlength=len(uniq))
    sp_u = np.full(len(uniq), -1, dtype=np.int64)
    unknown: dict[Any, int] = {}
    used: dict[Any, tuple[int, int]] = {}
    for j, val in enumerate(uniq):
        k = _key(val)
        if k in lut:
            sp_u[j] = lut[k]
        elif symbols is not None and symbols[int(np.argmax(inv == j))] in lut:
            k = symbols[int(np.argmax(inv == j))]
            sp_u[j] = lut[k]
        else:
            unknown[k] = int(counts[j])
            continue
        used[k] = (int(sp_u[j]), int(counts[j]))
    return sp_u[inv.reshape(-1)], unknown, used


def _species_from_atoms(atoms: Any, path: Path, frame: int, species_map: Mapping[Any, int]) -> np.ndarray:
    if "species" in atoms.arrays and np.asarray(atoms.arrays["species"]).dtype.kind in "iu":
        sp = np.asarray(atoms.arrays["species"]).astype(np.int64)
    else:
        lut = {_key(k): int(v) for k, v in species_map.items()}
        candidates: list[tuple[str, np.ndarray, np.ndarray | None]] = []
        if "label" in atoms.arrays:
            candidates.append(("species label(s)", np.asarray(atoms.arrays["label"]).astype(str), None))
        # LAMMPS files carry the atom type; ASE keeps it as a per-atom 'type' array (data files in
        # LJ units otherwise come back as element X) and as the atomic number of dumps.
        if "type" in atoms.arrays or "label" not in atoms.arrays:
            keys = np.asarray(atoms.arrays["type"]) if "type" in atoms.arrays else atoms.get_atomic_numbers()
            candidates.append(("atom type(s)/atomic number(s)", keys, np.asarray(atoms.get_chemical_symbols())))
        results = []
        for what, keys, symbols in candidates:
            results.append((what, *_lookup(keys, lut, symbols)))
            if not results[-1][2]:
                break
        what, sp, unknown, used = results[-1]
        if unknown:  # report the first source of names (an 'element' column before the LAMMPS types)
            what, _, unknown, _ = results[0]
            found = ", ".join(f"{key!r}: {n} particles" for key, n in unknown.items())
            raise InputError(
                f"{path} (frame {frame}): {what} {sorted(unknown, key=str)} are not in the species map "
                f"{dict(species_map)} (found {found}); map them to 0 (big) / 1 (small): "
                "taulc-predict --species-map LABEL=0,LABEL=1 or dataset.species_map"
            )
        if frame == 0:
            text = ", ".join(f"{key} -> {s} ({_NAMES[s] if s in (0, 1) else '?'}, {n} particles)" for key, (s, n) in used.items())
            src = "type names" if what.startswith("species") else "atom types"
            log.info("%s: species map %s (from the %s; --species-map / dataset.species_map to change)", path, text, src)
    bad = set(np.unique(sp).tolist()) - {0, 1}
    if bad:
        raise InputError(f"{path} (frame {frame}): field 'species' has value(s) {sorted(bad)}; expected 0 (big) or 1 (small)")
    return sp


# ----------------------------------------------------------------------------- frame geometry
ROTATIONS = {
    "xz->xy": np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]]),  # (x, y, z) -> (x, z, -y)
    "yz->xy": np.array([[0, 1.0, 0], [0, 0, 1.0], [1.0, 0, 0]]),  # (x, y, z) -> (y, z, x)
}
"""Proper rotations that bring a cell tilted in xz / yz into the xy shear frame (applied as ``v @ R.T``)."""


def to_shear_frame(pos: np.ndarray, cell: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Rotate a cell tilted in the xz or yz plane into taulc's xy shear frame.

    LAMMPS-style cells have rows a = (Lx,0,0), b = (xy,Ly,0), c = (xz,yz,Lz).  A single
    tilt fixes the shear plane: xy (flow x, gradient y) is kept; xz (flow x, gradient z)
    is rotated by (x, y, z) -> (x, z, -y); yz (flow y, gradient z) by (x, y, z) -> (y, z, x).
    Both are proper rotations, so the descriptors are those of the same configuration
    sheared in xy.  Returns (positions, upper-triangular cell, transform name).
    """
    xy, xz, yz = cell[1, 0], cell[2, 0], cell[2, 1]
    scale = np.abs(np.diag(cell)).max()
    tilted = [n for n, v in (("xy", xy), ("xz", xz), ("yz", yz)) if abs(v) > TILT_TOL * scale]
    if tilted in ([], ["xy"]):
        return pos, cell, ""
    if len(tilted) > 1:
        raise InputError(
            f"{where}: the cell is tilted in {' and '.join(tilted)} (xy={xy:g}, xz={xz:g}, yz={yz:g}); "
            "the shear plane is ambiguous. taulc needs simple shear in one plane (x flow, y gradient); "
            "rotate the configuration so that only the xy tilt is non-zero"
        )
    rot = ROTATIONS[f"{tilted[0]}->xy"]
    new_pos = pos @ rot.T
    a, b, c = cell @ rot.T
    if tilted[0] == "xz":
        new_cell = np.array([a, c, -b])  # (Lx,0,0), (xz,Lz,0), (0,0,Ly)
    else:
        new_cell = np.array([b, c, a])  # (Ly,0,0), (yz,Lz,0), (0,0,Lx)
    return new_pos, new_cell, f"{tilted[0]}->xy"


def mirror_x(pos: np.ndarray, cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x -> -x: maps the flow u_x = γ̇ y onto u_x = -γ̇ y (a negative rate onto a positive one)."""
    p = pos.copy()
    p[:, 0] *= -1.0
    c = cell.copy()
    c[:, 0] *= -1.0
    c[0] *= -1.0  # a = (-Lx,0,0) and (Lx,0,0) span the same lattice
    return p, c


@dataclass
class Frame:
    """One validated input frame in taulc's conventions plus what is needed to map results back.

    ``positions`` are wrapped into ``cell`` from origin 0, in the xy shear frame; ``input_positions``,
    ``input_cell`` and ``origin`` are as read (for outputs that join back to the input); ``ids`` are
    the file's particle ids (LAMMPS ``id``) or 1..N in file order; ``transform`` lists what was done
    (``xz->xy``, ``yz->xy``, ``mirror-x``); ``velocities`` are in the shear frame like ``positions``;
    ``atoms`` is the ASE ``Atoms`` as read (its :func:`~taulc.data.formats.source_of` record carries the
    file's own columns, header and timestep for outputs in the input's format).
    """

    positions: np.ndarray
    species: np.ndarray
    cell: np.ndarray
    input_positions: np.ndarray
    input_cell: np.ndarray
    origin: np.ndarray
    ids: np.ndarray
    velocities: np.ndarray | None = None
    rate: float | None = None
    transform: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    atoms: Any = None

    @property
    def recorded_temperature(self) -> tuple[float, str] | None:
        """(T, key) of a temperature the file records (:data:`TEMPERATURE_KEYS`), else None."""
        return recorded_temperature(self.info)


TEMPERATURE_KEYS = ("temperature", "Temperature", "T", "temp", "kT", "kinetic_temperature")
"""Frame info keys read as a recorded temperature (extxyz/xyz comment ``key=value``, taulc's ``taulc_meta``,
HOOMD ``log/.../kinetic_temperature``), first found wins."""


def recorded_temperature(info: Mapping[str, Any]) -> tuple[float, str] | None:
    """(T, key) of the first :data:`TEMPERATURE_KEYS` entry of ``info`` that is a finite number, else None."""
    for k in TEMPERATURE_KEYS:
        v = info.get(k)
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v):
            return float(v), k
    return None


def _frame_info(atoms: Any) -> dict[str, Any]:
    info = {
        k: (v.item() if isinstance(v, np.generic) else v)
        for k, v in atoms.info.items()
        if isinstance(v, (int, float, str, bool, np.integer, np.floating, np.bool_)) and k != "taulc_meta"
    }
    meta = atoms.info.get("taulc_meta")
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except json.JSONDecodeError:
            meta = None
    if isinstance(meta, dict):
        info.update({k: v for k, v in meta.items() if isinstance(v, (int, float, str, bool))})
    if "rate" not in info and "shear_rate" in info:
        info["rate"] = info["shear_rate"]
    return info


def read_frame(atoms: Any, path: Path, frame: int, species_map: Mapping[Any, int], rate: float | None = None) -> Frame:
    """Validate one ASE frame and bring it into taulc's frame (see :class:`Frame`)."""
    where = f"{path} (frame {frame})"
    if len(atoms) == 0:
        raise InputError(f"{where}: no atoms")
    if not np.all(atoms.pbc):
        raise InputError(f"{where}: cell is not periodic in all three directions (pbc={atoms.pbc.tolist()})")
    cell = np.asarray(atoms.cell.array, dtype=np.float64)
    if not np.all(np.isfinite(cell)) or abs(np.linalg.det(cell)) < 1e-12:
        raise InputError(f"{where}: no cell (field 'cell' / 'Lattice' is missing or degenerate)")
    if (
        abs(cell[0, 1]) > TILT_TOL * abs(cell[0, 0])
        or abs(cell[0, 2]) > TILT_TOL * abs(cell[0, 0])
        or abs(cell[1, 2]) > TILT_TOL * abs(cell[1, 1])
    ):
        raise InputError(
            f"{where}: cell {cell.tolist()} is not in the shear frame; expected rows "
            "a=(Lx,0,0), b=(xy,Ly,0), c=(xz,yz,Lz) with x = flow, y = gradient"
        )
    origin = np.asarray(atoms.get_celldisp(), dtype=np.float64).reshape(3)
    raw = np.asarray(atoms.get_positions(), dtype=np.float64)
    if not np.all(np.isfinite(raw)):
        raise InputError(f"{where}: positions contain NaN or inf")
    info = _frame_info(atoms)
    sp = _species_from_atoms(atoms, path, frame, species_map)
    pos, shear_cell, rot = to_shear_frame(raw - origin, cell, where)
    transform = [rot] if rot else []
    vel = atoms.arrays.get("lj_velocities")
    if vel is not None:
        vel = np.asarray(vel, dtype=np.float64)
        if not np.all(np.isfinite(vel)):
            raise InputError(f"{where}: velocities contain NaN or inf")
        if rot:
            vel = vel @ ROTATIONS[rot].T  # the same rotation as the positions: the shear profile stays u_x(y)
    r = info.get("rate", rate)
    r = None if r is None else float(r)
    if r is not None and r < 0:
        pos, shear_cell = mirror_x(pos, shear_cell)
        if vel is not None:
            vel = vel * np.array([-1.0, 1.0, 1.0])
        transform.append("mirror-x")
        r = -r
    frac = np.linalg.solve(shear_cell.T, pos.T).T
    frac -= np.floor(frac)
    ids = np.asarray(atoms.arrays["id"], dtype=np.int64) if "id" in atoms.arrays else np.arange(1, len(atoms) + 1)
    if "id" in atoms.arrays:
        uniq, counts = np.unique(ids, return_counts=True)
        if uniq.size < ids.size:
            dup = uniq[counts > 1]
            raise InputError(
                f"{where}: field 'id' has {int((counts[counts > 1] - 1).sum())} duplicate(s) (e.g. id {int(dup[0])} "
                f"appears {int(counts[counts > 1][0])} times); particle ids must be unique (two frames "
                "written into one, or a merge gone wrong)"
            )
    return Frame(frac @ shear_cell, sp, shear_cell, raw, cell, origin, ids, vel, r, transform, info, atoms)


def atoms_to_arrays(
    atoms: Any, path: Path, frame: int, species_map: Mapping[Any, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate one ASE frame and return (positions wrapped into the cell from origin 0, species, cell)."""
    f = read_frame(atoms, path, frame, species_map)
    return f.positions, f.species, f.cell


def kinetic_temperature(velocities: np.ndarray, positions: np.ndarray, mass: float = 1.0) -> float:
    """T = m <|v - u(y)|²> / 3 (k_B = 1) with the linear streaming profile u_x = γ̇ y fitted and removed."""
    v = np.asarray(velocities, dtype=np.float64)
    y = positions[:, 1] - positions[:, 1].mean()
    slope = float(np.dot(y, v[:, 0] - v[:, 0].mean()) / max(np.dot(y, y), 1e-300))
    pec = v - v.mean(axis=0)
    pec[:, 0] -= slope * y
    return float(mass * np.mean(np.sum(pec * pec, axis=1)) / 3.0)


def content_hashes(files: Sequence[str | Path]) -> list[dict[str, str]]:
    """``[{file, sha256}]`` of the input files (keys of the ingest caches: a replaced file is a new input)."""

    return [{"file": str(Path(f)), "sha256": sha256_file(f)} for f in files]


def read_configurations(
    files: Sequence[str | Path],
    species_map: Mapping[Any, int] | None = None,
    rate: float | None = None,
    fmt: str | None = None,
) -> list[Any]:
    """Read every frame of every file into :class:`taulc.md.configuration.Configuration` objects.

    ``rate`` (the shear rate of the steady state the frames come from) is taken
    from each frame's metadata when present (taulc's extxyz files record it),
    else from this argument.  Frames tilted in xz / yz are rotated into xy and
    negative rates mirrored (``meta['transform']``).  Reading is all-or-nothing:
    a bad frame raises.
    """

    if isinstance(files, (str, Path)):
        files = [files]
    smap = {**DEFAULT_SPECIES_MAP, **dict(species_map or {})}  # the user's entries win
    out = []
    for f in files:
        path = Path(f)
        for k, atoms in enumerate(iter_frames(path, fmt)):
            fr = read_frame(atoms, path, k, smap, rate)
            if fr.rate is None:
                raise InputError(f"{path} (frame {k}): no shear rate in the file; set dataset.rate")
            meta = dict(fr.info)
            meta.update({"rate": fr.rate, "source_file": str(path), "source_frame": k})
            if fr.transform:
                meta["transform"] = ",".join(fr.transform)
                log.info("%s (frame %d): %s", path, k, meta["transform"])
            out.append(Configuration(positions=fr.positions, species=fr.species, cell=fr.cell, velocities=None, meta=meta))
    if not out:
        raise InputError(f"no frames found in {list(map(str, files))}")
    log.info("read %d configuration(s) from %d file(s)", len(out), len(files))
    return out
