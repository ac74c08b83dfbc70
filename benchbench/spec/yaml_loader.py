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


# A suite is a few hundred nodes; aliases let ten lines stand for billions ("billion laughs"), and an
# alias inside its own anchor for an endless tree: both are refused before anything walks the tree.
MAX_NODES = 100_000
CYCLE = "its YAML has an alias inside the node it names (an endless structure); remove that alias"


class YamlLimitError(ValueError):
    """A YAML document too large once its aliases are expanded, or one that contains itself."""


MAX_SUITE_BYTES = 1 << 20  # a suite is a few kB


class FileProblem(ValueError):
    """A suite file that cannot be read as one YAML document: the one-line message names it (file:line)."""


def read_document(path: Path) -> tuple[str, object, object]:
    """(text, data, node) of a suite file, each limit checked before the next step's work."""
    try:
        if path.stat().st_size > MAX_SUITE_BYTES:
            raise FileProblem(f"{path}: {path.stat().st_size:,} bytes; a suite file is at most {MAX_SUITE_BYTES:,}")
        text = path.read_text()
    except OSError as e:
        raise FileProblem(f"{path}: cannot read suite file: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise FileProblem(f"{path}: not a text (UTF-8) file") from None
    try:
        data, node = compose_checked(text)
    except YamlLimitError as e:
        raise FileProblem(f"{path}: refused: {e}") from None
    except yaml.YAMLError as e:
        mark, context, context_mark = (getattr(e, a, None) for a in ("problem_mark", "context", "context_mark"))
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        msg = f"{where}: not valid YAML: {getattr(e, 'problem', None) or e}"
        if context and context_mark is not None and (mark is None or context_mark.line != mark.line):
            msg += f" ({context} that starts on line {context_mark.line + 1})"  # e.g. an unclosed [ or {
        raise FileProblem(msg) from None
    return text, data, node


def data_or_none(path: Path):
    """A stored suite file's data with the same limits, None when it cannot be read (readers go on without it)."""
    try:
        return read_document(Path(path))[1]
    except FileProblem:
        return None


def compose_checked(text: str):
    """(data, node) of one YAML document, refused (YamlLimitError) when it contains itself or expands
    to more than MAX_NODES nodes; yaml.YAMLError for text that is not YAML."""
    loader = Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise YamlLimitError("its YAML is nested too deeply; flatten it") from None
        if node is None:
            return None, None
        expanded_size(node)
        return loader.construct_document(node), node
    finally:
        loader.dispose()


def expanded_size(node) -> int:
    """Nodes of the tree once every alias is expanded; counted on the shared node graph (each node once),
    so a bomb is measured without being built."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()
    stack = [(node, False)]
    while stack:  # iterative post-order: deep nesting cannot exhaust Python's stack here
        n, done = stack.pop()
        if id(n) in sizes:
            continue
        kids = _children(n)
        if done:
            busy.discard(id(n))
            sizes[id(n)] = min(1 + sum(sizes[id(k)] for k in kids), MAX_NODES + 1)
            if sizes[id(n)] > MAX_NODES:
                raise YamlLimitError(f"its YAML expands to more than {MAX_NODES:,} values (aliases that repeat "
                                     "aliases); write the suite without nested aliases")
            continue
        if id(n) in busy:
            raise YamlLimitError(CYCLE)
        busy.add(id(n))
        stack.append((n, True))
        for k in kids:
            if id(k) in busy:
                raise YamlLimitError(CYCLE)
            if id(k) not in sizes:
                stack.append((k, False))
    return sizes[id(node)]


def _children(node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [x for kv in node.value for x in kv]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


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
                if fld is None and any(p.endswith(explain(err, None)) for p in self.problems):
                    continue  # a rule between settings (min_steps <= max_steps), already told where it was set
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
    if fld is None:  # a rule between settings: the message names them, the input is the whole config
        return err["msg"].removeprefix("Value error, ")
    allowed = allowed_values(fld) if fld in FIELDS else None
    if allowed is not None and err["type"] == "literal_error":
        return f"{val!r} is not allowed; allowed: {', '.join('null' if a is None else str(a) for a in allowed)}"
    return f"{val!r}: {err['msg'].removeprefix('Value error, ')}"
