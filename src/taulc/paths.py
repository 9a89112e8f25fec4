"""Where taulc finds its Hydra configs and its data root.

* **Configs** ship inside the package (``taulc/conf/``, i.e. ``src/taulc/conf/`` in the
  repository), so an editable install, a wheel and ``pip install .`` all find them.
  ``TAULC_CONF`` (a directory with the same layout) replaces them for unusual setups;
  to *add* options, prefer Hydra's ``hydra.searchpath=[file:///my/conf]``.
* **Data root** (where ``datasets/<name>/`` live), first that applies: the config key
  ``data_root=...``; the environment variable ``TAULC_DATA_ROOT``; ``datasets/`` of the
  source checkout when taulc is imported from one (an editable install: ``<repo>/datasets``,
  which holds the shipped demo dataset); otherwise ``./datasets`` in the current directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
"""The installed ``taulc`` package directory."""

REPO_ROOT = PACKAGE_DIR.parents[1]
"""Repository root when taulc is imported from a source checkout (``src/taulc`` -> two levels up).
For an installed wheel this is a site-packages parent and means nothing: see :func:`source_checkout`."""


def source_checkout() -> Path | None:
    """The repository root when taulc runs from a source checkout (``<root>/src/taulc`` next to
    ``<root>/pyproject.toml``), else ``None`` (a wheel or ``pip install .``)."""
    if PACKAGE_DIR.parent.name == "src" and (REPO_ROOT / "pyproject.toml").is_file():
        return REPO_ROOT
    return None


def conf_dir() -> Path:
    """Absolute path of the Hydra config directory (``taulc/conf`` inside the package, or ``$TAULC_CONF``)."""
    override = os.environ.get("TAULC_CONF")
    path = Path(override).resolve() if override else PACKAGE_DIR / "conf"
    if not (path / "system").is_dir():
        where = f"TAULC_CONF={override}" if override else "the installed taulc package"
        raise FileNotFoundError(
            f"taulc's Hydra configs were not found at {path} ({where}): expected a directory with "
            "system/, protocol/, model/, ... and train.yaml; unset TAULC_CONF or reinstall taulc"
        )
    return path


def default_data_root() -> Path:
    """The data root when ``data_root`` is not set: ``$TAULC_DATA_ROOT``, else ``<checkout>/datasets``
    for a source checkout, else ``./datasets`` (resolved against the current directory)."""
    env = os.environ.get("TAULC_DATA_ROOT")
    if env:
        return Path(env).expanduser().resolve()
    root = source_checkout()
    if root is not None:
        return root / "datasets"
    return Path.cwd() / "datasets"


def dataset_dir(cfg: Mapping[str, Any]) -> Path:
    """``<data root>/<dataset.name>`` of a composed config (``data_root=`` first, else :func:`default_data_root`)."""
    root = Path(cfg["data_root"]) if cfg.get("data_root") else default_data_root()
    return root / str(cfg["dataset"]["name"])
