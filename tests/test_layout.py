"""The package layout is the data flow: folder-level imports form no cycle, analysis never imports
presentation, plug-ins import no pipeline stage, no module uses another module's private name, and the
top level holds only the entry points and folders."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "benchbench"
PLUGINS = {"models", "techniques", "engines", "collectors"}
PIPELINE = {"spec", "sweep", "worker", "store", "analysis", "plan", "present", "commands", "cli"}
# (importer, imported) folder pairs that must never appear
FORBIDDEN = {("analysis", "present"), ("analysis", "commands"), ("store", "analysis"), ("store", "present"),
             ("worker", "sweep"), ("worker", "store"), ("worker", "present"),
             ("spec", "sweep"), ("spec", "worker"), ("spec", "store"), ("spec", "analysis"), ("spec", "present")}
TOP_LEVEL = {"__init__.py", "__main__.py", "cli.py"}


def modules() -> dict[str, ast.Module]:
    out = {}
    for p in PKG.rglob("*.py"):
        name = ".".join(("benchbench", *p.relative_to(PKG).with_suffix("").parts)).removesuffix(".__init__")
        out[name] = ast.parse(p.read_text(), str(p))
    return out


def imports(mod: str, tree: ast.Module) -> list[tuple[str, str | None]]:
    """(module imported, name imported from it or None) for every benchbench import, lazy ones too."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, None) for a in node.names if a.name.startswith("benchbench")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("benchbench"):
            out += [(node.module, a.name) for a in node.names]
    return out


def folder(mod: str) -> str:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else "benchbench"


def test_top_level_holds_only_entry_points_and_folders():
    assert {p.name for p in PKG.glob("*.py")} <= TOP_LEVEL
    for d in PKG.iterdir():
        if d.is_dir() and d.name != "__pycache__":
            assert (d / "__init__.py").exists(), f"{d} is not a package"


def test_folder_imports_have_no_cycle_and_no_forbidden_arrow():
    graph = defaultdict(set)
    for mod, tree in modules().items():
        src = folder(mod)
        for target, _ in imports(mod, tree):
            dst = folder(target)
            if dst not in (src, "benchbench"):
                graph[src].add(dst)
    bad = [(a, b) for a in graph for b in graph[a] if (a, b) in FORBIDDEN]
    assert not bad, f"arrows that run back up the flow: {bad}"
    bad = [(a, b) for a in graph for b in graph[a] if a in PLUGINS and b in PIPELINE]
    assert not bad, f"plug-ins importing pipeline stages: {bad}"
    seen, stack = set(), []

    def visit(node):
        if node in stack:
            raise AssertionError("folder import cycle: " + " -> ".join(stack[stack.index(node):] + [node]))
        if node in seen:
            return
        stack.append(node)
        for nxt in sorted(graph[node]):
            visit(nxt)
        stack.pop()
        seen.add(node)

    for node in list(graph):
        visit(node)


def test_no_module_uses_another_modules_private_names():
    mods = modules()
    bad = []
    for mod, tree in mods.items():
        aliases = {}
        for target, name in imports(mod, tree):
            if name and name.startswith("_") and not name.startswith("__"):
                bad.append(f"{mod}: from {target} import {name}")
            if name and f"{target}.{name}" in mods:
                aliases[name] = f"{target}.{name}"
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")
                    and aliases[node.value.id] != mod):
                bad.append(f"{mod}: {node.value.id}.{node.attr}")
    assert not bad, bad


def test_files_stay_small():
    big = {str(p.relative_to(PKG)): n for p in PKG.rglob("*.py") if (n := len(p.read_text().splitlines())) > 450}
    assert not big, f"split these: {big}"
