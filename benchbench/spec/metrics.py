"""What the metrics of a row are: which direction is good, which are deterministic, from the metric
catalogue (catalogue.py, where every column is declared once).

Shared by the suite's gate rules (rules.py) and the analysis (compare, gate). A package declares its
own columns (a plug-in collector's, say) through entry points of the group benchbench.metrics
(docs/plugins.md): the entry point's name is the column, its object a Metric (or any object or module
with `higher_is_better` and, optionally, Metric's other fields).
"""

from __future__ import annotations

from benchbench.spec.catalogue import BUILTIN as _DECLARED
from benchbench.spec.catalogue import Metric, lookup, plugin  # noqa: F401  (Metric: the plug-ins' declaration)

STEP_TIME = "step_time_s"  # step_time_s and step_time_s_<stat>: the step times themselves
DETERMINISTIC = {name for name, m in _DECLARED.items() if m.deterministic}
DETERMINISTIC_DEFAULT_THRESHOLD = 0.01
# The direction of a column nothing declares (a plug-in collector's without a metric entry point)
HIGHER_IS_BETTER_SUFFIXES = ("_per_s", "_per_j", "mfu", "mfu_fp8", "hfu", "_util_pct_mean")
BUILTIN = tuple(_DECLARED)  # names a plug-in metric may not take


def declared(metric: str):
    """The plug-in declaration of `metric` (imported once), or None when no plug-in declares it."""
    return plugin(metric)


def higher_is_better(metric: str) -> bool:
    found = lookup(metric)
    if found is not None:
        return bool(found.higher_is_better)
    return metric.endswith(HIGHER_IS_BETTER_SUFFIXES)


def is_deterministic(metric: str) -> bool:
    found = lookup(metric)
    return bool(found.deterministic) if found is not None else False
