"""Input kinds: what a model reads, and everything that depends on it, in one object per kind.

A model declares ``input_kind`` (``"tabular"`` or ``"graph"``, recorded in bundles as ``inputs.kind``);
``Model.inputs`` is the :class:`InputKind` of that name. It builds the training datamodule
(:mod:`taulc.data.datamodules`), gives the test split's ground truth and row numbers in prediction
order, makes serving batches of one validated configuration (through :mod:`taulc.data.inputs`, the
one input path shared with training) and fills the bundle's input fields. Training, the predictor
bundle and the predictor call these methods instead of comparing kind names.

* :data:`TABULAR`: descriptor rows, ``batch["x"]`` of shape (B, F) (ridge, SVM, MLP, boosted trees).
* :data:`GRAPH`: PyG particle graphs with a ``mask`` of the split's nodes (GNN). A graph model
  exposes ``cutoff`` (the reach of its edges: the default graph radius when serving) and
  ``n_node_features`` (descriptor columns per node, 0 = species only).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from taulc.data.inputs import dataset_graph_radius, model_graph
from taulc.data.manifest import dataset_identity
from taulc.data.splits import TRAIN, split_particles

if TYPE_CHECKING:
    import lightning as L

    from taulc.data.splits import SplitSpec
    from taulc.data.train_spec import TrainDataSpec

__all__ = ["InputKind", "TabularInputs", "GraphInputs", "TABULAR", "GRAPH", "INPUT_KINDS", "kind_named", "DeclaredInputs"]

#: fields of the test split's ground truth (``true_<field>`` in ``test_predictions.npz``) for graph batches
GRAPH_TRUTH = ("y", "cls", "config_id", "rate", "species", "ln_tau_lc", "mobility")


class InputKind(ABC):
    """What one kind of model input needs from training, bundles and the predictor."""

    name: ClassVar[str]
    #: the bundle's training score range comes from every dataset configuration (cheap for descriptor rows,
    #: read from the training cache) rather than from the run's test split only
    scores_every_configuration: ClassVar[bool] = False

    # ------------------------------------------------------------------ training
    @abstractmethod
    def datamodule(
        self,
        c: Mapping[str, Any],
        model_cls: type,
        root: Path,
        split: SplitSpec,
        data: TrainDataSpec,
        target: str,
        estimator: str | None,
        horizon: float | None,
    ) -> L.LightningDataModule:
        """The datamodule of a training run (``c``: the resolved train config)."""

    @abstractmethod
    def model_config(self, model_cfg: Mapping[str, Any], dm: Any) -> dict[str, Any]:
        """``model_cfg`` with the widths the data decide (``n_features``) filled in from the set-up datamodule."""

    @abstractmethod
    def truth(self, dm: Any) -> dict[str, np.ndarray]:
        """Ground truth of the test split, in the order ``trainer.predict`` returns predictions."""

    @abstractmethod
    def split_rows(self, dm: Any, target: str) -> tuple[np.ndarray, np.ndarray]:
        """Rows of ``dm.table`` in the training split (finite target) and, in prediction order, the test split."""

    @abstractmethod
    def split_configs(self, dm: Any) -> dict[str, list[int]]:
        """Global configuration ids that contribute particles to each split."""

    # ------------------------------------------------------------------ serving
    @abstractmethod
    def reads_descriptors(self, model: Any) -> bool:
        """Whether ``model`` reads descriptor columns (the bundle then records the descriptor config)."""

    @abstractmethod
    def particle_batch(
        self,
        model: Any,
        positions: np.ndarray,
        species: np.ndarray,
        cell: np.ndarray,
        x: np.ndarray | None,
        graph_radius: float | None = None,
    ) -> Any:
        """One validated configuration as a batch for ``model.predict_step`` (on the model's device)."""

    @abstractmethod
    def serving_inputs(
        self,
        model: Any,
        positions: np.ndarray,
        species: np.ndarray,
        cell: np.ndarray,
        x: np.ndarray | None,
        graph_radius: float | None = None,
    ) -> dict[str, Any]:
        """What the model is fed, on the CPU: ``x`` (descriptors or None) and, for graphs, ``graph``."""

    @abstractmethod
    def collate(self, batches: Sequence[Any]) -> Any:
        """Several batches of :meth:`particle_batch` as one batch (rows or graphs concatenated)."""

    @abstractmethod
    def bundle_fields(self, model: Any, c: Mapping[str, Any]) -> dict[str, Any]:
        """``descriptor`` and ``graph_radius`` of the bundle of a run with config ``c`` (None when not read)."""

    @abstractmethod
    def check_bundle_fields(self, model: Any, descriptor: Mapping[str, Any] | None, graph_radius: float | None) -> None:
        """Raise ValueError when the bundle's input fields cannot serve ``model``."""

    def __repr__(self) -> str:
        return f"<input kind {self.name!r}>"


class TabularInputs(InputKind):
    """Descriptor rows: ``{"x": (B, F)}`` plus targets and ids (:class:`taulc.data.datamodules.TabularDataModule`)."""

    name = "tabular"
    scores_every_configuration = True

    def datamodule(
        self,
        c: Mapping[str, Any],
        model_cls: type,
        root: Path,
        split: SplitSpec,
        data: TrainDataSpec,
        target: str,
        estimator: str | None,
        horizon: float | None,
    ) -> L.LightningDataModule:
        from taulc.data.datamodules import TabularDataModule  # noqa: PLC0415 - lazy: the datamodules load Lightning and torch

        return TabularDataModule(
            root,
            split,
            target=target,
            species=data.species,
            balance_classes=data.balance_classes or model_cls.balance_classes_default,
            balance_within_rate=data.balance_within_rate,
            batch_size=data.batch_size,
            dataset_config=dataset_identity(c),
            seed=int(c["seed"]),
            descriptor=c.get("descriptor"),
            estimator=estimator,
            horizon=horizon,
        )

    def model_config(self, model_cfg: Mapping[str, Any], dm: Any) -> dict[str, Any]:
        out = dict(model_cfg)
        if out.get("n_features") in (None, "???"):
            out["n_features"] = dm.n_features
        return out

    def truth(self, dm: Any) -> dict[str, np.ndarray]:
        return dm.arrays("test")

    def split_rows(self, dm: Any, target: str) -> tuple[np.ndarray, np.ndarray]:
        t = dm.table
        train = np.flatnonzero((dm.assign == TRAIN) & np.isfinite(t.target(target)))
        return train, np.asarray(dm.rows["test"])

    def split_configs(self, dm: Any) -> dict[str, list[int]]:
        cid = dm.table.config_id
        return {k: sorted(int(c) for c in np.unique(cid[r])) for k, r in dm.rows.items()}

    def reads_descriptors(self, model: Any) -> bool:
        return True

    def particle_batch(
        self,
        model: Any,
        positions: np.ndarray,
        species: np.ndarray,
        cell: np.ndarray,
        x: np.ndarray | None,
        graph_radius: float | None = None,
    ) -> Any:
        """``{"x": (N, F)}`` in the dtype given (float32 from :func:`taulc.data.inputs.descriptor_matrix`;
        float64 kept, so exact solvers see the values as passed); other dtypes become float32."""
        import torch

        if x is None:
            raise ValueError(f"{type(model).__name__} reads descriptors: pass x (N, F)")
        x = np.asarray(x)
        if x.dtype not in (np.float32, np.float64):
            x = x.astype(np.float32)
        return {"x": torch.from_numpy(np.ascontiguousarray(x)).to(model.device)}

    def serving_inputs(
        self,
        model: Any,
        positions: np.ndarray,
        species: np.ndarray,
        cell: np.ndarray,
        x: np.ndarray | None,
        graph_radius: float | None = None,
    ) -> dict[str, Any]:
        return {"x": x}

    def collate(self, batches: Sequence[Any]) -> Any:
        import torch

        return {"x": torch.cat([b["x"] for b in batches])}

    def bundle_fields(self, model: Any, c: Mapping[str, Any]) -> dict[str, Any]:
        return {"descriptor": c.get("descriptor"), "graph_radius": None}

    def check_bundle_fields(self, model: Any, descriptor: Mapping[str, Any] | None, graph_radius: float | None) -> None:
        if descriptor is None:
            raise ValueError(f"{type(model).__name__} reads descriptors: pass the descriptor config")


class GraphInputs(InputKind):
    """PyG particle graphs (:func:`taulc.data.inputs.model_graph`), one per configuration, ``mask`` = split nodes."""

    name = "graph"

    def datamodule(
        self,
        c: Mapping[str, Any],
        model_cls: type,
        root: Path,
        split: SplitSpec,
        data: TrainDataSpec,
        target: str,
        estimator: str | None,
        horizon: float | None,
    ) -> L.LightningDataModule:
        from taulc.data.datamodules import GraphDataModule  # noqa: PLC0415 - lazy: the datamodules load Lightning and torch

        return GraphDataModule(
            root,
            split,
            target=target,
            node_descriptors=int(c["model"].get("n_features") or 0) > 0,
            batch_size=data.graph_batch_size,
            dataset_config=dataset_identity(c),
            radius=dataset_graph_radius(c),
            descriptor=c.get("descriptor"),
            estimator=estimator,
            horizon=horizon,
        )

    def model_config(self, model_cfg: Mapping[str, Any], dm: Any) -> dict[str, Any]:
        out = dict(model_cfg)
        if out.get("n_features"):
            out["n_features"] = dm.n_node_features
        return out

    def truth(self, dm: Any) -> dict[str, np.ndarray]:
        cols: dict[str, list[np.ndarray]] = {}
        for g in dm.graphs["test"]:
            m = g.mask.numpy()
            for k in GRAPH_TRUTH:
                cols.setdefault(k, []).append(getattr(g, k).numpy()[m])
        return {k: np.concatenate(v) for k, v in cols.items()}

    def split_rows(self, dm: Any, target: str) -> tuple[np.ndarray, np.ndarray]:
        t = dm.table
        assign = split_particles(dm.spec, t.config_id, t.rate, t.shard_roles)
        train = np.flatnonzero((assign == TRAIN) & np.isfinite(t.target(target)))
        off = t.shard_offsets
        test = [off[int(g.config_id[0])] + np.flatnonzero(g.mask.numpy()) for g in dm.graphs["test"]]
        return train, np.concatenate(test)

    def split_configs(self, dm: Any) -> dict[str, list[int]]:
        return {k: sorted({int(g.config_id[0]) for g in gs}) for k, gs in dm.graphs.items()}

    def reads_descriptors(self, model: Any) -> bool:
        return model.n_node_features > 0

    def _graph(
        self,
        model: Any,
        positions: np.ndarray,
        species: np.ndarray,
        cell: np.ndarray,
        x: np.ndarray | None,
        graph_radius: float | None,
    ) -> Any:
        return model_graph(positions, species, cell, float(graph_radius or model.cutoff), x=x)

    def particle_batch(
        self,
        model: Any,
        positions: np.ndarray,
        species: np.ndarray,
        cell: np.ndarray,
        x: np.ndarray | None,
        graph_radius: float | None = None,
    ) -> Any:
        """The graph training uses: edges within ``graph_radius`` (default: the model's ``cutoff``),
        ``edge_attr`` = (dx, dy, dz, |r|) under the minimum image of the tilted cell."""
        return self._graph(model, positions, species, cell, x, graph_radius).to(model.device)

    def serving_inputs(
        self,
        model: Any,
        positions: np.ndarray,
        species: np.ndarray,
        cell: np.ndarray,
        x: np.ndarray | None,
        graph_radius: float | None = None,
    ) -> dict[str, Any]:
        return {"x": x, "graph": self._graph(model, positions, species, cell, x, graph_radius)}

    def collate(self, batches: Sequence[Any]) -> Any:
        from torch_geometric.data import Batch

        return Batch.from_data_list(list(batches))

    def bundle_fields(self, model: Any, c: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "descriptor": c.get("descriptor") if self.reads_descriptors(model) else None,
            "graph_radius": dataset_graph_radius(c),
        }

    def check_bundle_fields(self, model: Any, descriptor: Mapping[str, Any] | None, graph_radius: float | None) -> None:
        if not graph_radius:
            raise ValueError("a graph model needs graph_radius")


TABULAR = TabularInputs()
GRAPH = GraphInputs()
#: input kind name (a model's ``input_kind``, a bundle's ``inputs.kind``) -> the kind object
INPUT_KINDS: dict[str, InputKind] = {k.name: k for k in (TABULAR, GRAPH)}


def kind_named(name: str) -> InputKind:
    """The :class:`InputKind` a model's ``input_kind`` (or a bundle's ``inputs.kind``) names."""
    try:
        return INPUT_KINDS[name]
    except KeyError:
        raise ValueError(f"unknown input kind {name!r}; known: {sorted(INPUT_KINDS)}") from None


class DeclaredInputs:
    """``Model.inputs`` (on the class and on its instances): the :class:`InputKind` of the class's ``input_kind``."""

    def __get__(self, obj: object, owner: type) -> InputKind:
        return kind_named(owner.input_kind)
