"""The CI gate: a run against a baseline, rule by rule; exit 0 (nothing regressed) or 1 (something did).

A rule is "metric:<sign><percent>%", e.g. "tokens_per_s:-5%" (a drop of more than 5% is a
regression) or "peak_rss_bytes:+3%" (a rise of more than 3%). The sign says which direction is
bad; it may be left out for metrics whose good direction is known (compare.higher_is_better).
A config regresses on a rule when compare() calls it worse: the change exceeds the threshold and
is significant after Holm's adjustment over every (config, rule) of the gate together
(family.adjust: the chance that any config fails falsely stays at the level), or (deterministic
metrics) exceeds the threshold alone, or it was ok in the baseline and is now
oom/error/timeout/killed/skipped or missing. A machine whose processes land in two modes
(evidence.Prior.two_modal) makes the gate inconclusive (exit 4) unless something regressed.

Input problems (a rule that does not parse, a metric neither run measured, a baseline from another
suite or machine) raise GateError: the CLI's exit 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from benchbench.analysis import compare, family
from benchbench.spec.rules import RULE_FORMS, GateError, Rule, known_direction, parse_rule  # noqa: F401
from benchbench.store.baseline import Baseline

# What the environment check compares: (env.json key, what it is called in messages)
ENV_KEYS = (("gpu_name", "GPU model"), ("driver_major", "NVIDIA driver major version"),
            ("torch_version", "torch version"), ("cuda_version", "CUDA version"))
ENV_NOTES = (("cpu_model", "CPU model"), ("cpu_count", "CPU count"), ("gpu_count", "GPU count"))


def suite_rules(run_dir) -> list[str]:
    """The `gate:` rules of the suite a run was made from (its stored suite.yaml), [] when none."""
    from benchbench.spec.yaml_loader import data_or_none  # its limits: a stored file may be hostile too

    data = data_or_none(Path(run_dir) / "suite.yaml")
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


# A run this many times noisier between repeats than its baseline cannot pass or fail on timing
NOISY_FACTOR = 3.0
NOISY_MIN_CV = 0.05  # repeats of a calm CPU run differ by up to ~2%; 5% is what the table calls noisy
EXIT_INCONCLUSIVE = 4


def spread(rows: pd.DataFrame) -> float:
    """Median over configs of the between-repeat robust CV of each repeat's median step time."""
    ok = rows[rows["status"] == "ok"] if "status" in rows else rows
    if "step_time_s_median" not in ok:
        return float("nan")
    cvs = [compare.stats.robust_cv(g["step_time_s_median"].dropna()) for _, g in ok.groupby("config_id")]
    cvs = [c for c in cvs if c == c]
    return float(pd.Series(cvs).median()) if cvs else float("nan")


def _cpu_busy(rows: pd.DataFrame) -> float | None:
    """How many cores other work kept busy while CPU configs ran: the median 1-minute load average at each
    worker's start, less the worker itself, over the cores it could use (None: not recorded, or GPU rows)."""
    if "load_avg_1m_start" not in rows or "device_type" not in rows:
        return None
    cpu = rows[(rows["device_type"] == "cpu") & rows["load_avg_1m_start"].notna()]
    if cpu.empty:
        return None
    cores = cpu["usable_cores"].median() if "usable_cores" in cpu else 1
    return float(max(0.0, cpu["load_avg_1m_start"].median() - 1.0) / max(cores, 1))


def noise_verdict(base_rows: pd.DataFrame, run_rows: pd.DataFrame) -> str | None:
    """Why the run's timings cannot be judged against the baseline's, or None. A run whose repeats spread
    NOISY_FACTOR x more than the baseline's (and over NOISY_MIN_CV), or whose CPU configs ran while other
    work kept half the usable cores busy (and the baseline's did not), neither passes nor fails on time."""
    why = []
    run_cv, base_cv = spread(run_rows), spread(base_rows)
    if run_cv == run_cv and run_cv > NOISY_MIN_CV and run_cv > NOISY_FACTOR * (base_cv if base_cv == base_cv else 0.0):
        why.append(f"the run's repeats spread {run_cv:.1%} (robust CV of their median steps) against the baseline's "
                   f"{base_cv:.1%}")
    busy, base_busy = _cpu_busy(run_rows), _cpu_busy(base_rows)
    if busy is not None and busy > 0.5 and (base_busy is None or base_busy <= 0.5):
        why.append(f"other work kept {busy:.0%} of the usable cores busy while its CPU configs ran (1-minute load "
                   f"average at each worker's start; the baseline's: {base_busy if base_busy is not None else 0:.0%})")
    return "; ".join(why) or None


HOST_SPEED_TOLERANCE = 0.25  # the reference workload within 25% of the baseline's: the same kind of host, calm


def host_difference(base_env: dict, run_env: dict) -> str | None:
    """Why CPU timings of the run and the baseline come from hosts that are not comparable, or None: another
    CPU model, or the fixed reference workload (env.cpu_reference_s) more than HOST_SPEED_TOLERANCE apart."""
    if base_env.get("cpu_model") and base_env.get("cpu_model") != run_env.get("cpu_model"):
        return f"the CPU differs from the baseline's ({run_env.get('cpu_model')} vs {base_env.get('cpu_model')})"
    def ref(env, when):
        return (env.get(f"noise_{when}") or {}).get("cpu_reference_s")

    a = min((x for x in (ref(base_env, "start"), ref(base_env, "end")) if x), default=None)
    b = max((x for x in (ref(run_env, "start"), ref(run_env, "end")) if x), default=None)
    if a and b and abs(b / a - 1) > HOST_SPEED_TOLERANCE:
        return (f"this host ran the reference workload in {b * 1e3:.0f} ms against the baseline host's {a * 1e3:.0f} ms "
                f"({b / a:.2f}x): another or a busier host, whose CPU timings are not comparable")
    return None


@dataclass
class GateResult:
    rules: list[Rule]
    tables: dict[str, pd.DataFrame]          # str(rule) -> compare() table
    env_changes: list[str] = field(default_factory=list)   # refused unless allowed; listed in the markdown
    notes: list[str] = field(default_factory=list)
    inconclusive: str | None = None          # why the timing rules were not judged (too noisy), or None
    family: int = 0                          # tests adjusted together (Holm) across all rules and configs

    @property
    def regressions(self) -> pd.DataFrame:
        """One row per (rule, config) that regressed."""
        parts = [t.assign(rule=name)[t["worse"]] for name, t in self.tables.items()]
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["rule", "config_id"])

    @property
    def exit_code(self) -> int:
        """1 a regression (a config failing counts even when the run is noisy), 4 too noisy to judge, 0 pass."""
        if len(self.regressions):
            return 1
        return EXIT_INCONCLUSIVE if self.inconclusive else 0

    @property
    def outcome(self) -> str:
        """PASS, FAIL or INCONCLUSIVE (exit 0, 1, 4): the word every summary of the gate shows."""
        return {0: "PASS", 1: "FAIL"}.get(self.exit_code, "INCONCLUSIVE")


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
    fam = family.adjust([t for name, t in tables.items() if name != "numerics"], level)
    why = noise_verdict(base.rows, run_rows)
    on_cpu = "device_type" in run_rows and (run_rows["device_type"] == "cpu").any()
    host = host_difference(base.env, run_env) if on_cpu else None
    if host:
        why = f"{why}; {host}" if why else host
    if why:  # timing verdicts are not made on noise; statuses and deterministic metrics still are
        for name, t in tables.items():
            metric = t.attrs.get("metric", "")
            if name == "numerics" or compare.is_deterministic(metric):
                continue
            timed = t["verdict"].isin(["faster", "slower"])
            t.loc[timed, "note"] = "not judged: " + t.loc[timed, "verdict"] + " on a run too noisy to judge"
            t.loc[timed, "verdict"] = "inconclusive: too noisy"
            t.loc[timed, "worse"] = False
    modal = [t.attrs["prior"] for t in tables.values() if getattr(t.attrs.get("prior"), "two_modal", False)]
    if modal and not why:  # the machine's processes land in two states: single configs' odd repeats are not this
        why = (f"two modes: {modal[0].split_fraction:.0%} of the configs' repeats split about "
               f"{modal[0].mode_gap:.1%} apart (add repeats)")
    return GateResult(rules=rules, tables=tables, env_changes=changes, notes=notes, inconclusive=why, family=fam)


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
                    "verdict": "numerics diverged" if vb == "diverged" else "same",
                    "note": (f"{va or 'unchecked'} -> {vb}: " + (why.iloc[0] if len(why) else "")) if va != vb else ""})
    t = pd.DataFrame(out)
    t.attrs.update(metric="numerics_max_rel_loss_dev")
    return t
