"""One exception base for every user-facing refusal, and the command-line handler that turns it into exit code 2.

Every error taulc raises for *bad input* (a configuration file, a config field, a
dataset on disk, a predictor bundle) derives from :class:`TaulcError` and carries a
message that names the file or the field and what was expected.  The entry points
(``taulc-simulate``, ``taulc-build``, ``train.py``, ``evaluate.py``, ``taulc-predict``)
wrap their work in :func:`exit_on_error`: a ``TaulcError`` prints
``<prog>: error: <message>`` on stderr and exits with status 2, without a traceback;
anything else is a bug and keeps its traceback.

Base of the import graph: imports nothing from taulc.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["TaulcError", "ConfigError", "EXIT_USAGE", "exit_on_error"]

EXIT_USAGE = 2
"""Exit status for refused input (as argparse uses for a bad command line)."""


class TaulcError(Exception):
    """Base class of every refusal of user input; the message names the file/field and the expectation."""


class ConfigError(TaulcError, ValueError):
    """A composed config field is missing, out of range or inconsistent (message: ``<field>: ...``)."""


@contextmanager
def exit_on_error(prog: str, cleanup: Callable[[], None] | None = None) -> Iterator[None]:
    """Turn a :class:`TaulcError` into exit status 2 with one ``<prog>: error: <message>`` line on stderr.

    ``cleanup`` (no arguments) runs first, e.g. to remove a run directory that holds nothing yet.
    """
    try:
        yield
    except TaulcError as exc:
        if cleanup is not None:
            cleanup()
        logging.getLogger(prog).debug("refused", exc_info=True)
        print(f"{prog}: error: {exc}", file=sys.stderr)  # the one line the user must read
        sys.stderr.flush()
        raise SystemExit(EXIT_USAGE) from None
