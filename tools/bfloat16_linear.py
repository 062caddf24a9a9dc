#!/usr/bin/env python3
"""Writes the TorchScript archive behind dev.retain.tensor.Bfloat16: linear layers in bfloat16.

DJL 0.36 aborts the JVM on any bfloat16 tensor it has to wrap (docs: djl-notes.md, pitfall 2), so the
bfloat16 weights live inside this scripted module and never cross into Java: keep(w) stores a bfloat16
copy of a float32 weight and returns its slot; forward(x, slot) computes x W^T with bfloat16 inputs
(libtorch accumulates in float32 and rounds the result to bfloat16) and returns it as float32. Java only
ever sees float32 tensors and slot numbers. There are no weights in the archive, only this code, so it
is a few kilobytes.

Slots are 0-d int64 tensors, not ints: DJL's autograd-recording call (IValueUtils.forward with
isTrain) passes tensors only. Run with recording on, forward's gradient reaches x (through the casts,
the copy being a constant), which is how a frozen base trains adapters on top of it. keep is called
the same way, so the copies are ordinary tensors (a copy made in inference mode could not be saved for
a backward pass).

Run from the repository root with any PyTorch >= 1.10 (Debian's python3-torch is enough):
  python3 tools/bfloat16_linear.py
The archive is committed; the build only copies it into the jar, and libtorch (2.7 through DJL)
compiles its code when it is loaded.
"""
from typing import List

import torch


class Bfloat16Linear(torch.nn.Module):
    weights: List[torch.Tensor]

    def __init__(self):
        super().__init__()
        self.weights = []

    @torch.jit.export
    def keep(self, w: torch.Tensor) -> torch.Tensor:
        self.weights.append(w.detach().to(torch.bfloat16).contiguous())
        return torch.tensor(len(self.weights) - 1)

    def forward(self, x: torch.Tensor, slot: torch.Tensor) -> torch.Tensor:
        w = self.weights[int(slot.item())]
        return torch.nn.functional.linear(x.to(torch.bfloat16), w).to(torch.float32)


if __name__ == "__main__":
    out = "src/main/resources/dev/retain/tensor/bfloat16_linear.pt"
    torch.jit.script(Bfloat16Linear()).save(out)
    print("wrote", out)
