"""taulc: structure -> dynamics learning for sheared supercooled liquids.

Importing the package loads the MPI library shipped by the ``mpich`` wheel so
that LAMMPS works with no environment variables (see :mod:`taulc._mpi`).
"""

from __future__ import annotations

from taulc._mpi import load_mpi

__version__ = "0.1.0"

load_mpi()

__all__ = ["__version__"]
