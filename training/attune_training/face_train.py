"""Train the expression network on FER-2013 (CPU, PyTorch; training only).

The learning-rate schedule and the progressive resizing follow the share of a *time budget*
spent, not an epoch count: on two shared cores the speed of an epoch varies several-fold with
what else runs, and a budgeted run always finishes its schedule. ``--steps N`` follows a fixed
number of optimiser steps instead, for a run that must not depend on the machine's load. The
number of epochs and steps actually run is written into the checkpoint (and the model card).

Training rows pixel-identical to a dev face are dropped (``dev.npz`` beside ``train.npz``;
``--keep-dev-duplicates`` keeps them), and so are rows identical to a hold-out face. After every
epoch the net (and an exponential moving average of its weights) is scored on the stratified
hold-out part of train; the best of them on that hold-out is what the checkpoint keeps (model
selection never looks at dev). The temperature is fitted on the same hold-out.

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
from torch import nn
from torch.optim.swa_utils import AveragedModel

from attune_training.face_data import (
    ece,
    fit_temperature,
    load_split,
    softmax,
    split_calibration,
    usable_train,
)
from attune_training.face_net import ExpressionNet, augment, cutmix, random_blur
from attune_training.face_swa import averaged_net, swa_lr_for


def size_for(progress: float) -> int:
    """Progressive resizing: cheap 32 px epochs first, the last fifth at the run-time 48 px."""
    return 32 if progress < 0.45 else 40 if progress < 0.8 else 48


def lr_for(progress: float, peak: float, warmup: float = 0.03) -> float:
    if progress < warmup:
        return peak * progress / warmup
    return 0.5 * peak * (1 + math.cos(math.pi * min(1.0, (progress - warmup) / (1 - warmup))))


@torch.no_grad()
def predict_logits(
    net: ExpressionNet, images: np.ndarray, flip: bool = True, size: int = 48
) -> np.ndarray:
    net.eval()
    out = []
    for start in range(0, len(images), 512):
        x = torch.from_numpy(images[start : start + 512]).float().unsqueeze(1) / 255.0
        if size != 48:  # as the exported graph does for a net last trained below 48 px
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        logits = net(x)
        if flip:
            logits = 0.5 * (logits + net(torch.flip(x, dims=[3])))
        out.append(logits.numpy())
    return np.concatenate(out)


def holdout_rows(
    args: argparse.Namespace,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(images, labels, train indices, cal indices, dropped): the training split, the rows trained
    on and the stratified hold-out, both free of dev duplicates (and of each other's)."""
    images, labels = load_split(Path(args.data) / "train.npz")
    dev = Path(args.data) / "dev.npz"
    exclude = None
    if not getattr(args, "keep_dev_duplicates", False) and dev.is_file():
        exclude = load_split(dev)[0]
    usable = usable_train(images, labels, exclude)
    split_seed = args.seed if getattr(args, "split_seed", None) is None else args.split_seed
    tr, cal = split_calibration(labels[usable], args.cal_share, split_seed, images[usable])
    return images, labels, usable[tr], usable[cal], len(labels) - len(usable)


def _ema_update(ema: dict[str, torch.Tensor], net: nn.Module, decay: float) -> None:
    with torch.no_grad():
        for k, v in net.state_dict().items():
            if v.dtype.is_floating_point:
                ema[k].mul_(decay).add_(v.detach(), alpha=1 - decay)
            else:
                ema[k].copy_(v)


def _score(logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    p = softmax(logits)
    nll = float(-np.log(np.clip(p[np.arange(len(labels)), labels], 1e-12, 1)).mean())
    return {"acc": round(float((p.argmax(1) == labels).mean()), 4), "nll": round(nll, 4)}


def train(args: argparse.Namespace) -> dict[str, Any]:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    images, labels, train_idx, cal_idx, dropped = holdout_rows(args)
    if len(train_idx) < 2:
        raise ValueError(f"{len(train_idx)} training faces left after the hold-out: too few")
    x_all = torch.from_numpy(images[train_idx]).float().unsqueeze(1) / 255.0
    y_all = torch.from_numpy(labels[train_idx])
    net = ExpressionNet(args.width)
    history: list[dict[str, Any]] = []
    recovered_from = None  # set when --init was rebuilt from a shipped graph (face_recover)
    if args.init:  # a second stage: continue from an earlier run's weights
        init = torch.load(args.init, map_location="cpu", weights_only=False)
        if init["width"] != args.width:
            raise ValueError(f"--init has width {init['width']}, not {args.width}")
        net.load_state_dict(init["state"])
        history = [
            *init.get("history", []),
            {"args": init.get("args"), "epochs": init.get("epochs")},
        ]
        recovered_from = init.get("recovered_from")
    net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    ema = {k: v.detach().clone() for k, v in net.state_dict().items()}
    probe = ExpressionNet(args.width)  # scores the EMA weights on the hold-out
    # With --swa-lr the kept weights are the average of every epoch from --swa-start on, not
    # the best epoch on the hold-out: the hold-out then only scores the one average.
    swa = AveragedModel(net) if args.swa_lr > 0 else None
    best: dict[str, Any] = {"acc": -1.0}
    decay = [p for n, p in net.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in net.named_parameters() if p.ndim <= 1]
    opt = torch.optim.SGD(
        [{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0}],
        lr=0.0,
        momentum=0.9,
        nesterov=True,
    )
    gen = torch.Generator().manual_seed(args.seed)
    # A small own data set may hold fewer rows than a batch: else no step runs, and the clock
    # (read per step) never ends the loop.
    batch = min(args.batch, len(y_all))
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
    task = bar.add_task("training", total=args.steps or budget)
    bar.start()
    while progress < 1.0:
        net.train()
        order = torch.randperm(len(y_all), generator=gen)
        seen, loss_sum, correct = 0, 0.0, 0
        for b in range(0, len(order) - batch + 1, batch):
            progress = steps / args.steps if args.steps else (time.monotonic() - start) / budget
            if progress >= 1.0:
                break
            lr = swa_lr_for(progress, args.swa_lr) if swa else lr_for(progress, args.lr)
            for group in opt.param_groups:
                group["lr"] = lr
            idx = order[b : b + batch]
            x = augment(x_all[idx], gen, args.size or size_for(progress))
            x = random_blur(x, gen, args.extra_blur)
            y = y_all[idx]
            y2, lam = y, 1.0
            if args.mix > 0 and float(torch.rand(1, generator=gen)) < args.mix:
                x, y2, lam = cutmix(x, y, gen)
            x = x.contiguous(memory_format=torch.channels_last)
            # bfloat16 matmuls where the CPU has them (AMX / AVX512-BF16: ~2.7x faster steps
            # measured at 48 px); the weights, the optimiser and every hold-out score stay fp32.
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                logits = net(x)
                loss = lam * F.cross_entropy(logits, y, label_smoothing=args.smoothing)
                if lam < 1.0:
                    loss = loss + (1 - lam) * F.cross_entropy(
                        logits, y2, label_smoothing=args.smoothing
                    )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            _ema_update(ema, net, args.ema if steps > 200 else 0.0)
            steps += 1
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(1) == y_all[idx]).sum())
            if steps % 10 == 0:
                done = steps if args.steps else time.monotonic() - start
                bar.update(task, completed=done, description=f"epoch {epoch + 1}")
        if seen == 0 and epoch > 0:
            break  # the budget ran out before this epoch's first step: nothing to score
        epoch += 1
        size = args.size or size_for(min(progress, 0.999))
        row: dict[str, Any] = {
            "epoch": epoch,
            "minutes": round((time.monotonic() - start) / 60, 2),
            "size": size,
            "loss": round(loss_sum / max(seen, 1), 4),
            "train_acc": round(correct / max(seen, 1), 4),
        }
        # Model selection on the hold-out part of train: the raw weights and their EMA.
        probe.load_state_dict(ema)
        for which, model in (("raw", net), ("ema", probe)):
            score = _score(predict_logits(model, images[cal_idx], size=size), labels[cal_idx])
            row[f"holdout_{which}"] = score
            if score["acc"] > best["acc"] and swa is None:
                state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                best = {"acc": score["acc"], "epoch": epoch, "which": which, "size": size}
                best["state"] = state
        if swa is not None and progress >= args.swa_start:
            swa.update_parameters(net)
            # BN statistics on a sample of the training faces each epoch; all of them at the end
            avg = averaged_net(swa, args.width, x_all, gen, size, args.swa_bn_sample)
            row["swa_epochs"] = int(swa.n_averaged)
            score = _score(predict_logits(avg, images[cal_idx], size=size), labels[cal_idx])
            row["holdout_swa"] = score
            best = {"acc": score["acc"], "epoch": epoch, "which": "swa", "size": size}
            best["state"] = {k: v.detach().clone() for k, v in avg.state_dict().items()}
        log.append(row)
        console.print(json.dumps(row), markup=False, highlight=False, soft_wrap=True)
        if "state" in best:
            torch.save({"state": best["state"], "width": args.width, "log": log}, args.out)
    bar.stop()
    if swa is not None:
        if "state" not in best:
            raise ValueError("the budget ended before any weights were averaged: lower --swa-start")
        avg = averaged_net(swa, args.width, x_all, gen, best["size"])
        score = _score(predict_logits(avg, images[cal_idx], size=best["size"]), labels[cal_idx])
        best.update(acc=score["acc"], state=avg.state_dict(), swa_epochs=int(swa.n_averaged))
        console.print(json.dumps({"swa_final_bn_all_faces": score}), markup=False)
    net.load_state_dict(best["state"])
    cal_logits = predict_logits(net, images[cal_idx], size=best["size"])
    temperature = fit_temperature(cal_logits, labels[cal_idx])
    calibration = {
        "holdout_n": len(cal_idx),
        "ece_before": round(ece(softmax(cal_logits), labels[cal_idx]), 4),
        "ece_after": round(ece(softmax(cal_logits, temperature), labels[cal_idx]), 4),
    }
    result = {
        "state": best["state"],
        "width": args.width,
        "log": log,
        "temperature": temperature,
        "calibration": calibration,
        "selected": {k: v for k, v in best.items() if k != "state"},
        "epochs": epoch,
        "steps": steps,
        "rows": {
            "train_split": len(labels),
            "dropped_dev_duplicates": dropped,
            "trained_on": len(train_idx),
            "holdout": len(cal_idx),
        },
        "cal_idx": cal_idx.tolist(),
        "holdout_logits": cal_logits.tolist(),
        "args": {k: v for k, v in vars(args).items()},
        "history": history,  # earlier stages when --init was used
        "recovered_from": recovered_from,
    }
    torch.save(result, args.out)
    console.print(json.dumps({"selected": result["selected"], **calibration}), markup=False)
    return result


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="folder with train.npz")
    p.add_argument("--out", required=True, help="checkpoint path (.pt)")
    p.add_argument("--budget-min", type=float, default=90.0)
    p.add_argument("--steps", type=int, default=0, help="fixed optimiser steps (0: the clock)")
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
    p.add_argument("--mix", type=float, default=0.0, help="share of batches with CutMix")
    p.add_argument("--ema", type=float, default=0.998, help="decay of the weight average")
    p.add_argument("--split-seed", type=int, default=None, help="hold-out seed (default: --seed)")
    p.add_argument(
        "--swa-lr", type=float, default=0.0, help="constant lr and weight averaging (0: off)"
    )
    p.add_argument(
        "--swa-start", type=float, default=0.1, help="share of the budget before averaging"
    )
    p.add_argument(
        "--swa-bn-sample", type=int, default=8192, help="faces for each epoch's BN statistics"
    )
    p.add_argument(
        "--bf16", action="store_true", help="train in bfloat16 autocast (fast on AMX CPUs)"
    )
    p.add_argument(
        "--keep-dev-duplicates",
        action="store_true",
        help="do not drop training rows pixel-identical to a dev.npz face",
    )
    return p.parse_args(argv)


if __name__ == "__main__":
    train(parse())
