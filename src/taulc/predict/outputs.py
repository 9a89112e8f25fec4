"""Output writers: extxyz with per-atom predictions, PNG hardness maps, CSV summaries.

extxyz columns: ``species`` (element symbol, as OVITO and ASE expect),
``pos`` (as in the input: same order, coordinates, cell and ``Origin``), ``id`` (the input's
particle ids, else 1..N in file order), ``species_id`` (0 = big, 1 = small) and one column per prediction
(``H``, ``slow_pred``, ``ln_tau_lc_pred``, ``logit``, ``p_slow``,
``mobility_pred``).  The comment line carries the cell (``Lattice``), ``pbc``,
the source file and frame, the model and the frame's ``p_H`` / ``H_mean``.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from taulc.predict.predictor import Prediction

log = logging.getLogger(__name__)

__all__ = ["write_extxyz_frame", "MapPanel", "map_panel", "hardness_map", "csv_bytes"]

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


def write_extxyz_frame(fh: IO[str], p: Prediction, symbols: Sequence[str], info: Mapping[str, Any] | None = None) -> None:
    """Append one frame of ``p`` to an open text file as extended XYZ.

    Particles keep the input's order, ids (``id`` column), coordinates, cell and origin
    (``Origin`` key), so the predictions join back to the input file row by row; a frame
    rotated or mirrored into the shear frame says so in ``transform``.
    """
    n = p.n_atoms
    names = list(p.values)
    fin = p.frame_in
    pos = fin.input_positions if fin is not None else p.positions
    cell = fin.input_cell if fin is not None else p.cell
    origin = fin.origin if fin is not None else np.zeros(3)
    ids = fin.ids if fin is not None else np.arange(1, n + 1)
    props = "species:S:1:pos:R:3:id:I:1:species_id:I:1" + "".join(
        f":{k}:{'I' if np.issubdtype(p.values[k].dtype, np.integer) else 'R'}:1" for k in names
    )
    lattice = " ".join(repr(float(v)) for v in cell.reshape(-1))
    meta: dict[str, Any] = {"source": p.source, "frame": p.frame}
    if fin is not None and fin.transform:
        meta["transform"] = ",".join(fin.transform)
    meta.update({k: v for k, v in (info or {}).items()})
    meta.update({k: v for k, v in p.domain.items()})
    head = (f'Lattice="{lattice}" Origin="{" ".join(repr(float(v)) for v in origin)}" Properties={props} pbc="T T T" '
            + " ".join(f"{k}={_quote(v)}" for k, v in meta.items()))
    sym = np.asarray(symbols, dtype=object)[p.species]
    fmt = "%s " + " ".join([_FLOAT] * 3) + " %d %d" + "".join(
        " %d" if np.issubdtype(p.values[k].dtype, np.integer) else " " + _FLOAT for k in names
    ) + "\n"
    cols = [sym, pos[:, 0], pos[:, 1], pos[:, 2], ids, p.species, *(p.values[k] for k in names)]
    fh.write(f"{n}\n{head}\n")
    fh.write("".join(fmt % row for row in zip(*(c.tolist() for c in cols))))


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
    extra = f"  p_H={s['p_H']:.2f}  mean H={s['H_mean']:.2f}" if "p_H" in s else (
        f"  p_slow={s['p_slow_pred']:.2f}" if "p_slow_pred" in s else "")
    return MapPanel(p.positions[sel, 0], p.positions[sel, 1], p.species[sel], p.values[key][sel], p.cell,
                    f"{p.source.rsplit('/', 1)[-1]}  frame {p.frame}  (z = {zc:.2f} ± {thickness / 2:g}){extra}")


_LABELS = {"H": "hardness H  (> 0: predicted slow)", "logit": "slow/fast logit  (> 0: predicted slow)"}


def hardness_map(
    panels: Sequence[MapPanel], path: str, *, score: str, vmin: float, vmax: float, diameters: Sequence[float] = (1.0, 0.88),
) -> None:
    """Write a PNG: one x-y panel per slab, discs of diameter σ_αα coloured by ``score``, one common colour bar."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.collections import EllipseCollection  # noqa: PLC0415
    from matplotlib.colors import Normalize  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    n = len(panels)
    fig = Figure(figsize=(5.2 * n + 1.0, 5.0), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, n, squeeze=False)[0]
    diverging = score in ("H", "logit")
    cmap = "RdBu_r" if diverging else "viridis"
    norm = Normalize(vmin=vmin, vmax=vmax)
    coll = None
    d = np.asarray(diameters, dtype=float)
    for ax, pan in zip(axes, panels):
        c = pan.cell
        w = d[pan.species] * 0.9
        coll = EllipseCollection(w, w, np.zeros_like(w), units="xy", offsets=np.column_stack([pan.x, pan.y]),
                                 offset_transform=ax.transData, cmap=cmap, norm=norm, edgecolors="k", linewidths=0.2)
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
    cb.set_label(_LABELS.get(score, score.replace("_pred", " (predicted)")))
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
