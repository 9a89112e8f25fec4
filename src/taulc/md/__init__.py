"""Molecular dynamics of the sheared binary LJ mixture (engine interface + LAMMPS).

Public API::

    from taulc.md import (Configuration, read_configuration, write_configuration,
                          SystemSpec, load_system, ProtocolSpec, load_protocol,
                          Segment, Trajectory, MDEngine, LammpsEngine, EngineSpec, make_engine)
"""

from taulc.errors import ConfigError
from taulc.md.configuration import (
    Configuration,
    ConfigurationError,
    read_configuration,
    write_configuration,
)
from taulc.md.engine import DEFAULT_SAMPLE_EVERY, MDEngine, Segment, maxwell_boltzmann, replica_seeds
from taulc.md.engine_spec import BACKENDS, EngineSpec
from taulc.md.lammps_engine import LammpsEngine
from taulc.md.protocol import ProtocolError, ProtocolSpec, load_protocol
from taulc.md.system import SystemSpec, SystemSpecError, available_systems, load_system
from taulc.md.trajectory import NonAffineIntegrator, Trajectory


def make_engine(system: SystemSpec, backend: str = "lammps", **kwargs) -> MDEngine:
    """Engine factory: ``backend`` is one of :data:`BACKENDS` (others can register here).

    From an ``engine:`` config node: ``make_engine(system, spec.backend, **spec.engine_kwargs())``
    with ``spec`` an :class:`EngineSpec`.
    """
    if backend == "lammps":
        return LammpsEngine(system, **kwargs)
    if backend == "openmm":
        from taulc.md.openmm_engine import OpenMMEngine  # noqa: PLC0415 - lazy: OpenMM is optional

        return OpenMMEngine(system, **kwargs)

    raise ConfigError(f"field 'engine.backend': unknown MD backend {backend!r}; expected one of {list(BACKENDS)}")


__all__ = [
    "Configuration",
    "ConfigurationError",
    "read_configuration",
    "write_configuration",
    "BACKENDS",
    "EngineSpec",
    "DEFAULT_SAMPLE_EVERY",
    "MDEngine",
    "Segment",
    "maxwell_boltzmann",
    "replica_seeds",
    "LammpsEngine",
    "ProtocolError",
    "ProtocolSpec",
    "load_protocol",
    "SystemSpec",
    "SystemSpecError",
    "available_systems",
    "load_system",
    "NonAffineIntegrator",
    "Trajectory",
    "make_engine",
]
