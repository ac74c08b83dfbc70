"""`benchbench maxbatch SUITE [-o RUN_DIR] [--device cpu|cuda] [--cap N]`: for each config, the largest
micro-batch that runs (maxbatch.py); every probe a row of the run, the answers in maxbatch.json."""

from __future__ import annotations

import datetime as dt
import shutil
import sys

from rich.markup import escape
from rich.table import Table

from benchbench.analysis import compare
from benchbench.commands.common import UsageError, console, ends_on_signals
from benchbench.plan import maxbatch, memory_model
from benchbench.spec import suite as suites
from benchbench.store import results
from benchbench.sweep import env, launch
from benchbench.sweep.rundir import new_run_dir, rundir_lock
from benchbench.worker import device

CPU_CAP = 1024   # a CPU rarely runs out of memory before it runs out of patience


def device_bytes(kind: str) -> float | None:
    return device.gpu_memory_bytes() if kind == "cuda" else None


@ends_on_signals("maxbatch", "its probes ended; the probes made so far are rows of its run directory, and "
                            "maxbatch.json holds the configs searched to the end; run it again to search the rest")
def main(args) -> int:
    suite = suites.load(args.suite)
    overrides = {"device": args.device} if args.device else {}
    configs = suite.expand(overrides=overrides)
    problems = suites.check_models(suite, configs)
    if problems:
        raise suites.SuiteError(problems)
    if args.cap is not None and args.cap < 1:
        raise UsageError(f"--cap {args.cap}: the largest batch to try must be 1 or more")
    if any(c.world_size > 1 for c in configs):
        raise UsageError("maxbatch searches configs of one process (world_size 1); the suite has configs with more ranks")
    gpu = [c for c in configs if c.device == "cuda"]
    if gpu and not device.cuda_available():  # every probe would be skipped: "max batch 0" would be a lie
        raise UsageError(f"suite {suite.name!r} is meant for a GPU (device: cuda) and this machine has none: its max "
                         f"batch is a GPU's; search it on a GPU, or here on the CPU with --device cpu")
    run_dir = new_run_dir(f"{suite.name}-maxbatch", args.output, args.results_root)
    with rundir_lock(run_dir):  # the run's lock, as `benchbench run` holds it: one writer per directory
        return _search_all(args, suite, configs, overrides, run_dir)


def _search_all(args, suite, configs, overrides, run_dir) -> int:
    shutil.copyfile(args.suite, run_dir / "suite.yaml")
    run = {"run_id": run_dir.name, "suite": suite.name, "kind": "maxbatch", "suite_path": str(args.suite),
           "suite_sha256": suite.sha256, "smoke": False, "overrides": overrides, "baseline_config_id": None,
           "config_ids": [c.config_id for c in configs],
           "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "command": sys.argv}
    results.write_json(run_dir / "run.json", run)
    results.write_json(run_dir / "env.json", env.capture())
    err = console(stderr=True)
    labels = compare.labels(results_frame(configs))
    answers = []
    try:
        for cfg in configs:
            kind = device.probe(cfg.device).type
            cap = args.cap or (CPU_CAP if kind == "cpu" else maxbatch.DEFAULT_CAP)
            start = maxbatch.guess(cfg, device_bytes(kind))
            probe = _prober(cfg, run_dir, run, err, labels.get(cfg.config_id, cfg.config_id))
            first = 1 if cfg.batch_size == "max" else cfg.batch_size  # max: the suite names no batch to start at
            found = maxbatch.search(probe, start or first, guessed=start is not None, cap=cap)
            answers.append(_answer(cfg, found, run_dir, labels.get(cfg.config_id, cfg.config_id), cap))
    except KeyboardInterrupt:
        run["interrupted"] = True
        raise
    finally:
        launch.shutdown()
        results.finalize(run_dir)
        run["finished_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        results.write_json(run_dir / "run.json", run)
        results.write_json(run_dir / "maxbatch.json", {"suite": suite.name, "configs": answers})
    console().print(render(answers, f"{suite.name}: largest micro-batch per config ({run_dir})"))
    err.print(escape(f"results: {run_dir}/maxbatch.json, rows.jsonl (one row per probe)"), highlight=False)
    return 0


def prestart_here(cfg) -> bool:
    """Start the next probe's imports during this one only on a GPU (device auto resolved, as the sweep
    does) and only with idle cores: on a CPU the imports would compete with the probe being measured."""
    return device.probe(cfg.device).type == "cuda" and env.usable_cores() - (env.load_avg_1m() or 0.0) >= 2


def results_frame(configs):
    import pandas as pd

    return pd.DataFrame([{"config_id": c.config_id, **c.flat()} for c in configs])


def _prober(cfg, run_dir, run, err, label):
    count = [0]

    def probe(batch: int) -> str:
        count[0] += 1
        c = cfg.model_copy(update={"batch_size": batch, "repeats": 1})
        result = launch.run(c, run_dir, 0, prestart=prestart_here(c))   # the next probe's imports meanwhile
        row = results.make_row(run, c, 0, result)
        row.update(maxbatch_of=cfg.config_id, maxbatch_probe=count[0])
        row.update(memory_model.row_fields(c, row.get("peak_allocated_bytes")))
        results.append(run_dir, row)
        err.print(escape(f"{label}: batch {batch} {row['status']}"), highlight=False)
        return row["status"]

    return probe


def _answer(cfg, found: maxbatch.Search, run_dir, label: str, cap: int) -> dict:
    rows = [r for r in results.read_rows(run_dir) if r.get("maxbatch_of") == cfg.config_id]
    best = next((r for r in rows if r["batch_size"] == found.batch and r["status"] == "ok"), {})
    return {"config_id": cfg.config_id, "label": label, "max_batch": found.batch, "capped": found.batch >= cap,
            "probes": found.n_probes, "start": found.start, "start_from": "memory model" if found.guessed else "suite",
            "stopped": found.stopped, "trail": [f"{b}:{s}" for b, s in found.probes],
            "tokens_per_s": best.get("tokens_per_s"), "samples_per_s": best.get("samples_per_s"),
            "peak_allocated_bytes": best.get("peak_allocated_bytes"), "peak_rss_bytes": best.get("peak_rss_bytes"),
            "probe_config_id": best.get("config_id")}


def render(answers: list[dict], title: str) -> Table:
    t = Table(title=escape(title), title_justify="left")
    for col in ("config", "max batch", "throughput at it", "probes", "search"):
        t.add_column(col, justify="left" if col in ("config", "search") else "right")
    for a in answers:
        thr = a["tokens_per_s"] or a["samples_per_s"]
        unit = "tokens/s" if a["tokens_per_s"] else "samples/s"
        batch = f"{a['max_batch']}" + (" (cap)" if a["capped"] else "")
        how = f"from {a['start']} ({a['start_from']}): " + " ".join(a["trail"])
        if a["stopped"]:
            how += f"; stopped: {a['stopped']}"
        t.add_row(escape(a["label"]), batch, f"{thr:,.0f} {unit}" if thr else "-", str(a["probes"]), escape(how))
    return t
