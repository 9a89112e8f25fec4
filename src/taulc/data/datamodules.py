"""Lightning datamodules: tabular (descriptors -> targets) and graph (PyG).

Both read a built dataset (:func:`taulc.data.dataset.load_dataset`), split it
with :func:`taulc.data.splits.split_particles` and serve batches following
``docs/CONTRACTS.md``.  Classification training sets can be balanced to equal
numbers of slow and fast particles (Sec. IV.B).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from taulc.data.dataset import ParticleTable, load_dataset, load_shard
from taulc.data.derived import shard_graph
from taulc.data.inputs import DEFAULT_GRAPH_RADIUS, model_graph
from taulc.data.splits import TEST, TRAIN, VAL, SplitSpec, balanced_subset, split_particles

log = logging.getLogger(__name__)

_STAGE = {"train": TRAIN, "val": VAL, "test": TEST}


def _identity(x: Any) -> Any:
    return x


class _RowBatches(Dataset):
    """Rows of a column store, fetched a batch at a time via ``__getitems__``."""

    def __init__(self, cols: Mapping[str, torch.Tensor], rows: np.ndarray) -> None:
        self.cols = cols
        self.rows = torch.as_tensor(rows, dtype=torch.long)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitems__(self, idx: list[int]) -> dict[str, torch.Tensor]:
        r = self.rows[torch.as_tensor(idx, dtype=torch.long)]
        return {k: v[r] for k, v in self.cols.items()}

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:  # pragma: no cover - Lightning uses __getitems__
        return self.__getitems__([i])


def _select(table: ParticleTable, species: str) -> np.ndarray:
    if species == "all":
        return np.ones(len(table.species), dtype=bool)
    if species in ("big", "small"):
        return table.species == (0 if species == "big" else 1)
    raise ValueError(f"data.species must be all, big or small, got '{species}'")


class _DatasetModule(L.LightningDataModule):
    """What both datamodules share: the dataset, its split, the target and the descriptor config."""

    def __init__(
        self,
        root: str | Path,
        split: SplitSpec | Mapping[str, Any],
        target: str,
        batch_size: int,
        dataset_config: Mapping[str, Any] | None,
        table: ParticleTable | None,
        descriptor: Mapping[str, Any] | None,
        estimator: str | None = "logmean",
        horizon: float | None = None,
    ) -> None:
        super().__init__()
        self.root = Path(root)
        self.spec = SplitSpec.from_config(split)
        self.target = target
        self.batch_size = batch_size
        self.dataset_config = dataset_config
        self.table = table
        self.descriptor = descriptor
        self.estimator = estimator
        self.horizon = horizon

    def _table(self) -> ParticleTable:
        if self.table is None:
            self.table = load_dataset(
                self.root, self.dataset_config, self.descriptor, estimator=self.estimator, horizon=self.horizon
            )
        return self.table


class TabularDataModule(_DatasetModule):
    """Descriptor rows of every particle with targets ``y`` (regression) and ``cls`` (slow=1/fast=0)."""

    def __init__(
        self,
        root: str | Path,
        split: SplitSpec | Mapping[str, Any] = SplitSpec(),
        target: str = "ln_tau_lc",
        species: str = "all",
        balance_classes: bool = False,
        batch_size: int = 4096,
        balance_within_rate: bool = True,
        dataset_config: Mapping[str, Any] | None = None,
        table: ParticleTable | None = None,
        seed: int = 0,
        descriptor: Mapping[str, Any] | None = None,
        estimator: str | None = "logmean",
        horizon: float | None = None,
    ) -> None:
        super().__init__(root, split, target, batch_size, dataset_config, table, descriptor, estimator, horizon)
        self.species = species
        self.balance_classes = balance_classes
        self.balance_within_rate = balance_within_rate
        self.seed = seed
        self.assign: np.ndarray | None = None
        self.rows: dict[str, np.ndarray] = {}

    def setup(self, stage: str | None = None) -> None:
        if self.assign is not None:
            return
        t = self._table()
        self.assign = split_particles(self.spec, t.config_id, t.rate, t.shard_roles)
        y = t.target(self.target)
        keep = _select(t, self.species) & np.isfinite(y)
        for name, code in _STAGE.items():
            rows = np.flatnonzero(keep & (self.assign == code))
            if name == "train" and self.balance_classes:
                rows = balanced_subset(rows, t.slow, self.seed, groups=t.rate if self.balance_within_rate else None)
            if len(rows) == 0:
                raise ValueError(f"split '{self.spec.kind}' leaves no {name} particles in {self.root}")
            self.rows[name] = rows
        self.cols = {
            "x": torch.from_numpy(np.ascontiguousarray(t.features, dtype=np.float32)),
            "y": torch.from_numpy(y.astype(np.float32)),
            "cls": torch.from_numpy(t.slow.astype(np.int64)),
            "mobility": torch.from_numpy(t.mobility.astype(np.float32)),
            "config_id": torch.from_numpy(t.config_id),
            "rate": torch.from_numpy(t.rate.astype(np.float32)),
            "species": torch.from_numpy(t.species),
            "ln_tau_lc": torch.from_numpy(t.ln_tau_lc.astype(np.float32)),
        }
        log.info("split %s: %s particles (train/val/test)", self.spec.kind, "/".join(str(len(self.rows[k])) for k in _STAGE))

    @property
    def n_features(self) -> int:
        assert self.table is not None
        return self.table.features.shape[1]

    def _loader(self, name: str, shuffle: bool) -> DataLoader:
        return DataLoader(
            _RowBatches(self.cols, self.rows[name]),
            batch_size=self.batch_size,
            shuffle=shuffle,
            collate_fn=_identity,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        """Numpy view of one split (for metrics and baselines run outside Lightning)."""
        rows = torch.as_tensor(self.rows[name])
        return {k: v[rows].numpy() for k, v in self.cols.items()}


class GraphDataModule(_DatasetModule):
    """One PyG graph per configuration; ``mask`` marks the nodes of the split being served."""

    def __init__(
        self,
        root: str | Path,
        split: SplitSpec | Mapping[str, Any] = SplitSpec(),
        target: str = "ln_tau_lc",
        node_descriptors: bool = False,
        batch_size: int = 2,
        dataset_config: Mapping[str, Any] | None = None,
        table: ParticleTable | None = None,
        radius: float = DEFAULT_GRAPH_RADIUS,
        descriptor: Mapping[str, Any] | None = None,
        estimator: str | None = "logmean",
        horizon: float | None = None,
    ) -> None:
        super().__init__(root, split, target, batch_size, dataset_config, table, descriptor, estimator, horizon)
        self.node_descriptors = node_descriptors
        self.radius = radius
        self.graphs: dict[str, list[Any]] = {}

    def setup(self, stage: str | None = None) -> None:
        if self.graphs:
            return

        t = self._table()
        assign = split_particles(self.spec, t.config_id, t.rate, t.shard_roles)
        y_all = t.target(self.target)
        base = []
        for gid, entry in enumerate(t.manifest["shards"]):
            z = load_shard(t.root, entry)
            lo, hi = t.shard_offsets[gid], t.shard_offsets[gid + 1]
            n = hi - lo
            targets = {
                "y": y_all[lo:hi],
                "cls": t.slow[lo:hi],
                "mobility": t.mobility[lo:hi],
                "ln_tau_lc": t.ln_tau_lc[lo:hi],
                "config_id": np.full(n, gid, dtype=np.int64),
                "rate": np.full(n, float(t.rate[lo]), dtype=np.float32),
            }
            # the same graph the predictor builds (taulc.data.inputs), edges from the derived cache
            d = model_graph(
                z["positions"],
                z["species"],
                z["cell"],
                self.radius,
                x=t.features[lo:hi] if self.node_descriptors else None,
                targets=targets,
                edges=shard_graph(t.root, entry, self.radius),
            )
            base.append((d, assign[lo:hi]))
        for name, code in _STAGE.items():
            out = []
            for d, a in base:
                m = torch.from_numpy((a == code) & np.isfinite(d.y.numpy()))
                if m.any():
                    g = d.clone()
                    g.mask = m
                    out.append(g)
            if not out:
                raise ValueError(f"split '{self.spec.kind}' leaves no {name} nodes in {self.root}")
            self.graphs[name] = out

    @property
    def n_node_features(self) -> int:
        assert self.table is not None
        return self.table.features.shape[1] if self.node_descriptors else 0

    def _loader(self, name: str, shuffle: bool):
        from torch_geometric.loader import DataLoader as GeoLoader  # noqa: PLC0415 - lazy: PyG (2 s) for graph datasets only

        return GeoLoader(self.graphs[name], batch_size=self.batch_size, shuffle=shuffle)

    def train_dataloader(self):
        return self._loader("train", True)

    def val_dataloader(self):
        return self._loader("val", False)

    def test_dataloader(self):
        return self._loader("test", False)

    def predict_dataloader(self):
        return self._loader("test", False)
