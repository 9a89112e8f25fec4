"""Flow protocols: quiescent, steady, start-up, switched and ceased shear.

Every protocol is "a state before t0, a rate after t0" (Yu, Zeng & Wang
2025, Fig. 6): configurations are sampled at t0 and the label stage runs
isoconfigurational replicas from them at ``rate_after`` (τ_sh) or at 0 (τ_LC).

=========  ==============  ============================
kind       rate before t0  rate after t0 (``rate_after``)
=========  ==============  ============================
quiescent  0               0
steady     γ̇               γ̇
startup    0               γ̇ (configuration t0 after start-up)
switch     γ̇_i = rate      γ̇_f = rate_final
cessation  γ̇               0
=========  ==============  ============================

``oscillatory`` is MD-DMS (Yu, Gao, Gao & Samwer, Eq. 4): ``γ(t) = gamma0 sin(2π t / t_w)``
for ``n_cycles`` periods t_w (the periods are scanned by ``python -m taulc.analysis.dms``);
it is run by the engine's ``oscillate`` and samples no configurations for the label stage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from omegaconf import OmegaConf

from taulc.config import check_number
from taulc.errors import ConfigError, TaulcError
from taulc.paths import conf_dir

KINDS = ("quiescent", "steady", "startup", "switch", "cessation", "oscillatory")

MAX_RATE = 1.0
"""Largest accepted shear rate (LJ units, 1/τ): above ~1/τ the SLLOD thermostat cannot remove the viscous heat
and the cell tilt flips every few steps; the studies reproduced here use γ̇ <= 0.1 (Yu, Zeng & Wang 2025, Sec. II.A)."""


class ProtocolError(TaulcError, ValueError):
    """Invalid protocol specification (the message names the field)."""


def check_rate(value: Any, field: str) -> float:
    """A shear rate: finite, >= 0 and <= :data:`MAX_RATE`, else a ConfigError naming ``field``."""
    v = check_number(value, field)
    if v < 0:
        raise ConfigError(
            f"field '{field}' must be >= 0, got {value!r} (negative rates are the mirror image x -> -x "
            "of a positive one: simulate |rate| and mirror the configurations)"
        )
    if v > MAX_RATE:
        raise ConfigError(
            f"field '{field}' = {v:g} exceeds {MAX_RATE:g} (LJ units): at such rates the SLLOD thermostat "
            "cannot hold the temperature and the cell flips every few steps (the studies reproduced here use "
            "rates <= 0.1)"
        )
    return v


@dataclass(frozen=True)
class ProtocolSpec:
    """One ``src/taulc/conf/protocol/*.yaml``.

    Attributes:
        name: label stored in configuration metadata.
        kind: one of :data:`KINDS` (defaults to ``name``).
        rate: γ̇ (before t0 for steady/switch/cessation; the start-up rate for startup).
        rate_final: γ̇_f after t0 (switch only).
        transient_time, transient_strain: discarded before the first
            configuration (time + strain/rate).
        config_interval: time between successive configurations.
        t0: startup only — time after shear start at which configurations are taken.
        after_duration: if > 0, one recorded run of this length at ``rate_after``
            from every configuration (stress relaxation / overshoot in the summary).
        sample_every: MD steps between streamed frames.
    """

    name: str
    kind: str | None = None
    rate: float = 0.0
    rate_final: float | None = None
    transient_time: float = 0.0
    transient_strain: float = 0.0
    config_interval: float = 20.0
    t0: float = 0.0
    after_duration: float = 0.0
    sample_every: int = 20
    gamma0: float = 0.0  # oscillatory: strain amplitude
    n_cycles: int = 4  # oscillatory: periods per run

    def __post_init__(self) -> None:
        if self.kind is None:
            object.__setattr__(self, "kind", self.name)
        self.validate()
        for k in ("rate", "rate_final"):  # rate_after is one of the two
            v = getattr(self, k)
            if v is not None:
                check_rate(v, f"protocol.{k}")

    def _err(self, fieldname: str, msg: str) -> ProtocolError:
        return ProtocolError(f"protocol '{self.name}': field '{fieldname}' {msg}")

    def validate(self) -> None:
        if self.kind not in KINDS:
            raise self._err("kind", f"must be one of {list(KINDS)}, got {self.kind!r}")
        for f in ("rate", "transient_time", "transient_strain", "t0", "after_duration"):
            v = getattr(self, f)
            if not (isinstance(v, (int, float)) and math.isfinite(v)):
                raise self._err(f, f"must be a finite number, got {v!r}")
            if v < 0:
                raise self._err(f, f"must be >= 0, got {v}")
        if self.rate_final is not None and not (math.isfinite(self.rate_final) and self.rate_final >= 0):
            raise self._err("rate_final", f"must be a finite number >= 0, got {self.rate_final}")
        if not self.config_interval > 0:
            raise self._err("config_interval", f"must be > 0, got {self.config_interval}")
        if not (isinstance(self.sample_every, int) and self.sample_every >= 1):
            raise self._err("sample_every", f"must be an integer >= 1, got {self.sample_every!r}")
        k = self.kind
        if k == "quiescent" and self.rate != 0:
            raise self._err("rate", f"must be 0 for a quiescent protocol, got {self.rate}")
        if k in ("steady", "startup", "cessation") and self.rate <= 0:
            raise self._err("rate", f"must be > 0 for a {k} protocol, got {self.rate}")
        if k == "switch" and self.rate_final is None:
            raise self._err("rate_final", "is required for a switch protocol (gamma_f)")
        if k != "switch" and self.rate_final is not None:
            raise self._err("rate_final", f"is only used by switch protocols (kind={k})")
        if k == "oscillatory" and not (self.gamma0 > 0 and self.n_cycles >= 1):
            raise self._err("gamma0", f"must be > 0 with n_cycles >= 1 for oscillatory shear, got {self.gamma0}, {self.n_cycles}")
        if k != "startup" and self.t0 != 0:
            raise self._err("t0", f"is only used by startup protocols (kind={k})")

    @property
    def rate_before(self) -> float:
        """Shear rate of the state the configurations sample (before t0)."""
        if self.kind == "startup":
            return self.rate if self.t0 > 0 else 0.0
        return 0.0 if self.kind == "quiescent" else float(self.rate)

    @property
    def rate_chain(self) -> float:
        """Rate of the long run between configurations (startup/quiescent: 0)."""
        return 0.0 if self.kind in ("quiescent", "startup") else float(self.rate)

    @property
    def rate_after(self) -> float:
        """Shear rate after t0 (what replicas run at for τ_sh)."""
        return {
            "quiescent": 0.0,
            "steady": float(self.rate),
            "startup": float(self.rate),
            "switch": float(self.rate_final or 0.0),
            "cessation": 0.0,
            "oscillatory": 0.0,
        }[str(self.kind)]

    @property
    def transient(self) -> float:
        """Time discarded before the first configuration."""
        r = self.rate_chain
        return self.transient_time + (self.transient_strain / r if r > 0 else 0.0)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> ProtocolSpec:
        data = dict(cfg)
        name = str(data.get("name", "<unnamed>"))
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ProtocolError(f"protocol '{name}': unknown field(s) {unknown}; known: {sorted(cls.__dataclass_fields__)}")
        if "name" not in data:
            raise ProtocolError("protocol: required field 'name' is missing")
        for f in ("rate", "transient_time", "transient_strain", "config_interval", "t0", "after_duration", "gamma0"):
            if isinstance(data.get(f), int) and not isinstance(data.get(f), bool):
                data[f] = float(data[f])
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(rate_before=self.rate_before, rate_after=self.rate_after)
        return d


def load_protocol(name: str, **overrides: Any) -> ProtocolSpec:
    """Read ``src/taulc/conf/protocol/<name>.yaml`` into a ProtocolSpec (with overrides)."""

    folder = conf_dir() / "protocol"
    names = sorted(p.stem for p in folder.glob("*.yaml"))
    if name not in names:
        raise ProtocolError(f"unknown protocol {name!r} (field 'protocol'); available: {names}")
    data = OmegaConf.to_container(OmegaConf.load(folder / f"{name}.yaml"), resolve=True)
    assert isinstance(data, dict)
    data.update(overrides)
    return ProtocolSpec.from_config(data)
