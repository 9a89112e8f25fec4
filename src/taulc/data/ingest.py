"""Bring your own configurations: read anything ASE reads into taulc configurations.

Supported and tested: LAMMPS text dumps (``lammps-dump-text``), LAMMPS data
files (``lammps-data``) and extended XYZ (``extxyz``); other ASE formats work
when they carry a periodic cell.  Geometry must already be in the shear frame
(x flow, y gradient, z vorticity) with an upper-triangular cell (xy tilt
only), which is what LAMMPS writes.

Species: a per-atom ``species`` array (as taulc's own extxyz files carry) is
used as is; otherwise atomic numbers, which ASE sets to the LAMMPS atom type
for dumps without an element column, go through ``species_map`` (default
``{1: 0, 2: 1, "Ni": 0, "P": 1}``: LAMMPS type 1 = big, type 2 = small;
taulc's extxyz files name big "Ni" and small "P", after Ni80P20).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_SPECIES_MAP: dict[Any, int] = {1: 0, 2: 1, "Ni": 0, "P": 1}


class InputError(ValueError):
    """A user-supplied configuration file is unusable; the message names the file and the problem."""


def _guess_format(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith((".xyz", ".extxyz")):
        return "extxyz"
    if "dump" in name or name.endswith((".lammpstrj", ".lammpsdump")):
        return "lammps-dump-text"
    if name.endswith((".data", ".lmp")) or name.startswith("data."):
        return "lammps-data"
    return None


def _species_from_atoms(atoms: Any, path: Path, frame: int, species_map: Mapping[Any, int]) -> np.ndarray:
    if "species" in atoms.arrays:
        sp = np.asarray(atoms.arrays["species"]).astype(np.int64)
    else:
        # LAMMPS files carry the atom type; ASE keeps it as a per-atom 'type' array (data files in
        # LJ units otherwise come back as element X) and as the atomic number of dumps.
        keys = np.asarray(atoms.arrays["type"]) if "type" in atoms.arrays else atoms.get_atomic_numbers()
        lut = {int(k) if str(k).isdigit() else k: int(v) for k, v in species_map.items()}
        symbols = atoms.get_chemical_symbols()
        sp = np.empty(len(atoms), dtype=np.int64)
        unknown: set[Any] = set()
        for val in np.unique(keys):
            sel = keys == val
            if int(val) in lut:
                sp[sel] = lut[int(val)]
            elif symbols[int(np.argmax(sel))] in lut:
                sp[sel] = lut[symbols[int(np.argmax(sel))]]
            else:
                unknown.add(int(val))
        if unknown:
            raise InputError(
                f"{path} (frame {frame}): atom type(s)/atomic number(s) {sorted(unknown)} are not in the species map "
                f"{dict(species_map)}; pass dataset.species_map (type -> 0 big / 1 small)"
            )
    bad = set(np.unique(sp).tolist()) - {0, 1}
    if bad:
        raise InputError(f"{path} (frame {frame}): field 'species' has value(s) {sorted(bad)}; expected 0 (big) or 1 (small)")
    return sp


def atoms_to_arrays(atoms: Any, path: Path, frame: int, species_map: Mapping[Any, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate one ASE frame and return (positions wrapped into the cell from origin 0, species, cell)."""
    if len(atoms) == 0:
        raise InputError(f"{path} (frame {frame}): no atoms")
    if not np.all(atoms.pbc):
        raise InputError(f"{path} (frame {frame}): cell is not periodic in all three directions (pbc={atoms.pbc.tolist()})")
    cell = np.asarray(atoms.cell.array, dtype=np.float64)
    if abs(np.linalg.det(cell)) < 1e-12:
        raise InputError(f"{path} (frame {frame}): no cell (field 'cell' / 'Lattice' is missing or degenerate)")
    if abs(cell[0, 1]) > 1e-9 * abs(cell[0, 0]) or abs(cell[0, 2]) > 1e-9 * abs(cell[0, 0]) or abs(cell[1, 2]) > 1e-9 * abs(cell[1, 1]):
        raise InputError(
            f"{path} (frame {frame}): cell {cell.tolist()} is not in the shear frame; expected rows "
            "a=(Lx,0,0), b=(xy,Ly,0), c=(xz,yz,Lz) with x = flow, y = gradient"
        )
    pos = np.asarray(atoms.get_positions(), dtype=np.float64) - np.asarray(atoms.get_celldisp()).reshape(3)
    if not np.all(np.isfinite(pos)):
        raise InputError(f"{path} (frame {frame}): positions contain NaN or inf")
    frac = np.linalg.solve(cell.T, pos.T).T
    frac -= np.floor(frac)
    pos = frac @ cell
    return pos, _species_from_atoms(atoms, path, frame, species_map), cell


def check_dump_complete(path: Path) -> int:
    """Verify every frame of a LAMMPS text dump has as many atom lines as its header says.

    ASE reads a cut-off dump silently (fewer atoms), so truncation is checked
    here.  Returns the number of frames.
    """
    frames, expect, have, state = 0, None, 0, None
    with open(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if line.startswith("ITEM:"):
                if state == "atoms" and have != expect:
                    raise InputError(f"{path}: frame {frames - 1} has {have} atom lines, header says {expect} (line {lineno}); the file is truncated or corrupt")
                item = line[5:].strip()
                state = "natoms" if item.startswith("NUMBER OF ATOMS") else "atoms" if item.startswith("ATOMS") else "other"
                if state == "atoms":
                    frames += 1
                    have = 0
                continue
            if state == "natoms":
                try:
                    expect = int(line.split()[0])
                except (ValueError, IndexError):
                    raise InputError(f"{path}: line {lineno}: 'NUMBER OF ATOMS' is not an integer") from None
                state = "other"
            elif state == "atoms" and line.strip():
                have += 1
    if state == "atoms" and have != expect:
        raise InputError(f"{path}: last frame has {have} atom lines, header says {expect}; the file is truncated")
    if frames == 0:
        raise InputError(f"{path}: no 'ITEM: ATOMS' section; not a LAMMPS text dump or truncated")
    return frames


def iter_frames(path: str | Path, fmt: str | None = None, index: str | int = ":") -> Iterator[Any]:
    """Stream ASE Atoms frames from a file, with errors that name the file."""
    import ase.io  # noqa: PLC0415

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    fmt = fmt or _guess_format(path)
    if fmt == "lammps-dump-text":
        check_dump_complete(path)
    kwargs: dict[str, Any] = {}
    if fmt == "lammps-data":
        kwargs["style"] = "atomic"
        index = 0 if index == ":" else index
    try:
        it = ase.io.iread(path, index=index, format=fmt, **kwargs) if index == ":" else [ase.io.read(path, index=index, format=fmt, **kwargs)]
        for atoms in it:
            yield atoms
    except InputError:
        raise
    except Exception as exc:  # ASE raises many types for malformed input
        raise InputError(f"{path}: cannot read as {fmt or 'auto-detected format'} ({type(exc).__name__}: {exc}); the file may be truncated") from exc


def read_configurations(
    files: Sequence[str | Path],
    species_map: Mapping[Any, int] | None = None,
    rate: float | None = None,
    fmt: str | None = None,
) -> list[Any]:
    """Read every frame of every file into :class:`taulc.md.configuration.Configuration` objects.

    ``rate`` (the shear rate of the steady state the frames come from) is taken
    from each frame's metadata when present (taulc's extxyz files record it),
    else from this argument.  Reading is all-or-nothing: a bad frame raises.
    """
    from taulc.md.configuration import Configuration  # noqa: PLC0415

    if isinstance(files, (str, Path)):
        files = [files]
    smap = dict(species_map) if species_map else DEFAULT_SPECIES_MAP
    out = []
    for f in files:
        path = Path(f)
        for k, atoms in enumerate(iter_frames(path, fmt)):
            pos, sp, cell = atoms_to_arrays(atoms, path, k, smap)
            meta = {key: val for key, val in atoms.info.items() if isinstance(val, (int, float, str, bool))}
            r = meta.get("rate", rate)
            if r is None:
                raise InputError(f"{path} (frame {k}): no shear rate in the file; set dataset.rate")
            if float(r) < 0:
                raise InputError(f"{path} (frame {k}): field 'rate' is {r}; expected >= 0")
            meta.update({"rate": float(r), "source_file": str(path), "source_frame": k})
            out.append(Configuration(positions=pos, species=sp, cell=cell, velocities=None, meta=meta))
    if not out:
        raise InputError(f"no frames found in {list(map(str, files))}")
    log.info("read %d configuration(s) from %d file(s)", len(out), len(files))
    return out
