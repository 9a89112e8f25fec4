"""``taulc-evaluate`` / ``python evaluate.py`` / ``python -m taulc.evaluate``: the paper's report for trained runs.

Thin Hydra entry point (``taulc/conf/evaluate.yaml``); the logic lives in :mod:`taulc.analysis.report`.
Writes a report directory (report.md, figures/*.png, tables/*.csv, summary.json) and prints a short summary.
"""

from __future__ import annotations

from typing import Any

from taulc.errors import exit_on_error
from taulc.hydra_app import hydra_entry
from taulc.runs import discard_refused_run

__all__ = ["main"]


def _evaluate(cfg: Any) -> None:
    from hydra.core.hydra_config import HydraConfig

    from taulc.analysis.report import evaluate  # noqa: PLC0415 - lazy: the report loads matplotlib; --help and --version stay fast

    out = HydraConfig.get().runtime.output_dir
    with exit_on_error("evaluate.py", cleanup=lambda: discard_refused_run(out)):  # refused input: exit 2
        evaluate(cfg, output_dir=out)


def main() -> Any:
    """Console entry point; Hydra overrides on the command line (``run=latest``, ``--help``, ``--version``)."""

    return hydra_entry(_evaluate, "evaluate", "taulc-evaluate")


if __name__ == "__main__":
    main()
