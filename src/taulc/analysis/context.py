"""Labels and configurations of the dataset a report is about (:class:`DatasetContext`), loaded once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DatasetContext", "load_context", "dataset_of"]

_LABEL_FIELDS = ("positions", "species", "cell", "rate", "tau_lc", "tau_sh", "slow", "tau_2", "t_max",
                 "censored_lc", "censored_sh")


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
        return np.concatenate([np.broadcast_to(s[key], s["species"].shape) if np.ndim(s[key]) == 0 else s[key]
                               for s in self.shards])

    @property
    def config_id(self) -> np.ndarray:
        return np.concatenate([np.full(len(s["species"]), i) for i, s in enumerate(self.shards)])

    def table(self, descriptor: Mapping[str, Any] | None) -> Any:
        """``ParticleTable`` for a descriptor config (features cached on disk by the data layer)."""
        from taulc.data.dataset import load_dataset  # noqa: PLC0415
        from taulc.data.derived import descriptor_key  # noqa: PLC0415

        key = descriptor_key(descriptor)
        if key not in self._tables:
            self._tables[key] = load_dataset(self.root, self.dataset_cfg, descriptor, verify=False, progress=False)
        return self._tables[key]


def load_context(root: Path, dataset_cfg: Mapping[str, Any] | None) -> DatasetContext:
    """Check the dataset at ``root`` against ``dataset_cfg`` and load the label fields of every shard."""
    from taulc.data.dataset import load_shard, verify_shards  # noqa: PLC0415
    from taulc.data.manifest import check_compatible, read_manifest  # noqa: PLC0415

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
    from taulc.data.manifest import dataset_identity  # noqa: PLC0415
    from taulc.paths import default_data_root  # noqa: PLC0415

    root = Path(cfg["data_root"]) if cfg.get("data_root") else default_data_root()
    return root / str(cfg["dataset"]["name"]), dataset_identity(cfg)

