"""Library models as benchbench models: `timm:<name>`, `torchvision:<name>`, `hf:<model_type>`.

    timm:resnet50         timm.create_model("resnet50", pretrained=False)
    torchvision:resnet50  torchvision.models.get_model("resnet50", weights=None) (classification models)
    hf:gpt2               transformers' model for the default config of that model type, here
                          GPT2LMHeadModel(GPT2Config()): seq2seq LM (t5), else masked LM (bert),
                          else causal LM (gpt2, llama), else image classification (vit) - the
                          first auto class that has the type; the loss is the library's own

Every model is built from its code and default config with random weights: nothing is
downloaded (HF_HUB_OFFLINE is not needed; no pretrained weights or hub configs are asked for).
The library is imported only when the model is built; `missing()` tells beforehand whether it
is installed, with the pip command.

These models follow none of the conventions of benchbench's own models (no `model.blocks`, no
`attend` hook), so SUPPORTS says which techniques apply: activation checkpointing and the
attention choice do not (the model runs the library's own attention, which benchbench reports
as attention=sdpa, the default). flops_per_sample is measured, not analytic: FlopCounterMode
over one forward + backward of a batch of 1 on the meta device (a second instance, no memory,
no compute), else on fake tensors, else on the built model on the CPU (see measured_flops).
It counts what runs: matmuls, convolutions and attention, with backward 1x forward for layers
whose input needs no gradient; norms and elementwise ops are not counted.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util

import torch
import torch.nn as nn
import torch.nn.functional as F

from benchbench.models.common import Built

# prefix -> (package to import, pip name)
LIBRARIES = {"timm": ("timm", "timm"), "torchvision": ("torchvision", "torchvision"), "hf": ("transformers", "transformers")}
# (modeling_auto mapping, kind), tried in order: encoder-decoders (t5, bart) and encoders (bert)
# also have a causal-LM class, but train as seq2seq and masked LMs; decoders (gpt2, llama) have only that.
HF_TASKS = (
    ("MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES", "seq2seq"),
    ("MODEL_FOR_MASKED_LM_MAPPING_NAMES", "lm"),
    ("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", "lm"),
    ("MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES", "image"),
)
DEFAULT_SEQ_LEN = 1024  # the cap on an LM's default sequence length (its max_position_embeddings if smaller)


def is_adapter(name: str) -> bool:
    return name.split(":", 1)[0] in LIBRARIES and ":" in name


class Adapter:
    """Looks like a model module: SIZES, ARGS, build(size, args, seq_len, image_size)."""

    SIZES: dict[str, dict] = {"default": {}}
    ARGS: tuple[str, ...] = ()
    SUPPORTS = {"checkpointing": False, "attention": False, "sequential_blocks": False}

    def __init__(self, spec: str):
        self.spec = spec
        self.library, self.name = spec.split(":", 1)
        self.package, self.pip_name = LIBRARIES[self.library]

    def __repr__(self) -> str:
        return f"<model adapter {self.spec}>"

    def missing(self) -> str | None:
        """Why this model cannot be built here (library absent, empty name); None if it may be."""
        if not self.name:
            return f"model {self.spec!r} names no model; write {self.library}:<name>"
        if importlib.util.find_spec(self.package) is None:
            return f"model {self.spec} needs the package '{self.package}' (pip install {self.pip_name})"
        return None

    def build(self, size: str, args: dict[str, int], seq_len: int | None, image_size: int | None) -> Built:
        reason = self.missing()
        if reason:
            raise ImportError(reason)
        lib = importlib.import_module(self.package)
        return {"timm": _timm, "torchvision": _torchvision, "hf": _hf}[self.library](lib, self.name, seq_len, image_size)


class Classifier(nn.Module):
    """forward(images, labels) -> cross-entropy of the wrapped classifier's logits."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, images, labels):
        out = self.net(images.to(next(self.net.parameters()).dtype))
        logits = out if isinstance(out, torch.Tensor) else out.logits  # Inception/GoogLeNet outputs, HF
        return F.cross_entropy(logits.float(), labels)


class HFImageClassifier(nn.Module):
    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, images, labels):
        return self.net(pixel_values=images.to(next(self.net.parameters()).dtype), labels=labels).loss


class HFLanguageModel(nn.Module):
    """forward(input_ids, labels) -> the library's own LM loss (causal models shift internally)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, input_ids, labels):
        return self.net(input_ids=input_ids, labels=labels).loss


def _unknown(spec: str, name: str, known) -> ValueError:
    close = difflib.get_close_matches(name, list(known), n=5)
    hint = f"; close: {', '.join(close)}" if close else ""
    return ValueError(f"model {spec}: {name!r} is not a model of that library{hint}")


def _image_batch(channels: int, side: int, n_classes: int):
    def make_batch(batch_size: int, gen: torch.Generator, device: torch.device):
        images = torch.randn(batch_size, channels, side, side, generator=gen, device="cpu")
        labels = torch.randint(0, n_classes, (batch_size,), generator=gen, device="cpu")
        return images.to(device, non_blocking=True), labels.to(device, non_blocking=True)

    return make_batch


def _token_batch(vocab_size: int, seq_len: int):
    def make_batch(batch_size: int, gen: torch.Generator, device: torch.device):
        tokens = torch.randint(0, vocab_size, (batch_size, seq_len), generator=gen, device="cpu").to(device, non_blocking=True)
        return tokens, tokens  # labels = inputs: the library shifts them for causal LMs

    return make_batch


def measured_flops(make_model, make_batch, built_model: nn.Module) -> float:
    """Training FLOPs of one sample, counted by FlopCounterMode over one forward + backward.

    Tried in turn, each on a batch of 1:
      1. the meta device: a fresh instance from make_model; no memory, no compute;
      2. fake tensors (FakeTensorMode), for forwards that read a value (libraries skip such
         checks on fake tensors, as when tracing); no memory, no compute;
      3. `built_model` itself on the CPU (under fork_rng, gradients cleared afterwards).
    Attention is forced to the math SDPA backend on 2 and 3: FlopCounterMode does not count
    the fused CPU kernel (on meta, SDPA is already decomposed into counted matmuls).
    """
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    def count(model, x, y) -> float:
        with sdpa_kernel([SDPBackend.MATH]), FlopCounterMode(display=False) as fc:
            model(x, y).backward()
        return float(fc.get_total_flops())

    def batch():
        return make_batch(1, torch.Generator().manual_seed(0), torch.device("cpu"))

    errors = []
    try:
        with torch.device("meta"):
            return count(make_model(), *(t.to("meta") for t in batch()))
    except Exception as e:
        errors.append(f"meta: {type(e).__name__}: {e}")
    try:
        x, y = batch()
        # on the CPU even inside a caller's meta device context (estimate.py builds under one)
        with torch.device("cpu"), torch.random.fork_rng(), FakeTensorMode(allow_non_fake_inputs=True) as mode:
            return count(make_model(), mode.from_tensor(x), mode.from_tensor(y))
    except Exception as e:
        errors.append(f"fake tensors: {type(e).__name__}: {e}")
    if any(p.is_meta for p in built_model.parameters()):
        raise RuntimeError("cannot count the FLOPs of this model without running it: " + "; ".join(errors))
    with torch.random.fork_rng():
        flops = count(built_model, *batch())
    for p in built_model.parameters():
        p.grad = None
    return flops


def _finish(model: nn.Module, make_model, make_batch, tokens_per_sample: int | None) -> Built:
    return Built(
        model=model,
        make_batch=make_batch,
        flops_per_sample=measured_flops(make_model, make_batch, model),
        tokens_per_sample=tokens_per_sample,
        n_params=sum(p.numel() for p in model.parameters()),
    )


def _timm(timm, name: str, seq_len, image_size) -> Built:
    if not timm.is_model(name):
        raise _unknown(f"timm:{name}", name, timm.list_models())

    def make_model():
        if image_size:
            try:  # transformer-style models fix their position table at construction
                return Classifier(timm.create_model(name, pretrained=False, img_size=image_size))
            except TypeError:
                pass  # convolutional models take any size and have no img_size argument
        return Classifier(timm.create_model(name, pretrained=False))

    model = make_model()
    channels, side, _ = model.net.pretrained_cfg.get("input_size", (3, 224, 224))
    make_batch = _image_batch(channels, image_size or side, model.net.num_classes)
    return _finish(model, make_model, make_batch, None)


def _torchvision(torchvision, name: str, seq_len, image_size) -> Built:
    classifiers = torchvision.models.list_models(module=torchvision.models)
    if name not in classifiers:
        raise _unknown(f"torchvision:{name}", name, classifiers)
    side = image_size or (299 if name == "inception_v3" else 224)
    kwargs = {"image_size": side} if name.startswith("vit_") else {}  # ViTs fix their position table

    def make_model():
        return Classifier(torchvision.models.get_model(name, weights=None, **kwargs))

    model = make_model()
    return _finish(model, make_model, _image_batch(3, side, 1000), None)


def _hf(transformers, name: str, seq_len, image_size) -> Built:
    from transformers.models.auto import modeling_auto

    if name not in transformers.CONFIG_MAPPING:
        raise _unknown(f"hf:{name}", name, transformers.CONFIG_MAPPING.keys())
    found = [(getattr(modeling_auto, mapping, {}).get(name), kind) for mapping, kind in HF_TASKS]
    cls_name, kind = next(((c, k) for c, k in found if c), (None, None))
    if cls_name is None:
        raise ValueError(f"model hf:{name}: no causal-LM, masked-LM, seq2seq-LM or image-classification model for this type")
    model_cls = getattr(transformers, cls_name)
    config = transformers.AutoConfig.for_model(name)
    if hasattr(config, "use_cache"):
        config.use_cache = False  # training: no key/value cache
    if kind == "seq2seq" and getattr(config, "decoder_start_token_id", None) is None:
        config.decoder_start_token_id = getattr(config, "pad_token_id", None) or 0  # decoder inputs = labels shifted right
    if kind == "image":
        if image_size:
            config.image_size = image_size
        side, channels = getattr(config, "image_size", 224), getattr(config, "num_channels", 3)
        side = side if isinstance(side, int) else side[0]

        def make_model():
            return HFImageClassifier(model_cls(config))

        make_batch, tokens = _image_batch(channels, side, config.num_labels), None
    else:
        limit = getattr(config, "max_position_embeddings", None)
        T = seq_len or min(limit or DEFAULT_SEQ_LEN, DEFAULT_SEQ_LEN)
        if limit and T > limit:
            raise ValueError(f"model hf:{name}: seq_len={T} is beyond its max_position_embeddings={limit}")

        def make_model():
            return HFLanguageModel(model_cls(config))

        make_batch, tokens = _token_batch(config.vocab_size, T), T
    model = make_model()
    return _finish(model, make_model, make_batch, tokens)
