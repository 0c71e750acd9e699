#!/usr/bin/env python3
"""Writes tests/golden/schedules.txt: learning rates from
torch.optim.lr_scheduler over 50 steps.

PyTorch's schedulers compute each rate from the previous one (the
"chainable" form), and SequentialLR restarts the next scheduler's counter
at each milestone. The Rust schedules are closed forms in the step number;
tests/schedule_golden.rs checks that both give the same rates.

Regenerate (from the repository root, with the packages pinned in
scripts/requirements.txt):

    python3 scripts/golden_schedules.py

and commit tests/golden/schedules.txt with any change to this script.

Records (format in scripts/golden_common.py): `<name>` with 51 values, the
rate right after construction (step 0) and after each of 50
`scheduler.step()` calls, for base learning rate 0.1.
"""

import warnings
from pathlib import Path

import torch
from torch.optim import lr_scheduler as S

from golden_common import GoldenWriter

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden"
BASE_LR = 0.1
STEPS = 50

# name -> function of an optimizer returning its scheduler. Every case that
# ends with the same name in tests/schedule_golden.rs builds the matching
# closed form there.
CASES = {
    "step_lr/default_gamma": lambda o: S.StepLR(o, step_size=10),
    "step_lr/half_every_7": lambda o: S.StepLR(o, step_size=7, gamma=0.5),
    "exponential_lr/gamma_0.95": lambda o: S.ExponentialLR(o, gamma=0.95),
    # Past T_max the cosine goes back up (PyTorch anneals without restarts,
    # the formula just keeps going): 50 steps cover 2.5 half-periods.
    "cosine_annealing_lr/t20_eta_min": lambda o: S.CosineAnnealingLR(o, T_max=20, eta_min=1e-3),
    "cosine_annealing_lr/t50": lambda o: S.CosineAnnealingLR(o, T_max=50),
    # Reaches exactly zero at t = 7, 21, 35, 49.
    "cosine_annealing_lr/t7": lambda o: S.CosineAnnealingLR(o, T_max=7),
    "linear_lr/default": lambda o: S.LinearLR(o),
    "linear_lr/decay": lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=30),
    "sequential/warmup_cosine": lambda o: S.SequentialLR(
        o,
        [S.LinearLR(o, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(o, T_max=45, eta_min=1e-4)],
        milestones=[5],
    ),
    "sequential/warmup_step": lambda o: S.SequentialLR(
        o, [S.LinearLR(o), S.StepLR(o, step_size=10, gamma=0.5)], milestones=[5]
    ),
    # The milestone (8) comes after the warmup ends (5): the warmup holds its
    # end factor for three steps, then the decay starts from its own step 0.
    "sequential/warmup_exponential": lambda o: S.SequentialLR(
        o,
        [S.LinearLR(o, start_factor=0.25, total_iters=5), S.ExponentialLR(o, gamma=0.9)],
        milestones=[8],
    ),
    # Three phases; the Rust side nests two-phase compositions.
    "sequential/three_phases": lambda o: S.SequentialLR(
        o,
        [
            S.LinearLR(o, total_iters=3),
            S.ExponentialLR(o, gamma=0.9),
            S.CosineAnnealingLR(o, T_max=20),
        ],
        milestones=[3, 15],
    ),
}


def rates(make):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=BASE_LR)
    with warnings.catch_warnings():
        # SequentialLR steps its schedulers with an explicit epoch at each
        # milestone, which PyTorch itself reports as deprecated.
        warnings.simplefilter("ignore")
        sched = make(opt)
        out = [opt.param_groups[0]["lr"]]
        for _ in range(STEPS):
            opt.step()  # no gradient: nothing moves, but the order is PyTorch's
            sched.step()
            out.append(opt.param_groups[0]["lr"])
    return out


def main():
    w = GoldenWriter(GOLDEN / "schedules.txt", f"learning rates from torch.optim.lr_scheduler, base lr {BASE_LR}")
    for name, make in CASES.items():
        w.put(name, rates(make))
    w.save("golden_schedules.py")


if __name__ == "__main__":
    main()
