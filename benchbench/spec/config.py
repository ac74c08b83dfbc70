"""RunConfig: one point of a sweep, frozen and validated.

Every field is a possible sweep axis. A suite's `defaults:` and `sweep:` name these fields;
`model:` fills `model`, `model_size` and `model_args`. The config id is a hash of the fields
that change what is measured (not the timeout or the number of repeats), so rows of different
runs join on it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from benchbench import plugins

Precision = Literal["fp32", "tf32", "fp16", "bf16", "bf16-pure", "fp8"]
Fp8Recipe = Literal["tensorwise", "rowwise", "rowwise_with_gw_hp"]
Checkpointing = Literal["none", "full", "every_k", "sqrt", "selective", "selective_op"]
Attention = Literal["eager", "sdpa", "flash", "mem_efficient", "cudnn", "flex"]
Compile = Literal["off", "default", "reduce-overhead", "max-autotune"]
Optimizer = Literal["adamw", "sgd"]
OptimizerImpl = Literal["auto", "fused", "foreach", "loop"]
Engine = Literal["torch", "ddp", "fsdp", "deepspeed"]  # and the plug-ins' (PLUGGABLE)
DsOptimizer = Literal["client", "fused_adam", "cpu_adam"]
Device = Literal["auto", "cpu", "cuda"]
PpSchedule = Literal["gpipe", "1f1b", "interleaved_1f1b"]
Collect = Literal["memory", "nvml", "flops"]  # and the plug-ins' (PLUGGABLE)
# Settings whose values plug-ins add (benchbench.<kind> entry points, docs/plugins.md): field -> (kind, built-ins)
PLUGGABLE = {"engine": ("engines", get_args(Engine)), "collect": ("collectors", get_args(Collect)),
             "techniques": ("techniques", ())}

@functools.cache
def _kinds(cls) -> dict[str, tuple[bool, bool, tuple[str, ...]]]:
    """field -> (takes whole numbers only, takes booleans only, the words it takes besides: auto, max),
    from the annotations, once."""
    out = {}
    for name, f in cls.model_fields.items():
        kinds = (f.annotation, *get_args(f.annotation))
        words = tuple(w for k in kinds if get_origin(k) is Literal for w in get_args(k))
        out[name] = (int in kinds and float not in kinds, bool in kinds, words)
    return out


# Upper bounds of the counts (each far above any useful value; a worker takes seconds per repeat).
MAX_COUNTS = {"repeats": 1_000, "max_repeats": 1_000, "measured_steps": 1_000_000, "warmup_steps": 1_000_000,
              "min_steps": 1_000_000, "max_steps": 1_000_000, "grad_accum": 1_000_000, "numerics_steps": 1_000_000}

# Fields that do not change what a config measures: left out of its id.
NOT_IN_ID = ("repeats", "timeout_s", "peak_tflops", "collect", "profile", "pyspy", "numerics_steps", "numerics_reference",
             "min_steps", "max_steps", "max_measure_s", "target_halfwidth", "max_repeats", "compile_cache",
             "price_per_gpu_hour", "price_per_kwh")  # prices: what a config costs, not what it measures


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # what is trained
    model: str = Field("gpt", description="a reference model (benchbench list models), py:<module>, timm:/torchvision:/hf:")
    model_size: str = Field("tiny", description="one of the model's sizes (benchbench list models)")
    model_args: dict[str, int] = Field(default_factory=dict, description="the model's shape arguments over its size's")
    batch_size: int | Literal["max"] = Field(
        8, description="micro-batch per rank; max: the largest that fits, found by a max-batch search before the "
                       "config is measured (its probes: rows of RUN/autobatch)")
    seq_len: int | None = Field(None, gt=0, description="tokens per sample (token models); default: the model's context")
    image_size: int | None = Field(None, gt=0, description="pixels per side (image models); default: the model's")

    # where and how long
    device: Device = Field("auto", description="auto = CUDA when torch sees a GPU, else CPU")
    warmup_steps: int | Literal["auto"] = Field(
        3, description="optimizer steps run before the timed window (0 or more; not measured); auto: until two consecutive "
                       "step times after the first are within 5% (3 steps at least, 30 or 120 s at most)")
    measured_steps: int | Literal["auto"] = Field(
        20, description="steps in the timed window; auto: measure in blocks until the median's interval is within "
                        "target_halfwidth (min_steps .. max_steps, at most max_measure_s)")
    repeats: int | Literal["auto"] = Field(
        1, description="separate worker processes per config; auto: add repeats (3 at least, max_repeats at most) "
                       "until a sequential test (error rate kept at 5% over every look) tells the config from the "
                       "suite's baseline config (or from itself in run --against RUN) or shows it the same within "
                       "1%; with no reference, until they pin the value within target_halfwidth")
    min_steps: int = Field(10, gt=0, description="measured_steps: auto: steps before the first stop check")
    max_steps: int = Field(200, gt=0, description="measured_steps: auto: stop here whatever the interval")
    max_measure_s: float = Field(60.0, gt=0, description="measured_steps: auto: stop after this many measured seconds")
    target_halfwidth: float = Field(0.005, gt=0, lt=1, description="auto: the 95% interval's half-width relative to "
                                                                   "the median that counts as sure (0.005 = 0.5%)")
    max_repeats: int = Field(10, gt=0, description="repeats: auto: stop adding repeats here (3 at the least: its first "
                                                   "look is at 3 repeats)")
    compile_cache: Literal["shared", "cold"] = Field(
        "shared", description="with compile: shared: repeats after the first reuse its compiler caches (the row says "
                              "cold or warm); cold: every repeat compiles from scratch (to measure compile time)")
    timeout_s: float = Field(900.0, gt=0, description="a worker with no result after this long is killed: status timeout")
    seed: int = Field(0, description="seeds the model init and the synthetic batches")

    # technique axes
    precision: Precision = Field("fp32", description="techniques/precision.py: autocast, GradScaler, pure bf16; fp8: "
                                                     "torchao float8 Linear layers, bf16 autocast elsewhere (techniques/fp8.py)")
    fp8_recipe: Fp8Recipe = Field("tensorwise", description="with precision fp8: torchao's Float8LinearConfig recipe "
                                                            "(scales per tensor, per row, per row with bf16 weight gradients)")
    fp8_fsdp_all_gather: bool = Field(False, description="with precision fp8, fp8_recipe tensorwise and engine fsdp: "
                                                          "weights cast to fp8 before FSDP2's all-gather (half its bytes)")
    grad_accum: int = Field(1, gt=0, description="micro-batches per optimizer step")
    checkpointing: Checkpointing = Field("none", description="activation checkpointing (techniques/checkpointing.py)")
    checkpoint_k: int = Field(2, gt=0, description="with checkpointing: every_k, checkpoint one block in k")
    attention: Attention = Field("sdpa", description="attention implementation (techniques/attention.py)")
    compile: Compile = Field("off", description="torch.compile mode")
    compile_scope: Literal["auto", "model", "blocks"] = Field(
        "auto", description="with compile: model: one torch.compile of the whole model; blocks: each block compiled "
                            "on its own, the rest eager (torchtitan's way); auto: blocks with engine fsdp, else model")
    optimizer: Optimizer = Field("adamw", description="the optimizer")
    optimizer_impl: OptimizerImpl = Field("auto", description="the optimizer's kernel implementation")
    lr: float = Field(3e-4, gt=0, description="learning rate")
    grad_clip: float | None = Field(None, gt=0, description="clip_grad_norm_ max norm; null = no clipping")
    ema_decay: float | None = Field(None, gt=0, lt=1, description="EMA of weights after each step; null = off")
    engine: Engine = Field("torch", description="torch: one process; ddp, fsdp (FSDP2), deepspeed: torch.distributed; "
                                                "or a plug-in's (docs/plugins.md)")
    techniques: list[str] = Field(default_factory=list, description="plug-in techniques (docs/plugins.md), applied in "
                                                                    "this order after precision, before compile")
    world_size: int = Field(1, gt=0, description="ranks (GPUs) in all; > 1 launches the worker through torchrun")
    fsdp_param_dtype: Literal["fp32", "bf16"] | None = Field(
        None, description="engine fsdp: MixedPrecisionPolicy param_dtype (the dtype compute sees; the optimizer keeps "
                          "fp32); null = bf16 for precision bf16 / fp8, else fp32")
    fsdp_reduce_dtype: Literal["fp32", "bf16"] = Field("fp32", description="engine fsdp: MixedPrecisionPolicy "
                                                                           "reduce_dtype (gradient reduce-scatter)")
    fsdp_reshard_after_forward: bool = Field(True, description="engine fsdp: free the gathered parameters after forward "
                                                               "(ZeRO-3-like); false keeps them to backward (ZeRO-2-like)")
    nnodes: int = Field(1, gt=0, description="machines the ranks are spread over, world_size / nnodes on each; > 1 needs "
                                             "the launch settings (--node-rank and --rdzv-endpoint, or --hostfile)")

    # model parallelism (docs/parallelism.md); world_size = dp * tp_size * pp_size
    tp_size: int = Field(1, gt=0, description="tensor-parallel ranks (DTensor plans over a 'tp' mesh dimension); "
                                              "engine torch: pure TP; engine fsdp: a 2-D (dp, tp) mesh")
    sequence_parallel: bool = Field(False, description="with tp_size > 1: norms and residuals sharded over the "
                                                       "sequence (Megatron-style sequence parallelism)")
    pp_size: int = Field(1, gt=0, description="pipeline stages over ranks (torch.distributed.pipelining); > 1 needs "
                                              "engine torch and world_size == pp_size")
    pp_schedule: PpSchedule = Field("1f1b", description="pipeline schedule: gpipe (all forwards, then all backwards), "
                                                        "1f1b, interleaved_1f1b (several stages per rank)")
    pp_microbatches: int | None = Field(None, gt=0, description="micro-batches each batch is split into by the "
                                                                "pipeline; must divide batch_size; null = 2 * pp_size")
    pp_stages_per_rank: int | None = Field(None, gt=0, description="pipeline stages each rank holds; null = 1 (2 with "
                                                                   "interleaved_1f1b, which needs at least 2)")

    # DeepSpeed (engine: deepspeed); null = DeepSpeed's default, reported in the row
    zero_stage: int = Field(0, ge=0, le=3, description="DeepSpeed ZeRO stage")
    offload_optimizer: bool = Field(False, description="ZeRO: optimizer state on the CPU")
    offload_param: bool = Field(False, description="ZeRO-3: parameters on the CPU")
    ds_optimizer: DsOptimizer = Field("client", description="client: the torch optimizer; or DeepSpeed's FusedAdam / CPUAdam")
    reduce_bucket_size: int | None = Field(None, gt=0)
    allgather_bucket_size: int | None = Field(None, gt=0)
    stage3_prefetch_bucket_size: int | None = Field(None, gt=0)
    stage3_max_live_parameters: int | None = Field(None, gt=0)
    contiguous_gradients: bool | None = None
    grad_accum_dtype: Literal["fp32", "bf16", "fp16"] | None = Field(
        None, description="DeepSpeed data_types.grad_accum_dtype: the dtype gradients are kept in; null = the model's")

    # what is collected besides step times (collectors/)
    collect: list[Collect] = Field(
        default_factory=lambda: ["memory", "nvml", "flops"], description="collectors around the timed window; "
                                                                         "plug-ins add theirs (docs/plugins.md)")
    profile: bool = Field(False, description="torch.profiler window after the timed one; trace + GPU time by category")
    pyspy: bool = Field(False, description="py-spy record of the worker's Python stacks during the timed window")
    numerics_steps: int = Field(0, ge=0, description="numerics check: train this many steps against a reference "
                                                     "config (fp32, eager, ...) after timing; 0 = off (numerics.py)")
    numerics_reference: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="settings of the numerics check's reference config, over numerics.REFERENCE")

    # cost (analysis/cost.py): what the machine costs, for usd_per_mtoken; null = no cost column
    price_per_gpu_hour: float | None = Field(
        None, ge=0, description="US dollars per GPU (rank) hour, for the cost columns usd_per_mtoken / usd_per_msample "
                                "(docs/answers.md); null = no cost")
    price_per_kwh: float | None = Field(
        None, ge=0, description="US dollars per kWh, for energy_usd_per_mtoken (needs NVML energy, a GPU); null = none")

    # reporting
    peak_tflops: float | None = Field(None, gt=0, description="device peak for MFU; null = benchbench's table (peaks.py)")

    @field_validator("*", mode="before")
    @classmethod
    def _integers_are_integers(cls, v, info):
        """`batch_size: true` is not 1 and `batch_size: "8"` is not 8: a whole-number setting takes a number."""
        whole, boolean, words = _kinds(cls)[info.field_name]
        if whole and (isinstance(v, (bool, float)) or (isinstance(v, str) and v not in words)):
            either = "".join(f" or {w}" for w in words if w != "auto")  # auto: the message it always had
            raise ValueError(f"must be a whole number{either}, not {type(v).__name__} {v!r}")
        if boolean and not isinstance(v, bool) and v is not None:
            raise ValueError(f"must be true or false, not {v!r}")
        return v

    @field_validator("engine", "collect", "techniques", mode="wrap")
    @classmethod
    def _plugins_too(cls, v, handler, info):
        """A plug-in's name is a value too: checked against the installed entry points, and imported once
        here, so a broken plug-in is a problem of the suite, not of every worker."""
        kind, builtins = PLUGGABLE[info.field_name]
        try:
            extra = plugins.names(kind, builtins)
            theirs = [x for x in (v if isinstance(v, list) else [v]) if isinstance(x, str) and x in extra]
            for name in theirs:
                plugins.load(kind, name, builtins)
        except plugins.PluginError as e:
            raise ValueError(str(e)) from None
        if info.field_name == "techniques":
            unknown = [x for x in handler(v) if x not in extra]
            if unknown:
                raise ValueError(f"unknown technique {unknown[0]!r}; plug-in techniques installed: "
                                 f"{', '.join(extra) or 'none'} (docs/plugins.md)")
            return handler(v)
        if not isinstance(v, list):
            return v if theirs else handler(v)
        # the built-ins' own checks, a plug-in standing in for a built-in so that positions stay those of v
        out = handler([builtins[0] if x in theirs else x for x in v])
        return [x if x in theirs else got for x, got in zip(v, out)]

    @field_validator("measured_steps", "repeats")
    @classmethod
    def _at_least_one(cls, v, info):
        if v != "auto" and v < 1:
            raise ValueError(f"must be at least 1 (or auto), not {v}")
        top = MAX_COUNTS[info.field_name]
        if v != "auto" and v > top:
            raise ValueError(f"must be at most {top:,} (or auto), not {v:,}")
        return v

    @field_validator("warmup_steps", "min_steps", "max_steps", "max_repeats", "grad_accum", "numerics_steps")
    @classmethod
    def _bounded(cls, v, info):
        """Counts are checked before any work: a typo of a few zeros must not plan a billion runs or steps."""
        if v == "auto" and info.field_name == "warmup_steps":
            return v
        if info.field_name == "warmup_steps" and v < 0:
            raise ValueError(f"must be 0 or more (or auto), not {v}")
        top = MAX_COUNTS[info.field_name]
        if v > top:
            raise ValueError(f"must be at most {top:,}, not {v:,}")
        return v

    @model_validator(mode="after")
    def _steps_in_order(self):
        if self.min_steps > self.max_steps:
            raise ValueError(f"min_steps ({self.min_steps}) is above max_steps ({self.max_steps}); "
                             "measured_steps: auto measures between the two: lower min_steps or raise max_steps")
        return self

    @field_validator("price_per_gpu_hour", "price_per_kwh", mode="before")
    @classmethod
    def _prices_are_numbers(cls, v):
        if isinstance(v, (bool, str)):
            raise ValueError(f"must be a number of US dollars (e.g. 2.5), not {v!r}")
        return v

    @field_validator("batch_size")
    @classmethod
    def _positive(cls, v):
        if v != "max" and v < 1:
            raise PydanticCustomError("greater_than", "Input should be greater than 0")
        return v

    @field_validator("compile", mode="before")
    @classmethod
    def _yaml_booleans(cls, v):
        """YAML 1.1 reads a bare `off` as false: take false as "off" and true as "default"."""
        return {False: "off", True: "default"}.get(v, v) if isinstance(v, bool) else v

    @property
    def microbatches(self) -> int:
        """The pipeline's micro-batches per batch (pp_microbatches, or 2 per stage rank by default)."""
        return self.pp_microbatches or 2 * self.pp_size

    @property
    def stages_per_rank(self) -> int:
        return self.pp_stages_per_rank or (2 if self.pp_schedule == "interleaved_1f1b" else 1)

    @property
    def dp_size(self) -> int:
        """Data-parallel replicas: ranks that see different data (the TP and PP ranks of one replica share it)."""
        return max(1, self.world_size // (self.tp_size * self.pp_size))

    def canonical(self) -> dict:
        """The fields that identify the config: those not in NOT_IN_ID and not at their default
        (so a setting added in a later version leaves earlier configs' ids unchanged)."""
        return {k: v for k, v in self.model_dump().items() if k not in NOT_IN_ID and v != _DEFAULTS.get(k, object())}

    @functools.cached_property
    def config_id(self) -> str:
        blob = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    @property
    def effective_batch(self) -> int | None:
        """Samples per optimizer step, the global batch counted once (over the data-parallel replicas);
        None while batch_size is max (not searched yet)."""
        if self.batch_size == "max":
            return None
        return self.batch_size * self.grad_accum * self.dp_size

    def flat(self) -> dict:
        """Config as flat columns for a result row (model_args as compact JSON)."""
        d = self.model_dump()
        d["model_args"] = json.dumps(d["model_args"], sort_keys=True) if d["model_args"] else ""
        d["collect"] = ",".join(d["collect"])
        d["techniques"] = ",".join(d["techniques"])
        d["numerics_reference"] = json.dumps(d["numerics_reference"], sort_keys=True) if d["numerics_reference"] else ""
        return d


FIELDS = tuple(RunConfig.model_fields)
_DEFAULTS = RunConfig().model_dump()


def allowed_values(field: str) -> tuple | None:
    """The allowed values of a Literal field (None last for an optional one: null), or None when the
    field is free-form."""
    ann = RunConfig.model_fields[field].annotation
    if get_origin(ann) is Literal:
        extra = plugins.names(*PLUGGABLE[field]) if field in PLUGGABLE else ()
        return (*get_args(ann), *extra)
    parts = get_args(ann)
    if len(parts) == 2 and type(None) in parts:  # Literal[...] | None
        lit = next(a for a in parts if a is not type(None))
        return (*get_args(lit), None) if get_origin(lit) is Literal else None
    return None
