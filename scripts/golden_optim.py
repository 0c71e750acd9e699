#!/usr/bin/env python3
"""Writes tests/golden/optim.txt (optimizer trajectories from torch.optim)
and tests/golden/clip.txt (torch.nn.utils.clip_grad_norm_ and
clip_grad_value_).

Optimizers: every configuration in CONFIGS starts from the same parameters
and sees the same ten gradient vectors. Both are written to the file, so
the Rust test (tests/optim_golden.rs) replays exactly what PyTorch saw: the
gradient is set by hand before each `opt.step()`, and the parameters are
recorded after every step, in float64 and in float32 (the float32 run
starts from the float32 rounding of the same start and gradients).

Clipping: one set of gradients, split over two tensors like a layer's
weight and bias (the norm is taken over all of them as one vector), clipped
with several limits below and above the norm, in float64 and float32.

Regenerate (from the repository root, with the packages pinned in
scripts/requirements.txt):

    python3 scripts/golden_optim.py

and commit the two golden files with any change to this script.

Records (format in scripts/golden_common.py):
  optim.txt  init/<dtype>                       the start, N values
             grads/<dtype>/step<k>              gradient of step k (1..10)
             <optimizer>/<case>/lr              per-step learning rates, for
                                                the cases whose rate changes
             <optimizer>/<case>/<dtype>/step<k> parameters after step k
  clip.txt   input/<dtype>                      the gradients before clipping
             <case>/<dtype>/limit               max_norm, or the clip value
             <case>/<dtype>/total               the norm returned (norm cases)
             <case>/<dtype>/grads               the gradients after clipping
"""

from pathlib import Path

import torch

from golden_common import GoldenWriter

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden"
STEPS = 10
DTYPES = {"f64": torch.float64, "f32": torch.float32}

# Away from zero, so relative deviations of the trajectories stay meaningful
# (checked below: no parameter comes near zero in any trajectory).
INIT = [1.5, -3.0, 0.75, -0.5, 3.5, -1.25]

# Per-step gradient scale: large and small steps alternate, so the second
# moments of Adam and RMSprop rise and fall (which is what AMSGrad's running
# maximum and RMSprop's averaging are about).
SCALES = [1.0, 3.0, 0.5, 0.2, 2.0, 0.1, 1.5, 0.3, 1.0, 0.05]

# Learning rates for the cases whose rate changes every step (a schedule
# driving the optimizer): PyTorch's SGD buffer and AdamW's decoupled decay
# both see the current rate, which these cases pin down.
VARYING_LR = [0.1, 0.08, 0.06, 0.05, 0.04, 0.03, 0.025, 0.02, 0.015, 0.01]

# name -> (constructor, keyword arguments, per-step learning rates or None)
CONFIGS = {
    "sgd/plain": (torch.optim.SGD, dict(lr=0.1), None),
    "sgd/momentum": (torch.optim.SGD, dict(lr=0.05, momentum=0.9), None),
    "sgd/dampening": (torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.3), None),
    "sgd/nesterov": (torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True), None),
    "sgd/weight_decay": (torch.optim.SGD, dict(lr=0.1, weight_decay=0.05), None),
    "sgd/nesterov_weight_decay": (
        torch.optim.SGD,
        dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
        None,
    ),
    "sgd/momentum_lr_varies": (torch.optim.SGD, dict(lr=0.1, momentum=0.9), VARYING_LR),
    "adagrad/default": (torch.optim.Adagrad, dict(), None),
    "adagrad/lr_decay": (torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.05), None),
    "adagrad/initial_accumulator_value": (
        torch.optim.Adagrad,
        dict(lr=0.1, initial_accumulator_value=0.5),
        None,
    ),
    "adagrad/weight_decay": (torch.optim.Adagrad, dict(lr=0.1, weight_decay=0.1), None),
    "rmsprop/default": (torch.optim.RMSprop, dict(), None),
    "rmsprop/momentum": (torch.optim.RMSprop, dict(lr=0.01, momentum=0.9), None),
    "rmsprop/centered": (torch.optim.RMSprop, dict(lr=0.01, centered=True), None),
    "rmsprop/centered_momentum": (
        torch.optim.RMSprop,
        dict(lr=0.01, centered=True, momentum=0.5),
        None,
    ),
    "rmsprop/weight_decay": (
        torch.optim.RMSprop,
        dict(lr=0.01, alpha=0.9, weight_decay=0.1),
        None,
    ),
    "adam/default": (torch.optim.Adam, dict(), None),
    "adam/amsgrad": (torch.optim.Adam, dict(lr=0.01, amsgrad=True), None),
    "adam/weight_decay": (
        torch.optim.Adam,
        dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1),
        None,
    ),
    "adamw/default": (torch.optim.AdamW, dict(), None),
    "adamw/amsgrad": (torch.optim.AdamW, dict(lr=0.01, amsgrad=True, weight_decay=0.05), None),
    "adamw/lr_varies": (torch.optim.AdamW, dict(lr=0.1, weight_decay=0.1), VARYING_LR),
}


def gradient_sequence():
    """Ten gradient vectors in float64: seeded normals times SCALES, with
    one exact zero on the first step (a zero first gradient leaves Adagrad's
    and RMSprop's accumulators at zero, where eps alone keeps the division
    finite)."""
    gen = torch.Generator().manual_seed(20240613)
    grads = torch.randn(STEPS, len(INIT), generator=gen, dtype=torch.float64)
    grads *= torch.tensor(SCALES, dtype=torch.float64).unsqueeze(1)
    grads[0, 5] = 0.0
    return grads


def run(ctor, kwargs, lrs, dtype, init, grads):
    """Parameters after each of the steps, as float64 rows."""
    p = torch.tensor(init, dtype=dtype, requires_grad=True)
    # The CPU default (single-tensor loop) is the reference; no foreach or
    # fused kernels are involved for CPU parameters.
    opt = ctor([p], **kwargs)
    out = []
    for k in range(STEPS):
        if lrs is not None:
            opt.param_groups[0]["lr"] = lrs[k]
        p.grad = grads[k].to(dtype).clone()
        opt.step()
        out.append(p.detach().double().clone())
    return out


def write_optim():
    w = GoldenWriter(GOLDEN / "optim.txt", "optimizer trajectories from torch.optim")
    grads64 = gradient_sequence()
    for dname, dtype in DTYPES.items():
        init = torch.tensor(INIT, dtype=dtype)
        w.put(f"init/{dname}", init)
        for k in range(STEPS):
            w.put(f"grads/{dname}/step{k + 1}", grads64[k].to(dtype))
    for name, (ctor, kwargs, lrs) in CONFIGS.items():
        if lrs is not None:
            w.put(f"{name}/lr", lrs)
        for dname, dtype in DTYPES.items():
            for k, p in enumerate(run(ctor, kwargs, lrs, dtype, INIT, grads64)):
                smallest = p.abs().min().item()
                assert smallest > 0.1, f"{name} {dname} step {k + 1}: parameter near zero"
                w.put(f"{name}/{dname}/step{k + 1}", p)
    w.save("golden_optim.py")


def write_clip():
    w = GoldenWriter(GOLDEN / "clip.txt", "gradient clipping from torch.nn.utils")
    gen = torch.Generator().manual_seed(7)
    flat64 = torch.randn(15, generator=gen, dtype=torch.float64) * 1.5
    l2_64 = flat64.norm().item()
    inf_64 = flat64.abs().max().item()
    # (case, kind, limit): limits below the norm clip, above it leave the
    # gradients alone, and within 1e-6 above it still scale them by a factor
    # just under 1 (PyTorch divides by total + 1e-6).
    cases = [
        ("l2/clipped", 2.0, 1.0),
        ("l2/unclipped", 2.0, 100.0),
        ("l2/just_above", 2.0, l2_64 + 4e-7),
        ("inf/clipped", float("inf"), 0.5),
        ("inf/unclipped", float("inf"), 10.0),
        ("inf/just_above", float("inf"), inf_64 + 4e-7),
        ("value/clipped", None, 0.5),
        ("value/unclipped", None, 10.0),
    ]
    for dname, dtype in DTYPES.items():
        flat = flat64.to(dtype)
        w.put(f"input/{dname}", flat)
        for case, norm_type, limit in cases:
            # Two tensors shaped like a 4 -> 3 layer's weight and bias.
            weight = torch.zeros(3, 4, dtype=dtype, requires_grad=True)
            bias = torch.zeros(3, dtype=dtype, requires_grad=True)
            weight.grad = flat[:12].reshape(3, 4).clone()
            bias.grad = flat[12:].clone()
            w.put(f"{case}/{dname}/limit", limit)
            if norm_type is None:
                torch.nn.utils.clip_grad_value_([weight, bias], limit)
            else:
                total = torch.nn.utils.clip_grad_norm_([weight, bias], limit, norm_type=norm_type)
                w.put(f"{case}/{dname}/total", total.item())
            w.put(f"{case}/{dname}/grads", torch.cat([weight.grad.flatten(), bias.grad]))
    w.save("golden_optim.py")


if __name__ == "__main__":
    write_optim()
    write_clip()
