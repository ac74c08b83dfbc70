"""`benchbench gate RUN --baseline FILE [--rule R]... [--markdown FILE] [--allow-env-change]` and
`benchbench baseline save RUN --name NAME [--rule R]...`."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from benchbench.analysis import compare, environment, family, gate
from benchbench.commands.common import UsageError, console
from benchbench.present import markdown
from benchbench.present.compare import explain_lines, heading, render, show
from benchbench.store import baseline, results


def _against_history(args):
    """gate --history: the run against the last --window runs of its series (analysis/gate_history.py)."""
    from benchbench.analysis import gate_history, series
    from benchbench.store import history

    path = history.resolve_path(args.history or None)
    rec = series.run_record(args.run_dir)
    rules = [gate.parse_rule(r) for r in args.rule] if args.rule else None
    frame = history.results(path, config_id=[c["config_id"] for c in rec["configs"]])
    return gate_history.check(rec, frame, rules, window=args.window, level=args.level), f"history {path}"


def main_gate(args) -> int:
    if args.run_dir is None and args.history and Path(args.history).is_dir():  # `gate --history RUN`
        args.run_dir, args.history = args.history, ""
    if args.run_dir is None:
        raise UsageError("name the run to gate: benchbench gate RUN --baseline FILE (or --history [PATH])")
    if (args.baseline is None) == (args.history is None):
        raise UsageError("gate a run against --baseline FILE or against the history (--history [PATH]), one of the two")
    if args.history is not None:
        res, base_name = _against_history(args)
    else:
        base = baseline.load(args.baseline)
        rows, run, env = baseline.read_run(args.run_dir)
        if rows.empty:
            raise UsageError(f"{args.run_dir}: the run has no rows")
        # --rule, else the baseline's rules, else the suite's `gate:` rules, else gate.default_rules
        given = args.rule or (None if base.rules else gate.suite_rules(args.run_dir)) or None
        rules = [gate.parse_rule(r) for r in given] if given else None
        res = gate.check(base, rows, run, env, rules, level=args.level, allow_env_change=args.allow_env_change)
        base_name = str(args.baseline)
        # beside the verdict: threads, load and host differences change the numbers too (torch: env_changes)
        res.notes += [f"environment differs: {d}" for d in environment.differences(
            base.rows, base.env, rows, env, ("baseline", "run"), ("threads", "load", "host"))]
    out = console()
    side = "history" if args.history is not None else "baseline"
    for name, t in res.tables.items():
        show(out, f"rule {name}: " + heading(t, side, "run"), render(t, side, "run"))
    text = markdown.gate_summary(res, base_name, str(args.run_dir), args.level)
    if args.history is None:  # the baseline's rows carry their profiles: why, beside each verdict
        why = dict.fromkeys(line for t in res.tables.values() if "verdict" in t
                            for line in explain_lines(base.rows, rows, t, None, args.run_dir))
        text += "".join(["\n**Why** (`benchbench explain`)\n\n", *(f"- {w}\n" for w in why)]) if why else ""
    if args.markdown:
        results.write_text(args.markdown, text)
    reg = res.regressions
    err = console(stderr=True)
    for line in (*[f"environment changed (allowed): {c}" for c in res.env_changes], *[f"note: {n}" for n in res.notes]):
        err.print(escape(line), highlight=False, soft_wrap=True)
    if len(reg):
        for _, r in reg.iterrows():
            what = f"{r['change']:+.1%}" if r["change"] is not None and r["change"] == r["change"] else r["note"] or r["verdict"]
            err.print(escape(f"regression: {r['rule']} {r['label']} ({r['config_id']}): {r['verdict']}, {what}"),
                      highlight=False, soft_wrap=True)
        err.print(f"gate: FAIL ({len(reg)} regressions)", highlight=False)
    elif res.inconclusive and res.inconclusive.startswith("nothing judged"):   # gate --history, no verdict to make
        err.print(escape(f"gate: INCONCLUSIVE: {res.inconclusive}, exit {gate.EXIT_INCONCLUSIVE}"), highlight=False,
                  soft_wrap=True)
    elif res.inconclusive:
        err.print(escape(f"gate: INCONCLUSIVE: too noisy ({res.inconclusive}); timing rules not judged, exit "
                         f"{gate.EXIT_INCONCLUSIVE}: re-run on a quieter machine"), highlight=False, soft_wrap=True)
    else:
        err.print(f"gate: PASS ({', '.join(str(r) for r in res.rules)})", highlight=False)
    if getattr(res, "family", 0):
        err.print(escape(f"family: {family.level_text(res.family, args.level)}"), highlight=False, soft_wrap=True)
    err.print(escape("repeats (baseline/run): " + ", ".join(
        f"{r['label']} {markdown.repeats_text(r)}" for _, r in next(iter(res.tables.values())).iterrows())),
        highlight=False, soft_wrap=True)
    return res.exit_code


def main_baseline(args) -> int:
    rules = args.rule or gate.suite_rules(args.run_dir)   # stored in the file: gate's defaults
    for r in rules:
        gate.parse_rule(r)
    rows = results.load(args.run_dir)
    if rows.empty:
        raise UsageError(f"{args.run_dir}: the run has no rows; a baseline needs a finished run")
    digest = compare.config_summary(rows)
    path = baseline.save(args.run_dir, args.name, args.dir, rules, args.note or "", args.force, digest)
    console(stderr=True).print(escape(f"baseline written: {path}"), highlight=False, soft_wrap=True)
    return 0
