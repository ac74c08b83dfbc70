"""--format tensorboard: TensorBoard event files, one run (sub-directory) per config.

Written with torch.utils.tensorboard.SummaryWriter (it needs the `tensorboard` package). Each
config's metrics are scalars at step 0 under their benchbench names; its measured step times are
the scalar series `step_time_s` (one point per measured step, repeats one after another); its
settings are a text summary `config` (a markdown table). `tensorboard --logdir OUT` shows them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchbench.present.export.common import Format, configs, env_tags, folder_beside, need, safe_name


def write(df: pd.DataFrame, run: dict, env: dict, out: Path, **_) -> str:
    need("tensorboard", "tensorboard", "tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    cfgs = configs(df)
    with folder_beside(out) as tmp:
        for c in cfgs:
            _one(SummaryWriter, c, env, tmp)
    return f"tensorboard: {len(cfgs)} configs -> {out} (tensorboard --logdir {out})"


def _one(SummaryWriter, c, env: dict, out: Path):
    w = SummaryWriter(log_dir=str(out / safe_name(f"{c.label}-{c.config_id}")))
    try:
        for m, v in c.metrics.items():
            w.add_scalar(m, v, 0)
        for i, t in enumerate(c.step_times_s):
            w.add_scalar("step_time_s", t, i)
        rows = {"config_id": c.config_id, "status": c.status, **c.settings, **env_tags(env)}
        w.add_text("config", "| setting | value |\n|---|---|\n" +
                   "\n".join(f"| {k} | {v} |" for k, v in rows.items()), 0)
    finally:
        w.close()


FORMAT = Format(write, "tensorboard", "tensorboard")
