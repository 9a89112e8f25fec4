"""What every Hydra entry point shares.

:func:`hydra_entry` is the one way taulc starts a Hydra application:

* ``--version`` prints taulc's version (and Hydra's) and exits, before Hydra parses the line;
* the OmegaConf resolvers the root configs use are registered (:func:`register_resolvers`):
  ``taulc_claim`` (a run directory claimed atomically, so two runs started in the same second
  never share one, :func:`taulc.runs.claim_new_dir`) and ``taulc_groups`` (the config groups
  *this* script composes, with their options, for ``--help``);
* logging cooperates with tqdm progress bars (:func:`taulc.utils.install_tqdm_logging`).

The console scripts themselves are in :mod:`taulc.cli`.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import platform
import sys
from collections.abc import Callable
from typing import Any

from omegaconf import OmegaConf

from taulc import __version__
from taulc.paths import conf_dir
from taulc.runs import claim_new_dir
from taulc.utils import available_cores, default_threads, install_tqdm_logging

__all__ = [
    "hydra_entry",
    "register_resolvers",
    "version_text",
    "add_version_flag",
    "thread_policy",
]


def version_text(prog: str) -> str:
    """``<prog> (taulc X.Y.Z; hydra-core A.B.C; python P)``."""

    try:
        import hydra

        hv = f"; hydra-core {hydra.__version__}"
    except ImportError:  # pragma: no cover - hydra is a dependency
        hv = ""
    return f"{prog} (taulc {__version__}{hv}; python {platform.python_version()})"


def add_version_flag(parser: Any, prog: str) -> None:
    """``--version`` on an argparse command (the text is computed only when asked for)."""

    class _Version(argparse.Action):
        def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
            print(version_text(prog))  # the requested output
            parser.exit()

    parser.add_argument("--version", nargs=0, action=_Version, help="print the taulc version and exit")


def _groups_help(*, _root_: Any) -> str:
    """The ``--help`` block listing the config groups this script composes and each group's options."""

    try:
        choices = dict(_root_.hydra.runtime.choices)
    except Exception:  # noqa: BLE001 - outside Hydra (no runtime node)
        return ""
    root = conf_dir()
    lines = []
    for group in sorted(k for k in choices if not k.startswith("hydra")):
        opts = sorted(p.stem for p in (root / group).glob("*.yaml") if not p.stem.startswith("_"))
        chosen = choices[group]
        lines.append(f"{group}: {', '.join(opts)}  (default: {chosen if chosen is not None else 'none'})")
    lines.append(f"(options are the files {root}/<group>/<option>.yaml)")
    return "\n".join(lines)


def _claim(base: str) -> str:
    return str(claim_new_dir(base))


def register_resolvers() -> None:
    """Register ``taulc_claim`` and ``taulc_groups`` with OmegaConf (idempotent)."""

    if not OmegaConf.has_resolver("taulc_claim"):
        OmegaConf.register_new_resolver("taulc_claim", _claim, use_cache=True)
    if not OmegaConf.has_resolver("taulc_groups"):
        OmegaConf.register_new_resolver("taulc_groups", _groups_help)


def thread_policy() -> int | None:
    """Share the cores among the processes of a local parallel sweep (``-m hydra/launcher=joblib``).

    Each job of a joblib sweep with ``n_jobs`` processes gets ``OMP_NUM_THREADS = cores // n_jobs``
    (at least 1), read by LAMMPS (:func:`taulc.utils.default_threads`) and torch, so the processes do
    not oversubscribe the CPU (two 2-thread LAMMPS processes on 2 cores spin: issue 24 measured an
    equilibration 10x slower). An ``OMP_NUM_THREADS`` set by the user wins. Returns the value set or None.
    """

    if os.environ.get("OMP_NUM_THREADS"):
        return None
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        hc = HydraConfig.get()
        launcher = str(hc.runtime.choices.get("hydra/launcher") or "")
        if hc.mode != RunMode.MULTIRUN or not launcher.startswith("joblib"):
            return None
        n_jobs = int(hc.launcher.get("n_jobs") or -1)
    except Exception:  # noqa: BLE001 - not under Hydra, or a launcher without n_jobs
        return None

    cores = available_cores()
    n = default_threads(min(cores, n_jobs if n_jobs > 0 else cores))
    os.environ["OMP_NUM_THREADS"] = str(n)

    logging.getLogger("taulc").info("joblib sweep (n_jobs=%s on %d cores): %d OpenMP thread(s) per process", n_jobs, cores, n)
    return n


def hydra_entry(task: Callable[[Any], Any], config_name: str, prog: str) -> Any:
    """Run ``task`` as a Hydra application on ``<conf_dir>/<config_name>.yaml`` (the command line is ``sys.argv``).

    The job name (``train`` -> ``train.log``) is set by ``hydra.job.name`` in each root config, so it does
    not depend on how the script was started (``python train.py``, ``taulc-train``, ``python -m``).
    """
    if "--version" in sys.argv[1:]:
        print(version_text(prog))  # the requested output
        raise SystemExit(0)

    import hydra

    @functools.wraps(task)
    def _task(cfg: Any) -> Any:
        install_tqdm_logging()  # after Hydra configured logging: console lines go through tqdm.write
        thread_policy()
        return task(cfg)

    register_resolvers()
    return hydra.main(config_path=str(conf_dir()), config_name=config_name, version_base="1.3")(_task)()
