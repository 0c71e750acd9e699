"""The benchmark workloads W1-W6 of DESIGN.md in PyTorch, on one CPU thread.

Run from the repository root:  python scripts/bench_torch.py
(needs the packages in scripts/requirements.txt). Prints one line per
workload with the median time per call, in the same columns as the Rust
benches (`cargo bench --bench workloads`), so the two can be compared on
the same machine, then the same medians as a markdown table shaped like the
first columns of the peers table (`cargo bench` in peers/).

Inference runs under torch.inference_mode(); a training step is forward,
loss, backward, optimizer step and zero_grad, exactly as a PyTorch user
writes it.
"""

import statistics
import time

import torch
from torch import nn

torch.set_num_threads(1)
torch.manual_seed(0)


def mlp(sizes, act):
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def median_time(fn, min_seconds=1.0, repeats=15):
    """Median over `repeats` batches of calls, each batch ~min_seconds/repeats."""
    fn()
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t
        if dt > min_seconds / repeats:
            break
        n *= 2
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t) / n)
    return statistics.median(samples)


def fmt(seconds):
    if seconds < 1e-6:
        return f"{seconds * 1e9:.1f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    return f"{seconds * 1e3:.3f} ms"


def inference(net, batch, width):
    x = torch.randn(batch, width)

    def run():
        with torch.inference_mode():
            net(x)

    return median_time(run)


def training(net, batch, width, loss_fn, target, opt):
    x = torch.randn(batch, width)

    def run():
        out = net(x)
        loss = loss_fn(out, target)
        loss.backward()
        opt.step()
        opt.zero_grad()

    return median_time(run)


# W6 steps through this many fixed samples in turn, as the Rust benches do:
# on a single sample the network soon fits it exactly, its gradients become
# zero and its momentum decays into subnormal numbers, a state no real
# training is in.
W6_SAMPLES = 64


def training_cycled(net, width, outputs, loss_fn, opt):
    xs = list(torch.randn(W6_SAMPLES, 1, width).unbind(0))
    ys = list(torch.randn(W6_SAMPLES, 1, outputs).unbind(0))
    k = 0

    def run():
        nonlocal k
        k = (k + 1) % W6_SAMPLES
        out = net(xs[k])
        loss = loss_fn(out, ys[k])
        loss.backward()
        opt.step()
        opt.zero_grad()

    return median_time(run)


def main():
    w1 = mlp([2, 16, 16, 1], nn.Tanh)
    w2 = mlp([784, 128, 64, 10], nn.ReLU)
    w5 = mlp([256, 512, 512, 10], nn.ReLU)
    w6 = mlp([8, 32, 32, 4], nn.Tanh)
    rows = [
        ("W1", "inference, batch 1", inference(w1, 1, 2)),
        ("W2", "inference, batch 1", inference(w2, 1, 784)),
        ("W3", "inference, batch 64", inference(w2, 64, 784)),
        ("W4", "train step, batch 32", training(
            w2, 32, 784, nn.CrossEntropyLoss(), torch.randint(0, 10, (32,)),
            torch.optim.Adam(w2.parameters()))),
        ("W5", "train step, batch 256", training(
            w5, 256, 256, nn.CrossEntropyLoss(), torch.randint(0, 10, (256,)),
            torch.optim.Adam(w5.parameters()))),
        ("W6", "train step, batch 1", training_cycled(
            w6, 8, 4, nn.MSELoss(),
            torch.optim.SGD(w6.parameters(), lr=0.01, momentum=0.9))),
    ]
    print(f"PyTorch {torch.__version__}, 1 thread")
    for wid, what, t in rows:
        print(f"{wid}  {what:<22} {fmt(t):>12}")
    print()
    print("| workload | PyTorch (1 thread) |")
    print("| --- | ---: |")
    for wid, _, t in rows:
        print(f"| {wid} | {fmt(t)} |")


if __name__ == "__main__":
    main()
