"""The side-by-side's configs, one place for both trainers: torchtitan's job (TOML) and benchbench's suite.

    python3 bench/torchtitan/configs.py toml NAME OUT_DIR    torchtitan's job config for NAME, printed
    python3 bench/torchtitan/configs.py suite NAME [REPEATS] benchbench's suite for NAME, printed
    python3 bench/torchtitan/configs.py names                the config names, one a line
    python3 bench/torchtitan/configs.py diag NAME [REPEATS]  NAME's suite swept over attention (sdpa, cudnn)
                                                             and, compiled, compile_scope (model, blocks)

Both: bf16 autocast, fused AdamW (lr 8e-4, weight decay 0.1 as torchtitan's defaults), gradient clipping 1.0,
no activation checkpointing, SDPA, one GPU, batch 4 x 2048 (3B: 2 x 2048); torchtitan's float8 as benchbench's
fp8 (tensorwise, every Linear but the output head).
"""

from __future__ import annotations

import sys

CONFIGS = {  # name: (size, batch_size, compiled, fp8)
    "1b-eager": ("1b", 4, False, False),
    "1b-compiled": ("1b", 4, True, False),
    "1b-fp8-compiled": ("1b", 4, True, True),
    "3b-eager": ("3b", 2, False, False),
    "3b-compiled": ("3b", 2, True, False),
    "3b-fp8-compiled": ("3b", 2, True, True),
}
SEQ_LEN = 2048
TITAN_STEPS, TITAN_LOG_FREQ = 40, 5  # windows of 5 steps; the table takes the median of those after step 10


def toml(name: str, out_dir: str) -> str:
    size, batch, compiled, fp8 = CONFIGS[name]
    lines = [
        "[job]", f'dump_folder = "{out_dir}"',
        "[experimental]", 'custom_import = "titan_spec"',
        "[model]", 'name = "llama3_bench"', f'flavor = "{size.upper()}"',
        "converters = " + ('["quantize.linear.float8"]' if fp8 else "[]"),
        "[optimizer]", 'name = "AdamW"', "lr = 8e-4", 'implementation = "fused"',
        "[training]", f"local_batch_size = {batch}", f"seq_len = {SEQ_LEN}", "max_norm = 1.0",
        f"steps = {TITAN_STEPS}", 'mixed_precision_param = "bfloat16"',
        "[metrics]", f"log_freq = {TITAN_LOG_FREQ}",
        "[activation_checkpoint]", 'mode = "none"',
        "[compile]", f"enable = {'true' if compiled else 'false'}", 'components = ["model", "loss"]',
        "[checkpoint]", "enable = false",
    ]
    if fp8:
        lines += ["[quantize.linear.float8]", 'recipe_name = "tensorwise"', 'filter_fqns = ["output"]']
    return "\n".join(lines) + "\n"


def suite(name: str, repeats: int = 1, sweep: str = "") -> str:
    size, batch, compiled, fp8 = CONFIGS[name]
    return f"""name: torchtitan-side-{name}
description: benchbench's llama at the settings torchtitan's trainer runs ({name}); bench/torchtitan/run.sh
model: {{name: llama, size: {size}}}
defaults:
  device: cuda
  batch_size: {batch}
  seq_len: {SEQ_LEN}
  precision: {'fp8' if fp8 else 'bf16'}
  compile: {'default' if compiled else 'off'}
  optimizer: adamw
  optimizer_impl: fused
  grad_clip: 1.0
  attention: sdpa
  warmup_steps: 5
  measured_steps: 20
  repeats: {repeats}
  timeout_s: 400
""" + ("  compile_cache: shared  # the repeats after the first start from the first's compiled code\n"
       if compiled and repeats > 1 else "") + sweep


def diag(name: str, repeats: int = 1) -> str:
    compiled = CONFIGS[name][2]
    axes = "sweep:\n  attention: [sdpa, cudnn]\n" + ("  compile_scope: [model, blocks]\n" if compiled else "")
    return suite(name, repeats, axes).replace(f"name: torchtitan-side-{name}", f"name: torchtitan-diag-{name}")


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "names":
        print("\n".join(CONFIGS))
    elif what == "toml":
        print(toml(sys.argv[2], sys.argv[3]), end="")
    elif what == "diag":
        print(diag(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1), end="")
    elif what == "suite":
        print(suite(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1), end="")
