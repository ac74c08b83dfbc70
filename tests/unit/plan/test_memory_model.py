"""memory_model.py against hand-computed cases, the ZeRO paper's ratios, and the trend of measured
CPU memory (doubling the batch doubles the activations)."""

import json

import pytest

from benchbench.plan import memory_model as mm
from benchbench.spec.config import RunConfig
from tests.integration.test_cli import cli_run

S, H, A, L, V = 1024, 768, 12, 12, 50304          # GPT-2 124M as models/gpt.py builds it
PSI = V * H + S * H + L * (2 * 2 * H + H * 3 * H + H * H + H * 4 * H + 4 * H * H) + 2 * H   # tied lm_head


def gpt(**kw) -> RunConfig:
    return RunConfig(**{"model": "gpt", "model_size": "124m", "seq_len": S, "batch_size": 1, "device": "cuda", **kw})


def test_parameter_count():
    assert mm.n_params(gpt()) == PSI == 124_392_960


def test_fp32_by_hand():
    p = mm.predict(gpt(precision="fp32", attention="sdpa"))
    assert (p["params_bytes"], p["grads_bytes"], p["optimizer_state_bytes"]) == (4 * PSI, 4 * PSI, 8 * PSI)
    assert p["activations_bytes"] == 68 * S * H * L            # 17 saved (s, h) tensors a layer, 4 bytes each
    assert p["loss_bytes"] == 12 * S * V                       # logits' log-softmax, its gradient and input, fp32
    # the peak: when backward starts (no gradients yet with set_to_none), over the optimizer step
    assert p["predicted_peak_bytes"] == 4 * PSI + 8 * PSI + 68 * S * H * L + 12 * S * V
    assert p["peak_phase"] == "backward"


def test_eager_attention_adds_the_s_squared_term_and_flash_does_not():
    sdpa = mm.predict(gpt(precision="fp32", attention="sdpa"))
    eager = mm.predict(gpt(precision="fp32", attention="eager"))
    flash = mm.predict(gpt(precision="bf16", attention="flash"))
    assert eager["activations_bytes"] - sdpa["activations_bytes"] == 4 * A * S * S * L
    assert flash["activations_bytes"] == mm.predict(gpt(precision="bf16", attention="sdpa"))["activations_bytes"]
    bf16_eager = mm.predict(gpt(precision="bf16", attention="eager"))
    assert bf16_eager["activations_bytes"] - flash["activations_bytes"] == 6 * A * S * S * L


def test_checkpointing_keeps_block_inputs():
    none = mm.predict(gpt(precision="bf16"))
    full = mm.predict(gpt(precision="bf16", checkpointing="full"))
    assert none["activations_bytes"] == 38 * S * H * L
    assert full["activations_bytes"] == 4 * S * H * L           # every block's fp32 input
    every2 = mm.predict(gpt(precision="bf16", checkpointing="every_k", checkpoint_k=2))
    assert full["activations_bytes"] < every2["activations_bytes"] < none["activations_bytes"]
    sel = mm.predict(gpt(precision="bf16", checkpointing="selective", attention="eager"))
    assert sel["activations_bytes"] == (38 - 2) * S * H * L     # no scores, no attention output


def test_doubling_the_batch_doubles_activations_not_states():
    one, two = mm.predict(gpt(batch_size=4)), mm.predict(gpt(batch_size=8))
    assert two["activations_bytes"] == 2 * one["activations_bytes"] and two["loss_bytes"] == 2 * one["loss_bytes"]
    assert two["optimizer_state_bytes"] == one["optimizer_state_bytes"]


@pytest.mark.parametrize("stage, params, grads, opt", [(0, 2, 2, 12), (1, 2, 2, 12 / 4), (2, 2, 2 / 4, 12 / 4),
                                                       (3, 2 / 4, 2 / 4, 12 / 4)])
def test_zero_stages_shard_as_the_paper_says(stage, params, grads, opt):
    p = mm.predict(gpt(engine="deepspeed", world_size=4, zero_stage=stage, precision="bf16"))
    assert p["params_bytes"] == pytest.approx(params * PSI)
    assert p["grads_bytes"] == pytest.approx(grads * PSI)
    assert p["optimizer_state_bytes"] == pytest.approx(opt * PSI)   # K = 12: fp32 master + two moments


def test_bf16_pure_and_sgd_states():
    p = mm.predict(gpt(precision="bf16-pure", optimizer="sgd"))
    assert (p["params_bytes"], p["grads_bytes"], p["optimizer_state_bytes"]) == (2 * PSI, 2 * PSI, (4 + 4) * PSI)


def test_other_models_get_states_but_no_peak():
    p = mm.predict(RunConfig(model="vit", model_size="tiny", batch_size=2))
    assert p["params_bytes"] > 0 and p["activations_bytes"] is None and p["predicted_peak_bytes"] is None
    assert "not modelled" in p["predicted_note"]


def test_tensor_and_pipeline_parallel_configs_are_not_predicted():
    for cfg in (RunConfig(tp_size=2, world_size=2), RunConfig(pp_size=2, world_size=2)):
        p = mm.predict(cfg)
        assert p["predicted_peak_bytes"] is None and "not modelled" in p["predicted_note"]
    assert mm.wont_fit([RunConfig(model_size="1.5b", tp_size=2, world_size=2, device="cuda")], 1e9) == []


def test_row_fields_and_fit():
    cfg = gpt(batch_size=8)
    peak = mm.predict(cfg)["predicted_peak_bytes"]
    f = mm.row_fields(cfg, measured_peak=peak / 1.05)
    assert f["predicted_peak_bytes"] == peak and f["predicted_peak_error"] == pytest.approx(0.05)
    user = mm.row_fields(RunConfig(model="py:tests.fixtures.faulty_model", model_size="hang"))   # never built here
    assert user["predicted_peak_bytes"] is None and "runs in workers only" in user["predicted_note"]
    assert [c for c, _ in mm.wont_fit([cfg], 80 * 2**30)] == []
    assert [c for c, _ in mm.wont_fit([cfg], 4 * 2**30)] == [cfg]


def test_measured_cpu_memory_grows_as_predicted(tmp_path):
    """Three batch sizes of a small GPT, each in its own worker: the host's peak RSS grows with the
    batch like the predicted activations (CPU kernels keep some more temporaries: 0.8-3x)."""
    suite = tmp_path / "s.yaml"
    suite.write_text("name: rss\nmodel: {name: gpt, size: tiny, n_layer: 2, n_embd: 128, n_head: 4, seq_len: 256}\n"
                     "defaults: {device: cpu, seq_len: 256, warmup_steps: 1, measured_steps: 2, collect: [memory]}\n"
                     "sweep: {batch_size: [8, 16, 32]}\n")
    p = cli_run("run", suite, "-o", tmp_path / "run", "-q")
    assert p.returncode == 0, p.stderr
    rows = {r["batch_size"]: r for r in map(json.loads, (tmp_path / "run" / "rows.jsonl").read_text().splitlines())}
    measured = {b: rows[b]["peak_rss_bytes"] for b in (8, 16, 32)}
    predicted = {b: rows[b]["predicted_peak_bytes"] for b in (8, 16, 32)}
    grow_m, grow_p = measured[32] - measured[8], predicted[32] - predicted[8]
    assert 0.8 * grow_p < grow_m < 3 * grow_p, (measured, predicted)
    assert measured[8] < measured[16] < measured[32]


# ---------------------------------------------------------------- the Llama layer's saved tensors


def saved_bytes_per_token(kind: str) -> float:
    """Bytes autograd saves for one Llama block's backward, per token: every activation the graph holds,
    not the parameters or the 16-bit weight copies autocast makes (the model counts those as buffers)."""
    import contextlib

    import torch

    from benchbench.models import llama

    c = llama.LlamaConfig(n_layer=1, dim=128, n_head=4, n_kv_head=2, ffn_dim=320, seq_len=64, vocab_size=64)
    torch.manual_seed(0)
    block = llama.Block(c).to(torch.bfloat16 if kind == "16bit" else torch.float32)
    x = torch.randn(2, 64, 128, requires_grad=True, dtype=next(block.parameters()).dtype)
    ctx = torch.autocast("cpu", torch.bfloat16) if kind == "autocast" else contextlib.nullcontext()
    with ctx:
        y = block(x)
    params = {p.data_ptr() for p in block.parameters()}
    storages, stack, seen = {}, [y.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        for name in dir(fn):
            if not name.startswith("_saved_") or name == "_saved_mat2":  # mm's weight operand
                continue
            try:
                t = getattr(fn, name)
            except Exception:
                continue
            # activations only: rotary angle tables (T x head_dim/2) and norms' rstd (B x T) are tiny
            if isinstance(t, torch.Tensor) and t.numel() >= 2 * 64 * 128 // 2 and t.data_ptr() not in params:
                storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        stack += [f for f, _ in fn.next_functions]
    return sum(storages.values()) / (2 * 64), c.dim, c.ffn_dim


@pytest.mark.parametrize("kind", ["fp32", "autocast", "16bit"])
def test_llama_layer_constants_are_the_tensors_autograd_saves(kind):
    measured, d, f = saved_bytes_per_token(kind)
    per_d, per_f = mm.LLAMA_LAYER[kind]
    assert measured == per_d * d + per_f * f


def test_llama_prediction_uses_its_ffn_and_states():
    cfg = RunConfig(model="llama", model_size="1b", seq_len=2048, batch_size=4, device="cuda", precision="bf16")
    p = mm.predict(cfg)
    psi = 1_498_482_688
    assert p["n_params"] == psi and p["params_bytes"] == 4 * psi
    assert p["activations_bytes"] == 16 * (34 * 2048 + 8 * 8192) * 2048 * 4
    assert p["predicted_peak_bytes"] > p["activations_bytes"]


def test_selective_op_keeps_inputs_attention_outputs_and_every_other_matmul():
    sel = mm.predict(gpt(precision="bf16", checkpointing="selective_op"))
    # the fp32 block input (4) and 16-bit outputs of the fused q/k/v (3h), attention (h) and MLP fc (4h)
    assert sel["activations_bytes"] == (4 + 2 * 8) * S * H * L
    full, none = (mm.predict(gpt(precision="bf16", checkpointing=m))["activations_bytes"] for m in ("full", "none"))
    assert full < sel["activations_bytes"] < none
    llama = RunConfig(model="llama", model_size="8b", seq_len=8192, batch_size=2, device="cuda", precision="bf16",
                      checkpointing="selective_op")
    d, f, kv, layers, tokens = 4096, 14336, 1024, 32, 2 * 8192
    assert mm.predict(llama)["activations_bytes"] == layers * tokens * (4 * d + 2 * (3 * d + kv + f))
