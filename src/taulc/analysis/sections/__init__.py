"""The sections of the evaluation report, one module each, in report order (:data:`SECTIONS`).

Every section is a :class:`~taulc.analysis.sections.base.Section`: ``write(rep, inputs) -> bool`` with a
:class:`~taulc.analysis.writer.ReportWriter` and the shared
:class:`~taulc.analysis.sections.base.ReportInputs`; it returns False when the runs it needs are missing,
and the driver (:func:`taulc.analysis.report.evaluate`) lists ``why`` in the report's "Skipped" section.
Adding a section = one module with a ``write`` function and one entry here.
"""

from __future__ import annotations

from taulc.analysis.sections import clusters, dynamics, gnn, hardness, importance, parity, rheology
from taulc.analysis.sections.base import ReportInputs, Section
from taulc.runs.files import LATEST

__all__ = ["SECTIONS", "ReportInputs", "Section"]


SECTIONS: tuple[Section, ...] = (
    Section("dynamics", dynamics.write),
    Section("hardness", hardness.write, f"no LinearSVM run (report role 'hardness') given (add runs=[runs/svm/{LATEST}])"),
    Section(
        "parity",
        parity.write,
        "no regression run (ridge, or GNN/MLP with y_pred: report role 'regression') given; the report "
        f"trains no model itself (add runs=[runs/ridge/{LATEST}])",
    ),
    Section("importance", importance.write),
    Section("gnn", gnn.write, f"no ParticleGNN run (report role 'attribution') given (add runs=[runs/gnn/{LATEST}])"),
    Section("clusters", clusters.write),
    Section("rheology", rheology.write),
)
