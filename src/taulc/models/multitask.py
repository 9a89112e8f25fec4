"""Multi-task neural models (GNN, descriptor MLP): the one training module of the neural models.

:class:`MultiTaskModule` holds a network ``self.net`` (a plain ``nn.Module`` of
:mod:`taulc.models.networks`: batch fields -> per-particle embeddings) and three
per-particle heads on it:

* ``y``        -- regression of ``ln tau_LC`` (Sec. IV.A), MSE on the
                  standardised target;
* ``cls``      -- slow (1) / fast (0) logit (Sec. IV.B), BCE with optional
                  class balancing; the logit plays the role of the hardness H;
* ``mobility`` -- regression of the mobility, MSE on the standardised target.

The loss is ``sum_t task_weights[t] * loss_t``, computed only on nodes with
``mask`` (graph batches; tabular batches use all rows) and a finite target
(``cls`` outside {0, 1} is ignored). Target and input-feature standardisation
statistics are computed once, in ``on_train_start``, by one pass over the
training dataloader (masked nodes only for targets); they are buffers, so
they travel with checkpoints and bundles and are not recomputed on resume.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from taulc.models.base import TaulcModule, get_field
from taulc.models.metrics import classification_metrics, pearson, regression_metrics, spearman
from taulc.models.networks import mlp
from taulc.models.outputs import MOBILITY, PROBABILITY, SCORE, Output, regression_output

log = logging.getLogger(__name__)

TASKS: tuple[str, ...] = ("y", "cls", "mobility")
DEFAULT_TASK_WEIGHTS: dict[str, float] = {"y": 1.0, "cls": 1.0, "mobility": 0.0}


def _rename_legacy_keys(module: MultiTaskModule, state_dict: dict[str, Any], prefix: str, *_: Any) -> None:
    """Load-state-dict pre-hook: keys under an old prefix of ``module.legacy_prefixes`` move to the new one."""
    for old, new in module.legacy_prefixes:
        for key in [k for k in state_dict if k.startswith(prefix + old)]:
            state_dict[prefix + new + key[len(prefix + old) :]] = state_dict.pop(key)


class MultiTaskModule(TaulcModule):
    """Base for neural models: heads, masked multi-task loss, optimiser, metrics.

    A subclass builds the network ``self.net`` (:mod:`taulc.models.networks`) after
    ``super().__init__()`` (heads first: the parameter order, hence the weights a seed gives, and
    the optimiser state of checkpoints stay as they were) and declares its contract properties;
    :meth:`encode` feeds the network the batch fields it names in ``inputs``. State dicts written
    before the network moved into ``self.net`` still load: ``legacy_prefixes`` renames their keys.

    Args:
        hidden: embedding width fed to the heads.
        task_weights: weights of ``y``, ``cls``, ``mobility`` losses (0 = off).
        balance_classes: BCE ``pos_weight = n_fast / n_slow`` from the train set.
        lr, weight_decay: AdamW.
        scheduler: ``"cosine"`` (over ``trainer.max_epochs``), ``"plateau"``
            (on the monitored metric) or ``"none"``.
        dropout: dropout inside the MLPs.
        n_features: number of per-particle descriptors in ``x`` (0/None = none).
        monitor, monitor_mode: validation metric for checkpoints / early
            stopping / Optuna; default ``val/pearson_within_rate`` (big particles, within each rate) when the ``y`` task is
            on, else ``val/roc_auc`` (cls) or ``val/mobility_pearson``.
    """

    net: nn.Module  # batch fields -> (M, hidden); built by the subclass
    #: ``(old, new)`` key prefixes: state dicts of the layout before ``self.net`` load through a pre-hook
    legacy_prefixes: ClassVar[tuple[tuple[str, str], ...]] = ()
    callbacks_default = "early_stopping"  # trained by gradient descent: stop on the monitored metric
    report_roles = ("regression",)  # parity section when the y head is on (y_pred predicted)
    report_priority = 1  # after ridge, the paper's Fig. 17 model

    def __init__(
        self,
        hidden: int,
        task_weights: Mapping[str, float] | None,
        balance_classes: bool,
        lr: float,
        weight_decay: float,
        scheduler: str,
        dropout: float,
        n_features: int | None,
        monitor: str | None,
        monitor_mode: str | None,
    ) -> None:
        super().__init__()
        tw = dict(DEFAULT_TASK_WEIGHTS)
        for k, v in dict(task_weights or {}).items():
            if k not in TASKS:
                raise ValueError(f"unknown task {k!r} in task_weights; expected one of {TASKS}")
            tw[k] = float(v)
        if not any(v > 0 for v in tw.values()):
            raise ValueError(f"all task weights are zero: {tw}")
        if scheduler not in ("cosine", "plateau", "none"):
            raise ValueError(f"scheduler must be 'cosine', 'plateau' or 'none', got {scheduler!r}")
        self.task_weights = tw
        self.heads = nn.ModuleDict({t: mlp(hidden, hidden, 1, 2, dropout) for t in TASKS})
        f = int(n_features or 0)
        self.register_buffer("x_mean", torch.zeros(f))
        self.register_buffer("x_scale", torch.ones(f))
        self.register_buffer("y_mean", torch.zeros(()))
        self.register_buffer("y_scale", torch.ones(()))
        self.register_buffer("mobility_mean", torch.zeros(()))
        self.register_buffer("mobility_scale", torch.ones(()))
        self.register_buffer("pos_weight", torch.ones(()))
        self.register_buffer("stats_ready", torch.zeros((), dtype=torch.bool))
        self.register_load_state_dict_pre_hook(_rename_legacy_keys)

    # ------------------------------------------------------------ selection
    @property
    def monitor(self) -> str:
        m = self.hparams.get("monitor")
        if m:
            return m
        if self.task_weights["y"] > 0:
            return "val/pearson_within_rate"
        return "val/roc_auc" if self.task_weights["cls"] > 0 else "val/mobility_pearson"

    @property
    def monitor_mode(self) -> str:
        return self.hparams.get("monitor_mode") or ("min" if self.monitor.endswith(("loss", "mse")) else "max")

    # ------------------------------------------------------------ model
    def encode(self, batch: Any) -> Tensor:
        """Per-particle embeddings ``(M, hidden)`` fed to the task heads: ``self.net`` called with the
        batch fields its ``inputs`` name, ``x`` standardised (:meth:`normalized_x`; None without descriptors)."""
        names: tuple[str, ...] = getattr(self.net, "inputs", ("x",))
        return self.net(**{k: self.normalized_x(batch) if k == "x" else get_field(batch, k) for k in names})

    def node_mask(self, batch: Any) -> Tensor:
        """Rows/nodes that count for loss and metrics (``mask`` field or all)."""
        m = get_field(batch, "mask")
        if m is not None:
            return m.bool()
        ref = get_field(batch, "species")
        if ref is None:
            ref = get_field(batch, "x")
        return torch.ones(ref.shape[0], dtype=torch.bool, device=ref.device)

    def normalized_x(self, batch: Any) -> Tensor | None:
        """Standardised descriptors, or None when the model uses none."""
        if self.x_mean.numel() == 0:
            return None
        x = get_field(batch, "x")
        if x is None or x.ndim != 2 or x.shape[1] != self.x_mean.numel():
            raise ValueError(
                f"{type(self).__name__} expects batch.x of shape (N, {self.x_mean.numel()}), "
                f"got {None if x is None else tuple(x.shape)}"
            )
        return (x.float() - self.x_mean) / self.x_scale

    def forward(self, batch: Any) -> dict[str, Tensor]:
        """Per-node outputs (all nodes): ``y_pred`` (ln tau, original units),
        ``logit`` (slow vs fast), ``mobility_pred`` (original units)."""
        h = self.encode(batch)
        out = {t: self.heads[t](h).squeeze(-1) for t in TASKS}
        return {
            "y_pred": out["y"] * self.y_scale + self.y_mean,
            "logit": out["cls"],
            "mobility_pred": out["mobility"] * self.mobility_scale + self.mobility_mean,
            "_y_std": out["y"],
            "_mobility_std": out["mobility"],
        }

    # ------------------------------------------------------------ loss
    def losses(self, batch: Any, out: dict[str, Tensor]) -> dict[str, Tensor]:
        """Per-task losses on masked nodes with finite targets, and their weighted sum."""
        mask = self.node_mask(batch)
        zero = out["logit"].sum() * 0.0
        parts: dict[str, Tensor] = {}
        for t, key in (("y", "_y_std"), ("mobility", "_mobility_std")):
            tgt = get_field(batch, t)
            if self.task_weights[t] <= 0 or tgt is None:
                continue
            tgt = tgt.float()
            ok = mask & torch.isfinite(tgt)
            mean, scale = (self.y_mean, self.y_scale) if t == "y" else (self.mobility_mean, self.mobility_scale)
            parts[t] = nn.functional.mse_loss(out[key][ok], (tgt[ok] - mean) / scale) if ok.any() else zero
        cls = get_field(batch, "cls")
        if self.task_weights["cls"] > 0 and cls is not None:
            ok = mask & ((cls == 0) | (cls == 1))
            parts["cls"] = (
                nn.functional.binary_cross_entropy_with_logits(
                    out["logit"][ok], cls[ok].float(), pos_weight=self.pos_weight if self.hparams.balance_classes else None
                )
                if ok.any()
                else zero
            )
        if not parts:
            raise KeyError(
                f"batch carries none of the targets of the enabled tasks {[t for t, w in self.task_weights.items() if w > 0]}"
            )
        # zero-weighted link keeps disabled heads in the graph (DDP: no unused parameters)
        tie = 0.0 * (out["_y_std"].sum() + out["logit"].sum() + out["_mobility_std"].sum())
        parts["total"] = sum(self.task_weights[t] * v for t, v in parts.items()) + tie
        return parts

    def _n_masked(self, batch: Any) -> int:
        return int(self.node_mask(batch).sum())

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        out = self(batch)
        parts = self.losses(batch, out)
        bs = max(self._n_masked(batch), 1)
        for k, v in parts.items():
            name = "train/loss" if k == "total" else f"train/loss_{k}"
            self.log(name, v, batch_size=bs, on_step=False, on_epoch=True, prog_bar=k == "total")
        return parts["total"]

    def _eval_step(self, stage: str, batch: Any) -> None:
        out = self(batch)
        parts = self.losses(batch, out)
        self.log(f"{stage}/loss", parts["total"], batch_size=max(self._n_masked(batch), 1), on_step=False, on_epoch=True)
        m = self.node_mask(batch)
        fields = {k: get_field(batch, k) for k in ("y", "cls", "mobility", "config_id", "rate", "species")}
        self.collect(
            stage,
            y_pred=out["y_pred"][m],
            logit=out["logit"][m],
            mobility_pred=out["mobility_pred"][m],
            **{k: (v[m] if v is not None else None) for k, v in fields.items()},
        )

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._eval_step("val", batch)

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._eval_step("test", batch)

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            self.reset_collection("val")
            return
        self.finish_eval_epoch("val", prog_bar=(self.monitor,))

    def compute_metrics(self, a: dict[str, np.ndarray]) -> dict[str, Any]:
        """Regression metrics of ``y`` (unprefixed: ``pearson``, ``pearson_config``,
        ...), classification metrics of the logit (``accuracy``, ``roc_auc``, ...)
        and ``mobility_pearson``/``mobility_spearman``, for the enabled tasks."""
        out: dict[str, Any] = {}
        if self.task_weights["y"] > 0 and "y" in a:
            out.update(regression_metrics(a["y"], a["y_pred"], a.get("config_id"), a.get("rate"), a.get("species")))
        if self.task_weights["cls"] > 0 and "cls" in a:
            cm = classification_metrics(a["cls"], a["logit"], ln_tau=a.get("y"), rate=a.get("rate"), species=a.get("species"))
            cm.pop("n", None)
            out.update(cm)
        if self.task_weights["mobility"] > 0 and "mobility" in a:
            ok = np.isfinite(a["mobility"])
            out["mobility_pearson"] = pearson(a["mobility"][ok], a["mobility_pred"][ok])
            out["mobility_spearman"] = spearman(a["mobility"][ok], a["mobility_pred"][ok])
        return out

    def predict_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> dict[str, Tensor]:
        """All heads for every node: ``y_pred``, ``logit``, ``p_slow``,
        ``mobility_pred``, plus ``mask``/``batch`` (graphs) and ids when present."""
        out = self(batch)
        res = {
            "y_pred": out["y_pred"],
            "logit": out["logit"],
            "p_slow": torch.sigmoid(out["logit"]),
            "mobility_pred": out["mobility_pred"],
            **self.passthrough(batch),
        }
        for k in ("mask", "batch"):
            v = get_field(batch, k)
            if v is not None:
                res[k] = v
        return res

    def outputs(self, target: str = "ln_tau_lc") -> tuple[Output, ...]:
        """The heads with a positive task weight: ``<target>_pred``; ``logit`` (the slow/fast score) and
        ``p_slow``; ``mobility_pred``."""
        out: list[Output] = []
        if self.task_weights["y"] > 0:
            out.append(regression_output(target))
        if self.task_weights["cls"] > 0:
            out += [
                Output("logit", "logit", SCORE, label="slow/fast logit", summary=(("p_slow_pred", "positive_fraction"),)),
                Output("p_slow", "p_slow", PROBABILITY, summary=(("p_slow_mean", "mean"),)),
            ]
        if self.task_weights["mobility"] > 0:
            out.append(Output("mobility_pred", "mobility_pred", MOBILITY))
        return tuple(out)

    def feature_scaler(self) -> tuple[Tensor, Tensor] | None:
        return (self.x_mean, self.x_scale) if self.x_mean.numel() else None

    # ------------------------------------------------------------ statistics
    def on_train_start(self) -> None:
        if not bool(self.stats_ready):
            self.fit_statistics(self.trainer.train_dataloader)

    @torch.no_grad()
    def fit_statistics(self, loader: Any) -> None:
        """One pass over ``loader``: standardisation of x, y, mobility and pos_weight."""
        acc: dict[str, tuple[Tensor, Tensor, Tensor]] = {}

        def add(name: str, v: Tensor) -> None:
            v = v.detach().to(torch.float64).cpu()
            cnt = torch.tensor(float(v.shape[0]), dtype=torch.float64)
            vals = (cnt, v.sum(0), (v * v).sum(0))
            if name in acc:
                a = acc[name]
                acc[name] = (a[0] + vals[0], a[1] + vals[1], a[2] + vals[2])
            else:
                acc[name] = vals

        n_cls = torch.zeros(2, dtype=torch.float64)
        for batch in loader:
            mask = self.node_mask(batch).cpu()
            if self.x_mean.numel():
                x = get_field(batch, "x")
                if x is None:
                    raise KeyError(f"{type(self).__name__} built with n_features={self.x_mean.numel()} but the batch has no 'x'")
                x = x.cpu()
                add("x", x[torch.isfinite(x).all(1)])
            for t in ("y", "mobility"):
                v = get_field(batch, t)
                if v is not None:
                    v = v.cpu().float()
                    add(t, v[mask & torch.isfinite(v)])
            c = get_field(batch, "cls")
            if c is not None:
                c = c.cpu()[mask]
                n_cls += torch.stack([(c == 0).sum(), (c == 1).sum()]).to(torch.float64)

        def mean_std(name: str) -> tuple[Tensor, Tensor] | None:
            if name not in acc or float(acc[name][0]) < 1:
                return None
            n, s1, s2 = acc[name]
            mean = s1 / n
            std = torch.sqrt(torch.clamp(s2 / n - mean * mean, min=0.0))
            return mean, torch.where(std > 1e-8, std, torch.ones_like(std))

        for name, (mb, sb) in {
            "x": (self.x_mean, self.x_scale),
            "y": (self.y_mean, self.y_scale),
            "mobility": (self.mobility_mean, self.mobility_scale),
        }.items():
            ms = mean_std(name)
            if ms is not None:
                mb.copy_(ms[0].to(mb))
                sb.copy_(ms[1].to(sb))
        if n_cls.min() > 0:
            self.pos_weight.fill_(float(n_cls[0] / n_cls[1]))
        self.stats_ready.fill_(True)
        log.info(
            "%s: target stats y=%.3g+-%.3g, mobility=%.3g+-%.3g, pos_weight=%.3g",
            type(self).__name__,
            float(self.y_mean),
            float(self.y_scale),
            float(self.mobility_mean),
            float(self.mobility_scale),
            float(self.pos_weight),
        )

    # ------------------------------------------------------------ optimiser
    def configure_optimizers(self) -> Any:
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        sched = self.hparams.scheduler
        if sched == "cosine":
            t_max = self.trainer.max_epochs if self.trainer is not None else None
            if not t_max or t_max < 1:
                return opt
            return {
                "optimizer": opt,
                "lr_scheduler": {
                    "scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t_max, eta_min=self.hparams.lr * 1e-2),
                    "interval": "epoch",
                },
            }
        if sched == "plateau":
            return {
                "optimizer": opt,
                "lr_scheduler": {
                    "scheduler": torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode=self.monitor_mode, factor=0.5, patience=5),
                    "monitor": self.monitor,
                    "interval": "epoch",
                },
            }
        return opt
