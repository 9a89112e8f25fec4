"""What every report section gets (:class:`ReportInputs`) and how the driver lists it (:class:`Section`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from taulc.analysis.context import AnalysisSpec, DatasetContext
from taulc.analysis.plotting import RatePalette
from taulc.analysis.runs_index import RunInfo
from taulc.analysis.writer import ReportWriter

__all__ = ["ReportInputs", "Section"]


@dataclass(frozen=True)
class ReportInputs:
    """The dataset, the runs and the ``analysis`` config shared by all sections of one report.

    ``base_cfg`` is the config that names the dataset and descriptor (``evaluate``'s own when it gives
    ``dataset=``, else the first run's); ``acfg`` is the typed ``analysis`` node."""

    ctx: DatasetContext
    runs: Sequence[RunInfo]
    base_cfg: Mapping[str, Any]
    acfg: AnalysisSpec
    pal: RatePalette


@dataclass(frozen=True)
class Section:
    """One report section: ``write(rep, inputs)`` returns False when its inputs are missing (nothing written);
    the driver then lists ``why`` under "Skipped"."""

    name: str
    write: Callable[[ReportWriter, ReportInputs], bool]
    why: str = ""
