"""Report section: convective clusters of cage jumps and the ν_c = λ/(D+1) scaling
(Zeng, Yu & Wang 2025, Eq. 1, 4-9, Table I, Figs. 1-4).

Input: steady-shear trajectories, one ``.npz`` per shear rate with ``times, unwrapped,
nonaffine, stress_xy, strain, tilt, cell, species, rate`` (what ``bench/cluster_runs.py``
writes from :meth:`taulc.md.engine.MDEngine.run`).  Per rate:

* η = -<p_xy>/γ̇ (Eq. 1); t_χ = peak of the self χ4 (Eq. 14) of the big particles'
  non-affine displacements (:func:`taulc.dynamics.correlators.compute_correlators`);
* all cage-jump events (:mod:`taulc.dynamics.events`) with the threshold l_c² of the
  equilibrium reference;
* windows [t_ini, t_ini + t_χ] every t_χ/2: ρ_th = mean of the Methods' iteration over
  the windows, clusters demarcated in every window with the cell of its last frame;
  ξ_c = (3 V̄_c / 4π)^{1/3}; P̄_c of Fig. 3a / Eq. 8 = time average of P_c(t), the fraction of
  particles inside convective clusters alive at t (a cluster demarcated at a window end e is alive
  over [e − trace_back·t_χ, e]: loading, t_y ≈ t_χ in the paper, then the window of its jumps);
  beside it the older P̄_c at the window ends (particles in the dynamic regions themselves);
* life cycles of the clusters whose window starts at least t_χ after the run start
  (traced back 2 t_χ, forward t_χ/2): σ_c(t) (Eq. 2-4), γ_c(t) (Eq. 5-7), n_cj, P_ext, R;
  γ_c both ways (incremental and referenced to t_0);
  t_y = <t_2 - t_0>, σ_c,y = <σ_c(t_2)>, η_c (Eq. 8) with either P̄_c;
* g_cj(r), α(r) (Eq. 10) pooled over clusters; p_hop (Sharma, Nandi & Bhattacharyya
  Eq. 2) at the Candelier jump frames versus at random frames.

Across rates: λ from η(γ̇) and ν_c from ξ_c(γ̇) (weighted log-log least squares,
:func:`taulc.analysis.rheology.fit_power_law`, standard errors), ν_c next to λ/(D+1),
t_y against t_χ.

The report section (figures, tables, command line) is :mod:`taulc.analysis.sections.clusters`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from taulc.analysis.rheology import fit_power_law
from taulc.config import check_number, from_mapping
from taulc.data.storage import load_npz
from taulc.dynamics.correlators import compute_correlators
from taulc.dynamics.events import CageEvents, cage_events, wrap_into_cell
from taulc.dynamics.phop import FORMS, phop
from taulc.errors import ConfigError
from taulc.fileio import read_json
from taulc.md.system import SystemSpec
from taulc.physics.clusters import (
    ClusterSet,
    DemarcationSettings,
    LifeCycle,
    background_threshold,
    cluster_radius,
    convective_fraction,
    demarcate,
    eta_c,
    jump_correlation,
    jump_density,
    life_cycle,
)
from taulc.physics.stress import (
    atomic_shear_stress_frames,
    frame_cell,
    particle_volumes,
)
from taulc.structure.caging import caging_cutoffs

log = logging.getLogger(__name__)

__all__ = [
    "ClusterAnalysisSettings",
    "ClustersSpec",
    "RateResult",
    "analyse_rate",
    "analyse_runs",
    "scaling_table",
    "lc2_from_manifest",
    "PAPER_3D_MD",
]

REQUIRED = ("times", "unwrapped", "nonaffine", "stress_xy", "strain", "tilt", "cell", "species", "rate")
#: Zeng, Yu & Wang 2025, Table I (3D MD, Kob-Andersen at T = 0.45)
PAPER_3D_MD = {"lambda_over_D1": 0.182, "nu_c": 0.176}


@dataclass(frozen=True)
class ClusterAnalysisSettings:
    """Knobs of the analysis (defaults: the paper's 3D MD choices where it states them); the ranges are
    checked on construction, naming the field as ``analysis.clusters.<name>``."""

    lc2: float | None = None  # None: from the manifest's equilibrium reference, else 0.057 (paper)
    d: float | None = None  # None: first minimum of g_bb(r) of the first frame
    threshold_c: float = 0.10
    c_prime: float = 2.0
    r_stz: float = 1.5
    grid_spacing: float = 0.35
    sieve_spacing: float | None = 0.8
    window_step: float = 0.5  # t_ini spacing in units of t_χ
    trace_back: float = 2.0  # life-cycle trace back, units of t_χ
    trace_forward: float = 0.5
    max_life_cycles: int = 40  # per rate (largest clusters first)
    t_r: float = 15.0  # p_hop window t_R (LJ time; Sharma, Nandi & Bhattacharyya's Δt = 15)
    phop_form: str = "length"  # "length" (their Eq. 2 as printed) or "length2" (Candelier's)
    transient: float = 0.0  # time discarded from the start of each trajectory for η

    def __post_init__(self) -> None:
        where = "analysis.clusters"
        for k in ("lc2", "d", "sieve_spacing"):
            if getattr(self, k) is not None:
                check_number(getattr(self, k), f"{where}.{k}", lo=0, lo_open=True)
        for k in ("c_prime", "r_stz", "grid_spacing", "window_step", "t_r"):
            check_number(getattr(self, k), f"{where}.{k}", lo=0, lo_open=True)
        check_number(self.threshold_c, f"{where}.threshold_c", lo=0, lo_open=True, hi=1)
        for k in ("trace_back", "trace_forward", "transient"):
            check_number(getattr(self, k), f"{where}.{k}", lo=0)
        check_number(self.max_life_cycles, f"{where}.max_life_cycles", lo=0, integer=True)
        if self.phop_form not in FORMS:
            raise ConfigError(f"field '{where}.phop_form' must be one of {list(FORMS)}, got {self.phop_form!r}")

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> ClusterAnalysisSettings:
        """The settings of an ``analysis.clusters`` node (its ``trajectories``/``manifest``/``system`` are ignored)."""
        return from_mapping(cls, cfg, "analysis.clusters", ignore=("trajectories", "manifest", "system"))


@dataclass(frozen=True)
class ClustersSpec(ClusterAnalysisSettings):
    """The ``analysis.clusters`` node of ``src/taulc/conf/evaluate.yaml`` (part of the typed evaluate root,
    :class:`taulc.analysis.context.AnalysisSpec`): the steady-shear runs to analyse (``bench/cluster_runs.py``
    output; null skips the section), the manifest giving l_c², the system, and the analysis settings
    (:class:`ClusterAnalysisSettings` fields)."""

    trajectories: str | None = None
    manifest: str | None = "datasets/demo/manifest.json"  # l_c² from its equilibrium reference
    system: str = "demo"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.system.strip():
            raise ConfigError("field 'analysis.clusters.system' must name a system (src/taulc/conf/system/<name>.yaml)")

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> ClustersSpec:  # type: ignore[override]
        return from_mapping(cls, cfg, "analysis.clusters")

    @property
    def settings(self) -> ClusterAnalysisSettings:
        return ClusterAnalysisSettings(**{f.name: getattr(self, f.name) for f in fields(ClusterAnalysisSettings)})


@dataclass
class RateResult:
    rate: float
    eta: float
    t_chi: float
    lc2: float
    d: float
    rho_th: float
    n_windows: int
    volumes: np.ndarray
    p_c: float  # fraction inside the dynamic regions at the window ends (not Eq. 8's P̄_c)
    events_per_particle_time: float
    p_c_conv: float = float("nan")  # P̄_c of Eq. 8: time average of P_c(t) (convective clusters alive at t)
    life_cycles: list[LifeCycle] = field(default_factory=list)
    g_cj: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    phop_at_jumps: float = float("nan")
    phop_random: float = float("nan")
    timings: dict[str, float] = field(default_factory=dict)
    example_events: np.ndarray | None = None
    example_clusters: ClusterSet | None = None
    cluster_sets: list[ClusterSet] = field(default_factory=list, repr=False)
    window_ends: list[int] = field(default_factory=list)

    @property
    def xi_c(self) -> float:
        return cluster_radius(self.volumes)

    def row(self) -> dict[str, Any]:
        done = [lc for lc in self.life_cycles if np.isfinite(lc.t2) and np.isfinite(lc.t0)]
        t_y = float(np.mean([lc.yield_time for lc in done])) if done else float("nan")
        s_y = float(np.mean([lc.yield_stress for lc in done])) if done else float("nan")
        return {
            "rate": self.rate,
            "eta": self.eta,
            "t_chi": self.t_chi,
            "lc2": self.lc2,
            "d": self.d,
            "rho_th": self.rho_th,
            "n_windows": self.n_windows,
            "n_clusters": len(self.volumes),
            "V_c_mean": float(np.mean(self.volumes)) if len(self.volumes) else float("nan"),
            "xi_c": self.xi_c,
            "xi_c_sem": self._xi_sem(),
            "P_c": self.p_c,
            "P_c_conv": self.p_c_conv,
            "jumps_per_particle_per_tau": self.events_per_particle_time,
            "n_life_cycles": len(self.life_cycles),
            "n_yielding": len(done),
            "t_y": t_y,
            "sigma_c_y": s_y,
            "eta_c": eta_c(self.p_c, s_y, self.rate) if np.isfinite(s_y) else float("nan"),
            "eta_c_conv": eta_c(self.p_c_conv, s_y, self.rate) if np.isfinite(s_y) else float("nan"),
            "phop_at_jumps_median": self.phop_at_jumps,
            "phop_random_median": self.phop_random,
        }

    def _xi_sem(self) -> float:
        v = np.asarray(self.volumes, dtype=np.float64)
        if v.size < 2:
            return float("nan")
        # delta method: ξ ∝ V̄^{1/3} -> sem(ξ)/ξ = sem(V̄)/(3 V̄)
        return float(self.xi_c * (v.std(ddof=1) / math.sqrt(v.size)) / (3.0 * v.mean()))


def lc2_from_manifest(manifest: Path | None) -> float | None:
    """l_c² of a dataset manifest's equilibrium reference (None without a manifest or a recorded value)."""
    if manifest is None or not Path(manifest).is_file():
        return None
    ref = read_json(manifest).get("reference", {})
    v = ref.get("lc2")
    return float(v) if v is not None else None


def analyse_rate(
    path: Path, system: SystemSpec, s: ClusterAnalysisSettings, lc2_default: float | None = None, progress: bool = False
) -> RateResult:
    """Everything of the module docstring for one steady-shear trajectory file."""
    t_start = time.perf_counter()
    z = load_npz(path, required=REQUIRED)
    times, unwrapped, nonaffine = z["times"], z["unwrapped"], z["nonaffine"]
    strain, tilt, cell, species = z["strain"], z["tilt"], z["cell"], z["species"].astype(np.int64)
    rate = float(z["rate"])
    n = species.shape[0]
    if rate <= 0:
        raise ValueError(f"{path}: field 'rate' must be > 0 for the convective-cluster analysis, got {rate}")
    vol = abs(np.linalg.det(cell))
    sel = times >= s.transient
    sel[0] = False
    eta = float(-z["stress_xy"][sel].mean() / rate)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    cor = compute_correlators(nonaffine, times, a=0.25, mask=species == 0, temperature=system.temperature, volume=vol)
    t_chi = float(cor.t_chi)
    if not np.isfinite(t_chi) or t_chi >= times[-1] / 2:
        raise ValueError(f"{path}: χ4 peak t_χ = {t_chi} not resolved within half the run ({times[-1]}); run longer")
    lc2 = float(s.lc2 or lc2_default or 0.057)
    d = (
        float(s.d)
        if s.d
        else float(caging_cutoffs(wrap_frame(unwrapped[0], cell, tilt[0]), species, frame_cell(cell, tilt[0]))["bb"][1])
    )
    timings["chi4"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ev = cage_events(nonaffine, unwrapped, times, cell, lc2, tilt=tilt, progress=progress)
    timings["events"] = time.perf_counter() - t0
    dt = float(times[1] - times[0])
    w = max(2, int(round(t_chi / dt)))
    step = max(1, int(round(s.window_step * t_chi / dt)))
    starts = np.arange(0, len(times) - w, step)
    settings = DemarcationSettings(
        d=d,
        threshold_c=s.threshold_c,
        c_prime=s.c_prime,
        r_stz=s.r_stz,
        grid_spacing=s.grid_spacing,
        sieve_spacing=s.sieve_spacing,
    )
    t0 = time.perf_counter()
    wins = []
    for a in starts:
        e = a + w
        sub = ev.select((ev.frame >= a) & (ev.frame < e))
        c_end = frame_cell(cell, float(tilt[e]))
        wins.append((a, e, sub, c_end))
    fields = [jump_density(sub.position, c_end, d, 24) for _, _, sub, c_end in wins]
    rho_th = background_threshold(fields, s.threshold_c)
    clusters = [
        demarcate(sub.position, c_end, settings, rho_th=rho_th)
        for _, _, sub, c_end in _bar(wins, progress, "demarcation", "window")
    ]
    timings["demarcation"] = time.perf_counter() - t0
    volumes = np.concatenate([c.volumes for c in clusters]) if clusters else np.zeros(0)
    p_c = float(np.mean([np.mean(c.label_of(unwrapped[e]) > 0) for (_, e, _, _), c in zip(wins, clusters)]))
    back = int(round(s.trace_back * t_chi / dt))
    # P_c(t) of Fig. 3a on frames where every set that can be alive has been demarcated
    t0 = time.perf_counter()
    ends = [e for _, e, _, _ in wins]
    p_frames = np.arange(min(back, ends[-1]) if ends else 0, (ends[-1] + 1) if ends else 0, max(1, w // 8))
    p_c_conv = (
        float(np.mean(convective_fraction(clusters, ends, [(e - back, e) for e in ends], unwrapped, strain, p_frames)))
        if p_frames.size
        else float("nan")
    )
    timings["p_c"] = time.perf_counter() - t0
    # life cycles
    t0 = time.perf_counter()
    fwd = int(round(s.trace_forward * t_chi / dt))
    cands = [
        (float(c.volumes[k]), wi, k + 1)
        for wi, ((a, e, _, _), c) in enumerate(zip(wins, clusters))
        if e - back >= 0
        for k in range(c.n_clusters)
    ]
    cands.sort(reverse=True)
    cands = cands[: s.max_life_cycles]
    need = sorted({f for _, wi, _ in cands for f in range(max(0, wins[wi][1] - back), min(len(times), wins[wi][1] + fwd + 1))})
    sigma_all = np.zeros((len(times), n))
    if need:
        sigma_all[need] = atomic_shear_stress_frames(unwrapped, tilt, cell, species, system, frames=need, progress=progress)
    omega = particle_volumes(system, species, vol)
    lcs = []
    for _, wi, k in _bar(cands, progress, "life cycles", "cluster"):
        e = wins[wi][1]
        frames = np.arange(max(0, e - back), min(len(times), e + fwd + 1))
        lcs.append(life_cycle(clusters[wi], k, frames, times, unwrapped, strain, sigma_all[frames], omega, float(strain[e]), ev))
    timings["life_cycles"] = time.perf_counter() - t0
    # g_cj(r), α(r): sources = cluster jumps around t_1, targets = all jumps in [t_1, t_2]
    t0 = time.perf_counter()
    g_parts = []
    for (_, wi, k), lc in zip(cands, lcs):
        if not (np.isfinite(lc.t1) and np.isfinite(lc.t2) and lc.t2 > lc.t1):
            continue
        f1 = int(round(lc.t1 / dt))
        f2 = int(round(lc.t2 / dt))
        c = clusters[wi]
        e = wins[wi][1]
        src = ev.select(np.abs(ev.frame - f1) <= 1)
        inside = c.label_of(_advect_events(src, strain, e)) == k
        src = src.select(inside)
        dst = ev.select((ev.frame >= f1) & (ev.frame <= f2))
        if len(src) == 0 or len(dst) == 0:
            continue
        c1 = frame_cell(cell, float(tilt[f1]))
        r_max = min(0.45 * vol ** (1 / 3), 6.0)
        r_c, g, alpha = jump_correlation(src.position, dst.position, c1, r_max=r_max, dr=0.5)
        g_parts.append((len(src), g, alpha))
    g_cj = None
    if g_parts:
        wts = np.array([p[0] for p in g_parts], dtype=float)
        g_cj = (
            r_c,
            np.nansum([p[1] * wi for p, wi in zip(g_parts, wts)], axis=0) / wts.sum(),
            np.nansum([p[2] * wi for p, wi in zip(g_parts, wts)], axis=0) / wts.sum(),
        )
    timings["g_cj"] = time.perf_counter() - t0
    # p_hop at Candelier jumps vs random frames
    t0 = time.perf_counter()
    ph = phop(nonaffine, times, s.t_r, form=s.phop_form)
    at = ph[ev.frame, ev.particle]
    rng = np.random.default_rng(0)
    rnd = ph[rng.integers(0, len(times), 20000), rng.integers(0, n, 20000)]
    timings["phop"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start
    ex = int(np.argmax([c.n_clusters for c in clusters])) if clusters else 0
    return RateResult(
        rate=rate,
        eta=eta,
        t_chi=t_chi,
        lc2=lc2,
        d=d,
        rho_th=rho_th,
        n_windows=len(wins),
        volumes=volumes,
        p_c=p_c,
        p_c_conv=p_c_conv,
        events_per_particle_time=len(ev) / (n * (times[-1] - times[0])),
        life_cycles=lcs,
        g_cj=g_cj,
        phop_at_jumps=float(np.nanmedian(at)),
        phop_random=float(np.nanmedian(rnd)),
        timings=timings,
        example_events=wins[ex][2].position if clusters else None,
        example_clusters=clusters[ex] if clusters else None,
        cluster_sets=clusters,
        window_ends=[int(e) for _, e, _, _ in wins],
    )


def _bar(items: Sequence[Any], on: bool, desc: str, unit: str) -> Any:
    if not on:
        return items

    return tqdm(items, desc=desc, unit=unit)


def wrap_frame(positions: np.ndarray, cell: np.ndarray, tilt: float) -> np.ndarray:
    return wrap_into_cell(positions, cell, tilt)


def _advect_events(ev: CageEvents, strain: np.ndarray, ref: int) -> np.ndarray:
    out = ev.position.copy()
    out[:, 0] += (strain[ref] - strain[ev.frame]) * out[:, 1]
    return out


# ----------------------------------------------------------------------------- across rates
def scaling_table(results: Sequence[RateResult], dim: int = 3) -> dict[str, Any]:
    """λ (Eq. 1 fit), ν_c (ξ_c fit) with standard errors, λ/(D+1), t_y vs t_χ exponents."""
    rates = np.array([r.rate for r in results])
    out: dict[str, Any] = {"rates": rates.tolist(), "paper_table_I_3D_MD": PAPER_3D_MD}
    if len(results) < 2:
        return out
    eta = fit_power_law(rates, [r.eta for r in results])
    xi = fit_power_law(rates, [r.xi_c for r in results], sem=[r._xi_sem() for r in results])
    out.update(
        lam=eta.lam,
        lam_err=eta.lam_err,
        lambda_over_D1=eta.lam / (dim + 1),
        lambda_over_D1_err=eta.lam_err / (dim + 1),
        nu_c=xi.lam,
        nu_c_err=xi.lam_err,
    )
    ty = [r.row()["t_y"] for r in results]
    if np.sum(np.isfinite(ty)) >= 2:
        fy = fit_power_law(rates, ty)
        fc = fit_power_law(rates, [r.t_chi for r in results])
        out.update(t_y_exponent=fy.lam, t_y_exponent_err=fy.lam_err, t_chi_exponent=fc.lam, t_chi_exponent_err=fc.lam_err)
    return out


def analyse_runs(
    folder: Path, system: SystemSpec, s: ClusterAnalysisSettings, manifest: Path | None = None, progress: bool = False
) -> list[RateResult]:
    files = sorted(Path(folder).glob("steady_r*.npz"))
    if not files:
        raise FileNotFoundError(f"{folder}: no steady_r*.npz trajectories (run bench/cluster_runs.py first)")
    lc2 = lc2_from_manifest(manifest)
    out = []
    for f in files:
        log.info("convective clusters: %s", f.name)
        out.append(analyse_rate(f, system, s, lc2, progress=progress))
    return sorted(out, key=lambda r: r.rate)
