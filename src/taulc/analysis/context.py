"""The typed root of ``src/taulc/conf/evaluate.yaml`` (:class:`EvaluateSpec`, parsed once by
:func:`taulc.analysis.report.evaluate`) and the labels and configurations of the dataset a report is about
(:class:`DatasetContext`), loaded once.

Each node's schema checks its own ranges in ``__post_init__`` and names the field (``analysis.n_grid``,
``analysis.clusters.t_r``); what needs the inputs (the report directory, the runs) is checked by the report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from taulc.analysis.cluster_analysis import ClustersSpec
from taulc.config import check_number, check_unknown_top_level, from_mapping
from taulc.data.dataset import load_dataset, load_shard, verify_shards
from taulc.data.derived import descriptor_key
from taulc.data.manifest import check_compatible, dataset_identity, read_manifest
from taulc.errors import ConfigError
from taulc.paths import default_data_root

__all__ = ["DatasetContext", "load_context", "dataset_of", "AnalysisSpec", "EvaluateSpec", "analysis_spec"]


# ----------------------------------------------------------------------------- the evaluate config (typed)
@dataclass(frozen=True)
class RelationSpec:
    """``analysis.relation``: log bins of τ_LC for τ_sh(τ_LC) and Eq. 3 (Figs. 3a-b)."""

    n_bins: int = 20
    min_count: int = 5

    def __post_init__(self) -> None:
        check_number(self.n_bins, "analysis.relation.n_bins", lo=1, integer=True)
        check_number(self.min_count, "analysis.relation.min_count", lo=1, integer=True)


@dataclass(frozen=True)
class RheologySpec:
    """``analysis.rheology``: the shear-thinning fit of η(γ̇) (Fig. 1)."""

    thinning_min_rate: Literal["auto"] | float = "auto"  # lowest rate of the fit, or auto (log-slope <= -slope_threshold)
    slope_threshold: float = 0.3

    def __post_init__(self) -> None:
        if self.thinning_min_rate != "auto":
            check_number(self.thinning_min_rate, "analysis.rheology.thinning_min_rate", lo=0, lo_open=True)
        check_number(self.slope_threshold, "analysis.rheology.slope_threshold", lo=0, lo_open=True)


@dataclass(frozen=True)
class ImportanceSpec:
    """``analysis.importance``: Fig. 16 descriptor and the greedy ranking (Appendix C, Table I, Fig. 18)."""

    full_descriptor: str | dict[str, Any] | None = "gl_full"  # src/taulc/conf/descriptor/<name>.yaml, a mapping, or null (skip)
    greedy_k: int = 30
    species: str = "all"  # reference particles of the greedy ranking: all | big | small

    def __post_init__(self) -> None:
        if isinstance(self.full_descriptor, str) and self.full_descriptor.lower() in ("false", "none", "null"):
            object.__setattr__(self, "full_descriptor", None)  # full_descriptor=false, as before
        if self.species not in ("all", "big", "small"):
            raise ConfigError(f"field 'analysis.importance.species' must be all | big | small, got {self.species!r}")
        if self.greedy_k < 1:
            raise ConfigError(f"field 'analysis.importance.greedy_k' must be >= 1, got {self.greedy_k!r}")


@dataclass(frozen=True)
class GnnAttributionSpec:
    """``analysis.gnn``: input attribution of a ParticleGNN run."""

    max_graphs: int = 4  # test configurations used
    n_repeats: int = 3
    n_bins: int = 20

    def __post_init__(self) -> None:
        for k in ("max_graphs", "n_repeats", "n_bins"):
            check_number(getattr(self, k), f"analysis.gnn.{k}", lo=1, integer=True)


@dataclass(frozen=True)
class AnalysisSpec:
    """The ``analysis`` node of ``src/taulc/conf/evaluate.yaml`` (Appendix A grid, Fig. 19 slices, sub-sections;
    ``clusters`` is :class:`taulc.analysis.cluster_analysis.ClustersSpec`)."""

    n_grid: int = 20  # Appendix A grid: L/20 cells per box edge (l_cg = L/20 in Eq. A1)
    oversample: int = 3  # Eq. A1 evaluated on an (n_grid * oversample)^3 FFT grid (odd)
    slice_thickness: float = 1.5  # Fig. 19 slice thickness (sigma_bb), x-y shear plane
    slice_center: float = 0.5  # slice centre as a fraction of L_z
    map_config: int | None = None  # configuration of each rate that is mapped; None = its first test configuration
    spectra_bins: int = 30
    relation: RelationSpec = field(default_factory=RelationSpec)
    rheology: RheologySpec = field(default_factory=RheologySpec)
    importance: ImportanceSpec = field(default_factory=ImportanceSpec)
    clusters: ClustersSpec = field(default_factory=ClustersSpec)
    gnn: GnnAttributionSpec = field(default_factory=GnnAttributionSpec)

    def __post_init__(self) -> None:
        for k, lo in (("n_grid", 2), ("oversample", 1), ("map_config", 0), ("spectra_bins", 2)):
            if getattr(self, k) is not None and getattr(self, k) < lo:
                raise ConfigError(f"field 'analysis.{k}' must be >= {lo}, got {getattr(self, k)!r}")
        if self.oversample % 2 == 0:
            raise ConfigError(f"field 'analysis.oversample' must be odd (Eq. A1 grid is centred), got {self.oversample}")
        if not self.slice_thickness > 0:
            raise ConfigError(f"field 'analysis.slice_thickness' must be > 0, got {self.slice_thickness!r}")
        if not 0 <= self.slice_center <= 1:
            raise ConfigError(
                f"field 'analysis.slice_center' must be {'>= 0' if self.slice_center < 0 else '<= 1'}, got {self.slice_center!r}"
            )


def analysis_spec(node: AnalysisSpec | Mapping[str, Any] | None) -> AnalysisSpec:
    """The :class:`AnalysisSpec` of an ``analysis`` config node (None: the defaults; a spec is returned as is)."""
    return node if isinstance(node, AnalysisSpec) else from_mapping(AnalysisSpec, node, "analysis")


@dataclass(frozen=True)
class EvaluateSpec:
    """The frozen root of ``src/taulc/conf/evaluate.yaml``: the report options and the whole ``analysis`` node
    (``analysis.clusters`` included), parsed once by :meth:`from_config`. The ``system``/``labels``/``descriptor``/
    ``dataset`` groups name a dataset and are read as a dataset config (:func:`dataset_of`)."""

    run: str | None = "latest"  # run dir | latest | <model> | null
    runs: list[str] | str | None = "auto"  # auto | a list of runs | [] (none)
    runs_root: str = "runs"
    data_root: str | None = None  # look for the runs' dataset under this root
    out: str | None = None  # report directory; null = <hydra output dir>/report
    analysis: AnalysisSpec = field(default_factory=AnalysisSpec)

    def __post_init__(self) -> None:
        if not str(self.runs_root).strip():
            raise ConfigError(f"field 'runs_root' must name a directory, got {self.runs_root!r}")

    @property
    def auto(self) -> bool:
        """``runs=auto``: add the latest run of every other model type on the same dataset."""
        return self.runs == "auto"

    @property
    def extra_runs(self) -> list[str]:
        """The runs listed in ``runs`` (none for ``auto``)."""
        if self.auto or not self.runs:
            return []
        return [self.runs] if isinstance(self.runs, str) else list(self.runs)

    @classmethod
    def from_config(cls, c: Mapping[str, Any]) -> EvaluateSpec:
        """Parse a composed evaluate config (plain containers) once; the first bad field raises a ConfigError
        naming it (``analysis.n_grid``, ``analysis.clusters.t_r``; the top-level options as ``evaluate.<key>``)."""
        check_unknown_top_level(c, "evaluate", "evaluate.py")
        top = {k: c[k] for k in ("run", "runs", "runs_root", "data_root", "out") if k in c}
        return from_mapping(cls, {**top, "analysis": analysis_spec(c.get("analysis"))}, "evaluate")


_LABEL_FIELDS = (
    "positions",
    "species",
    "cell",
    "rate",
    "tau_lc",
    "tau_sh",
    "slow",
    "tau_2",
    "t_max",
    "censored_lc",
    "censored_sh",
)


@dataclass
class DatasetContext:
    """Labels and configurations of every shard of one dataset, loaded once."""

    root: Path
    manifest: dict[str, Any]
    dataset_cfg: dict[str, Any] | None
    shards: list[dict[str, np.ndarray]]
    _tables: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def shard_ids(self) -> list[str]:
        return [s["id"] for s in self.manifest["shards"]]

    @property
    def rates(self) -> np.ndarray:
        return np.array([float(s["rate"]) for s in self.manifest["shards"]])

    def concat(self, key: str) -> np.ndarray:
        return np.concatenate(
            [np.broadcast_to(s[key], s["species"].shape) if np.ndim(s[key]) == 0 else s[key] for s in self.shards]
        )

    @property
    def config_id(self) -> np.ndarray:
        return np.concatenate([np.full(len(s["species"]), i) for i, s in enumerate(self.shards)])

    def table(self, descriptor: Mapping[str, Any] | None, target: Any = None) -> Any:
        """``ParticleTable`` for a descriptor config (features cached on disk by the data layer), with the
        learning targets of ``target`` (a run's :class:`~taulc.evaluation.skill.TargetSpec`: its ICE estimator
        and horizon; default the log-mean at the dataset's shortest t_max)."""

        est = getattr(target, "estimator", "logmean") if target is not None else "logmean"
        hor = getattr(target, "horizon", None) if target is not None else None
        key = (descriptor_key(descriptor), est, hor)
        if key not in self._tables:
            self._tables[key] = load_dataset(
                self.root, self.dataset_cfg, descriptor, verify=False, progress=False, estimator=est, horizon=hor
            )
        return self._tables[key]


def load_context(root: Path, dataset_cfg: Mapping[str, Any] | None) -> DatasetContext:
    """Check the dataset at ``root`` against ``dataset_cfg`` and load the label fields of every shard."""

    man = read_manifest(root)
    check_compatible(man, root, dataset_cfg)
    verify_shards(root, man)
    shards = []
    for entry in man["shards"]:
        z = load_shard(root, entry)
        shards.append({k: z[k] for k in _LABEL_FIELDS if k in z})
    return DatasetContext(root=root, manifest=man, dataset_cfg=dict(dataset_cfg) if dataset_cfg else None, shards=shards)


def dataset_of(cfg: Mapping[str, Any]) -> tuple[Path, dict[str, Any]]:
    """Dataset directory (``data_root``/``dataset.name``) and dataset config named by a run or evaluate config."""

    root = Path(cfg["data_root"]) if cfg.get("data_root") else default_data_root()
    return root / str(cfg["dataset"]["name"]), dataset_identity(cfg)
