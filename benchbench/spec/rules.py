"""Gate rules as suites and the command line write them: "metric:<sign><percent>%".

"tokens_per_s:-5%": a drop of more than 5% is a regression; "peak_rss_bytes:+3%": a rise of more
than 3%. The sign may be left out for metrics whose good direction is known (metrics.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from benchbench.basics.errors import UserError
from benchbench.spec.metrics import STEP_TIME, declared, higher_is_better

RULE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([+-]?)\s*(\d+(?:\.\d+)?)\s*%\s*$")
RULE_FORMS = "metric:-N% (a drop of more than N% regresses) or metric:+N% (a rise of more than N%)"

GateError = UserError  # bad gate input; the message names the rule, file or key and the allowed values


@dataclass(frozen=True)
class Rule:
    metric: str
    threshold: float        # relative magnitude: 0.05 = 5%
    higher_is_better: bool  # the sign: "-" means a drop is bad

    def __str__(self) -> str:
        return f"{self.metric}:{'-' if self.higher_is_better else '+'}{self.threshold * 100:g}%"


def known_direction(metric: str) -> bool | None:
    """True: higher is better; False: lower is better; None: unknown (the rule must give a sign)."""
    if declared(metric) is not None:  # a plug-in's column says its direction
        return higher_is_better(metric)
    if higher_is_better(metric):
        return True
    if metric.startswith(STEP_TIME) or metric.endswith(("_s", "_bytes", "_j", "_w", "_flops_per_step")):
        return False
    return None


def parse_rule(text: str) -> Rule:
    m = RULE.match(text)
    if not m:
        raise GateError(f"rule {text!r}: expected {RULE_FORMS}, e.g. tokens_per_s:-5% or peak_rss_bytes:+3%")
    metric, sign, pct = m.group(1), m.group(2), float(m.group(3))
    known = known_direction(metric)
    if not sign:
        if known is None:
            raise GateError(f"rule {text!r}: {metric} has no known good direction; write {metric}:-{pct:g}% "
                            f"(higher is better) or {metric}:+{pct:g}% (lower is better)")
        return Rule(metric, pct / 100, known)
    higher = sign == "-"
    if known is not None and known != higher:
        good = "higher" if known else "lower"
        raise GateError(f"rule {text!r}: for {metric} {good} is better, so a regression is a "
                        f"{'drop' if known else 'rise'}: write {metric}:{'-' if known else '+'}{pct:g}%")
    return Rule(metric, pct / 100, higher)
