"""The package layout is the data flow, and LAYERS states every rule of it: for each pair of folders of
benchbench/ (cli.py counts as one), whether the first may import the second. Folder-level imports form
no cycle, no module uses another module's private name, the top level holds only the entry points and
folders, and no file grows past 450 lines."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "benchbench"
TOP_LEVEL = {"__init__.py", "__main__.py", "cli.py"}

# The import layers, lowest first: a folder may import only folders above its row, and only where its row
# has an x (rows: the importer; columns: the imported, in the same order; - the folder itself). The data
# flows spec -> sweep -> worker (the plug-ins) -> store -> analysis -> present; imports follow it where
# a stage drives the next (sweep starts workers and appends rows) and run against it where a stage reads
# the one before (analysis reads the store). plan/ predicts without a run for sweep, worker and commands.
#   basics      statistics primitives, device/NVML access, units, the user-error family: imports nothing,
#               every layer may import it
#   plugins     the entry-point loader (benchbench.<kind> groups): imports only basics (its errors), every
#               layer may ask it
#   models .. collectors   the plug-ins: no pipeline stage; techniques see models, engines see both
#   spec        validation asks the plug-in registries which names exist
#   worker      never writes rows (store), never starts workers (sweep), never formats (present)
#   store       the row contract only; analysis reads it, never the other way
LAYERS = """
             basics plugins models techniques engines collectors spec plan worker store sweep analysis present commands cli
basics       -      .       .      .          .       .          .    .    .      .     .     .        .       .        .
plugins      x      -       .      .          .       .          .    .    .      .     .     .        .       .        .
models       x      x       -      .          .       .          .    .    .      .     .     .        .       .        .
techniques   x      x       x      -          .       .          .    .    .      .     .     .        .       .        .
engines      x      x       x      x          -       .          .    .    .      .     .     .        .       .        .
collectors   x      x       .      .          .       -          .    .    .      .     .     .        .       .        .
spec         x      x       x      x          x       x          -    .    .      .     .     .        .       .        .
plan         x      x       x      x          x       x          x    -    .      .     .     .        .       .        .
worker       x      x       x      x          x       x          x    x    -      .     .     .        .       .        .
store        x      .       .      .          .       .          x    .    .      -     .     .        .       .        .
sweep        x      x       x      x          x       x          x    x    x      x     -     .        .       .        .
analysis     x      x       .      .          .       .          x    .    .      x     .     -        .       .        .
present      x      x       .      .          .       .          x    .    .      x     .     x        -       .        .
commands     x      x       x      x          x       x          x    x    x      x     x     x        x       -        .
cli          x      x       .      .          .       .          x    .    .      x     x     .        .       x        -
"""
# Imports that break LAYERS, module by module: none left; a new one fails the test.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


def layers() -> tuple[list[str], set[tuple[str, str]]]:
    """(the folders in layer order, the allowed (importer, imported) pairs) from LAYERS."""
    header, *rows = [line.split() for line in LAYERS.strip().splitlines()]
    allowed = set()
    for row in rows:
        assert len(row) == len(header) + 1, f"LAYERS row {row[0]}: one mark per column"
        allowed |= {(row[0], col) for col, mark in zip(header, row[1:]) if mark == "x"}
    assert [r[0] for r in rows] == header, "LAYERS: rows and columns name the same folders in the same order"
    return header, allowed


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


def imported_modules(tree: ast.Module, mods) -> set[str]:
    """The benchbench modules `tree` imports: `from benchbench import models` imports benchbench.models."""
    out = set()
    for target, name in imports("", tree):
        out.add(f"{target}.{name}" if name and f"{target}.{name}" in mods else target)
    return out


def folder(mod: str) -> str:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else "benchbench"


def edges() -> dict[tuple[str, str], set[tuple[str, str]]]:
    """(importer folder, imported folder) -> the (module, module imported) behind it."""
    mods = modules()
    out = defaultdict(set)
    for mod, tree in mods.items():
        for target in imported_modules(tree, mods):
            if folder(target) not in (folder(mod), "benchbench"):  # the package root: only __version__
                out[folder(mod), folder(target)].add((mod, target))
    return out


def test_top_level_holds_only_entry_points_and_folders():
    assert {p.name for p in PKG.glob("*.py")} <= TOP_LEVEL
    for d in PKG.iterdir():
        if d.is_dir() and d.name != "__pycache__":
            assert (d / "__init__.py").exists(), f"{d} is not a package"


def test_layers_name_every_folder_and_allow_no_cycle():
    order, allowed = layers()
    folders = {d.name for d in PKG.iterdir() if (d / "__init__.py").exists()} | {"cli"}
    assert set(order) == folders, f"place every folder in LAYERS: missing {folders - set(order)}, gone {set(order) - folders}"
    upward = [(a, b) for a, b in allowed if order.index(b) >= order.index(a)]
    assert not upward, f"LAYERS lets a folder import itself or one below it: {upward}"  # so no cycle is possible


def test_every_import_follows_the_layers():
    _, allowed = layers()
    bad = sorted(f"{mod} imports {target} ({a} -> {b})" for (a, b), found in edges().items() if (a, b) not in allowed
                 for mod, target in found if (mod, target) not in KNOWN_EXCEPTIONS)
    assert not bad, "imports LAYERS forbids:\n" + "\n".join(bad)


def test_the_rules_the_docs_state_are_in_the_layers():
    _, allowed = layers()
    plugins = {"models", "techniques", "engines", "collectors"}
    stages = {"spec", "plan", "worker", "store", "sweep", "analysis", "present", "commands", "cli"}
    assert not {(a, b) for a in plugins for b in stages} & allowed  # plug-ins import no pipeline stage
    assert {b for a, b in allowed if a == "plugins"} <= {"basics"}  # the loader imports nothing but the errors
    assert not {b for a, b in allowed if a == "basics"}
    forbidden = {("analysis", "present"), ("analysis", "commands"), ("store", "analysis"), ("worker", "sweep"),
                 ("worker", "store"), ("worker", "analysis"), ("sweep", "analysis"), ("spec", "store")}
    assert not forbidden & allowed


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


def test_mfu_is_computed_in_one_place():
    """MFU, HFU and mfu_fp8 are basics.device.utilization(): no other module divides FLOPs by a peak."""
    bad = [f"{mod}:{node.lineno}: {ast.unparse(node)}" for mod, tree in modules().items() if mod != "benchbench.basics.device"
           for node in ast.walk(tree) if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)
           and "flops" in ast.unparse(node).lower() and "peak" in ast.unparse(node.right).lower()]
    assert not bad, "use basics.device.utilization:\n" + "\n".join(bad)


def test_nvml_is_opened_in_one_module():
    """Only basics/nvml.py imports pynvml: every other module asks it (load, opened, gpus)."""
    found = {mod for mod, tree in modules().items() for node in ast.walk(tree)
             if (isinstance(node, ast.Import) and any(a.name.split(".")[0] == "pynvml" for a in node.names))
             or (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "pynvml")}
    assert found == {"benchbench.basics.nvml"}, found


# commands/common.py is no command: the console every command prints with
SHARED_BY_COMMANDS = {"benchbench.commands.common"}


def test_no_command_imports_another_command():
    """A command is the command line's edge: what two commands share lives in a layer below (the run in
    sweep/run.py, the comparison's tables in present/compare.py, the history's adding in analysis/records.py)."""
    mods = modules()
    commands = {m for m in mods if folder(m) == "commands" and m != "benchbench.commands"}
    bad = sorted(f"{mod} imports {target}" for mod in commands for target in imported_modules(mods[mod], mods)
                 if target in commands - SHARED_BY_COMMANDS and target != mod)
    assert not bad, "\n".join(bad)
