"""Engine-independent MD driver: shear schedules, recording, ICE replicas.

A backend (:class:`taulc.md.lammps_engine.LammpsEngine`, later e.g. a GPU
batch engine) implements a handful of primitives (load a configuration,
create a random one, set velocities, set the shear rate, advance n steps,
read one frame).  Everything physics-facing that is not engine specific —
schedules of shear segments, streaming of frames with the Yamamoto-Onuki
non-affine displacement, viscosity bookkeeping (Eq. 1), isoconfigurational
(ICE) replicas — lives here, once.

Shear geometry (SLLOD + Lees-Edwards): flow x, gradient y, streaming
velocity ``u_x = γ̇ (y - ylo)`` with ``ylo = 0``.

Equations of motion (every engine): textbook SLLOD with a Nosé-Hoover chain
on the peculiar momenta (Evans & Morriss 1990, *Statistical Mechanics of
Nonequilibrium Liquids*, Ch. 6),

    ṙ = p/m + γ̇ y x̂,   ṗ = F − γ̇ p_y x̂ − ζ p,

which for planar Couette flow is Newton's equation in the lab velocity
``v = ṙ`` with a thermostat on ``c = v − γ̇ y x̂`` (``v̇ = F/m − ζ c``): a
free particle moves in a straight line, and ``dH₀/dt = −γ̇ V P_xy − ζ·2K``
with ``H₀ = Σ p²/2m + U`` and the full (kinetic + virial) P_xy.  The chain
lengths (:data:`NH_CHAIN_NVT` at rest, :data:`NH_CHAIN_SLLOD` under shear) are the
same in both engines.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from taulc import __version__
from taulc.errors import ConfigError
from taulc.md.atomic_stress import particle_volumes
from taulc.md.configuration import Configuration, ConfigurationError
from taulc.md.system import SystemSpec
from taulc.md.trajectory import NonAffineIntegrator, Trajectory

log = logging.getLogger(__name__)

#: Nosé-Hoover chain lengths shared by the LAMMPS and OpenMM engines.  Under shear one thermostat
#: variable: in a steady state d⟨ζ⟩/dt = 0 then gives ⟨K⟩ = K_target exactly while ζ removes the
#: viscous heat; with a chain, ⟨K⟩ − K_target = Q₁⟨ζ₁ζ₂⟩ > 0 (measured at γ̇ = 0.1, T = 0.6,
#: N = 500: ⟨T⟩ = 0.616 with chain 3, 0.599 with 1; ``fix nvt/sllod``'s default is 1).  At rest a
#: chain of 3 (``fix nvt``'s default): a single variable rings after a melt or quench (a 2 τ
#: equilibration from the melt gave a run-mean T of 1.09 for a target of 0.8, N = 300).
NH_CHAIN_NVT = 3
NH_CHAIN_SLLOD = 1
NH_CHAIN = NH_CHAIN_NVT  # the longest chain an engine must hold
#: Default sampling interval in MD steps (0.1 τ at dt = 0.005).
DEFAULT_SAMPLE_EVERY = 20
#: MD steps per chunk of an unrecorded segment when a progress callback is given.
PROGRESS_CHUNK = 2000

ProgressFn = Callable[[int], None]


@dataclass(frozen=True)
class Segment:
    """A stretch of constant shear rate.

    Attributes:
        duration: length in LJ time (rounded to whole sampling intervals when recorded).
        rate: shear rate γ̇ (0 = no shear, plain Nosé-Hoover NVT).
        record: stream frames to Python (positions, non-affine displacement,
            stress); unrecorded segments must come first in a schedule.
    """

    duration: float
    rate: float = 0.0
    record: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.duration) and self.duration >= 0):
            raise ValueError(f"segment field 'duration' must be >= 0, got {self.duration}")
        if not math.isfinite(self.rate) or self.rate < 0:
            raise ValueError(f"segment field 'rate' must be a finite number >= 0, got {self.rate}")


@dataclass
class Frame:
    """One sample read from the backend (atom-id order)."""

    unwrapped: np.ndarray  # (N,3)
    velocities: np.ndarray  # (N,3) peculiar
    positions: np.ndarray  # (N,3) as held by the engine (may sit slightly outside the cell)
    cell: np.ndarray  # (3,3)
    stress_xy: float  # window average (instantaneous for the first frame)
    potential_energy: float  # per particle
    y_integral: np.ndarray | None = None  # ∫ y_u dt over the window, if the engine has it
    # per-particle shear stress x volume s_i,xy, averaged like stress_xy (Σ_i s_i = -V p_xy;
    # taulc.md.atomic_stress); only when the run asked for it (record_atom_stress)
    atom_stress_xy: np.ndarray | None = None


def replica_seeds(seed: int, n: int) -> list[int]:
    """Distinct, reproducible 31-bit seeds for ``n`` replicas derived from ``seed``."""
    out: list[int] = []
    i = 0
    while len(out) < n:
        s = int(np.random.SeedSequence([int(seed), i]).generate_state(1, dtype=np.uint32)[0])
        s = s % (2**31 - 1) + 1
        if s not in out:
            out.append(s)
        i += 1
    return out


def maxwell_boltzmann(n: int, temperature: float, mass: float, seed: int) -> np.ndarray:
    """Gaussian velocities with zero total momentum, rescaled to exactly ``temperature``.

    The kinetic temperature uses 3N - 3 degrees of freedom (centre of mass fixed).
    """
    rng = np.random.default_rng(seed)
    v = rng.normal(0.0, math.sqrt(temperature / mass), size=(n, 3))
    v -= v.mean(axis=0)
    t_now = mass * float(np.sum(v * v)) / (3 * n - 3)
    return v * math.sqrt(temperature / t_now)


class MDEngine(ABC):
    """Abstract MD engine for the sheared binary LJ mixture.

    State kept by the driver: ``rate`` (γ̇ in force), ``time`` (LJ time since
    the state's origin, continued from ``meta['time']`` on load), ``strain``
    (accumulated ∫γ̇ dt), ``temperature`` (thermostat target) and ``seeds``.
    """

    backend: str = "abstract"
    #: whether the backend can fill ``Frame.atom_stress_xy`` (``run(record_atom_stress=True)``)
    supports_atom_stress: bool = False

    def __init__(self, system: SystemSpec, sample_every: int = DEFAULT_SAMPLE_EVERY) -> None:
        if sample_every < 1:
            raise ValueError(f"field 'sample_every' must be >= 1 step, got {sample_every}")
        self.system = system
        self.sample_every = int(sample_every)
        self.rate = 0.0
        self.time = 0.0
        self.strain = 0.0
        self.temperature = system.temperature
        self.seeds: dict[str, int | list[int]] = {}
        self.protocol = "none"
        self._loaded = False
        #: read per-particle shear stress into frames (set by ``run(record_atom_stress=...)``)
        self.atom_stress = False

    # ----------------------------------------------------------- primitives
    @abstractmethod
    def _load(self, conf: Configuration) -> None:
        """Replace the state by ``conf`` (positions, cell, peculiar velocities; rate 0)."""

    @abstractmethod
    def _create_random(self, seed: int) -> None:
        """Random positions in the cubic box, soft push-off and energy minimisation."""

    @abstractmethod
    def _set_velocities(self, velocities: np.ndarray) -> None:
        """Set peculiar velocities (atom-id order); streaming profile added for ``rate``."""

    @abstractmethod
    def _apply_rate(self, old: float, new: float) -> None:
        """Switch the integrator from shear rate ``old`` to ``new`` (kick included)."""

    @abstractmethod
    def _apply_temperature(self, temperature: float) -> None:
        """Set the thermostat target."""

    @abstractmethod
    def _advance(self, n_steps: int, window: int | None, span: tuple[int, int] | None) -> None:
        """Run ``n_steps`` MD steps; ``window`` = stress-averaging window in steps
        (None: no recording).  ``span`` = (first, last) step of the enclosing segment
        so that time-dependent fixes ramp over the segment, not the chunk."""

    @abstractmethod
    def _frame(self, first: bool) -> Frame:
        """Read the current state (``first``: instantaneous stress, no window)."""

    @abstractmethod
    def _timestep(self) -> int:
        """Current MD step counter."""

    @property
    @abstractmethod
    def version(self) -> str:
        """Engine version string recorded in configuration metadata."""

    # ------------------------------------------------------------ public API
    def load(self, conf: Configuration, check: bool = True) -> None:
        """Load a configuration (tilt kept, shear off, time/strain from its meta).

        Raises:
            SystemSpecError / ConfigurationError if N or ρ do not match the system.
        """
        conf.validate()
        if check:
            self.system.check_box(conf.n_atoms, conf.volume, source="configuration")
            ns = int(np.count_nonzero(conf.species == 1))
            if ns != self.system.n_small:
                raise ConfigurationError(
                    f"configuration: field 'species' has {ns} small particles, system "
                    f"'{self.system.name}' expects {self.system.n_small}"
                )
        self._load(conf)
        self.rate = 0.0
        self.time = float(conf.meta.get("time", 0.0))
        self.strain = float(conf.meta.get("strain", 0.0))
        self.seeds = dict(conf.meta.get("seeds", {}))
        self.protocol = str(conf.meta.get("protocol", "loaded"))
        self._apply_temperature(self.temperature)
        if conf.velocities is None:
            log.info("configuration has no velocities: set to zero (call thermalize())")
        self._loaded = True

    def thermalize(self, seed: int, temperature: float | None = None) -> None:
        """Fresh Maxwell-Boltzmann peculiar velocities at ``temperature`` (default T)."""
        self._require_state()
        t = self.system.temperature if temperature is None else temperature
        v = maxwell_boltzmann(self.system.n_atoms, t, self.system.mass, seed)
        self._set_velocities(v)
        self.seeds["velocities"] = int(seed)

    def set_temperature(self, temperature: float) -> None:
        """Change the thermostat target (e.g. for the melt stage)."""
        if not temperature > 0:
            raise ValueError(f"field 'temperature' must be > 0, got {temperature}")
        self.temperature = float(temperature)
        if self._loaded:
            self._apply_temperature(self.temperature)

    def set_rate(self, rate: float) -> None:
        """Switch shear to ``rate`` now (0 = off).  Kicks the streaming profile
        ``Δu_x = (γ̇_new - γ̇_old) y`` so the peculiar velocities are unchanged."""
        if not (math.isfinite(rate) and rate >= 0):
            raise ValueError(f"field 'rate' must be a finite number >= 0, got {rate}")
        self._require_state()
        if rate != self.rate:
            log.debug("shear rate %g -> %g at t=%g", self.rate, rate, self.time)
            self._apply_rate(self.rate, rate)
            self.rate = float(rate)

    def create(self, seed: int) -> None:
        """Random initial state with soft push-off + minimisation (no velocities yet)."""
        self._create_random(int(seed))
        self.rate = 0.0
        self.time = 0.0
        self.strain = 0.0
        self.seeds = {"init": int(seed)}
        self.protocol = "equilibrium"
        self._loaded = True

    def equilibrate(
        self,
        seed: int,
        duration: float | None = None,
        progress: ProgressFn | None = None,
    ) -> Configuration:
        """Create a random state, melt at ``melt_temperature``, equilibrate at T.

        Returns the equilibrium configuration (time origin reset to 0).
        """
        sysm = self.system
        duration = sysm.equilibration_time if duration is None else duration
        self.create(seed)
        self.set_temperature(sysm.melt_temperature)
        self.thermalize(seed + 1, sysm.melt_temperature)
        log.info(
            "equilibrating %s (N=%d, rho=%g): melt %g at T=%g, then %g at T=%g",
            sysm.name,
            sysm.n_atoms,
            sysm.density,
            sysm.melt_time,
            sysm.melt_temperature,
            duration,
            sysm.temperature,
        )
        self.run([Segment(sysm.melt_time, 0.0, record=False)], progress=progress)
        self.set_temperature(sysm.temperature)
        self.run([Segment(duration, 0.0, record=False)], progress=progress)
        self.time = 0.0
        self.strain = 0.0
        return self.snapshot()

    def steps(self, duration: float) -> int:
        return int(round(duration / self.system.dt))

    def run(
        self,
        schedule: Sequence[Segment] | Segment,
        sample_every: int | None = None,
        record_positions: bool = True,
        progress: ProgressFn | None = None,
        record_atom_stress: bool = False,
    ) -> Trajectory | None:
        """Run a schedule of shear segments from the current state.

        Recorded segments stream a frame every ``sample_every`` steps (no dump
        files); the time origin is the start of the first recorded segment.
        ``record_atom_stress`` also records the per-particle shear stress
        σ_i,xy (Zeng, Yu & Wang 2025 Eq. 2-3; :mod:`taulc.md.atomic_stress`),
        averaged over the same MD steps as ``stress_xy`` (off by default: the
        per-atom virial costs extra).  Returns None when nothing is recorded.
        """
        self._require_state()
        if record_atom_stress and not self.supports_atom_stress:
            raise ValueError(f"engine '{self.backend}' cannot record per-particle stress")
        self.atom_stress = bool(record_atom_stress)
        try:
            return self._run(schedule, sample_every, record_positions, progress)
        finally:
            self.atom_stress = False

    def _run(
        self,
        schedule: Sequence[Segment] | Segment,
        sample_every: int | None,
        record_positions: bool,
        progress: ProgressFn | None,
    ) -> Trajectory | None:
        segs = [schedule] if isinstance(schedule, Segment) else list(schedule)
        k = int(sample_every or self.sample_every)
        if k < 1:
            raise ValueError(f"field 'sample_every' must be >= 1, got {k}")
        dt = self.system.dt
        rec_flags = [s.record for s in segs]
        if any(rec_flags):
            first = rec_flags.index(True)
            if not all(rec_flags[first:]):
                raise ValueError("unrecorded segments must precede recorded ones in a schedule")
        n_rec_steps = []
        for s in segs:
            n = self.steps(s.duration)
            if s.record:
                m = max(1, int(round(n / k))) * k
                if m != n:
                    log.debug("segment of %d steps rounded to %d (sample_every=%d)", n, m, k)
                n = m
            n_rec_steps.append(n)

        rec: _Recorder | None = None
        for seg, n in zip(segs, n_rec_steps):
            self.set_rate(seg.rate)
            if not seg.record:
                start, done = self._timestep(), 0
                chunk = PROGRESS_CHUNK if progress else max(n, 1)
                while done < n:  # chunks only so that a progress bar can move
                    m = min(chunk, n - done)
                    self._advance(m, None, (start, start + n))
                    self._tick(m)
                    done += m
                    if progress:
                        progress(m)
                continue
            if rec is None:
                rem = (-self._timestep()) % k
                if rem:
                    self._advance(rem, None, None)
                    self._tick(rem)
                n_frames = 1 + sum(nn for s2, nn in zip(segs, n_rec_steps) if s2.record) // k
                rec = _Recorder(self, n_frames, record_positions)
                rec.add(self._frame(first=True), 0.0, self.rate, None)
            start = self._timestep()
            for _i in range(n // k):
                self._advance(k, k, (start, start + n))
                self._tick(k)
                rec.add(self._frame(first=False), k * dt, self.rate, k * dt)
                if progress:
                    progress(k)
        if rec is None:
            return None
        return rec.finish()

    def snapshot(self, **meta) -> Configuration:
        """Current state as a :class:`Configuration` (wrapped positions, peculiar velocities)."""
        self._require_state()
        fr = self._frame(first=True)
        return Configuration(
            positions=_wrap(fr.positions, fr.cell),
            species=self._species(),
            cell=fr.cell,
            velocities=fr.velocities,
            meta=self._meta(**meta),
        )

    def ice(
        self,
        conf: Configuration,
        n_replicas: int,
        rate_after: float,
        duration: float,
        seed: int,
        sample_every: int | None = None,
        record_positions: bool = True,
        progress: ProgressFn | None = None,
        record_atom_stress: bool = False,
    ) -> Iterator[Trajectory]:
        """Isoconfigurational ensemble: yield one replica trajectory at a time.

        Each replica starts from ``conf``'s positions and cell (tilt kept) with
        fresh Maxwell-Boltzmann peculiar velocities at T from its own seed
        (``replica_seeds(seed, n_replicas)``; recorded in ``meta['seed']``), then
        runs ``duration`` at ``rate_after`` (0: shear off -> τ_LC; γ̇: kept on ->
        τ_sh; γ̇_f: switch; from an equilibrium configuration: start-up).
        """
        if n_replicas < 1:
            raise ValueError(f"field 'n_replicas' must be >= 1, got {n_replicas}")
        if not (math.isfinite(rate_after) and rate_after >= 0):
            raise ValueError(f"field 'rate_after' must be >= 0, got {rate_after}")
        seeds = replica_seeds(seed, n_replicas)
        for r, s in enumerate(seeds):
            base = conf.copy()
            base.meta["time"] = 0.0
            self.load(base)
            self.thermalize(s)
            self.seeds = {**self.seeds, "ice": int(seed), "replica": int(s)}
            self.protocol = f"ice(rate_after={rate_after:g})"
            traj = self.run(
                [Segment(duration, rate_after)],
                sample_every,
                record_positions,
                progress,
                record_atom_stress=record_atom_stress,
            )
            assert traj is not None
            traj.meta.update(
                replica=r,
                seed=int(s),
                ice_seed=int(seed),
                n_replicas=n_replicas,
                rate_after=float(rate_after),
                source_meta=conf.meta,
            )
            yield traj

    def minimize(self, conf: Configuration, **kwargs) -> Configuration:
        """Inherent state of ``conf`` (energy minimisation at fixed cell).

        Engines that can minimise override this (the LAMMPS engine does); the others refuse.
        """

        raise ConfigError(
            f"field 'engine.backend': MD engine {self.backend!r} does not minimise (inherent states need engine.backend=lammps)"
        )

    # -------------------------------------------------------------- helpers
    def _require_state(self) -> None:
        if not self._loaded:
            raise RuntimeError("engine has no state: call create()/equilibrate()/load() first")

    def _tick(self, n: int) -> None:
        self.time += n * self.system.dt
        self.strain += self.rate * n * self.system.dt

    @abstractmethod
    def _species(self) -> np.ndarray:
        """Species in atom-id order."""

    def _meta(self, **extra) -> dict:
        s = self.system
        m = {
            "system": s.name,
            "n_atoms": s.n_atoms,
            "temperature": self.temperature,
            "density": s.density,
            "rate": self.rate,
            "protocol": self.protocol,
            "strain": self.strain,
            "time": self.time,
            "seeds": dict(self.seeds),
            "engine": self.backend,
            "engine_version": self.version,
            "taulc_version": __version__,
            "dt": s.dt,
            "symbols": list(s.symbols),
        }
        m.update(extra)
        return m


def _wrap(positions: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Wrap Cartesian positions into an upper-triangular cell (origin 0)."""
    frac = np.linalg.solve(cell.T, positions.T).T
    frac -= np.floor(frac)
    out = frac @ cell
    return out


class _Recorder:
    """Preallocated frame buffers + the non-affine integrator."""

    def __init__(self, engine: MDEngine, n_frames: int, record_positions: bool) -> None:
        self.engine = engine
        self.n = n_frames
        self.i = 0
        n_atoms = engine.system.n_atoms
        self.times = np.zeros(n_frames)
        self.stress = np.zeros(n_frames)
        self.rate = np.zeros(n_frames)
        self.temp = np.zeros(n_frames)
        self.pe = np.zeros(n_frames)
        self.strain = np.zeros(n_frames)
        self.tilt = np.zeros(n_frames)
        self.positions = record_positions
        if record_positions:
            self.unwrapped = np.empty((n_frames, n_atoms, 3))
            self.nonaffine = np.empty((n_frames, n_atoms, 3))
        self.integ: NonAffineIntegrator | None = None
        self.initial: Configuration | None = None
        self.t = 0.0
        self.gamma = 0.0
        self.last: Frame | None = None
        self.dof = 3 * n_atoms - 3
        self.mass = engine.system.mass
        self.atom_stress: np.ndarray | None = None
        self.omega: np.ndarray | None = None
        if engine.atom_stress:
            sysm = engine.system
            self.omega = particle_volumes(engine._species(), sysm.volume, sysm.sigma["bb"] / sysm.sigma["ss"])
            self.atom_stress = np.empty((n_frames, n_atoms))

    def add(self, fr: Frame, dt: float, rate: float, window: float | None) -> None:
        i = self.i
        self.t += dt
        self.gamma += rate * dt
        self.times[i] = self.t
        self.stress[i] = fr.stress_xy
        self.rate[i] = rate
        self.temp[i] = self.mass * float(np.einsum("ij,ij->", fr.velocities, fr.velocities)) / self.dof
        self.pe[i] = fr.potential_energy
        self.strain[i] = self.gamma
        self.tilt[i] = fr.cell[1, 0]
        if self.atom_stress is not None:
            if fr.atom_stress_xy is None:  # pragma: no cover - backend contract
                raise RuntimeError("engine returned a frame without per-particle stress")
            self.atom_stress[i] = fr.atom_stress_xy / self.omega
        if self.positions:
            self.unwrapped[i] = fr.unwrapped
            if self.integ is None:
                self.integ = NonAffineIntegrator(fr.unwrapped, ylo=0.0)
                self.nonaffine[i] = 0.0
            else:
                self.nonaffine[i] = self.integ.update(fr.unwrapped, rate, dt, fr.y_integral)
        if i == 0:
            self.initial = Configuration(
                _wrap(fr.positions, fr.cell),
                self.engine._species(),
                fr.cell,
                fr.velocities,
                {"time_origin": self.engine.time},
            )
        self.last = fr
        self.i += 1

    def finish(self) -> Trajectory:
        if self.i != self.n:  # pragma: no cover - internal consistency
            raise RuntimeError(f"recorded {self.i} frames, expected {self.n}")
        eng = self.engine
        fr = self.last
        assert fr is not None
        final = Configuration(_wrap(fr.positions, fr.cell), eng._species(), fr.cell, fr.velocities, eng._meta())
        return Trajectory(
            times=self.times,
            unwrapped=self.unwrapped if self.positions else None,
            nonaffine=self.nonaffine if self.positions else None,
            stress_xy=self.stress,
            rate=self.rate,
            final=final,
            meta={
                "seeds": dict(eng.seeds),
                "system": eng.system.name,
                "sample_every": int(round((self.times[1] - self.times[0]) / eng.system.dt)) if self.n > 1 else None,
                "protocol": eng.protocol,
            },
            temperature=self.temp,
            potential_energy=self.pe,
            strain=self.strain,
            tilt=self.tilt,
            initial=self.initial,
            atom_stress_xy=self.atom_stress,
            particle_volume=self.omega,
        )
