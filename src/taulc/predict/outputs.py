"""Output writers: per-atom predictions in the input's company (extxyz, LAMMPS dump, HOOMD gsd), PNG maps, CSV.

Every per-atom file keeps the input's particle order, ids, coordinates, box and origin, so the
predictions join back to the input row by row (``taulc-predict --out-format``):

``extxyz``       ``species`` (element symbols, when the input has them), ``pos``, every per-atom array of
                 the input as written (``id``, ``type`` 1/2 or A/B, velocities, extra columns),
                 ``species_id`` (0 = big, 1 = small) and one column per prediction (``H``, ``slow_pred``,
                 ``ln_tau_lc_pred``, ``logit``, ``p_slow``, ``mobility_pred``); the comment line carries
                 the cell (``Lattice``, ``Origin``), ``pbc``, the input's own info keys, then the source
                 file and frame, the model, ``p_H`` / ``H_mean`` and the domain columns;
``lammps-dump``  a LAMMPS dump input line for line (header, timestep, box, columns) plus the prediction
                 columns; other inputs as ``id type [element] x y z [vx vy vz]`` plus the predictions;
``gsd``          the input gsd frame (every chunk) or one built from the input, with the predictions in
                 ``log/particles/taulc/<name>`` and frame values in ``log/taulc/<name>``.

A taulc name the input already uses is written as ``taulc_<name>`` (the input's data keep their names).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from taulc.data.formats import SOURCE_KEY, source_of
from taulc.data.lammps_dump import box_lines
from taulc.models.outputs import SCORE, Output
from taulc.predict.predictor import Prediction

log = logging.getLogger(__name__)

__all__ = [
    "write_extxyz_frame",
    "write_dump_frame",
    "gsd_frame",
    "input_columns",
    "MapPanel",
    "map_panel",
    "hardness_map",
    "csv_bytes",
]

_FLOAT = "%.10g"


def _quote(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "T" if v else "F"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


_RESERVED_INFO = {"Lattice", "Properties", "pbc", "Origin"}


def _ase_kind(a: np.ndarray) -> str:
    return {"i": "I", "u": "I", "f": "R", "b": "L"}.get(a.dtype.kind, "S")


def _chemical(labels: np.ndarray) -> bool:
    from ase.data import chemical_symbols

    return bool(labels.size) and set(np.unique(labels.astype(str)).tolist()) <= set(chemical_symbols[1:])


def _free(name: str, taken: set[str]) -> str:
    """``name``, or ``taulc_<name>`` when the input already uses it (the input's own data keep their names)."""
    return f"taulc_{name}" if name in taken else name


def input_columns(p: Prediction, symbols: Sequence[str]) -> tuple[np.ndarray | None, list[tuple[str, np.ndarray]]]:
    """(element symbols or None, [(name, array)]) of the input frame as the user wrote it.

    Element symbols: the input's own when it has chemical symbols (ASE extxyz, gsd / xyz / dump ``element``
    names such as ``Ni``/``P``), taulc's (``symbols[species]``) for frames given as arrays, else None (types
    ``1``/``2`` or ``A``/``B`` come back in their own ``type`` / ``element`` column, not as invented elements).
    """
    fin = p.frame_in
    if fin is None or fin.atoms is None:
        return np.asarray(symbols, dtype=object)[p.species], [("id", fin.ids if fin is not None else np.arange(1, p.n_atoms + 1))]
    atoms = fin.atoms
    src = source_of(atoms)
    cols = [(name, np.asarray(atoms.arrays[key])) for name, key in src.arrays.items() if key in atoms.arrays]
    sym = None
    if src.fmt in ("xyz", "atoms") and np.all(atoms.numbers > 0):
        sym = np.asarray(atoms.get_chemical_symbols(), dtype=object)
    else:
        for k, (name, a) in enumerate(cols):
            if name in ("type", "element") and a.dtype.kind in "US" and _chemical(a):
                sym = a.astype(object)
                if name == "type":
                    cols.pop(k)  # written as 'species' (ASE and OVITO read element names there)
                break
    if not any(name == "id" for name, _ in cols):
        cols.insert(0, ("id", fin.ids))
    return sym, cols


def _info_items(p: Prediction, info: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    """The input's own frame info (scalars, numeric vectors) followed by taulc's keys (renamed on collision)."""
    out: list[tuple[str, Any]] = []
    atoms = p.frame_in.atoms if p.frame_in is not None else None
    if atoms is not None:
        for k, v in atoms.info.items():
            if k == SOURCE_KEY or k in _RESERVED_INFO:
                continue
            if isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype.kind in "iuf":
                out.append((k, " ".join(repr(x) for x in v.tolist())))
            elif isinstance(v, (str, int, float, bool, np.generic)):
                out.append((k, v))
    taken = {k for k, _ in out}
    meta: dict[str, Any] = {"source": p.source, "frame": p.frame}
    if p.frame_in is not None and p.frame_in.transform:
        meta["transform"] = ",".join(p.frame_in.transform)
    meta.update(info or {})
    meta.update(p.domain)
    out += [(_free(k, taken), v) for k, v in meta.items()]
    return out


def write_extxyz_frame(fh: IO[str], p: Prediction, symbols: Sequence[str], info: Mapping[str, Any] | None = None) -> None:
    """Append one frame of ``p`` to an open text file as extended XYZ.

    Particles keep the input's order, coordinates, cell and origin (``Origin`` key), and every per-atom
    array and info key the input had (ids, types as written - ``1``/``2``, ``A``/``B`` -, velocities, extra
    columns); then ``species_id`` (0 = big, 1 = small) and one column per prediction.  A frame rotated or
    mirrored into the shear frame says so in ``transform``.  Input names win: a taulc column or key that
    the input already uses is written as ``taulc_<name>``.
    """
    n = p.n_atoms
    fin = p.frame_in
    pos = fin.input_positions if fin is not None else p.positions
    cell = fin.input_cell if fin is not None else p.cell
    origin = fin.origin if fin is not None else np.zeros(3)
    sym, user = input_columns(p, symbols)
    cols: list[tuple[str, np.ndarray]] = ([("species", sym)] if sym is not None else []) + [("pos", pos)] + user
    taken = {name for name, _ in cols}
    cols.append((_free("species_id", taken), p.species))
    cols += [(_free(k, taken), v) for k, v in p.values.items()]
    props, fmts, data = [], [], []
    for name, a in cols:
        a = np.asarray(a)
        a2 = a.reshape(n, -1)
        kind = "S" if name == "species" else _ase_kind(a2)
        props.append(f"{name}:{kind}:{a2.shape[1]}")
        f = {"S": "%s", "I": "%d", "R": _FLOAT, "L": "%s"}[kind]
        fmts += [f] * a2.shape[1]
        if kind == "L":
            a2 = np.where(a2, "T", "F")
        elif kind == "S":
            a2 = a2.astype(str)
        data += list(a2.T)
    lattice = " ".join(repr(float(v)) for v in cell.reshape(-1))
    head = (
        f'Lattice="{lattice}" Origin="{" ".join(repr(float(v)) for v in origin)}" Properties={":".join(props)} '
        'pbc="T T T" ' + " ".join(f"{k}={_quote(v)}" for k, v in _info_items(p, info))
    )
    fmt = " ".join(fmts) + "\n"
    fh.write(f"{n}\n{head}\n")
    fh.write("".join(fmt % row for row in zip(*(c.tolist() for c in data))))


def _timestep(p: Prediction) -> int:
    info = p.frame_in.info if p.frame_in is not None else p.info
    for k in ("timestep", "step", "Step", "time_step"):
        v = info.get(k)
        if isinstance(v, (int, np.integer)) or (isinstance(v, float) and v == int(v)):
            return int(v)
    return int(p.frame)


def write_dump_frame(fh: IO[str], p: Prediction, symbols: Sequence[str]) -> None:
    """Append one frame of ``p`` to an open text file as a LAMMPS text dump (``read_dump`` conventions).

    A LAMMPS dump input comes back line for line: its header (timestep, box) and atom lines as read,
    with the prediction columns appended to ``ITEM: ATOMS``.  Other inputs get ``id type [element] x y z
    [vx vy vz]`` in the input's order, box and origin (``type``: the input's integer types, else 1 = big,
    2 = small with the input's names in ``element``), then the predictions.
    """
    fin = p.frame_in
    src = source_of(fin.atoms) if fin is not None and fin.atoms is not None else None
    names = list(p.values)
    pred_fmt = " ".join("%d" if np.issubdtype(p.values[k].dtype, np.integer) else _FLOAT for k in names)
    pred_rows = [pred_fmt % row for row in zip(*(p.values[k].tolist() for k in names))]
    if src is not None and src.dump is not None:
        d = src.dump
        pred_names = [_free(k, set(d.columns)) for k in names]
        fh.write("\n".join(d.header) + f"\nITEM: ATOMS {' '.join(d.columns + pred_names)}\n")
        fh.write("".join(f"{ln.rstrip()} {r}\n" for ln, r in zip(d.lines, pred_rows)))
        return
    n = p.n_atoms
    pos = fin.input_positions if fin is not None else p.positions
    cell = fin.input_cell if fin is not None else p.cell
    origin = fin.origin if fin is not None else np.zeros(3)
    ids = fin.ids if fin is not None else np.arange(1, n + 1)
    sym, user = input_columns(p, symbols)
    labels = next((a for name, a in user if name in ("type", "element") and a.dtype.kind in "US"), sym)
    typ = next((a for name, a in user if name == "type" and a.dtype.kind in "iu"), None)
    cols: list[tuple[str, str, np.ndarray]] = [("id", "%d", ids), ("type", "%d", p.species + 1 if typ is None else typ)]
    if typ is None and labels is not None:
        cols.append(("element", "%s", np.asarray(labels).astype(str)))
    cols += [(c, _FLOAT, pos[:, k]) for k, c in enumerate("xyz")]
    vel = fin.atoms.arrays.get("lj_velocities") if fin is not None and fin.atoms is not None else None
    if vel is not None:
        cols += [(c, _FLOAT, np.asarray(vel)[:, k]) for k, c in enumerate(("vx", "vy", "vz"))]
    head = [
        "ITEM: TIMESTEP",
        str(_timestep(p)),
        "ITEM: NUMBER OF ATOMS",
        str(n),
        *box_lines(cell, origin),
        f"ITEM: ATOMS {' '.join([c for c, _, _ in cols] + [_free(k, {c for c, _, _ in cols}) for k in names])}",
    ]
    fmt = " ".join(f for _, f, _ in cols)
    fh.write("\n".join(head) + "\n")
    fh.write("".join(f"{fmt % row} {r}\n" for row, r in zip(zip(*(a.tolist() for _, _, a in cols)), pred_rows)))


def gsd_frame(p: Prediction, symbols: Sequence[str], info: Mapping[str, float] | None = None) -> Any:
    """One ``gsd.hoomd.Frame`` of ``p``: the input's own frame when it was a gsd file (every chunk kept), else
    the input's box, particles wrapped into the centred HOOMD box (image flags recording the shift), type
    names as the user wrote them, velocities and ids; predictions in ``log/particles/taulc/<name>``, frame
    values (``p_H``, ``in_domain``, ...) in ``log/taulc/<name>``."""
    import gsd.hoomd

    fin = p.frame_in
    src = source_of(fin.atoms) if fin is not None and fin.atoms is not None else None
    if src is not None and src.gsd is not None:
        fr = src.gsd
    else:
        fr = gsd.hoomd.Frame()
        n = p.n_atoms
        pos = fin.input_positions if fin is not None else p.positions
        cell = fin.input_cell if fin is not None else p.cell
        origin = fin.origin if fin is not None else np.zeros(3)
        frac = np.linalg.solve(cell.T, (pos - origin).T).T
        img = np.floor(frac)
        sym, user = input_columns(p, symbols)
        labels = next((a for name, a in user if name in ("type", "element")), sym)
        labels = (p.species.astype(str) if labels is None else np.asarray(labels)).astype(str)
        types, typeid = np.unique(labels, return_inverse=True)
        fr.configuration.step = _timestep(p)
        ly, lz = cell[1, 1], cell[2, 2]
        fr.configuration.box = [cell[0, 0], ly, lz, cell[1, 0] / ly, cell[2, 0] / lz, cell[2, 1] / lz]
        fr.particles.N = n
        fr.particles.types = types.tolist()
        fr.particles.typeid = typeid.astype(np.uint32)
        fr.particles.position = ((frac - img - 0.5) @ cell).astype(np.float32)
        fr.particles.image = img.astype(np.int32)
        vel = fin.atoms.arrays.get("lj_velocities") if fin is not None and fin.atoms is not None else None
        if vel is not None:
            fr.particles.velocity = np.asarray(vel, dtype=np.float32)
        fr.log["particles/taulc/id"] = np.asarray(fin.ids if fin is not None else np.arange(1, n + 1), dtype=np.int64)
    fr.log["particles/taulc/species_id"] = p.species.astype(np.int32)
    for k, v in p.values.items():
        fr.log[f"particles/taulc/{k}"] = np.asarray(v)
    for k, v in {**(info or {}), **p.domain}.items():
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            fr.log[f"taulc/{k}"] = np.asarray([v], dtype=np.float64)
    return fr


@dataclass
class MapPanel:
    """The particles of one x-y slab (|z - z0| <= thickness / 2) and their coloured value."""

    x: np.ndarray
    y: np.ndarray
    species: np.ndarray
    values: np.ndarray
    cell: np.ndarray
    title: str


def map_panel(p: Prediction, key: str, z0: float | None = None, thickness: float = 1.5) -> MapPanel:
    """Cut the slab of ``p`` centred at ``z0`` (default: mid-box) of the given thickness."""
    lz = float(p.cell[2, 2])
    zc = lz / 2 if z0 is None else float(z0)
    dz = (p.positions[:, 2] - zc + lz / 2) % lz - lz / 2  # periodic distance from the slab centre
    sel = np.abs(dz) <= thickness / 2
    s = p.summary()
    declared = next((o for o in p.outputs if o.name == key), None)
    extra = (
        "".join(f"  {col}={s[col]:.2f}" for col, _ in declared.summary if col in s)
        if declared is not None and declared.task == SCORE
        else ""
    )
    return MapPanel(
        p.positions[sel, 0],
        p.positions[sel, 1],
        p.species[sel],
        p.values[key][sel],
        p.cell,
        f"{p.source.rsplit('/', 1)[-1]}  frame {p.frame}  (z = {zc:.2f} ± {thickness / 2:g}){extra}",
    )


def hardness_map(
    panels: Sequence[MapPanel],
    path: str,
    *,
    score: Output,
    vmin: float,
    vmax: float,
    diameters: Sequence[float] = (1.0, 0.88),
) -> None:
    """Write a PNG: one x-y panel per slab, discs of diameter σ_αα coloured by the declared ``score`` output (a
    diverging colour map for a classification score), one common colour bar."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import EllipseCollection
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    n = len(panels)
    fig = Figure(figsize=(5.2 * n + 1.0, 5.0), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, n, squeeze=False)[0]
    diverging = score.task == SCORE
    cmap = "RdBu_r" if diverging else "viridis"
    norm = Normalize(vmin=vmin, vmax=vmax)
    coll = None
    d = np.asarray(diameters, dtype=float)
    for ax, pan in zip(axes, panels):
        c = pan.cell
        w = d[pan.species] * 0.9
        coll = EllipseCollection(
            w,
            w,
            np.zeros_like(w),
            units="xy",
            offsets=np.column_stack([pan.x, pan.y]),
            offset_transform=ax.transData,
            cmap=cmap,
            norm=norm,
            edgecolors="k",
            linewidths=0.2,
        )
        coll.set_array(np.asarray(pan.values, dtype=float))
        ax.add_collection(coll)
        box = np.array([[0, 0], [c[0, 0], 0], [c[0, 0] + c[1, 0], c[1, 1]], [c[1, 0], c[1, 1]], [0, 0]])
        ax.plot(box[:, 0], box[:, 1], "k-", lw=0.8)
        xs = box[:, 0]
        ax.set_xlim(xs.min() - 0.7, xs.max() + 0.7)
        ax.set_ylim(-0.7, c[1, 1] + 0.7)
        ax.set_aspect("equal")
        ax.set_xlabel("x (flow)")
        ax.set_ylabel("y (gradient)")
        ax.set_title(pan.title, fontsize=8)
    assert coll is not None
    cb = fig.colorbar(coll, ax=list(axes), shrink=0.85)
    cb.set_label(f"{score.label}  ({score.name} > 0: predicted slow)" if diverging else score.label)
    fig.savefig(path, format="png")


def csv_bytes(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """CSV of dict rows; the header is the union of keys in first-seen order."""
    fields: list[str] = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue().encode()
