"""Top-level suite keys that set how configs are checked rather than what is swept:
`gate:` (benchbench gate's rules) and `numerics:` (the numerics check, numerics.py)."""

from __future__ import annotations

from benchbench.spec.rules import GateError, parse_rule
from benchbench.spec.yaml_loader import Checker

DEFAULT_NUMERICS_STEPS = 50  # steps of the numerics check when the suite says `numerics: true`


def numerics(ck: Checker, spec, base: dict) -> dict:
    """`numerics: true | false | {steps: K, reference: {settings}}` -> numerics_steps / numerics_reference."""
    example = "true, or {steps: 50, reference: {precision: fp32, attention: eager}}"
    if spec is None or spec is False:
        return {}
    if spec is True:
        return {"numerics_steps": DEFAULT_NUMERICS_STEPS}
    if not isinstance(spec, dict):
        ck.add(("numerics",), f"{spec!r}: {example}")
        return {}
    ck.unknown_keys(("numerics",), spec, ["steps", "reference"], "key")
    steps = spec.get("steps", DEFAULT_NUMERICS_STEPS)
    out = {}
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        ck.add(("numerics", "steps"), f"{steps!r}: a whole number of training steps > 0, e.g. 50")
    else:
        out["numerics_steps"] = steps
    ref = spec.get("reference", {})
    if not isinstance(ref, dict):
        ck.add(("numerics", "reference"), f"{ref!r}: a mapping of settings, e.g. {{precision: fp32, attention: eager}}")
    elif ref:
        ck.settings(("numerics", "reference"), ref, base)
        out["numerics_reference"] = ref
    return out


def gate_rules(ck: Checker, rules) -> list[str]:
    """`gate:`: a list of rule strings, each as `benchbench gate --rule` takes it."""
    if rules is None:
        return []
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        ck.add(("gate",), f"{rules!r}: a list of rules, e.g. [\"tokens_per_s:-5%\", \"peak_allocated_bytes:+3%\"]")
        return []
    for i, r in enumerate(rules):
        try:
            parse_rule(r)
        except GateError as e:
            ck.add(("gate", i), str(e))
    return list(rules)
