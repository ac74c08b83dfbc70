"""`batch_size: max` in a suite: each such config's micro-batch is found by the max-batch search
(plan/maxbatch.py) before the sweep measures it.

The pre-pass runs before the sweep. For every config whose batch_size is "max" it runs the search
(the memory model's guess, then step out and bisect; each probe the config at one batch, in its
own worker process) and replaces the config by the same config at the largest batch that ran. The
probes are rows of a run of their own, RUN/autobatch/ (rows.jsonl with `maxbatch_of` = the "max"
config's id and `maxbatch_probe` its number; `benchbench table RUN/autobatch` reads it), so they
never mix with the measured rows. The answers go to RUN/autobatch.json as each search ends.

Resumable: `benchbench run --resume` takes the answers from autobatch.json, and a search that was
cut short reuses the probes already recorded (a batch probed once is never run again).

A config that does not run even at batch 1 is measured at batch 1, so its failure is a row of the
run like any other; one whose answer equals a config the suite has already is measured once. Only
configs of one process (world_size 1) can be searched. The measured rows carry the found batch
(batch_size) and so the config id of that batch: they join with rows of any run that set it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from benchbench.basics.errors import UserError
from benchbench.plan import maxbatch, memory_model
from benchbench.store import results
from benchbench.sweep import env, launch

MAX = "max"
DIR = "autobatch"  # the probes' run, under the run directory
ANSWERS = "autobatch.json"
CPU_CAP = 1024  # the largest batch tried on a CPU (it runs out of patience before memory)


AutobatchError = UserError  # a config whose batch cannot be searched (several ranks): the message names it


def _with(cfg, **update):
    """cfg with `update` applied, validated again and with its own config_id (model_copy would keep the
    cached id of cfg)."""
    return type(cfg)(**{**cfg.model_dump(), **update})


def wanted(configs) -> list:
    return [c for c in configs if c.batch_size == MAX]


def _device(cfg) -> tuple[str, float | None]:
    from benchbench.worker import device

    kind = device.probe(cfg.device).type
    return kind, (device.gpu_memory_bytes() if kind == "cuda" else None)


def resolve(configs: list, run_dir: Path, run: dict, *, say: Callable[[str], None] = lambda _: None,
            run_config: Callable | None = None, device_of: Callable | None = None,
            cap: int | None = None) -> tuple[list, dict[str, str]]:
    """(configs with every "max" batch replaced by the found batch, {max config id: its resolved id}).

    `run_config(cfg, probe_dir) -> result dict` runs one probe (default: launch.run in a worker
    process); `device_of(cfg) -> (kind, device bytes)` (default: this machine's). Both are for tests."""
    todo = wanted(configs)
    if not todo:
        return configs, {}
    several = [c.config_id for c in todo if c.world_size > 1]
    if several:
        raise AutobatchError(f"batch_size: max searches configs of one process (world_size 1); "
                             f"configs {', '.join(several)} have more ranks: give them a batch_size")
    own_workers = run_config is None
    # on a GPU the next probe's imports start during this one; on a CPU they would slow the probe
    run_config = run_config or (lambda c, d: launch.run(c, d, 0, prestart=_device(c)[0] == "cuda"))
    device_of = device_of or _device
    path = Path(run_dir) / ANSWERS
    answers = results.read_json(path) if path.exists() else {}
    sub = _probe_run(Path(run_dir), run)
    resolved, ids = [], {}
    try:
        for cfg in configs:
            if cfg.batch_size != MAX:
                resolved.append(cfg)
                continue
            if cfg.config_id not in answers:
                answers[cfg.config_id] = _search(cfg, sub, run, run_config, device_of, cap, say)
                results.write_json(path, answers)
            batch = max(1, int(answers[cfg.config_id]["max_batch"]))
            new = _with(cfg, batch_size=batch)
            if any(c.config_id == new.config_id for c in configs if c is not cfg) or new.config_id in ids.values():
                say(f"{cfg.config_id} batch_size max: {batch}, a config the suite has already: measured once")
            else:
                resolved.append(new)
            ids[cfg.config_id] = new.config_id
    finally:
        if own_workers:
            launch.shutdown()
        if (sub / results.ROWS).exists():
            results.finalize(sub)
    return resolved, ids


def apply(configs: list, run_dir: Path, run: dict, say: Callable[[str], None] = lambda _: None, **kw) -> list:
    """resolve(), and the run's config ids (run.json's config_ids, baseline_config_id) made the
    resolved ones: what `benchbench run` calls before its sweep."""
    resolved, ids = resolve(configs, run_dir, run, say=say, **kw)
    if ids:
        run["config_ids"] = list(dict.fromkeys(ids.get(c, c) for c in run.get("config_ids", [])))
        if run.get("baseline_config_id") in ids:
            run["baseline_config_id"] = ids[run["baseline_config_id"]]
        results.write_json(Path(run_dir) / "run.json", run)
    return resolved


def _probe_run(run_dir: Path, run: dict) -> Path:
    sub = run_dir / DIR
    sub.mkdir(parents=True, exist_ok=True)
    if not (sub / "run.json").exists():
        results.write_json(sub / "run.json", {
            "run_id": f"{run.get('run_id', run_dir.name)}-{DIR}", "suite": run.get("suite", ""), "kind": "maxbatch",
            "smoke": run.get("smoke", False), "overrides": run.get("overrides", {}), "baseline_config_id": None,
            "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
        results.write_json(sub / "env.json", env.capture())
    return sub


def _search(cfg, sub: Path, run: dict, run_config, device_of, cap, say) -> dict:
    kind, device_bytes = device_of(cfg)
    cap = cap or (CPU_CAP if kind == "cpu" else maxbatch.DEFAULT_CAP)
    start = maxbatch.guess(_with(cfg, batch_size=1), device_bytes, cap)
    recorded = results.read_rows(sub) if (sub / results.ROWS).exists() else []
    done = {r["batch_size"]: r["status"] for r in recorded if r.get("maxbatch_of") == cfg.config_id}
    sub_run = results.read_json(sub / "run.json")
    count = [len(done)]

    def probe(batch: int) -> str:
        if batch in done:  # recorded before the run was cut short
            return done[batch]
        count[0] += 1
        c = _with(cfg, batch_size=batch, repeats=1)
        row = results.make_row(sub_run, c, 0, run_config(c, sub))
        row.update(maxbatch_of=cfg.config_id, maxbatch_probe=count[0])
        row.update(memory_model.row_fields(c, row.get("peak_allocated_bytes")))
        results.append(sub, row)
        done[batch] = row["status"]
        say(f"{cfg.config_id} batch_size max: batch {batch} {row['status']}")
        return row["status"]

    found = maxbatch.search(probe, start or 1, guessed=start is not None, cap=cap)
    return {"max_batch": found.batch, "capped": found.batch >= cap, "probes": found.n_probes, "start": found.start,
            "start_from": "memory model" if found.guessed else "batch 1", "stopped": found.stopped,
            "trail": [f"{b}:{s}" for b, s in found.probes]}
