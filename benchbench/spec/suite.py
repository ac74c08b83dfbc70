"""Suite YAML -> validated Suite -> list of RunConfig.

    name: amp
    description: ...
    model: {name: gpt, size: 124m}        # any other key is a shape argument of the model
    defaults: {batch_size: 16, device: cuda, ...}   # any RunConfig field
    sweep: {precision: [fp32, bf16], attention: [sdpa, eager]}
    exclude: [{precision: fp32, attention: flash}]  # drop configs matching every key of an entry
    include: [{precision: bf16, compile: default}]  # add configs (defaults + the entry)
    overrides: [{match: {precision: fp16}, set: {batch_size: 8}}]
    baseline: {precision: fp32}             # the config speedups are relative to (default: the first)
    smoke: {batch_size: 1}                  # extra settings for --smoke
    gate: ["tokens_per_s:-5%", "peak_allocated_bytes:+3%"]   # benchbench gate's rules for runs of this suite
    numerics: true                          # also check each config's math against a reference (numerics.py)

Scalars are read as YAML 1.2 does: only true/false are booleans (`compile: off` is the string
"off") and 3e-4 is a number.

Every problem is reported with the file, the line, the key, the bad value and what is allowed;
all problems at once, as SuiteError.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from benchbench.basics.errors import UserError
from benchbench.spec import options as suite_options
from benchbench.spec.config import FIELDS, NOT_IN_ID, RunConfig, allowed_values
from benchbench.spec.smoke import SMOKE, smoke_settings  # noqa: F401  (SMOKE: importable here too)
from benchbench.spec.yaml_loader import (
    Checker,
    FileProblem,
    compose_checked,
    duplicates,
    explain,
    lines,
    read_document,
)

TOP_KEYS = ("name", "description", "model", "defaults", "sweep", "exclude", "include", "overrides", "baseline", "smoke",
            "gate", "numerics")
MODEL_KEYS = ("model", "model_size", "model_args")  # set through `model:`, not defaults
AXES = tuple(f for f in FIELDS if f not in ("model", "model_args", *NOT_IN_ID))
EXAMPLES = {
    "exclude": "[{precision: fp32, attention: flash}]",
    "include": "[{precision: bf16, compile: default}]",
    "overrides": "[{match: {precision: fp16}, set: {batch_size: 8}}]",
}


def raw_size(path) -> int:
    """Points of a suite file's sweep from its YAML alone (product of the axes' lengths + include entries),
    before any validation or expansion: 0 when the file cannot say (load() then reports why)."""
    try:
        data = compose_checked(Path(path).read_text())[0]
        sweep, include = (data.get("sweep") or {}), (data.get("include") or [])
        n = 1
        for values in sweep.values():
            n *= len(values) if isinstance(values, list) else 1
        return n + (len(include) if isinstance(include, list) else 0)
    except Exception:
        return 0


SuiteError = UserError  # a suite's problems, one line each


@dataclass
class Suite:
    path: Path
    name: str
    description: str
    base: dict
    axes: dict[str, list]
    exclude: list[dict] = field(default_factory=list)
    include: list[dict] = field(default_factory=list)
    overrides: list[dict] = field(default_factory=list)
    baseline: dict | None = None
    smoke: dict = field(default_factory=dict)
    gate: list[str] = field(default_factory=list)   # default rules of `benchbench gate` (gate.parse_rule strings)
    text: str = ""
    _expanded: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # memo of _expand

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def size(self) -> int:
        """Points of the sweep before exclude and deduplication: the product of the axes' lengths plus the
        include entries (cheap: nothing is built, so a huge sweep can be refused before it is expanded)."""
        n = 1
        for values in self.axes.values():
            n *= len(values)
        return n + len(self.include)

    def _expand(self, smoke: bool = False, overrides: dict | None = None) -> list[tuple[RunConfig, RunConfig]]:
        """(the config as the suite defines it; the config to run) for every point, not deduplicated.

        A point is defaults + axis values, then every override whose `match` it meets; include
        entries are defaults + the entry, overrides applied, then the entry's own values again
        (they win, and rules after an override see them). `exclude` drops product points whose
        defined config matches an entry.
        --smoke settings and the command line's `overrides` apply last, to the config to run."""
        key = repr((self.base, self.axes, self.exclude, self.include, self.overrides, self.smoke, smoke, overrides))
        if key not in self._expanded:
            self._expanded = {key: self._expand_uncached(smoke, overrides)}  # load() checks, then run expands
        return self._expanded[key]

    def _expand_uncached(self, smoke: bool, overrides: dict | None) -> list[tuple[RunConfig, RunConfig]]:
        names = list(self.axes)
        points = [(dict(zip(names, values)), False) for values in itertools.product(*self.axes.values())]
        points += [(dict(e), True) for e in self.include]
        exclude = [_norm(e) for e in self.exclude]
        rules = [(_norm(o["match"]), o["set"]) for o in self.overrides]
        out = []
        for p, included in points:
            d = {**self.base, **p}
            defined = RunConfig(**d)
            for match, settings in rules:
                if _matches(defined, match):
                    d.update(settings)
                    if included:  # what an include entry names explicitly wins over overrides
                        d.update(p)
                    defined = RunConfig(**d)
            if not included and any(_matches(defined, e) for e in exclude):
                continue
            cfg = defined
            if smoke or overrides:
                if smoke:
                    d.update(smoke_settings(defined, p))
                    d.update(self.smoke)
                d.update(overrides or {})
                cfg = RunConfig(**d)
            out.append((defined, cfg))
        return out

    def expand(self, smoke: bool = False, overrides: dict | None = None) -> list[RunConfig]:
        """Cartesian product of the axes, minus `exclude`, overrides applied, plus `include`
        entries (defaults + the entry; an entry's own values win over overrides); configs with
        the same id once, first come first.

        `overrides` (e.g. --device from the command line) is applied last, after smoke."""
        out, seen = [], set()
        for _, cfg in self._expand(smoke, overrides):
            if cfg.config_id not in seen:
                seen.add(cfg.config_id)
                out.append(cfg)
        return out

    def baseline_id(self, *, smoke: bool = False, overrides: dict | None = None) -> str | None:
        """Id of the config speedups are relative to: the one `baseline:` names, else the first.

        `baseline:` is matched on the configs as the suite defines them, so with --smoke or
        --device it names the same config at tiny scale or on the other device."""
        pairs = self._expand(smoke, overrides)
        if not pairs:
            return None
        if self.baseline:
            rule = _norm(self.baseline)
            for defined, cfg in pairs:
                if _matches(defined, rule):
                    return cfg.config_id
        return pairs[0][1].config_id


def _norm(rule: dict) -> dict:
    """A rule's values as RunConfig holds them (8.0 -> 8 for an int field), so matching compares like with like."""
    try:
        full = RunConfig(**rule).model_dump()
    except (ValidationError, TypeError):
        return dict(rule)
    return {k: full[k] for k in rule}


_MISSING = object()


def _matches(cfg: RunConfig, rule: dict) -> bool:
    return all(getattr(cfg, k, _MISSING) == v for k, v in rule.items())


def _flow(d: dict) -> str:
    return yaml.safe_dump(d, default_flow_style=True, sort_keys=False, width=10**6).strip()


def load(path: str | Path) -> Suite:
    """Read and validate a suite file. Raises SuiteError listing every problem."""
    path = Path(path)
    try:
        text, data, node = read_document(path)
    except FileProblem as e:
        raise SuiteError([str(e)]) from None
    ck = Checker(path, lines(node) if node is not None else {})
    if not isinstance(data, dict):
        raise SuiteError([f"{path}: a suite is a YAML mapping with keys {', '.join(TOP_KEYS)}"])
    for loc, line in duplicates(node):
        ck.add(loc, "given twice; YAML would keep only the last one", line)
    ck.unknown_keys((), data, TOP_KEYS, "top-level key")
    suite = _check(path, data, ck)
    if not ck.problems:
        _check_expansion(ck, suite)
    if ck.problems:
        raise SuiteError(ck.problems)
    suite.text = text
    return suite


def _mapping(ck: Checker, data: dict, key: str) -> dict:
    v = data.get(key)
    if v is None:
        return {}
    if not isinstance(v, dict):
        ck.add((key,), f"must be a mapping (key: value), got {type(v).__name__}")
        return {}
    return v


def _entries(ck: Checker, data: dict, key: str) -> list[dict]:
    v = data.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        ck.add((key,), f"must be a list of mappings, e.g. {EXAMPLES[key]}; got {type(v).__name__}")
        return []
    bad = [i for i, e in enumerate(v) if not isinstance(e, dict)]
    for i in bad:
        ck.add((key, i), f"{v[i]!r}: an entry is a mapping, e.g. {EXAMPLES[key]}")
    return [] if bad else v


def _sizes(name) -> dict:
    from benchbench import models  # the registry imports torch: only when validating

    try:
        return models.module(name).SIZES
    except Exception:  # unknown or unimportable: validation reports it
        return {}


def _default_size(name) -> str:
    """A model's size when the suite names none: tiny where it has one, else its first."""
    sizes = _sizes(name)
    return "tiny" if "tiny" in sizes or not sizes else next(iter(sizes))


def _model(ck: Checker, model: dict) -> dict:
    """model: {name, size, <shape arguments>} -> model, model_size, model_args; problems at model.<key>."""
    from benchbench import models  # the registry imports torch: only when validating

    given = {"model": model["name"], "model_size": model.get("size") or _default_size(model["name"]),
             "model_args": {k: v for k, v in model.items() if k not in ("name", "size")}}
    try:
        RunConfig(**given)
    except ValidationError as e:
        for err in e.errors():
            if err["loc"][0] == "model_args" and len(err["loc"]) > 1:
                arg = err["loc"][1]
                ck.add(("model", arg), explain(err, "model_args"))
                given["model_args"].pop(arg, None)
            else:
                ck.add(("model", {"model": "name", "model_size": "size"}[err["loc"][0]]), explain(err, err["loc"][0]))
                return {}
    probe = RunConfig(**{**given, "model_args": {}})
    found = models.problems(probe)
    for fld, msg in found:
        ck.add(("model", "size" if fld == "model_size" else "name"), msg)
    if not any(fld == "model" for fld, _ in found):
        for k, v in given["model_args"].items():
            for fld, msg in models.problems(probe.model_copy(update={"model_args": {k: v}})):
                if fld == "model_args":
                    ck.add(("model", k), msg)
    return given


def _check(path: Path, data: dict, ck: Checker) -> Suite:
    from benchbench import models  # the registry imports torch: only when validating
    models.user.beside(path)  # its py: models are found beside it, here and in every worker
    name = data.get("name")
    if name is None:
        ck.add(("name",), "required: the suite's name (letters, digits, '-', '_' and '.'; it names the results folder)")
    elif not isinstance(name, str) or not name or name[0] == "." or not all(ch.isalnum() or ch in "-_." for ch in name):
        ck.add(("name",), f"{name!r}: letters, digits, '-', '_' and '.' only, not starting with '.' (it names the results folder)")
    description = data.get("description", "")

    model = _mapping(ck, data, "model")
    base: dict = {}
    if "name" not in model:
        known = ", ".join((*models.MODELS, *getattr(models, "ADAPTER_SPECS", ())))
        ck.add(("model",), f"needs a name; allowed: {known}, or py:<module>")
    else:
        base = _model(ck, model)

    defaults = _mapping(ck, data, "defaults")
    allowed_fields = [f for f in FIELDS if f not in MODEL_KEYS]
    for k in defaults:
        if k in MODEL_KEYS:
            ck.add(("defaults", k), "the model is not a default; set it in model: {name: ..., size: ..., <shape arguments>}")
    ck.unknown_keys(("defaults",), {k: v for k, v in defaults.items() if k not in MODEL_KEYS}, allowed_fields, "setting")
    defaults = {k: v for k, v in defaults.items() if k in allowed_fields}
    if ck.config_values(("defaults",), defaults, {**base}):
        base.update(defaults)
    else:
        base.update({k: v for k, v in defaults.items() if _ok(k, v, base)})

    base.update(suite_options.numerics(ck, data.get("numerics"), base))

    axes: dict[str, list] = {}
    for k, values in _mapping(ck, data, "sweep").items():
        if k in NOT_IN_ID:
            ck.add(("sweep", k), f"{k} is not an axis: it does not change what is measured; set it in defaults")
            continue
        if k not in AXES:
            ck.unknown_keys(("sweep",), {k: 0}, AXES, "axis")
            continue
        if not isinstance(values, list) or not values:
            allowed = allowed_values(k)
            example = f", e.g. [{', '.join(map(str, allowed[:2]))}]" if allowed else ""
            ck.add(("sweep", k), f"{values!r}: an axis is a non-empty list of values{example}")
            continue
        good = [i for i, v in enumerate(values) if ck.config_values(("sweep", k, i), {k: v}, base, at_key=False)]
        if k == "model_size" and base:
            for i in list(good):
                for fld, msg in models.problems(RunConfig(**{**base, k: values[i]})):
                    if fld == "model_size":
                        ck.add(("sweep", k, i), msg)
                        good.remove(i)
        if len(good) == len(values):
            axes[k] = values

    exclude, include = _entries(ck, data, "exclude"), _entries(ck, data, "include")
    for top, entries in (("exclude", exclude), ("include", include)):
        for i, e in enumerate(entries):
            _settings(ck, (top, i), e, base)
    baseline = data.get("baseline")
    if baseline is not None and not isinstance(baseline, dict):
        ck.add(("baseline",), f"{baseline!r}: must be a mapping of axis values that names one config, e.g. {{precision: fp32}}")
        baseline = None
    elif baseline:
        _settings(ck, ("baseline",), baseline, base)

    overrides = _entries(ck, data, "overrides")
    for i, o in enumerate(overrides):
        ck.unknown_keys(("overrides", i), o, ["match", "set"], "key")
        for part in ("match", "set"):
            if not isinstance(o.get(part), dict):
                ck.add(("overrides", i, part), f"required: a mapping of settings, e.g. {EXAMPLES['overrides']}")
            else:
                _settings(ck, ("overrides", i, part), o[part], base)

    smoke = _mapping(ck, data, "smoke")
    _settings(ck, ("smoke",), smoke, base)

    return Suite(path=path, name=str(name), description=str(description or ""), base=base, axes=axes,
                 exclude=exclude, include=include, overrides=overrides, baseline=baseline, smoke=smoke,
                 gate=suite_options.gate_rules(ck, data.get("gate")))


def _check_warmup(ck: Checker, configs: list[RunConfig]):
    """A compiled config must compile before its timed window: compile needs a warmup step, CUDA graphs
    (reduce-overhead) two (one to record, one to replay), or compilation is measured as a step."""
    for cfg in configs:
        need = 2 if cfg.compile == "reduce-overhead" else 1 if cfg.compile != "off" else 0
        if cfg.warmup_steps != "auto" and cfg.warmup_steps < need:  # auto takes 3 steps at least
            where = ("defaults", "warmup_steps")
            ck.add(where, f"compile: {cfg.compile} with warmup_steps: {cfg.warmup_steps} would put compilation"
                          f"{' and CUDA-graph capture' if need == 2 else ''} inside the timed window; set warmup_steps: "
                          f"{need} or more")
            return


def _check_parallel(ck: Checker, suite: Suite, configs: list[RunConfig]):
    """Every config's ranks must split into whole data-parallel replicas of tp_size x pp_size ranks."""
    for cfg in configs:
        if cfg.world_size % (cfg.tp_size * cfg.pp_size):
            key = next((k for k in ("tp_size", "pp_size", "world_size") if k in suite.axes), None)
            where = ("sweep", key) if key else ("defaults", "tp_size" if cfg.tp_size > 1 else "pp_size")
            ck.add(where, f"world_size={cfg.world_size} is not a multiple of tp_size x pp_size = {cfg.tp_size} x "
                          f"{cfg.pp_size}; every data-parallel replica takes tp_size x pp_size ranks (exclude the "
                          "combination or change the values)")
            return


def _check_expansion(ck: Checker, suite: Suite):
    """Problems only the expanded sweep shows: nothing left to run, a baseline naming no config or several."""
    pairs = suite._expand()
    if not pairs:
        ck.add(("exclude",), "excludes every config of the sweep; nothing would run")
        return
    _check_warmup(ck, [cfg for _, cfg in pairs])
    _check_parallel(ck, suite, [cfg for _, cfg in pairs])
    if not suite.baseline:
        return
    rule = _norm(suite.baseline)
    hits = list(dict.fromkeys(cfg.config_id for defined, cfg in pairs if _matches(defined, rule)))
    if len(hits) == 1:
        return
    keys = list(dict.fromkeys([*suite.axes, *(k for e in suite.include for k in e)])) or list(suite.baseline)
    n = len({cfg.config_id for _, cfg in pairs})
    if not hits:
        example = _flow({k: getattr(pairs[0][0], k) for k in keys})
        ck.add(("baseline",), f"{_flow(suite.baseline)} matches none of the {n} configs; name one by its axis values, e.g. {example}")
    elif len(hits) > 1:
        first = next(defined for defined, cfg in pairs if cfg.config_id == hits[0])
        example = _flow({k: getattr(first, k) for k in keys})
        ck.add(("baseline",), f"{_flow(suite.baseline)} matches {len(hits)} of the {n} configs; name one, e.g. {example}")


def _settings(ck: Checker, loc: tuple, given: dict, base: dict):
    ck.settings(loc, given, base)


def _ok(k, v, base) -> bool:
    try:
        RunConfig(**{**base, k: v})
        return True
    except ValidationError:
        return False


def check_models(suite: Suite, configs: list[RunConfig]) -> list[str]:
    """Model problems only visible after expansion (a model_size set by an override or include entry)."""
    from benchbench import models  # the registry imports torch: only when validating
    seen, out = set(), []
    for c in configs:
        for fld, msg in models.problems(c):
            if msg not in seen:
                seen.add(msg)
                out.append(f"{suite.path}: {fld}: {msg}")
    return out
