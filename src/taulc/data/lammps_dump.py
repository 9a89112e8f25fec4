"""LAMMPS text dumps (``dump custom`` / ``dump atom`` / ``write_dump``): a streaming reader and the box conventions.

The reader keeps everything a dump carries, so a frame can be written back with extra
columns (``taulc-predict --out-format lammps-dump``):

* the header lines as read (``ITEM: TIMESTEP``, ``NUMBER OF ATOMS``, ``BOX BOUNDS``, ...);
* the ``ITEM: ATOMS`` column names and the atom lines as read;
* per-atom arrays for every column (``id``, ``type``, ``element``, velocities, ``c_*``/``v_*``/``f_*``, ...).

Coordinates: ``x y z`` or ``xu yu zu`` (Cartesian, wrapped or not) or ``xs ys zs`` / ``xsu ysu zsu``
(scaled by the box).  Box: orthogonal (``pp pp pp``, two values per line), restricted triclinic
(``xy xz yz pp pp pp``, three values per line, bounding-box bounds as LAMMPS writes them) and the
general triclinic form of LAMMPS >= 2024 (``abc origin``).  A header without ``xy xz yz`` whose
lines carry non-zero tilt values is refused (LAMMPS ``read_dump`` would silently drop the tilt).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np

from taulc.errors import TaulcError

__all__ = ["DumpFrame", "iter_dump", "box_lines", "COORDS"]

#: coordinate column triples in order of preference, and whether they are scaled by the box
COORDS: tuple[tuple[tuple[str, str, str], bool], ...] = (
    (("x", "y", "z"), False),
    (("xu", "yu", "zu"), False),
    (("xs", "ys", "zs"), True),
    (("xsu", "ysu", "zsu"), True),
)
_INT_COLS = {"id", "type", "mol", "proc", "procp1", "ix", "iy", "iz"}
_STR_COLS = {"element", "type_label", "typelabel"}


class DumpError(TaulcError, ValueError):
    """A LAMMPS dump is malformed; the message names the file, the frame, the line and what was expected."""


@dataclass
class DumpFrame:
    """One dump frame: box (cell rows a, b, c and origin), columns, per-column arrays and the text as read."""

    timestep: int | None
    cell: np.ndarray
    origin: np.ndarray
    columns: list[str]
    data: dict[str, np.ndarray]
    positions: np.ndarray
    header: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def _floats(tokens: list[str], where: str, what: str) -> list[float]:
    try:
        return [float(t) for t in tokens]
    except ValueError:
        raise DumpError(f"{where}: {what}: {' '.join(tokens)!r} are not numbers") from None


def _box(item: str, rows: list[str], where: str) -> tuple[np.ndarray, np.ndarray]:
    """Cell (rows a, b, c) and origin from ``ITEM: BOX BOUNDS ...`` and its three lines."""
    flags = item.split()[2:]
    vals = [_floats(r.split(), where, f"box line {k + 1}") for k, r in enumerate(rows)]
    if "abc" in flags:  # general triclinic: "ax ay az ox" / "bx by bz oy" / "cx cy cz oz"
        if any(len(v) < 4 for v in vals):
            raise DumpError(f"{where}: 'BOX BOUNDS abc origin' needs 4 values per line (vector and origin component)")
        cell = np.array([v[:3] for v in vals])
        return cell, np.array([v[3] for v in vals])
    tilted = "xy" in flags
    if any(len(v) < 2 for v in vals):
        raise DumpError(f"{where}: each BOX BOUNDS line needs 'lo hi'{' tilt' if tilted else ''}, got {rows}")
    if tilted and any(len(v) < 3 for v in vals):
        raise DumpError(f"{where}: the header says 'BOX BOUNDS xy xz yz' but a box line has no tilt value: {rows}")
    if not tilted and any(len(v) >= 3 for v in vals):
        tilt = [v[2] if len(v) >= 3 else 0.0 for v in vals]
        if any(t != 0.0 for t in tilt):
            raise DumpError(
                f"{where}: the header 'ITEM: {item}' declares an orthogonal box but the box lines carry tilt values "
                f"xy={tilt[0]:g} xz={tilt[1]:g} yz={tilt[2]:g}; the box is ambiguous (LAMMPS read_dump would drop the tilt). "
                "If the box is triclinic, write the header as 'ITEM: BOX BOUNDS xy xz yz pp pp pp'"
            )
    xy, xz, yz = (vals[0][2], vals[1][2], vals[2][2]) if tilted else (0.0, 0.0, 0.0)
    xlo = vals[0][0] - min(0.0, xy, xz, xy + xz)
    xhi = vals[0][1] - max(0.0, xy, xz, xy + xz)
    ylo = vals[1][0] - min(0.0, yz)
    yhi = vals[1][1] - max(0.0, yz)
    zlo, zhi = vals[2][0], vals[2][1]
    cell = np.array([[xhi - xlo, 0.0, 0.0], [xy, yhi - ylo, 0.0], [xz, yz, zhi - zlo]])
    return cell, np.array([xlo, ylo, zlo])


def box_lines(cell: np.ndarray, origin: np.ndarray) -> list[str]:
    """``ITEM: BOX BOUNDS`` and its three lines for a LAMMPS cell (rows (Lx,0,0), (xy,Ly,0), (xz,yz,Lz))."""
    lx, ly, lz = cell[0, 0], cell[1, 1], cell[2, 2]
    xy, xz, yz = cell[1, 0], cell[2, 0], cell[2, 1]
    xlo, ylo, zlo = (float(v) for v in origin)
    f = "%.17g"
    if xy == 0.0 and xz == 0.0 and yz == 0.0:
        return [
            "ITEM: BOX BOUNDS pp pp pp",
            f"{f % xlo} {f % (xlo + lx)}",
            f"{f % ylo} {f % (ylo + ly)}",
            f"{f % zlo} {f % (zlo + lz)}",
        ]
    xlo_b, xhi_b = xlo + min(0.0, xy, xz, xy + xz), xlo + lx + max(0.0, xy, xz, xy + xz)
    ylo_b, yhi_b = ylo + min(0.0, yz), ylo + ly + max(0.0, yz)
    return [
        "ITEM: BOX BOUNDS xy xz yz pp pp pp",
        f"{f % xlo_b} {f % xhi_b} {f % xy}",
        f"{f % ylo_b} {f % yhi_b} {f % xz}",
        f"{f % zlo} {f % (zlo + lz)} {f % yz}",
    ]


def _columns(lines: list[str], cols: list[str], where: str, first_line: int) -> dict[str, np.ndarray]:
    """Per-column arrays of the atom lines (ints, floats or strings), with errors naming the line and the column."""
    split = [ln.split() for ln in lines]
    widths = np.fromiter((len(s) for s in split), dtype=np.int64, count=len(split))
    bad = np.flatnonzero(widths != len(cols))
    if bad.size:
        k = int(bad[0])
        raise DumpError(
            f"{where}: line {first_line + k}: {widths[k]} values where 'ITEM: ATOMS' names {len(cols)} columns "
            f"({' '.join(cols)}); the file is truncated or corrupt"
        )
    table = np.array(split, dtype=str).reshape(len(lines), len(cols))
    out: dict[str, np.ndarray] = {}
    for j, name in enumerate(cols):
        col = table[:, j]
        if name in _STR_COLS:
            out[name] = col
            continue
        try:
            out[name] = col.astype(np.int64) if name in _INT_COLS else col.astype(np.float64)
        except ValueError:
            try:
                out[name] = col.astype(np.float64)  # a float in an integer column is reported below by its reader
            except ValueError:
                if name in ("type",):  # LAMMPS type labels (2023+) written in the type column
                    out[name] = col
                    continue
                k = next(i for i, v in enumerate(col) if not _is_number(v))
                raise DumpError(
                    f"{where}: line {first_line + k}: column '{name}' holds {str(col[k])!r}, expected a number"
                ) from None
    return out


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def iter_dump(path: str | Path) -> Iterator[DumpFrame]:
    """Stream the frames of a LAMMPS text dump (memory: one frame)."""
    path = Path(path)
    with open(path) as fh:
        lineno = 0
        frame = 0
        while True:
            header: list[str] = []
            timestep: int | None = None
            n: int | None = None
            cell = origin = None
            cols: list[str] | None = None
            while cols is None:
                line = fh.readline()
                if not line:
                    if header:
                        raise DumpError(
                            f"{path} (frame {frame}): the file ends inside a frame header (line {lineno}); "
                            "no 'ITEM: ATOMS' section: the file is truncated"
                        )
                    return
                lineno += 1
                if not line.strip() and not header:
                    continue
                where = f"{path} (frame {frame}, line {lineno})"
                if not line.startswith("ITEM:"):
                    raise DumpError(
                        f"{where}: expected an 'ITEM:' line, got {line.strip()[:60]!r}; not a LAMMPS text "
                        "dump, or the previous frame has more atom lines than its header says"
                    )
                item = line[5:].strip()
                header.append(line.rstrip("\n"))
                if item.startswith("ATOMS"):
                    cols = item.split()[1:]
                    break
                if item.startswith("BOX BOUNDS"):
                    rows = [fh.readline() for _ in range(3)]
                    lineno += 3
                    header += [r.rstrip("\n") for r in rows]
                    cell, origin = _box(item, rows, where)
                    continue
                value = fh.readline()
                lineno += 1
                header.append(value.rstrip("\n"))
                if item.startswith("TIMESTEP"):
                    try:
                        timestep = int(float(value.split()[0]))
                    except (ValueError, IndexError):
                        raise DumpError(f"{where}: TIMESTEP {value.strip()!r} is not an integer") from None
                elif item.startswith("NUMBER OF ATOMS"):
                    try:
                        n = int(value.split()[0])
                    except (ValueError, IndexError):
                        raise DumpError(f"{where}: NUMBER OF ATOMS {value.strip()!r} is not an integer") from None
            where = f"{path} (frame {frame})"
            if n is None:
                raise DumpError(f"{where}: no 'ITEM: NUMBER OF ATOMS' before 'ITEM: ATOMS'")
            if cell is None or origin is None:
                raise DumpError(f"{where}: no 'ITEM: BOX BOUNDS' before 'ITEM: ATOMS'; taulc needs the periodic box")
            header.pop()  # the ITEM: ATOMS line is rebuilt by writers (columns may be added)
            lines = list(islice(fh, n))
            if len(lines) < n:
                raise DumpError(f"{where}: {len(lines)} atom lines, the header says {n}; the file is truncated")
            first = lineno + 1
            lineno += n
            data = _columns(lines, cols, where, first)
            pos = None
            for names, scaled in COORDS:
                if all(c in data for c in names):
                    xyz = np.column_stack([np.asarray(data[c], dtype=np.float64) for c in names])
                    pos = origin + xyz @ cell if scaled else xyz
                    break
            if pos is None:
                raise DumpError(
                    f"{where}: no coordinates: 'ITEM: ATOMS {' '.join(cols)}' has none of x y z, xu yu zu, xs ys zs, xsu ysu zsu"
                )
            yield DumpFrame(timestep, cell, origin, cols, data, pos, header, lines)
            frame += 1
