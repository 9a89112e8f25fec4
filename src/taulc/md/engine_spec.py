"""``engine:``, the one config node that says how MD runs, for ``taulc.simulate`` and ``taulc.build``.

Both entry points read the same keys (``src/taulc/conf/simulate.yaml`` and ``src/taulc/conf/build.yaml``)
through :class:`EngineSpec`, converted by :func:`taulc.config.from_mapping`: an unknown
key is refused naming the field, and the older build key ``engine.threads`` is accepted
as an alias of ``engine.n_threads`` (with a warning).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from taulc.errors import ConfigError

__all__ = ["BACKENDS", "EngineSpec"]

BACKENDS = ("lammps", "openmm")
"""Engines :func:`taulc.md.make_engine` knows: LAMMPS (default) and the batched OpenMM replica engine."""


@dataclass(frozen=True)
class EngineSpec:
    """The ``engine`` config node.

    Attributes:
        backend: one of :data:`BACKENDS`.  ``taulc.build`` runs its MD (equilibration,
            reference, steady shear) on LAMMPS; its label engine is ``labels.engine``.
        n_threads: OpenMP threads per LAMMPS instance / MPI rank (OpenMM: CPU platform
            threads); ``None`` = the available cores divided by the MPI ranks.  A fixed value
            makes a build bitwise reproducible on resume (``DatasetBuilder`` warns otherwise).
        affine_integral: LAMMPS only: ``trapezoid`` or ``step`` (exact per-step integral of
            the affine displacement, slightly slower).
        log_file: LAMMPS only: the LAMMPS log file (``None``: no log).
    """

    backend: str = "lammps"
    n_threads: int | None = None
    affine_integral: Literal["trapezoid", "step"] = "trapezoid"
    log_file: str | None = None
    _aliases = {"threads": "n_threads"}

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"field 'engine.backend': unknown MD backend {self.backend!r}; expected one of {list(BACKENDS)}")
        if self.n_threads is not None and self.n_threads < 0:
            raise ConfigError(f"field 'engine.n_threads' must be >= 0 or null (all cores), got {self.n_threads}")

    def engine_kwargs(self, backend: str | None = None) -> dict[str, Any]:
        """Keyword arguments of the engine class of ``backend`` (default: :attr:`backend`):
        ``n_threads`` for every engine, plus the LAMMPS-only keys for LAMMPS."""
        if (backend or self.backend) == "openmm":
            return {"n_threads": self.n_threads}
        return {"n_threads": self.n_threads, "affine_integral": self.affine_integral, "log_file": self.log_file}
