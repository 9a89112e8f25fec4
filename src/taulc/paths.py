"""Where taulc finds its Hydra configs and its data root.

The configs live in the repository's top-level ``conf/`` (an editable install,
the supported way to use taulc).  ``TAULC_CONF`` is *not* needed; it is only
honoured as an override for unusual installs.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
"""Repository root (``src/taulc/paths.py`` -> two levels up from ``src``)."""


def conf_dir() -> Path:
    """Absolute path of the Hydra config directory."""
    override = os.environ.get("TAULC_CONF")
    path = Path(override) if override else REPO_ROOT / "conf"
    if not (path / "system").is_dir():
        raise FileNotFoundError(
            f"taulc's Hydra configs were not found at {path}; install taulc from its "
            "repository with `pip install -e .` so that conf/ sits next to src/"
        )
    return path


def default_data_root() -> Path:
    """``datasets/`` at the repository root."""
    return REPO_ROOT / "datasets"
