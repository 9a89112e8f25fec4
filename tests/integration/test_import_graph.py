"""The import graph of ``src/taulc`` is acyclic, and function-level imports of taulc are few and justified.

Edges are read with :mod:`ast` from every ``import taulc...`` / ``from taulc... import ...`` (and relative
import), at module level and inside functions; ``from taulc.x import y`` is an edge to ``taulc.x.y`` when
``y`` is a submodule. A package's ``__init__`` is the package's own module, so its re-exports are edges
from the package. Imports under ``if TYPE_CHECKING:`` never run and are not edges.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers import REPO

SRC = REPO / "src"
ROOT = SRC / "taulc"
MAX_FUNCTION_LEVEL = 20
# A function-level import of taulc must say why it is not at the top: its noqa comment carries a reason
# after the rule code, as in  noqa: PLC0415 - lazy: torch
REASON = re.compile(r"#\s*noqa:\s*PLC0415\s*[-:]\s*\S+")


def _modules() -> dict[str, Path]:
    """Dotted module name -> source file, for every module and package of taulc."""
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _resolve(module: str, level: int, current: str, is_package: bool) -> str:
    """Absolute module name of an (optionally relative) ``from ... import``."""
    if level == 0:
        return module
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _imports(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, int, bool]]:
    """``(target module, line, function_level)`` for every taulc import of one module (one per imported name)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for orelse in child.orelse:
                    visit(orelse, in_function)
                continue
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "taulc":
                        found.append((alias.name, child.lineno, in_function))
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(child.module or "", child.level, name, is_package)
                if target.split(".")[0] == "taulc":
                    for alias in child.names:
                        sub = f"{target}.{alias.name}"
                        found.append((sub if sub in modules else target, child.lineno, in_function))
            visit(child, nested)

    visit(tree, False)
    return found


def _graph() -> tuple[dict[str, set[str]], list[tuple[str, int, str]]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    function_level = []
    for name, path in modules.items():
        for target, line, in_function in _imports(name, path, modules):
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target != name:
                graph[name].add(target)
            if in_function and (name, line) not in {(n, ln) for n, ln, _ in function_level}:
                function_level.append((name, line, path.read_text().splitlines()[line - 1]))
    return graph, function_level


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_import_graph_is_acyclic():
    cycles = _cycles(_graph()[0])
    assert not cycles, "import cycles in src/taulc:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_function_level_imports_of_taulc_are_few_and_justified():
    _, function_level = _graph()
    unjustified = [f"{name}:{line}: {text.strip()}" for name, line, text in function_level if not REASON.search(text)]
    assert not unjustified, "function-level imports of taulc without a reason:\n" + "\n".join(unjustified)
    assert len(function_level) <= MAX_FUNCTION_LEVEL, (
        f"{len(function_level)} function-level imports of taulc (at most {MAX_FUNCTION_LEVEL}):\n"
        + "\n".join(f"{name}:{line}" for name, line, _ in function_level)
    )
