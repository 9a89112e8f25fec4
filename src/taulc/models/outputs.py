"""Declared per-particle outputs: what a model predicts, under which ``predict_step`` key, for which task.

A model lists its outputs in :meth:`taulc.models.base.TaulcModule.outputs`; training (test metrics and
the honest-skill tables), the predictor bundle (display range, training score range), ``taulc-predict``
(columns, frame summary, maps) and the report read the task from this declaration, never from key names.
Tasks:

``regression``            the regression target (ln τ_LC by default): regression metrics, ``skill.regression``,
                          the parity plot;
``classification-score``  a slow/fast score, > 0 = predicted slow (the SVM hardness H of Yu, Zeng & Wang 2025,
                          Sec. IV.B, or a logit): classification metrics, ``skill.hardness``, diverging maps;
``mobility``              the mobility: mobility metrics;
``class``                 the predicted class (1 = slow, 0 = fast);
``probability``           the predicted probability of slow.

Light on purpose (numpy only): training and the predictor import it without Lightning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = [
    "REGRESSION",
    "SCORE",
    "MOBILITY",
    "CLASS",
    "PROBABILITY",
    "TASKS",
    "STATISTICS",
    "Output",
    "regression_output",
    "first_output",
    "score_output",
    "outputs_record",
    "check_outputs",
]

REGRESSION = "regression"
SCORE = "classification-score"
MOBILITY = "mobility"
CLASS = "class"
PROBABILITY = "probability"
TASKS: tuple[str, ...] = (REGRESSION, SCORE, MOBILITY, CLASS, PROBABILITY)

#: frame-summary statistics an output may ask for (``taulc-predict``'s CSV row per frame)
STATISTICS: dict[str, Callable[[np.ndarray], float]] = {
    "mean": lambda v: float(np.mean(v)),
    "std": lambda v: float(np.std(v)),
    "positive_fraction": lambda v: float(np.mean(v > 0)),
}


@dataclass(frozen=True)
class Output:
    """One per-particle output of a model.

    Args:
        name: the column ``taulc-predict`` writes (``H``, ``ln_tau_lc_pred``, ``logit``, ...).
        key: the ``predict_step`` key it is read from (also its name in ``test_predictions.npz``).
        task: one of :data:`TASKS`.
        label: what the value is, for colour bars and the training summary (default: from ``name``).
        summary: frame-summary columns ``(column, statistic)``, statistic a key of :data:`STATISTICS`
            (default: ``<name>_mean`` and ``<name>_std`` for regression and mobility outputs, none otherwise).
    """

    name: str
    key: str
    task: str
    label: str = ""
    summary: tuple[tuple[str, str], ...] | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"output {self.name!r}: task must be one of {TASKS}, got {self.task!r}")
        if not self.name or not self.key:
            raise ValueError(f"an output needs a name and a predict_step key, got {self.name!r} / {self.key!r}")
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_pred", " (predicted)"))
        if self.summary is None:
            default = ((f"{self.name}_mean", "mean"), (f"{self.name}_std", "std")) if self.task in (REGRESSION, MOBILITY) else ()
            object.__setattr__(self, "summary", default)
        bad = [s for _, s in self.summary if s not in STATISTICS]
        if bad:
            raise ValueError(f"output {self.name!r}: unknown summary statistics {bad}; known: {sorted(STATISTICS)}")

    def summarize(self, values: np.ndarray) -> dict[str, float]:
        """The frame-summary columns of this output's per-particle ``values``."""
        return {column: STATISTICS[stat](values) for column, stat in self.summary}


def regression_output(target: str, key: str = "y_pred") -> Output:
    """The usual regression output: ``<target>_pred`` read from ``predict_step``'s ``key``."""
    return Output(f"{target}_pred", key, REGRESSION)


def first_output(outputs: Iterable[Output], task: str) -> Output | None:
    """The first declared output of ``task`` (None when the model declares none)."""
    return next((o for o in outputs if o.task == task), None)


def score_output(outputs: Iterable[Output]) -> Output:
    """The output shown in maps and checked against the training range: the first classification score,
    else the first output."""
    outs = tuple(outputs)
    if not outs:
        raise ValueError("a model must declare at least one output")
    return first_output(outs, SCORE) or outs[0]


def outputs_record(outputs: Iterable[Output]) -> list[dict[str, Any]]:
    """Plain-JSON form of the declaration (``metrics.json`` ``outputs``): readers of a run find its keys there."""
    return [{k: (list(map(list, v)) if k == "summary" else v) for k, v in asdict(o).items()} for o in outputs]


def check_outputs(outputs: Iterable[Output], predicted: Mapping[str, Any] | None = None) -> list[str]:
    """Problems of a declaration: duplicate names, and keys missing from one ``predict_step`` result."""
    outs = tuple(outputs)
    problems = []
    names = [o.name for o in outs]
    if len(set(names)) != len(names):
        problems.append(f"duplicate output names {names}")
    if not outs:
        problems.append("no outputs declared")
    if predicted is not None:
        problems += [f"output {o.name!r}: predict_step returned no key {o.key!r}" for o in outs if o.key not in predicted]
    return problems
