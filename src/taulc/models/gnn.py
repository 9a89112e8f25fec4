"""Message-passing GNN on the particle graph in the shear frame: :class:`ParticleGNN`.

The network is :class:`~taulc.models.networks.GraphEncoder` (edge basis, symmetry of the shear
frame, message-passing blocks: see :mod:`taulc.models.networks`); this module declares the
training module around it (heads, losses, metrics: :class:`~taulc.models.multitask.MultiTaskModule`).
"""

from __future__ import annotations

from collections.abc import Mapping

from taulc.models.base import plain
from taulc.models.multitask import MultiTaskModule
from taulc.models.networks import GraphEncoder
from taulc.models.registry import register_model
from taulc.structure.graphs import DEFAULT_GRAPH_RADIUS

__all__ = ["ParticleGNN"]

#: the network's submodules, which were attributes of the model before the network split
_NET_PARTS = ("basis", "edge_embed", "species_embed", "x_embed", "blocks", "out_norm")


@register_model
class ParticleGNN(MultiTaskModule):
    """Multi-task MPNN predicting ln tau_LC, slow/fast and mobility per particle.

    Args:
        hidden: node/edge embedding width.
        n_layers: message-passing blocks (receptive field ~ n_layers * radius).
        radius: model cutoff; edges longer than this are ignored, so graphs may
            be built with a larger radius (``build_graph(radius=...)``).
        n_rbf: radial basis functions.
        angular: ``"l2"`` (default: C2h-invariant l <= 2 terms) or ``"none"`` (rotation-invariant ablation).
        avg_neighbors: normalisation of the summed messages (~ neighbours within radius).
        n_species: size of the species embedding table (0 = big, 1 = small).
        n_features: per-node descriptors ``x`` to use as extra inputs (0/None = species only).
        task_weights, balance_classes, lr, weight_decay, scheduler, dropout,
        monitor, monitor_mode: see :class:`~taulc.models.multitask.MultiTaskModule`.
    """

    short_name = "gnn"
    input_kind = "graph"
    test_with_best_checkpoint = True
    report_roles = ("regression", "attribution")
    legacy_prefixes = tuple((f"{p}.", f"net.{p}.") for p in _NET_PARTS)

    @property
    def symmetry(self) -> str | None:  # type: ignore[override]
        """``C2h`` for species-only inputs (the edge basis keeps only C2h-invariant terms, :class:`~taulc.models.networks.EdgeBasis`);
        undeclared when node descriptors are added (their symmetry is the descriptors')."""
        return None if self.hparams.get("n_features") else "C2h"

    @classmethod
    def owns_state_dict(cls, keys: set[str]) -> bool:
        return any(k.startswith(("net.blocks.", "blocks.")) for k in keys)

    @property
    def cutoff(self) -> float:
        """Reach of the edges the model reads (its ``radius``): the default graph radius when serving."""
        return self.net.basis.cutoff

    @property
    def n_node_features(self) -> int:
        """Descriptor columns per node (0: species only)."""
        return int(self.x_mean.numel())

    def __init__(
        self,
        hidden: int = 64,
        n_layers: int = 4,
        radius: float = DEFAULT_GRAPH_RADIUS,
        n_rbf: int = 16,
        angular: str = "l2",
        avg_neighbors: float = 40.0,
        n_species: int = 2,
        n_features: int | None = None,
        task_weights: Mapping[str, float] | None = None,
        balance_classes: bool = True,
        lr: float = 1e-3,
        weight_decay: float = 1e-5,
        scheduler: str = "cosine",
        dropout: float = 0.0,
        monitor: str | None = None,
        monitor_mode: str | None = None,
    ) -> None:
        task_weights = plain(task_weights)  # plain dict in hparams/checkpoints
        super().__init__(
            hidden, task_weights, balance_classes, lr, weight_decay, scheduler, dropout, n_features, monitor, monitor_mode
        )
        self.save_hyperparameters()
        self.net = GraphEncoder(hidden, n_layers, radius, n_rbf, angular, avg_neighbors, n_species, n_features, dropout)
