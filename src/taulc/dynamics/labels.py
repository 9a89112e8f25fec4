"""Isoconfigurational-ensemble (ICE) labels of one configuration: τ_LC, τ_sh, class, mobility.

For a configuration at time origin ``t0`` (Yu, Zeng & Wang 2025, Sec. II.B-C, Fig. 6a):

* ``τ_LC = <τ_p>_ICE`` with the shear switched off at ``t0`` (``rate_after = 0``);
* ``τ_sh = <τ_p>_ICE`` with the shear kept on at ``γ̇`` (or switched to ``γ̇_f``);
  start-up shear is the same with an equilibrium configuration (Figs. 2-3);

where ``τ_p`` is the first cage-jump time (Candelier; Zeng, Yu & Wang 2025, Eq. 11) of the
non-affine trajectory from ``t0``.  Each replica starts from the
configuration's positions and cell with fresh Maxwell-Boltzmann velocities
from a recorded seed.  By default replica ``r`` uses the *same* velocity seed
for the shear-off and shear-on runs (common random numbers), which reduces the
variance of ``τ_LC - τ_sh``.

Also computed: slow/fast class (Eq. 2, ``τ_LC - τ_sh >= τ_2``), mobility
(ICE-averaged squared non-affine displacement of the shear-off runs at the
configured times, the "propensity"), split-half reliabilities, and the
replica-averaged single-origin MSD/α2/F_s of the shear-off runs.

The entry point for the dataset builder is :func:`label_configuration`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol

import numpy as np
from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from taulc.config import check_number
from taulc.dynamics.cage_jumps import first_jump_times, lc2_from_msd
from taulc.dynamics.correlators import (
    Correlators,
    alpha2_from_moments,
    crossing_time,
    log_lags,
    peak_time,
)
from taulc.dynamics.estimators import ESTIMATORS, classify_slow, ice_estimate, split_half_reliability
from taulc.errors import ConfigError

logger = logging.getLogger(__name__)

__all__ = [
    "LabelSettings",
    "IceRun",
    "Labels",
    "derived_seed",
    "run_ice",
    "label_configuration",
    "iter_replicas",
]


class TrajectoryLike(Protocol):
    """What the dynamics code needs from ``taulc.md`` trajectories (docs/CONTRACTS.md)."""

    times: np.ndarray  # (F,)
    nonaffine: np.ndarray  # (F, N, 3)
    meta: dict


@dataclass
class LabelSettings:
    """Label settings (``src/taulc/conf/labels/*.yaml``).

    Attributes:
        n_replicas: ICE replicas per condition.
        t_max: length of each replica run (LJ time); first jumps later are censored.
        sample_interval: time between stored frames (resolution of τ_p).
        lc2: ``"auto"`` (reference, else from the shear-off runs' MSD) or a value (σ²).
        lc2_method, lc2_slope_threshold: see :func:`taulc.dynamics.cage_jumps.lc2_from_msd`.
        tau_2, tau_alpha: ``"auto"`` (reference, else shear-off runs) or values.
        mobility_times: times for the mobility, numbers or ``"tau_2"``/``"tau_alpha"``.
        estimator: ICE estimator of the stored τ_LC/τ_sh under censoring, ``km`` (the paper's mean,
            default) | ``logmean`` | ``mean_uncensored`` | ``exp_mle``
            (:mod:`taulc.dynamics.estimators`; learning targets are re-estimated at load time).
        q: wave number for F_s (``"auto"`` uses the reference's q).
        overlap_a: overlap cut-off for χ4.
        reliability_splits: random halvings averaged in the split-half reliability.
        common_velocities: same velocity seed for replica r with shear off and on.
        memory_mb: working-set bound of the cage-jump detector.
        reference_species: species used for the equilibrium reference correlators
            (0 = big/A, the Kob-Andersen convention; ``None`` = all particles).
        engine: MD engine of the replicas, ``lammps`` or ``openmm`` (all replicas of a
            configuration as one batch on one device).
        device, batch_replicas, thermostat: OpenMM only: ``cpu`` | ``cuda`` | ``auto``; replicas
            per OpenMM context; ``replica`` (one Nose-Hoover chain per replica) | ``batch``.
    """

    n_replicas: int = 8
    t_max: float = 60.0
    sample_interval: float = 0.05
    lc2: float | str = "auto"
    lc2_method: str = "plateau"
    lc2_slope_threshold: float = 0.5
    tau_2: float | str = "auto"
    tau_alpha: float | str = "auto"
    mobility_times: tuple[float | str, ...] = ("tau_2", "tau_alpha")
    estimator: str = "km"
    q: float | str = 7.25
    overlap_a: float = 0.25
    reliability_splits: int = 10
    common_velocities: bool = True
    memory_mb: float = 256.0
    reference_species: int | None = 0
    engine: str = "lammps"
    device: str = "auto"
    batch_replicas: int = 64
    thermostat: str = "replica"

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> LabelSettings:
        """Build from a mapping (Hydra ``labels`` group); unknown keys are ignored with a log line."""
        if cfg is None:
            return cls()
        try:
            if isinstance(cfg, DictConfig):
                cfg = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
        except ImportError:  # pragma: no cover
            pass
        names = {f.name for f in fields(cls)}
        extra = sorted(set(cfg) - names - {"_target_", "name"})
        if extra:
            logger.debug("labels config: ignoring keys %s", extra)
        kw = {k: v for k, v in cfg.items() if k in names}
        if "mobility_times" in kw:
            kw["mobility_times"] = tuple(kw["mobility_times"])
        return cls(**kw)

    def __post_init__(self) -> None:
        """Ranges (every construction, ``dataclasses.replace`` included), then :meth:`validate`."""
        check_number(self.n_replicas, "labels.n_replicas", lo=1, integer=True)
        for k in ("t_max", "sample_interval", "memory_mb"):
            check_number(getattr(self, k), f"labels.{k}", lo=0, lo_open=True)
        check_number(self.reliability_splits, "labels.reliability_splits", lo=1, integer=True)
        for k in ("lc2", "tau_2", "tau_alpha", "q"):
            v = getattr(self, k)
            if not isinstance(v, str):
                check_number(v, f"labels.{k}", lo=0, lo_open=True)
        self.validate()

    def validate(self) -> None:
        """Raise :class:`~taulc.errors.ConfigError` (a ``ValueError``) naming the bad field."""
        if int(self.n_replicas) < 1:
            raise ConfigError(f"labels.n_replicas must be >= 1, got {self.n_replicas}")
        if not self.t_max > 0 or not self.sample_interval > 0 or self.sample_interval >= self.t_max:
            raise ConfigError(
                "labels.t_max and labels.sample_interval must be positive with "
                f"sample_interval < t_max, got {self.t_max}, {self.sample_interval}"
            )
        for name in ("lc2", "tau_2", "tau_alpha", "q"):
            v = getattr(self, name)
            if isinstance(v, str) and v != "auto":
                raise ConfigError(f"labels.{name} must be 'auto' or a number, got {v!r}")
        if self.lc2_method not in ("slope", "plateau", "alpha2"):
            raise ConfigError(f"labels.lc2_method must be slope|plateau|alpha2, got {self.lc2_method!r}")
        if self.estimator not in ESTIMATORS:
            raise ConfigError(f"labels.estimator must be one of {'|'.join(ESTIMATORS)}, got {self.estimator!r}")
        for t in self.mobility_times:
            if isinstance(t, str) and t not in ("tau_2", "tau_alpha"):
                raise ConfigError(f"labels.mobility_times entries must be numbers or tau_2/tau_alpha, got {t!r}")
        if self.engine not in ("lammps", "openmm"):
            raise ConfigError(f"field 'labels.engine' must be one of ['lammps', 'openmm'], got {self.engine!r}")
        if self.thermostat not in ("replica", "batch"):
            raise ConfigError(f"field 'labels.thermostat' must be replica|batch, got {self.thermostat!r}")
        if int(self.batch_replicas) < 1:
            raise ConfigError(f"field 'labels.batch_replicas' must be >= 1, got {self.batch_replicas}")


@dataclass
class IceRun:
    """First-jump times and displacement statistics of R replicas at one ``rate_after``.

    Attributes:
        rate_after: shear rate of the runs (0 = shear off).
        times: ``(F,)`` frame times of the replicas.
        first_jump: ``(R, N)`` first cage-jump times, NaN = censored.
        lag_times: ``(L,)`` log-spaced times at which ``r2`` is kept.
        r2: ``(R, L, N)`` float32 squared non-affine displacement since ``t0``.
        lc2: cage-size threshold used.
        seeds: velocity seeds of the replicas (from the trajectories' ``meta['seed']``).
    """

    rate_after: float
    times: np.ndarray
    first_jump: np.ndarray
    lag_times: np.ndarray
    r2: np.ndarray
    lc2: float
    seeds: list[int]

    @property
    def t_max(self) -> float:
        return float(self.times[-1] - self.times[0])

    def estimate(self, estimator: str = "km") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(τ (N,), censored fraction (N,), censored in all replicas (N,))``."""
        return ice_estimate(self.first_jump, self.t_max, estimator)

    def sq_displacement_at(self, t: float) -> np.ndarray:
        """``(R, N)`` squared displacement at time ``t`` (linear interpolation in ln t)."""
        lt = np.log(self.lag_times)
        if not (self.lag_times[0] <= t <= self.lag_times[-1]):
            logger.warning("mobility time %.4g outside [%.4g, %.4g]: NaN", t, self.lag_times[0], self.lag_times[-1])
            return np.full((self.r2.shape[0], self.r2.shape[2]), np.nan)
        j = int(np.clip(np.searchsorted(lt, np.log(t)), 1, lt.size - 1))
        w = (np.log(t) - lt[j - 1]) / (lt[j] - lt[j - 1])
        return ((1 - w) * self.r2[:, j - 1] + w * self.r2[:, j]).astype(np.float64)

    def correlators(self, q: float = 7.25, a: float = 0.25) -> Correlators:
        """Single-origin MSD, α2, F_s, overlap, χ4 (over replicas) from the stored ``r2``."""
        r2 = self.r2.astype(np.float64)
        r = np.sqrt(r2)
        msd = r2.mean(axis=(0, 2))
        r4 = (r2 * r2).mean(axis=(0, 2))
        fs = np.sinc(q * r / np.pi).mean(axis=(0, 2))
        qv = (r <= a).sum(axis=2).astype(np.float64)  # (R, L)
        n = r2.shape[2]
        chi4 = qv.var(axis=0) / n if qv.shape[0] > 1 else np.full(msd.shape, np.nan)
        c = Correlators(
            t=self.lag_times,
            msd=msd,
            r4=r4,
            alpha2=alpha2_from_moments(msd, r4),
            fs=fs,
            overlap=qv.mean(axis=0) / n,
            chi4=chi4,
            n_samples=np.full(msd.shape, qv.shape[0]),
            q=q,
            a=a,
            meta={"multi_origin": False, "n_particles": n, "n_replicas": qv.shape[0]},
        )
        c.tau_2, c.alpha2_max = peak_time(c.t, c.alpha2)
        c.tau_alpha = crossing_time(c.t, c.fs)
        if np.isfinite(chi4).sum() >= 3:
            c.t_chi, c.chi4_max = peak_time(c.t, chi4)
        return c


@dataclass
class Labels:
    """Labels of one configuration at one shear rate (names follow docs/CONTRACTS.md).

    Per particle (N,): ``tau_lc, tau_sh, censored_lc, censored_sh`` (fraction of
    replicas censored), ``all_censored_lc, all_censored_sh``, ``slow``.
    ``first_jump_lc, first_jump_sh`` (R, N) with NaN = censored; ``mobility``
    (n_times, N) from the shear-off runs and ``mobility_sh`` from the sheared
    runs at ``mobility_times``.  Scalars: ``tau_2, tau_alpha, lc2, t_max, rate,
    p_slow, reliability_lc, reliability_sh, reliability_mobility`` (one value per
    mobility time) and ``censored_fraction_lc/_sh`` (over all replicas and particles).
    """

    tau_lc: np.ndarray
    tau_sh: np.ndarray
    censored_lc: np.ndarray
    censored_sh: np.ndarray
    all_censored_lc: np.ndarray
    all_censored_sh: np.ndarray
    first_jump_lc: np.ndarray
    first_jump_sh: np.ndarray
    mobility: np.ndarray
    mobility_sh: np.ndarray
    mobility_times: np.ndarray
    slow: np.ndarray
    tau_2: float
    tau_alpha: float
    lc2: float
    t_max: float
    rate: float
    p_slow: float
    reliability_lc: float
    reliability_sh: float
    reliability_mobility: np.ndarray
    censored_fraction_lc: float
    censored_fraction_sh: float
    estimator: str
    seeds_lc: np.ndarray
    seeds_sh: np.ndarray
    meta: dict = field(default_factory=dict)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Flat dict of numpy arrays/scalars for an ``.npz`` shard (``meta`` left out)."""
        out: dict[str, np.ndarray] = {}
        for k, v in asdict(self).items():
            if k == "meta":
                continue
            out[k] = np.asarray(v)
        return out


# ----------------------------------------------------------------------------- engine adapter
def derived_seed(seed: int, stream: int) -> int:
    """Deterministic 31-bit seed for a use ``stream`` of the base ``seed``."""
    st = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(stream)]).generate_state(1, dtype=np.uint32)
    return int(st[0]) % (2**31 - 2) + 1


def iter_replicas(
    engine: Any, conf: Any, rate_after: float, *, n_replicas: int, t_max: float, sample_interval: float, seed: int
) -> Iterator[TrajectoryLike]:
    """Stream ICE replica trajectories from an engine (adapter to the ``taulc.md`` API).

    ``taulc.md.engine.MDEngine.ice(conf, n_replicas, rate_after, duration, seed,
    sample_every)`` is used when present (``sample_every`` in MD steps =
    ``sample_interval / dt``; replica velocity seeds derived by the engine from
    ``seed``).  Otherwise ``engine`` must be a callable
    ``engine(conf, rate_after=, n_replicas=, t_max=, sample_interval=, seed=)``
    yielding trajectories (used by tests with synthetic engines).
    """
    ice = getattr(engine, "ice", None)
    if ice is not None:
        dt = float(engine.system.dt)
        every = max(1, int(round(sample_interval / dt)))
        if not np.isclose(every * dt, sample_interval, rtol=1e-6):
            logger.warning("sample_interval %.4g is not a multiple of dt=%.4g: using %.4g", sample_interval, dt, every * dt)
        yield from ice(
            conf,
            n_replicas=int(n_replicas),
            rate_after=float(rate_after),
            duration=float(t_max),
            seed=int(seed),
            sample_every=every,
        )
        return
    if not callable(engine):
        raise TypeError(f"engine {engine!r} has no ice() method and is not callable")
    yield from engine(
        conf,
        rate_after=float(rate_after),
        n_replicas=int(n_replicas),
        t_max=float(t_max),
        sample_interval=float(sample_interval),
        seed=int(seed),
    )


# ----------------------------------------------------------------------------- ICE runs
def run_ice(
    engine: Any,
    conf: Any,
    rate_after: float,
    settings: LabelSettings,
    seed: int,
    *,
    lc2: float | None = None,
    progress: bool = False,
) -> IceRun:
    """Run ``settings.n_replicas`` ICE replicas at ``rate_after`` and detect every first cage jump.

    If ``lc2`` is None it is set from the MSD of the first replica
    (:func:`lc2_from_msd`; only meaningful for shear-off runs long enough to
    leave the plateau).  Replicas are consumed one at a time; per replica only
    ``(N,)`` first-jump times and ``r2`` on a log time grid are kept.
    """
    if getattr(engine, "iter_ice_batches", None) is not None:
        return _run_ice_batched(engine, conf, rate_after, settings, seed, lc2=lc2, progress=progress)
    fj, r2s, seeds = [], [], []
    n_rep = int(settings.n_replicas)
    times0: np.ndarray | None = None
    lag_idx: np.ndarray | None = None
    it: Iterable = iter_replicas(
        engine, conf, rate_after, n_replicas=n_rep, t_max=settings.t_max, sample_interval=settings.sample_interval, seed=seed
    )
    if progress:
        it = tqdm(it, total=n_rep, desc=f"ICE rate_after={rate_after:g}", leave=False)
    for r, traj in enumerate(it):
        seeds.append(int((getattr(traj, "meta", None) or {}).get("seed", -1)))
        times = np.asarray(traj.times, dtype=np.float64)
        na = np.asarray(traj.nonaffine)
        if na.ndim != 3 or na.shape[0] != times.size or na.shape[2] != 3:
            raise ValueError(f"replica {r}: nonaffine must be (F={times.size}, N, 3), got {na.shape}")
        if times0 is None:
            times0 = times - times[0]
            lag_idx = log_lags(times.size, 80)
        elif times.size != times0.size or not np.allclose(times - times[0], times0):
            raise ValueError(f"replica {r}: frame times differ from replica 0")
        assert lag_idx is not None
        d = na[lag_idx] - na[:1]
        r2 = np.einsum("lnk,lnk->ln", d, d).astype(np.float32)
        if lc2 is None:
            lc2 = lc2_from_msd(
                times0[lag_idx],
                r2.mean(axis=1, dtype=np.float64),
                method=settings.lc2_method,
                slope_threshold=settings.lc2_slope_threshold,
            )
            logger.info("l_c² = %.4g from the MSD of the first replica (rate_after=%g)", lc2, rate_after)
        fj.append(first_jump_times(na, times, lc2, memory_mb=settings.memory_mb))
        r2s.append(r2)
    if times0 is None or lag_idx is None or lc2 is None:
        raise RuntimeError(f"engine produced no replicas for rate_after={rate_after}")
    first = np.stack(fj)
    logger.info("ICE rate_after=%g: %d replicas, censored fraction %.3f", rate_after, first.shape[0], np.isnan(first).mean())
    return IceRun(
        rate_after=float(rate_after),
        times=times0,
        first_jump=first,
        lag_times=times0[lag_idx],
        r2=np.stack(r2s),
        lc2=float(lc2),
        seeds=list(seeds),
    )


def _run_ice_batched(
    engine: Any, conf: Any, rate_after: float, settings: LabelSettings, seed: int, *, lc2: float | None, progress: bool
) -> IceRun:
    """:func:`run_ice` for batched engines (``iter_ice_batches``, e.g. OpenMM on a GPU).

    Trajectories stay torch tensors on the engine's device; the first jumps are
    detected there (:func:`taulc.dynamics.cage_jumps_torch.first_jump_times_torch`,
    same frames as the NumPy detector) and only ``(R, N)`` first-jump times and
    ``(R, L, N)`` squared displacements reach the host.  Replicas come in chunks
    of the engine's ``batch_replicas``, which bounds device memory.
    """
    from taulc.dynamics.cage_jumps_torch import first_jump_times_torch  # noqa: PLC0415 - lazy: torch, only for device=cuda

    n_rep = int(settings.n_replicas)
    dt = float(engine.system.dt)
    every = max(1, int(round(settings.sample_interval / dt)))
    n_steps = max(1, int(round(settings.t_max / dt / every))) * every
    bar = None
    if progress:
        n_chunks = -(-n_rep // int(getattr(engine, "batch_replicas", n_rep)))
        bar = tqdm(
            total=n_chunks * n_steps, unit="step", leave=False, desc=f"ICE rate_after={rate_after:g} ({n_rep} replicas batched)"
        )
    fj, r2s, seeds = [], [], []
    times0: np.ndarray | None = None
    lag_idx: np.ndarray | None = None
    try:
        for batch in engine.iter_ice_batches(
            conf,
            n_rep,
            float(rate_after),
            float(settings.t_max),
            int(seed),
            sample_every=every,
            progress=bar.update if bar is not None else None,
        ):
            times = np.asarray(batch.times, dtype=np.float64)
            if times0 is None:
                times0 = times - times[0]
                lag_idx = log_lags(times.size, 80)
            assert lag_idx is not None
            na = batch.nonaffine  # (B, F, N, 3) on the device
            d = na[:, lag_idx] - na[:, :1]
            r2 = (d * d).sum(dim=-1).float().cpu().numpy()  # (B, L, N)
            if lc2 is None:
                lc2 = lc2_from_msd(
                    times0[lag_idx],
                    r2[0].mean(axis=1, dtype=np.float64),
                    method=settings.lc2_method,
                    slope_threshold=settings.lc2_slope_threshold,
                )
                logger.info("l_c² = %.4g from the MSD of the first replica (rate_after=%g)", lc2, rate_after)
            fj.append(first_jump_times_torch(na, times, lc2, memory_mb=settings.memory_mb).cpu().numpy())
            r2s.append(r2)
            seeds.extend(int(s) for s in batch.seeds)
            del na, d, batch
    finally:
        if bar is not None:
            bar.close()
    if times0 is None or lag_idx is None or lc2 is None:
        raise RuntimeError(f"engine produced no replicas for rate_after={rate_after}")
    first = np.concatenate(fj)
    logger.info(
        "ICE rate_after=%g: %d replicas (batched), censored fraction %.3f", rate_after, first.shape[0], np.isnan(first).mean()
    )
    return IceRun(
        rate_after=float(rate_after),
        times=times0,
        first_jump=first,
        lag_times=times0[lag_idx],
        r2=np.concatenate(r2s),
        lc2=float(lc2),
        seeds=seeds,
    )


def _ref_value(name: str, setting: float | str, reference: Mapping[str, Any] | None, fallback: float) -> tuple[float, str]:
    if not isinstance(setting, str):
        return float(setting), "config"
    if reference is not None and reference.get(name) is not None and np.isfinite(reference[name]):
        return float(reference[name]), "reference"
    return float(fallback), "shear-off replicas"


def label_configuration(
    engine: Any,
    conf: Any,
    rate: float,
    settings: LabelSettings | Mapping[str, Any] | None = None,
    *,
    reference: Mapping[str, Any] | None = None,
    seed: int = 0,
    lc_run: IceRun | None = None,
    progress: bool = False,
) -> Labels:
    """Label every particle of ``conf`` for shear rate ``rate`` from ICE runs.

    Runs ``n_replicas`` replicas with the shear switched off (→ τ_LC) and
    ``n_replicas`` with the shear on at ``rate`` (→ τ_sh; for start-up pass an
    equilibrium configuration, for a rate switch pass ``γ̇_f``).  ``rate = 0``
    gives ``τ_sh = τ_LC`` from the same runs.

    Args:
        engine: ``taulc.md`` engine (``ice_replicas``) or a compatible callable.
        conf: configuration at the time origin t0 (``taulc.md.Configuration``).
        rate: shear rate kept on (or switched to) for τ_sh.
        settings: :class:`LabelSettings` or its config mapping.
        reference: equilibrium reference (``lc2``, ``tau_2``, ``tau_alpha``, ``q``;
            e.g. :func:`taulc.dynamics.reference.reference_from_trajectories` ``.to_dict()``).
            Missing entries fall back to values measured on the shear-off runs.
        seed: base seed of the replica velocities (recorded in ``seeds_lc``/``seeds_sh``).
        lc_run: reuse an existing shear-off :class:`IceRun` (start-up at several rates
            from the same equilibrium configuration needs τ_LC only once).

    Returns:
        :class:`Labels` (``.to_arrays()`` for a shard).
    """
    st = settings if isinstance(settings, LabelSettings) else LabelSettings.from_config(settings)
    st.validate()
    n_rep = int(st.n_replicas)
    seed_lc = int(seed)
    seed_sh = seed_lc if st.common_velocities else derived_seed(seed, 1)
    lc2: float | None = None
    lc2_src = "config"
    if not isinstance(st.lc2, str):
        lc2 = float(st.lc2)
    elif reference is not None and reference.get("lc2") is not None:
        lc2, lc2_src = float(reference["lc2"]), "reference"
    else:
        lc2_src = "shear-off replicas"
    if lc_run is None:
        lc_run = run_ice(engine, conf, 0.0, st, seed_lc, lc2=lc2, progress=progress)
    elif lc2 is not None and not np.isclose(lc_run.lc2, lc2):
        raise ValueError(f"lc_run used l_c²={lc_run.lc2}, settings/reference give {lc2}")
    lc2 = lc_run.lc2
    q = float(st.q) if not isinstance(st.q, str) else float((reference or {}).get("q", 7.25))
    corr = lc_run.correlators(q=q, a=st.overlap_a)
    tau_2, src2 = _ref_value("tau_2", st.tau_2, reference, corr.tau_2)
    tau_a, srca = _ref_value("tau_alpha", st.tau_alpha, reference, corr.tau_alpha)
    if src2 != "config" and src2 != "reference":
        logger.warning(
            "τ_2 = %.4g taken from the shear-off replicas of this configuration "
            "(single origin); pass an equilibrium reference for consistent labels",
            tau_2,
        )
    if rate == 0:
        sh_run = lc_run
    else:
        sh_run = run_ice(engine, conf, float(rate), st, seed_sh, lc2=lc2, progress=progress)
    tau_lc, cens_lc, all_lc = lc_run.estimate(st.estimator)
    tau_sh, cens_sh, all_sh = sh_run.estimate(st.estimator)
    mob_t = np.array(
        [tau_2 if t == "tau_2" else tau_a if t == "tau_alpha" else float(t) for t in st.mobility_times], dtype=np.float64
    )
    sq_lc = (
        np.stack([lc_run.sq_displacement_at(t) for t in mob_t], axis=1) if mob_t.size else np.zeros((n_rep, 0, tau_lc.size))
    )  # (R, n_t, N)
    sq_sh = np.stack([sh_run.sq_displacement_at(t) for t in mob_t], axis=1) if mob_t.size else np.zeros((n_rep, 0, tau_lc.size))
    slow = classify_slow(tau_lc, tau_sh, tau_2)
    t_max = lc_run.t_max

    def _tau_stat(x: np.ndarray) -> np.ndarray:
        return ice_estimate(x, t_max, st.estimator)[0]

    rel_lc = split_half_reliability(lc_run.first_jump, _tau_stat, n_splits=st.reliability_splits, seed=seed)
    rel_sh = split_half_reliability(sh_run.first_jump, _tau_stat, n_splits=st.reliability_splits, seed=seed + 1)
    rel_mob = np.array(
        [
            split_half_reliability(
                sq_lc[:, k], lambda x: x.mean(axis=0), n_splits=st.reliability_splits, seed=seed + 2, transform=None
            )
            for k in range(mob_t.size)
        ]
    )
    lab = Labels(
        tau_lc=tau_lc,
        tau_sh=tau_sh,
        censored_lc=cens_lc,
        censored_sh=cens_sh,
        all_censored_lc=all_lc,
        all_censored_sh=all_sh,
        first_jump_lc=lc_run.first_jump,
        first_jump_sh=sh_run.first_jump,
        mobility=sq_lc.mean(axis=0),
        mobility_sh=sq_sh.mean(axis=0),
        mobility_times=mob_t,
        slow=slow,
        tau_2=tau_2,
        tau_alpha=tau_a,
        lc2=float(lc2),
        t_max=t_max,
        rate=float(rate),
        p_slow=float(slow.mean()),
        reliability_lc=rel_lc,
        reliability_sh=rel_sh,
        reliability_mobility=rel_mob,
        censored_fraction_lc=float(np.isnan(lc_run.first_jump).mean()),
        censored_fraction_sh=float(np.isnan(sh_run.first_jump).mean()),
        estimator=st.estimator,
        seeds_lc=np.asarray(lc_run.seeds),
        seeds_sh=np.asarray(sh_run.seeds),
        meta={
            "lc2_source": lc2_src,
            "tau_2_source": src2,
            "tau_alpha_source": srca,
            "shear_off_correlators": {"tau_2": corr.tau_2, "tau_alpha": corr.tau_alpha, "alpha2_max": corr.alpha2_max},
        },
    )
    logger.info(
        "labels rate=%g: <τ_LC>=%.3g <τ_sh>=%.3g p_slow=%.3f censored lc/sh=%.3f/%.3f reliability lc/sh=%.2f/%.2f",
        rate,
        np.mean(tau_lc),
        np.mean(tau_sh),
        lab.p_slow,
        lab.censored_fraction_lc,
        lab.censored_fraction_sh,
        rel_lc,
        rel_sh,
    )
    return lab
