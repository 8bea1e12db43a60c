"""Train the expression network on FER-2013 (CPU, PyTorch; training only).

The learning-rate schedule and the progressive resizing follow the share of a *time budget*
spent, not an epoch count: on two shared cores the speed of an epoch varies several-fold with
what else runs, and a budgeted run always finishes its schedule. The number of epochs and steps
actually run is written into the checkpoint (and the model card).

    python -m attune_training.face_train --data DIR --out ckpt.pt --budget-min 90
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from attune_training.face_data import fit_temperature, load_split, split_calibration
from attune_training.face_net import ExpressionNet, augment, random_blur


def size_for(progress: float) -> int:
    """Progressive resizing: cheap 32 px epochs first, the last fifth at the run-time 48 px."""
    return 32 if progress < 0.45 else 40 if progress < 0.8 else 48


def lr_for(progress: float, peak: float, warmup: float = 0.03) -> float:
    if progress < warmup:
        return peak * progress / warmup
    return 0.5 * peak * (1 + math.cos(math.pi * min(1.0, (progress - warmup) / (1 - warmup))))


@torch.no_grad()
def predict_logits(net: ExpressionNet, images: np.ndarray, flip: bool = True) -> np.ndarray:
    net.eval()
    out = []
    for start in range(0, len(images), 512):
        x = torch.from_numpy(images[start : start + 512]).float().unsqueeze(1) / 255.0
        logits = net(x)
        if flip:
            logits = 0.5 * (logits + net(torch.flip(x, dims=[3])))
        out.append(logits.numpy())
    return np.concatenate(out)


def train(args: argparse.Namespace) -> dict[str, Any]:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    images, labels = load_split(Path(args.data) / "train.npz")
    train_idx, cal_idx = split_calibration(labels, args.cal_share, args.seed)
    x_all = torch.from_numpy(images[train_idx]).float().unsqueeze(1) / 255.0
    y_all = torch.from_numpy(labels[train_idx])
    net = ExpressionNet(args.width)
    history: list[dict[str, Any]] = []
    if args.init:  # a second stage: continue from an earlier run's weights
        init = torch.load(args.init, map_location="cpu", weights_only=False)
        if init["width"] != args.width:
            raise ValueError(f"--init has width {init['width']}, not {args.width}")
        net.load_state_dict(init["state"])
        history = [
            *init.get("history", []),
            {"args": init.get("args"), "epochs": init.get("epochs")},
        ]
    net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    decay = [p for n, p in net.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in net.named_parameters() if p.ndim <= 1]
    opt = torch.optim.SGD(
        [{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0}],
        lr=0.0,
        momentum=0.9,
        nesterov=True,
    )
    gen = torch.Generator().manual_seed(args.seed)
    budget = args.budget_min * 60.0
    start, steps, epoch, progress = time.monotonic(), 0, 0, 0.0
    log: list[dict[str, float]] = []
    console = Console(stderr=True)
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    )
    task = bar.add_task("training", total=budget)
    bar.start()
    while progress < 1.0:
        net.train()
        order = torch.randperm(len(y_all), generator=gen)
        seen, loss_sum, correct = 0, 0.0, 0
        for b in range(0, len(order) - args.batch + 1, args.batch):
            progress = (time.monotonic() - start) / budget
            if progress >= 1.0:
                break
            for group in opt.param_groups:
                group["lr"] = lr_for(progress, args.lr)
            idx = order[b : b + args.batch]
            x = augment(x_all[idx], gen, args.size or size_for(progress))
            x = random_blur(x, gen, args.extra_blur)
            x = x.contiguous(memory_format=torch.channels_last)
            logits = net(x)
            loss = F.cross_entropy(logits, y_all[idx], label_smoothing=args.smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += 1
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(1) == y_all[idx]).sum())
            if steps % 10 == 0:
                bar.update(
                    task, completed=time.monotonic() - start, description=f"epoch {epoch + 1}"
                )
        epoch += 1
        row = {
            "epoch": epoch,
            "minutes": round((time.monotonic() - start) / 60, 2),
            "size": args.size or size_for(min(progress, 0.999)),
            "loss": round(loss_sum / max(seen, 1), 4),
            "train_acc": round(correct / max(seen, 1), 4),
        }
        log.append(row)
        console.print(json.dumps(row), markup=False, highlight=False, soft_wrap=True)
        torch.save({"state": net.state_dict(), "width": args.width, "log": log}, args.out)
    bar.stop()
    cal_logits = predict_logits(net, images[cal_idx])
    temperature = fit_temperature(cal_logits, labels[cal_idx])
    result = {
        "state": net.state_dict(),
        "width": args.width,
        "log": log,
        "temperature": temperature,
        "epochs": epoch,
        "steps": steps,
        "args": {k: v for k, v in vars(args).items()},
        "history": history,  # earlier stages when --init was used
    }
    torch.save(result, args.out)
    return result


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="folder with train.npz")
    p.add_argument("--out", required=True, help="checkpoint path (.pt)")
    p.add_argument("--budget-min", type=float, default=90.0)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--wd", type=float, default=5e-4)
    p.add_argument("--smoothing", type=float, default=0.0)
    p.add_argument("--cal-share", type=float, default=0.05)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--init", default=None, help="checkpoint to continue from (second stage)")
    p.add_argument("--size", type=int, default=0, help="fixed input size (0: progressive)")
    p.add_argument("--extra-blur", type=float, default=0.0, help="max σ of random extra blur")
    return p.parse_args(argv)


if __name__ == "__main__":
    train(parse())
