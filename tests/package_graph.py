"""The import graph of dialer/ and jobs/, read from the source with `ast`: which package imports
which at module level (imports under `if TYPE_CHECKING:` and inside functions are left out).
A package is a folder of dialer/ (dialer.campaigns), a top-level module of dialer/ (dialer.db),
or jobs/. `python -m tests.package_graph` prints the graph, its mutual pairs and its circles."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Graph", "read_graph"]

ROOT = Path(__file__).resolve().parents[1]


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _package_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "jobs":
        return "jobs"
    return parts[1] if len(parts) > 1 else "dialer"


def _imported(tree: ast.Module) -> Iterator[str]:
    for node in tree.body:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@dataclass(frozen=True)
class Graph:
    # module -> the modules of ours it imports
    modules: dict[str, frozenset[str]]

    def package_edges(self) -> set[tuple[str, str]]:
        edges = set()
        for module, imported in self.modules.items():
            for other in imported:
                a, b = _package_of(module), _package_of(other)
                if a != b:
                    edges.add((a, b))
        return edges

    def imports(self, package: str) -> set[str]:
        return {b for a, b in self.package_edges() if a == package}

    def mutual_pairs(self) -> list[tuple[str, str]]:
        edges = self.package_edges()
        return sorted({(a, b) for a, b in edges if (b, a) in edges and a < b})

    def package_circles(self) -> list[list[str]]:
        return _circles(self.package_edges())

    def file_circles(self) -> list[list[str]]:
        return _circles({(a, b) for a, bs in self.modules.items() for b in bs})


def _circles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan, iteratively)."""
    nodes = sorted({n for edge in edges for n in edge})
    nexts: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in sorted(edges):
        nexts[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(nexts[node]):
                work.append((node, i + 1))
                nxt = nexts[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def read_graph(root: Path = ROOT) -> Graph:
    paths = [p for folder in ("dialer", "jobs") for p in sorted((root / folder).rglob("*.py"))]
    ours = {_module_of(p): p for p in paths}
    modules = {}
    for module, path in ours.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # `from dialer import clock` names dialer.clock, not the package dialer itself.
        names = {name for name in _imported(tree) if name in ours and name != module}
        imported = names - {"dialer"} if any(n.startswith("dialer.") for n in names) else names
        modules[module] = frozenset(imported)
    return Graph(modules)


def main() -> int:
    graph = read_graph()
    for package in sorted({_package_of(m) for m in graph.modules}):
        print(f"{package:14} -> {', '.join(sorted(graph.imports(package))) or '-'}")
    print(f"\nmutual pairs: {graph.mutual_pairs() or 'none'}")
    print(f"package circles: {graph.package_circles() or 'none'}")
    print(f"file circles: {graph.file_circles() or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
