"""How big the HTML report gets and how long it takes to write and to open, for 1 to 500 configs.

    python bench/report_size.py [--configs 1,50,500] [--repeats 2] [--no-browser]

Synthetic GPU-like runs (every column the report charts: throughput with per-step samples, peak
memory, MFU, energy, GPU time by category, one oom in ten), written as real run directories, then
`report.build` + `html.write`, then the file opened in headless Chromium (tests/fixtures/browser.py)
until every chart is drawn. Prints one table row per size.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchbench.present import report  # noqa: E402
from benchbench.present.report import html  # noqa: E402
from tests.fixtures import browser  # noqa: E402
from tests.fixtures import runs as fx  # noqa: E402

AXES = {"precision": ["fp32", "bf16", "fp16", "fp8", "tf32"], "attention": ["eager", "sdpa", "flash", "mem", "cudnn"],
        "checkpointing": ["none", "full", "selective", "every_k"], "grad_accum": [1, 2, 4, 8, 16]}


def synthetic_run(root: Path, n: int, repeats: int) -> Path:
    rng = np.random.default_rng(0)
    rows = []
    for i, values in enumerate(itertools.islice(itertools.product(*AXES.values()), n)):
        axes = dict(zip(AXES, values))
        cid = f"c{i:04d}"
        if i % 10 == 9:
            rows.append(fx.row(cid, status="oom", reason="CUDA out of memory. Tried to allocate 2.00 GiB", **axes))
            continue
        median = float(rng.uniform(0.03, 0.3))
        shares = rng.dirichlet(np.ones(7))
        extra = dict(zip([f"profile_share_{c}" for c in report.data.PROFILE_CATEGORIES], shares.tolist()))
        extra.update(profile_busy_frac=float(rng.uniform(0.7, 0.99)), profile_device="cuda",
                     mfu=float(rng.uniform(0.1, 0.6)), tokens_per_j=float(rng.uniform(100, 3000)),
                     gpu_util_pct_mean=float(rng.uniform(60, 100)), peak_allocated_bytes=float(rng.uniform(5e9, 8e10)))
        rows += fx.config(cid, median, repeats=repeats, seed=i, tokens_per_step=16384, **axes, **extra)
    d = fx.write_run(root / f"run{n}", rows, env=fx.GPU_ENV, suite="size")
    (d / "suite.yaml").write_text("name: size\nsweep: {" + ", ".join(f"{a}: {v}" for a, v in AXES.items()) + "}\n")
    return d


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", default="1,50,500")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--no-browser", action="store_true")
    args = p.parse_args()
    why = None if not args.no_browser else "--no-browser"
    why = why or browser.missing()
    print(f"{'configs':>8} {'rows':>6} {'charts':>6} {'build s':>8} {'write s':>8} {'MB':>6} {'open s':>7}  JS errors")
    with tempfile.TemporaryDirectory() as tmp:
        for n in map(int, args.configs.split(",")):
            d = synthetic_run(Path(tmp), n, args.repeats)
            t0 = time.perf_counter()
            rep = report.build([d])
            t1 = time.perf_counter()
            out = html.write(rep, Path(tmp) / f"report{n}.html")
            t2 = time.perf_counter()
            opened = "-" if why else browser.open_report(out, timeout_s=120)
            load = f"{opened.load_s:7.2f}" if not why else f"{'-':>7}"
            errs = "-" if why else (len(opened.js_errors) if opened.rendered == opened.charts else
                                    f"{opened.rendered}/{opened.charts} charts drawn")
            print(f"{n:>8} {len(rep.runs[0].rows):>6} {len(rep.figures):>6} {t1 - t0:8.2f} {t2 - t1:8.2f} "
                  f"{out.stat().st_size / 1e6:6.2f} {load}  {errs}")
    if why:
        print(f"(not opened in a browser: {why})")


if __name__ == "__main__":
    main()
