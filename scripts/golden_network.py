"""Golden forward pass, losses and every parameter gradient of a fixed MLP,
from PyTorch.

Run from the repository root:  python scripts/golden_network.py
Writes tests/golden/network.txt (read by tests/network_golden.rs).
Needs the packages in scripts/requirements.txt.

The net, in the DSL of tests/network_golden.rs:
    4 -> Dense<6>, Tanh, Dense<5>, Softplus, Residual { Dense<5>, Elu }, Dense<3>
Weights are written in PyTorch's layout (weight[out][in]); for each loss and
reduction: the targets, the loss, the gradient of every parameter and of the
input. float64 and float32 are computed from the same values.
"""

import torch
from torch import nn

from golden_common import GoldenWriter


class Residual(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


def build():
    torch.manual_seed(20261127)
    return nn.Sequential(
        nn.Linear(4, 6), nn.Tanh(),
        nn.Linear(6, 5), nn.Softplus(),
        Residual(nn.Sequential(nn.Linear(5, 5), nn.ELU())),
        nn.Linear(5, 3),
    )


def linears(net):
    return [m for m in net.modules() if isinstance(m, nn.Linear)]


def losses(dtype):
    g = torch.Generator().manual_seed(7)
    reg_target = torch.randn(5, 3, generator=g, dtype=torch.float64).to(dtype)
    bce_target = torch.rand(5, 3, generator=g, dtype=torch.float64).to(dtype)
    classes = torch.tensor([0, 2, 1, 2, 0])
    probs = torch.softmax(torch.randn(5, 3, generator=g, dtype=torch.float64), dim=1).to(dtype)
    out = []
    for red in ["mean", "sum"]:
        out.append((f"mse/{red}", nn.MSELoss(reduction=red), reg_target))
        out.append((f"l1/{red}", nn.L1Loss(reduction=red), reg_target))
        out.append((f"huber/{red}", nn.HuberLoss(reduction=red, delta=0.5), reg_target))
        out.append((f"bce/{red}", nn.BCEWithLogitsLoss(reduction=red), bce_target))
        out.append((f"ce_index/{red}", nn.CrossEntropyLoss(reduction=red), classes))
        out.append((f"ce_probs/{red}", nn.CrossEntropyLoss(reduction=red), probs))
    return out


def main():
    w = GoldenWriter("tests/golden/network.txt", "a fixed MLP: outputs, losses, gradients")
    base = build().double()
    x64 = torch.randn(5, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    for i, lin in enumerate(linears(base)):
        w.put(f"dense{i}/weight", lin.weight)
        w.put(f"dense{i}/bias", lin.bias)
    w.put("input", x64)
    for dtype, tag in [(torch.float64, "f64"), (torch.float32, "f32")]:
        net = build().double()
        net.load_state_dict(base.state_dict())
        net = net.to(dtype)
        x = x64.to(dtype)
        w.put(f"{tag}/output", net(x))
        for name, loss_fn, target in losses(dtype):
            net.zero_grad()
            xi = x.clone().requires_grad_(True)
            loss = loss_fn(net(xi), target)
            loss.backward()
            key = f"{tag}/{name}"
            w.put(f"{key}/target", target.to(torch.float64))
            w.put(f"{key}/loss", loss)
            w.put(f"{key}/input_grad", xi.grad)
            for i, lin in enumerate(linears(net)):
                w.put(f"{key}/dense{i}/weight_grad", lin.weight.grad)
                w.put(f"{key}/dense{i}/bias_grad", lin.bias.grad)
    w.save("golden_network.py")


if __name__ == "__main__":
    main()
