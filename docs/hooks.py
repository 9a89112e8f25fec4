"""MkDocs hooks: generate the configuration reference from ``src/taulc/conf/`` at build time.

``docs/reference/configs.md`` contains the marker ``<!-- conf-groups -->``; it is replaced by
one section per Hydra root config and config group, listing every option with the comment
lines at the top of its YAML file. Generated, so it cannot drift from ``src/taulc/conf/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MARKER = "<!-- conf-groups -->"
CONF = Path(__file__).resolve().parents[1] / "src" / "taulc" / "conf"


def _header(path: Path) -> str:
    """The leading comment block of a YAML file, as one line ('' if none)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if not s.startswith("#"):
            break
        text = s.lstrip("#").strip()
        if text and not text.startswith("@package"):
            lines.append(text)
    return " ".join(lines).replace("|", "\\|")


def conf_reference(conf: Path = CONF) -> str:
    """Markdown for the root configs and every group under ``conf``."""
    out = ["## Root configs", "", "| file | what it composes |", "|---|---|"]
    out += [f"| `src/taulc/conf/{p.name}` | {_header(p)} |" for p in sorted(conf.glob("*.yaml"))]
    out += ["", "`hydra/help/taulc.yaml` is the `--help` text of every command (it lists only the command's own groups)."]
    for group in sorted(d for d in conf.iterdir() if d.is_dir() and d.name != "hydra"):  # hydra/: Hydra's own groups
        options = sorted(p for p in group.glob("*.yaml"))
        out += ["", f"## `{group.name}=`", ""]
        if not options:
            out.append("No options ship yet; the group exists so that `experiment=<name>` files can be added.")
            continue
        out += ["| option | description |", "|---|---|"]
        for p in options:
            name = f"`{p.stem}`" + (" (included by others, not selected directly)" if p.stem.startswith("_") else "")
            out.append(f"| {name} | {_header(p) or '—'} |")
    return "\n".join(out) + "\n"


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Replace the marker with the generated tables."""
    return markdown.replace(MARKER, conf_reference()) if MARKER in markdown else markdown
