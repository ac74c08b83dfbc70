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

Every problem is reported with the file, the line, the key, the bad value and what is allowed;
all problems at once, as SuiteError.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from benchbench import models
from benchbench.config import FIELDS, RunConfig, allowed_values

TOP_KEYS = ("name", "description", "model", "defaults", "sweep", "exclude", "include", "overrides", "baseline", "smoke")
MODEL_KEYS = ("model", "model_size", "model_args")  # set through `model:`, not defaults
# --smoke: every config at tiny scale, so any suite checks itself on a CPU in seconds.
SMOKE = dict(model_size="tiny", model_args={}, batch_size=2, seq_len=None, image_size=None, device="auto",
             warmup_steps=1, measured_steps=3, repeats=1, timeout_s=300.0, compile="off")


class SuiteError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


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
    text: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def expand(self, smoke: bool = False, overrides: dict | None = None) -> list[RunConfig]:
        """Cartesian product of the axes, minus `exclude`, overrides applied, plus `include`
        entries (defaults + the entry; an entry's own values win over overrides).

        `overrides` (e.g. --device from the command line) is applied last, after smoke."""
        names = list(self.axes)
        points = [dict(zip(names, values)) for values in itertools.product(*self.axes.values())]
        points = [p for p in points if not any(_matches(p, e) for e in self.exclude)]
        points = [(p, False) for p in points] + [(dict(e), True) for e in self.include]
        out, seen = [], set()
        for p, included in points:
            d = {**self.base, **p}
            for o in self.overrides:
                if _matches(d, o["match"]):
                    d.update(o["set"])
            if included:  # what an include entry names explicitly wins over overrides
                d.update(p)
            if smoke:
                d.update(SMOKE)
                d.update(self.smoke)
            d.update(overrides or {})
            cfg = RunConfig(**d)
            if cfg.config_id not in seen:
                seen.add(cfg.config_id)
                out.append(cfg)
        return out

    def baseline_id(self, configs: list[RunConfig]) -> str | None:
        if not configs:
            return None
        if self.baseline:
            for c in configs:
                if _matches(c.model_dump(), self.baseline):
                    return c.config_id
        return configs[0].config_id


def _matches(point: dict, rule: dict) -> bool:
    return all(point.get(k) == v for k, v in rule.items())


# ---------------------------------------------------------------- loading with line numbers


def _lines(node, path=()) -> dict[tuple, int]:
    out = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            out[path + (k.value,)] = k.start_mark.line + 1
            out.update({p: ln for p, ln in _lines(v, path + (k.value,)).items() if p != path + (k.value,)})
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            out.update(_lines(v, path + (i,)))
    return out


class _Checker:
    def __init__(self, path: Path, lines: dict):
        self.path, self.lines, self.problems = path, lines, []

    def add(self, loc: tuple, msg: str):
        line = next((self.lines[loc[:i]] for i in range(len(loc), -1, -1) if loc[:i] in self.lines), None)
        where = f"{self.path}:{line}" if line else str(self.path)
        key = _dotted(loc)
        self.problems.append(f"{where}: {key}: {msg}" if key else f"{where}: {msg}")

    def unknown_keys(self, loc: tuple, given: dict, allowed, what: str):
        for k in given:
            if k not in allowed:
                hint = difflib.get_close_matches(str(k), allowed, n=1)
                also = f" (did you mean {hint[0]!r}?)" if hint else ""
                self.add(loc + (k,), f"unknown {what} {k!r}{also}; allowed: {', '.join(allowed)}")

    def config_values(self, loc: tuple, values: dict, base: dict) -> bool:
        """Validate `values` as RunConfig fields on top of `base`; report each bad one at loc+key."""
        try:
            RunConfig(**{**base, **values})
            return True
        except ValidationError as e:
            for err in e.errors():
                fld = err["loc"][0] if err["loc"] else None
                sub = loc + ((fld,) if fld in values else ())
                self.add(sub, _explain(err, fld))
            return False


def _dotted(loc: tuple) -> str:
    s = ""
    for part in loc:
        s += f"[{part}]" if isinstance(part, int) else (f".{part}" if s else str(part))
    return s


def _explain(err: dict, fld) -> str:
    val = err.get("input")
    allowed = allowed_values(fld) if fld in FIELDS else None
    if allowed is not None and err["type"] == "literal_error":
        return f"{val!r} is not allowed; allowed: {', '.join(map(str, allowed))}"
    return f"{val!r}: {err['msg']}"


def load(path: str | Path) -> Suite:
    """Read and validate a suite file. Raises SuiteError listing every problem."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise SuiteError([f"{path}: cannot read suite file: {e.strerror or e}"]) from None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise SuiteError([f"{where}: not valid YAML: {getattr(e, 'problem', None) or e}"]) from None
    ck = _Checker(path, _lines(node) if node is not None else {})
    if not isinstance(data, dict):
        raise SuiteError([f"{path}: a suite is a YAML mapping with keys {', '.join(TOP_KEYS)}"])
    ck.unknown_keys((), data, TOP_KEYS, "top-level key")
    suite = _check(path, data, ck)
    if ck.problems:
        raise SuiteError(ck.problems)
    suite.text = text
    return suite


def _mapping(ck: _Checker, data: dict, key: str) -> dict:
    v = data.get(key) or {}
    if not isinstance(v, dict):
        ck.add((key,), f"must be a mapping (key: value), got {type(v).__name__}")
        return {}
    return v


def _entries(ck: _Checker, data: dict, key: str) -> list[dict]:
    v = data.get(key) or []
    if not isinstance(v, list) or not all(isinstance(e, dict) for e in v):
        ck.add((key,), "must be a list of mappings, e.g. [{precision: fp32, attention: flash}]")
        return []
    return v


def _check(path: Path, data: dict, ck: _Checker) -> Suite:
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or not all(ch.isalnum() or ch in "-_." for ch in name):
        ck.add(("name",), f"{name!r}: required; letters, digits, '-', '_' and '.' only (it names the results folder)")
    description = data.get("description", "")

    model = _mapping(ck, data, "model")
    base: dict = {}
    if "name" not in model:
        ck.add(("model",), f"needs a name; allowed: {', '.join(models.MODELS)}, or py:<module>")
    else:
        base["model"] = model["name"]
        base["model_size"] = model.get("size", "tiny")
        base["model_args"] = {k: v for k, v in model.items() if k not in ("name", "size")}
        probe = RunConfig.model_construct(**{**RunConfig().model_dump(), **base})
        for fld, msg in models.problems(probe):
            ck.add(("model", "size" if fld == "model_size" else (fld if fld != "model" else "name")), msg)

    defaults = _mapping(ck, data, "defaults")
    allowed_fields = [f for f in FIELDS if f not in MODEL_KEYS]
    ck.unknown_keys(("defaults",), defaults, allowed_fields, "setting")
    defaults = {k: v for k, v in defaults.items() if k in allowed_fields}
    if ck.config_values(("defaults",), defaults, {**base}):
        base.update(defaults)
    else:
        base.update({k: v for k, v in defaults.items() if _ok(k, v, base)})

    axes: dict[str, list] = {}
    for k, values in _mapping(ck, data, "sweep").items():
        if k not in FIELDS or k in ("model", "model_args"):
            ck.unknown_keys(("sweep",), {k: 0}, [f for f in FIELDS if f not in ("model", "model_args")], "axis")
            continue
        if not isinstance(values, list) or not values:
            ck.add(("sweep", k), f"{values!r}: an axis is a non-empty list of values")
            continue
        good = [i for i, v in enumerate(values) if ck.config_values(("sweep", k, i), {k: v}, base)]
        if len(good) == len(values):
            axes[k] = values

    exclude, include = _entries(ck, data, "exclude"), _entries(ck, data, "include")
    for top, entries in (("exclude", exclude), ("include", include)):
        for i, e in enumerate(entries):
            _settings(ck, (top, i), e, base)
    baseline = data.get("baseline")
    if baseline is not None and not isinstance(baseline, dict):
        ck.add(("baseline",), "must be a mapping of axis values that names one config, e.g. {precision: fp32}")
        baseline = None
    elif baseline:
        _settings(ck, ("baseline",), baseline, base)

    overrides = _entries(ck, data, "overrides")
    for i, o in enumerate(overrides):
        ck.unknown_keys(("overrides", i), o, ["match", "set"], "key")
        for part in ("match", "set"):
            if not isinstance(o.get(part), dict):
                ck.add(("overrides", i, part), "required: a mapping of settings")
            else:
                _settings(ck, ("overrides", i, part), o[part], base)

    smoke = _mapping(ck, data, "smoke")
    _settings(ck, ("smoke",), smoke, base)

    return Suite(path=path, name=str(name), description=str(description), base=base, axes=axes,
                 exclude=exclude, include=include, overrides=overrides, baseline=baseline, smoke=smoke)


def _settings(ck: _Checker, loc: tuple, given: dict, base: dict):
    """Keys must be config fields, values valid for them."""
    ck.unknown_keys(loc, given, list(FIELDS), "setting")
    ck.config_values(loc, {k: v for k, v in given.items() if k in FIELDS}, base)


def _ok(k, v, base) -> bool:
    try:
        RunConfig(**{**base, k: v})
        return True
    except ValidationError:
        return False


def check_models(suite: Suite, configs: list[RunConfig]) -> list[str]:
    """Model problems only visible after expansion (a swept model_size that does not exist)."""
    seen, out = set(), []
    for c in configs:
        for fld, msg in models.problems(c):
            if msg not in seen:
                seen.add(msg)
                out.append(f"{suite.path}: {fld}: {msg}")
    return out
