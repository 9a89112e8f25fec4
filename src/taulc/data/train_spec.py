"""The ``data`` node of ``src/taulc/conf/train.yaml`` (:class:`TrainDataSpec`): batching and the particles
a model trains on. Light (no torch), so the config is checked before Lightning loads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from taulc.config import from_mapping
from taulc.errors import ConfigError

__all__ = ["TrainDataSpec"]


@dataclass(frozen=True)
class TrainDataSpec:
    """The ``data`` node of ``src/taulc/conf/train.yaml``: batching and the particles a model trains on."""

    batch_size: int = 4096  # tabular rows per batch
    graph_batch_size: int = 2  # configurations per graph batch
    species: str = "all"  # all | big | small: particles used for training (scores: target.reference_species)
    balance_classes: bool = False  # equal slow/fast in the training split (on by default for model=svm)
    balance_within_rate: bool = True  # balance within each shear rate, so the class does not teach the rate

    def __post_init__(self) -> None:
        if self.species not in ("all", "big", "small"):
            raise ConfigError(f"field 'data.species' must be all | big | small, got {self.species!r}")
        for k in ("batch_size", "graph_batch_size"):
            if getattr(self, k) < 1:
                raise ConfigError(f"field 'data.{k}' must be >= 1, got {getattr(self, k)!r}")

    @classmethod
    def from_config(cls, node: TrainDataSpec | Mapping[str, Any] | None) -> TrainDataSpec:
        """The spec of a ``data`` config node (None: the defaults; a spec is returned as is)."""
        return node if isinstance(node, cls) else from_mapping(cls, node, "data")
