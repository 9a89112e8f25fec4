"""Every ``noqa`` left in ``src/taulc`` says why, after the rule codes (``# noqa: BLE001 - <reason>``).

Rules that fire by design are configured once in ``pyproject.toml`` (``[tool.ruff.lint]``: per-file ignores,
the libraries banned at module level, which PLC0415 then lets be imported lazily); a line-level ``noqa`` is
the exception and carries its reason on the line.
"""

from __future__ import annotations

import re
import tokenize

from tests.helpers import REPO

NOQA = re.compile(r"#\s*noqa\b(?P<rest>.*)$")
WITH_REASON = re.compile(r":\s*[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*\s+-\s+\S.{5,}")


def _noqa_comments() -> list[tuple[str, int, str]]:
    out = []
    for path in sorted((REPO / "src" / "taulc").rglob("*.py")):
        with tokenize.open(path) as fh:
            for tok in tokenize.generate_tokens(fh.readline):
                if tok.type == tokenize.COMMENT and (m := NOQA.search(tok.string)):
                    out.append((str(path.relative_to(REPO)), tok.start[0], m.group("rest")))
    return out


def test_every_noqa_names_its_rules_and_a_reason() -> None:
    found = _noqa_comments()
    assert found, "no noqa comment found at all: the scan is broken"
    bare = [f"{f}:{line}: noqa{rest}" for f, line, rest in found if not WITH_REASON.match(rest)]
    assert not bare, "noqa without '- <reason>' after its codes:\n" + "\n".join(bare)
