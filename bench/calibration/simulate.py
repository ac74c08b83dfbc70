"""A seeded simulator of benchbench rows at the step, repeat and run levels, for calibrating verdicts.

Plain functions, importable by the other calibration scripts (and the history bench):

    from simulate import Noise, run_rows, frame
    noise = Noise.fitted()                       # fitted by fit.py from the committed GPU rows
    a = frame(run_rows("a", configs=50, repeats=3, noise=noise, seed=1))
    b = frame(run_rows("b", configs=50, repeats=3, noise=noise, seed=2, slowdown={"c007": 0.03}))

A config's step time is base x (1 + run offset) x repeat factor x step noise, where

- the run offset is drawn once per (run, config): N(0, between_runs) (two runs drift apart);
- the repeat factor is N(1, between_repeats); with probability slow_rate the repeat is also
  slow_size slower (an odd process); with two modes (mode_gap > 0) each repeat lands in the slow
  mode, mode_gap slower, with probability mode_p;
- each of `steps` steps adds N(0, steps_noise) (steps=0: repeat-level rows, no step_times_s, each
  repeat carrying the noise of the median of STEPS_FOLDED steps; 3x faster to judge).

A slowdown multiplies a config's step time by 1 + slowdown in that run. Rows carry the columns
compare / gate / recommend read (config_id, run_id, status, repeat, step_times_s, tokens_per_step,
tokens_per_s, step_time_s_median, an `attention` axis for labels, device_type cuda, peak memory).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

FIT = Path(__file__).resolve().parents[2] / "results" / "examples" / "calibration-cpu" / "fit.json"
TOKENS_PER_STEP = 8 * 1024
BASE_STEP_S = 0.05
STEPS_FOLDED = 10  # steps=0: each repeat's value carries the noise of the median of this many steps


@dataclass(frozen=True)
class Noise:
    """Relative SDs and rates of one noise model (see the module docstring)."""
    between_runs: float = 0.003
    between_repeats: float = 0.002
    slow_rate: float = 0.04
    slow_size: float = 0.10
    steps_noise: float = 0.005
    mode_gap: float = 0.0
    mode_p: float = 0.5

    @classmethod
    def fitted(cls) -> "Noise":
        """The model fit.py wrote from the committed GPU rows (results/examples/calibration-cpu/fit.json)."""
        data = json.loads(FIT.read_text())
        return cls(**{k: v for k, v in data["noise"].items() if k in cls.__dataclass_fields__})

    def but(self, **kw) -> "Noise":
        return replace(self, **kw)

    def as_dict(self) -> dict:
        return asdict(self)


def config_ids(n: int) -> list[str]:
    return [f"c{i:03d}" for i in range(n)]


def run_rows(run_id: str, configs: int | list[str], repeats: int, noise: Noise, seed: int, *,
             slowdown: dict | float = 0.0, steps: int = 10, base: dict | None = None) -> list[dict]:
    """The rows of one run: every config x repeat, ok. `slowdown`: one relative slowdown for every
    config, or {config_id: slowdown}; `base`: {config_id: base step seconds} (default BASE_STEP_S)."""
    ids = config_ids(configs) if isinstance(configs, int) else list(configs)
    rng = np.random.default_rng(seed)
    out = []
    for cid in ids:
        slow = slowdown.get(cid, 0.0) if isinstance(slowdown, dict) else slowdown
        m = (base or {}).get(cid, BASE_STEP_S) * (1 + slow) * (1 + rng.normal(0, noise.between_runs))
        for k in range(repeats):
            f = 1 + rng.normal(0, noise.between_repeats)
            if rng.random() < noise.slow_rate:
                f *= 1 + noise.slow_size
            if noise.mode_gap and rng.random() < noise.mode_p:
                f *= 1 + noise.mode_gap
            if steps:
                t = m * f * (1 + rng.normal(0, noise.steps_noise, steps))
            else:  # repeat level only: the median of STEPS_FOLDED steps' noise folded into the repeat
                t = np.array([m * f * (1 + rng.normal(0, noise.steps_noise * 1.2533 / STEPS_FOLDED ** 0.5))])
            t = np.abs(t)
            med = float(np.median(t))
            out.append({"schema_version": 1, "run_id": run_id, "suite": "calibration", "config_id": cid,
                        "repeat": k, "status": "ok", "reason": None, "attention": cid, "device_type": "cuda",
                        "step_times_s": [float(x) for x in t] if steps else None,
                        "tokens_per_step": TOKENS_PER_STEP, "tokens_per_s": TOKENS_PER_STEP / med,
                        "step_time_s_median": med, "peak_allocated_bytes": float(1 << 30)})
    return out


def frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    if "step_times_s" in df and df["step_times_s"].isna().all():
        df = df.drop(columns="step_times_s")
    return df


# The stress models the calibration tables report beside the fitted one: name -> changes to it
STRESS = {
    "repeats 1%": {"between_repeats": 0.01},
    "repeats 2%": {"between_repeats": 0.02},
    "runs 1% apart": {"between_runs": 0.01},
    "slow repeats (15% of them, 10%)": {"slow_rate": 0.15},
    "two modes 3% apart": {"mode_gap": 0.03},
}


def models(fitted: Noise) -> dict[str, Noise]:
    return {"fitted": fitted, **{name: fitted.but(**kw) for name, kw in STRESS.items()}}
