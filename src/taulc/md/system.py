"""The binary Lennard-Jones mixture: parameters and validation.

Model of Yu, Zeng & Wang (2025) Sec. II.A (Kob-Andersen 80:20):
``V(r) = 4 ε_αβ [(σ_αβ/r)^12 - (σ_αβ/r)^6]`` with ε_bb=1, σ_bb=1,
ε_bs=1.5, σ_bs=0.8, ε_ss=0.5, σ_ss=0.88, equal masses, truncated and shifted
at ``r_c = 2.5`` (LJ units, i.e. 2.5 σ_bb — the companion paper, Zeng et al.
Methods, states "truncated at r = 2.5σ_bb"), time step 0.005, Nosé-Hoover NVT.
``cutoff_mode: per_pair`` gives the original Kob-Andersen choice 2.5 σ_αβ.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from taulc.errors import TaulcError
from taulc.paths import conf_dir

PAIRS = ("bb", "bs", "ss")

MAX_DT = 0.01
"""Largest accepted MD time step (LJ time): velocity-Verlet for the Kob-Andersen pair potentials, whose stiffest
pair is A-B with ε = 1.5, σ = 0.8, loses energy conservation above ~0.01 τ and LAMMPS stops with "Lost atoms"."""
MAX_T_DT2 = 5e-4
"""Largest accepted T·dt² (temperatures ``system.temperature`` and ``system.melt_temperature``): velocity-Verlet
keeps the Kob-Andersen collisions resolved while T <= MAX_T_DT2 / dt² (20 at dt = 0.005).  Measured with LAMMPS,
N = 300, 5 LJ times: T = 20 at dt = 0.005 runs, T = 50 at dt = 0.005 and T = 10 at dt = 0.01 stop with 'Lost atoms'."""


class SystemSpecError(TaulcError, ValueError):
    """Invalid system specification (the message names the field)."""


@dataclass(frozen=True)
class SystemSpec:
    """Physical system and integrator settings (one ``src/taulc/conf/system/*.yaml``).

    Attributes:
        name: label stored in every configuration's metadata.
        n_atoms: total particle number N.
        density: number density ρ = N / V.
        temperature: target temperature T (k_B = 1).
        fraction_small: fraction of small particles (0.2); ``n_small = round(f N)``.
        epsilon, sigma: LJ parameters per pair ``bb``, ``bs``, ``ss``.
        mass: common particle mass.
        cutoff: truncation radius (energy shifted to zero there).
        cutoff_mode: ``global`` = ``cutoff`` (in σ_bb) for all pairs (paper);
            ``per_pair`` = ``cutoff * σ_αβ`` (original Kob-Andersen).
        dt: MD time step.
        tdamp: Nosé-Hoover damping time (LJ time units).
        equilibration_time: NVT time at T after the melt, before sampling.
        melt_temperature, melt_time: high-T randomisation after the push-off.
        symbols: chemical symbols used in extxyz files (big, small).
        tau_alpha: measured/estimated α-relaxation time at T (documentation;
            used for defaults of sampling windows).
    """

    name: str
    n_atoms: int
    density: float
    temperature: float
    fraction_small: float = 0.2
    epsilon: Mapping[str, float] = field(default_factory=lambda: {"bb": 1.0, "bs": 1.5, "ss": 0.5})
    sigma: Mapping[str, float] = field(default_factory=lambda: {"bb": 1.0, "bs": 0.8, "ss": 0.88})
    mass: float = 1.0
    cutoff: float = 2.5
    cutoff_mode: str = "global"
    dt: float = 0.005
    tdamp: float = 0.5
    equilibration_time: float = 100.0
    melt_temperature: float = 2.0
    melt_time: float = 10.0
    symbols: tuple[str, str] = ("Ni", "P")
    tau_alpha: float | None = None

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ derived
    @property
    def n_small(self) -> int:
        return int(round(self.fraction_small * self.n_atoms))

    @property
    def n_big(self) -> int:
        return self.n_atoms - self.n_small

    @property
    def volume(self) -> float:
        return self.n_atoms / self.density

    @property
    def box_length(self) -> float:
        """Edge of the cubic box, ``(N/ρ)^(1/3)``."""
        return self.volume ** (1.0 / 3.0)

    def pair_cutoff(self, pair: str) -> float:
        if self.cutoff_mode == "global":
            return self.cutoff * self.sigma["bb"]
        return self.cutoff * self.sigma[pair]

    @property
    def max_cutoff(self) -> float:
        return max(self.pair_cutoff(p) for p in PAIRS)

    # --------------------------------------------------------------- validation
    def validate(self) -> None:
        """Raise :class:`SystemSpecError` naming the field that is wrong."""

        def bad(fieldname: str, msg: str) -> SystemSpecError:
            return SystemSpecError(f"system '{self.name}': field '{fieldname}' {msg}")

        if not isinstance(self.n_atoms, int) or self.n_atoms < 2:
            raise bad("n_atoms", f"must be an integer >= 2, got {self.n_atoms!r}")
        for f in ("density", "temperature", "mass", "cutoff", "dt", "tdamp"):
            v = getattr(self, f)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise bad(f, f"must be a positive number, got {v!r}")
        if not 0.0 <= self.fraction_small < 1.0:
            raise bad("fraction_small", f"must be in [0, 1), got {self.fraction_small}")
        for f in ("equilibration_time", "melt_time"):
            if getattr(self, f) < 0:
                raise bad(f, f"must be >= 0, got {getattr(self, f)}")
        for f in ("epsilon", "sigma"):
            table = getattr(self, f)
            missing = [p for p in PAIRS if p not in table]
            if missing:
                raise bad(f, f"is missing pair(s) {missing}; expected keys {list(PAIRS)}")
            for p in PAIRS:
                if not table[p] > 0:
                    raise bad(f"{f}.{p}", f"must be positive, got {table[p]}")
        if self.cutoff_mode not in ("global", "per_pair"):
            raise bad("cutoff_mode", f"must be 'global' or 'per_pair', got {self.cutoff_mode!r}")
        if len(self.symbols) != 2 or self.symbols[0] == self.symbols[1]:
            raise bad("symbols", f"must be two distinct chemical symbols, got {self.symbols}")
        if self.box_length < 2.0 * (self.max_cutoff + 0.3):
            raise bad(
                "n_atoms",
                f"box edge (N/ρ)^(1/3) = {self.box_length:.3f} is smaller than twice the "
                f"interaction range {self.max_cutoff + 0.3:.2f}; increase N or lower ρ",
            )
        self._check_integrator()

    def _check_integrator(self) -> None:
        """``dt`` <= :data:`MAX_DT` and T·dt² <= :data:`MAX_T_DT2` (both temperatures): what velocity-Verlet resolves."""
        if self.dt > MAX_DT:
            raise SystemSpecError(
                f"field 'system.dt' = {self.dt:g} exceeds {MAX_DT:g} (LJ time): velocity-Verlet MD of the "
                "Kob-Andersen mixture is unstable there (LAMMPS stops with 'Lost atoms'); use 0.005"
            )
        t_max = MAX_T_DT2 / self.dt**2
        for name in ("temperature", "melt_temperature"):
            t = float(getattr(self, name))
            if t > t_max:
                raise SystemSpecError(
                    f"field 'system.{name}' = {t:g} is outside the accepted range 0 < T <= {t_max:.3g} for "
                    f"system.dt = {self.dt:g} (T·dt² <= {MAX_T_DT2:g}): hotter, velocity-Verlet cannot resolve "
                    "the collisions and LAMMPS stops with 'Lost atoms'; lower the temperature or system.dt"
                )

    def check_box(self, n_atoms: int, volume: float, source: str = "configuration") -> None:
        """Check that a configuration (N, V) matches this system's N and ρ."""
        if n_atoms != self.n_atoms:
            raise SystemSpecError(
                f"{source}: field 'n_atoms' = {n_atoms} does not match system '{self.name}' (n_atoms = {self.n_atoms})"
            )
        rho = n_atoms / volume
        if abs(rho - self.density) > 1e-6 * self.density:
            raise SystemSpecError(
                f"{source}: density N/V = {rho:.6f} (from the cell) does not match system "
                f"'{self.name}' (density = {self.density})"
            )

    # ------------------------------------------------------------------- config
    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> SystemSpec:
        """Build from a mapping (e.g. a Hydra ``system`` node); unknown keys are errors."""
        data = dict(cfg)
        name = str(data.get("name", "<unnamed>"))
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise SystemSpecError(f"system '{name}': unknown field(s) {unknown}; known: {sorted(known)}")
        for req in ("name", "n_atoms", "density", "temperature"):
            if req not in data:
                raise SystemSpecError(f"system '{name}': required field '{req}' is missing")
        for key in ("epsilon", "sigma"):
            if key in data:
                data[key] = {str(k): float(v) for k, v in dict(data[key]).items()}
        if "symbols" in data:
            data["symbols"] = tuple(str(s) for s in data["symbols"])
        if isinstance(data.get("n_atoms"), float) and float(data["n_atoms"]).is_integer():
            data["n_atoms"] = int(data["n_atoms"])
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["epsilon"] = dict(self.epsilon)
        d["sigma"] = dict(self.sigma)
        d["symbols"] = list(self.symbols)
        return d


def available_systems() -> list[str]:
    """Names of the systems in ``src/taulc/conf/system/`` (files starting with ``_`` are shared parts)."""

    return sorted(p.stem for p in (conf_dir() / "system").glob("*.yaml") if not p.stem.startswith("_"))


def _load_group_file(folder: Path, name: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """Load ``folder/<name>.yaml`` with its (same-group) Hydra ``defaults`` merged in."""

    if name in seen:
        raise SystemSpecError(f"circular defaults in {folder}: {' -> '.join((*seen, name))}")
    node = OmegaConf.load(folder / f"{name}.yaml")
    data = OmegaConf.to_container(node, resolve=False)
    assert isinstance(data, dict)
    defaults = data.pop("defaults", []) or []
    if "_self_" not in defaults:
        defaults = [*defaults, "_self_"]
    merged = OmegaConf.create({})
    for entry in defaults:
        if entry == "_self_":
            merged = OmegaConf.merge(merged, data)
        else:
            merged = OmegaConf.merge(merged, _load_group_file(folder, str(entry), (*seen, name)))
    out = OmegaConf.to_container(merged, resolve=True)
    assert isinstance(out, dict)
    return out


def load_system(name: str, **overrides: Any) -> SystemSpec:
    """Read ``src/taulc/conf/system/<name>.yaml`` (with its shared defaults) into a SystemSpec.

    Same result as Hydra's composition of ``system=<name>`` without needing a
    Hydra context (usable from scripts, tests and notebooks).

    Raises:
        SystemSpecError: unknown system name or invalid field.
    """

    names = available_systems()
    if name not in names:
        raise SystemSpecError(f"unknown system {name!r} (field 'system'); available: {names}")
    data = _load_group_file(conf_dir() / "system", name)
    data.update(overrides)
    return SystemSpec.from_config(data)
