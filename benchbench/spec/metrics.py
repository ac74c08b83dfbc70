"""What the metrics of a row are: which direction is good, which are deterministic.

Shared by the suite's gate rules (rules.py) and the analysis (compare, gate). A package declares its
own columns (a plug-in collector's, say) through entry points of the group benchbench.metrics
(docs/plugins.md): the entry point's name is the column, its object says `higher_is_better` and,
optionally, `deterministic` (a Metric, or any object or module with those attributes).
"""

from __future__ import annotations

from dataclasses import dataclass

from benchbench import plugins

STEP_TIME = "step_time_s"  # step_time_s and step_time_s_<stat>: the step times themselves
DETERMINISTIC = {
    "model_flops_per_step", "hardware_flops_per_step", "n_params", "params_bytes", "grads_bytes",
    "optimizer_state_bytes", "peak_allocated_bytes", "peak_reserved_bytes", "steady_allocated_bytes",
    "zero_params_bytes", "zero_grads_bytes", "zero_optimizer_state_bytes", "predicted_model_state_bytes",
    "tokens_per_step", "samples_per_step", "effective_batch",
}
DETERMINISTIC_DEFAULT_THRESHOLD = 0.01
HIGHER_IS_BETTER_SUFFIXES = ("_per_s", "_per_j", "mfu", "mfu_fp8", "hfu", "_util_pct_mean")
BUILTIN = (STEP_TIME, *sorted(DETERMINISTIC))  # names a plug-in metric may not take


@dataclass(frozen=True)
class Metric:
    """A plug-in's declaration of one column (its entry point's name)."""

    higher_is_better: bool
    deterministic: bool = False  # the same value in every repeat (a count, bytes): compared exactly
    unit: str = ""
    description: str = ""


def declared(metric: str):
    """The plug-in declaration of `metric` (imported once), or None when no plug-in declares it."""
    if metric not in plugins.names("metrics", BUILTIN):
        return None
    return plugins.load("metrics", metric, BUILTIN)


def higher_is_better(metric: str) -> bool:
    found = declared(metric)
    if found is not None:
        return bool(found.higher_is_better)
    return metric.endswith(HIGHER_IS_BETTER_SUFFIXES)


def is_deterministic(metric: str) -> bool:
    found = declared(metric)
    if found is not None:
        return bool(getattr(found, "deterministic", False))
    return metric in DETERMINISTIC
