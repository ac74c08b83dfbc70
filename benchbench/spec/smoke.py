"""--smoke: every config at tiny scale, so any suite checks itself on a CPU in seconds.

One smoke config per config: the model keeps its size's name (the label says `model_size=3b`) and
gets the tiny shape through model_args; compile stays as the suite set it; a setting the suite sweeps
keeps its value. Smoke rows are marked (`smoke: true`) and no view shows speedups or scaling
efficiencies from them: at tiny scale they say nothing about the real configs.
"""

from __future__ import annotations

SMOKE = dict(model_size="tiny", model_args={}, batch_size=2, seq_len=None, image_size=None, device="auto",
             warmup_steps=1, measured_steps=3, repeats=1, timeout_s=300.0)
KEEP_OWN = ("model_size", "model_args", "repeats", "timeout_s")  # smoke's own even where the suite sweeps them


def _sizes(name) -> dict:
    from benchbench import models  # the registry imports torch: only when expanding with --smoke

    try:
        return models.module(name).SIZES
    except Exception:  # unknown or unimportable: validation reports it
        return {}


def smoke_settings(defined, point: dict) -> dict:
    """SMOKE for one config (a RunConfig as the suite defines it), so that no two configs become one smoke
    config: a model with a tiny size keeps its size's name and gets the tiny shape as model_args; a
    setting the point sets (a swept axis, an include entry) keeps its value, except `batch_size: max`
    (no search at tiny scale)."""
    out = dict(SMOKE)
    sizes = _sizes(defined.model)
    if "tiny" not in sizes:  # e.g. library adapters: only "default"
        out["model_size"], out["model_args"] = defined.model_size, dict(defined.model_args)
    elif defined.model_size != "tiny":
        out["model_size"], out["model_args"] = defined.model_size, dict(sizes["tiny"])
    for key in point:
        if key in out and key not in KEEP_OWN and not (key == "batch_size" and point[key] == "max"):
            out[key] = getattr(defined, key)
            if key in ("seq_len", "image_size") and key in sizes.get("tiny", {}) and out[key] is not None:
                out["model_args"] = {**out["model_args"], key: out[key]}  # the tiny model made that wide
    return out
