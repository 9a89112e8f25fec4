"""Small helpers shared by every stage (config conversion, JSON encoding).

Base of the import graph: imports nothing from taulc.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, ListConfig, OmegaConf
from tqdm import tqdm


def to_plain(cfg: Any) -> Any:
    """OmegaConf DictConfig/ListConfig -> plain containers (interpolations resolved); others unchanged."""
    try:
        if isinstance(cfg, (DictConfig, ListConfig)):
            return OmegaConf.to_container(cfg, resolve=True)
    except ImportError:  # pragma: no cover - omegaconf is a dependency
        pass
    return cfg


def str_keys(obj: Any) -> Any:
    """Recursively turn mapping keys into strings (YAML allows int keys, e.g. species maps)."""
    if isinstance(obj, Mapping):
        return {str(k): str_keys(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [str_keys(v) for v in obj]
    return obj


def fmt(x: Any) -> str:
    """A number for people: finite floats with 3 decimals, everything else as ``str`` (``nan``, ints, names)."""
    return f"{x:.3f}" if isinstance(x, float) and math.isfinite(x) else str(x)


def json_default(o: Any) -> Any:
    """``json.dumps(default=...)`` for numpy scalars/arrays and paths."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


class TqdmLoggingHandler(logging.StreamHandler):
    """A console handler that writes through ``tqdm.write``: a log line clears the active progress
    bars, is printed on its own line, and the bars are redrawn below it (no garbled lines)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=self.stream)
            self.flush()
        except RecursionError:  # pragma: no cover - as logging.StreamHandler
            raise
        except Exception:  # noqa: BLE001 - logging must not raise
            self.handleError(record)


def install_tqdm_logging(logger: logging.Logger | None = None) -> int:
    """Route ``logger``'s console handlers (default: the root logger's) through :class:`TqdmLoggingHandler`.

    Each plain :class:`logging.StreamHandler` writing to stdout/stderr (file handlers are left alone) is
    replaced by one with the same stream, level, formatter and filters. Idempotent; returns the number
    replaced. The Hydra entry points call it after Hydra has configured logging
    (:func:`taulc.hydra_app.hydra_entry`), the argparse commands after ``logging.basicConfig``.
    """
    lg = logger if logger is not None else logging.getLogger()
    consoles = (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)
    n = 0
    for i, h in enumerate(list(lg.handlers)):
        if type(h) is logging.StreamHandler and getattr(h, "stream", None) in consoles:
            new = TqdmLoggingHandler(h.stream)
            new.setLevel(h.level)
            new.setFormatter(h.formatter)
            for f in h.filters:
                new.addFilter(f)
            lg.handlers[i] = new
            n += 1
    return n


def available_cores() -> int:
    """CPU cores this process may run on (``os.sched_getaffinity``: respects taskset, cgroups, SLURM)."""

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS
        return os.cpu_count() or 1


def default_threads(parallel_processes: int = 1) -> int:
    """OpenMP threads per process that do not oversubscribe the CPU.

    ``available cores // parallel_processes`` (at least 1), where the available cores are the ones this
    process may run on (``os.sched_getaffinity``, so a SLURM/cgroup allocation is respected) and
    ``OMP_NUM_THREADS``, when set, caps the answer. With ``parallel_processes > 1`` (a joblib or
    submitit sweep, MPI ranks) every process gets its share; two busy LAMMPS processes with two
    threads each on two cores spin instead of computing (equilibration ~10x slower, issue 24).
    """

    n = max(1, available_cores() // max(1, int(parallel_processes)))
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        n = min(n, int(env))
    return n
