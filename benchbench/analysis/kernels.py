"""Kernel names made comparable across runs, and kernels matched between two runs.

A CUDA kernel's name carries template arguments, tile sizes and numeric suffixes that change with
shapes, batch sizes and library heuristics while the work stays the same. `normalize()` folds them:
the function's parameter list is dropped, template arguments are reduced to the functor that says
what an elementwise kernel computes (`CUDAFunctor_add` -> add), and runs of digits become `#`
(tile sizes `256x128` -> `#x#`, Triton's `triton_poi_fused_add_0` -> `..._#`).
"""

from __future__ import annotations

import re

# Template arguments that wrap the real operation (an elementwise kernel's functor sits inside them)
_WRAPPERS = re.compile(r"^(AUnaryFunctor|BUnaryFunctor|BinaryFunctor|UnaryFunctor|gpu_kernel_impl\w*|"
                       r"TensorIteratorBase|OffsetCalculator|TrivialOffsetCalculator|LoadWithCast|StoreWithCast|"
                       r"LoadWithoutCast|StoreWithoutCast|array|func_wrapper_t|OpaqueType|TensorListMetadata|"
                       r"FusedOptimizerTensorListMetadata|ReduceOp)$")
_OP = re.compile(r"([A-Za-z_]\w*(?:Functor\w*|Kernel\w*|kernel_cuda|_functor|Impl))")
_DIGITS = re.compile(r"\d+")


def _split(name: str) -> tuple[str, str]:
    """(base name, text of its first template argument list) with the parameter list dropped."""
    name = name.strip().replace("(anonymous namespace)", "anon")
    if name.startswith("void "):
        name = name[5:]
    depth, base_end, tmpl = 0, None, ""
    for i, ch in enumerate(name):
        if ch == "<":
            if depth == 0 and base_end is None:
                base_end = i
            depth += 1
        elif ch == ">" and depth:
            depth -= 1
            if depth == 0 and not tmpl:
                tmpl = name[base_end + 1:i]
        elif ch == "(" and depth == 0:
            if base_end is None:
                base_end = i
            break
    if base_end is not None and not tmpl and depth:  # a name cut short inside its template arguments
        tmpl = name[base_end + 1:]
    base = name[:base_end] if base_end is not None else name
    return base.rsplit("::", 1)[-1].strip(), tmpl


def _functor(tmpl: str) -> str:
    """The innermost functor of a template argument list that is not a generic wrapper."""
    found = [m.rsplit("::", 1)[-1] for m in _OP.findall(tmpl)]
    found = [f for f in found if not _WRAPPERS.match(f)]
    return found[-1] if found else ""


def short_op(functor: str) -> str:
    """CUDAFunctor_add -> add, MulFunctor -> mul, GeluBackwardCUDAKernelImpl -> gelu_backward."""
    s = re.sub(r"^CUDAFunctor_?|^CUDAFunctor", "", functor)
    s = re.sub(r"(CUDAKernelImpl|KernelImpl|_kernel_cuda|CUDAFunctor|Functor|_functor|Impl|Kernel)$", "", s)
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", s).lower().strip("_")
    return s or functor


def normalize(name: str) -> str:
    """A kernel's comparable name: base<functor> with digits folded (see the module docstring)."""
    base, tmpl = _split(name)
    op = _functor(tmpl) if tmpl else ""
    key = f"{base}<{op}>" if op else base
    return _DIGITS.sub("#", key)


def label(name: str) -> str:
    """A short word for a raw or normalized kernel name: the elementwise op, else the base name."""
    m = re.match(r"([^<(]*)<([A-Za-z_#]+)>$", name)  # already normalized: base<functor>
    if m:
        return short_op(m.group(2))
    base, tmpl = _split(name)
    op = _functor(tmpl) if tmpl else ""
    return short_op(op) if op else base


def totals(kernels: list[dict]) -> dict[str, dict]:
    """{normalized name: {time_us, count, names}} from [{name, time_us[, count]}]."""
    out: dict[str, dict] = {}
    for k in kernels:
        key = normalize(k["name"])
        d = out.setdefault(key, {"time_us": 0.0, "count": 0, "names": set()})
        d["time_us"] += float(k["time_us"])
        d["count"] += int(k.get("count", 1))
        d["names"].add(k["name"])
    return out


def match(a: dict[str, float], b: dict[str, float], floor_a: float = 0.0, floor_b: float = 0.0) -> dict[str, list]:
    """Kernels of A and B (normalized name -> seconds per step) matched by name.

    `floor_a`/`floor_b`: the smallest time a side could still show (a top-N list hides anything
    below its last entry, 0 for a full trace); a kernel missing from a side is `new`/`vanished` only
    when it is above that side's floor, otherwise `hidden` (below the other side's list: not known)."""
    out = {"matched": [], "new": [], "vanished": [], "hidden": []}
    for key in sorted(set(a) | set(b)):
        ta, tb = a.get(key), b.get(key)
        if ta is not None and tb is not None:
            out["matched"].append((key, ta, tb))
        elif tb is not None:
            out["new" if tb > floor_a else "hidden"].append((key, 0.0 if tb > floor_a else None, tb))
        else:
            out["vanished" if ta > floor_b else "hidden"].append((key, ta, 0.0 if ta > floor_b else None))
    return out
