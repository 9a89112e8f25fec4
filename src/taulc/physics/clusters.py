"""Convective clusters of cage jumps in steady shear (Zeng, Yu & Wang 2025, Methods and Figs. 1-4).

1. **Demarcation** (Methods, "coarse sieve" and "undersize sieve") of the cage-jump
   events accumulated over t_χ:

   * coarse-grained jump density ``ρ(r) = Σ_e φ(r - r_e)``, ``φ ∝ e^{-r/d}`` normalised
     to unit integral (events per σ³), d = first minimum of g(r); evaluated with FFTs
     on a periodic grid spanning the (tilted) cell, so periodic images and the
     Lees-Edwards shift of the sheared cell are exact;
   * background threshold ρ_th by the paper's iteration: ``ρ_0 = max ρ``,
     ``ρ_{i+1} = <ρ | ρ < ρ_i>`` until ``|ρ_{i+1} - ρ_i| / ρ_{i+1} < C`` (C = 10 %), averaged
     over windows with different t_ini (:func:`background_threshold`);
   * growth from the local maxima of ρ outwards while ``ρ >= ρ_th`` (a seeded flood
     over descending levels of ρ: where two growing clusters meet they stop, so a
     super-threshold region with two maxima gives two clusters);
   * lower volume limit ``V >= C' V_stz`` (C' = 2, V_stz = 4/3 π r_stz³ of a cage-jump
     spot, diameter ≈ 3 σ);
   * undersize sieve: the cluster is re-sampled on a grid of spacing d' (≈ σ, the
     paper's L/30 of a 16500-particle box) and a node is kept when the event density
     in a sphere of radius √2 d'/2 around it is ``>= ρ_th``.

2. **Convective traceback** (Fig. 1c): a region defined in the cell at the reference
   time t_ref contains particle i at time t when its position advected with the
   affine flow to t_ref, ``r + (γ(t_ref) - γ(t)) y e_x``, falls inside it (the map
   takes lattice vectors of the cell at t to lattice vectors of the cell at t_ref,
   so any periodic image gives the same answer, through box flips).

3. **Life cycle** of a cluster (Fig. 2a-d): σ_c(t) (Eq. 4, atomic stresses of Eq. 2),
   γ_c(t) of Eq. 5-7 in two readings (incremental, summed over frames: ≈ γ̇ t by
   construction; and referenced to the cluster's configuration at t_0, which can
   fall behind the applied strain when the cluster rearranges; see
   :mod:`taulc.physics.falk_langer`), n_cj(t), P_ext(t), R(t) and the characteristic
   times t_0 ... t_3 (operational definitions in :func:`characteristic_times`).

4. **Scaling** helpers: ξ_c = (3 V̄_c / 4π)^{1/3} (Fig. 3c), P_c(t) of Fig. 3a (fraction of
   particles inside convective clusters alive at t, :func:`convective_fraction`), η_c of Eq. 8, and the
   jump-jump correlation g_cj(r) with its anisotropy α(r) (Eq. 10, Fig. 4b-c).
   Power-law fits (ν_c, λ) live in :mod:`taulc.analysis.cluster_analysis`.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from taulc.dynamics.events import CageEvents, cage_events, wrap_into_cell
from taulc.md.configuration import Configuration
from taulc.physics.falk_langer import deformation_gradients, shear_strain_increment
from taulc.physics.stress import atomic_shear_stress_frames, cluster_stress, particle_volumes
from taulc.structure.neighbors import minimum_image, neighbor_list
from taulc.structure.periodic_grid import (
    deposit_cic,
    grid_index,
    grid_positions,
    periodic_kernel_fft,
    periodic_label,
)

log = logging.getLogger(__name__)

__all__ = [
    "ClusterSet",
    "DemarcationSettings",
    "LifeCycle",
    "advect",
    "background_threshold",
    "characteristic_times",
    "cluster_radius",
    "convective_fraction",
    "demarcate",
    "eta_c",
    "ice_life_cycles",
    "iterate_threshold",
    "jump_correlation",
    "jump_density",
    "life_cycle",
    "mean_life_cycle",
    "sphere_region",
    "traceback_labels",
]

_SHIFTS = [(1, 0), (-1, 0), (1, 1), (-1, 1), (1, 2), (-1, 2)]


@dataclass(frozen=True)
class DemarcationSettings:
    """Parameters of the Methods' demarcation (defaults: the paper's 3D MD choices, σ units).

    Attributes:
        d: coarse-graining length of φ ∝ e^{-r/d} (first minimum of g_bb(r); KA ≈ 1.4).
        threshold_c: C of the ρ_th iteration (10 %).
        c_prime: C' of the lower volume limit C' V_stz (2).
        r_stz: radius of a cage-jump spot (STZ), V_stz = 4/3 π r_stz³ (spots ~3 σ across).
        grid_spacing: target node spacing of the coarse density grid.
        sieve_spacing: d' of the undersize sieve (None: no sieve, coarse clusters).
        n_levels: levels of the seeded flood (growth from the maxima).
    """

    d: float = 1.4
    threshold_c: float = 0.10
    c_prime: float = 2.0
    r_stz: float = 1.5
    grid_spacing: float = 0.35
    sieve_spacing: float | None = 0.8
    n_levels: int = 64

    def __post_init__(self) -> None:
        for name in ("d", "threshold_c", "c_prime", "r_stz", "grid_spacing"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"demarcation field '{name}' must be a positive number, got {v!r}")
        if self.sieve_spacing is not None and not self.sieve_spacing > 0:
            raise ValueError(f"demarcation field 'sieve_spacing' must be > 0 or None, got {self.sieve_spacing!r}")

    @property
    def v_min(self) -> float:
        """Lower volume limit C' V_stz."""
        return self.c_prime * 4.0 / 3.0 * math.pi * self.r_stz**3


def _n_nodes(cell: np.ndarray, spacing: float) -> int:
    return max(4, int(round(abs(np.linalg.det(cell)) ** (1.0 / 3.0) / spacing)))


@dataclass
class ClusterSet:
    """Clusters as labels on an ``n³`` grid spanning ``cell`` (0 = outside every cluster).

    ``volumes``, ``centres`` (ρ-weighted centroids, Cartesian), ``peak`` (max ρ) and
    ``coarse_volumes`` (before the sieve) are ``(K,)`` / ``(K, 3)`` for labels 1..K.
    """

    cell: np.ndarray
    labels: np.ndarray
    volumes: np.ndarray
    centres: np.ndarray
    peak: np.ndarray
    coarse_volumes: np.ndarray
    rho_th: float
    meta: dict = field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        return int(self.volumes.shape[0])

    @property
    def radii(self) -> np.ndarray:
        """Equivalent-sphere radius (3V/4π)^{1/3} of every cluster."""
        return (3.0 * self.volumes / (4.0 * math.pi)) ** (1.0 / 3.0)

    def label_of(self, points: np.ndarray) -> np.ndarray:
        """Cluster label (0: none) of Cartesian points in this cell (any periodic image)."""
        frac = np.asarray(points, dtype=np.float64) @ np.linalg.inv(self.cell)
        idx = grid_index(frac, self.labels.shape[0])
        return self.labels[idx[..., 0], idx[..., 1], idx[..., 2]]


# ----------------------------------------------------------------------------- demarcation
def jump_density(positions: np.ndarray, cell: np.ndarray, d: float, n_grid: int) -> np.ndarray:
    """Coarse-grained jump density ρ at the nodes of an ``n_grid³`` grid (events per unit volume).

    ρ(r) = Σ_e φ(|r - r_e|) with φ ∝ e^{-r/d} summed over periodic images and normalised
    so that ∫ρ dV = number of events (cloud-in-cell deposition + FFT convolution).
    """
    cell = np.asarray(cell, dtype=np.float64)
    pts = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    frac = np.mod(pts @ np.linalg.inv(cell), 1.0)
    dep = deposit_cic(frac, np.ones(len(pts)), n_grid)
    kf = periodic_kernel_fft(np.ascontiguousarray(cell).tobytes(), n_grid, float(d))
    conv = np.fft.irfftn(np.fft.rfftn(dep) * kf, s=dep.shape)
    v_node = abs(np.linalg.det(cell)) / n_grid**3
    return conv / (kf[0, 0, 0].real * v_node)


def iterate_threshold(rho: np.ndarray, c: float = 0.10, max_iter: int = 1000) -> float:
    """The Methods' background iteration: ρ_0 = max ρ, ρ_{i+1} = <ρ | ρ < ρ_i> until the
    relative change is below C."""
    r = np.asarray(rho, dtype=np.float64).ravel()
    cur = float(r.max())
    for _ in range(max_iter):
        below = r[r < cur]
        if below.size == 0:
            return cur
        avg = float(below.mean())
        if avg <= 0 or abs(avg - cur) / avg < c:
            return avg
        cur = avg
    return cur


def background_threshold(fields: list[np.ndarray], c: float = 0.10) -> float:
    """ρ_th: mean of the converged iteration over density fields of windows with different t_ini."""
    if not fields:
        raise ValueError("background_threshold needs at least one density field")
    return float(np.mean([iterate_threshold(f, c) for f in fields]))


def _grow(rho: np.ndarray, mask: np.ndarray, n_levels: int) -> np.ndarray:
    """Seeded flood over descending levels: labels grow from maxima, new seeds where none reaches."""
    lab = np.zeros(rho.shape, dtype=np.int64)
    if not mask.any():
        return lab
    vals = rho[mask]
    levels = np.unique(np.quantile(vals, np.linspace(1.0, 0.0, n_levels + 1)))[::-1]
    nxt = 1
    for lev in levels:
        active = mask & (rho >= lev)
        while True:
            cand = active & (lab == 0)
            if not cand.any():
                break
            best = np.zeros_like(lab)
            best_rho = np.full(rho.shape, -np.inf)
            for sh, ax in _SHIFTS:
                nl = np.roll(lab, sh, axis=ax)
                nr = np.roll(rho, sh, axis=ax)
                take = (nl > 0) & (nr > best_rho)
                best = np.where(take, nl, best)
                best_rho = np.where(take, nr, best_rho)
            grow = cand & (best > 0)
            if not grow.any():
                break
            lab[grow] = best[grow]
        rem = active & (lab == 0)
        if rem.any():
            comp, k = periodic_label(rem)
            lab[rem] = comp[rem] + nxt - 1
            nxt += k
    return lab


def _weighted_centres(rho: np.ndarray, lab: np.ndarray, peaks: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """ρ-weighted centroid of every cluster, periodic (offsets taken as minimum images from its peak)."""
    n = lab.shape[0]
    sel = lab > 0
    ks = lab[sel] - 1
    w = rho[sel]
    off = minimum_image(grid_positions(cell, n)[sel] - peaks[ks], cell)
    wsum = np.bincount(ks, weights=w, minlength=len(peaks))
    shift = np.stack([np.bincount(ks, weights=w * off[:, a], minlength=len(peaks)) for a in range(3)], axis=1)
    return peaks + shift / wsum[:, None]


def _sphere_counts(nodes: np.ndarray, events: np.ndarray, cell: np.ndarray, radius: float) -> np.ndarray:
    """Number of events within ``radius`` of each node (periodic, tilted; vesin pairs)."""
    if len(events) == 0 or len(nodes) == 0:
        return np.zeros(len(nodes), dtype=np.int64)
    pts = np.concatenate([nodes, events])
    pl = neighbor_list(pts, cell, radius, full=False)
    nn = len(nodes)
    a, b = pl.i, pl.j
    node_side = np.where((a < nn) & (b >= nn), a, np.where((b < nn) & (a >= nn), b, -1))
    node_side = node_side[node_side >= 0]
    return np.bincount(node_side, minlength=nn)


def demarcate(
    positions: np.ndarray, cell: np.ndarray, settings: DemarcationSettings | None = None, *, rho_th: float | None = None
) -> ClusterSet:
    """Cage-jump clusters of events at ``positions`` (Cartesian, any image) in ``cell``.

    ``rho_th`` defaults to the iteration on this window alone (pass the mean over
    several t_ini, :func:`background_threshold`, as the paper does).
    """
    s = settings or DemarcationSettings()
    cell = np.asarray(cell, dtype=np.float64)
    pts = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    vol = abs(np.linalg.det(cell))
    n = _n_nodes(cell, s.grid_spacing)
    rho = jump_density(pts, cell, s.d, n)
    th = iterate_threshold(rho, s.threshold_c) if rho_th is None else float(rho_th)
    lab = _grow(rho, (rho >= th) & (rho > 0), s.n_levels)  # no events: no cluster
    k = int(lab.max())
    coarse_vol = np.bincount(lab.ravel(), minlength=k + 1)[1:] * vol / n**3
    keep = np.nonzero(coarse_vol >= s.v_min)[0] + 1
    remap = np.zeros(k + 1, dtype=np.int64)
    remap[keep] = np.arange(1, len(keep) + 1)
    lab = remap[lab]
    k = len(keep)
    coarse_vol = coarse_vol[keep - 1]
    if k:
        peak = ndimage.maximum(rho, lab, index=np.arange(1, k + 1))
        at = ndimage.maximum_position(rho, lab, index=np.arange(1, k + 1))
        centres = _weighted_centres(rho, lab, grid_positions(cell, n)[tuple(np.asarray(at).T)], cell)
    else:
        peak, centres = np.zeros(0), np.zeros((0, 3))
    final, n_final = lab, n
    if s.sieve_spacing is not None and k:
        ns = _n_nodes(cell, s.sieve_spacing)
        nodes = grid_positions(cell, ns).reshape(-1, 3)
        node_lab = lab.ravel()[np.ravel_multi_index(grid_index(nodes @ np.linalg.inv(cell), n).T, lab.shape)]
        inside = node_lab > 0
        r_s = math.sqrt(2.0) * (vol ** (1.0 / 3.0) / ns) / 2.0
        counts = np.zeros(len(nodes), dtype=np.int64)
        counts[inside] = _sphere_counts(nodes[inside], pts, cell, r_s)
        dens = counts / (4.0 / 3.0 * math.pi * r_s**3)
        final = np.where(inside & (dens >= th), node_lab, 0).reshape(ns, ns, ns)
        n_final = ns
    volumes = np.bincount(final.ravel(), minlength=k + 1)[1:] * vol / n_final**3
    return ClusterSet(
        cell=cell,
        labels=final,
        volumes=volumes,
        centres=np.asarray(centres),
        peak=np.asarray(peak),
        coarse_volumes=coarse_vol,
        rho_th=th,
        meta={"n_coarse": n, "n_final": n_final, "n_events": len(pts), "rho_mean": float(rho.mean()), "settings": s.__dict__},
    )


def sphere_region(cell: np.ndarray, centre: np.ndarray, radius: float, n_grid: int = 40) -> ClusterSet:
    """A spherical region (periodic) as a one-cluster :class:`ClusterSet` (contrast regions, Fig. 2i-j)."""
    cell = np.asarray(cell, dtype=np.float64)
    nodes = grid_positions(cell, n_grid).reshape(-1, 3)
    d = minimum_image(nodes - np.asarray(centre, dtype=np.float64), cell)
    lab = (np.einsum("ij,ij->i", d, d) <= radius**2).astype(np.int64).reshape(n_grid, n_grid, n_grid)
    vol = lab.sum() * abs(np.linalg.det(cell)) / n_grid**3
    return ClusterSet(
        cell=cell,
        labels=lab,
        volumes=np.array([vol]),
        centres=np.asarray(centre, float)[None],
        peak=np.array([np.nan]),
        coarse_volumes=np.array([vol]),
        rho_th=float("nan"),
        meta={"sphere_radius": float(radius)},
    )


# ----------------------------------------------------------------------------- traceback
def advect(points: np.ndarray, delta_strain: float | np.ndarray) -> np.ndarray:
    """Affine flow u_x = γ̇ y (ylo = 0): ``r + Δγ y e_x`` (Δγ may be (M,) per point)."""
    out = np.array(points, dtype=np.float64, copy=True)
    out[..., 0] += np.asarray(delta_strain, dtype=np.float64) * out[..., 1]
    return out


def traceback_labels(clusters: ClusterSet, positions: np.ndarray, strain: float, strain_ref: float) -> np.ndarray:
    """Cluster label (0: none) of every particle at a time of accumulated strain ``strain``,
    for clusters defined at ``strain_ref`` (convective traceback, Fig. 1c)."""
    return clusters.label_of(advect(positions, strain_ref - strain))


# ----------------------------------------------------------------------------- life cycle
@dataclass
class LifeCycle:
    """Time series of one convective cluster (Fig. 2a-d) on the frames ``times``."""

    times: np.ndarray
    sigma: np.ndarray  # σ_c(t), Eq. 4
    gamma: np.ndarray  # incremental reading of Eq. 5-7: increments summed (0 at the first frame)
    n_members: np.ndarray
    n_cj: np.ndarray  # cage jumps of members per frame
    p_ext: np.ndarray  # fraction of extensional jumps in a sliding window
    residual: np.ndarray  # R(t) = 1 - N_res(t)/N_res(t_0) (NaN before t_0)
    volume: float
    t0: float = float("nan")
    t1: float = float("nan")
    t2: float = float("nan")
    t3: float = float("nan")
    #: Eq. 5-7 referenced to t_0: best-fit strain of the particles inside at t_0 relative to
    #: their t_0 configuration (NaN before t_0; from the first frame when t_0 is undefined)
    gamma_t0: np.ndarray = field(default_factory=lambda: np.zeros(0))
    applied: np.ndarray = field(default_factory=lambda: np.zeros(0))  # γ(t) − γ(first frame)

    @property
    def yield_time(self) -> float:
        """t_y = t_2 - t_0."""
        return self.t2 - self.t0

    @property
    def yield_stress(self) -> float:
        """σ_c at t_2 (σ_c,y of Eq. 8)."""
        if not np.isfinite(self.t2):
            return float("nan")
        return float(np.interp(self.t2, self.times, self.sigma))

    def to_dict(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}


def characteristic_times(
    t: np.ndarray, sigma: np.ndarray, smooth: int = 5, frac: float = 0.1
) -> tuple[float, float, float, float]:
    """Operational t_0, t_1, t_2, t_3 of a σ_c(t) curve (the paper gives no algorithm).

    σ_c is smoothed with a running mean over ``smooth`` frames; t_2 = its maximum (yield);
    t_0 = last time before t_2 where σ_c is within ``frac`` of the rise above its minimum
    before t_2; t_3 = first time after t_2 where it is within ``frac`` of the drop to its
    minimum after t_2; t_1 = end of the linear growth, the point of [t_0, t_2] farthest
    above the chord (knee).  NaN where a stage is missing (maximum at an end).
    """
    nan = float("nan")
    y = ndimage.uniform_filter1d(np.asarray(sigma, dtype=np.float64), size=max(1, smooth), mode="nearest")
    i2 = int(np.argmax(y))
    if i2 == 0 or i2 == len(y) - 1:
        return nan, nan, nan, nan
    lo = float(y[: i2 + 1].min())
    rise = y[i2] - lo
    below = np.nonzero(y[: i2 + 1] <= lo + frac * rise)[0]
    i0 = int(below[-1]) if below.size else 0
    after = y[i2:]
    lo2 = float(after.min())
    drop = y[i2] - lo2
    hit = np.nonzero(after <= lo2 + frac * drop)[0]
    i3 = i2 + int(hit[0]) if hit.size else len(y) - 1
    i1 = i0
    if i2 - i0 >= 2:
        tt, yy = t[i0 : i2 + 1], y[i0 : i2 + 1]
        chord = yy[0] + (yy[-1] - yy[0]) * (tt - tt[0]) / (tt[-1] - tt[0])
        i1 = i0 + int(np.argmax(yy - chord))
    return float(t[i0]), float(t[i1]), float(t[i2]), float(t[i3])


def life_cycle(
    clusters: ClusterSet,
    label: int,
    frames: np.ndarray,
    times: np.ndarray,
    unwrapped: np.ndarray,
    strain: np.ndarray,
    sigma: np.ndarray,
    omega: np.ndarray,
    strain_ref: float,
    events: CageEvents | None = None,
    p_ext_window: int = 10,
    smooth: int = 5,
) -> LifeCycle:
    """Trace cluster ``label`` (defined at ``strain_ref``) over ``frames`` of a trajectory.

    Args:
        frames: ``(T,)`` consecutive frame indices into ``times/unwrapped/strain/tilt``.
        unwrapped: ``(F, N, 3)`` unwrapped positions; ``strain (F,)`` accumulated strain.
        sigma: ``(T, N)`` atomic shear stresses σ_i,xy at ``frames`` (Eq. 2), ``omega (N,)`` Eq. 3.
        events: all cage-jump events of the trajectory (for n_cj, P_ext).
    """
    frames = np.asarray(frames, dtype=np.int64)
    tsel = np.asarray(times, dtype=np.float64)[frames]
    nt = len(frames)
    members = np.zeros((nt, unwrapped.shape[1]), dtype=bool)
    for k, f in enumerate(frames):  # loop over frames, vectorised over particles
        members[k] = traceback_labels(clusters, np.asarray(unwrapped[f]), float(strain[f]), strain_ref) == label
    vol = float(clusters.volumes[label - 1])
    sig = cluster_stress(sigma, omega, members, vol)
    centre = clusters.centres[label - 1]
    gamma = np.zeros(nt)
    for k in range(nt - 1):
        fa, fb = frames[k], frames[k + 1]
        m = members[k]
        if m.sum() < 4:
            gamma[k + 1] = gamma[k]
            continue
        # member positions relative to the cluster centre: the periodic image is chosen where the
        # region is compact (advected to t_ref, minimum image in the reference cell) and that
        # lattice vector is mapped back with the affine flow to both frames (exact through flips
        # and for regions sheared beyond half the box)
        dga, dgb = strain_ref - strain[fa], strain_ref - strain[fb]
        ua, ub = np.asarray(unwrapped[fa])[m], np.asarray(unwrapped[fb])[m]
        v = advect(ua, dga) - centre
        image = minimum_image(v, clusters.cell) - v
        rel = advect(v + image, -dga)
        after = ub - advect(centre, -dgb) + advect(image, -dgb)
        gamma[k + 1] = gamma[k] + shear_strain_increment(rel, after)
    n_cj = np.zeros(nt)
    p_ext = np.full(nt, np.nan)
    if events is not None and len(events):
        sel = np.isin(events.frame, frames)
        ef, ep, ej = events.frame[sel], events.particle[sel], events.jump[sel]
        order = np.argsort(frames)
        kk = order[np.searchsorted(frames, ef, sorter=order)]
        inside = members[kk, ep]
        n_cj = np.bincount(kk[inside], minlength=nt).astype(np.float64)
        ext = np.bincount(kk[inside], weights=(ej[inside, 0] * ej[inside, 1] > 0).astype(float), minlength=nt)
        w = max(1, p_ext_window)
        tot_w = ndimage.uniform_filter1d(n_cj, w, mode="constant") * w
        ext_w = ndimage.uniform_filter1d(ext, w, mode="constant") * w
        p_ext = np.where(tot_w > 0.5, ext_w / np.maximum(tot_w, 1e-12), np.nan)
    t0, t1, t2, t3 = characteristic_times(tsel, sig, smooth=smooth)
    i_ref = int(np.searchsorted(tsel, t0)) if np.isfinite(t0) else 0
    gamma_t0 = _strain_since(clusters, label, frames, unwrapped, strain, strain_ref, members[i_ref], i_ref)
    residual = np.full(nt, np.nan)
    if np.isfinite(t0):
        i0 = int(np.searchsorted(tsel, t0))
        res = (members & members[i0]).sum(axis=1)
        if res[i0] > 0:
            residual[i0:] = 1.0 - res[i0:] / res[i0]
    return LifeCycle(
        times=tsel,
        sigma=sig,
        gamma=gamma,
        n_members=members.sum(axis=1).astype(float),
        n_cj=n_cj,
        p_ext=p_ext,
        residual=residual,
        volume=vol,
        t0=t0,
        t1=t1,
        t2=t2,
        t3=t3,
        gamma_t0=gamma_t0,
        applied=np.asarray(strain, dtype=np.float64)[frames] - float(strain[frames[0]]),
    )


def _strain_since(
    clusters: ClusterSet,
    label: int,
    frames: np.ndarray,
    unwrapped: np.ndarray,
    strain: np.ndarray,
    strain_ref: float,
    m0: np.ndarray,
    i_ref: int,
) -> np.ndarray:
    """Eq. 5-7 referenced to frame ``i_ref``: J_xy of the particles ``m0`` between that frame and
    every later one (their own continuous displacements); NaN before ``i_ref``."""
    out = np.full(len(frames), np.nan)
    if m0.sum() < 4:
        return out
    centre = clusters.centres[label - 1]
    f0 = frames[i_ref]
    dg0 = strain_ref - strain[f0]
    u0 = np.asarray(unwrapped[f0])[m0]
    v = advect(u0, dg0) - centre
    image = minimum_image(v, clusters.cell) - v  # compact image in the reference cell, as the increments
    rel0 = advect(v + image, -dg0)
    later = frames[i_ref:]
    dg = (strain_ref - np.asarray(strain, dtype=np.float64)[later])[:, None]
    # each member's image moves with its lattice vector (Lees-Edwards images drift with the flow)
    img_shift = dg0 - dg  # (K, 1): advect(image, -dg) - advect(image, -dg0) = (dg0 - dg) image_y x̂
    after = rel0[None] + np.asarray(unwrapped)[later][:, m0] - u0[None]
    after[..., 0] += img_shift * image[None, :, 1]
    out[i_ref:] = deformation_gradients(rel0, after)[:, 0, 1]
    return out


def ice_life_cycles(
    engine: Any,
    regions: Sequence[tuple[ClusterSet, int]],
    positions: np.ndarray,
    species: np.ndarray,
    cell: np.ndarray,
    strain_start: float,
    strain_ref: float,
    rate: float,
    duration: float,
    n_replicas: int,
    seed: int,
    lc2: float | None = None,
    sample_every: int | None = None,
) -> list[list[LifeCycle]]:
    """Life cycles of ``regions`` in an isoconfigurational ensemble (the paper's 50 ICE replicas, 3D MD).

    Every replica starts from ``positions`` in ``cell`` (the state at accumulated strain
    ``strain_start``, e.g. t_ref - 2 t_χ of a steady-shear run) with fresh Maxwell-Boltzmann
    velocities (:meth:`taulc.md.engine.MDEngine.ice`) and runs ``duration`` at ``rate``; each
    region (cluster set, label), defined at ``strain_ref``, is traced in every replica.
    Returns ``out[region][replica]``; average σ_c, γ_c over replicas with :func:`mean_life_cycle`.
    """

    system = engine.system
    conf = Configuration(
        wrap_into_cell(positions, cell),
        np.asarray(species, dtype=np.int64),
        cell,
        None,
        {"time": 0.0, "strain": float(strain_start)},
    )
    omega = particle_volumes(system, species, abs(np.linalg.det(cell)))
    out: list[list[LifeCycle]] = [[] for _ in regions]
    for traj in engine.ice(conf, n_replicas, rate, duration, seed, sample_every=sample_every):
        strain = strain_start + traj.strain
        sig = atomic_shear_stress_frames(traj.unwrapped, traj.tilt, traj.final.cell, species, system)
        ev = None
        if lc2 is not None:
            ev = cage_events(traj.nonaffine, traj.unwrapped, traj.times, traj.final.cell, lc2, tilt=traj.tilt)
        frames = np.arange(traj.n_frames)
        for r, (cl, lab) in enumerate(regions):
            out[r].append(life_cycle(cl, lab, frames, traj.times, traj.unwrapped, strain, sig, omega, strain_ref, ev))
    return out


def mean_life_cycle(cycles: Sequence[LifeCycle], smooth: int = 5) -> LifeCycle:
    """Replica average of σ_c, γ_c, n_members, n_cj, P_ext, R with t_0..t_3 of the mean σ_c."""
    if not cycles:
        raise ValueError("mean_life_cycle needs at least one life cycle")
    t = cycles[0].times
    with warnings.catch_warnings():  # all-NaN frames (R before t_0, P_ext without jumps) stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        avg = {
            k: np.nanmean(np.stack([getattr(c, k) for c in cycles]), axis=0)
            for k in ("sigma", "gamma", "n_members", "n_cj", "p_ext", "residual", "gamma_t0", "applied")
            if all(getattr(c, k).shape == t.shape for c in cycles)
        }
    t0, t1, t2, t3 = characteristic_times(t, avg["sigma"], smooth=smooth)
    return LifeCycle(times=t, volume=cycles[0].volume, t0=t0, t1=t1, t2=t2, t3=t3, **avg)


# ----------------------------------------------------------------------------- scaling
def cluster_radius(volumes: np.ndarray) -> float:
    """ξ_c = (3 V̄_c / 4π)^{1/3} from the mean cluster volume (Fig. 3c)."""
    v = np.asarray(volumes, dtype=np.float64)
    return float((3.0 * v.mean() / (4.0 * math.pi)) ** (1.0 / 3.0)) if v.size else float("nan")


def convective_fraction(
    cluster_sets: Sequence[ClusterSet],
    ref_frames: Sequence[int],
    spans: Sequence[tuple[int, int]],
    unwrapped: np.ndarray,
    strain: np.ndarray,
    frames: np.ndarray,
) -> np.ndarray:
    """P_c(t) of Fig. 3a: fraction of particles inside a convective cluster alive at each of ``frames``.

    Cluster set ``k`` is demarcated at frame ``ref_frames[k]`` and alive over the frames
    ``spans[k] = (first, last)`` (its life cycle); a particle belongs at frame t when its
    convective traceback (:func:`traceback_labels`) lands in any cluster of a set alive at t.
    """
    frames = np.asarray(frames, dtype=np.int64)
    out = np.zeros(len(frames))
    n = unwrapped.shape[1]
    for j, f in enumerate(frames):  # loop over frames and cluster sets, vectorised over particles
        inside = np.zeros(n, dtype=bool)
        for cs, e, (a, b) in zip(cluster_sets, ref_frames, spans):
            if a <= f <= b and cs.n_clusters:
                inside |= traceback_labels(cs, np.asarray(unwrapped[f]), float(strain[f]), float(strain[e])) > 0
        out[j] = inside.mean()
    return out


def eta_c(p_c: float, sigma_y: float, rate: float) -> float:
    """Cluster-sustained viscosity, Eq. 8: η_c = P̄_c σ_c,y / (2 γ̇)."""
    return float(p_c * sigma_y / (2.0 * rate))


def jump_correlation(
    sources: np.ndarray, targets: np.ndarray, cell: np.ndarray, r_max: float, dr: float = 0.25, n_cos: int = 6, n_phi: int = 12
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """g_cj(r) (Eq. 10, orientation averaged) and its anisotropy α(r) = <[g(r)/g(r) - 1]²>_Ω.

    ``g`` counts target events at ``r`` from source events, normalised by the number
    of sources, the mean target density and the shell volume (1 for no correlation).
    Angles: polar axis z (vorticity), azimuth in the shear plane; equal-area bins
    (``n_cos`` in cos θ, ``n_phi`` in φ).  The Poisson noise of the angular bins (1/expected
    count, its mean over the bins) is subtracted from α, so an isotropic field gives α ≈ 0.
    Returns ``(r_centres, g, alpha)``.
    """
    cell = np.asarray(cell, dtype=np.float64)
    src = np.asarray(sources, dtype=np.float64).reshape(-1, 3)
    dst = np.asarray(targets, dtype=np.float64).reshape(-1, 3)
    nb = max(1, int(math.floor(r_max / dr + 1e-9)))
    r_max = nb * dr
    edges = np.arange(nb + 1) * dr
    r_c = 0.5 * (edges[1:] + edges[:-1])
    if len(src) == 0 or len(dst) == 0:
        return r_c, np.full(nb, np.nan), np.full(nb, np.nan)
    pts = wrap_into_cell(np.concatenate([src, dst]), cell)
    pl = neighbor_list(pts, cell, r_max, full=True)
    ns = len(src)
    keep = (pl.i < ns) & (pl.j >= ns) & (pl.distances > 1e-9)
    vec, dist = pl.vectors[keep], pl.distances[keep]
    rb = np.minimum((dist / dr).astype(np.int64), nb - 1)
    cos_t = np.clip(vec[:, 2] / dist, -1.0, 1.0)
    cb = np.minimum(((cos_t + 1.0) / 2.0 * n_cos).astype(np.int64), n_cos - 1)
    pb = np.minimum(((np.arctan2(vec[:, 1], vec[:, 0]) + np.pi) / (2 * np.pi) * n_phi).astype(np.int64), n_phi - 1)
    hist = np.bincount((rb * n_cos + cb) * n_phi + pb, minlength=nb * n_cos * n_phi).reshape(nb, n_cos * n_phi)
    rho_t = len(dst) / abs(np.linalg.det(cell))
    shell = 4.0 / 3.0 * math.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    g = hist.sum(axis=1) / (ns * rho_t * shell)
    g_ang = hist / (ns * rho_t * shell[:, None] / (n_cos * n_phi))
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.mean((g_ang / g[:, None] - 1.0) ** 2, axis=1)
        # Poisson noise of the angular bins, E[(n/λ - 1)²] = 1/λ with λ = expected count per bin
        alpha -= (n_cos * n_phi) / (g * ns * rho_t * shell)
    alpha[~(g > 0)] = np.nan
    return r_c, g, alpha
