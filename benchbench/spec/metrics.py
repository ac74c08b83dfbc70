"""What the metrics of a row are: which direction is good, which are deterministic.

Shared by the suite's gate rules (rules.py) and the analysis (compare, gate).
"""

from __future__ import annotations

STEP_TIME = "step_time_s"  # step_time_s and step_time_s_<stat>: the step times themselves
DETERMINISTIC = {
    "model_flops_per_step", "hardware_flops_per_step", "n_params", "params_bytes", "grads_bytes",
    "optimizer_state_bytes", "peak_allocated_bytes", "peak_reserved_bytes", "steady_allocated_bytes",
    "zero_params_bytes", "zero_grads_bytes", "zero_optimizer_state_bytes", "predicted_model_state_bytes",
    "tokens_per_step", "samples_per_step", "effective_batch",
}
DETERMINISTIC_DEFAULT_THRESHOLD = 0.01
HIGHER_IS_BETTER_SUFFIXES = ("_per_s", "_per_j", "mfu", "mfu_fp8", "hfu", "_util_pct_mean")


def higher_is_better(metric: str) -> bool:
    return metric.endswith(HIGHER_IS_BETTER_SUFFIXES)


def is_deterministic(metric: str) -> bool:
    return metric in DETERMINISTIC
