"""Batched isoconfigurational replicas on OpenMM (CPU or GPU).

All R replicas of one configuration are particles of **one** OpenMM
``System`` (R·N particles); a ``CustomNonbondedForce`` with one interaction
group per replica keeps them independent.  One context step advances every
replica: on a GPU this turns R launch-bound small systems into one large one
(3.2·10⁸ atom-steps/s for N = 1500, R = 512 on an H200 while planning, issue
#14).

Physics (the same equations and the same discrete step as
:class:`taulc.md.lammps_engine.LammpsEngine`, NVT and SLLOD alike; tests
compare them step by step for 2000 steps under shear):

* Kob-Andersen pair potential ``4ε_αβ[(σ_αβ/r)¹² - (σ_αβ/r)⁶] - V_αβ(r_c)``
  for ``r < r_c,αβ`` with 2×2 tabulated ε, σ, shift and cut-off (both
  ``cutoff_mode``\\ s of :class:`taulc.md.system.SystemSpec`);
* Nosé-Hoover chain NVT (chain length :data:`taulc.md.engine.NH_CHAIN_NVT` at rest,
  :data:`taulc.md.engine.NH_CHAIN_SLLOD` under shear, as the LAMMPS engine; ``tdamp``), the same update as LAMMPS ``fix nvt`` (Martyna-Tuckerman-Klein,
  one loop, no Suzuki-Yoshida), one chain per replica (``thermostat="replica"``,
  default) or one chain on the whole batch (``thermostat="batch"``, faster for
  very large batches; see docs/gpu-labels.md for what that changes);
* textbook SLLOD + Lees-Edwards (Evans & Morriss 1990), ``ṙ = c + γ̇ y e_x``,
  ``ċ_x = F_x/m − γ̇ c_y`` (+ thermostat): OpenMM's velocities hold the
  *peculiar* velocity ``c = v - γ̇ y e_x``.  The thermostat half-steps scale
  ``c``; the drift is ``x += dt (c + γ̇ y e_x)`` and changes ``c_x`` by
  ``-dt γ̇ c_y`` (the lab velocity is constant during the drift, as in
  LAMMPS's velocity Verlet with ``fix nvt`` + ``compute temp/deform``).  That
  is the only SLLOD term: a free particle moves in a straight line in the lab
  frame.  Holding peculiar velocities makes any periodic image of a particle
  move consistently (Lees-Edwards images drift at γ̇ L_y), so no velocity
  remap is needed.  The cell tilt is advanced from the host after every step
  and flipped by ``-L_x`` when ``|xy| > L_x/2``, exactly like ``fix deform ...
  flip yes``; forces of step n+1 see the tilt of step n in both engines.  A
  change of rate leaves the peculiar velocities unchanged (LAMMPS's velocity
  kick).

Unit mapping: OpenMM's nm, kJ/mol, amu and ps are read as σ, ε, m and τ
(then ``ps = √(amu nm²/(kJ/mol))`` holds exactly), so no conversion occurs;
temperatures are handled by the custom integrator in energy units.

Positions returned by OpenMM may be wrapped by the platform (CUDA reorders
and wraps atoms with the box of that moment); unwrapped trajectories are
rebuilt from fractional coordinates of the *continuously* deforming cell
(tilt ``xy₀ + γ̇ L_y t``, no flips), in which a wrap is an integer jump.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from taulc.md.configuration import Configuration
from taulc.md.engine import (
    DEFAULT_SAMPLE_EVERY,
    NH_CHAIN,
    NH_CHAIN_SLLOD,
    Frame,
    MDEngine,
    ProgressFn,
    _wrap,
    maxwell_boltzmann,
    replica_seeds,
)
from taulc.md.system import PAIRS, SystemSpec
from taulc.md.trajectory import Trajectory

log = logging.getLogger(__name__)

#: Nosé-Hoover chain length (shared with the LAMMPS engine, ``fix nvt ... tchain``).
CHAIN = NH_CHAIN
_PAIR_INDEX = {"bb": (0, 0), "bs": (0, 1), "ss": (1, 1)}


def _import_openmm():
    try:
        import openmm
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "labels.engine=openmm needs the 'openmm' package (pip install 'taulc[gpu]', or "
            "pip install openmm openmm-cuda-12 for CUDA 12 drivers)"
        ) from exc
    return openmm


def resolve_device(device: str = "auto") -> str:
    """``cpu`` | ``cuda`` from ``cpu|cuda|auto`` (auto: CUDA when an OpenMM CUDA platform loads)."""
    if device not in ("cpu", "cuda", "auto"):
        raise ValueError(f"field 'labels.device' must be cpu, cuda or auto, got {device!r}")
    if device != "auto":
        return device
    mm = _import_openmm()
    names = {mm.Platform.getPlatform(i).getName() for i in range(mm.Platform.getNumPlatforms())}
    return "cuda" if "CUDA" in names else "cpu"


def pair_tables(system: SystemSpec) -> dict[str, list[float]]:
    """2×2 tables (row-major, index ``t1 + 2 t2``) of ε, σ, cut-off and energy shift."""
    out: dict[str, list[float]] = {k: [0.0] * 4 for k in ("eps", "sig", "rc", "shift")}
    for p in PAIRS:
        i, j = _PAIR_INDEX[p]
        eps, sig, rc = system.epsilon[p], system.sigma[p], system.pair_cutoff(p)
        s6 = (sig / rc) ** 6
        vals = {"eps": eps, "sig": sig, "rc": rc, "shift": 4.0 * eps * (s6 * s6 - s6)}
        for k, v in vals.items():
            out[k][i + 2 * j] = v
            out[k][j + 2 * i] = v
    return out


def reduce_tilt(xy: float, lx: float) -> float:
    """Tilt in ``[-L_x/2, L_x/2]`` (OpenMM's reduced box; LAMMPS's flipped box)."""
    if abs(xy) <= 0.5 * lx:
        return float(xy)
    return float(xy - lx * math.floor(xy / lx + 0.5))


@dataclass
class ReplicaBatch:
    """Frames of B replicas of one configuration run together (tensors on ``device``).

    Attributes:
        times: ``(F,)`` numpy, time since the origin.
        unwrapped: ``(B, F, N, 3)`` torch, unwrapped positions (None if not kept).
        nonaffine: ``(B, F, N, 3)`` torch, Yamamoto-Onuki non-affine displacement.
        temperature: ``(B, F)`` numpy, kinetic temperature of the peculiar velocities.
        potential_energy: ``(F,)`` numpy, potential energy per particle averaged over the batch.
        tilt: ``(F,)`` numpy, xy tilt of the (flipped) cell.
        seeds: velocity seeds of the replicas.
        final_positions, final_velocities: ``(B, N, 3)`` numpy at the last frame.
        cell: ``(3, 3)`` final cell.
    """

    times: np.ndarray
    unwrapped: Any
    nonaffine: Any
    temperature: np.ndarray
    potential_energy: np.ndarray
    tilt: np.ndarray
    seeds: list[int]
    final_positions: np.ndarray
    final_velocities: np.ndarray
    cell: np.ndarray
    initial_velocities: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))


class _Unwrapper:
    """Continuous unwrapped positions from (possibly wrapped) engine positions.

    With ``H(t)`` the cell of continuous tilt, ``s = H⁻¹ r`` changes by an integer
    vector whenever the platform wraps a particle; frame-to-frame changes are
    rounded away (valid while particles move < half a cell between frames).
    Works on torch tensors ``(..., N, 3)``.
    """

    def __init__(self, positions: Any, cell: np.ndarray, torch: Any) -> None:
        self.torch = torch
        self.s = self._frac(positions, cell)
        self.s_prev = self.s.clone()

    def _frac(self, r: Any, cell: np.ndarray) -> Any:
        hinv_t = self.torch.as_tensor(np.linalg.inv(cell), dtype=r.dtype, device=r.device)
        return r @ hinv_t  # rows: r = s @ cell

    def update(self, positions: Any, cell: np.ndarray) -> Any:
        s = self._frac(positions, cell)
        ds = s - self.s_prev
        ds -= self.torch.round(ds)
        self.s += ds
        self.s_prev = s
        return self.s @ self.torch.as_tensor(cell, dtype=s.dtype, device=s.device)


class OpenMMEngine(MDEngine):
    """MD engine on OpenMM; ``ice``/``ice_batch`` integrate all replicas as one batch.

    Args:
        system: the physical system.
        sample_every: default sampling interval in MD steps.
        device: ``cpu`` | ``cuda`` | ``auto`` (OpenMM platform and torch device of the labels).
        platform: OpenMM platform name overriding ``device`` (``Reference`` = float64 CPU).
        precision: CUDA/OpenCL precision (``mixed`` default, ``double``).
        batch_replicas: most replicas per OpenMM context (larger ICE sets run in chunks).
        thermostat: ``replica`` (one Nosé-Hoover chain per replica, as LAMMPS) or ``batch``.
        stress_every: virial p_xy sampled every ``gcd(stress_every, k)`` steps of a
            recorded window (single-state runs; ICE batches skip the stress).
        n_threads: CPU platform threads (None: OpenMM's default), as ``LammpsEngine``'s ``n_threads``.
    """

    backend = "openmm"

    def __init__(
        self,
        system: SystemSpec,
        sample_every: int = DEFAULT_SAMPLE_EVERY,
        device: str = "auto",
        platform: str | None = None,
        precision: str = "mixed",
        batch_replicas: int = 64,
        thermostat: str = "replica",
        stress_every: int = 5,
        n_threads: int | None = None,
    ) -> None:
        super().__init__(system, sample_every)
        self.mm = _import_openmm()
        if thermostat not in ("replica", "batch"):
            raise ValueError(f"field 'thermostat' must be 'replica' or 'batch', got {thermostat!r}")
        if batch_replicas < 1:
            raise ValueError(f"field 'batch_replicas' must be >= 1, got {batch_replicas}")
        if stress_every < 1:
            raise ValueError(f"field 'stress_every' must be >= 1, got {stress_every}")
        self.device = resolve_device(device) if platform is None else ("cuda" if platform in ("CUDA", "OpenCL", "HIP") else "cpu")
        self.platform_name = platform or ("CUDA" if self.device == "cuda" else "CPU")
        self.precision = precision
        self.batch_replicas = int(batch_replicas)
        self.thermostat = thermostat
        self.stress_every = int(stress_every)
        self.n_threads = n_threads
        self._tables = pair_tables(system)
        self._ctx: Any = None
        self._ctx_b = 0
        self._species_arr: np.ndarray | None = None
        self._cell0: np.ndarray | None = None
        self._tilt = 0.0  # continuous tilt since load (no flips)
        self._force_tilt = 0.0  # tilt the current forces were computed with (one step behind)
        self._step = 0
        self._unwrap: _Unwrapper | None = None
        self._stress_acc: list[float] = []
        self._version = f"OpenMM {self.mm.__version__} ({self.platform_name})"

    # ------------------------------------------------------------- plumbing
    @property
    def version(self) -> str:
        return self._version

    def close(self) -> None:
        """Release the OpenMM context."""
        self._ctx = None
        self._ctx_b = 0

    def __enter__(self) -> OpenMMEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _torch_device(self) -> str:
        return "cuda" if self.device == "cuda" else "cpu"

    # ------------------------------------------------------------ set-up
    def _pair_force(self, n_copies: int):
        mm = self.mm
        s = self.system
        t = self._tables
        expr = (
            "step(rc - r)*(4*eps*(s6*s6 - s6) - sh); s6 = (sig/r)^6; "
            "eps = epsT(t1, t2); sig = sigT(t1, t2); rc = rcT(t1, t2); sh = shT(t1, t2)"
        )
        f = mm.CustomNonbondedForce(expr)
        f.addPerParticleParameter("t")
        for name, key in (("epsT", "eps"), ("sigT", "sig"), ("rcT", "rc"), ("shT", "shift")):
            f.addTabulatedFunction(name, mm.Discrete2DFunction(2, 2, t[key]))
        f.setNonbondedMethod(mm.CustomNonbondedForce.CutoffPeriodic)
        f.setCutoffDistance(s.max_cutoff)
        f.setUseSwitchingFunction(False)
        f.setUseLongRangeCorrection(False)
        assert self._species_arr is not None
        for _ in range(n_copies):
            for sp in self._species_arr:
                f.addParticle([float(sp)])
        if n_copies > 1:
            n = s.n_atoms
            for r in range(n_copies):
                grp = list(range(r * n, (r + 1) * n))
                f.addInteractionGroup(grp, grp)
        return f

    def _integrator(self, n_copies: int):
        """Custom integrator: LAMMPS ``fix nvt`` (+ ``temp/deform`` under shear) step in peculiar velocities."""
        mm = self.mm
        s = self.system
        ig = mm.CustomIntegrator(s.dt)
        ig.addGlobalVariable("g", 0.0)
        ig.addGlobalVariable("kT", float(self.temperature))
        ig.addGlobalVariable("tdamp", float(s.tdamp))
        ig.addGlobalVariable("chainon", 1.0)  # 0: the variables k >= 1 are frozen at 0 (chain of 1)
        per_rep = self.thermostat == "replica"
        chains = n_copies if per_rep else 1
        tdof = (3 * s.n_atoms - 3) * (1 if per_rep else n_copies)
        ig.addGlobalVariable("tdof", float(tdof))
        ig.addPerDofVariable("rep", 0.0)
        ig.addPerDofVariable("fv", 1.0)
        for r in range(chains):
            for k in range(CHAIN):
                ig.addGlobalVariable(f"ed{k}_{r}", 0.0)
                ig.addGlobalVariable(f"edd{k}_{r}", 0.0)
            ig.addGlobalVariable(f"ke{r}", 0.0)
            ig.addGlobalVariable(f"fac{r}", 1.0)

        def half() -> None:
            for r in range(chains):
                mask = f"*delta(rep-{r})" if per_rep and chains > 1 else ""
                ig.addComputeSum(f"ke{r}", f"m*v*v{mask}")
            for r in range(chains):
                q0 = "(tdof*kT*tdamp*tdamp)"
                qk = "(kT*tdamp*tdamp)"

                def ed(k: int, r: int = r) -> str:
                    return f"ed{k}_{r}" if k < CHAIN else "0"

                ig.addComputeGlobal(f"edd0_{r}", f"(ke{r} - tdof*kT)/{q0}")
                for k in range(CHAIN - 1, 0, -1):
                    ig.addComputeGlobal(ed(k), f"({ed(k)}*ef + edd{k}_{r}*dt/4)*ef; ef = exp(-dt/8*{ed(k + 1)})")
                ig.addComputeGlobal(ed(0), f"({ed(0)}*ef + edd0_{r}*dt/4)*ef; ef = exp(-dt/8*{ed(1)})")
                ig.addComputeGlobal(f"fac{r}", f"exp(-dt/2*{ed(0)})")
                ig.addComputeGlobal(f"ke{r}", f"ke{r}*fac{r}*fac{r}")
                ig.addComputeGlobal(f"edd0_{r}", f"(ke{r} - tdof*kT)/{q0}")
                ig.addComputeGlobal(ed(0), f"({ed(0)}*ef + edd0_{r}*dt/4)*ef; ef = exp(-dt/8*{ed(1)})")
                for k in range(1, CHAIN):
                    prev_q = q0 if k == 1 else qk
                    ig.addComputeGlobal(f"edd{k}_{r}", f"chainon*({prev_q}*{ed(k - 1)}*{ed(k - 1)} - kT)/{qk}")
                    ig.addComputeGlobal(ed(k), f"({ed(k)}*ef + edd{k}_{r}*dt/4)*ef; ef = exp(-dt/8*{ed(k + 1)})")
            if chains == 1:
                ig.addComputePerDof("v", "v*fac0")
            else:
                terms = " + ".join(f"delta(rep-{r})*fac{r}" for r in range(chains))
                ig.addComputePerDof("fv", terms)
                ig.addComputePerDof("v", "v*fv")

        half()
        ig.addComputePerDof("v", "v + 0.5*dt*f/m")
        ig.addComputePerDof("x", "x + dt*(v + g*vector(_y(x), 0, 0))")
        ig.addComputePerDof("v", "v - dt*g*vector(_y(v), 0, 0)")  # the SLLOD term (lab v constant)
        ig.addComputePerDof("v", "v + 0.5*dt*f/m")
        half()
        return ig

    def _platform(self):
        mm = self.mm
        try:
            plat = mm.Platform.getPlatformByName(self.platform_name)
        except Exception as exc:  # OpenMMException
            names = [mm.Platform.getPlatform(i).getName() for i in range(mm.Platform.getNumPlatforms())]
            raise RuntimeError(
                f"OpenMM platform {self.platform_name!r} is not available (have {names}); "
                "for CUDA install openmm-cuda-12 or openmm-cuda-13 matching the driver"
            ) from exc
        props: dict[str, str] = {}
        if self.platform_name in ("CUDA", "OpenCL", "HIP"):
            props["Precision"] = self.precision
        if self.platform_name == "CPU" and self.n_threads:
            props["Threads"] = str(int(self.n_threads))
        return plat, props

    def _build(self, n_copies: int, cell: np.ndarray) -> None:
        """(Re)create the context for ``n_copies`` replicas (kept while B is unchanged)."""
        if self._ctx is not None and self._ctx_b == n_copies:
            return
        mm = self.mm
        s = self.system
        sysm = mm.System()
        for _ in range(n_copies * s.n_atoms):
            sysm.addParticle(s.mass)
        sysm.setDefaultPeriodicBoxVectors(*self._box_vectors(cell))
        sysm.addForce(self._pair_force(n_copies))
        ig = self._integrator(n_copies)
        plat, props = self._platform()
        self._ctx = mm.Context(sysm, ig, plat, props)
        self._ctx_b = n_copies
        if n_copies > 1 and self.thermostat == "replica":
            rep = np.repeat(np.arange(n_copies, dtype=np.float64), s.n_atoms)
            ig.setPerDofVariableByName("rep", [self.mm.Vec3(r, r, r) for r in rep])
        log.debug("OpenMM context: %d replica(s) x %d atoms on %s", n_copies, s.n_atoms, self._ctx.getPlatform().getName())

    def _box_vectors(self, cell: np.ndarray):
        vec = self.mm.Vec3
        lx, ly, lz = cell[0, 0], cell[1, 1], cell[2, 2]
        xy = reduce_tilt(cell[1, 0], lx)
        xz, yz = cell[2, 0], cell[2, 1]
        if abs(xz) > 0.5 * lx + 1e-12 or abs(yz) > 0.5 * ly + 1e-12:
            raise ValueError(f"cell tilts xz={xz}, yz={yz} exceed half the box: not a reduced cell")
        return vec(lx, 0.0, 0.0), vec(xy, ly, 0.0), vec(xz, yz, lz)

    def _cell_now(self, continuous: bool = False) -> np.ndarray:
        assert self._cell0 is not None
        c = self._cell0.copy()
        c[1, 0] = self._tilt if continuous else reduce_tilt(self._tilt, c[0, 0])
        return c

    def _set_box(self) -> None:
        self._ctx.setPeriodicBoxVectors(*self._box_vectors(self._cell_now()))

    def _start(self, conf: Configuration, n_copies: int) -> None:
        """Load ``conf`` tiled ``n_copies`` times (velocities: conf's or zero)."""
        self._species_arr = np.asarray(conf.species, dtype=np.int64).copy()
        self._cell0 = np.asarray(conf.cell, dtype=np.float64).copy()
        self._tilt = float(self._cell0[1, 0])
        self._force_tilt = self._tilt
        self._build(n_copies, self._cell0)
        self._set_box()
        pos = np.tile(np.asarray(conf.positions, dtype=np.float64), (n_copies, 1))
        self._ctx.setPositions(pos)
        v = np.zeros_like(pos) if conf.velocities is None else np.tile(conf.velocities, (n_copies, 1))
        self._ctx.setVelocities(v)
        self._step = 0
        self._unwrap = None
        self._reset_thermostat()

    def _reset_thermostat(self) -> None:
        """Fresh chain (LAMMPS re-creates ``fix nvt`` on every rate/temperature change)."""
        ig = self._ctx.getIntegrator()
        on = 1.0 if (self.rate == 0.0 or NH_CHAIN_SLLOD > 1) else 0.0
        ig.setGlobalVariableByName("chainon", on)
        for i in range(ig.getNumGlobalVariables()):
            name = ig.getGlobalVariableName(i)
            if name.startswith(("ed", "ke")):
                ig.setGlobalVariable(i, 0.0)
            if name.startswith("edd") and not name.startswith("edd0_"):
                # LAMMPS FixNH::setup: eta_dotdot[k>=1] = (Q_{k-1} eta_dot[k-1]^2 - kT)/Q_k
                ig.setGlobalVariable(i, -on / self.system.tdamp**2)
        ig.setGlobalVariableByName("g", float(self.rate))
        ig.setGlobalVariableByName("kT", float(self.temperature))

    # ------------------------------------------------------- primitives
    def _load(self, conf: Configuration) -> None:
        self.rate = 0.0
        self._start(conf, 1)

    def _create_random(self, seed: int) -> None:
        """Random positions, soft cosine push-off, then L-BFGS minimisation of the LJ energy."""
        mm = self.mm
        s = self.system
        rng = np.random.default_rng(seed)
        length = s.box_length
        species = np.zeros(s.n_atoms, dtype=np.int64)
        species[s.n_big :] = 1
        conf = Configuration(rng.uniform(0.0, length, size=(s.n_atoms, 3)), species, np.diag([length] * 3), None, {})
        self.rate = 0.0
        self._start(conf, 1)
        soft = mm.System()
        for _ in range(s.n_atoms):
            soft.addParticle(s.mass)
        soft.setDefaultPeriodicBoxVectors(*self._box_vectors(conf.cell))
        f = mm.CustomNonbondedForce("20*(1 + cos(pi*r/sig)); pi = 3.141592653589793; sig = sigT(t1, t2)")
        f.addPerParticleParameter("t")
        f.addTabulatedFunction("sigT", mm.Discrete2DFunction(2, 2, self._tables["sig"]))
        f.setNonbondedMethod(mm.CustomNonbondedForce.CutoffPeriodic)
        f.setCutoffDistance(max(s.sigma.values()))
        for sp in species:
            f.addParticle([float(sp)])
        soft.addForce(f)
        plat, props = self._platform()
        sctx = mm.Context(soft, mm.VerletIntegrator(s.dt), plat, props)
        sctx.setPositions(conf.positions)
        mm.LocalEnergyMinimizer.minimize(sctx, 1e-4, 2000)
        pos = sctx.getState(getPositions=True).getPositions(asNumpy=True)._value
        self._ctx.setPositions(np.asarray(pos))
        mm.LocalEnergyMinimizer.minimize(self._ctx, 1e-6, 5000)
        pe = self._ctx.getState(getEnergy=True).getPotentialEnergy()._value / s.n_atoms
        self._unwrap = None
        log.info("random start (seed %d): push-off + minimisation, PE/N = %.4f", seed, pe)

    def _set_velocities(self, velocities: np.ndarray) -> None:
        v = np.asarray(velocities, dtype=np.float64)
        self._ctx.setVelocities(np.tile(v, (self._ctx_b, 1)))

    def _apply_rate(self, old: float, new: float) -> None:
        # peculiar velocities are the state: unchanged by a rate switch (= LAMMPS's kick)
        self.rate = float(new)
        self._reset_thermostat()

    def _apply_temperature(self, temperature: float) -> None:
        if self._ctx is not None:
            self._reset_thermostat()

    def _steps(self, n: int) -> None:
        """``n`` MD steps; under shear the tilt is advanced (and flipped) after each step."""
        ig = self._ctx.getIntegrator()
        if self.rate == 0.0:
            ig.step(int(n))
            self._force_tilt = self._tilt
        else:
            ly = self._cell0[1, 1]  # type: ignore[index]
            dxy = self.rate * ly * self.system.dt
            for _ in range(int(n)):
                ig.step(1)
                self._force_tilt = self._tilt
                self._tilt += dxy
                self._set_box()
        self._step += int(n)

    def _advance(self, n_steps: int, window: int | None, span: tuple[int, int] | None) -> None:
        if n_steps <= 0:
            return
        if window is None:
            self._steps(n_steps)
            return
        every = math.gcd(self.stress_every, window)
        self._stress_acc = []
        done = 0
        while done < n_steps:
            m = min(every, n_steps - done)
            self._steps(m)
            done += m
            self._stress_acc.append(self._virial_xy(self._positions()[: self.system.n_atoms]))

    def _positions(self) -> np.ndarray:
        st = self._ctx.getState(getPositions=True)
        return np.asarray(st.getPositions(asNumpy=True)._value)

    def _virial_xy(self, positions: np.ndarray) -> float:
        """Virial p_xy = (1/V) Σ_{i<j} r_x F_y of one replica (LAMMPS ``compute pressure NULL virial``)."""
        return self._pair_terms(positions)[1]

    def _pair_terms(self, positions: np.ndarray) -> tuple[float, float]:
        """Potential energy per particle and virial p_xy of one replica, on the host (vesin pairs).

        Asking OpenMM for the energy would recompute the cached forces with the
        current (already advanced) tilt and so perturb the SLLOD dynamics.  The pairs
        use the tilt those forces were computed with (one increment γ̇ L_y dt behind
        the box after a sheared step), as LAMMPS's virial does.
        """
        import vesin

        cell = self._cell_now()
        cell[1, 0] = reduce_tilt(self._force_tilt, cell[0, 0])
        pos = _wrap(positions, cell)
        nl = vesin.NeighborList(cutoff=float(self.system.max_cutoff), full_list=False)
        i, j, d_vec = nl.compute(points=pos, box=cell, periodic=True, quantities="ijD")
        sp = self._species_arr
        assert sp is not None
        k = sp[np.asarray(i, dtype=np.int64)] + 2 * sp[np.asarray(j, dtype=np.int64)]
        t = {key: np.asarray(v)[k] for key, v in self._tables.items()}
        r2 = np.einsum("pk,pk->p", d_vec, d_vec)
        ok = r2 < t["rc"] ** 2
        s6 = (t["sig"][ok] ** 2 / r2[ok]) ** 3
        pe = float(np.sum(4.0 * t["eps"][ok] * (s6 * s6 - s6) - t["shift"][ok])) / pos.shape[0]
        w = 24.0 * t["eps"][ok] * (2.0 * s6 * s6 - s6) / r2[ok]
        vir = float(np.sum(w * d_vec[ok, 0] * d_vec[ok, 1]) / abs(np.linalg.det(cell)))
        return pe, vir

    def _frame(self, first: bool) -> Frame:
        import torch

        st = self._ctx.getState(getPositions=True, getVelocities=True)
        n = self.system.n_atoms
        pos = np.asarray(st.getPositions(asNumpy=True)._value)[:n]
        vel = np.asarray(st.getVelocities(asNumpy=True)._value)[:n]
        pe, vir = self._pair_terms(pos)
        cell_c = self._cell_now(continuous=True)
        tp = torch.as_tensor(pos, dtype=torch.float64)
        if self._unwrap is None:
            self._unwrap = _Unwrapper(tp, cell_c, torch)
            unwrapped = pos.copy()
        else:
            unwrapped = self._unwrap.update(tp, cell_c).numpy()
        if first or not self._stress_acc:
            stress = vir
        else:
            stress = float(np.mean(self._stress_acc))
        return Frame(
            unwrapped=unwrapped,
            velocities=vel,
            positions=pos,
            cell=self._cell_now(),
            stress_xy=stress,
            potential_energy=float(pe),
        )

    def _timestep(self) -> int:
        return self._step

    def _species(self) -> np.ndarray:
        if self._species_arr is None:
            raise RuntimeError("no atoms loaded")
        return self._species_arr

    # --------------------------------------------------------- diagnostics
    def energy_forces(self, conf: Configuration) -> tuple[float, np.ndarray]:
        """Potential energy per particle and forces ``(N, 3)`` of ``conf`` (no dynamics)."""
        self.load(conf)
        st = self._ctx.getState(getEnergy=True, getForces=True)
        return (st.getPotentialEnergy()._value / self.system.n_atoms, np.asarray(st.getForces(asNumpy=True)._value))

    # -------------------------------------------------------- batched ICE
    def ice_batch(
        self,
        conf: Configuration,
        seeds: list[int],
        rate_after: float,
        duration: float,
        sample_every: int | None = None,
        keep_unwrapped: bool = False,
        progress: ProgressFn | None = None,
        energies: bool = False,
    ) -> ReplicaBatch:
        """Run ``len(seeds)`` replicas of ``conf`` together; frames stay torch tensors on the device.

        ``energies``: also record the batch-mean potential energy per frame (computed
        on the host from the positions; NaN otherwise).

        Each replica gets Maxwell-Boltzmann peculiar velocities at T from its seed
        (:func:`taulc.md.engine.maxwell_boltzmann`, as :meth:`MDEngine.ice`), then
        runs ``duration`` at ``rate_after`` from the configuration's cell.  The
        non-affine displacement integrates ``γ̇ (y_u - ylo)`` by the trapezoid
        rule on the frames (as :class:`taulc.md.trajectory.NonAffineIntegrator`).
        """
        import torch

        conf.validate()
        self.system.check_box(conf.n_atoms, conf.volume, source="configuration")
        b = len(seeds)
        if b < 1:
            raise ValueError("ice_batch needs at least one replica seed")
        k = int(sample_every or self.sample_every)
        s = self.system
        n = s.n_atoms
        n_frames = 1 + max(1, int(round(self.steps(duration) / k)))
        base = conf.copy()
        self.rate = 0.0
        self.temperature = s.temperature
        self._start(base, b)
        v0 = np.stack([maxwell_boltzmann(n, s.temperature, s.mass, int(sd)) for sd in seeds])
        self._ctx.setVelocities(v0.reshape(-1, 3))
        self.rate = float(rate_after)
        self._reset_thermostat()
        dev = torch.device(self._torch_device())
        dt_frame = k * s.dt
        nonaffine = torch.empty((b, n_frames, n, 3), dtype=torch.float64, device=dev)
        unwrapped = torch.empty_like(nonaffine) if keep_unwrapped else None
        temps = np.zeros((b, n_frames))
        pe = np.zeros(n_frames)
        tilt = np.zeros(n_frames)
        dof = 3 * n - 3
        unw: _Unwrapper | None = None
        r0 = y_prev = affine_x = None
        for f in range(n_frames):
            if f:
                self._steps(k)
                if progress:
                    progress(k)
            st = self._ctx.getState(getPositions=True, getVelocities=True)
            pos = torch.as_tensor(np.asarray(st.getPositions(asNumpy=True)._value).reshape(b, n, 3), device=dev)
            vel = np.asarray(st.getVelocities(asNumpy=True)._value).reshape(b, n, 3)
            cell_c = self._cell_now(continuous=True)
            if unw is None:
                unw = _Unwrapper(pos, cell_c, torch)
                u = pos
                r0 = pos.clone()
                y_prev = pos[..., 1].clone()
                affine_x = torch.zeros_like(y_prev)
            else:
                u = unw.update(pos, cell_c)
                if self.rate:
                    affine_x += self.rate * dt_frame * 0.5 * (y_prev + u[..., 1])  # ylo = 0
                y_prev = u[..., 1].clone()
            na = u - r0
            na[..., 0] -= affine_x
            nonaffine[:, f] = na
            if unwrapped is not None:
                unwrapped[:, f] = u
            temps[:, f] = s.mass * np.einsum("bnk,bnk->b", vel, vel) / dof
            pe[f] = np.mean([self._pair_terms(p)[0] for p in pos.cpu().numpy()]) if energies else np.nan
            tilt[f] = reduce_tilt(self._tilt, cell_c[0, 0])
        st = self._ctx.getState(getPositions=True, getVelocities=True)
        return ReplicaBatch(
            times=np.arange(n_frames) * dt_frame,
            unwrapped=unwrapped,
            nonaffine=nonaffine,
            temperature=temps,
            potential_energy=pe,
            tilt=tilt,
            seeds=[int(x) for x in seeds],
            final_positions=np.asarray(st.getPositions(asNumpy=True)._value).reshape(b, n, 3),
            final_velocities=np.asarray(st.getVelocities(asNumpy=True)._value).reshape(b, n, 3),
            cell=self._cell_now(),
            initial_velocities=v0,
        )

    def iter_ice_batches(
        self,
        conf: Configuration,
        n_replicas: int,
        rate_after: float,
        duration: float,
        seed: int,
        sample_every: int | None = None,
        keep_unwrapped: bool = False,
        progress: ProgressFn | None = None,
        energies: bool = False,
    ) -> Iterator[ReplicaBatch]:
        """ICE replicas (seeds ``replica_seeds(seed, n_replicas)``) in chunks of ``batch_replicas``."""
        if n_replicas < 1:
            raise ValueError(f"field 'n_replicas' must be >= 1, got {n_replicas}")
        if not (math.isfinite(rate_after) and rate_after >= 0):
            raise ValueError(f"field 'rate_after' must be >= 0, got {rate_after}")
        seeds = replica_seeds(seed, n_replicas)
        for a in range(0, n_replicas, self.batch_replicas):
            yield self.ice_batch(
                conf, seeds[a : a + self.batch_replicas], rate_after, duration, sample_every, keep_unwrapped, progress, energies
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
    ) -> Iterator[Trajectory]:
        """Same contract as :meth:`MDEngine.ice` (one Trajectory per replica, host arrays),
        but the replicas are integrated in batches."""
        r_glob = 0
        for batch in self.iter_ice_batches(
            conf, n_replicas, rate_after, duration, seed, sample_every, record_positions, progress, energies=True
        ):
            k = int(round((batch.times[1] - batch.times[0]) / self.system.dt)) if batch.times.size > 1 else None
            na = batch.nonaffine.cpu().numpy()
            uw = batch.unwrapped.cpu().numpy() if batch.unwrapped is not None else None
            for i, sd in enumerate(batch.seeds):
                final = Configuration(
                    _wrap(batch.final_positions[i], batch.cell),
                    self._species(),
                    batch.cell,
                    batch.final_velocities[i],
                    self._meta(),
                )
                initial = Configuration(
                    conf.positions.copy(), self._species(), conf.cell.copy(), batch.initial_velocities[i], {"time_origin": 0.0}
                )
                nf = batch.times.size
                traj = Trajectory(
                    times=batch.times.copy(),
                    unwrapped=None if uw is None else uw[i],
                    nonaffine=na[i] if record_positions else None,
                    stress_xy=np.full(nf, np.nan),
                    rate=np.full(nf, float(rate_after)),
                    final=final,
                    meta={
                        "seeds": {"ice": int(seed), "replica": int(sd)},
                        "system": self.system.name,
                        "sample_every": k,
                        "protocol": f"ice(rate_after={rate_after:g})",
                    },
                    temperature=batch.temperature[i],
                    potential_energy=batch.potential_energy,
                    strain=rate_after * batch.times,
                    tilt=batch.tilt,
                    initial=initial,
                )
                traj.meta.update(
                    replica=r_glob,
                    seed=int(sd),
                    ice_seed=int(seed),
                    n_replicas=n_replicas,
                    rate_after=float(rate_after),
                    source_meta=conf.meta,
                )
                r_glob += 1
                yield traj
