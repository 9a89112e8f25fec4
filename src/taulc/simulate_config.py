"""The typed root of ``src/taulc/conf/simulate.yaml`` (:class:`SimulateConfig`), parsed once by :func:`taulc.simulate.simulate`.

Each node goes through its own schema, which checks its ranges and names the field: ``system`` ->
:class:`taulc.md.system.SystemSpec` (``dt``, T·dt²), ``protocol`` -> :class:`taulc.md.protocol.ProtocolSpec`
(kind, rates <= :data:`taulc.md.protocol.MAX_RATE`), ``engine`` -> :class:`taulc.md.engine_spec.EngineSpec`.
The root checks its own scalars and what spans two nodes (``protocol.config_interval`` >= ``system.dt``).
What needs the inputs (the output directory) and the unknown top-level keys are checked by :mod:`taulc.validate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from taulc.config import check_number, check_unknown_top_level, from_mapping, require_node
from taulc.errors import ConfigError
from taulc.md.engine_spec import EngineSpec
from taulc.md.protocol import ProtocolError, ProtocolSpec
from taulc.md.system import SystemSpec

__all__ = ["SimulateConfig"]


@dataclass(frozen=True)
class SimulateConfig:
    """What ``taulc-simulate`` reads of its composed config, typed; built by :meth:`from_config`.

    Attributes:
        system, protocol, engine: the group nodes' schemas.
        n_configs: configurations written (one every ``protocol.config_interval``), >= 1.
        seed: master seed (initial positions, velocities), >= 0.
        record_atom_stress: per-particle σ_i,xy(t) of the ``protocol.after_duration`` runs.
        progress: tqdm bar.
        out_dir: output directory (``None``: the Hydra run directory).
    """

    system: SystemSpec
    protocol: ProtocolSpec
    engine: EngineSpec = field(default_factory=EngineSpec)
    n_configs: int = 1
    seed: int = 0
    record_atom_stress: bool = False
    progress: bool = True
    out_dir: str | None = None

    def __post_init__(self) -> None:
        if self.protocol.config_interval < self.system.dt:
            raise ConfigError(
                f"field 'protocol.config_interval' = {self.protocol.config_interval:g} is shorter than one time step "
                f"(system.dt = {self.system.dt:g})"
            )
        if self.protocol.kind == "oscillatory":
            raise ProtocolError(
                "protocol 'oscillatory' samples no configurations; run MD-DMS with "
                "`python -m taulc.analysis.dms <dataset> --periods ...`"
            )
        check_number(self.n_configs, "n_configs", lo=1, integer=True)
        check_number(self.seed, "seed", lo=0, integer=True)
        object.__setattr__(self, "n_configs", int(self.n_configs))
        object.__setattr__(self, "seed", int(self.seed))
        for k in ("record_atom_stress", "progress"):
            if not isinstance(getattr(self, k), bool):
                raise ConfigError(f"field '{k}': expected true or false, got {getattr(self, k)!r}")

    @classmethod
    def from_config(cls, c: Mapping[str, Any]) -> SimulateConfig:
        """Parse the composed config (plain containers) once; the first bad field raises a ConfigError
        (or the schema's own error, e.g. :class:`~taulc.md.system.SystemSpecError`) naming it."""
        check_unknown_top_level(c, "simulate", "taulc-simulate")
        system = SystemSpec.from_config(require_node(c, "system"))
        protocol = ProtocolSpec.from_config(require_node(c, "protocol"))
        return cls(
            system=system,
            protocol=protocol,
            engine=from_mapping(EngineSpec, c.get("engine"), "engine"),
            n_configs=c.get("n_configs", 1),
            seed=c.get("seed", 0),
            record_atom_stress=c.get("record_atom_stress", False),
            progress=c.get("progress", True),
            out_dir=None if c.get("out_dir") is None else str(c["out_dir"]),
        )
