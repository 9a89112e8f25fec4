"""Writers of other codes' Kob-Andersen files for tests/integration/test_bad_inputs*.py (small files the tests write themselves).

* :func:`write_lammps_dump` - LAMMPS text dump (``ITEM: BOX BOUNDS xy xz yz``), any tilt plane, any origin,
  ids in any order, optional velocities;
* :func:`write_gsd` - HOOMD-blue GSD frame (box centred on 0, tilt *factors*, named types), via the ``gsd`` package;
* :func:`write_labelled_xyz` - RUMD (``boxLengths=``, numeric types) and atooms (``cell:``, ``A``/``B``) XYZ.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def demo_frame(rate_index: int = 0, config: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A configuration of the shipped demo dataset (N = 1500, rho = 1.2, T = 0.6): positions, species, cell."""
    from taulc.data.dataset import load_shard
    from taulc.data.manifest import read_manifest
    from taulc.paths import default_data_root

    root = default_data_root() / "demo"
    shards = read_manifest(root)["shards"]
    rates = sorted({s["rate"] for s in shards})
    s = [s for s in shards if s["rate"] == rates[rate_index]][config]
    z = load_shard(root, s)
    return np.asarray(z["positions"]), np.asarray(z["species"]), np.asarray(z["cell"])


def write_lammps_dump(
    path: Path,
    pos: np.ndarray,
    types: np.ndarray,
    cell: np.ndarray,
    *,
    origin: np.ndarray | None = None,
    ids: np.ndarray | None = None,
    velocities: np.ndarray | None = None,
    frames: int = 1,
) -> Path:
    """A LAMMPS ``dump custom`` text file; ``cell`` rows a=(Lx,0,0), b=(xy,Ly,0), c=(xz,yz,Lz)."""
    o = np.zeros(3) if origin is None else np.asarray(origin, dtype=float)
    lx, ly, lz = cell[0, 0], cell[1, 1], cell[2, 2]
    xy, xz, yz = cell[1, 0], cell[2, 0], cell[2, 1]
    xlo, ylo, zlo = o
    xlo_b = xlo + min(0.0, xy, xz, xy + xz)
    xhi_b = xlo + lx + max(0.0, xy, xz, xy + xz)
    ylo_b, yhi_b = ylo + min(0.0, yz), ylo + ly + max(0.0, yz)
    n = len(types)
    ids = np.arange(1, n + 1) if ids is None else np.asarray(ids)
    cols = "id type x y z" + (" vx vy vz" if velocities is not None else "")
    data = [ids, np.asarray(types), *(np.asarray(pos) + o).T]
    if velocities is not None:
        data += list(np.asarray(velocities).T)
    body = "\n".join(" ".join(f"{v:.10g}" for v in row) for row in zip(*(d.tolist() for d in data)))
    frame = (
        f"ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n{n}\nITEM: BOX BOUNDS xy xz yz pp pp pp\n"
        f"{xlo_b:.12g} {xhi_b:.12g} {xy:.12g}\n{ylo_b:.12g} {yhi_b:.12g} {xz:.12g}\n{zlo:.12g} {zlo + lz:.12g} {yz:.12g}\n"
        f"ITEM: ATOMS {cols}\n{body}\n"
    )
    path.write_text(frame * frames)
    return path


def write_gsd(
    path: Path, pos: np.ndarray, species: np.ndarray, cell: np.ndarray, types=("A", "B"), velocities: np.ndarray | None = None
) -> Path:
    """One HOOMD GSD frame: positions shifted to the centred box, box = [Lx, Ly, Lz, xy/Ly, xz/Lz, yz/Lz]."""
    import gsd.hoomd

    f = gsd.hoomd.Frame()
    f.particles.N = len(species)
    f.particles.types = list(types)
    f.particles.typeid = np.asarray(species, dtype=np.uint32)
    f.particles.position = (np.asarray(pos) - 0.5 * cell.sum(axis=0)).astype(np.float32)
    if velocities is not None:
        f.particles.velocity = np.asarray(velocities, dtype=np.float32)
    ly, lz = cell[1, 1], cell[2, 2]
    f.configuration.box = [cell[0, 0], ly, lz, cell[1, 0] / ly, cell[2, 0] / lz, cell[2, 1] / lz]
    with gsd.hoomd.open(str(path), "w") as t:
        t.append(f)
    return path


def write_labelled_xyz(path: Path, pos: np.ndarray, labels: np.ndarray, cell: np.ndarray, style: str = "atooms") -> Path:
    """Plain XYZ with labels in column 1 and a centred orthorhombic box in the comment (atooms or RUMD style)."""
    L = np.diag(cell)
    centred = np.asarray(pos) - 0.5 * L
    comment = (
        f"step:0 columns:species,position cell:{L[0]:.12g},{L[1]:.12g},{L[2]:.12g}"
        if style == "atooms"
        else f"ioformat=1 dt=0.005 boxLengths={L[0]:.12g} {L[1]:.12g} {L[2]:.12g} numTypes=2 columns=type,x,y,z"
    )
    rows = "\n".join(f"{lab} {x:.10g} {y:.10g} {z:.10g}" for lab, (x, y, z) in zip(np.asarray(labels).tolist(), centred.tolist()))
    path.write_text(f"{len(labels)}\n{comment}\n{rows}\n")
    return path


def write_ovito_xyz(
    path: Path, pos: np.ndarray, labels: np.ndarray, cell: np.ndarray, origin: np.ndarray, ids: np.ndarray
) -> Path:
    """An OVITO-style extended XYZ export: ``Properties=id:I:1:species:S:1:pos:R:3``, ``Origin=``, free labels."""
    lat = " ".join(repr(float(v)) for v in np.asarray(cell).ravel())
    org = " ".join(repr(float(v)) for v in origin)
    rows = "\n".join(
        f"{i} {lab} {x:.12g} {y:.12g} {z:.12g}"
        for i, lab, (x, y, z) in zip(np.asarray(ids).tolist(), np.asarray(labels).tolist(), (pos + origin).tolist())
    )
    path.write_text(f'{len(labels)}\nLattice="{lat}" Origin="{org}" Properties=id:I:1:species:S:1:pos:R:3 Time=0\n{rows}\n')
    return path


def write_unreadable(d: Path) -> dict[str, Path]:
    """Things that are not configurations: binary garbage, an empty xyz, a text note, a directory."""
    (d / "garbage.bin").write_bytes(bytes(range(256)) * 20)
    (d / "empty.xyz").write_text("")
    (d / "notes.txt").write_text("these are my notes, not a configuration\n")
    (d / "a_folder").mkdir()
    return {"garbage": d / "garbage.bin", "empty": d / "empty.xyz", "unknown": d / "notes.txt", "folder": d / "a_folder"}
