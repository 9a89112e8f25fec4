"""Local links of README.md and docs/: every relative link and image resolves, anchors included.

MkDocs --strict checks the links between pages of the site, but not README.md, which the site
does not contain; this test covers both without needing the docs extra. It also holds the README
to its size and the docs/source tree to citing papers by authors, year and title.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from tests.helpers import REPO

DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


def slugify(text: str) -> str:
    """Heading id as Python-Markdown's toc extension makes it (the MkDocs default)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link in a heading keeps its text
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def prose(text: str) -> str:
    """Markdown without fenced blocks and inline code (their brackets are not links)."""
    return _CODE.sub("", _FENCE.sub("", text))


_ATTR_ID = re.compile(r"\s*\{:?\s*#([\w-]+)\s*\}\s*$")


def heading_id(text: str) -> str:
    """A heading's id: an attr_list ``{#id}`` when given, else the toc slug."""
    m = _ATTR_ID.search(text)
    return m.group(1) if m else slugify(text)


def anchors(page: Path) -> set[str]:
    return {heading_id(m.group(2)) for m in _HEADING.finditer(_FENCE.sub("", page.read_text(encoding="utf-8")))}


def local_links(page: Path) -> list[str]:
    out = []
    for target in _LINK.findall(prose(page.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("//"):
            continue  # http:, https:, mailto: ... are not checked offline
        out.append(target)
    return out


def test_slugify_matches_mkdocs_ids() -> None:
    assert (
        slugify("How the shear is implemented, and the traps it avoids") == "how-the-shear-is-implemented-and-the-traps-it-avoids"
    )
    assert slugify("Dynamics labels (τ_LC, τ_sh, fast/slow, mobility)") == "dynamics-labels-_lc-_sh-fastslow-mobility"
    assert slugify("`taulc.md` engine (owner: md)") == "taulcmd-engine-owner-md"
    assert heading_id("Measured beyond the demo: R = 64 {#beyond-the-demo}") == "beyond-the-demo"


def test_link_checker_sees_a_broken_link(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("# Title\n\n[ok](#title) [bad](missing.md) `[code](not-a-link.md)`\n\n```\n[x](nor-this.md)\n```\n")
    assert local_links(page) == ["#title", "missing.md"]
    assert anchors(page) == {"title"}


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO)) for p in PAGES])
def test_local_links_resolve(page: Path) -> None:
    broken = []
    for target in local_links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: {dest} does not exist")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading with id '{anchor}' in {dest.relative_to(REPO)}")
    assert not broken, f"{page.relative_to(REPO)}: " + "; ".join(broken)


def test_readme_is_an_overview() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    for cmd in (
        "pip install torch==2.13.0 -e . && python train.py model=svm",
        'pip install torch==2.13.0 -e ".[test]" && python -m pytest -q',
    ):
        assert cmd in text, f"README lost the quickstart command {cmd!r}"


def test_papers_cited_by_authors_not_file_names() -> None:
    """Users do not have the project's internal paper files: no 'seed 00x' or file-name citations."""
    bad = re.compile(r"\bseeds? 0\d\d\b|\b0\d\d_[0-9a-f]{16}\b|DESIGN\.md|docs/readme/", re.IGNORECASE)
    files = [
        *PAGES,
        *(REPO / "src" / "taulc" / "conf").rglob("*.yaml"),
        *(f for d in ("src", "tests", "bench") for f in (REPO / d).rglob("*.py") if f != Path(__file__)),
    ]
    hits = [
        f"{f.relative_to(REPO)}:{i}"
        for f in files
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
        if bad.search(line)
    ]
    assert not hits, "cite papers by authors, year and title: " + ", ".join(hits)
