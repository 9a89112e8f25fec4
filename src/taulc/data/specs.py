"""Typed views of the build config: ``dataset:`` (:class:`DatasetSpec`), ``build:`` (:class:`BuildSpec`)
and the whole composed ``src/taulc/conf/build.yaml`` (:class:`BuildConfig`).

Parsed once by :meth:`BuildConfig.from_config` (each node converted by :func:`taulc.config.from_mapping`),
so the defaults live here only, and an unknown key (``dataset.spacng``, ``build.stage``) or a value out
of range (``dataset.rates=[-0.1]``) is refused naming the field before any MD; each schema checks its own
ranges in ``__post_init__``.  What needs the inputs (the ingested files, the data root) is checked by
:class:`taulc.data.builder.DatasetBuilder` (:func:`taulc.validate.check_ingest_files`,
:func:`taulc.data.ingest_checks.check_configurations`).  The other nodes have their own schemas next to
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

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from dataclasses import fields as _fields
from typing import Any, Literal

from taulc.config import check_number, check_unknown_top_level, from_mapping, require_node
from taulc.data.startup_runs import StartupSpec
from taulc.dynamics.labels import LabelSettings
from taulc.errors import ConfigError
from taulc.md.engine_spec import EngineSpec
from taulc.md.protocol import ProtocolSpec, check_rate
from taulc.md.system import SystemSpec
from taulc.structure.graphs import DEFAULT_GRAPH_RADIUS

__all__ = [
    "ALL_STAGES",
    "DEFAULT_STAGES",
    "BuildConfig",
    "BuildSpec",
    "CagePositionsSpec",
    "DatasetSpec",
    "SPLIT_ROLES",
    "SplitLabelsSpec",
]

ALL_STAGES = ("simulate", "positions", "label", "assemble", "featurize", "graph", "startup")
"""``startup`` (rheology start-up runs, :mod:`taulc.data.startup_runs`) is opt-in: not in the default ``build.stages``.
``positions`` (inherent-state and cage-averaged positions, :mod:`taulc.md.cage`) runs only when
``dataset.positions`` is set."""
DEFAULT_STAGES = ("simulate", "positions", "label", "featurize", "graph", "assemble")

SPLIT_ROLES = ("train", "val", "test")
"""Roles of a configuration in a dataset with fixed splits (``dataset.splits``)."""

#: ``dataset`` keys that do not change the sampled configurations (excluded from the simulate cache key).
NON_SIMULATION_KEYS = ("name", "graph_radius", "rates", "n_configs", "splits", "positions", "first_jump_dtype")


@dataclass(frozen=True)
class SplitLabelsSpec:
    """``dataset.splits``: configurations held out per rate at build time, labelled by their role.

    Label noise is a design variable: noise in *training* labels averages out over many
    configurations, while the *test* labels bound every score (the noise ceiling), so test
    configurations get many more replicas (``test_labels``) than training ones.  Per rate,
    the last ``test`` configuration indices are the test set and the ``val`` before them the
    validation set (configurations are consecutive samples of one steady state, so which
    indices are held out does not matter; fixing them makes the split part of the dataset).

    Attributes:
        val: validation configurations per rate (labelled like training).
        test: test configurations per rate.
        test_labels: overrides of ``labels`` for the test configurations, e.g.
            ``{n_replicas: 48}`` (any :class:`~taulc.dynamics.labels.LabelSettings` field).
    """

    val: int = 0
    test: int = 0
    test_labels: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for k in ("val", "test"):
            if int(getattr(self, k)) < 0:
                raise ConfigError(f"field 'dataset.splits.{k}' must be >= 0, got {getattr(self, k)!r}")
        known = {f.name for f in _fields(LabelSettings)}
        bad = sorted(set(self.test_labels) - known)
        if bad:
            raise ConfigError(f"field 'dataset.splits.test_labels': unknown label field(s) {bad}; known: {sorted(known)}")

    def role(self, index: int, n_configs: int) -> str:
        """``train`` | ``val`` | ``test`` of configuration ``index`` of ``n_configs`` at one rate."""
        if index >= n_configs - self.test:
            return "test"
        if index >= n_configs - self.test - self.val:
            return "val"
        return "train"

    def labels_for(self, labels: LabelSettings, role: str) -> LabelSettings:
        """The label settings of a configuration of ``role`` (test overrides applied)."""
        if role != "test" or not self.test_labels:
            return labels
        kw = dict(self.test_labels)
        if "mobility_times" in kw:
            kw["mobility_times"] = tuple(kw["mobility_times"])
        try:
            return replace(labels, **kw)  # LabelSettings.__post_init__ checks the overridden values
        except ValueError as exc:
            raise ConfigError(f"field 'dataset.splits.test_labels': {exc}") from None


@dataclass(frozen=True)
class CagePositionsSpec:
    """``dataset.positions``: the positions of the cage stored beside the thermal snapshot.

    Two per-particle position sets, computed once per configuration at build time
    (:mod:`taulc.md.cage`) so that loading a dataset runs no MD:

    * ``positions_inherent``: the inherent state (energy minimisation at fixed cell, tilt
      kept; LAMMPS ``minimize`` with ``minimize_style`` and force tolerance ``ftol``);
    * ``positions_cage``: the cage average, the mean of the unwrapped positions over one
      shear-off MD run of ``window`` (LJ time) from the configuration with fresh
      Maxwell-Boltzmann velocities (one replica; frames every ``sample_every`` steps).
      The window must stay far below the first cage jumps (Alkemade, Boattini, Filion &
      Smallenburg 2023, "Improving the prediction of glassy dynamics by pinpointing the
      local cage"); the fraction of first jumps inside it is recorded per shard.

    Attributes:
        window: cage-averaging run length (LJ time; ≈ 0.07 τ_α at the demo state for 1).
        sample_every: MD steps between averaged frames.
        minimize_style: ``cg`` | ``fire``.
        ftol: force tolerance of the minimisation (2-norm of the force vector).
        inherent, cage: which of the two sets to compute.
    """

    window: float = 1.0
    sample_every: int = 1
    minimize_style: Literal["cg", "fire"] = "cg"
    ftol: float = 1e-6
    inherent: bool = True
    cage: bool = True

    def __post_init__(self) -> None:
        if not self.window > 0:
            raise ConfigError(f"field 'dataset.positions.window' must be > 0 (LJ time), got {self.window!r}")
        if int(self.sample_every) < 1:
            raise ConfigError(f"field 'dataset.positions.sample_every' must be >= 1 MD step, got {self.sample_every!r}")
        if not self.ftol > 0:
            raise ConfigError(f"field 'dataset.positions.ftol' must be > 0, got {self.ftol!r}")


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
        splits: configurations held out per rate at build time and their label settings
            (:class:`SplitLabelsSpec`; ``None``: every configuration is labelled alike and
            ``split=config`` draws the held-out ones at training time).
        positions: inherent-state and cage-averaged positions stored in the shards
            (:class:`CagePositionsSpec`; ``None``: not computed).
        first_jump_dtype: storage type of the per-replica first-jump times in the shards
            (``float16`` halves their size; the frame spacing of 0.05-0.1 is far above its
            resolution, 0.016 below t = 32).
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
    splits: SplitLabelsSpec | None = None
    positions: CagePositionsSpec | None = None
    first_jump_dtype: Literal["float32", "float16"] = "float32"

    def __post_init__(self) -> None:
        if isinstance(self.files, str):
            object.__setattr__(self, "files", (self.files,))
        if not self.name.strip() or "/" in self.name:
            raise ConfigError(f"field 'dataset.name' must be a non-empty directory name, got {self.name!r}")
        if self.source == "simulate":
            if not self.rates:
                raise ConfigError(f"field 'dataset.rates' must be a non-empty list of shear rates, got {list(self.rates)!r}")
            for k, r in enumerate(self.rates):
                check_rate(r, f"dataset.rates[{k}]")
            if len(set(self.rates)) != len(self.rates):
                raise ConfigError(f"field 'dataset.rates' lists a rate twice: {list(self.rates)}")
            check_number(self.n_configs, "dataset.n_configs", lo=1, integer=True)
        else:  # ingest: the files' existence is an input check (taulc.validate.check_ingest_files)
            if not self.files:
                raise ConfigError(
                    "field 'dataset.files' is empty: list the configuration files to ingest, e.g. 'dataset.files=[/path/run.dump]'"
                )
            if self.rate is not None:
                check_rate(self.rate, "dataset.rate")
            for k, v in (self.species_map or {}).items():
                if v not in (0, 1):
                    raise ConfigError(f"field 'dataset.species_map' entry {k!r}: {v!r}; expected 0 (big) or 1 (small)")
        for k in ("equilibration_time", "transient_time", "transient_strain", "transient_time_max"):
            check_number(getattr(self, k), f"dataset.{k}", lo=0)
        for k in ("reference_time", "spacing", "sample_interval", "graph_radius", "q"):
            if getattr(self, k) is not None:
                check_number(getattr(self, k), f"dataset.{k}", lo=0, lo_open=True)
        check_number(self.reference_runs, "dataset.reference_runs", lo=1, integer=True)
        check_number(self.seed, "dataset.seed", lo=0, integer=True)
        if self.splits is not None and self.n_configs is not None:
            held = self.splits.val + self.splits.test
            if held >= self.n_configs:
                raise ConfigError(
                    f"field 'dataset.splits': val + test = {held} configurations per rate leaves none of "
                    f"dataset.n_configs = {self.n_configs} for training"
                )

    def role(self, index: int) -> str:
        """``train`` | ``val`` | ``test`` of configuration ``index`` (``train`` without fixed splits)."""
        if self.splits is None or self.n_configs is None or self.source != "simulate":
            return "train"
        return self.splits.role(int(index), int(self.n_configs))

    def transient(self, rate: float) -> float:
        """Time discarded under shear before the first configuration:
        ``max(transient_time, min(transient_strain / γ̇, transient_time_max))`` (γ̇ = 0: ``transient_time``)."""
        if rate > 0:
            return max(self.transient_time, min(self.transient_strain / rate, self.transient_time_max))
        return self.transient_time

    def steady_protocol(self, rate: float, dt: float) -> ProtocolSpec:
        """The steady-shear sampling at ``rate`` as the protocol ``taulc.simulate`` runs (module docstring)."""
        return ProtocolSpec(
            name="steady",
            kind="steady" if rate > 0 else "quiescent",
            rate=float(rate),
            transient_time=self.transient(rate),
            transient_strain=0.0,
            config_interval=self.spacing,
            sample_every=max(1, int(round(self.sample_interval / dt))),
        )

    def reference_duration(self, t_max: float) -> float:
        """Length of each quiescent reference run: ``reference_time`` or 2 ``labels.t_max``."""
        return 2.0 * float(t_max) if self.reference_time is None else self.reference_time


@dataclass(frozen=True)
class BuildSpec:
    """The ``build`` node of ``src/taulc/conf/build.yaml``.

    Attributes:
        stages: stages to run, a subset of :data:`ALL_STAGES`.
        only_rates: compute these rates only (parallel shards); ``assemble`` runs later.
        only_roles: position and label stages for configurations of these roles only
            (``train``/``val``/``test`` of ``dataset.splits``; parallel builds); ``assemble`` runs later.
        force: rewrite the manifest even if it is up to date.
        progress: tqdm bars.
        startup: the opt-in ``startup`` stage (rheology start-up runs).
    """

    stages: tuple[str, ...] = DEFAULT_STAGES
    only_rates: tuple[float, ...] | None = None
    only_roles: tuple[str, ...] | None = None
    force: bool = False
    progress: bool = True
    startup: StartupSpec = field(default_factory=StartupSpec)

    def __post_init__(self) -> None:
        bad = [s for s in self.stages if s not in ALL_STAGES]
        if bad:
            raise ConfigError(f"field 'build.stages': unknown stage(s) {bad}; expected a subset of {list(ALL_STAGES)}")


@dataclass(frozen=True)
class BuildConfig:
    """The typed root of a composed ``src/taulc/conf/build.yaml``: every node the builder reads, each checked
    by its own schema; built once by :meth:`from_config` (:class:`taulc.data.builder.DatasetBuilder`)."""

    system: SystemSpec
    dataset: DatasetSpec
    labels: LabelSettings
    engine: EngineSpec = field(default_factory=EngineSpec)
    build: BuildSpec = field(default_factory=BuildSpec)

    def __post_init__(self) -> None:
        if self.engine.backend != "lammps":
            raise ConfigError(
                f"field 'engine.backend' = {self.engine.backend!r}: the build's MD (equilibration, reference, "
                "steady shear) runs on LAMMPS; choose the engine of the ICE replicas with labels.engine"
            )
        if self.dataset.splits is not None:  # the test labels' overrides, checked before any MD
            self.dataset.splits.labels_for(self.labels, "test")

    @classmethod
    def from_config(cls, c: Mapping[str, Any]) -> BuildConfig:
        """Parse the composed config (plain containers) once: ``system``, ``labels``, ``dataset``, ``build``,
        ``engine``; the first bad field raises a ConfigError (or the schema's own error) naming it."""
        check_unknown_top_level(c, "build", "taulc-build")
        system = SystemSpec.from_config(require_node(c, "system"))
        labels = from_mapping(LabelSettings, require_node(c, "labels"), "labels", ignore=("_target_", "name"))
        dataset = from_mapping(DatasetSpec, require_node(c, "dataset"), "dataset")
        build = from_mapping(BuildSpec, c.get("build"), "build")
        engine = from_mapping(EngineSpec, c.get("engine"), "engine")
        return cls(system=system, dataset=dataset, labels=labels, engine=engine, build=build)
