"""Neighbour lists for periodic boxes with a tilt (xy, and optionally xz/yz).

Conventions (docs/CONTRACTS.md): ``cell`` rows are the lattice vectors
``a = (Lx, 0, 0)``, ``b = (xy, Ly, 0)``, ``c = (xz, yz, Lz)``; positions are
Cartesian with the box origin at 0.

Pair vectors always point from the centre ``i`` to the neighbour ``j``::

    vectors[p] = r_j - r_i + n_a a + n_b b + n_c c      (the periodic image within the cut-off)

All periodic images of ``j`` (and of ``i`` itself, never the zero vector) that
lie within the cut-off are returned, so cut-offs larger than half the box are
handled exactly (multiple images), not silently truncated to the minimum image.
Pairs come from :mod:`vesin` (C++ cell list, handles triclinic cells).

Memory is bounded by :func:`iter_neighbor_blocks`: when the number of pairs
would exceed ``max_pairs`` the box is cut into slabs along z (the planes
z = const are spanned by ``a`` and ``b``, so the slabs respect the tilt) and
each slab's centres are processed against the slab plus a halo of explicit
periodic images, non-periodic along z.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

__all__ = [
    "PairList",
    "NeighborBlock",
    "validate_cell",
    "validate_system",
    "perpendicular_widths",
    "wrap_positions",
    "minimum_image",
    "neighbor_list",
    "iter_neighbor_blocks",
]

#: default bound on unordered pairs held at once (~65 bytes each incl. index maps -> ~2 GB)
DEFAULT_MAX_PAIRS = 30_000_000


@dataclass
class PairList:
    """Pairs ``(i, j)`` with ``vectors = r_j - r_i`` (image) and ``distances = |vectors|``."""

    i: np.ndarray  # (P,) int64
    j: np.ndarray  # (P,) int64
    vectors: np.ndarray  # (P, 3) float64
    distances: np.ndarray  # (P,) float64

    def __len__(self) -> int:
        return int(self.i.shape[0])


@dataclass
class NeighborBlock:
    """A half list: each unordered pair (i, j, image) once, ``vectors = r_j - r_i``.

    The pair counts for centre ``i`` (vector ``r_j - r_i``) where ``i_active``
    and for centre ``j`` (vector ``r_i - r_j``) where ``j_active``; ``None``
    means all pairs are active. Over all blocks of
    :func:`iter_neighbor_blocks` every *directed* pair (centre, neighbour,
    image) is active exactly once. ``centers`` are the particles whose
    neighbourhoods this block completes.
    """

    centers: np.ndarray  # (Q,) int64 ascending
    i: np.ndarray  # (P,) int64
    j: np.ndarray  # (P,) int64
    vectors: np.ndarray  # (P, 3) float64
    distances: np.ndarray  # (P,) float64
    i_active: np.ndarray | None = None
    j_active: np.ndarray | None = None
    owner: object = field(default=None, repr=False)  # keeps zero-copy vesin buffers alive

    def __len__(self) -> int:
        return int(self.i.shape[0])

    def within(self, cutoff: float) -> NeighborBlock:
        """The sub-block of pairs with distance < cutoff (``self`` when nothing is dropped)."""
        keep = self.distances < cutoff
        if keep.all():
            return self
        return NeighborBlock(
            self.centers,
            self.i[keep],
            self.j[keep],
            self.vectors[keep],
            self.distances[keep],
            None if self.i_active is None else self.i_active[keep],
            None if self.j_active is None else self.j_active[keep],
        )

    def directed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Active directed pairs as (centre, neighbour, vector centre->neighbour, distance)."""
        fi = slice(None) if self.i_active is None else self.i_active
        fj = slice(None) if self.j_active is None else self.j_active
        return (
            np.concatenate([self.i[fi], self.j[fj]]),
            np.concatenate([self.j[fi], self.i[fj]]),
            np.concatenate([self.vectors[fi], -self.vectors[fj]]),
            np.concatenate([self.distances[fi], self.distances[fj]]),
        )


def validate_cell(cell: np.ndarray) -> np.ndarray:
    """Return ``cell`` as a (3, 3) float64 array; raise ``ValueError`` if it is not a valid cell.

    The cell must have rows ``a = (Lx, 0, 0)``, ``b = (xy, Ly, 0)``,
    ``c = (xz, yz, Lz)`` with positive diagonal (ASE / LAMMPS prism form).
    """
    c = np.asarray(cell, dtype=np.float64)
    if c.shape != (3, 3):
        raise ValueError(f"cell: expected shape (3, 3) with lattice vectors as rows, got {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("cell: contains non-finite values")
    if c[0, 1] != 0.0 or c[0, 2] != 0.0 or c[1, 2] != 0.0:
        raise ValueError(
            "cell: expected the lower-triangular ASE/LAMMPS form a=(Lx,0,0), b=(xy,Ly,0), "
            f"c=(xz,yz,Lz); got a={c[0].tolist()}, b={c[1].tolist()}"
        )
    if np.any(np.diag(c) <= 0.0):
        raise ValueError(f"cell: diagonal (Lx, Ly, Lz) must be positive, got {np.diag(c).tolist()}")
    return c


def validate_system(
    positions: np.ndarray, cell: np.ndarray, species: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Check shapes/dtypes of ``positions`` (N, 3), ``cell`` (3, 3) and ``species`` (N,) in {0, 1}."""
    c = validate_cell(cell)
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise ValueError(f"positions: expected shape (N, 3), got {pos.shape}")
    if not np.all(np.isfinite(pos)):
        raise ValueError("positions: contains non-finite values")
    sp = None
    if species is not None:
        sp = np.asarray(species)
        if sp.shape != (pos.shape[0],):
            raise ValueError(f"species: expected shape ({pos.shape[0]},), got {sp.shape}")
        if not np.issubdtype(sp.dtype, np.integer):
            if not np.all(sp == np.round(sp)):
                raise ValueError("species: expected integers 0 (big) / 1 (small)")
        sp = sp.astype(np.int64)
        if sp.size and (sp.min() < 0 or sp.max() > 1):
            raise ValueError(f"species: expected values in {{0, 1}}, got range [{sp.min()}, {sp.max()}]")
    return pos, c, sp


def perpendicular_widths(cell: np.ndarray) -> np.ndarray:
    """Distances between opposite faces of the cell (3,): ``V / |b x c|``, ``V / |c x a|``, ``V / |a x b|``."""
    c = validate_cell(cell)
    vol = abs(np.linalg.det(c))
    return np.array(
        [
            vol / np.linalg.norm(np.cross(c[1], c[2])),
            vol / np.linalg.norm(np.cross(c[2], c[0])),
            vol / np.linalg.norm(np.cross(c[0], c[1])),
        ]
    )


def wrap_positions(positions: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Map positions into the cell (fractional coordinates in [0, 1))."""
    pos, c, _ = validate_system(positions, cell)
    frac = pos @ np.linalg.inv(c)
    frac -= np.floor(frac)
    frac[frac >= 1.0] = 0.0  # guard the rounding edge
    return frac @ c


def minimum_image(vectors: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Shortest periodic image of each vector (..., 3) under the (tilted) cell.

    Rounds fractional coordinates, then searches the 27 neighbouring images,
    which is exact for any tilt up to the LAMMPS limit |xy| <= Lx/2.
    """
    c = validate_cell(cell)
    v = np.asarray(vectors, dtype=np.float64)
    shape = v.shape
    v = v.reshape(-1, 3)
    frac = v @ np.linalg.inv(c)
    v = (frac - np.round(frac)) @ c
    shifts = np.array([[p, q, r] for p in (-1, 0, 1) for q in (-1, 0, 1) for r in (-1, 0, 1)], dtype=np.float64)
    img = shifts @ c  # (27, 3)
    best = v.copy()
    best_d2 = np.einsum("ij,ij->i", v, v)
    for s in img:  # 27 vectorised passes, not a loop over pairs
        cand = v + s
        d2 = np.einsum("ij,ij->i", cand, cand)
        better = d2 < best_d2 - 1e-15
        best[better] = cand[better]
        best_d2[better] = d2[better]
    return best.reshape(shape)


def _vesin_pairs(
    points: np.ndarray,
    box: np.ndarray,
    periodic: bool | list[bool],
    cutoff: float,
    full: bool,
    n_threads: int,
    copy: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, object]:
    """vesin pairs (i, j, d, D = r_j - r_i + shift) and the calculator owning the buffers (copy=False)."""
    import vesin

    nl = vesin.NeighborList(cutoff=float(cutoff), full_list=full, sorted=False, n_threads=n_threads)
    out = nl.compute(points, box, periodic, "ijdD", copy=copy)
    if not copy:  # zero-copy views of vesin's buffers: make each array keep the calculator alive
        out = [np.asarray(_Owned(a, nl)) for a in out]
    i, j, d, vec = out
    # vesin returns size_t indices: reinterpret (no copy) as int64 so arithmetic stays integral
    return i.view(np.int64), j.view(np.int64), d, vec, nl


class _Owned:
    """Array-interface wrapper whose numpy views keep ``owner`` (a vesin calculator) alive."""

    def __init__(self, arr: np.ndarray, owner: object) -> None:
        self.__array_interface__ = arr.__array_interface__
        self._arr = arr
        self._owner = owner


def neighbor_list(
    positions: np.ndarray,
    cell: np.ndarray,
    cutoff: float,
    *,
    full: bool = True,
    n_threads: int = 0,
) -> PairList:
    """All pairs within ``cutoff`` in one vesin call (memory ~ 60 bytes per pair).

    ``full=True`` returns both directions (i->j and j->i); ``full=False`` each
    unordered pair (with its image) once. ``vectors = r_j - r_i`` (image).
    Use :func:`iter_neighbor_blocks` for large systems / long cut-offs.
    """
    pos, c, _ = validate_system(positions, cell)
    if cutoff <= 0:
        raise ValueError(f"cutoff must be > 0, got {cutoff}")
    i, j, d, vec, _ = _vesin_pairs(wrap_positions(pos, c), c, True, cutoff, full, n_threads)
    return PairList(i, j, vec, d)


def _n_slabs(est: float, lz: float, cutoff: float, max_pairs: int) -> int:
    """Fewest z-slabs whose slab + halo (thickness Lz/n + 2 rc) holds <= max_pairs pairs."""
    if est <= max_pairs:
        return 1
    n_max = max(1, int(lz // 1.0))
    for n in range(2, n_max + 1):
        if est * min(1.0, (lz / n + 2.0 * cutoff) / lz) <= max_pairs:
            return n
    n = max(2, min(n_max, int(round(lz / (2.0 * cutoff)))))
    log.warning(
        "neighbour list: max_pairs=%d cannot be met with cut-off %.2f (halo overhead); using %d z-slabs "
        "of ~%.3g pairs each - raise max_pairs for speed, or expect more memory",
        max_pairs,
        cutoff,
        n,
        est * min(1.0, (lz / n + 2.0 * cutoff) / lz),
    )
    return n


def iter_neighbor_blocks(
    positions: np.ndarray,
    cell: np.ndarray,
    cutoff: float,
    *,
    max_pairs: int = DEFAULT_MAX_PAIRS,
    n_threads: int = 0,
) -> Iterator[NeighborBlock]:
    """Yield half lists within ``cutoff`` in blocks (bounded memory), see :class:`NeighborBlock`.

    With the estimated unordered pair count ``N rho 2/3 pi rc^3`` below
    ``max_pairs`` one block holds the whole periodic system; otherwise the box
    is cut into z-slabs, each computed against the slab plus explicit periodic
    images of its halo (non-periodic along z), so all images are still found.
    Slab blocks also hold the halo-halo pairs, with both activity flags False.
    """
    pos, c, _ = validate_system(positions, cell)
    if cutoff <= 0:
        raise ValueError(f"cutoff must be > 0, got {cutoff}")
    n = pos.shape[0]
    if n == 0:
        return
    pos = wrap_positions(pos, c)
    vol = abs(np.linalg.det(c))
    est = n * (n / vol) * 2.0 / 3.0 * math.pi * cutoff**3
    lz = c[2, 2]
    n_slabs = _n_slabs(est, lz, cutoff, max_pairs)
    if n_slabs == 1:
        i, j, d, vec, owner = _vesin_pairs(pos, c, True, cutoff, False, n_threads, copy=False)
        yield NeighborBlock(np.arange(n), i, j, vec, d, owner=owner)
        return
    log.debug("neighbour blocks: %d z-slabs (estimated %.3g pairs)", n_slabs, est)
    z = pos[:, 2]
    edges = np.linspace(0.0, lz, n_slabs + 1)
    nimg = int(math.ceil(cutoff / lz)) + 1
    for k in range(n_slabs):
        z0, z1 = edges[k], edges[k + 1]
        in_slab = (z >= z0) & (z < z1) if k < n_slabs - 1 else (z >= z0)
        q = np.nonzero(in_slab)[0]
        if q.size == 0:
            continue
        pts = [pos[q]]
        gidx = [q]
        for m in range(-nimg, nimg + 1):
            zm = z + m * lz
            sel = (zm >= z0 - cutoff) & (zm < z1 + cutoff)
            if m == 0:
                sel &= ~in_slab
            h = np.nonzero(sel)[0]
            if h.size:
                pts.append(pos[h] + m * c[2])
                gidx.append(h)
        sub = np.concatenate(pts)
        sub[:, 2] -= z0 - cutoff
        g = np.concatenate(gidx)
        box = c.copy()
        box[2] = (0.0, 0.0, (z1 - z0) + 2.0 * cutoff + 1.0)
        i, j, d, vec, owner = _vesin_pairs(sub, box, [True, True, False], cutoff, False, n_threads, copy=False)
        # halo-halo pairs stay in the block with both flags False (cheaper than copying them out)
        ia = i < q.size
        ja = j < q.size
        yield NeighborBlock(q, g[i], g[j], vec, d, ia, ja, owner=owner)
        del i, j, d, vec, owner, ia, ja
