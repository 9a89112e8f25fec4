"""Bring your own configurations: read other codes' files into taulc configurations.

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
carry a periodic cell.

Frames: the cell must be periodic; a LAMMPS-style cell (rows a = (Lx,0,0),
b = (xy,Ly,0), c = (xz,yz,Lz)) tilted in *one* plane is accepted: xy as is
(x flow, y gradient, z vorticity), xz and yz rotated into the xy frame
(:func:`to_shear_frame`; two tilts are ambiguous and refused).  A negative
shear rate (frame metadata ``rate``) is mirrored x -> -x, which maps the flow
u_x = γ̇ y onto u_x = -γ̇ y.

Species: a per-atom ``species`` array (taulc's own extxyz) is used as is;
otherwise labels (plain xyz / gsd type names), LAMMPS types or element symbols
go through ``species_map`` (default ``{1: 0, 2: 1, "Ni": 0, "P": 1}``:
LAMMPS type 1 = big, type 2 = small; taulc's extxyz name big "Ni" and small
"P", after Ni80P20).  Unknown labels are refused with the labels found and the
option that maps them.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from taulc.errors import TaulcError

log = logging.getLogger(__name__)

DEFAULT_SPECIES_MAP: dict[Any, int] = {1: 0, 2: 1, "Ni": 0, "P": 1}
SUPPORTED = "LAMMPS text dump, LAMMPS data file, extxyz / xyz (any species labels), HOOMD gsd"
GSD_MAGIC = bytes.fromhex("df65df65df65df65")
"""First bytes of a GSD file (0x65DF65DF65DF65DF, little-endian)."""
TILT_TOL = 1e-9
"""Relative size below which a cell tilt counts as zero."""


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


def _iter_plain_xyz(path: Path) -> Iterator[Any]:
    """XYZ frames with arbitrary labels in column 1 and x y z in columns 2-4 (RUMD, atooms, other codes).

    The box comes from the comment line (extxyz ``Lattice=``, RUMD ``boxLengths=``, atooms ``cell:``);
    atooms/RUMD boxes are centred on the origin (positions in [-L/2, L/2)), extxyz boxes start at 0.
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
            cols = [r.split() for r in rows]
            if min(len(c) for c in cols) < 4:
                raise InputError(f"{path} (frame {frame}): atom lines need 'label x y z'")
            labels = np.array([c[0] for c in cols])
            try:
                pos = np.array([c[1:4] for c in cols], dtype=np.float64)
            except ValueError:
                raise InputError(f"{path} (frame {frame}): columns 2-4 are not coordinates") from None
            cell = _plain_xyz_cell(comment)
            if cell is None:
                raise InputError(f"{path} (frame {frame}): no cell: the comment line has no Lattice=, boxLengths= or cell: "
                                 "box (periodic box lengths are required)")
            centred = "Lattice=" not in comment
            atoms = Atoms(positions=pos, cell=cell, pbc=True,
                          celldisp=-0.5 * cell.sum(axis=0) if centred else np.zeros(3))
            atoms.new_array("label", labels)
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
    """ASE's extxyz reader fits when the first frame has a Properties/Lattice comment and element symbols."""
    from ase.data import chemical_symbols  # noqa: PLC0415

    with open(path) as fh:
        fh.readline()
        comment = fh.readline()
        first = fh.readline().split()
    return ("Lattice=" in comment or "Properties=" in comment) and bool(first) and first[0] in chemical_symbols[1:]


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


# ----------------------------------------------------------------------------- species
def _key(v: Any) -> Any:
    s = str(v)
    return int(s) if s.lstrip("-").isdigit() else s


def _species_from_atoms(atoms: Any, path: Path, frame: int, species_map: Mapping[Any, int]) -> np.ndarray:
    if "species" in atoms.arrays:
        sp = np.asarray(atoms.arrays["species"]).astype(np.int64)
    else:
        lut = {_key(k): int(v) for k, v in species_map.items()}
        if "label" in atoms.arrays:
            keys = np.asarray(atoms.arrays["label"]).astype(str)
            what = "species label(s)"
        else:
            # LAMMPS files carry the atom type; ASE keeps it as a per-atom 'type' array (data files in
            # LJ units otherwise come back as element X) and as the atomic number of dumps.
            keys = np.asarray(atoms.arrays["type"]) if "type" in atoms.arrays else atoms.get_atomic_numbers()
            what = "atom type(s)/atomic number(s)"
        symbols = np.asarray(atoms.get_chemical_symbols())
        sp = np.empty(len(atoms), dtype=np.int64)
        unknown: dict[Any, int] = {}
        for val in np.unique(keys):
            sel = keys == val
            k = _key(val)
            first = int(np.argmax(sel))
            if k in lut:
                sp[sel] = lut[k]
            elif "label" not in atoms.arrays and symbols[first] in lut:
                sp[sel] = lut[symbols[first]]
            else:
                unknown[k] = int(sel.sum())
        if unknown:
            found = ", ".join(f"{k!r}: {n} particles" for k, n in unknown.items())
            raise InputError(
                f"{path} (frame {frame}): {what} {sorted(unknown, key=str)} are not in the species map "
                f"{dict(species_map)} (found {found}); map them to 0 (big) / 1 (small): "
                "taulc-predict --species-map LABEL=0,LABEL=1 or dataset.species_map"
            )
    bad = set(np.unique(sp).tolist()) - {0, 1}
    if bad:
        raise InputError(f"{path} (frame {frame}): field 'species' has value(s) {sorted(bad)}; expected 0 (big) or 1 (small)")
    return sp


# ----------------------------------------------------------------------------- frame geometry
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
        raise InputError(f"{where}: the cell is tilted in {' and '.join(tilted)} (xy={xy:g}, xz={xz:g}, yz={yz:g}); "
                         "the shear plane is ambiguous. taulc needs simple shear in one plane (x flow, y gradient); "
                         "rotate the configuration so that only the xy tilt is non-zero")
    if tilted[0] == "xz":
        rot = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])  # (x, y, z) -> (x, z, -y)
    else:
        rot = np.array([[0, 1.0, 0], [0, 0, 1.0], [1.0, 0, 0]])  # (x, y, z) -> (y, z, x)
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
    (``xz->xy``, ``yz->xy``, ``mirror-x``).
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


def _frame_info(atoms: Any) -> dict[str, Any]:
    info = {k: v for k, v in atoms.info.items() if isinstance(v, (int, float, str, bool)) and k != "taulc_meta"}
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
    if abs(cell[0, 1]) > TILT_TOL * abs(cell[0, 0]) or abs(cell[0, 2]) > TILT_TOL * abs(cell[0, 0]) or abs(cell[1, 2]) > TILT_TOL * abs(cell[1, 1]):
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
    if vel is not None and rot:
        vel = None  # velocities of a rotated frame are not used (temperature is rotation-invariant but keep it simple)
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
    return Frame(frac @ shear_cell, sp, shear_cell, raw, cell, origin, ids, vel, r, transform, info)


def atoms_to_arrays(atoms: Any, path: Path, frame: int, species_map: Mapping[Any, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    from taulc.data.storage import sha256_file  # noqa: PLC0415

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
    from taulc.md.configuration import Configuration  # noqa: PLC0415

    if isinstance(files, (str, Path)):
        files = [files]
    smap = dict(species_map) if species_map else DEFAULT_SPECIES_MAP
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
