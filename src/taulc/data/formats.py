"""Configuration file formats of other codes: detection, readers and "unsupported format" refusals.

Formats (``fmt``; by default from the file name, else sniffed from the content):

========================  =====================================================================
``lammps-dump-text``      LAMMPS text dumps, every frame (:mod:`taulc.data.lammps_dump`), any column
                          set with ``id``/``type`` and/or ``element`` and ``x``/``xs``/``xu``/``xsu``;
                          ids, file order and every column are kept
``lammps-data``           LAMMPS data files (atom styles atomic, charge, full, molecular, bond,
                          angle), LJ units
``xyz`` / ``extxyz``      extended XYZ (ASE) and plain XYZ frames with arbitrary species labels
                          (``A``/``B``, ``0``/``1``, ...; RUMD ``boxLengths=``, atooms ``cell:``
                          or extxyz ``Lattice=`` boxes; ``Properties=`` / ``columns`` kept)
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from taulc.data.lammps_dump import COORDS, DumpError, DumpFrame, iter_dump
from taulc.errors import TaulcError

__all__ = [
    "GSD_MAGIC",
    "InputError",
    "SOURCE_KEY",
    "SUPPORTED",
    "Source",
    "check_dump_complete",
    "iter_frames",
    "resolve_format",
    "source_of",
]

SUPPORTED = "LAMMPS text dump, LAMMPS data file, extxyz / xyz (any species labels), HOOMD gsd"
GSD_MAGIC = bytes.fromhex("df65df65df65df65")
"""First bytes of a GSD file (0x65DF65DF65DF65DF, little-endian)."""


class InputError(TaulcError, ValueError):
    """A user-supplied configuration file is unusable; the message names the file and the problem."""


SOURCE_KEY = "_taulc_source"
"""``atoms.info`` key of the :class:`Source` record every reader attaches (never written to files)."""
VELOCITY_ARRAYS = ("velo", "vel", "velocity", "velocities")
"""Per-atom extxyz/xyz arrays read as velocities in LJ units (taulc's own files write ``velo``)."""


@dataclass
class Source:
    """What a reader keeps of one frame so outputs can carry the user's own data (``--out-format``).

    ``arrays`` maps output column names to ``atoms.arrays`` keys: the file's per-atom data in
    file order (ids, types as the user wrote them, velocities, extra columns); ``dump`` / ``gsd`` hold
    the frame as read (header and atom lines of a LAMMPS dump, the ``gsd.hoomd.Frame``).
    """

    fmt: str
    arrays: dict[str, str] = field(default_factory=dict)
    dump: DumpFrame | None = None
    gsd: Any = None


def source_of(atoms: Any) -> Source:
    """The :class:`Source` of frames from :func:`iter_frames`; for other ``Atoms``, their own arrays."""
    src = atoms.info.get(SOURCE_KEY)
    if isinstance(src, Source):
        return src
    return Source("atoms", {k: k for k in atoms.arrays if k not in ("numbers", "positions")})


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
    return InputError(
        f"{path}: unsupported format ({why}); taulc reads {SUPPORTED} "
        "(name the format with --format / dataset.format if the file name does not say it)"
    )


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


_LABEL_NAMES = ("species", "type", "element", "type_name", "types", "name")
_POS_NAMES = ("pos", "positions", "position")
_ATOOMS_WIDTH = {"position": 3, "pos": 3, "velocity": 3, "vel": 3, "velo": 3}


def _column_spec(comment: str, width: int) -> list[tuple[str, str, int]]:
    """Columns ``[(name, kind S|R|I|L, count)]`` of an XYZ frame.

    From an extxyz ``Properties=`` spec, an atooms ``columns:species,position,...`` or a RUMD
    ``columns=type,x,y,z,...`` list (``x y z`` / ``vx vy vz`` folded into ``pos`` / ``velo``),
    else ``label x y z``.  ``width`` is the number of values of the first atom line.
    """
    m = re.search(r"Properties=(\S+)", comment)
    if m:
        parts = m.group(1).split(":")
        return [(n, t.upper(), int(c)) for n, t, c in zip(parts[0::3], parts[1::3], parts[2::3])]
    m = re.search(r"columns[:=]([\w,]+)", comment)
    if m:
        names = [c for c in m.group(1).split(",") if c]
        out: list[tuple[str, str, int]] = []
        k = 0
        while k < len(names):
            n = names[k]
            for trio, folded in ((("x", "y", "z"), "pos"), (("vx", "vy", "vz"), "velo")):
                if tuple(names[k : k + 3]) == trio:
                    out.append((folded, "R", 3))
                    k += 3
                    break
            else:
                lab = n.lower() in _LABEL_NAMES
                out.append((n, "S" if lab else "I" if n.lower() == "id" else "R", _ATOOMS_WIDTH.get(n.lower(), 1)))
                k += 1
        if sum(c for _, _, c in out) == width:
            return out
    return [("type", "S", 1), ("pos", "R", 3)] + ([("col", "R", width - 4)] if width > 4 else [])


def _label_column(comment: str) -> int:
    """Index of the species/type column of an XYZ frame (0 when the comment declares none)."""
    k = 0
    spec = _column_spec(comment, -1)
    for name, _kind, cnt in spec:
        if name.lower() in _LABEL_NAMES:
            return k
        k += cnt
    k = 0
    for _name, kind, cnt in spec:
        if kind == "S":
            return k
        k += cnt
    return 0


def _iter_plain_xyz(path: Path) -> Iterator[Any]:
    """XYZ frames with arbitrary species labels (RUMD, atooms, OVITO exports with A/B names, other codes).

    Columns: from an extxyz ``Properties=`` spec or an atooms/RUMD ``columns`` list (species/type, pos,
    id, velocities, anything else kept as a per-atom array), else ``label x y z``.  The box comes from
    the comment line (extxyz ``Lattice=`` with optional ``Origin=``, RUMD ``boxLengths=``, atooms
    ``cell:``); atooms/RUMD boxes are centred on the origin (positions in [-L/2, L/2)), extxyz boxes
    start at 0 (or ``Origin``).
    """
    from ase import Atoms

    with open(path) as fh:
        frame = 0
        while True:
            first = fh.readline()
            if not first.strip():
                return
            try:
                n = int(first.split()[0])
            except ValueError:
                raise InputError(
                    f"{path}: cannot read as xyz (frame {frame}): line {first.strip()[:40]!r} is not an atom "
                    "count; the file is corrupt or in an unsupported format"
                ) from None
            comment = fh.readline()
            rows = [fh.readline() for _ in range(n)]
            if len(rows) < n or not rows[-1].strip():
                raise InputError(f"{path} (frame {frame}): {n} atoms announced, fewer lines found; the file is truncated")
            try:
                table = np.loadtxt(rows, dtype=str, ndmin=2, comments=None)
            except ValueError:
                raise InputError(f"{path} (frame {frame}): atom lines have different numbers of columns") from None
            spec = _column_spec(comment, table.shape[1])
            if sum(c for _, _, c in spec) != table.shape[1]:
                raise InputError(
                    f"{path} (frame {frame}): the comment line's Properties= declare "
                    f"{sum(c for _, _, c in spec)} columns, the atom lines have {table.shape[1]}"
                )
            cols: dict[str, tuple[str, np.ndarray]] = {}
            k = 0
            for name, kind, cnt in spec:
                cols[name] = (kind, table[:, k : k + cnt] if cnt > 1 else table[:, k])
                k += cnt
            lname = next(
                (c for c in cols if c.lower() in _LABEL_NAMES), next((c for c, (t, _) in cols.items() if t == "S"), None)
            )
            pname = next((c for c in cols if c.lower() in _POS_NAMES), None)
            if lname is None or pname is None or cols[pname][1].ndim != 2 or cols[pname][1].shape[1] != 3:
                raise InputError(
                    f"{path} (frame {frame}): atom lines need 'label x y z' (or Properties= with a species "
                    f"and a pos:R:3 column); found columns {[c for c, _, _ in spec]}"
                )
            try:
                pos = cols[pname][1].astype(np.float64)
            except ValueError:
                raise InputError(f"{path} (frame {frame}): column '{pname}' holds values that are not coordinates") from None
            cell = _plain_xyz_cell(comment)
            if cell is None:
                raise InputError(
                    f"{path} (frame {frame}): no cell: the comment line has no Lattice=, boxLengths= or cell: "
                    "box (periodic box lengths are required)"
                )
            om = re.search(r'Origin="([^"]+)"', comment)
            origin = (
                (np.array([float(v) for v in om.group(1).split()]) if om else np.zeros(3))
                if "Lattice=" in comment
                else -0.5 * cell.sum(axis=0)
            )
            atoms = Atoms(positions=pos, cell=cell, pbc=True, celldisp=origin)
            atoms.new_array("label", cols[lname][1])
            arrays = {"type" if lname.lower() == "species" else lname: "label"}
            for name, (kind, val) in cols.items():
                if name in (lname, pname):
                    continue
                try:
                    arr = (val == "T") if kind == "L" else val.astype({"I": np.int64, "R": np.float64}.get(kind, str))
                except ValueError:
                    raise InputError(
                        f"{path} (frame {frame}): column '{name}' ({kind}) holds {str(val.ravel()[0])!r}, expected a number"
                    ) from None
                atoms.new_array(name, arr)
                arrays[name] = name
                if name.lower() in VELOCITY_ARRAYS and arr.shape == (n, 3):
                    atoms.new_array("lj_velocities", np.asarray(arr, dtype=np.float64))
            atoms.info.update(_comment_info(comment))
            atoms.info[SOURCE_KEY] = Source("xyz", arrays)
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
    from ase.data import chemical_symbols

    with open(path) as fh:
        try:
            n = int(fh.readline().split()[0])
        except (ValueError, IndexError):
            return False
        comment = fh.readline()
        if "Lattice=" not in comment and "Properties=" not in comment:
            return False
        lab = _label_column(comment)
        labels = {ln.split()[lab] for ln in (fh.readline() for _ in range(n)) if len(ln.split()) > lab}
    return bool(labels) and labels <= set(chemical_symbols[1:])


def _iter_gsd(path: Path) -> Iterator[Any]:
    """HOOMD GSD frames: box [Lx, Ly, Lz, xy, xz, yz] (tilt factors), positions centred on 0, type names.

    Kept for outputs: type names (``type``), velocities (``velo``), image flags, per-particle ``log/particles/*``
    arrays; scalar ``log/*`` entries become frame info (``kinetic_temperature`` of HOOMD's thermodynamic
    quantities is read as the recorded temperature).
    """
    import gsd.hoomd
    from ase import Atoms

    try:
        traj = gsd.hoomd.open(str(path), "r")
    except Exception as exc:  # noqa: BLE001 - gsd raises RuntimeError/OSError/ValueError
        raise _unsupported(path, f"not a HOOMD gsd file: {exc}") from None
    with traj:
        for k, fr in enumerate(traj):
            lx, ly, lz, xy, xz, yz = (float(v) for v in fr.configuration.box)
            if fr.configuration.dimensions != 3:
                raise InputError(f"{path} (frame {k}): a {fr.configuration.dimensions}D HOOMD box; taulc needs 3D")
            n = int(fr.particles.N)
            cell = np.array([[lx, 0, 0], [xy * ly, ly, 0], [xz * lz, yz * lz, lz]])
            types = np.asarray(fr.particles.types)
            atoms = Atoms(
                positions=np.asarray(fr.particles.position, dtype=np.float64),
                cell=cell,
                pbc=True,
                celldisp=-0.5 * cell.sum(axis=0),
            )
            atoms.new_array("label", types[np.asarray(fr.particles.typeid, dtype=np.int64)])
            arrays = {"type": "label"}
            if fr.particles.velocity is not None and np.any(fr.particles.velocity):
                atoms.new_array("lj_velocities", np.asarray(fr.particles.velocity, dtype=np.float64))
                arrays["velo"] = "lj_velocities"
            if fr.particles.image is not None and np.any(fr.particles.image):
                atoms.new_array("image", np.asarray(fr.particles.image, dtype=np.int64))
                arrays["image"] = "image"
            for key, val in (fr.log or {}).items():
                v = np.asarray(val)
                name = key.rsplit("/", 1)[-1]
                if key.startswith("particles/") and v.shape[:1] == (n,) and v.ndim <= 2 and name not in atoms.arrays:
                    atoms.new_array(name, v)
                    arrays[name] = name
                elif v.size == 1 and v.dtype.kind in "iuf":
                    atoms.info[name] = v.reshape(-1)[0].item()
            atoms.info["timestep"] = int(fr.configuration.step)
            atoms.info[SOURCE_KEY] = Source("gsd", arrays, gsd=fr)
            yield atoms


def _iter_dump(path: Path) -> Iterator[Any]:
    """LAMMPS text dump frames (:mod:`taulc.data.lammps_dump`): every column kept, ``element`` names as labels."""
    from ase import Atoms

    coords = {c for names, _ in COORDS for c in names}
    for df in iter_dump(path):
        atoms = Atoms(positions=df.positions, cell=df.cell, pbc=True, celldisp=df.origin)
        arrays: dict[str, str] = {}
        for name in df.columns:
            if name in coords:
                continue
            atoms.new_array(name, df.data[name])
            arrays[name] = name
        if "element" in df.data:
            atoms.new_array("label", df.data["element"])
        if "type" not in df.data and "element" not in df.data:
            raise InputError(
                f"{path}: missing species: the LAMMPS dump has no 'type' or 'element' column (ITEM: ATOMS {' '.join(df.columns)})"
            )
        if all(c in df.data for c in ("vx", "vy", "vz")):
            atoms.new_array("lj_velocities", np.column_stack([df.data[c] for c in ("vx", "vy", "vz")]).astype(np.float64))
        if df.timestep is not None:
            atoms.info["timestep"] = df.timestep
        atoms.info[SOURCE_KEY] = Source("lammps-dump-text", arrays, dump=df)
        yield atoms


#: LAMMPS data files are read by ASE as 'metal' units; taulc files are LJ: undo the velocity conversion
def _ase_velocity_factor() -> float:
    from ase.io.lammpsrun import convert

    return float(convert(1.0, "velocity", "metal", "ASE"))


def check_dump_complete(path: Path) -> int:
    """Verify every frame of a LAMMPS text dump has as many atom lines as its header says.

    Checked before any frame is predicted or ingested (a cut-off last frame fails the file
    up front).  Returns the number of frames.
    """
    frames, expect, have, state = 0, None, 0, None
    try:
        with open(path) as fh:
            for lineno, line in enumerate(fh, 1):
                if line.startswith("ITEM:"):
                    if state == "atoms" and have != expect:
                        raise InputError(
                            f"{path}: frame {frames - 1} has {have} atom lines, header says {expect} (line {lineno}); the file is truncated or corrupt"
                        )
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


DATA_STYLES = ("atomic", "charge", "full", "molecular", "bond", "angle")
"""LAMMPS data-file atom styles read (the style comes from the ``Atoms # style`` comment or the column count)."""


def _data_style(path: Path) -> str | None:
    """The ``Atoms # style`` comment of a LAMMPS data file (None when absent); unsupported styles are refused."""
    with open(path) as fh:
        for line in fh:
            if line.strip().startswith("Atoms"):
                m = re.search(r"#\s*(\S+)", line)
                if m and m.group(1) not in DATA_STYLES:
                    raise InputError(
                        f"{path}: LAMMPS data file with 'Atoms # {m.group(1)}': atom style {m.group(1)!r} is "
                        f"not read; taulc reads the styles {', '.join(DATA_STYLES)} (positions and types "
                        "are all it needs: write_data from a run with one of these styles)"
                    )
                return m.group(1) if m else None
    raise InputError(f"{path}: LAMMPS data file without an 'Atoms' section")


def _cause(exc: BaseException) -> str:
    """The real cause of a reader failure, in words (not a bare KeyError of one label)."""
    if isinstance(exc, KeyError):
        return f"unknown element or column {exc.args[0]!s}"
    return f"{type(exc).__name__}: {exc}"


def iter_frames(path: str | Path, fmt: str | None = None, index: str | int = ":") -> Iterator[Any]:
    """Stream ASE ``Atoms`` frames from a file, with errors that name the file and the cause.

    Extra per-atom arrays: ``id`` (ids, file order kept), ``label`` (species names of plain xyz / gsd /
    ``element`` columns), ``type`` (LAMMPS types), ``lj_velocities`` (velocities in LJ units, when the
    file has them) and every other column of the file; ``atoms.info[SOURCE_KEY]`` is the :class:`Source`.
    """
    import ase.io

    path = Path(path)
    fmt = resolve_format(path, fmt)
    try:
        if fmt == "gsd":
            yield from _iter_gsd(path)
            return
        if fmt == "xyz" and not _is_ase_xyz(path):
            yield from _iter_plain_xyz(path)
            return
        if fmt == "lammps-dump-text":
            check_dump_complete(path)
            yield from _iter_dump(path)
            return
        kwargs: dict[str, Any] = {}
        if fmt == "lammps-data":
            kwargs["atom_style"] = _data_style(path)
            kwargs["sort_by_id"] = False  # keep the file order; ids are kept in the 'id' array
            index = 0 if index == ":" else index
        ase_fmt = "extxyz" if fmt == "xyz" else fmt
        it = (
            ase.io.iread(path, index=index, format=ase_fmt, **kwargs)
            if index == ":"
            else [ase.io.read(path, index=index, format=ase_fmt, **kwargs)]
        )
        vfac = _ase_velocity_factor() if fmt == "lammps-data" else 1.0
        for atoms in it:
            arrays = {k: k for k in atoms.arrays if k not in ("numbers", "positions")}
            vel = next(
                (atoms.arrays[k] for k in VELOCITY_ARRAYS if k in atoms.arrays and np.shape(atoms.arrays[k]) == (len(atoms), 3)),
                None,
            )
            if vel is not None:
                atoms.new_array("lj_velocities", np.asarray(vel, dtype=np.float64))
            elif "momenta" in atoms.arrays and np.any(atoms.arrays["momenta"]):
                atoms.new_array("lj_velocities", np.asarray(atoms.get_velocities() / vfac, dtype=np.float64))
            atoms.info[SOURCE_KEY] = Source(fmt, arrays)
            yield atoms
    except InputError:
        raise
    except DumpError as exc:
        raise InputError(str(exc)) from None
    except UnicodeDecodeError:
        raise _unsupported(path, f"binary data, not a {fmt} text file") from None
    except Exception as exc:  # ASE raises many types for malformed input
        raise InputError(
            f"{path}: cannot read as {fmt} ({_cause(exc)}); the file may be truncated "
            f"or in another format (taulc reads {SUPPORTED})"
        ) from exc
