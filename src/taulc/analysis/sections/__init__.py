"""The sections of the evaluation report, one module each, in report order (:data:`SECTIONS`).

Every section is a :class:`~taulc.analysis.sections.base.Section`: ``write(rep, inputs) -> bool`` with a
:class:`~taulc.analysis.writer.ReportWriter` and the shared
:class:`~taulc.analysis.sections.base.ReportInputs`; it returns False when the runs it needs are missing,
and the driver (:func:`taulc.analysis.report.evaluate`) lists ``why`` in the report's "Skipped" section.
Adding a section = one module with a ``write`` function and one entry here.
"""

from __future__ import annotations

from taulc.analysis.sections import dynamics, gnn, hardness, importance, parity
from taulc.analysis.sections.base import ReportInputs, Section
from taulc.analysis.writer import ReportWriter

__all__ = ["SECTIONS", "ReportInputs", "Section"]


def _clusters(rep: ReportWriter, inp: ReportInputs) -> bool:
    """Convective clusters of cage jumps (Zeng, Yu & Wang 2025), see :mod:`taulc.analysis.clusters_report`."""
    from taulc.analysis.clusters_report import section_clusters  # noqa: PLC0415

    section_clusters(rep, inp.acfg)
    return True


def _rheology(rep: ReportWriter, inp: ReportInputs) -> bool:
    """Start-up rheology and its models, see :mod:`taulc.analysis.rheology_report`."""
    from taulc.analysis.rheology_report import section_rheology  # noqa: PLC0415

    section_rheology(rep, inp.ctx, inp.pal, inp.acfg)
    return True


SECTIONS: tuple[Section, ...] = (
    Section("dynamics", dynamics.write),
    Section("hardness", hardness.write,
            "no LinearSVM run (report role 'hardness') given (add runs=[runs/svm/latest])"),
    Section("parity", parity.write,
            "no regression run (ridge, or GNN/MLP with y_pred: report role 'regression') given; the report "
            "trains no model itself (add runs=[runs/ridge/latest])"),
    Section("importance", importance.write),
    Section("gnn", gnn.write, "no ParticleGNN run (report role 'attribution') given (add runs=[runs/gnn/latest])"),
    Section("clusters", _clusters),
    Section("rheology", _rheology),
)
