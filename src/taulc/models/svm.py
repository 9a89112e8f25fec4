"""Linear SVM of slow (solid-like) vs fast (liquid-like) particles and its hardness H, the signed distance to
the hyperplane, > 0 = slow (Yu, Zeng & Wang 2025, Sec. IV.B, Figs. 19-20); solved exactly for a whole C grid
under Lightning (:mod:`taulc.models.linear_base`)."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from taulc.models.base import get_field, plain
from taulc.models.linear_base import ExactLinearModule, as_grid
from taulc.models.metrics import classification_metrics
from taulc.models.outputs import CLASS, SCORE, Output
from taulc.models.registry import register_model

log = logging.getLogger(__name__)

__all__ = ["LinearSVM"]


@register_model
class LinearSVM(ExactLinearModule):
    """Linear SVM for slow (cls=1) vs fast (cls=0) particles; hardness H (Sec. IV.B).

    Solves LinearSVC's default primal objective (L2 penalty, squared hinge)

        min_{w,b} 1/2 ||w||^2 + C sum_i s_i max(0, 1 - y_i (w . z_i + b))^2,

    with ``y = 2 cls - 1``, standardised features ``z``, sample weights
    ``s_i`` (times class weights) and an *unpenalised* intercept ``b``
    (sklearn's LinearSVC penalises ``b`` through ``intercept_scaling``; it
    matches ours for ``intercept_scaling`` -> infinity).

    Solver: generalised Newton method in the primal (the squared hinge is
    C^1 with a piecewise-constant Hessian) with Armijo backtracking; it
    terminates exactly once the active set settles (usually < 15 steps).
    The first pass over the training data gathers per-class moments, from
    which the first Newton step (starting at w = 0, where every sample is
    active) is exact; every later step is one more pass, accumulating the
    gradient and the generalised Hessian ``I + 2C A^T S A`` over active
    samples only, so memory is O(K F^2) for K values of C. Passes read a
    cache of the training batches when it fits in ``cache_bytes``
    (default 2 GB) and otherwise re-iterate the dataloader, so data larger
    than memory work at the cost of one data pass per Newton step. All C
    values are solved simultaneously.

    The hardness is ``H = (w . z + b) / ||w||`` in standardised feature
    space, positive = slow (solid-like); ``p_H`` = fraction with H > 0.

    Args:
        C: one value or a grid (chosen on validation by ``selection``).
        class_weight: ``"balanced"`` (W / (2 W_c) with W_c the summed sample
            weights of class c, as sklearn; the paper uses
            equal numbers of slow and fast particles), ``None``, or a dict
            ``{0: w_fast, 1: w_slow}``.
        selection: ``"within_rate"`` (default: Pearson of H with ln τ_LC for
            ``reference_species`` within each shear rate, averaged over rates -- the
            honest score), ``"balanced_accuracy"``, ``"accuracy"``, ``"roc_auc"`` or
            ``"pearson_h_lntau"`` (pooled).
        reference_species: species scored by ``within_rate`` (0 = big; ``None`` = all).
        tol: relative gradient-norm tolerance; max_iter: Newton steps.
        n_features, standardize, weight_key, monitor, monitor_mode: as
            :class:`RidgeRegressor`.
        target: batch key of ln tau_LC used for the ``pearson_h_*`` metrics.
    """

    default_monitor = "val/pearson_h_lntau_within_rate"
    default_monitor_mode = "max"
    short_name = "svm"
    balance_classes_default = True  # equal slow/fast training particles (paper Sec. IV.B)
    report_roles = ("hardness",)

    def __init__(
        self,
        C: float | Sequence[float] = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0),
        class_weight: str | dict[int, float] | None = "balanced",
        selection: str = "within_rate",
        tol: float = 1e-8,
        max_iter: int = 50,
        n_features: int | None = None,
        standardize: bool = True,
        target: str = "y",
        weight_key: str | None = "weight",
        cache_bytes: float = 2e9,
        monitor: str | None = None,
        monitor_mode: str | None = None,
        reference_species: int | None = 0,
    ) -> None:
        super().__init__(n_features, standardize, cache_bytes, weight_key)
        C = as_grid(plain(C))
        class_weight = plain(class_weight)
        if any(c <= 0 for c in C):
            raise ValueError(f"C must be > 0, got {C}")
        if selection not in ("within_rate", "balanced_accuracy", "accuracy", "roc_auc", "pearson_h_lntau"):
            raise ValueError(f"unknown selection {selection!r}")
        if not (class_weight is None or class_weight == "balanced" or isinstance(class_weight, dict)):
            raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {class_weight!r}")
        self.save_hyperparameters()
        self.Cs = C
        self.register_buffer("C_", torch.tensor(float("nan"), dtype=torch.float64))
        self.register_buffer("class_weight_", torch.ones(2, dtype=torch.float64))

    # ------------------------------------------------------------- data
    def _prepare(self, batch: Any) -> tuple[Tensor, Tensor, Tensor]:
        x = get_field(batch, "x")
        c = get_field(batch, "cls")
        if x is None or c is None:
            raise KeyError("LinearSVM needs batch keys 'x' and 'cls'")
        c = c.reshape(-1).to(torch.float64)
        w = get_field(batch, self._weight_key) if self._weight_key else None
        w = torch.ones_like(c) if w is None else w.to(torch.float64).reshape(-1)
        ok = ((c == 0) | (c == 1)) & torch.isfinite(x).all(1)
        w = torch.where(ok, w, torch.zeros_like(w))
        x = torch.where(ok[:, None], x, torch.zeros_like(x))
        return x, torch.where(ok, c, torch.zeros_like(c)), w

    def _accumulate(self, x: Tensor, t: Tensor, w: Tensor) -> None:
        u = x.to(torch.float64) - self._acc["shift"]
        for c in (0, 1):
            wc = w * (t == c)
            wu = u * wc[:, None]
            self._add(f"n{c}", (wc > 0).sum().to(torch.float64))
            self._add(f"s0_{c}", wc.sum())
            self._add(f"s1_{c}", wu.sum(0))
            self._add(f"s2_{c}", wu.T @ u)

    def _class_weights(self, n0: float, n1: float) -> Tensor:
        cw = self.hparams.class_weight
        if cw is None:
            out = [1.0, 1.0]
        elif cw == "balanced":
            n = n0 + n1
            out = [n / (2 * n0) if n0 else 0.0, n / (2 * n1) if n1 else 0.0]
        else:
            out = [float(cw.get(0, cw.get("0", 1.0))), float(cw.get(1, cw.get("1", 1.0)))]
        return torch.tensor(out, dtype=torch.float64, device=self.mean_.device)

    # ------------------------------------------------------------- solver
    def _solve(self) -> None:
        a = self._acc
        n0, n1 = float(a["n0"]), float(a["n1"])
        if n0 == 0 or n1 == 0:
            raise RuntimeError(f"LinearSVM needs both classes in the training data (fast: {n0:g}, slow: {n1:g})")
        # 'balanced' uses sample-weighted class totals (sklearn >= 1.6 convention)
        self.class_weight_.copy_(self._class_weights(float(a["s0_0"]), float(a["s0_1"])))
        s0 = a["s0_0"] + a["s0_1"]
        s1 = a["s1_0"] + a["s1_1"]
        s2 = a["s2_0"] + a["s2_1"]
        _, m = self._standardisation(s0, s1, s2)
        d = self.scale_
        f = d.numel()
        dev = d.device
        # class-weighted moments of the augmented standardised vectors a = (z, 1)
        gram = torch.zeros(f + 1, f + 1, dtype=torch.float64, device=dev)
        rhs = torch.zeros(f + 1, dtype=torch.float64, device=dev)  # sum s y a
        tot = torch.zeros((), dtype=torch.float64, device=dev)
        for c, y in ((0, -1.0), (1, 1.0)):
            kw = self.class_weight_[c]
            w0, w1, w2 = a[f"s0_{c}"], a[f"s1_{c}"], a[f"s2_{c}"]
            zz = (w2 - torch.outer(w1, m) - torch.outer(m, w1) + w0 * torch.outer(m, m)) / torch.outer(d, d)
            z1 = (w1 - w0 * m) / d
            blk = torch.zeros_like(gram)
            blk[:f, :f] = zz
            blk[:f, f] = z1
            blk[f, :f] = z1
            blk[f, f] = w0
            gram += kw * blk
            rhs += kw * y * torch.cat([z1, w0.reshape(1)])
            tot += kw * w0
        pen = torch.ones(f + 1, dtype=torch.float64, device=dev)
        pen[f] = 0.0
        cs = torch.tensor(self.Cs, dtype=torch.float64, device=dev)
        # Newton step from theta = 0 (all samples active): exact LS-SVM solution
        theta0 = torch.stack([torch.linalg.solve(torch.diag(pen) + 2 * c * gram, 2 * c * rhs) for c in cs], 1)
        g0 = -2 * cs[None, :] * rhs[:, None]  # gradient at 0, (F+1, K)
        obj0 = cs * tot
        self._newton(theta0, g0, obj0, pen)

    def _pass(self, theta: Tensor, todo: Tensor, pen: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Objective, gradient and generalised Hessian at ``theta`` (F+1, K) for ``todo`` columns."""
        f1, k = theta.shape
        cs = torch.tensor(self.Cs, dtype=torch.float64, device=theta.device)
        idx = torch.nonzero(todo).reshape(-1)
        th = theta[:, idx]
        obj = torch.zeros(len(idx), dtype=torch.float64, device=theta.device)
        grad = torch.zeros(f1, len(idx), dtype=torch.float64, device=theta.device)
        hess = torch.zeros(len(idx), f1, f1, dtype=torch.float64, device=theta.device)
        for x, c, w in self._iter_train():
            z = self.standardized(x)
            aug = torch.cat([z, torch.ones_like(z[:, :1])], 1)
            y = 2 * c - 1
            s = w * self.class_weight_[c.long()]
            marg = 1 - y[:, None] * (aug @ th)  # (B, K')
            act = (marg > 0) & (s[:, None] > 0)
            sm = torch.where(act, s[:, None] * marg, torch.zeros_like(marg))
            obj += (sm * marg).sum(0)
            grad -= aug.T @ (sm * y[:, None])
            for j in range(len(idx)):
                sa = torch.where(act[:, j], s, torch.zeros_like(s))
                hess[j] += (aug * sa[:, None]).T @ aug
        cj = cs[idx]
        obj = cj * obj + 0.5 * ((th[:-1]) ** 2).sum(0)
        grad = 2 * cj[None, :] * grad + pen[:, None] * th
        hess = 2 * cj[:, None, None] * hess + torch.diag_embed(pen.expand(len(idx), -1))
        return obj, grad, hess

    def _newton(self, theta0: Tensor, g0: Tensor, obj0: Tensor, pen: Tensor) -> None:
        k = theta0.shape[1]
        dev = theta0.device
        acc = torch.zeros_like(theta0)  # accepted iterate (start: 0)
        obj_acc = obj0.clone()
        gnorm0 = torch.linalg.vector_norm(g0, dim=0).clamp_min(1e-300)
        direction = theta0.clone()
        slope = (g0 * direction).sum(0)
        step = torch.ones(k, dtype=torch.float64, device=dev)
        trial = theta0.clone()
        done = torch.zeros(k, dtype=torch.bool, device=dev)
        jitter = torch.zeros_like(pen)
        jitter[-1] = 1e-10
        n_pass = 0
        for n_pass in range(1, self.hparams.max_iter + 1):  # noqa: B007 - the count is logged after the loop
            todo = ~done
            obj, grad, hess = self._pass(trial, todo, pen)
            for j, i in enumerate(torch.nonzero(todo).reshape(-1).tolist()):
                slack = 1e-13 * obj_acc[i].abs()  # rounding slack near the optimum
                if obj[j] > obj_acc[i] + 1e-4 * step[i] * slope[i] + slack:
                    if step[i] < 1e-10:  # no further decrease possible: keep accepted
                        done[i] = True
                        continue
                    step[i] *= 0.5  # backtrack along the last Newton direction
                else:
                    rel = (obj_acc[i] - obj[j]).abs() / obj[j].abs().clamp_min(1e-300)
                    acc[:, i] = trial[:, i]
                    obj_acc[i] = obj[j]
                    if torch.linalg.vector_norm(grad[:, j]) <= self.hparams.tol * gnorm0[i] or rel < 1e-15:
                        done[i] = True
                        continue
                    direction[:, i] = -torch.linalg.solve(hess[j] + torch.diag(jitter), grad[:, j])
                    slope[i] = grad[:, j] @ direction[:, i]
                    step[i] = 1.0
                trial[:, i] = acc[:, i] + step[i] * direction[:, i]
            if bool(done.all()):
                break
        if not bool(done.all()):
            log.warning(
                "LinearSVM: Newton solver did not converge in %d passes for C=%s",
                self.hparams.max_iter,
                [c for c, d_ in zip(self.Cs, done.tolist()) if not d_],
            )
        log.info("LinearSVM: solved %d value(s) of C in %d Newton passes", k, n_pass)
        self._path = acc
        self._objective = obj_acc

    # ------------------------------------------------------------- selection
    def _path_outputs(self, x: Tensor) -> Tensor:
        """Hardness H for every C of a pending path (B, K), else for the chosen one."""
        z = self.standardized(x)
        if self._path is not None:
            norms = torch.linalg.vector_norm(self._path[:-1], dim=0).clamp_min(1e-300)
            return (z @ self._path[:-1] + self._path[-1]) / norms
        return self.hardness(x)[:, None]

    def _select_without_validation(self) -> int:
        k = int(np.argmin([abs(math.log(c)) for c in self.Cs]))
        if len(self.Cs) > 1:
            log.warning("LinearSVM: several C values but no validation loader; using C=%g", self.Cs[k])
        self.C_.fill_(self.Cs[k])
        return k

    def _select(self, out: np.ndarray, arrays: dict[str, np.ndarray]) -> int:
        sel = self.hparams.selection

        def score(h: np.ndarray) -> float:
            return classification_metrics(arrays["cls"], h, ln_tau=arrays.get("y"))[sel]

        return self._choose(self.Cs, self._path_scores(out, arrays, score), "C", sel, self.C_)

    def selected_hyperparameters(self) -> dict[str, float]:
        return {"C": float(self.C_)}

    def _eval_fields(self, batch: Any) -> dict[str, Tensor | None]:
        f = super()._eval_fields(batch)
        f["y"] = get_field(batch, self.hparams.target)
        return f

    def compute_metrics(self, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        return classification_metrics(
            arrays["cls"],
            arrays["out"],
            ln_tau=arrays.get("y"),
            rate=arrays.get("rate"),
            species=arrays.get("species"),
            reference_species=self.hparams.get("reference_species", 0),
        )

    # ------------------------------------------------------------- inference
    @property
    def weight_norm(self) -> Tensor:
        return torch.linalg.vector_norm(self.coef_std).clamp_min(1e-300)

    def hardness(self, x: Tensor) -> Tensor:
        """H = (w . z + b) / ||w|| in standardised feature space; > 0 = slow."""
        return self.decision_function(x) / self.weight_norm

    def forward(self, x: Tensor) -> Tensor:
        """Hardness H of raw descriptors ``x`` (B, F)."""
        return self.hardness(x)

    def raw_outputs(self, x: Tensor) -> dict[str, Tensor]:
        """``{"hardness", "decision", "cls_pred"}`` (float64; the class int64)."""
        dec = self.decision_function(x)
        return {"hardness": dec / self.weight_norm, "decision": dec, "cls_pred": (dec > 0).long()}

    def outputs(self, target: str = "ln_tau_lc") -> tuple[Output, ...]:
        """Hardness ``H`` (Sec. IV.B) and the predicted class ``slow_pred`` (H > 0)."""
        return (
            Output("H", "hardness", SCORE, label="hardness", summary=(("p_H", "positive_fraction"), ("H_mean", "mean"))),
            Output("slow_pred", "cls_pred", CLASS),
        )

    @classmethod
    def owns_state_dict(cls, keys: set[str]) -> bool:
        return "class_weight_" in keys
