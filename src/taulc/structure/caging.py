r"""Local depth of the mean-field caging potential, βΦ_r(Δr = 0), of Sharma, Nandi & Bhattacharyya 2022, "Identifying structural signature of dynamical heterogeneity via the local softness parameter" (Eqs. 5, 6, 8).

Per-particle partial rdf (Eq. 8), a sum of normalised Gaussians of width δ::

    n_{i,v}(r) = Σ_{j ∈ v} exp[-(r - r_ij)² / 2δ²] / √(2π δ²)        (neighbours per unit r)
    g_{i,uv}(r) = n_{i,v}(r) / (4π r² ρ_v)                             (u = species of i)

Eq. 8 as printed has the prefactor 1/(2πr); we use the 3-D normalisation
1/(4π r² ρ_v), ρ_v = N_v / V, so that the particle average of g_i tends to
the usual partial rdf (→ 1 at large r), which the closure below needs.

HNC direct correlation without bridge function (Eq. 6)::

    C_uv(r) = -β U_uv(r) + [g_uv(r) - 1] - ln g_uv(r)

Depth (Eq. 5, printed as -∫ dr/2 Σ_uv C_uv √(x_u x_v) g_uv). We read dr as the
3-D volume element and include the total density ρ so that βΦ is
dimensionless (an overall positive factor, irrelevant for correlations)::

    βΦ_{i,v} = -(ρ/2) √(x_u x_v) ∫_{r_lo,uv}^{r_hi,uv} 4π r² C_uv(r) g_{i,uv}(r) dr
             = -(1/2) √(x_u / x_v) ∫_{r_lo}^{r_hi} C_uv(r) n_{i,v}(r) dr
    βΦ_i = βΦ_{i,big} + βΦ_{i,small}

x_u = N_u / N. Integration limits (Sharma, Nandi & Bhattacharyya 2022, Sec. IV): upper = first minimum of
the partial rdf g_uv, lower = where the actual (unsmoothed) rdf vanishes,
i.e. the smallest u-v distance in the configuration. ``cutoffs="auto"``
measures both on the configuration itself (:func:`caging_cutoffs`); pass an
explicit table to keep them fixed across a data set. Limits are snapped to
the integration grid (r in [0.5, 2.2], Δr = 0.01 by default; trapezoidal rule,
relative error ~(Δr/δ)²/12 ≈ 1e-3 for δ = 0.09).

log(0) guard: the integrand is evaluated as
C n = n (-βU + g - 1) - 4π r² ρ_v · g ln g with g ln g → 0 at g = 0
(``scipy.special.xlogy``), i.e. the continuous limit, so empty regions of the
smeared rdf contribute 0 instead of ±inf. With the Gaussian smearing g > 0
wherever a neighbour lies within k_t δ; beyond that the truncated g is exactly 0.

Feature columns per particle: [βΦ_{i,big}, βΦ_{i,small}, βΦ_i] (neighbour
species; the centre's species u is implicit, so big centres give the bb and
bs terms, small centres sb and ss).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.special import xlogy

from taulc.structure.neighbors import DEFAULT_MAX_PAIRS, NeighborBlock, iter_neighbor_blocks, validate_system
from taulc.structure.radial import RadialGrid, RadialSums

log = logging.getLogger(__name__)

__all__ = ["LJTable", "CagingAccumulator", "caging_depth", "caging_cutoffs", "PAIR_KEYS"]

PAIR_KEYS = ("bb", "bs", "ss")  # pair type index = s_i + s_j


def _pair_table(value: object, name: str) -> np.ndarray:
    """{bb, bs, ss} mapping or (2, 2) nested list -> symmetric (2, 2) array."""
    if isinstance(value, Mapping):
        try:
            bb, bs, ss = (float(value[k]) for k in PAIR_KEYS)
        except KeyError as exc:
            raise ValueError(f"caging: {name} needs keys bb, bs, ss; got {list(value)}") from exc
        return np.array([[bb, bs], [bs, ss]])
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (2, 2) or arr[0, 1] != arr[1, 0]:
        raise ValueError(f"caging: {name} must be {{bb, bs, ss}} or a symmetric 2x2 table, got {value!r}")
    return arr


@dataclass(frozen=True)
class LJTable:
    """Truncated-and-shifted LJ pair potential (Sharma, Nandi & Bhattacharyya 2022, Eq. 1; Kob-Andersen defaults).

    ``cutoff_mode="per_pair"``: r_c = cutoff σ_uv (Eq. 1); ``"global"``: r_c = cutoff
    for every pair (the core paper's "truncated at 2.5 σ_bb").
    """

    epsilon: tuple[tuple[float, float], tuple[float, float]] = ((1.0, 1.5), (1.5, 0.5))
    sigma: tuple[tuple[float, float], tuple[float, float]] = ((1.0, 0.8), (0.8, 0.88))
    cutoff: float = 2.5
    cutoff_mode: str = "per_pair"
    shift: bool = True

    @classmethod
    def from_config(cls, cfg: Mapping | None) -> LJTable:
        if not cfg:
            return cls()
        eps = _pair_table(cfg.get("epsilon", cls.epsilon), "epsilon")
        sig = _pair_table(cfg.get("sigma", cls.sigma), "sigma")
        mode = str(cfg.get("cutoff_mode", "per_pair"))
        if mode not in ("per_pair", "global"):
            raise ValueError(f"caging: lj.cutoff_mode must be 'per_pair' or 'global', got {mode!r}")
        return cls(
            tuple(map(tuple, eps.tolist())),  # type: ignore[arg-type]
            tuple(map(tuple, sig.tolist())),  # type: ignore[arg-type]
            float(cfg.get("cutoff", 2.5)),
            mode,
            bool(cfg.get("shift", True)),
        )

    def rcut(self, u: int, v: int) -> float:
        return self.cutoff * self.sigma[u][v] if self.cutoff_mode == "per_pair" else self.cutoff

    def potential(self, r: np.ndarray, u: int, v: int) -> np.ndarray:
        """U_uv(r), zero beyond the cut-off, shifted to 0 there when ``shift``."""
        eps, sig, rc = self.epsilon[u][v], self.sigma[u][v], self.rcut(u, v)
        r = np.asarray(r, dtype=np.float64)
        sr6 = (sig / r) ** 6
        val = 4.0 * eps * (sr6 * sr6 - sr6)
        if self.shift:
            src6 = (sig / rc) ** 6
            val = val - 4.0 * eps * (src6 * src6 - src6)
        return np.where(r <= rc, val, 0.0)


def _first_minimum(r: np.ndarray, g: np.ndarray) -> float:
    """Position of the first local minimum after the main peak of a (smoothed) rdf."""
    k = int(np.argmax(g))
    for t in range(k + 1, len(g) - 1):
        if g[t] <= g[t - 1] and g[t] < g[t + 1]:
            return float(r[t])
    return float(r[-1])


class CagingAccumulator:
    """Accumulate n_{i,v}(r) on a fine grid (and a pair histogram for auto cut-offs)."""

    def __init__(
        self,
        species: np.ndarray,
        volume: float,
        temperature: float,
        lj: LJTable | None = None,
        delta: float = 0.09,
        truncation: float = 5.0,
        grid: RadialGrid | None = None,
        cutoffs: str | Mapping = "auto",
        smooth: float = 0.03,
    ) -> None:
        if temperature is None or temperature <= 0:
            raise ValueError(f"caging: temperature T must be > 0, got {temperature}")
        self.species = np.asarray(species, dtype=np.int64)
        self.n = self.species.size
        self.volume = float(volume)
        self.beta = 1.0 / float(temperature)
        self.lj = lj or LJTable()
        self.delta = float(delta)
        self.grid = grid or RadialGrid.from_range(0.5, 2.2, 0.01)
        self.cutoffs_spec = cutoffs
        self.smooth = float(smooth)
        self._sums = RadialSums(self.n, self.species, self.grid, delta, truncation)
        self._hist_dr = self.grid.dr
        self._hist = np.zeros((3, self.grid.n + 1), dtype=np.float64)
        self._min = np.full(3, np.inf)

    @property
    def cutoff(self) -> float:
        return self._sums.cutoff

    def consume(self, block: NeighborBlock) -> None:
        block = block.within(self.cutoff)
        self._sums.consume(block)
        t = self.species[block.i] + self.species[block.j]
        d = block.distances
        # system rdf histogram / minimum distance from the active directed pairs
        for act in (block.i_active, block.j_active):
            tt, dd = (t, d) if act is None else (t[act], d[act])
            edge = (dd - self.grid.r_min) / self._hist_dr
            ok = (edge >= 0) & (edge < self.grid.n)
            for p in range(3):
                sel = tt == p
                if np.any(sel):
                    self._min[p] = min(self._min[p], float(dd[sel].min()))
            idx = tt[ok] * (self.grid.n + 1) + edge[ok].astype(np.int64)
            self._hist += np.bincount(idx, minlength=3 * (self.grid.n + 1)).reshape(3, -1)

    def cutoffs(self) -> dict[str, tuple[float, float]]:
        """Integration limits (r_lo, r_hi) per pair type bb, bs, ss."""
        spec = self.cutoffs_spec
        if isinstance(spec, str):
            if spec != "auto":
                raise ValueError(f"caging: cutoffs must be 'auto' or a {{bb, bs, ss}} table, got {spec!r}")
            r = self.grid.r_min + (np.arange(self.grid.n + 1) + 0.5) * self._hist_dr
            width = max(1, int(round(self.smooth / self._hist_dr)))
            ker = np.exp(-0.5 * (np.arange(-4 * width, 4 * width + 1) / width) ** 2)
            out = {}
            for p, key in enumerate(PAIR_KEYS):
                h = self._hist[p] / (r * r)
                if not np.isfinite(self._min[p]) or h.sum() == 0:
                    out[key] = (self.grid.r_min, self.grid.r_min)  # species pair absent
                    continue
                hs = np.convolve(h, ker / ker.sum(), mode="same")
                lo = max(self.grid.r_min, math.floor(self._min[p] / self.grid.dr) * self.grid.dr)
                out[key] = (lo, min(_first_minimum(r, hs), self.grid.r_max))
            return out
        out = {}
        for key in PAIR_KEYS:
            try:
                lo, hi = (float(x) for x in spec[key])
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"caging: cutoffs.{key} must be [r_lo, r_hi]; got {spec!r}") from exc
            if not (self.grid.r_min <= lo <= hi <= self.grid.r_max):
                raise ValueError(
                    f"caging: cutoffs.{key} = [{lo}, {hi}] must lie inside the integration grid "
                    f"[{self.grid.r_min}, {self.grid.r_max}] with r_lo <= r_hi"
                )
            out[key] = (lo, hi)
        return out

    def result(self) -> np.ndarray:
        """(N, 3): βΦ_{i,big}, βΦ_{i,small}, βΦ_i."""
        cuts = self.cutoffs()
        log.debug("caging cut-offs: %s", cuts)
        g = self.grid
        r = g.values
        n_iv = self._sums.out[:, 0] / math.sqrt(2.0 * math.pi * self.delta**2)  # (N, 2, n_r)
        counts = np.bincount(self.species, minlength=2).astype(np.float64)
        x = counts / self.n
        rho_v = counts / self.volume
        phi = np.zeros((self.n, 3))
        for u in (0, 1):
            cu = self.species == u
            if not np.any(cu):
                continue
            for v in (0, 1):
                if counts[v] == 0:
                    continue
                lo, hi = cuts[PAIR_KEYS[u + v]]
                a = int(round((lo - g.r_min) / g.dr))
                b = int(round((hi - g.r_min) / g.dr)) + 1
                if b - a < 2:
                    continue
                rr = r[a:b]
                nn = n_iv[cu, v, a:b]
                shell = 4.0 * math.pi * rr * rr * rho_v[v]
                gg = nn / shell
                bu = self.beta * self.lj.potential(rr, u, v)
                integrand = nn * (gg - 1.0 - bu) - shell * xlogy(gg, gg)
                val = np.trapezoid(integrand, rr, axis=1)
                phi[cu, v] = -0.5 * math.sqrt(x[u] / x[v]) * val
        phi[:, 2] = phi[:, 0] + phi[:, 1]
        return phi


def caging_depth(
    positions: np.ndarray,
    species: np.ndarray,
    cell: np.ndarray,
    temperature: float,
    *,
    lj: LJTable | None = None,
    delta: float = 0.09,
    truncation: float = 5.0,
    grid: RadialGrid | None = None,
    cutoffs: str | Mapping = "auto",
    max_pairs: int = DEFAULT_MAX_PAIRS,
) -> np.ndarray:
    """Local caging-potential depth (Sharma, Nandi & Bhattacharyya 2022, Eqs. 5, 6, 8): (N, 3) = βΦ_{i,big}, βΦ_{i,small}, βΦ_i."""
    pos, c, sp = validate_system(positions, cell, species)
    assert sp is not None
    acc = CagingAccumulator(sp, abs(np.linalg.det(c)), temperature, lj, delta, truncation, grid, cutoffs)
    for block in iter_neighbor_blocks(pos, c, acc.cutoff, max_pairs=max_pairs):
        acc.consume(block)
    return acc.result()


def caging_cutoffs(
    positions: np.ndarray,
    species: np.ndarray,
    cell: np.ndarray,
    *,
    grid: RadialGrid | None = None,
    max_pairs: int = DEFAULT_MAX_PAIRS,
) -> dict[str, tuple[float, float]]:
    """Auto integration limits measured on a configuration, to fix them across a data set."""
    pos, c, sp = validate_system(positions, cell, species)
    assert sp is not None
    acc = CagingAccumulator(sp, abs(np.linalg.det(c)), 1.0, grid=grid)
    for block in iter_neighbor_blocks(pos, c, acc.grid.r_max, max_pairs=max_pairs):
        acc.consume(block)
    return acc.cutoffs()
