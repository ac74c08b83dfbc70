"""Where the Llama 1B's eager attention time goes, per layer (4 x 2048 tokens, bf16, forward + backward, CUDA
events, median of 50): the rotary embedding as the plain real arithmetic against the complex product, and
attention with K/V repeated against grouped K/V read in place (which SDPA backend runs it, printed).

    python3 bench/torchtitan/kernels.py     (a CUDA GPU)
"""

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchbench.models import llama  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "unit" / "models"))
from test_llama_numerics import plain_rotate  # noqa: E402


def ms(fn, *inputs, n=50):
    for _ in range(5):
        fn(*inputs)
    times = []
    for _ in range(n):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn(*inputs)
        b.record()
        torch.cuda.synchronize()
        times.append(a.elapsed_time(b))
    return sorted(times)[n // 2]


def fwd_bwd(f):
    def run(*xs):
        xs = [x.detach().requires_grad_() for x in xs]
        f(*xs).float().sum().backward()
    return run


B, T, H, KV, D = 4, 2048, 32, 8, 64
dev = torch.device("cuda")
q = torch.randn(B, T, H, D, device=dev, dtype=torch.bfloat16)
k = torch.randn(B, T, KV, D, device=dev, dtype=torch.bfloat16)
v = torch.randn(B, T, KV, D, device=dev, dtype=torch.bfloat16)
print(f"rotary q, plain: {ms(fwd_bwd(lambda x: plain_rotate(x)), q):.3f} ms; complex: {ms(fwd_bwd(llama.rotate), q):.3f} ms")
qt, kt, vt = (t.transpose(1, 2) for t in (q, k, v))


def repeated(q, k, v):
    return F.scaled_dot_product_attention(q, k.repeat_interleave(4, 1), v.repeat_interleave(4, 1), is_causal=True)


print(f"attention, K/V repeated (PyTorch's pick): {ms(fwd_bwd(repeated), qt, kt, vt):.3f} ms; "
      f"grouped in place, cuDNN first: {ms(fwd_bwd(lambda a, b, c: llama.gqa_sdpa(a, b, c, True)), qt, kt, vt):.3f} ms")
with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as p:
    fwd_bwd(lambda a, b, c: llama.gqa_sdpa(a, b, c, True))(qt, kt, vt)
    torch.cuda.synchronize()
print("gqa_sdpa kernels:", sorted({e.name[:60] for e in p.events() if "attention" in e.name.lower() or "fmha" in e.name.lower() or "flash" in e.name.lower()}))
