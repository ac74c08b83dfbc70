"""Where a DeepSpeed rank's memory goes: every tensor its engine and optimizer hold, by role.

The ZeRO paper counts model states only (parameters, gradients, optimizer states). A DeepSpeed
rank also holds flat copies, communication buckets and gradient partitions whose sizes follow
settings (reduce_bucket_size, allgather_bucket_size, contiguous_gradients, grad_accum_dtype...).
This walks the attributes of the DeepSpeed optimizer object (the ZeRO optimizer, or the
BF16/FP16 wrapper), its inner torch optimizer and the model's parameters, and counts each
storage once, at its full size, under the first role that claims it:

    params            the model's parameter storages (this rank's partition under ZeRO-3)
    optimizer_state   the inner optimizer's state (Adam moments) and the fp32 master weights
    grads             .grad of any tensor found, and tensors under an attribute named *grad*
    buffers           everything else DeepSpeed holds: buckets, flat copies, partitions

predicted_states() is the memory model's part for engine deepspeed (plan/memory_model.py): model states
by ZeRO stage, DeepSpeed's buckets and the gathered parameters of stage 3, before any run.

Called between backward and step (the moment gradients exist), so `grads` are the gradients a
rank really holds at its peak, in the dtype DeepSpeed keeps them (fp32 with grad_accum_dtype=fp32).
"""

from __future__ import annotations

from benchbench.plugins.components import lazy

torch = lazy("torch")

MAX_DEPTH = 5
DS_BUCKET_ELEMENTS = 5e8        # DeepSpeed's default reduce_bucket_size (elements; fp32 ones with fp32)
DS_LIVE_PARAMETERS = 1e9        # DeepSpeed's default stage3_max_live_parameters


def predicted_states(cfg, psi: int) -> dict:
    """Bytes of weights, gradients, optimizer states, buffers and the step's temporaries of one rank
    (bf16/fp16: 16-bit weights and gradients, K = 12 bytes of fp32 master + moments; ZeRO stage 1 shards
    the optimizer states over the ranks, 2 also the gradients, 3 also the weights)."""
    n = cfg.world_size
    moments = 8 if cfg.optimizer == "adamw" else 4
    w, g, k = (2, 2, 4 + moments) if cfg.precision in ("bf16", "fp16", "bf16-pure") else (4, 4, moments)
    if cfg.grad_accum_dtype == "fp32":
        g = 4
    stage = cfg.zero_stage
    params = w * psi / (n if stage >= 3 else 1)
    grads = g * psi / (n if stage >= 2 else 1)
    opt = k * psi / (n if stage >= 1 else 1)
    if cfg.offload_optimizer:
        opt = 0.0
    bucket = g * (cfg.reduce_bucket_size or DS_BUCKET_ELEMENTS) if stage >= 1 else 0.0  # gradients' dtype
    buffers = 0.0
    if stage >= 3:  # ZeRO-3 holds its bucket and the gathered (live) parameters through backward
        buffers = bucket + w * min(cfg.stage3_max_live_parameters or DS_LIVE_PARAMETERS, psi)
        bucket = 0.0
    # the step converts the gradients it updates to fp32: a flat copy and its partition; stages
    # 1-2 fill their reduce bucket only then
    step = (8 * psi if stage == 0 and w == 2 else (4 * psi / n if w == 2 else 0.0)) + bucket
    return dict(params_bytes=params, grads_bytes=grads, optimizer_state_bytes=opt, buffers_bytes=buffers,
                step_transient_bytes=step, grads_exist_in_backward=False)
ROLES = ("params", "grads", "optimizer_state", "buffers")


def _storage(t: torch.Tensor):
    t = t.to_local() if hasattr(t, "to_local") else t
    if not t.numel() and not t.untyped_storage().nbytes():
        return None
    s = t.untyped_storage()
    return s.data_ptr(), s.nbytes(), t.device.type


def _walk(obj, path: str, depth: int, seen_objs: set, found: list):
    """(path, tensor) for every tensor reachable from DeepSpeed objects and plain containers."""
    if isinstance(obj, torch.Tensor):
        found.append((path, obj))
        if obj.grad is not None:
            found.append((path + ".grad", obj.grad))
        return
    if depth > MAX_DEPTH or id(obj) in seen_objs or isinstance(obj, torch.nn.Module):
        return
    seen_objs.add(id(obj))
    if isinstance(obj, dict):
        for k, v in obj.items():
            _walk(v, f"{path}[{k!r}]" if not isinstance(k, torch.Tensor) else f"{path}[tensor]", depth + 1, seen_objs, found)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _walk(v, f"{path}[{i}]", depth + 1, seen_objs, found)
    elif isinstance(obj, torch.optim.Optimizer) or type(obj).__module__.startswith("deepspeed"):
        for k, v in vars(obj).items():
            _walk(v, f"{path}.{k}", depth + 1, seen_objs, found)


def _role(path: str) -> str:
    """By the attribute that holds the tensor: *grad* -> grads; *fp32* (the master copies:
    single_partition_of_fp32_groups, fp32_partitioned_groups_flat, fp32_groups_flat...; ZeRO-3
    lends them to the inner optimizer only during its step) -> optimizer_state; else buffers."""
    name = path.rsplit(".", 1)[-1].split("[", 1)[0].lower()
    if path.endswith(".grad") or "grad" in name:
        return "grads"
    return "optimizer_state" if "fp32" in name else "buffers"


def breakdown(module: torch.nn.Module, optimizer, device_type: str) -> dict:
    """Bytes per role on `device_type` (tensors elsewhere, e.g. offloaded to the CPU, go to
    zero_offloaded_bytes), and the largest buffers by attribute path, for one rank."""
    claimed: dict[int, str] = {}
    size: dict[int, int] = {}
    where: dict[int, str] = {}

    def claim(t, role, path=""):
        key = _storage(t)
        if key is None or key[0] in claimed or key[2] == "meta":
            return
        claimed[key[0]], size[key[0]], where[key[0]] = role, key[1], f"{path} ({key[2]})"

    params = [getattr(p, "ds_tensor", p) for p in module.parameters()]
    for p in params:
        claim(p, "params", "param")
    inner = getattr(optimizer, "optimizer", optimizer)
    for state in getattr(inner, "state", {}).values():
        for v in state.values():
            if isinstance(v, torch.Tensor) and v.dim():
                claim(v, "optimizer_state", "optimizer.state")
    for group in getattr(inner, "param_groups", []):
        for p in group["params"]:
            claim(p, "optimizer_state", "master")
    found: list = []
    for p in module.parameters():
        if p.grad is not None:
            found.append(("param.grad", p.grad))
    _walk(optimizer, "optimizer", 0, set(), found)
    for path, t in found:
        claim(t, _role(path), path)

    here = {k for k in claimed if where[k].endswith(f"({device_type})")}
    out = {f"zero_{role}_bytes": sum(size[k] for k in here if claimed[k] == role) for role in ROLES}
    out["zero_offloaded_bytes"] = sum(size[k] for k in claimed if k not in here)
    out["zero_model_states_bytes"] = out["zero_params_bytes"] + out["zero_grads_bytes"] + out["zero_optimizer_state_bytes"]
    big = sorted((k for k in claimed if claimed[k] in ("buffers", "grads") and size[k] >= 2**20), key=size.get, reverse=True)
    out["zero_largest_held"] = "; ".join(f"{where[k]} {size[k] / 2**20:.0f} MiB" for k in big[:4])
    return out
