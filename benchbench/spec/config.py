"""RunConfig: one point of a sweep, frozen and validated.

Its fields are composed from declarations (SETTINGS): the harness's own groups below, and those of
every technique, engine and collector, built-in or plug-in (plugins/components.py), so no Literal
here repeats a registry. Every field is a possible sweep axis. A suite's `defaults:` and `sweep:` name these fields;
`model:` fills `model`, `model_size` and `model_args`. The config id is a hash of the fields
that change what is measured (not the timeout or the number of repeats), so rows of different
runs join on it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator
from pydantic_core import PydanticCustomError

from benchbench import collectors, engines, plugins, techniques
from benchbench.collectors import profiler, pyspy
from benchbench.engines import deepspeed_engine, fsdp, pipeline, tensor
from benchbench.plugins.components import Setting, settings_of
from benchbench.techniques import attention, checkpointing, compile, ema, fp8, optimizer, precision

# Settings of the harness itself; every other setting is declared by the component that reads it
# (SETTINGS of techniques/*.py, engines/*.py and the plug-ins: plugins/components.py).
WHAT = (
    Setting("model", "gpt", "a reference model (benchbench list models), py:<module>, timm:/torchvision:/hf:", type=str),
    Setting("model_size", "tiny", "one of the model's sizes (benchbench list models)", type=str),
    Setting("model_args", None, "the model's shape arguments over its size's", type=dict[str, int], default_factory=dict),
    Setting("batch_size", 8, "micro-batch per rank; max: the largest that fits, found by a max-batch search before "
            "the config is measured (its probes: rows of RUN/autobatch)", type=int, choices=("max",)),
    Setting("seq_len", None, "tokens per sample (token models); default: the model's context", type=int, optional=True,
            gt=0),
    Setting("image_size", None, "pixels per side (image models); default: the model's", type=int, optional=True, gt=0),
)
WHERE = (
    Setting("device", "auto", "auto = CUDA when torch sees a GPU, else CPU", choices=("auto", "cpu", "cuda")),
    Setting("warmup_steps", 3, "optimizer steps run before the timed window (0 or more; not measured); auto: until two "
            "consecutive step times after the first are within 5% (3 steps at least, 30 or 120 s at most)",
            type=int, choices=("auto",)),
    Setting("measured_steps", 20, "steps in the timed window; auto: measure in blocks until the median's interval is "
            "within target_halfwidth (min_steps .. max_steps, at most max_measure_s)", type=int, choices=("auto",)),
    Setting("repeats", 1, "separate worker processes per config; auto: add repeats (3 at least, max_repeats at most) "
            "until a sequential test (error rate kept at 5% over every look) tells the config from the suite's "
            "baseline config (or from itself in run --against RUN) or shows it the same within 1%; with no "
            "reference, until they pin the value within target_halfwidth", type=int, choices=("auto",), in_id=False),
    Setting("min_steps", 10, "measured_steps: auto: steps before the first stop check", type=int, gt=0, in_id=False),
    Setting("max_steps", 200, "measured_steps: auto: stop here whatever the interval", type=int, gt=0, in_id=False),
    Setting("max_measure_s", 60.0, "measured_steps: auto: stop after this many measured seconds", type=float, gt=0,
            in_id=False),
    Setting("target_halfwidth", 0.005, "auto: the 95% interval's half-width relative to the median that counts as "
            "sure (0.005 = 0.5%)", type=float, gt=0, lt=1, in_id=False),
    Setting("max_repeats", 10, "repeats: auto: stop adding repeats here (3 at the least: its first look is at 3 "
            "repeats)", type=int, gt=0, in_id=False),
    Setting("compile_cache", "shared", "with compile: shared: repeats after the first reuse its compiler caches (the "
            "row says cold or warm); cold: every repeat compiles from scratch (to measure compile time)",
            choices=("shared", "cold"), in_id=False),
    Setting("timeout_s", 900.0, "a worker with no result after this long is killed: status timeout", type=float, gt=0,
            in_id=False),
    Setting("seed", 0, "seeds the model init and the synthetic batches", type=int),
)
STEP = (Setting("grad_accum", 1, "micro-batches per optimizer step", type=int, gt=0),)
ENGINE = (
    Setting("engine", "torch", "torch: one process; ddp, fsdp (FSDP2), deepspeed: torch.distributed; or a plug-in's "
            "(docs/plugins.md)", choices=tuple(engines.ENGINES)),
    Setting("techniques", None, "plug-in techniques (docs/plugins.md), applied in this order after precision, before "
            "compile", type=list[str], default_factory=list),
    Setting("world_size", 1, "ranks (GPUs) in all; > 1 launches the worker through torchrun", type=int, gt=0),
)
NODES = (Setting("nnodes", 1, "machines the ranks are spread over, world_size / nnodes on each; > 1 needs the launch "
                 "settings (--node-rank and --rdzv-endpoint, or --hostfile)", type=int, gt=0),)
COLLECT = (Setting("collect", None, "collectors around the timed window; plug-ins add theirs (docs/plugins.md)",
                   type=list[Literal[collectors.LISTED]], default_factory=lambda: list(collectors.LISTED), in_id=False),)
NUMERICS = (
    Setting("numerics_steps", 0, "numerics check: train this many steps against a reference config (fp32, eager, "
            "...) after timing; 0 = off (numerics.py)", type=int, ge=0, in_id=False),
    Setting("numerics_reference", None, "settings of the numerics check's reference config, over numerics.REFERENCE",
            type=dict[str, str | int | float | bool | None], default_factory=dict, in_id=False),
)
COST = (  # what a config costs, not what it measures
    Setting("price_per_gpu_hour", None, "US dollars per GPU (rank) hour, for the cost columns usd_per_mtoken / "
            "usd_per_msample (docs/answers.md); null = no cost", type=float, optional=True, ge=0, in_id=False),
    Setting("price_per_kwh", None, "US dollars per kWh, for energy_usd_per_mtoken (needs NVML energy, a GPU); null = "
            "none", type=float, optional=True, ge=0, in_id=False),
)
REPORT = (Setting("peak_tflops", None, "device peak for MFU; null = benchbench's table (basics/device.py)", type=float,
                  optional=True, gt=0, in_id=False),)
# The order of the settings (list axes, a row's columns): the harness's groups and the components'
LAYOUT = (WHAT, WHERE, precision, fp8, STEP, checkpointing, attention, compile, optimizer, ema, ENGINE, fsdp, NODES,
          tensor, pipeline, deepspeed_engine, COLLECT, profiler.Profiler, pyspy.PySpy, NUMERICS, COST, REPORT)


def _compose() -> tuple[tuple[Setting, ...], dict[str, str]]:
    """Every setting once, in LAYOUT's order, then the other components' (plug-ins: theirs last); and
    plug-in -> why it cannot be used, for a plug-in whose setting takes a name already taken."""
    out: dict[str, Setting] = {}
    for part in LAYOUT:
        for s in part if isinstance(part, tuple) else settings_of(part):
            assert s.name not in out, f"setting {s.name} declared twice"
            out[s.name] = s
    clashes: dict[str, str] = {}
    builtin = {"techniques": techniques.BUILTIN, "engines": tuple(engines.ENGINES)}
    found = {**{("techniques", n): c for n, c in techniques.components().items()},
             **{("engines", n): c for n, c in engines.components().items()}}
    for (kind, name), comp in found.items():
        for s in settings_of(comp):
            if s.name in out and name not in builtin[kind]:
                clashes[name] = (f"plug-in {name!r} declares the setting {s.name!r}, which another component "
                                 f"declares already; rename its setting (docs/plugins.md)")
            elif s.name not in out:
                out[s.name] = s
    return tuple(out.values()), clashes


SETTINGS, _CLASHES = _compose()
# Settings whose values plug-ins add (benchbench.<kind> entry points, docs/plugins.md): field -> (kind, built-ins)
PLUGGABLE = {"engine": ("engines", tuple(engines.ENGINES)), "collect": ("collectors", collectors.LISTED),
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
NOT_IN_ID = tuple(s.name for s in SETTINGS if not s.in_id)


class Settings(BaseModel):
    """What every run config is and checks; RunConfig below adds the composed settings as its fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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

    @field_validator("engine", "collect", "techniques", mode="wrap", check_fields=False)
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
                if name in _CLASHES:
                    raise plugins.PluginError(_CLASHES[name])
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

    @field_validator("measured_steps", "repeats", check_fields=False)
    @classmethod
    def _at_least_one(cls, v, info):
        if v != "auto" and v < 1:
            raise ValueError(f"must be at least 1 (or auto), not {v}")
        top = MAX_COUNTS[info.field_name]
        if v != "auto" and v > top:
            raise ValueError(f"must be at most {top:,} (or auto), not {v:,}")
        return v

    @field_validator("warmup_steps", "min_steps", "max_steps", "max_repeats", "grad_accum", "numerics_steps",
                     check_fields=False)
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

    @field_validator("price_per_gpu_hour", "price_per_kwh", mode="before", check_fields=False)
    @classmethod
    def _prices_are_numbers(cls, v):
        if isinstance(v, (bool, str)):
            raise ValueError(f"must be a number of US dollars (e.g. 2.5), not {v!r}")
        return v

    @field_validator("batch_size", check_fields=False)
    @classmethod
    def _positive(cls, v):
        if v != "max" and v < 1:
            raise PydanticCustomError("greater_than", "Input should be greater than 0")
        return v

    @field_validator("compile", mode="before", check_fields=False)
    @classmethod
    def _yaml_booleans(cls, v):
        """YAML 1.1 reads a bare `off` as false: take false as "off" and true as "default"."""
        return {False: "off", True: "default"}.get(v, v) if isinstance(v, bool) else v

    def capability(self, name: str):
        """What the config's engine declares it does (plugins.components.CAPABILITY_DEFAULTS): techniques
        and the memory model ask this, never the engine's name."""
        value = engines.capabilities(self.engine)[name]
        return value(self) if callable(value) else value

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


RunConfig = create_model("RunConfig", __base__=Settings, __module__=__name__,
                         **{s.name: (s.annotation(), Field(**s.field_kwargs())) for s in SETTINGS})
RunConfig.__doc__ = "One point of a sweep: every setting of SETTINGS, frozen and validated."
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
