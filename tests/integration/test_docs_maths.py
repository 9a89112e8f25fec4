"""The docs render physics (issue 24): maths through ``pymdownx.arithmatex`` (generic mode) typeset by
the KaTeX copy shipped in docs/javascripts/katex/, nested lists indented so that they nest, and wide
tables that scroll.

The physics pages are rendered here with the Markdown extensions of mkdocs.yml (Python-Markdown, as
``mkdocs build`` does; a second or two, no site build): every ``\\(...\\)``/``\\[...\\]`` must sit inside an
``arithmatex`` element (what KaTeX typesets), no ``$...$`` may be left as text, and no Unicode symbol with
a literal underscore (``σ_i,xy``) may be left in the prose of the rheology page. CI's ``mkdocs build
--strict`` builds the same pages.
"""

from __future__ import annotations

import re

import pytest
import yaml

from tests.helpers import REPO

DOCS = REPO / "docs"
PHYSICS = [
    "rheology.md",
    "clusters.md",
    "inherent-states.md",
    "honest-skill.md",
    "label-quality.md",
    "concepts/descriptors.md",
    "concepts/ice-labels.md",
    "concepts/shear-geometry.md",
]


def mkdocs_config() -> dict:
    class _Loader(yaml.SafeLoader):
        pass

    _Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    return yaml.load((REPO / "mkdocs.yml").read_text(), Loader=_Loader)


def render(page: str) -> str:
    import markdown

    exts, configs = [], {}
    for e in mkdocs_config()["markdown_extensions"]:
        name, conf = next(iter(e.items())) if isinstance(e, dict) else (e, None)
        if name == "pymdownx.snippets":
            continue  # reads files relative to the repository; not needed for maths
        exts.append(name)
        if conf:
            configs[name] = conf
    return markdown.Markdown(extensions=exts, extension_configs=configs).convert((DOCS / page).read_text(encoding="utf-8"))


def _without(html: str, pattern: str) -> str:
    return re.sub(pattern, " ", html, flags=re.DOTALL)


def test_arithmatex_and_katex_are_configured() -> None:
    cfg = mkdocs_config()
    exts = {
        next(iter(e)) if isinstance(e, dict) else e: (e[next(iter(e))] if isinstance(e, dict) else None)
        for e in cfg["markdown_extensions"]
    }
    assert exts.get("pymdownx.arithmatex") == {"generic": True}
    for path in [*cfg["extra_javascript"], *cfg["extra_css"]]:
        assert (DOCS / path).is_file(), f"{path} is not shipped: the site must build and read offline (no CDN)"
        assert not str(path).startswith(("http:", "https:", "//"))
    assert any("katex.min.js" in p for p in cfg["extra_javascript"]) and any("katex.min.css" in p for p in cfg["extra_css"])
    init = (DOCS / "javascripts" / "katex-init.js").read_text()
    assert "renderMathInElement" in init and ".arithmatex" in init
    fonts = {m for m in re.findall(r"url\((fonts/[^)]+)\)", (DOCS / "javascripts/katex/katex.min.css").read_text())}
    assert fonts and all((DOCS / "javascripts" / "katex" / f).is_file() for f in fonts)  # every font the CSS asks for


@pytest.mark.parametrize("page", PHYSICS)
def test_maths_is_left_only_to_katex(page: str) -> None:
    html = render(page)
    n_math = len(re.findall(r'class="arithmatex"', html))
    assert n_math >= 3, f"{page}: {n_math} maths elements; the equations are written as maths"
    text = _without(html, r"<(pre|code)\b.*?</\1>")  # code is not maths
    text = _without(text, r'<(span|div) class="arithmatex">.*?</\1>')  # what KaTeX typesets
    assert "\\(" not in text and "\\[" not in text, f"{page}: maths delimiters outside an arithmatex element"
    left = re.findall(r"\$[^$\s][^$]*\$", text)
    assert not left, f"{page}: unrendered $...$: {left[:5]}"


def test_rheology_prose_has_no_literal_underscore_symbols() -> None:
    html = render("rheology.md")
    assert len(re.findall(r'class="arithmatex"', html)) >= 80
    text = _without(html, r"<(pre|code)\b.*?</\1>")
    text = _without(text, r'<(span|div) class="arithmatex">.*?</\1>')
    text = _without(text, r"<h\d.*?</h\d>")  # headings stay plain text (the table of contents)
    left = re.findall(r"[α-ωΑ-Ω][̄̇]?_[\w,]+", text)
    assert not left, f"Unicode symbols with literal underscores: {left[:10]}"


_ITEM = re.compile(r"^( {1,3})([-*+]|\d+\.) ")


def test_nested_lists_are_indented_by_four_spaces() -> None:
    """Python-Markdown nests a list only under 4 spaces of indentation; 2 render flat (issue 24)."""
    bad = []
    for page in sorted(DOCS.rglob("*.md")):
        fence = False
        for i, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith(("```", "~~~")):
                fence = not fence
            elif not fence and _ITEM.match(line):
                prev = [ln for ln in page.read_text(encoding="utf-8").splitlines()[: i - 1] if ln.strip()]
                if prev and re.match(r"^\s*([-*+]|\d+\.) |^\s{2,}\S", prev[-1]):
                    bad.append(f"{page.relative_to(REPO)}:{i}")
    assert not bad, f"nested list items indented by fewer than 4 spaces: {bad}"
    html = render("rheology.md")
    assert re.search(r"<li>.*?<ul>\s*<li>", html, re.DOTALL)  # the nested items nest


def test_wide_tables_scroll() -> None:
    css = (DOCS / "stylesheets" / "extra.css").read_text()
    assert re.search(r"\.md-typeset__scrollwrap\s*\{[^}]*overflow-x:\s*auto", css)
    assert "stylesheets/extra.css" in mkdocs_config()["extra_css"]


def test_one_nav_entry_per_page() -> None:
    def leaves(node):
        if isinstance(node, list):
            for x in node:
                yield from leaves(x)
        elif isinstance(node, dict):
            for v in node.values():
                yield from leaves(v)
        else:
            yield node

    pages = list(leaves(mkdocs_config()["nav"]))
    assert len(pages) == len(set(pages))
    titles = [k for x in _walk_titles(mkdocs_config()["nav"]) for k in [x]]
    gpu = [t for t in titles if "GPU" in t]
    assert len(gpu) == 2 and len({t.split("(")[0].strip() for t in gpu}) == 2, gpu  # how-to and engine reference


def _walk_titles(node):
    if isinstance(node, list):
        for x in node:
            yield from _walk_titles(x)
    elif isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, str):
                yield k
            else:
                yield from _walk_titles(v)
