"""Griffe extension for the API pages: taulc's docstrings use reST roles and literals.

A role such as ``:func:`featurize``` becomes the code span ```featurize```, a double-backtick
literal becomes a single-backtick one, and a paragraph ending in ``::`` keeps one ``:`` (the
indented block after it is already a Markdown code block). Only the rendering changes.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|obj|exc|const|paramref|ref|eq|math):`~?([^`]+)`")
_LITERAL = re.compile(r"``([^`]+?)``")
_DOUBLE_COLON = re.compile(r"(\S)::$", re.MULTILINE)


def rst_to_markdown(text: str) -> str:
    """Rewrite the reST constructs used in taulc docstrings as Markdown."""
    text = _ROLE.sub(r"`\1`", text)
    text = _LITERAL.sub(r"`\1`", text)
    return _DOUBLE_COLON.sub(r"\1:", text)


class RstRoles(griffe.Extension):
    """Apply :func:`rst_to_markdown` to every docstring before it is parsed."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
