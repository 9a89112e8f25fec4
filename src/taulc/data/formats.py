"""Configuration file formats of other codes: detection, readers and "unsupported format" refusals.

Formats (``fmt``; by default from the file name, else sniffed from the content):

========================  =====================================================================
``lammps-dump-text``      LAMMPS text dumps, every frame, any column set with ``id``/``type`` or
                          ``element`` and ``x``/``xs``/``xu``/``xsu``; ids and file order are kept
``lammps-data``           LAMMPS data files (``atom_style atomic``), LJ units
``xyz`` / ``extxyz``      extended XYZ (ASE) and plain XYZ frames with arbitrary species labels
                          (``A``/``B``, ``0``/``1``, ...; RUMD ``boxLengths=``, atooms ``cell:``
                          or extxyz ``Lattice=`` boxes)
``gsd``                   HOOMD-blue GSD trajectories (the ``gsd`` package), every frame
========================  =====================================================================

Anything else (binary data, directories, unknown text) is refused with
"unsupported format".  Other ASE formats work when ``fmt`` names them and they
carry a periodic cell.  :func:`iter_frames` yields ASE ``Atoms``; what they mean
(species, shear frame) is decided in :mod:`taulc.data.ingest`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from taulc.errors import TaulcError

__all__ = ["GSD_MAGIC", "InputError", "SUPPORTED", "check_dump_complete", "iter_frames", "resolve_format"]

SUPPORTED = "LAMMPS text dump, LAMMPS data file, extxyz / xyz (any species labels), HOOMD gsd"
GSD_MAGIC = bytes.fromhex("df65df65df65df65")
"""First bytes of a GSD file (0x65DF65DF65DF65DF, little-endian)."""


class InputError(TaulcError, ValueError):
    """A user-supplied configuration file is unusable; the message names the file and the problem."""


# ----------------------------------------------------------------------------- format detection
def _guess_format(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith(".gsd"):
        return "gsd"
    if name.endswith((".xyz", ".extxyz")):
        return "xyz"
    if "dump" in name or name.endswith((".lammpstrj", ".lammpsdump")):
        return "lammps-dump-text"
    if name.endswith((".data", ".lmp")) or name.startswith("data."):
        return "lammps-data"
    return None


def _unsupported(path: Path, why: str) -> InputError:
    return InputError(f"{path}: unsupported format ({why}); taulc reads {SUPPORTED} "
                      "(name the format with --format / dataset.format if the file name does not say it)")


def _sniff(path: Path) -> str:
    """Format from the first bytes: GSD magic, LAMMPS dump/data headers or an XYZ atom count."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head[:8] == GSD_MAGIC:
        return "gsd"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        if b"\x00" in head or len(head) < 4096:
            raise _unsupported(path, "binary data that is not a HOOMD gsd file") from None
        text = head[:4000].decode("utf-8", errors="ignore")
    lines = text.splitlines()
    if not lines:
        raise _unsupported(path, "the file is empty")
    if lines[0].startswith("ITEM:"):
        return "lammps-dump-text"
    if lines[0].strip().isdigit():
        return "xyz"
    if any(re.match(r"^\s*\d+\s+atoms\s*$", ln) for ln in lines[1:20]):
        return "lammps-data"
    raise _unsupported(path, "not recognised from its name or first lines")


def resolve_format(path: str | Path, fmt: str | None = None) -> str:
    """The reader for ``path``: ``fmt`` if given, else by name, else sniffed; refuses directories and missing files."""
    path = Path(path)
    if path.is_dir():
        raise _unsupported(path, "a directory, not a configuration file")
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if fmt:
        return "xyz" if fmt == "extxyz" else fmt
    return _guess_format(path) or _sniff(path)


# ----------------------------------------------------------------------------- readers
_CELL_KEYS = (
    re.compile(r'Lattice="([^"]+)"'),
    re.compile(r"boxLengths=([-\d.eE+]+(?:[ ,]+[-\d.eE+]+){2})"),  # RUMD
    re.compile(r"cell:([-\d.eE+]+(?:,[-\d.eE+]+){2})"),  # atooms
    re.compile(r"box[:=]\s*\[?([-\d.eE+]+(?:[ ,]+[-\d.eE+]+){2})"),
)


def _plain_xyz_cell(comment: str) -> np.ndarray | None:
    for pat in _CELL_KEYS:
        m = pat.search(comment)
        if m:
            v = np.array([float(x) for x in re.split(r"[ ,]+", m.group(1).strip())])
            if v.size == 9:
                return v.reshape(3, 3)
            if v.size == 3:
                return np.diag(v)
    return None


def _columns(comment: str) -> tuple[int, int, int | None]:
    """(label column, first position column, id column) from an extxyz ``Properties=`` spec, else (0, 1, None)."""
    m = re.search(r"Properties=(\S+)", comment)
    if not m:
        return 0, 1, None
    parts = m.group(1).split(":")
    cols: dict[str, tuple[int, str]] = {}
    k = 0
    for name, typ, n in zip(parts[0::3], parts[1::3], parts[2::3]):
        cols[name.lower()] = (k, typ.upper())
        k += int(n)
    label = next((cols[n][0] for n in ("species", "type", "element", "type_name") if n in cols),
                 next((c for c, t in cols.values() if t == "S"), 0))
    pos = next((cols[n][0] for n in ("pos", "positions", "position") if n in cols), 1)
    return label, pos, cols["id"][0] if "id" in cols else None


def _iter_plain_xyz(path: Path) -> Iterator[Any]:
    """XYZ frames with arbitrary species labels (RUMD, atooms, OVITO exports with A/B names, other codes).

    Columns: from an extxyz ``Properties=`` spec when present (species/type, pos, id), else
    ``label x y z``.  The box comes from the comment line (extxyz ``Lattice=`` with optional
    ``Origin=``, RUMD ``boxLengths=``, atooms ``cell:``); atooms/RUMD boxes are centred on the
    origin (positions in [-L/2, L/2)), extxyz boxes start at 0 (or ``Origin``).
    """
    from ase import Atoms  # noqa: PLC0415

    with open(path) as fh:
        frame = 0
        while True:
            first = fh.readline()
            if not first.strip():
                return
            try:
                n = int(first.split()[0])
            except ValueError:
                raise InputError(f"{path}: cannot read as xyz (frame {frame}): line {first.strip()[:40]!r} is not an atom "
                                 "count; the file is corrupt or in an unsupported format") from None
            comment = fh.readline()
            rows = [fh.readline() for _ in range(n)]
            if len(rows) < n or not rows[-1].strip():
                raise InputError(f"{path} (frame {frame}): {n} atoms announced, fewer lines found; the file is truncated")
            try:
                table = np.loadtxt(rows, dtype=str, ndmin=2)
            except ValueError:
                raise InputError(f"{path} (frame {frame}): atom lines have different numbers of columns") from None
            lab, pc, idc = _columns(comment)
            if table.shape[1] < max(lab + 1, pc + 3):
                raise InputError(f"{path} (frame {frame}): atom lines need 'label x y z' (or the Properties= columns)")
            try:
                pos = table[:, pc:pc + 3].astype(np.float64)
            except ValueError:
                raise InputError(f"{path} (frame {frame}): columns {pc + 1}-{pc + 3} are not coordinates") from None
            cell = _plain_xyz_cell(comment)
            if cell is None:
                raise InputError(f"{path} (frame {frame}): no cell: the comment line has no Lattice=, boxLengths= or cell: "
                                 "box (periodic box lengths are required)")
            om = re.search(r'Origin="([^"]+)"', comment)
            origin = (np.array([float(v) for v in om.group(1).split()]) if om else np.zeros(3)) if "Lattice=" in comment \
                else -0.5 * cell.sum(axis=0)
            atoms = Atoms(positions=pos, cell=cell, pbc=True, celldisp=origin)
            atoms.new_array("label", table[:, lab])
            if idc is not None:
                atoms.new_array("id", table[:, idc].astype(np.int64))
            atoms.info.update(_comment_info(comment))
            yield atoms
            frame += 1


def _comment_info(comment: str) -> dict[str, Any]:
    """Scalar ``key=value`` / ``key:value`` pairs of an XYZ comment (``rate``, ``step``, ...)."""
    out: dict[str, Any] = {}
    for k, v in re.findall(r"(\w+)[=:]([^\s,\"]+)(?=\s|$)", comment):
        try:
            out[k] = float(v) if re.search(r"[.eE]", v) else int(v)
        except ValueError:
            out[k] = v
    return out


def _is_ase_xyz(path: Path) -> bool:
    """ASE's extxyz reader fits when the first frame has a Properties/Lattice comment and only element symbols."""
    from ase.data import chemical_symbols  # noqa: PLC0415

    with open(path) as fh:
        try:
            n = int(fh.readline().split()[0])
        except (ValueError, IndexError):
            return False
        comment = fh.readline()
        if "Lattice=" not in comment and "Properties=" not in comment:
            return False
        lab = _columns(comment)[0]
        labels = {ln.split()[lab] for ln in (fh.readline() for _ in range(n)) if len(ln.split()) > lab}
    return bool(labels) and labels <= set(chemical_symbols[1:])


def _iter_gsd(path: Path) -> Iterator[Any]:
    """HOOMD GSD frames: box [Lx, Ly, Lz, xy, xz, yz] (tilt factors), positions centred on 0, type names."""
    import gsd.hoomd  # noqa: PLC0415
    from ase import Atoms  # noqa: PLC0415

    try:
        traj = gsd.hoomd.open(str(path), "r")
    except Exception as exc:  # noqa: BLE001 - gsd raises RuntimeError/OSError/ValueError
        raise _unsupported(path, f"not a HOOMD gsd file: {exc}") from None
    with traj:
        for k, fr in enumerate(traj):
            lx, ly, lz, xy, xz, yz = (float(v) for v in fr.configuration.box)
            if fr.configuration.dimensions != 3:
                raise InputError(f"{path} (frame {k}): a {fr.configuration.dimensions}D HOOMD box; taulc needs 3D")
            cell = np.array([[lx, 0, 0], [xy * ly, ly, 0], [xz * lz, yz * lz, lz]])
            types = np.asarray(fr.particles.types)
            atoms = Atoms(positions=np.asarray(fr.particles.position, dtype=np.float64), cell=cell, pbc=True,
                          celldisp=-0.5 * cell.sum(axis=0))
            atoms.new_array("label", types[np.asarray(fr.particles.typeid, dtype=np.int64)])
            if fr.particles.velocity is not None and np.any(fr.particles.velocity):
                atoms.new_array("lj_velocities", np.asarray(fr.particles.velocity, dtype=np.float64))
            atoms.info["timestep"] = int(fr.configuration.step)
            yield atoms


def _dump_ids(path: Path) -> Iterator[np.ndarray | None]:
    """The ``id`` column of every frame of a LAMMPS text dump, in file order (None when absent)."""
    with open(path) as fh:
        n = 0
        for line in fh:
            if line.startswith("ITEM: NUMBER OF ATOMS"):
                n = int(fh.readline().split()[0])
            elif line.startswith("ITEM: ATOMS"):
                cols = line.split()[2:]
                if "id" in cols:
                    yield np.loadtxt(fh, dtype=np.int64, usecols=cols.index("id"), max_rows=n, ndmin=1)
                else:
                    for _ in range(n):
                        fh.readline()
                    yield None


#: LAMMPS dumps are read by ASE as 'metal' units; taulc files are LJ: undo the velocity conversion
def _ase_velocity_factor() -> float:
    from ase.io.lammpsrun import convert  # noqa: PLC0415

    return float(convert(1.0, "velocity", "metal", "ASE"))


def check_dump_complete(path: Path) -> int:
    """Verify every frame of a LAMMPS text dump has as many atom lines as its header says.

    ASE reads a cut-off dump silently (fewer atoms), so truncation is checked
    here.  Returns the number of frames.
    """
    frames, expect, have, state = 0, None, 0, None
    try:
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
    except UnicodeDecodeError:
        raise _unsupported(path, "binary data, not a LAMMPS text dump") from None
    if state == "atoms" and have != expect:
        raise InputError(f"{path}: last frame has {have} atom lines, header says {expect}; the file is truncated")
    if frames == 0:
        raise InputError(f"{path}: no 'ITEM: ATOMS' section; not a LAMMPS text dump or truncated")
    return frames


def iter_frames(path: str | Path, fmt: str | None = None, index: str | int = ":") -> Iterator[Any]:
    """Stream ASE ``Atoms`` frames from a file, with errors that name the file.

    Extra per-atom arrays: ``id`` (LAMMPS ids, file order kept), ``label`` (species names of
    plain xyz / gsd files), ``lj_velocities`` (velocities in LJ units, when the file has them).
    """
    import ase.io  # noqa: PLC0415

    path = Path(path)
    fmt = resolve_format(path, fmt)
    try:
        if fmt == "gsd":
            yield from _iter_gsd(path)
            return
        if fmt == "xyz" and not _is_ase_xyz(path):
            yield from _iter_plain_xyz(path)
            return
        kwargs: dict[str, Any] = {}
        ids: Iterator[np.ndarray | None] | None = None
        if fmt == "lammps-dump-text":
            check_dump_complete(path)
            kwargs["order"] = False  # keep the file order; ids are attached below
            ids = _dump_ids(path)
        if fmt == "lammps-data":
            kwargs["style"] = "atomic"
            index = 0 if index == ":" else index
        ase_fmt = "extxyz" if fmt == "xyz" else fmt
        it = ase.io.iread(path, index=index, format=ase_fmt, **kwargs) if index == ":" else [ase.io.read(path, index=index, format=ase_fmt, **kwargs)]
        vfac = _ase_velocity_factor() if fmt == "lammps-dump-text" else 1.0
        for atoms in it:
            if ids is not None:
                fid = next(ids, None)
                if fid is not None and len(fid) == len(atoms):
                    atoms.new_array("id", fid)
            if "momenta" in atoms.arrays and np.any(atoms.arrays["momenta"]):
                v = atoms.get_velocities() / vfac
                atoms.new_array("lj_velocities", np.asarray(v, dtype=np.float64))
            yield atoms
    except InputError:
        raise
    except UnicodeDecodeError:
        raise _unsupported(path, f"binary data, not a {fmt} text file") from None
    except Exception as exc:  # ASE raises many types for malformed input
        raise InputError(f"{path}: cannot read as {fmt} ({type(exc).__name__}: {exc}); the file may be truncated "
                         f"or in another format (taulc reads {SUPPORTED})") from exc
