"""One family of errors a user meets (benchbench/basics/errors.py), caught once by cli.py (exit 2, one
line per problem): at most four exception classes a user can meet, every other module error one of them
under its old name, and no command converting one error into another (the cli catches them all)."""

from __future__ import annotations

import ast

from benchbench.basics import errors
from tests.test_layout import PKG, modules

# Exceptions that never reach a user, each raised and caught inside its module: why each is internal
INTERNAL = {
    ("benchbench.worker.measure", "Skip"): "a technique or engine that does not apply: the worker records a skipped row",
    ("benchbench.spec.yaml_loader", "YamlLimitError"): "the YAML walk's limits: read_document turns it into FileProblem",
    ("benchbench.spec.yaml_loader", "FileProblem"): "suite.load turns it into the suite's UserError; readers skip the file",
    ("benchbench.basics.nvml", "Unavailable"): "no NVML here: the collector and env.json record why, the run goes on",
}
# except clauses in commands that catch a user error on purpose: (module, why)
ALLOWED_CATCHES = {
    ("benchbench.commands.listing", "list suites shows an invalid suite as a row, with its first problem"),
    ("benchbench.commands.bisect", "why: a probe pair that cannot be explained says nothing (an optional line)"),
    ("benchbench.commands.explain", "runs that cannot be compared: the explanation goes on without verdicts"),
    ("benchbench.commands.run", "the history failed after the run: the message adds that the run is recorded"),
}
FAMILY_NAMES = {"UserError", "DamagedFile", "PluginError", "Terminated"}


def exception_classes() -> dict[tuple[str, str], list[str]]:
    """(module, class) -> its bases' names, for every class of benchbench that derives from an exception."""
    out = {}
    for mod, tree in modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = [b.id if isinstance(b, ast.Name) else b.attr for b in node.bases
                         if isinstance(b, (ast.Name, ast.Attribute))]
                if any(b.endswith(("Error", "Exception", "Interrupt", "Problem")) or b in FAMILY_NAMES for b in bases):
                    out[mod, node.name] = bases
    return out


def test_a_user_meets_at_most_four_exception_classes_all_in_the_family():
    found = exception_classes()
    public = {k: v for k, v in found.items() if k not in INTERNAL}
    assert {name for _, name in public} <= FAMILY_NAMES and len(public) <= 4, public
    assert set(public) == {("benchbench.basics.errors", n) for n in FAMILY_NAMES}, "the family lives in basics/errors.py"
    for name in FAMILY_NAMES - {"Terminated"}:  # Terminated is SIGTERM unwinding like Ctrl-C, no error
        assert issubclass(getattr(errors, name), errors.UserError)
    assert issubclass(errors.Terminated, KeyboardInterrupt) and not issubclass(errors.Terminated, Exception)


def test_every_module_error_is_the_family_under_its_old_name():
    from benchbench import plugins
    from benchbench.analysis import compare, cost, explain, pivot, recommend, series
    from benchbench.commands import common
    from benchbench.present.export import common as export
    from benchbench.spec import rules, suite
    from benchbench.store import baseline, history, results
    from benchbench.sweep import ab, autobatch, bisect, cluster, gitrepo, pool

    for mod, name in [(compare, "CompareError"), (cost, "CostError"), (explain, "ExplainError"), (pivot, "PivotError"),
                      (recommend, "RecommendError"), (series, "SeriesError"), (common, "UsageError"),
                      (export, "ExportError"), (rules, "GateError"), (suite, "SuiteError"), (baseline, "BaselineError"),
                      (history, "HistoryError"), (results, "StoreError"), (results, "RowNotWritten"), (ab, "AbError"),
                      (autobatch, "AutobatchError"), (bisect, "BisectError"), (cluster, "ClusterError"),
                      (gitrepo, "GitError"), (pool, "PoolError")]:
        assert getattr(mod, name) is errors.UserError, f"{mod.__name__}.{name}"
    assert plugins.PluginError is errors.PluginError and results.DamagedFile is errors.DamagedFile


def caught_names(handler: ast.ExceptHandler) -> set[str]:
    t = handler.type
    items = t.elts if isinstance(t, ast.Tuple) else [t] if t is not None else []
    return {i.id if isinstance(i, ast.Name) else i.attr for i in items if isinstance(i, (ast.Name, ast.Attribute))}


def test_commands_convert_no_user_error():
    """cli.py catches the family once: a command that catches one (to raise another) is left over."""
    family = {"UserError", "UsageError", "DamagedFile", "PluginError"} | {
        n for n in ("CompareError", "CostError", "ExplainError", "PivotError", "RecommendError", "SeriesError",
                    "ExportError", "GateError", "SuiteError", "BaselineError", "HistoryError", "StoreError",
                    "RowNotWritten", "AbError", "AutobatchError", "BisectError", "ClusterError", "GitError", "PoolError")}
    allowed = {mod for mod, _ in ALLOWED_CATCHES}
    bad = []
    for path in sorted((PKG / "commands").glob("*.py")):
        mod = f"benchbench.commands.{path.stem}"
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ExceptHandler) and caught_names(node) & family and mod not in allowed:
                bad.append(f"{mod}:{node.lineno} catches {sorted(caught_names(node) & family)}")
    assert not bad, "\n".join(bad)
