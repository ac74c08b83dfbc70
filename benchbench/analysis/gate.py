"""The CI gate: a run against a baseline, rule by rule; exit 0 (nothing regressed) or 1 (something did).

A rule is "metric:<sign><percent>%", e.g. "tokens_per_s:-5%" (a drop of more than 5% is a
regression) or "peak_rss_bytes:+3%" (a rise of more than 3%). The sign says which direction is
bad; it may be left out for metrics whose good direction is known (compare.higher_is_better).
A config regresses on a rule when compare() calls it worse: the change exceeds the threshold and
is significant (deterministic metrics: the threshold alone), or it was ok in the baseline and is
now oom/error/timeout/killed/skipped or missing.

Input problems (a rule that does not parse, a metric neither run measured, a baseline from another
suite or machine) raise GateError: the CLI's exit 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from benchbench.analysis import compare
from benchbench.spec.rules import RULE_FORMS, GateError, Rule, known_direction, parse_rule  # noqa: F401
from benchbench.store.baseline import Baseline

# What the environment check compares: (env.json key, what it is called in messages)
ENV_KEYS = (("gpu_name", "GPU model"), ("driver_major", "NVIDIA driver major version"),
            ("torch_version", "torch version"), ("cuda_version", "CUDA version"))
ENV_NOTES = (("cpu_model", "CPU model"), ("cpu_count", "CPU count"), ("gpu_count", "GPU count"))


def suite_rules(run_dir) -> list[str]:
    """The `gate:` rules of the suite a run was made from (its stored suite.yaml), [] when none."""
    import yaml

    try:
        data = yaml.safe_load((Path(run_dir) / "suite.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return []
    rules = data.get("gate") if isinstance(data, dict) else None
    return [str(r) for r in rules] if isinstance(rules, list) else []


def default_rules(df: pd.DataFrame) -> list[Rule]:
    """Throughput must not drop by 5%, peak memory must not rise by 5% (allocator peak on a GPU, RSS on a CPU)."""
    ok = df[df["status"] == "ok"]
    thr = "tokens_per_s" if "tokens_per_s" in ok and ok["tokens_per_s"].notna().any() else "samples_per_s"
    mem = "peak_allocated_bytes" if "peak_allocated_bytes" in ok and ok["peak_allocated_bytes"].notna().any() \
        else "peak_rss_bytes"
    return [Rule(thr, 0.05, True), Rule(mem, 0.05, False)]


def _env_value(env: dict, key: str):
    if key == "driver_major":
        d = env.get("driver_version")
        return str(d).split(".")[0] if d else None
    return env.get(key)


def env_differences(base: dict, run: dict, keys=ENV_KEYS) -> list[str]:
    """'torch version: 2.13.0+cpu (baseline) vs 2.14.0 (run)' for each key that differs."""
    out = []
    for key, what in keys:
        a, b = _env_value(base, key), _env_value(run, key)
        if a != b:
            out.append(f"{what}: {a if a is not None else 'none'} (baseline) vs {b if b is not None else 'none'} (run)")
    return out


def check_inputs(base: Baseline, run: dict):
    """Refuse a baseline that cannot be compared with this run (another suite, --smoke vs full)."""
    where = str(base.path)
    if base.data.get("suite") != run.get("suite"):
        raise GateError(f"{where} is a baseline of suite {base.data.get('suite')!r}, the run is of suite "
                        f"{run.get('suite')!r}; gate a run against a baseline of its own suite")
    if bool(base.data.get("smoke")) != bool(run.get("smoke")):
        raise GateError(f"{where} was made {'with' if base.data.get('smoke') else 'without'} --smoke and the run "
                        f"{'with' if run.get('smoke') else 'without'}: their configs differ; use a baseline made like the run")


@dataclass
class GateResult:
    rules: list[Rule]
    tables: dict[str, pd.DataFrame]          # str(rule) -> compare() table
    env_changes: list[str] = field(default_factory=list)   # refused unless allowed; listed in the markdown
    notes: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> pd.DataFrame:
        """One row per (rule, config) that regressed."""
        parts = [t.assign(rule=name)[t["worse"]] for name, t in self.tables.items()]
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["rule", "config_id"])

    @property
    def exit_code(self) -> int:
        return 1 if len(self.regressions) else 0


def check(base: Baseline, run_rows: pd.DataFrame, run: dict, run_env: dict, rules: list[Rule] | None = None,
          level: float = 0.05, allow_env_change: bool = False) -> GateResult:
    check_inputs(base, run)
    changes = env_differences(base.env, run_env)
    if changes and not allow_env_change:
        raise GateError(f"the run's environment differs from {base.path}'s: " + "; ".join(changes) +
                        ". Numbers from different software or hardware are not comparable; make a baseline on "
                        "this environment (benchbench baseline save RUN --name NAME), or pass --allow-env-change")
    notes = [f"{d} (not refused)" for d in env_differences(base.env, run_env, ENV_NOTES)]
    if base.data.get("suite_sha256") and run.get("suite_sha256") and base.data["suite_sha256"] != run["suite_sha256"]:
        notes.append("the suite file changed since the baseline (suite_sha256 differs); configs are joined on config_id")
    common = set(base.rows["config_id"]) & set(run_rows["config_id"]) if len(run_rows) else set()
    if not common:
        raise GateError(f"no config of the run is in {base.path} (config ids {sorted(set(run_rows.get('config_id', [])))[:4]} "
                        f"vs {sorted(set(base.rows['config_id']))[:4]}): the suite's configs or benchbench's config ids "
                        f"changed; re-create the baseline (benchbench baseline save RUN --name {base.path.stem} --force)")
    if rules is None:
        rules = [parse_rule(r) for r in base.rules] if base.rules else default_rules(base.rows)
    tables = {}
    for rule in rules:
        try:
            t = compare.compare(base.rows, run_rows, rule.metric, level=level, threshold=rule.threshold,
                                higher_better=rule.higher_is_better)
        except compare.CompareError as e:
            raise GateError(f"rule {rule}: {e}".replace("run A", f"baseline {base.path}").replace("run B", "the run")) from None
        tables[str(rule)] = t
    t = numerics_table(base.rows, run_rows)
    if t is not None:
        tables["numerics"] = t
    return GateResult(rules=rules, tables=tables, env_changes=changes, notes=notes)


def numerics_table(base_rows: pd.DataFrame, run_rows: pd.DataFrame) -> pd.DataFrame | None:
    """A config whose numerics check diverged in the run and did not in the baseline regresses
    (numerics.py); None when the run has no numerics check."""
    from benchbench.analysis import summary as tbl

    if "numerics" not in run_rows or not run_rows["numerics"].notna().any():
        return None
    names = compare.labels(pd.concat([base_rows, run_rows], ignore_index=True))
    base = dict(tuple(base_rows.groupby("config_id", sort=False)))
    out = []
    for cid, g in run_rows.groupby("config_id", sort=False):
        b = base.get(cid)
        va, vb = (tbl.numerics_verdict(b) if b is not None else ""), tbl.numerics_verdict(g)
        worse = vb == "diverged" and va != "diverged"
        dev = pd.to_numeric(g.get("numerics_max_rel_loss_dev"), errors="coerce").max() if "numerics_max_rel_loss_dev" in g else None
        why = g["numerics_reason"].dropna() if "numerics_reason" in g else []
        out.append({"config_id": cid, "label": names.get(cid, cid), "metric": "numerics_max_rel_loss_dev",
                    "status_a": compare.config_status(b), "status_b": compare.config_status(g), "a_value": math.nan,
                    "a_ci_low": math.nan, "a_ci_high": math.nan, "a_n": 0, "b_value": dev, "b_ci_low": math.nan,
                    "b_ci_high": math.nan, "b_n": len(g), "ratio": None, "change": None, "ratio_ci_low": math.nan,
                    "ratio_ci_high": math.nan, "floor": math.nan,
                    "test": "tolerance", "samples": "", "worse": worse,
                    "verdict": "numerics diverged" if vb == "diverged" else "same within noise",
                    "note": (f"{va or 'unchecked'} -> {vb}: " + (why.iloc[0] if len(why) else "")) if va != vb else ""})
    t = pd.DataFrame(out)
    t.attrs.update(metric="numerics_max_rel_loss_dev")
    return t
