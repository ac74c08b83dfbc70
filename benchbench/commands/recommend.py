"""`benchbench recommend RUN... [--objective ...] [--memory-budget GiB] [--gpus N] [--require-numerics]
[--price USD] [--price-kwh USD] [--format table|markdown|json]`: the config to use, from measured rows."""

from __future__ import annotations

import json

import pandas as pd

from benchbench.analysis import recommend as rec
from benchbench.basics.units import GIB
from benchbench.commands.common import UsageError, console
from benchbench.present import recommend as show
from benchbench.store import baseline


def main(args) -> int:
    frames, base_id = [], None
    for d in args.run_dirs:
        rows, run, _ = baseline.read_run(d)
        frames.append(rows)
        base_id = base_id or run.get("baseline_config_id")
    df = pd.concat(frames, ignore_index=True)
    if df.empty:
        raise UsageError(f"{', '.join(map(str, args.run_dirs))}: no rows to recommend from (an empty or unfinished run)")
    budget = None if args.memory_budget is None else args.memory_budget * GIB
    r = rec.recommend(df, args.objective, baseline_id=base_id, memory_budget_bytes=budget, gpus=args.gpus,
                      require_numerics=args.require_numerics, price_per_gpu_hour=args.price,
                      price_per_kwh=args.price_kwh)
    if args.format == "json":
        print(json.dumps(r.to_dict(), indent=2, default=str))
    elif args.format == "markdown":
        print(show.markdown(r), end="")
    else:
        console().print(show.render(r))
    return 0
