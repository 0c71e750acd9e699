"""Trains two small nets in PyTorch and exports them as safetensors, with
inputs and PyTorch's outputs, for the interop tests.

Run from the repository root:  python scripts/export_torch.py
Writes tests/fixtures/ (read by tests/io_torch.rs, tests/io_baked.rs and
tests/no_std_check). Needs the packages in scripts/requirements.txt.

    python scripts/export_torch.py --check FILE
loads FILE (a safetensors file written by staticnet for the `mixed` net)
into the PyTorch module strictly and prints its largest output difference
from the committed fixture's outputs: the PyTorch-out direction.

The nets, in staticnet's DSL (the tests declare exactly these):

    W1(2 -> 1)    { Dense<16>, Tanh, Dense<16>, Tanh, Dense<1> }
    Mixed(3 -> 2) {
        Dense<8>, Tanh,
        Residual { Dense<8>, Relu, Dense<8, bias = false> },
        LeakyRelu(0.1),
        Residual { Dense<8>, Elu(1.0), Residual { Dense<8>, Sigmoid, Dense<8> } },
        Softplus(beta = 2.0, threshold = 10.0),
        Dense<4, bias = false>, Identity,
        Dense<2>,
    }

Each is an nn.Sequential of the same layers; a Residual block is the module
below, so its layers are named "<index>.body.<index>.weight".
"""

import argparse
import os
import struct

import torch
from safetensors.torch import load_file, save_file
from torch import nn

OUT = "tests/fixtures"


class Residual(nn.Module):
    def __init__(self, *layers):
        super().__init__()
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.body(x)


def w1():
    return nn.Sequential(
        nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1)
    )


def mixed():
    return nn.Sequential(
        nn.Linear(3, 8), nn.Tanh(),
        Residual(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8, bias=False)),
        nn.LeakyReLU(0.1),
        Residual(
            nn.Linear(8, 8), nn.ELU(1.0),
            Residual(nn.Linear(8, 8), nn.Sigmoid(), nn.Linear(8, 8)),
        ),
        nn.Softplus(beta=2.0, threshold=10.0),
        nn.Linear(8, 4, bias=False), nn.Identity(),
        nn.Linear(4, 2),
    )


def train(model, inputs, targets, steps, lr):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(inputs), targets)
        loss.backward()
        opt.step()
    return loss.item()


def state(model, dtype):
    return {k: v.detach().to(dtype).contiguous() for k, v in model.state_dict().items()}


def export_w1(g):
    torch.manual_seed(1)
    model = w1()
    x = torch.rand(256, 2, generator=g) * 4 - 2
    y = torch.sin(2 * x[:, :1]) * torch.cos(x[:, 1:])
    loss = train(model, x, y, steps=300, lr=0.01)
    inputs = torch.rand(8, 2, generator=g) * 4 - 2
    with torch.no_grad():
        outputs = model(inputs)
    save_file(state(model, torch.float32), f"{OUT}/w1.safetensors")
    save_file({"inputs": inputs, "outputs": outputs}, f"{OUT}/w1_io.safetensors")
    # The same rows as raw little-endian f32 (x0, x1, y), for the no_std
    # check, which has no safetensors reader.
    with open(f"{OUT}/w1_io.f32", "wb") as f:
        for row_in, row_out in zip(inputs.tolist(), outputs.tolist()):
            f.write(struct.pack("<3f", row_in[0], row_in[1], row_out[0]))
    print(f"w1: trained to MSE {loss:.4g}")


def export_mixed(g):
    torch.manual_seed(2)
    model = mixed()
    x = torch.rand(64, 3, generator=g) * 4 - 2
    y = torch.stack([torch.tanh(x.sum(1)), x[:, 0] * x[:, 1]], dim=1)
    loss = train(model, x, y, steps=100, lr=0.01)
    inputs = torch.rand(16, 3, generator=g) * 4 - 2
    with torch.no_grad():
        tensors = {
            "inputs": inputs,
            "outputs": model(inputs),
            "outputs_f64": model.double()(inputs.double()),
        }
    model.float()
    # What PyTorch makes of the F16 and BF16 files: each parameter rounded
    # to the half type and converted back to float32.
    for prefix, dtype in [("f16", torch.float16), ("bf16", torch.bfloat16)]:
        for name, value in model.state_dict().items():
            tensors[f"{prefix}.{name}"] = value.to(dtype).float().contiguous()
    save_file(state(model, torch.float32), f"{OUT}/mixed.safetensors")
    save_file(state(model, torch.float64), f"{OUT}/mixed_f64.safetensors")
    save_file(state(model, torch.float16), f"{OUT}/mixed_f16.safetensors")
    save_file(state(model, torch.bfloat16), f"{OUT}/mixed_bf16.safetensors")
    save_file(tensors, f"{OUT}/mixed_io.safetensors")
    print(f"mixed: trained to MSE {loss:.4g}")


def check(path):
    model = mixed()
    model.load_state_dict(load_file(path), strict=True)
    io = load_file(f"{OUT}/mixed_io.safetensors")
    with torch.no_grad():
        diff = (model(io["inputs"]) - io["outputs"]).abs().max().item()
    print(f"{path}: loaded strictly into the PyTorch module; largest output difference {diff:.3g}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", metavar="FILE", help="load a staticnet-written mixed net")
    args = parser.parse_args()
    if args.check:
        check(args.check)
        return
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(20261127)
    export_w1(g)
    export_mixed(g)
    print(f"written with torch {torch.__version__}")


if __name__ == "__main__":
    main()
