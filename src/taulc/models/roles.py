"""Report roles as protocols: what ``evaluate.py`` needs from a run whose model claims a role.

A model lists the roles it can fill in ``report_roles``; the report picks runs by role
(:func:`taulc.analysis.runs_index.pick_run`) and then relies on the members below. A model that
claims a role satisfies its protocol and declares the output the role reads
(:func:`role_problems`, checked for every model by :class:`taulc.testing.ModelContract`).

* ``hardness`` (section 2: hardness maps and p_H vs p_slow, Yu, Zeng & Wang 2025, Figs. 19-20):
  :class:`HardnessModel`, a ``classification-score`` output;
* ``regression`` (section 3: parity, Fig. 17): :class:`RegressionModel`, a ``regression`` output
  (its ``predict_step`` key is the prediction column of ``test_predictions.npz``);
* ``attribution`` (section 4: input attribution on graph batches): :class:`AttributionModel`, a
  ``regression`` output (gradients of its sum) and, when declared, a ``classification-score``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from taulc.models.outputs import REGRESSION, SCORE, Output, first_output

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["HardnessModel", "RegressionModel", "AttributionModel", "ROLES", "ROLE_OUTPUTS", "role_problems"]


@runtime_checkable
class RegressionModel(Protocol):
    """``regression``: declared outputs with a ``regression`` one."""

    def outputs(self, target: str = "ln_tau_lc") -> tuple[Output, ...]: ...


@runtime_checkable
class HardnessModel(Protocol):
    """``hardness``: H of raw descriptor rows, > 0 = slow (the SVM's signed distance to its hyperplane)."""

    def outputs(self, target: str = "ln_tau_lc") -> tuple[Output, ...]: ...

    def hardness(self, x: Tensor) -> Tensor: ...


@runtime_checkable
class AttributionModel(Protocol):
    """``attribution``: a differentiable ``predict_step`` on graph batches, the reach of its edges
    (``cutoff``: the range of the gradient profile) and the descriptor columns per node (0 = none)."""

    cutoff: float
    n_node_features: int

    def outputs(self, target: str = "ln_tau_lc") -> tuple[Output, ...]: ...

    def predict_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> Mapping[str, Tensor]: ...


#: role name -> protocol a model claiming it satisfies
ROLES: dict[str, type] = {"hardness": HardnessModel, "regression": RegressionModel, "attribution": AttributionModel}
#: role name -> the output task it reads
ROLE_OUTPUTS: dict[str, str] = {"hardness": SCORE, "regression": REGRESSION, "attribution": REGRESSION}


def role_problems(model: Any, target: str = "ln_tau_lc") -> list[str]:
    """Why ``model`` cannot fill the roles it claims (empty when it can)."""
    problems = []
    for role in getattr(model, "report_roles", ()):
        proto = ROLES.get(role)
        if proto is None:
            problems.append(f"unknown report role {role!r}; known: {sorted(ROLES)}")
            continue
        if not isinstance(model, proto):
            problems.append(f"role {role!r}: {type(model).__name__} does not satisfy {proto.__name__}")
            continue
        if first_output(model.outputs(target), ROLE_OUTPUTS[role]) is None:
            problems.append(f"role {role!r}: {type(model).__name__} declares no {ROLE_OUTPUTS[role]!r} output")
    return problems
