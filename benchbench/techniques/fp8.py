"""precision=fp8: torchao's float8 training, as torchtitan applies it.

Every nn.Linear but the output head (`output`, `lm_head`) and those whose in/out features are not
multiples of 16 (the fp8 matmul's alignment) becomes a torchao Float8Linear with the recipe
`fp8_recipe` (Float8LinearConfig.from_recipe_name: tensorwise, rowwise, rowwise_with_gw_hp); every
other op runs under bf16 autocast (techniques/precision.py), or in bf16 under FSDP2's bf16 policy.
Applied first (torchtitan's order: float8, then parallelism, then compile, then FSDP). torchao is
imported only for fp8 configs (pip install 'benchbench[fp8]').

`fp8_fsdp_all_gather` is torchtitan's `enable_fsdp_float8_all_gather`: under FSDP2 the sharded weights
are cast to fp8 before the all-gather, so it moves half the bytes of bf16. torchao offers it for the
tensorwise recipe only. The amax is computed per parameter at each all-gather (torchtitan's optional
precompute of all scales in one all-reduce is not applied).
"""

from __future__ import annotations

import dataclasses
import importlib.util

from benchbench.plugins.components import Setting, lazy

torch = lazy("torch")

HEADS = ("output", "lm_head")
MIN_CAPABILITY = (8, 9)  # fp8 tensor cores: Ada (8.9) and Hopper (9.0) and newer
SETTINGS = (
    Setting("fp8_recipe", "tensorwise", "with precision fp8: torchao's Float8LinearConfig recipe (scales per tensor, "
            "per row, per row with bf16 weight gradients)", choices=("tensorwise", "rowwise", "rowwise_with_gw_hp")),
    Setting("fp8_fsdp_all_gather", False, "with precision fp8, fp8_recipe tensorwise and engine fsdp: weights cast to "
            "fp8 before FSDP2's all-gather (half its bytes)", type=bool),
)


def _all_gather_problem(cfg) -> str | None:
    if not cfg.fp8_fsdp_all_gather:
        return None
    if cfg.precision != "fp8" or cfg.fp8_recipe != "tensorwise" or not cfg.capability("float8_all_gather"):
        return (f"fp8_fsdp_all_gather needs precision=fp8, fp8_recipe=tensorwise and engine=fsdp; this config has "
                f"precision={cfg.precision}, fp8_recipe={cfg.fp8_recipe}, engine={cfg.engine}")
    return None


def skip_reason(cfg, dev) -> str | None:
    if (problem := _all_gather_problem(cfg)) is not None:
        return problem
    if cfg.precision != "fp8":
        if cfg.fp8_recipe != "tensorwise":
            return f"fp8_recipe is a setting of precision=fp8; precision={cfg.precision}"
        return None
    if dev.type != "cuda":
        return "fp8 training needs a CUDA GPU of compute capability 8.9+ (Ada/Hopper)"
    if dev.capability is not None and tuple(dev.capability) < MIN_CAPABILITY:
        return (f"fp8 training needs a CUDA GPU of compute capability 8.9+ (Ada/Hopper); {dev.name} has "
                f"{dev.capability[0]}.{dev.capability[1]}")
    if importlib.util.find_spec("torchao") is None:
        return "precision=fp8 needs the package 'torchao' (pip install 'benchbench[fp8]')"
    return None


def converts(module: torch.nn.Module, fqn: str) -> bool:
    """torchtitan's filter: not the output head, and both dimensions multiples of 16."""
    if fqn.rsplit(".", 1)[-1] in HEADS:
        return False
    if isinstance(module, torch.nn.Linear):
        return module.in_features % 16 == 0 and module.out_features % 16 == 0
    return True


def apply(model, cfg, dev):
    if cfg.precision != "fp8":
        return model
    from torchao.float8 import Float8LinearConfig, convert_to_float8_training

    config = Float8LinearConfig.from_recipe_name(cfg.fp8_recipe)
    if cfg.fp8_fsdp_all_gather:
        config = dataclasses.replace(config, enable_fsdp_float8_all_gather=True)
    return convert_to_float8_training(model, config=config, module_filter_fn=converts)


def fields(model, cfg) -> dict:
    """The row's fp8 facts: the recipe and how many Linear layers became Float8Linear."""
    if cfg.precision != "fp8":
        return {}
    n = sum(type(m).__name__ == "Float8Linear" for m in model.modules())
    extra = {"fp8_fsdp_all_gather": True} if cfg.fp8_fsdp_all_gather else {}
    return {"fp8_recipe": cfg.fp8_recipe, "float8_linears": n, **extra}
