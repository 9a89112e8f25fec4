"""Atomic file writes and JSON conversion: the one copy every stage uses.

A file is written to a temporary name in the target's directory and renamed into
place with :func:`os.replace`, so a reader sees the old file or the new one, never a
half-written one, and a failed or killed write leaves neither a partial target nor the
temporary file behind (a kill -9 can leave a hidden ``.<name>.*`` temporary, never a
truncated target).  Written files get the permissions a plain ``open`` would give
(0666 minus the umask), not :func:`tempfile.mkstemp`'s 0600.

JSON: :func:`jsonable` turns numpy scalars/arrays, paths, tuples and non-string keys
into plain Python containers; :func:`atomic_write_json` writes them sorted and indented;
:func:`read_json` refuses a missing or malformed file with an error naming it.

Base of the import graph: imports nothing from taulc but :mod:`taulc.errors` and :mod:`taulc.utils`.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from taulc.errors import TaulcError
from taulc.utils import json_default

__all__ = [
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "atomic_write_with",
    "json_text",
    "jsonable",
    "publish",
    "read_json",
    "temp_beside",
]

PathLike = str | os.PathLike[str]


def temp_beside(path: PathLike, suffix: str | None = None) -> Path:
    """Create (closed, empty) a hidden temporary file ``.<name>.*<suffix>`` in ``path``'s directory.

    ``suffix`` defaults to ``path``'s own suffix (libraries such as ``np.savez`` or
    ``DataFrame.to_csv`` pick their format from it), else ``.tmp``.  The directory is
    created if needed.  The caller writes it and then calls :func:`publish` or removes it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=suffix if suffix is not None else (path.suffix or ".tmp"), dir=path.parent
    )
    os.close(fd)
    return Path(tmp)


def publish(tmp: PathLike, path: PathLike) -> None:
    """Rename the finished temporary ``tmp`` onto ``path`` (atomic), with plain-``open`` permissions."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    os.replace(tmp, path)


def atomic_write_with(path: PathLike, writer: Callable[[str], Any]) -> Path:
    """Call ``writer(tmp_path)`` (e.g. ``torch.save``, ``DataFrame.to_csv``), then rename the result onto ``path``.

    If ``writer`` raises (or the process is interrupted), the temporary file is
    removed and ``path`` is left as it was.  Returns ``path``.
    """
    path = Path(path)
    tmp = temp_beside(path)
    try:
        writer(str(tmp))
        publish(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (flushed and fsync'ed before the rename). Returns ``path``."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    return atomic_write_with(path, write)


def atomic_write_text(path: PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode(encoding))


def jsonable(obj: Any, strict: bool = False) -> Any:
    """A copy of ``obj`` built from plain JSON types only (dict with str keys, list, str, int, float, bool, None).

    Mappings -> dicts with ``str`` keys (YAML allows int keys, e.g. species maps),
    tuples/sets/arrays -> lists, numpy scalars -> Python scalars, paths -> str.
    ``strict=True`` also turns NaN/inf into ``None`` (standard JSON has no NaN);
    by default they stay floats, which Python's ``json`` round-trips.

    Raises:
        TypeError: an object with no JSON form (names its type).
    """
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v, strict) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v, strict) for v in obj]
    if isinstance(obj, (np.generic, np.ndarray, Path)):
        return jsonable(json_default(obj), strict)
    if isinstance(obj, float):
        return None if strict and not math.isfinite(obj) else obj
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def json_text(obj: Any, strict: bool = False) -> str:
    """``obj`` as indented JSON with sorted keys and a final newline (see :func:`jsonable` for ``strict``)."""
    return json.dumps(jsonable(obj, strict), indent=2, sort_keys=True, allow_nan=not strict) + "\n"


def atomic_write_json(path: PathLike, obj: Any, strict: bool = False) -> Path:
    """Write ``obj`` as sorted, indented JSON to ``path`` atomically (numpy/path-aware, str keys)."""
    return atomic_write_text(path, json_text(obj, strict))


def read_json(path: PathLike, error: type[TaulcError] = TaulcError) -> Any:
    """Parse the JSON file ``path``; a missing or malformed file raises ``error`` naming the file."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise error(f"{path}: file is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read ({exc})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not valid JSON ({exc})") from exc
