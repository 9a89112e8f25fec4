"""Molecular dynamics of the sheared binary LJ mixture (engine interface + LAMMPS).

Public API::

    from taulc.md import (Configuration, read_configuration, write_configuration,
                          SystemSpec, load_system, ProtocolSpec, load_protocol,
                          Segment, Trajectory, MDEngine, LammpsEngine, make_engine)
"""

from taulc.md.configuration import (
    Configuration,
    ConfigurationError,
    read_configuration,
    write_configuration,
)
from taulc.md.engine import DEFAULT_SAMPLE_EVERY, MDEngine, Segment, maxwell_boltzmann, replica_seeds
from taulc.md.lammps_engine import LammpsEngine
from taulc.md.protocol import ProtocolError, ProtocolSpec, load_protocol
from taulc.md.system import SystemSpec, SystemSpecError, available_systems, load_system
from taulc.md.trajectory import NonAffineIntegrator, Trajectory


def make_engine(system: SystemSpec, backend: str = "lammps", **kwargs) -> MDEngine:
    """Engine factory (``backend``: ``lammps``; others can register here)."""
    if backend == "lammps":
        return LammpsEngine(system, **kwargs)
    raise ValueError(f"unknown MD backend {backend!r} (field 'engine.backend'); available: ['lammps']")


__all__ = [
    "Configuration", "ConfigurationError", "read_configuration", "write_configuration",
    "DEFAULT_SAMPLE_EVERY", "MDEngine", "Segment", "maxwell_boltzmann", "replica_seeds",
    "LammpsEngine", "ProtocolError", "ProtocolSpec", "load_protocol", "SystemSpec",
    "SystemSpecError", "available_systems", "load_system", "NonAffineIntegrator",
    "Trajectory", "make_engine",
]
