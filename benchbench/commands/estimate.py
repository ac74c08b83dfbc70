"""`benchbench estimate SUITE [--device-memory GiB]`: the memory model's prediction for every config
(memory_model.py), its parts, and whether it fits the GPU; nothing is run."""

from __future__ import annotations

import pandas as pd
from rich.markup import escape
from rich.table import Table

from benchbench.analysis import compare
from benchbench.basics.units import GIB
from benchbench.commands.common import UsageError, console
from benchbench.plan import maxbatch, memory_model
from benchbench.spec import suite as suites
from benchbench.worker import device


def main(args) -> int:
    suite = suites.load(args.suite)
    configs = suite.expand(overrides={"device": args.device} if args.device else {})
    problems = suites.check_models(suite, configs)
    if problems:
        raise suites.SuiteError(problems)
    if args.device_memory is not None and args.device_memory <= 0:
        raise UsageError(f"--device-memory {args.device_memory}: GiB of GPU memory, more than 0")
    gpu = args.device_memory * GIB if args.device_memory else device.gpu_memory_bytes()
    labels = compare.labels(pd.DataFrame([{"config_id": c.config_id, **c.flat()} for c in configs]))
    t = Table(title=escape(f"{suite.name}: predicted peak memory per rank (GiB)" +
                           (f", GPU of {gpu / GIB:.1f} GiB" if gpu else "")), title_justify="left")
    for col in ("config", "weights", "grads", "optimizer", "buffers", "activations", "loss", "step extra", "peak",
                "at", "fits?"):
        t.add_column(col, justify="left" if col in ("config", "at", "fits?") else "right")
    notes = set()
    for c in configs:
        label = labels.get(c.config_id, c.config_id)
        if c.batch_size == "max":  # searched when run; here the batch the memory model expects to fit
            guess = maxbatch.guess(c.model_copy(update={"batch_size": 1}), gpu)
            c = c.model_copy(update={"batch_size": guess or 1})
            label += f" (max: {guess} predicted)" if guess else " (max: shown at batch 1; found when run)"
        p = memory_model.predict(c)
        peak = p["predicted_peak_bytes"]
        if peak is None:
            fits = "?"
        elif gpu:
            need = memory_model.device_bytes_needed(peak)
            fits = "yes" if need <= gpu else f"[red]no[/] ({need / GIB:.1f})"
        else:
            fits = "-"
        if p.get("predicted_note"):
            notes.add(p["predicted_note"])
        t.add_row(escape(label),
                  *[_gib(p.get(k)) for k in ("params_bytes", "grads_bytes", "optimizer_state_bytes", "buffers_bytes",
                                              "activations_bytes", "loss_bytes", "step_transient_bytes")],
                  _gib(peak), p.get("peak_phase") or "-", fits)
    console().print(t)
    err = console(stderr=True)
    err.print(escape(f"fits? = peak x {1 + memory_model.MARGIN_FRACTION:.2f} + {memory_model.CONTEXT_BYTES / GIB:.2f} GiB "
                     "(fragmentation, CUDA context) within the GPU's memory" if gpu else
                     "no GPU here: pass --device-memory GiB to say whether each config fits"), highlight=False)
    for n in sorted(notes):
        err.print(escape(f"note: {n}"), highlight=False)
    return 0


def _gib(x) -> str:
    return "-" if x is None else f"{x / GIB:.2f}"
