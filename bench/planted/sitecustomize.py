"""A planted regression for the verdict and history checks: with this directory on PYTHONPATH and
BENCH_PLANTED_KERNELS=k (k >= 1) in the environment, or k in the file `kernels` beside this one (so a
commit can carry the change), the GPT model's MLP runs k extra elementwise kernels on its hidden
activations (h * 1.0 each: the same values, one more read and write of the 4 x n_embd activations in the
forward and in the backward). The suite, its configs and their ids stay the same. Unset: nothing happens."""

import os

_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernels")
_K = int(os.environ.get("BENCH_PLANTED_KERNELS") or (open(_FILE).read().strip() if os.path.exists(_FILE) else 0) or 0)

if _K > 0:
    import torch.nn.functional as F

    from benchbench.models import gpt

    def _forward(self, x):
        h = F.gelu(self.fc(x), approximate="tanh")
        for _ in range(_K):
            h = h * 1.0
        return self.proj(h)

    gpt.MLP.forward = _forward
