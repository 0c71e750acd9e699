"""Golden values of every activation and its derivative, from PyTorch.

Run from the repository root:  python scripts/golden_activations.py
Writes tests/golden/activations.txt (read by tests/activation_golden.rs).
Needs the packages in scripts/requirements.txt.

For each activation and dtype (float64, float32): the grid of inputs, the
values f(x) and the derivatives f'(x) from autograd (the gradient of
sum(f(x))). The grid includes 0 (where PyTorch's conventions for the kinks
decide), +-50 and +-1000.
"""

import torch

from golden_common import GoldenWriter

GRID = [-1000.0, -50.0, -20.5, -3.0, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 1.0, 3.0,
        9.99, 10.0, 10.01, 20.5, 50.0, 1000.0]

ACTIVATIONS = {
    "identity": lambda x: x,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu_0.01": lambda x: torch.nn.functional.leaky_relu(x, 0.01),
    "leaky_relu_0.2": lambda x: torch.nn.functional.leaky_relu(x, 0.2),
    "elu_1": lambda x: torch.nn.functional.elu(x, 1.0),
    "elu_0.5": lambda x: torch.nn.functional.elu(x, 0.5),
    "softplus_1_20": lambda x: torch.nn.functional.softplus(x, 1.0, 20.0),
    "softplus_2_10": lambda x: torch.nn.functional.softplus(x, 2.0, 10.0),
}


def main():
    w = GoldenWriter("tests/golden/activations.txt", "activations and derivatives on a grid")
    for dtype, tag in [(torch.float64, "f64"), (torch.float32, "f32")]:
        w.put(f"grid/{tag}", torch.tensor(GRID, dtype=dtype))
        for name, f in ACTIVATIONS.items():
            x = torch.tensor(GRID, dtype=dtype, requires_grad=True)
            y = f(x)
            y.sum().backward()
            w.put(f"{name}/{tag}/value", y)
            w.put(f"{name}/{tag}/grad", x.grad)
        # The binary step has no autograd rule; its derivative is 0 by
        # definition (see PYTORCH.md), and its value is heaviside(x, 0).
        x = torch.tensor(GRID, dtype=dtype)
        w.put(f"binary_step/{tag}/value", torch.heaviside(x, torch.zeros_like(x)))
        w.put(f"binary_step/{tag}/grad", torch.zeros_like(x))
    w.save("golden_activations.py")


if __name__ == "__main__":
    main()
