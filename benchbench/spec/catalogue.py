"""Every metric column of a row, declared once: what it measures (unit, the collector that writes it), which
direction is good, whether it is timed or deterministic, how the ranks of a config merge it, where it is shown
(label, number format) and under which names it is stored and exported. Every reader asks here: the merge of
ranks (sweep/ranks.py), the summary table (analysis/summary.py, present/terminal.py), the report (html,
markdown, charts), the exports, the history, compare and gate.

A plug-in declares its own column with the same Metric, through an entry point of the group
benchbench.metrics named as the column (docs/plugins.md); it then flows everywhere a built-in does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from benchbench import plugins

# How the ranks of one config (world_size > 1) merge a column into the config's row:
#   rank0    every rank has the same value (a count, a setting) or only rank 0's matters: rank 0's stands
#   max/min  the extreme rank (the GPU that must fit, the least busy GPU); sum: over the GPUs (energy)
#   mean/median  the typical rank
#   steps    recomputed from the merged step times (each step ends when the slowest rank ends it)
#   derived  computed from other columns after the merge or by the analysis (a total, a cost)
MERGES = ("rank0", "max", "min", "sum", "mean", "median", "steps", "derived")
PLUGIN_MERGES = MERGES[:6]  # steps and derived are the merge's own computations of built-in columns
# Where a metric is a column beyond compare and the exports, which take every metric with a value:
#   table     the summary table (terminal), a per-config median
#   report    the report's configs table (HTML and markdown)
#   chart     the report's per-axis panels
#   baseline  the per-config summary a baseline stores
VIEWS = ("table", "report", "chart", "baseline")
# Formats that name their measures one by one (the others export every metric with a value)
EXPORTS = ("bencher", "pytest-benchmark")


@dataclass(frozen=True)
class Metric:
    """One column's declaration. A plug-in's name is its entry point's name (the column)."""

    higher_is_better: bool
    deterministic: bool = False  # the same value in every repeat (a count, bytes): compared by threshold only
    unit: str = ""
    description: str = ""
    merge: str = "rank0"  # MERGES
    per_rank: str = ""  # "list": also keep <name>_per_rank (every rank's value); "list+mean": and <name>_rank_mean
    label: str = ""  # the column's header where shown ("" = its name)
    format: str = "{:.4g}"  # str.format spec of one value where shown
    views: tuple = ()  # VIEWS
    history: bool = False  # stored per commit in the history (benchbench history)
    export: tuple = ()  # EXPORTS naming it as a measure, under its own name
    collector: str = ""  # what writes it: a collector's name, "worker", an engine, "analysis"
    name: str = ""  # filled from the table key or the entry point's name


def _declare(collector: str, *specs) -> dict[str, Metric]:
    """{name: Metric} from (name, Metric keyword arguments) pairs of one collector."""
    return {name: Metric(collector=collector, name=name, **kw) for name, kw in specs}


_T = dict(higher_is_better=True)  # throughput-like
_L = dict(higher_is_better=False)  # times, bytes, energy, counts
_STEPS = dict(merge="steps")
_DET = dict(higher_is_better=False, deterministic=True)
_BYTES = dict(higher_is_better=False, unit="bytes", format="{:,.0f}")
_MAX = dict(merge="max", per_rank="list+mean")  # per GPU, the row the one that must fit
_MIN = dict(merge="min", per_rank="list+mean")  # the least busy, slowest-clocked GPU is the interesting one
_S = dict(higher_is_better=False, unit="s")

BUILTIN: dict[str, Metric] = {
    **_declare(
        "worker",
        ("tokens_per_s", dict(**_T, **_STEPS, unit="tokens/s", format="{:,.0f}", history=True, views=("baseline",),
                              export=("bencher", "pytest-benchmark"))),
        ("samples_per_s", dict(**_T, **_STEPS, unit="samples/s", format="{:,.0f}", history=True, views=("baseline",),
                               export=("bencher", "pytest-benchmark"))),
        ("step_time_s", dict(**_S, **_STEPS, history=True, views=("baseline",), export=("bencher",),
                             description="the measured steps' times (alone: their median)")),
        ("step_time_s_median", dict(**_S, merge="steps", per_rank="list+mean", label="step ms (median)")),
        ("tokens_per_j", dict(**_T, **_STEPS, unit="tokens/J", export=("bencher",))),
        ("samples_per_j", dict(**_T, **_STEPS, unit="samples/J", export=("bencher",))),
        ("model_tflops_per_s", dict(**_T, **_STEPS, unit="TFLOP/s")),
        ("hardware_tflops_per_s", dict(**_T, **_STEPS, unit="TFLOP/s")),
        ("mfu", dict(**_T, **_STEPS, unit="fraction", label="MFU", format="{:.1%}", views=("table",), history=True,
                     export=("bencher",), description="model FLOPs utilization per GPU")),
        ("mfu_fp8", dict(**_T, **_STEPS, unit="fraction")),
        ("hfu", dict(**_T, **_STEPS, unit="fraction")),
        ("tokens_per_step", dict(**_DET, unit="tokens")),
        ("samples_per_step", dict(**_DET, unit="samples")),
        ("effective_batch", dict(**_DET, unit="samples")),
        ("model_flops_per_step", dict(**_DET, unit="FLOP")),
        ("n_params", dict(**_DET, unit="parameters")),
        ("host_syncs_per_step", dict(**_L, unit="syncs")),
        *((f"{phase}_s", dict(**_S, description=f"the worker's {phase.replace('_', ' ')} phase"))
          for phase in ("import", "device_init", "build", "collectors_setup", "compile", "first_step", "warmup",
                        "measured", "finish", "setup", "worker", "wall")),
        ("measured_halfwidth", dict(**_L, unit="fraction", description="the stopping rule's interval half-width")),
        ("measured_share", dict(**_L, unit="fraction")),
        ("loss_last", dict(**_L, unit="loss")),
        ("grad_scale_final", dict(**_L)),
        ("grad_scale_reductions", dict(**_L, unit="reductions")),
        ("numerics_max_rel_loss_dev", dict(**_L, unit="fraction")),
        ("numerics_update_cosine", dict(**_L)),
        ("float8_linears", dict(**_L, unit="layers")),
        ("peak_tflops", dict(**_L, unit="TFLOP/s", description="the device's peak (MFU's denominator)")),
        ("peak_fp8_tflops", dict(**_L, unit="TFLOP/s")),
        ("peak_gb_per_s", dict(**_T, unit="GB/s", description="the device's peak memory bandwidth")),
        ("load_avg_1m_start", dict(**_L)), ("load_avg_1m_end", dict(**_L)),
        ("usable_cores", dict(**_L, unit="cores")),
        ("torch_threads", dict(**_L, unit="threads", description="torch's intra-op threads in the worker")),
        ("warmup_steps_taken", dict(**_L, unit="steps", description="warm-up steps run before the timed window")),
        ("warmup_spread", dict(**_L, unit="fraction", description="warmup_steps: auto: the last two steps' relative "
                                                                  "difference when the warm-up stopped")),
        ("configs_beside", dict(**_L, unit="configs", description="configs running beside this one (a pool)")),
        ("maxbatch_probe", dict(**_L)),
    ),
    **_declare(
        "memory",
        ("peak_allocated_bytes", dict(**_BYTES, **_MAX, deterministic=True, history=True, views=("baseline",),
                                      export=("bencher",))),
        ("peak_reserved_bytes", dict(**_BYTES, **_MAX, deterministic=True)),
        ("steady_allocated_bytes", dict(**_BYTES, **_MAX, deterministic=True)),
        ("peak_rss_bytes", dict(**_BYTES, **_MAX, history=True, views=("baseline",), export=("bencher",))),
        ("params_bytes", dict(**_BYTES, **_MAX, deterministic=True)),
        ("grads_bytes", dict(**_BYTES, **_MAX, deterministic=True)),
        ("optimizer_state_bytes", dict(**_BYTES, **_MAX, deterministic=True)),
        ("activations_workspace_bytes", dict(**_BYTES, **_MAX)),
    ),
    **_declare(
        "deepspeed engine",
        *((f"zero_{part}_bytes", dict(**_BYTES, **_MAX, deterministic=part in ("params", "grads", "optimizer_state")))
          for part in ("params", "grads", "optimizer_state", "buffers", "model_states", "offloaded")),
        *((f"{part}_bytes", dict(**_BYTES, **_MAX)) for part in (
            "allocated_after_backward", "unattributed_after_backward", "fwd_bwd_transient", "optimizer_step_transient")),
        ("predicted_model_state_bytes", dict(**_BYTES, deterministic=True)),
        ("zero_stage_in_effect", dict(**_L)),
    ),
    **_declare(
        "flops",
        ("hardware_flops_per_step", dict(**_DET, unit="FLOP", views=("baseline",))),
    ),
    **_declare(
        "nvml",  # each rank samples its own GPU
        ("gpu_util_pct_mean", dict(**_T, **_MIN, unit="%")),
        ("mem_util_pct_mean", dict(**_T, **_MIN, unit="%")),
        ("sm_clock_mhz_mean", dict(**_L, **_MIN, unit="MHz")),
        ("sm_clock_mhz_min", dict(**_L, **_MIN, unit="MHz")),
        ("power_w_mean", dict(**_L, **_MAX, unit="W")),
        ("power_w_max", dict(**_L, **_MAX, unit="W")),
        ("temperature_c_max", dict(**_L, **_MAX, unit="°C")),
        ("device_memory_used_peak_bytes", dict(**_BYTES, **_MAX)),
        ("process_gpu_memory_peak_bytes", dict(**_BYTES, **_MAX)),
        *((n, dict(**_L, unit=u)) for n, u in (("gpu_util_pct_min", "%"), ("gpu_util_pct_max", "%"),
                                               ("mem_util_pct_min", "%"), ("mem_util_pct_max", "%"),
                                               ("power_w_min", "W"), ("sm_clock_mhz_max", "MHz"),
                                               ("temperature_c_mean", "°C"), ("temperature_c_min", "°C"))),
        ("power_w_mean_total", dict(**_L, unit="W", merge="derived", description="power_w_mean summed over the GPUs")),
        ("energy_j", dict(**_L, unit="J", merge="sum", per_rank="list")),
        ("energy_j_per_step", dict(**_L, **_STEPS, description="the worker's, from energy_j",
                                   unit="J", label="J/step", format="{:.1f}", views=("table",),
                                   export=("bencher",))),
        ("nvml_samples", dict(**_L, unit="samples")),
        ("nvml_interval_s", dict(**_S)),
    ),
    **_declare(
        "profiler",
        *((n, dict(**_L, unit=u)) for n, u in (("profile_busy_frac", "fraction"), ("profile_idle_frac", "fraction"),
                                               ("profile_device_time_us", "us"), ("profile_steps", "steps"))),
        # the collectives' time no compute overlaps, and the rest, from each rank's own profile: the slowest rank's
        *((n, dict(**_L, **_MAX, unit="us")) for n in ("profile_communication_exposed_us",
                                                       "profile_communication_overlapped_us")),
    ),
    **_declare(
        "pipeline engine",  # the ranks of one pipeline wait by different amounts; the median is the typical stage
        ("pp_bubble_measured", dict(**_L, unit="fraction", merge="median", per_rank="list")),
    ),
    **_declare(
        "memory model",  # the sweep's prediction, stored in the row
        ("predicted_peak_bytes", dict(**_BYTES)),
        ("predicted_peak_error", dict(**_L, unit="fraction")),
    ),
    **_declare(
        "analysis",  # computed from the rows, never stored in them
        ("scaling_efficiency", dict(**_T, merge="derived", unit="fraction", label="scaling eff.", format="{:.0%}",
                                    views=("table",))),
        *((f"{e}usd_per_m{u}", dict(**_L, merge="derived", unit=f"USD/M {u}s", views=("table",), export=("bencher",),
                                    label=f"{'energy ' if e else ''}$/M {u}s", format="{:.4g}"))
          for e in ("", "energy_") for u in ("token", "sample")),
    ),
}
# Families of columns named by a suffix: (pattern, declaration). The step-time statistics are stats.summarize's.
PATTERNS = (
    (re.compile(r"step_time_s_(n|mean|std|min|max|p05|p95|iqr|cv|ci_low|ci_high)"),
     Metric(**_S, **_STEPS, collector="worker", description="a statistic of the measured steps' times")),
    (re.compile(r"profile_share_\w+"), Metric(**_L, unit="fraction", collector="profiler",
                                               description="a category's share of the GPU's busy time")),
    (re.compile(r"ds_\w+"), Metric(**_L, collector="deepspeed engine", description="a DeepSpeed setting in effect")),
)
# Numeric columns that are bookkeeping, not measurements, and the per-step series the metrics come from
NOT_METRICS = ("schema_version", "repeat", "exit_code", "failed_rank", "ranks")
SERIES = ("step_times_s", "numerics_losses", "numerics_reference_losses")
PER_RANK_SUFFIXES = ("_per_rank", "_rank_mean")  # written by the merge next to a column declared per_rank


def plugin_names() -> tuple[str, ...]:
    """The plug-in metrics' names (nothing imported); PluginError if one takes a built-in's name."""
    return plugins.names("metrics", tuple(BUILTIN))


def plugin(name: str) -> Metric | None:
    """The plug-in declaration of `name` (imported once) as a Metric, or None when no plug-in declares it.
    An entry point may name any object with `higher_is_better` (and optionally the other fields)."""
    if name not in plugin_names():
        return None
    return _as_metric(name, plugins.load("metrics", name, tuple(BUILTIN)))


def _as_metric(name: str, obj) -> Metric:
    if isinstance(obj, Metric):
        m = replace(obj, name=name)
    else:
        fields = {f: getattr(obj, f) for f in Metric.__dataclass_fields__ if f != "name" and hasattr(obj, f)}
        m = Metric(**{**fields, "higher_is_better": bool(obj.higher_is_better)}, name=name)
    where = f"({plugins.origin('metrics', name)}; docs/plugins.md)"
    for what, got, allowed in (("merge", [m.merge], PLUGIN_MERGES), ("per_rank", [m.per_rank], ("", "list", "list+mean")),
                               ("views", _names(m.views), VIEWS), ("export", _names(m.export), EXPORTS)):
        bad = [g for g in got if g not in allowed]
        if bad:
            raise plugins.PluginError(f"plug-in metric {name!r}: {what} {bad[0]!r} is not one of "
                                      f"{', '.join(map(repr, allowed))} {where}")
    try:  # every view formats a value with it
        m.format.format(1.5)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError):
        raise plugins.PluginError(f"plug-in metric {name!r}: format {m.format!r} cannot format a number "
                                  f"(a str.format spec such as '{{:.1f}}') {where}") from None
    return replace(m, views=tuple(_names(m.views)), export=tuple(_names(m.export)))


def _names(value) -> list:
    """A tuple of names, a lone name standing for itself ("table" is ("table",), not its letters)."""
    return [value] if isinstance(value, str) else list(value)


def lookup(name: str) -> Metric | None:
    """The declaration of column `name`: a built-in, a plug-in's, a family's (PATTERNS), or the per-rank columns
    the merge writes beside a declared one (same direction and unit); None when nothing declares it."""
    found = BUILTIN.get(name) or plugin(name)
    if found is not None:
        return found
    for pattern, m in PATTERNS:
        if pattern.fullmatch(name):
            return replace(m, name=name)
    for suffix in PER_RANK_SUFFIXES:
        base = lookup(name.removesuffix(suffix)) if name.endswith(suffix) else None
        if base is not None and base.per_rank:
            return replace(base, name=name, merge="derived", per_rank="", views=(), history=False, export=())
    return None


def every() -> list[Metric]:
    """Every declared metric: the built-ins in table order, then the plug-ins'."""
    return [*BUILTIN.values(), *(plugin(n) for n in plugin_names())]


def shown_in(view: str) -> list[Metric]:
    """The metrics shown in `view` (VIEWS), in order."""
    return [m for m in every() if view in m.views]


def exported_by(fmt: str) -> list[str]:
    """The measures format `fmt` (EXPORTS) names, in order."""
    return [m.name for m in every() if fmt in m.export]


def history_names() -> tuple[str, ...]:
    return tuple(m.name for m in every() if m.history)


def label(name: str) -> str:
    m = lookup(name)
    return (m.label if m else "") or name


def format_value(name: str, x) -> str:
    """One value of `name` as its declaration formats it ("-" when missing)."""
    if x is None or (isinstance(x, float) and x != x):
        return "-"
    m = lookup(name)
    try:
        return (m.format if m else "{:.4g}").format(x)
    except (ValueError, TypeError):  # a string where a number was declared: shown as it is
        return str(x)
