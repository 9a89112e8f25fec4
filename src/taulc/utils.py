"""Small helpers shared by every stage (config conversion, JSON encoding).

Base of the import graph: imports nothing from taulc.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def to_plain(cfg: Any) -> Any:
    """OmegaConf DictConfig/ListConfig -> plain containers (interpolations resolved); others unchanged."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf  # noqa: PLC0415

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


def json_default(o: Any) -> Any:
    """``json.dumps(default=...)`` for numpy scalars/arrays and paths."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
