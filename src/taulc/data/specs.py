"""Typed views of the build config: ``dataset:`` (:class:`DatasetSpec`), ``build:`` (:class:`BuildSpec`)
and the whole composed ``src/taulc/conf/build.yaml`` (:class:`BuildConfig`).

Converted by :func:`taulc.config.from_mapping` (in :func:`taulc.validate.check_build_config`),
so the defaults live here only, and an unknown key (``dataset.spacng``, ``build.stage``) is
refused naming the field before any MD.  The other nodes have their own schemas next to
their users: ``system`` -> :class:`taulc.md.system.SystemSpec`, ``engine`` ->
:class:`taulc.md.engine_spec.EngineSpec` (shared with ``taulc.simulate``), ``labels`` ->
:class:`taulc.dynamics.labels.LabelSettings`, ``build.startup`` ->
:class:`taulc.data.startup_runs.StartupSpec`.

**One vocabulary with ``taulc.simulate``.**  The builder's steady-shear sampling runs a
:class:`taulc.md.protocol.ProtocolSpec`, as ``taulc.simulate`` does; :meth:`DatasetSpec.steady_protocol`
is the one place where the dataset keys map onto it::

    dataset.spacing                      -> protocol.config_interval
    dataset.sample_interval / system.dt  -> protocol.sample_every (MD steps, >= 1)
    dataset.transient_time, transient_strain, transient_time_max
                                         -> protocol.transient_time = DatasetSpec.transient(rate)
                                            (protocol.transient_strain = 0)
    rate                                 -> protocol.rate (kind steady; quiescent at rate 0)

The dataset keys keep their names: the shipped datasets' manifests hash the raw ``dataset``
node (:func:`taulc.data.manifest.dataset_identity`), so a renamed key would orphan them.  The
dataset's transient rule differs from the protocol files' on purpose: a build spans rates
from the Newtonian to the shear-thinning regime, so it discards *at least* ``transient_time``
(> 4 τ_α) and ``transient_strain / γ̇`` *at most* up to ``transient_time_max``, where a
``src/taulc/conf/protocol`` run (one rate) discards ``transient_time + transient_strain / γ̇``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from taulc.data.startup_runs import StartupSpec
from taulc.dynamics.labels import LabelSettings
from taulc.errors import ConfigError
from taulc.md.engine_spec import EngineSpec
from taulc.md.protocol import ProtocolSpec
from taulc.md.system import SystemSpec
from taulc.structure.graphs import DEFAULT_GRAPH_RADIUS

__all__ = ["ALL_STAGES", "DEFAULT_STAGES", "BuildConfig", "BuildSpec", "DatasetSpec"]

ALL_STAGES = ("simulate", "label", "assemble", "featurize", "graph", "startup")
"""``startup`` (rheology start-up runs, :mod:`taulc.data.startup_runs`) is opt-in: not in the default ``build.stages``."""
DEFAULT_STAGES = ("simulate", "label", "featurize", "graph", "assemble")


@dataclass(frozen=True)
class DatasetSpec:
    """One ``src/taulc/conf/dataset/*.yaml`` (the ``dataset`` node); times in LJ units.

    Attributes:
        name: folder name under ``data_root``.
        source: ``simulate`` (equilibrate and shear here) or ``ingest`` (bring configurations).
        rates: shear rates γ̇ (simulate).
        n_configs: configurations per rate (simulate).
        seed: master seed (equilibration, thermalisation, per-shard label seeds).
        equilibration_time: NVT at T before anything.
        transient_time, transient_strain, transient_time_max: the discarded transient,
            :meth:`transient`.
        reference_time: quiescent reference runs (``None``: 2 ``labels.t_max``).
        reference_runs: number of reference runs.
        spacing: time between configurations (the protocol's ``config_interval``).
        sample_interval: streaming interval of the sampling runs (η, τ_α(γ̇)).
        q: F_s wave number of the flow τ_α(γ̇) of the sampling runs.
        graph_radius: GNN graph radius (not part of the dataset hash).
        files, format, rate, species_map: ingest only: configuration files (a list, or one
            path), ASE format (``None``: from the file name), the steady state's shear rate when
            the file does not record it, LAMMPS type / symbol -> 0 (big) or 1 (small).
    """

    name: str
    source: Literal["simulate", "ingest"] = "simulate"
    rates: tuple[float, ...] = ()
    n_configs: int | None = None
    seed: int = 0
    equilibration_time: float = 300.0
    transient_time: float = 60.0
    transient_strain: float = 0.5
    transient_time_max: float = 300.0
    reference_time: float | None = None
    reference_runs: int = 2
    spacing: float = 64.0
    sample_interval: float = 0.5
    q: float = 7.25
    graph_radius: float = DEFAULT_GRAPH_RADIUS
    files: tuple[str, ...] | str = ()
    format: str | None = None
    rate: float | None = None
    species_map: dict[Any, Any] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.files, str):
            object.__setattr__(self, "files", (self.files,))

    def transient(self, rate: float) -> float:
        """Time discarded under shear before the first configuration:
        ``max(transient_time, min(transient_strain / γ̇, transient_time_max))`` (γ̇ = 0: ``transient_time``)."""
        if rate > 0:
            return max(self.transient_time, min(self.transient_strain / rate, self.transient_time_max))
        return self.transient_time

    def steady_protocol(self, rate: float, dt: float) -> ProtocolSpec:
        """The steady-shear sampling at ``rate`` as the protocol ``taulc.simulate`` runs (module docstring)."""
        return ProtocolSpec(name="steady", kind="steady" if rate > 0 else "quiescent", rate=float(rate),
                            transient_time=self.transient(rate), transient_strain=0.0,
                            config_interval=self.spacing, sample_every=max(1, int(round(self.sample_interval / dt))))

    def reference_duration(self, t_max: float) -> float:
        """Length of each quiescent reference run: ``reference_time`` or 2 ``labels.t_max``."""
        return 2.0 * float(t_max) if self.reference_time is None else self.reference_time


@dataclass(frozen=True)
class BuildSpec:
    """The ``build`` node of ``src/taulc/conf/build.yaml``.

    Attributes:
        stages: stages to run, a subset of :data:`ALL_STAGES`.
        only_rates: compute these rates only (parallel shards); ``assemble`` runs later.
        force: rewrite the manifest even if it is up to date.
        progress: tqdm bars.
        startup: the opt-in ``startup`` stage (rheology start-up runs).
    """

    stages: tuple[str, ...] = DEFAULT_STAGES
    only_rates: tuple[float, ...] | None = None
    force: bool = False
    progress: bool = True
    startup: StartupSpec = field(default_factory=StartupSpec)

    def __post_init__(self) -> None:
        bad = [s for s in self.stages if s not in ALL_STAGES]
        if bad:
            raise ConfigError(f"field 'build.stages': unknown stage(s) {bad}; expected a subset of {list(ALL_STAGES)}")


@dataclass(frozen=True)
class BuildConfig:
    """Every node of a composed ``src/taulc/conf/build.yaml`` the builder reads, typed and checked
    (made by :func:`taulc.validate.check_build_config`)."""

    system: SystemSpec
    dataset: DatasetSpec
    labels: LabelSettings
    engine: EngineSpec = field(default_factory=EngineSpec)
    build: BuildSpec = field(default_factory=BuildSpec)
