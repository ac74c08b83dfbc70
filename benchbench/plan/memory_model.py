"""Predicted peak memory of one config, from first principles (per rank, bytes).

    predict(cfg) -> dict   predicted_peak_bytes (the CUDA allocator's peak, what a row's
                           peak_allocated_bytes measures) and its parts; None for what is unknown

Two moments compete for the peak, and the larger one is it:

- **backward starts** (the loss is computed, nothing freed yet): parameters, optimizer states,
  gradients only when they already exist (accumulation after the first micro-batch, DDP's buckets),
  every activation the forward saved, and the loss's buffers over the vocabulary;
- **optimizer step**: parameters, gradients, optimizer states and the step's own temporaries.

Model states (Ψ parameters; N ranks; ZeRO paper, Rajbhandari et al. 2020): torch engines keep fp32
weights and gradients (4Ψ + 4Ψ) and AdamW's two fp32 moments (8Ψ; SGD's momentum 4Ψ); bf16-pure
keeps bf16 weights and gradients (2Ψ + 2Ψ) and fp32 masters in the optimizer (+4Ψ). DeepSpeed bf16
keeps bf16 weights and gradients and K = 12 bytes of fp32 master + moments, stage 1 shards the
optimizer states over N, stage 2 also the gradients, stage 3 also the weights.

Activations per transformer layer and sample (Korthikanti et al. 2022: 34·s·h bytes + 5·a·s² with
16-bit activations and dropout; this GPT has no dropout but saves the attention output for the
fused kernels' backward, so it is 34·s·h again): 68·s·h with fp32 activations, 38·s·h under
autocast (the residual stream and layer-norm inputs stay fp32), 34·s·h with bf16 weights. The s²
term (the attention probabilities) exists only with eager attention: 4·a·s² bytes in fp32, 6·a·s²
under autocast (fp32 softmax output and its 16-bit copy), 2·a·s² in bf16. Checkpointing keeps a
checkpointed block's input only and recomputes one block (or segment) at a time; selective
recomputation drops the s² term and the attention output. selective_op (torchtitan's op-level policy)
keeps each block's input, the attention kernel's output and every other matmul's output (GPT: the
fused q/k/v and the MLP's first projection, 8·h values; Llama: wq, wv, w1 and w2, 3·d + d_kv + f
values), in the matmuls' dtype, and recomputes one block at a time.

The loss over the vocabulary V: fp32 logits, their log-softmax and its gradient (12·s·V bytes);
under autocast the 16-bit logits, their fp32 copy and the log-softmax (10·s·V); 16-bit weights
6·s·V. These three constants come from counting the saved tensors of F.cross_entropy; checked
against measured peaks (docs/performance.md#predicted-vs-measured-memory).

Not modelled: torch.compile (inductor saves less: the prediction is an upper bound there), FSDP
(predicted as ZeRO-3 with fp32 states), models that declare no memory_shape() (the GPT and Llama
families do; others: states only, activations None, so no peak). What differs by engine comes from the
engine's declarations (plugins/components.py): its capabilities shards_parameters and
keeps_gradient_buckets, or its own memory_states() (DeepSpeed: engines/deepspeed_memory.py); by
precision, from techniques/precision.py. A prediction of whether a config fits adds MARGIN_FRACTION and CONTEXT_BYTES
for the allocator's fragmentation, the CUDA context and library workspaces.
"""

from __future__ import annotations

import functools
import json
import math

from benchbench.techniques import precision

MARGIN_FRACTION = 0.10          # reserved-but-unused memory near the limit (seen 1-25% in OOM messages)
CONTEXT_BYTES = 0.75 * 2**30    # CUDA context, cuBLAS/cuDNN workspaces: outside the allocator's count


def _shape(cfg) -> dict | None:
    """A decoder's shape (n_layer, n_head, n_embd, seq_len, vocab_size; ffn_dim for the Llama family) from
    the model's memory_shape(), else None (a model that declares none: states only)."""
    from benchbench import models

    if cfg.model not in models.MODELS:
        return None
    shape = getattr(models.MODELS[cfg.model], "memory_shape", None)
    return shape(cfg.model_size, dict(cfg.model_args), cfg.seq_len) if shape is not None else None


def n_params(cfg) -> int | None:
    """Trainable parameters of a reference model, counted on the meta device (no memory). None for
    a user's, a library's or a plug-in's model: its code runs in workers only (it may hang, crash or download)."""
    from benchbench import models

    if cfg.model not in models.MODELS:
        return None
    return _n_params(cfg.model, cfg.model_size, json.dumps(cfg.model_args, sort_keys=True), cfg.seq_len, cfg.image_size)


@functools.lru_cache(maxsize=256)
def _n_params(model: str, size: str, args: str, seq_len, image_size) -> int:
    import torch

    from benchbench import models

    with torch.device("meta"):
        built = models.module(model).build(size, json.loads(args), seq_len, image_size)
    return sum(p.numel() for p in built.model.parameters() if p.requires_grad)


def _states(cfg, psi: int) -> dict:
    """Bytes of weights, gradients, optimizer states, extra buffers and the step's temporaries: the engine's
    own count where it declares one (memory_states), else the torch engines' by their capabilities."""
    from benchbench import engines

    own = getattr(engines.get(cfg.engine), "memory_states", None)
    if own is not None:
        return own(cfg, psi)
    moments = 8 if cfg.optimizer == "adamw" else 4
    mode = precision.mode(cfg)
    if mode.params != "fp32":  # 16-bit weights and gradients, fp32 masters in the optimizer
        params, grads, opt = 2 * psi, 2 * psi, (moments + 4) * psi
    else:
        params, grads, opt = 4 * psi, 4 * psi, moments * psi
    shard = cfg.world_size if cfg.capability("shards_parameters") else 1
    buffers = 2 * psi / shard if mode.autocast else 0.0   # autocast's 16-bit weight copies
    buckets = cfg.capability("keeps_gradient_buckets")
    if buckets:  # a flat copy of the gradients beside .grad (DDP: gradient_as_bucket_view=False)
        buffers += grads
    return dict(params_bytes=params / shard, grads_bytes=grads / shard, optimizer_state_bytes=opt / shard,
                buffers_bytes=buffers, step_transient_bytes=0.0,
                grads_exist_in_backward=bool(buckets) or cfg.grad_accum > 1)


# bytes per (token x n_embd) saved by one layer; per (head x token^2) with eager attention; per
# (token x vocab) for the loss
LAYER = {"fp32": 68, "autocast": 38, "16bit": 34}
# The Llama layer, per token, counted from the tensors autograd saves (tests/unit/plan/test_memory_model.py
# counts them): per n_embd (d), each RMSNorm's input and its normalized fp32 intermediate (and, in
# fp32 and 16-bit, its output, which the next linears share; under autocast each linear saves its
# own 16-bit cast of it: three for q/k/v, two for w1/w3), SDPA's q, k, v (K/V repeated to every
# head) and output (also the output projection's input); per ffn_dim (f) w1's and w3's outputs,
# silu's output and w2's input.
LLAMA_LAYER = {"fp32": (40, 16), "autocast": (34, 8), "16bit": (28, 8)}
SCORES = {"fp32": 4, "autocast": 6, "16bit": 2}
RESIDUAL = {"fp32": 4, "autocast": 4, "16bit": 2}
ATTN_OUT = {"fp32": 4, "autocast": 2, "16bit": 2}
MATMUL_OUT = {"fp32": 4, "autocast": 2, "16bit": 2}   # bytes of one saved matmul output value
LOSS = {"fp32": 12, "autocast": 10, "16bit": 6}


def _activations(cfg, shape: dict) -> tuple[float, float, float]:
    """(activations saved when backward starts, the loss buffers then, and the activations while
    the first checkpointed segment is recomputed) for one micro-batch."""
    kind = precision.activation_kind(cfg)
    s, b, h, a, L, V = (shape["seq_len"], cfg.batch_size, shape["n_embd"], shape["n_head"], shape["n_layer"],
                        shape["vocab_size"])
    scores = SCORES[kind] * a * s * s * b if cfg.attention == "eager" else 0.0
    per_d, per_f = LLAMA_LAYER[kind] if "ffn_dim" in shape else (LAYER[kind], 0)
    full = per_d * s * b * h + per_f * s * b * shape.get("ffn_dim", 0) + scores  # one layer, nothing recomputed
    kept = RESIDUAL[kind] * s * b * h                   # a checkpointed block's input
    mode, k = cfg.checkpointing, cfg.checkpoint_k
    recompute = 0.0                                     # one checkpointed segment's activations again
    if mode == "none":
        stored = L * full
    elif mode == "full":
        stored, recompute = L * kept, full              # every block's input; one block at a time
    elif mode == "every_k":
        n_ckpt = math.ceil(L / k)
        stored, recompute = n_ckpt * kept + (L - n_ckpt) * full, full
    elif mode == "sqrt":
        size = math.ceil(math.sqrt(L))
        stored, recompute = math.ceil(L / size) * kept, size * full
    elif mode == "selective_op":
        if "ffn_dim" in shape:
            kv = h * shape.get("n_kv_head", a) / a
            values = 3 * h + kv + shape["ffn_dim"]
        else:
            values = 8 * h
        stored, recompute = L * (kept + MATMUL_OUT[kind] * s * b * values), full
    else:  # selective: the attention core (its scores and output) is recomputed
        stored = L * (full - scores - ATTN_OUT[kind] * s * b * h)
    return stored, LOSS[kind] * s * b * V, stored + recompute


def predict(cfg) -> dict:
    """Predicted peak allocator bytes of one rank, with its parts (see the module's docstring)."""
    psi = n_params(cfg)
    if psi is None:
        return {"n_params": None, "predicted_peak_bytes": None, "peak_phase": None,
                "predicted_note": f"model {cfg.model} is not predicted: its code runs in workers only"}
    if cfg.tp_size > 1 or cfg.pp_size > 1:  # shards and stages hold parts of every term: not modelled
        return {"n_params": psi, "predicted_peak_bytes": None, "peak_phase": None,
                "predicted_note": "tensor and pipeline parallelism (tp_size, pp_size > 1) are not modelled"}
    out = {"n_params": psi, **_states(cfg, psi)}
    grads_now = out.pop("grads_exist_in_backward")
    shape = _shape(cfg)
    base = out["params_bytes"] + out["optimizer_state_bytes"] + out["buffers_bytes"]
    step = base + out["grads_bytes"] + out["step_transient_bytes"]
    if shape is None:
        out.update(activations_bytes=None, loss_bytes=None, predicted_peak_bytes=None, peak_phase=None,
                   predicted_note=f"activations of model {cfg.model} are not modelled (GPT and Llama families only)")
        return out
    act, loss, during_recompute = _activations(cfg, shape)
    backward = base + max(act + loss, during_recompute) + (out["grads_bytes"] if grads_now else 0.0)
    peak = max(backward, step)
    out.update(activations_bytes=act, loss_bytes=loss, predicted_peak_bytes=peak,
               peak_phase="backward" if backward >= step else "optimizer step",
               predicted_note="upper bound: torch.compile saves fewer activations" if cfg.compile != "off" else "")
    return out


def device_bytes_needed(predicted_peak: float) -> float:
    """What a config needs of a GPU's memory: the allocator's peak plus fragmentation and context."""
    return predicted_peak * (1 + MARGIN_FRACTION) + CONTEXT_BYTES


def wont_fit(configs, gpu_bytes: float | None) -> list[tuple]:
    """(config, bytes it needs) of the CUDA configs predicted not to fit a GPU of `gpu_bytes`."""
    out = []
    for c in configs if gpu_bytes else ():
        if c.device == "cpu":
            continue
        try:
            p = predict(c)["predicted_peak_bytes"]
        except Exception:
            continue
        if p and device_bytes_needed(p) > gpu_bytes:
            out.append((c, device_bytes_needed(p)))
    return out


def row_fields(cfg, measured_peak: float | None = None) -> dict:
    """The columns every run row carries: predicted_peak_bytes and, when measured, the error."""
    try:
        p = predict(cfg)
    except Exception as e:  # a model the meta device cannot build: no prediction, the row stands
        return {"predicted_peak_bytes": None, "predicted_note": f"no prediction: {type(e).__name__}: {e}"[:300]}
    out = {"predicted_peak_bytes": p["predicted_peak_bytes"], "predicted_peak_phase": p["peak_phase"]}
    if p.get("predicted_note"):
        out["predicted_note"] = p["predicted_note"]
    if measured_peak and p["predicted_peak_bytes"]:
        out["predicted_peak_error"] = p["predicted_peak_bytes"] / measured_peak - 1
    return out
