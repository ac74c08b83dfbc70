"""torchtitan's own Llama 3 trainer, given what the side-by-side needs through its registry (imported by the
trainer through `experimental.custom_import`): the Llama 3.2 1B and 3B shapes as flavors (untied head, vocab
128,256; the SwiGLU width 8192 from torchtitan's rule: 1B multiplier 1.5, 3B 1.0, multiple of 256), and
synthetic text (uniform random tokens, as benchbench's) instead of a tokenizer and a dataset, so that nothing
is read from disk or the network. Everything else is torchtitan's llama3 train spec as shipped."""

from __future__ import annotations

import dataclasses

import torch
from torchtitan.components.dataloader import BaseDataLoader
from torchtitan.models.llama3 import TransformerModelArgs, get_train_spec
from torchtitan.protocols.train_spec import register_train_spec

NAME = "llama3_bench"
VOCAB = 128256
FLAVORS = {
    "1B": TransformerModelArgs(dim=2048, n_layers=16, n_heads=32, n_kv_heads=8, vocab_size=VOCAB,
                               ffn_dim_multiplier=1.5, multiple_of=256, rope_theta=500000),
    "3B": TransformerModelArgs(dim=3072, n_layers=28, n_heads=24, n_kv_heads=8, vocab_size=VOCAB,
                               ffn_dim_multiplier=1.0, multiple_of=256, rope_theta=500000),
}


class SyntheticText(BaseDataLoader):
    """Endless batches of seq_len + 1 random tokens, split into inputs and next-token labels."""

    def __init__(self, batch_size: int, seq_len: int, vocab_size: int, seed: int):
        self.shape, self.vocab_size, self.seed = (batch_size, seq_len + 1), vocab_size, seed

    def __iter__(self):
        gen = torch.Generator().manual_seed(self.seed)
        while True:
            tokens = torch.randint(0, self.vocab_size, self.shape, generator=gen)
            yield {"input": tokens[:, :-1]}, tokens[:, 1:]

    def state_dict(self):
        return {}

    def load_state_dict(self, state_dict):
        pass


def build_synthetic(dp_world_size, dp_rank, tokenizer, job_config, **kwargs):
    t = job_config.training
    return SyntheticText(t.local_batch_size, t.seq_len, VOCAB, seed=1234 + dp_rank)


register_train_spec(NAME, dataclasses.replace(get_train_spec(), model_args=FLAVORS, build_dataloader_fn=build_synthetic,
                                              build_tokenizer_fn=None, build_validator_fn=None,
                                              state_dict_adapter=None))
