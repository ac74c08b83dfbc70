"""torch.compile, over the whole model (the loss included) or block by block; compile time is the first
warmup step.

compile_scope
  model   one torch.compile of the whole model (nanoGPT's way; fewest graph boundaries)
  blocks  each block compiled on its own and put back in its place, what runs between blocks eager
          (torchtitan's apply_compile): FSDP2's per-block hooks then run outside the compiled code, as
          torchtitan trains
  auto    blocks with engine fsdp, model otherwise
"""

from __future__ import annotations

from benchbench.plugins.components import Setting, lazy

torch = lazy("torch")

SETTINGS = (
    Setting("compile", "off", "torch.compile mode", choices=("off", "default", "reduce-overhead", "max-autotune")),
    Setting("compile_scope", "auto", "with compile: model: one torch.compile of the whole model; blocks: each block "
            "compiled on its own, the rest eager (torchtitan's way); auto: blocks with engine fsdp, else model",
            choices=("auto", "model", "blocks")),
)


def scope(cfg) -> str:
    """auto: what the engine asks for (FSDP2 shards block by block, so its hooks stay outside compiled code)."""
    if cfg.compile_scope != "auto":
        return cfg.compile_scope
    return cfg.capability("compile_scope")


def block_list(model):
    """The model's repeated blocks (`blocks`, or `layers` as torchtitan's Llama names them), or None."""
    blocks = getattr(model, "blocks", None)
    if blocks is None:
        blocks = getattr(model, "layers", None)
    return blocks if isinstance(blocks, (torch.nn.ModuleList, torch.nn.Sequential)) and len(blocks) else None


def skip_reason(cfg, dev) -> str | None:
    if cfg.compile_scope == "auto":
        return None
    if cfg.compile == "off":
        return f"compile_scope={cfg.compile_scope} is a compile setting; compile=off"
    if cfg.compile_scope == "blocks":
        from benchbench import models

        model = models.meta_model(cfg)  # a reference model's blocks are known before launch; others in the worker
        return model_reason(cfg, model) if model is not None else None
    return None


def model_reason(cfg, model) -> str | None:
    """Decided once the model is built: blocks scope needs blocks to compile."""
    if cfg.compile != "off" and cfg.compile_scope == "blocks" and block_list(model) is None:
        return f"compile_scope=blocks needs a model with a `blocks` (or `layers`) module list; {cfg.model} has none"
    return None


def apply(model, cfg, dev):
    if cfg.compile == "off":
        return model
    mode = None if cfg.compile == "default" else cfg.compile
    blocks = block_list(model)
    if scope(cfg) == "blocks" and blocks is not None:
        for i, block in enumerate(blocks):
            blocks[i] = torch.compile(block, mode=mode)
        return model
    return torch.compile(model, mode=mode)


def fields(model, cfg) -> dict:
    if cfg.compile == "off":
        return {}
    return {"compile_scope_used": "blocks" if scope(cfg) == "blocks" and block_list(
        getattr(model, "_orig_mod", model)) is not None else "model"}
