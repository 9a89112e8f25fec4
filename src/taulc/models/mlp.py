"""Multi-task MLP on per-particle descriptors (a non-linear counterpart of
the ridge/SVM baselines of Sec. IV, on the same tabular batches)."""

from __future__ import annotations

from collections.abc import Mapping

from taulc.models.base import plain
from taulc.models.multitask import MultiTaskModule
from taulc.models.networks import DescriptorEncoder
from taulc.models.registry import register_model

__all__ = ["DescriptorMLP"]


@register_model
class DescriptorMLP(MultiTaskModule):
    """:class:`~taulc.models.networks.DescriptorEncoder` on standardised descriptors ``x`` with the shared heads.

    Args:
        n_features: number of descriptors (required, e.g. 576 for Eq. 13).
        hidden: width; n_layers: hidden layers of the encoder.
        Others: see :class:`~taulc.models.multitask.MultiTaskModule`.
    """

    short_name = "mlp"
    # before the network split: encoder = Sequential(mlp, SiLU, LayerNorm)
    legacy_prefixes = (("encoder.0.", "net.mlp."), ("encoder.2.", "net.norm."))

    def __init__(
        self,
        n_features: int,
        hidden: int = 128,
        n_layers: int = 3,
        task_weights: Mapping[str, float] | None = None,
        balance_classes: bool = True,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        scheduler: str = "cosine",
        dropout: float = 0.1,
        monitor: str | None = None,
        monitor_mode: str | None = None,
    ) -> None:
        if not n_features or n_features < 1:
            raise ValueError("DescriptorMLP needs n_features >= 1 (the width of batch['x'])")
        task_weights = plain(task_weights)  # plain dict in hparams/checkpoints
        super().__init__(
            hidden, task_weights, balance_classes, lr, weight_decay, scheduler, dropout, n_features, monitor, monitor_mode
        )
        self.save_hyperparameters()
        self.net = DescriptorEncoder(n_features, hidden, n_layers, dropout)

    @classmethod
    def owns_state_dict(cls, keys: set[str]) -> bool:
        return any(k.startswith(("net.mlp.", "encoder.")) for k in keys)
