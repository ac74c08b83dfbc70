"""What the models' tensor-parallel plans share: a style for modules left whole on every TP rank.

Every parameter of a tensor-parallel model must be a DTensor (the optimizer's foreach kernels refuse
a mix of DTensors and plain tensors), so a module that is not sharded (a norm without sequence
parallelism, the position embedding) gets replicated DTensor parameters; its inputs and outputs stay
plain tensors, as its neighbours' are. torchtitan's NoParallel does the same.
"""

from __future__ import annotations

import torch
from torch.distributed.tensor import DTensor, Replicate, distribute_module
from torch.distributed.tensor.parallel import ParallelStyle


class Replicated(ParallelStyle):
    def _apply(self, module, device_mesh):
        def inputs(mod, args, mesh):
            return tuple(DTensor.from_local(a, mesh, [Replicate()], run_check=False)
                         if isinstance(a, torch.Tensor) and not isinstance(a, DTensor) else a for a in args)

        def outputs(mod, out, mesh):
            return out.to_local() if isinstance(out, DTensor) else out

        return distribute_module(module, device_mesh, None, inputs, outputs)
