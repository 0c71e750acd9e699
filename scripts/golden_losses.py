"""Golden values of every loss and its gradient, from PyTorch.

Run from the repository root:  python scripts/golden_losses.py
Writes tests/golden/losses.txt (read by tests/loss_golden.rs).
Needs the packages in scripts/requirements.txt.

Each case is a batch of predictions (logits for the classification losses)
and targets, written as records so that the Rust test reads the very same
inputs:

    <loss>/<case>/shape            B W rows   (the loss sees the first rows)
    <loss>/<case>/pred             B*W values, row after row
    <loss>/<case>/target           B*W values, or B class indices
    <loss>/<case>/delta            Huber only
    <loss>/<case>/label_smoothing  cross-entropy only

and for each dtype (f64, f32: the same inputs rounded to float32) and
reduction (mean, sum) the loss and its gradient with respect to the
predictions, from autograd:

    <loss>/<case>/<dtype>/<reduction>/value   1 value
    <loss>/<case>/<dtype>/<reduction>/grad    B*W values (0 for rows >= rows)

Rows past `rows` are padding: they hold values that would dominate the loss
(and out-of-range class indices) if they were read.
"""

import torch
import torch.nn.functional as F

from golden_common import GoldenWriter

SEED = 20240613
PAD = 1e30  # padding rows' values
PAD_CLASS = 99  # padding rows' class index

gen = torch.Generator().manual_seed(SEED)


def randn(b, w, scale=1.0):
    return (torch.randn(b, w, dtype=torch.float64, generator=gen) * scale).tolist()


def rand(b, w):
    return torch.rand(b, w, dtype=torch.float64, generator=gen).tolist()


def mixed_regression():
    """Random predictions and targets, with exact ties and zeros."""
    pred, target = randn(4, 4, 2.0), randn(4, 4, 2.0)
    target[0][1] = pred[0][1]  # tie: L1's gradient is 0 there
    target[2][3] = pred[2][3]
    pred[1][0] = target[1][0] = 0.0  # tie at zero
    pred[3][2] = 0.0
    target[3][1] = 0.0
    return pred, target


LARGE_PRED = [[1000.0, -1000.0, 50.0, -50.0], [0.0, 1000.0, -50.0, 3.5]]
LARGE_TARGET = [[-1000.0, -1000.0, 0.0, 50.0], [1000.0, 0.0, -50.0, 1.5]]


def partial(pred, target, rows, pad_target=PAD):
    """Fills the rows past `rows` with padding."""
    w = len(pred[0])
    for b in range(rows, len(pred)):
        pred[b] = [PAD] * w
        target[b] = [pad_target] * w if isinstance(target[b], list) else pad_target
    return pred, target


def regression_cases():
    mixed = mixed_regression()
    return {
        "mixed": (*mixed, {}),
        "large": (LARGE_PRED, LARGE_TARGET, {}),
        "partial": (*partial(*mixed_regression(), rows=2), {"rows": 2}),
    }


def huber_cases():
    mixed = mixed_regression()
    # |d| exactly at delta (both signs), just inside and just outside.
    boundary_pred = [[1.0, -1.0, 0.999, 1.001], [2.5, -2.5, 0.0, 0.5]]
    boundary_target = [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 2.5, -0.5]]
    return {
        "mixed_d1": (*mixed, {"delta": 1.0}),
        "mixed_d0.5": (*mixed, {"delta": 0.5}),
        "mixed_d2.5": (*mixed, {"delta": 2.5}),
        "boundary_d1": (boundary_pred, boundary_target, {"delta": 1.0}),
        "boundary_d2.5": (boundary_pred, boundary_target, {"delta": 2.5}),
        "large_d1": (LARGE_PRED, LARGE_TARGET, {"delta": 1.0}),
        "partial_d1": (*partial(*mixed_regression(), rows=2), {"delta": 1.0, "rows": 2}),
    }


def bce_cases():
    def mixed():
        logits = randn(4, 4, 3.0)
        target = rand(4, 4)
        target[0] = [0.0, 1.0, 0.0, 1.0]
        logits[3][0] = 0.0
        return logits, target

    extreme_logits = [
        [1000.0, -1000.0, 1000.0, -1000.0],
        [1000.0, -1000.0, 50.0, -50.0],
        [50.0, -50.0, 50.0, -50.0],
        [0.0, 0.0, 1000.0, -1000.0],
    ]
    extreme_target = [
        [1.0, 0.0, 0.0, 1.0],
        [0.999, 0.3, 1.0, 0.0],
        [0.0, 1.0, 0.5, 0.999],
        [0.0, 1.0, 0.5, 0.5],
    ]
    single = randn(5, 1, 4.0), [[1.0], [0.0], [1.0], [0.0], [0.25]]
    return {
        "mixed": (*mixed(), {}),
        "extreme": (extreme_logits, extreme_target, {}),
        "single": (*single, {}),
        "partial": (*partial(*mixed(), rows=3), {"rows": 3}),
    }


CE_EXTREME = [
    [1000.0, -1000.0, 0.0, 50.0],
    [-1000.0, -1000.0, -1000.0, -1000.0],
    [0.0, 0.0, 0.0, 0.0],
    [50.0, -50.0, 50.0, 0.0],
]


def ce_cases():
    def mixed():
        return randn(4, 4, 3.0), [2, 0, 3, 1]

    cases = {
        "mixed": (*mixed(), {}),
        "extreme": (CE_EXTREME, [1, 2, 0, 2], {}),
        "pair_right": ([[1000.0, -1000.0], [-1000.0, 1000.0]], [0, 1], {}),
        "pair_wrong": ([[1000.0, -1000.0], [-1000.0, 1000.0]], [1, 0], {}),
        "partial": (*partial(*mixed(), rows=3, pad_target=PAD_CLASS), {"rows": 3}),
    }
    for eps in [0.1, 1.0]:
        cases[f"mixed_ls{eps}"] = (*mixed(), {"label_smoothing": eps})
        cases[f"extreme_ls{eps}"] = (CE_EXTREME, [1, 2, 0, 2], {"label_smoothing": eps})
    return cases


def soft_ce_cases():
    def soft():
        logits = randn(4, 4, 3.0)
        target = torch.softmax(torch.tensor(randn(4, 4)), dim=1).tolist()
        return logits, target

    one_hot = [[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0],
               [0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0]]
    # Sums 1.5, 0 and 0.7: PyTorch does not normalise.
    unnormalised = [[0.5, 0.5, 0.5, 0.0], [0.0, 0.0, 0.0, 0.0],
                    [0.1, 0.2, 0.3, 0.1], [2.0, 0.0, 0.0, 1.0]]
    extreme_target = [[0.0, 1.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25],
                      [0.5, 0.0, 0.5, 0.0], [0.0, 0.5, 0.0, 0.5]]
    cases = {
        "soft": (*soft(), {}),
        "one_hot": (randn(4, 4, 3.0), one_hot, {}),
        "unnormalised": (randn(4, 4, 3.0), unnormalised, {}),
        "extreme": (CE_EXTREME, extreme_target, {}),
        "partial": (*partial(*soft(), rows=3), {"rows": 3}),
    }
    for eps in [0.2, 1.0]:
        cases[f"soft_ls{eps}"] = (*soft(), {"label_smoothing": eps})
        cases[f"extreme_ls{eps}"] = (CE_EXTREME, extreme_target, {"label_smoothing": eps})
    return cases


def mse(x, y, r, **_):
    return F.mse_loss(x, y, reduction=r)


def l1(x, y, r, **_):
    return F.l1_loss(x, y, reduction=r)


def huber(x, y, r, delta):
    return F.huber_loss(x, y, reduction=r, delta=delta)


def bce(x, y, r, **_):
    return F.binary_cross_entropy_with_logits(x, y, reduction=r)


def cross_entropy(x, y, r, label_smoothing=0.0):
    return F.cross_entropy(x, y, reduction=r, label_smoothing=label_smoothing)


# name in the file -> (function, cases, whether targets are class indices)
LOSSES = {
    "mse": (mse, regression_cases, False),
    "l1": (l1, regression_cases, False),
    "huber": (huber, huber_cases, False),
    "bce_with_logits": (bce, bce_cases, False),
    "cross_entropy": (cross_entropy, ce_cases, True),
    "soft_cross_entropy": (cross_entropy, soft_ce_cases, False),
}


def flat(rows):
    return [v for row in rows for v in (row if isinstance(row, list) else [row])]


def main():
    w = GoldenWriter("tests/golden/losses.txt", "losses and their gradients w.r.t. the prediction")
    for name, (fn, make_cases, indices) in LOSSES.items():
        for case, (pred, target, config) in make_cases().items():
            key = f"{name}/{case}"
            b, width = len(pred), len(pred[0])
            rows = config.get("rows", b)
            params = {k: v for k, v in config.items() if k != "rows"}
            w.put(f"{key}/shape", [b, width, rows])
            w.put(f"{key}/pred", flat(pred))
            w.put(f"{key}/target", flat(target))
            for k, v in params.items():
                w.put(f"{key}/{k}", v)
            for dtype, tag in [(torch.float64, "f64"), (torch.float32, "f32")]:
                for reduction in ["mean", "sum"]:
                    x = torch.tensor(pred, dtype=torch.float64).to(dtype).requires_grad_()
                    if indices:
                        y = torch.tensor(target[:rows], dtype=torch.long)
                    else:
                        y = torch.tensor(target[:rows], dtype=torch.float64).to(dtype)
                    loss = fn(x[:rows], y, reduction, **params)
                    loss.backward()
                    assert torch.isfinite(loss) and torch.isfinite(x.grad).all(), key
                    w.put(f"{key}/{tag}/{reduction}/value", loss)
                    w.put(f"{key}/{tag}/{reduction}/grad", x.grad)
    w.save("golden_losses.py")


if __name__ == "__main__":
    main()
