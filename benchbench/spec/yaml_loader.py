"""Suite YAML read with line numbers, and the checker that collects every problem of a suite
(file:line: key: message, with the allowed values): used by suite.py."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from benchbench.spec.config import FIELDS, RunConfig, allowed_values


class Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and floats (PyYAML implements YAML 1.1, where off/on/yes/no
    are booleans, so `compile: off` would be False, and 3e-4 is a string)."""


Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
                              list("-+0123456789"))


def lines(node, path=()) -> dict[tuple, int]:
    out = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            out[path + (k.value,)] = k.start_mark.line + 1
            out.update({p: ln for p, ln in lines(v, path + (k.value,)).items() if p != path + (k.value,)})
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            out.update(lines(v, path + (i,)))
    return out


def duplicates(node, path=()):
    """(path, line) of every key given twice in one mapping (YAML keeps the last silently)."""
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for k, v in node.value:
            if k.value in seen:
                yield path + (k.value,), k.start_mark.line + 1
            seen.add(k.value)
            yield from duplicates(v, path + (k.value,))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            yield from duplicates(v, path + (i,))


class Checker:
    def __init__(self, path: Path, lines: dict):
        self.path, self.lines, self.problems = path, lines, []

    def add(self, loc: tuple, msg: str, line: int | None = None):
        if line is None:
            line = next((self.lines[loc[:i]] for i in range(len(loc), -1, -1) if loc[:i] in self.lines), None)
        where = f"{self.path}:{line}" if line else str(self.path)
        key = dotted(loc)
        self.problems.append(f"{where}: {key}: {msg}" if key else f"{where}: {msg}")

    def unknown_keys(self, loc: tuple, given: dict, allowed, what: str):
        for k in given:
            if k not in allowed:
                hint = difflib.get_close_matches(str(k), allowed, n=1)
                also = f" (did you mean {hint[0]!r}?)" if hint else ""
                self.add(loc + (k,), f"unknown {what} {k!r}{also}; allowed: {', '.join(allowed)}")

    def settings(self, loc: tuple, given: dict, base: dict):
        """Keys must be config fields, values valid for them."""
        self.unknown_keys(loc, given, list(FIELDS), "setting")
        self.config_values(loc, {k: v for k, v in given.items() if k in FIELDS}, base)

    def config_values(self, loc: tuple, values: dict, base: dict, at_key: bool = True) -> bool:
        """Validate `values` as RunConfig fields on top of `base`; report each bad one at loc+key
        (at loc itself when at_key is False: loc already names the value)."""
        try:
            RunConfig(**{**base, **values})
            return True
        except ValidationError as e:
            for err in e.errors():
                fld = err["loc"][0] if err["loc"] else None
                sub = loc + ((fld,) if at_key and fld in values else ())
                self.add(sub, explain(err, fld))
            return False


def dotted(loc: tuple) -> str:
    s = ""
    for part in loc:
        s += f"[{part}]" if isinstance(part, int) else (f".{part}" if s else str(part))
    return s


def explain(err: dict, fld) -> str:
    val = err.get("input")
    allowed = allowed_values(fld) if fld in FIELDS else None
    if allowed is not None and err["type"] == "literal_error":
        return f"{val!r} is not allowed; allowed: {', '.join('null' if a is None else str(a) for a in allowed)}"
    return f"{val!r}: {err['msg'].removeprefix('Value error, ')}"
