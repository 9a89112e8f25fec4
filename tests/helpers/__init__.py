"""Shared test machinery that is not a fixture: brute-force references, file writers, tiny trained runs.

Fixtures are in tests/conftest.py; the tiny dataset and ``compose`` are package code (:mod:`taulc.testing.data`)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The repository root (the directory holding pyproject.toml, docs/, src/ and tests/)."""


def console_scripts() -> dict[str, str]:
    """``name -> module:function`` from pyproject.toml's [project.scripts] (no TOML parser needed)."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split("[project.scripts]", 1)[1].split("\n[", 1)[0]
    return dict(re.findall(r'^([\w-]+)\s*=\s*"([\w.]+:\w+)"', section, re.MULTILINE))
