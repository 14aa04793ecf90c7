"""The shape of the code, in figures: what issue 32 asks to see before and after.

- the profile service: modules, folders, and floors (the longest chain of its modules importing
  one another when they run: a module on floor 1 imports none of the others; imports for
  annotations only, under ``TYPE_CHECKING``, are not counted);
- the RPCs of every gRPC service in ``protos/``;
- raw-document reads above the store: a string-keyed subscript read (not a write into a dict
  being built) or ``.get("...")`` in a profile service module outside its store layer (``db/``
  and ``model/``, where documents are read once into typed objects); the count before this
  stop's typed customers counted subscript writes too (565 -> 297 by that count);
- database handles above the store: ``.db`` or ``.collection`` of a store reached outside ``db/``;
- the lines of every connector (its ``src/``), the smallest first.

Run: ``python bench/architecture.py`` (no services, no database).
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "services/profile/src/linkmesh_profile"
PACKAGE = "linkmesh_profile"
STORE_LAYER = ("db/", "model/")


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PROFILE.rglob("*.py")):
        rel = path.relative_to(PROFILE).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        found[".".join([PACKAGE, *parts])] = path
    return found


def runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:`` (imports for annotations only, never run)."""
    out: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            stack.extend(node.orelse)
            continue
        out.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return out


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules this one imports when it runs (``from linkmesh_profile.x import y``
    names x, or x.y if a module)."""
    out: set[str] = set()
    for node in runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE):
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                out.add(name if name in known else node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
    return {m for m in out if m in known}


def floors(known: dict[str, Path]) -> tuple[int, list[str]]:
    graph = {m: imports(p, known) - {m} for m, p in known.items()}

    @functools.cache
    def tallest(m: str, seen: frozenset[str] = frozenset()) -> tuple[str, ...]:
        below = [tallest(d, seen | {m}) for d in graph[m] if d not in seen]
        return (m, *max(below, key=len, default=()))

    best = max((tallest(m) for m in graph), key=len)
    return len(best), list(best)


def raw_reads(path: Path) -> int:
    count = 0
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            count += 1
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            count += 1
    return count


def database_handles(path: Path) -> int:
    """Attributes that reach the database itself (``store.db``, ``self.collection``)."""
    return sum(1 for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Attribute) and node.attr in ("db", "collection"))


def rpcs() -> dict[str, int]:
    out = {}
    for proto in sorted(ROOT.glob("protos/**/*.proto")):
        service = None
        for line in proto.read_text().splitlines():
            if m := re.match(r"\s*service (\w+)", line):
                service = m.group(1)
                out[service] = 0
            elif service and re.match(r"\s*rpc \w+", line):
                out[service] += 1
    return out


def connector_lines() -> list[tuple[str, int, int]]:
    out = []
    for folder in sorted(ROOT.glob("services/connector-*")):
        files = [p for p in folder.glob("src/**/*.py")]
        out.append((folder.name, len(files), sum(len(p.read_text().splitlines()) for p in files)))
    return sorted(out, key=lambda row: row[2])


def main() -> None:
    known = modules()
    folders = {p.parent for p in known.values()}
    height, chain = floors(known)
    above = {m: raw_reads(p) for m, p in known.items() if not any(str(p.relative_to(PROFILE)).startswith(s) for s in STORE_LAYER)}
    print("profile service")
    print(f"  modules {len(known)}, folders {len(folders)}, floors {height}")
    print(f"  tallest chain: {' -> '.join(m.removeprefix(PACKAGE + '.') for m in chain)}")
    largest = max(len(p.read_text().splitlines()) for p in known.values())
    print(f"  largest module {largest} lines")
    print(f"  raw-document reads above the store: {sum(above.values())}")
    for m, n in sorted(above.items(), key=lambda kv: -kv[1])[:8]:
        if n:
            print(f"    {n:4d}  {m.removeprefix(PACKAGE + '.')}")
    handles = {m: database_handles(p) for m, p in known.items() if not str(p.relative_to(PROFILE)).startswith("db/")}
    print(
        f"  database handles above the store: {sum(handles.values())} ({', '.join(sorted(m for m, n in handles.items() if n)) or 'none'})"
    )
    print("RPCs per service")
    for service, n in rpcs().items():
        print(f"  {service:28s} {n}")
    print("connectors (src/, smallest first)")
    for name, files, lines in connector_lines():
        print(f"  {name:28s} {files} files {lines} lines")


if __name__ == "__main__":
    main()
