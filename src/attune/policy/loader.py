"""Load and validate playbooks. Errors name the file, the field and the line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from attune.policy import redlines
from attune.policy.outreach_rules import check_outreach
from attune.policy.schema import Playbook

EXAMPLES = Path(__file__).parent / "playbooks"


class PlaybookError(ValueError):
    """A playbook that does not load: ``str()`` says file, field, line and what is wrong."""

    def __init__(self, file: str, problems: list[str]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("; ".join(f"{file}: {p}" for p in problems))


def _line_of(node: yaml.Node | None, path: Sequence[str | int]) -> int | None:
    """1-based line of the deepest node along ``path`` in a composed YAML tree."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == part), None)
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            nxt = node.value[part]
        else:
            nxt = None
        if nxt is None:
            break
        node, line = nxt, nxt.start_mark.line + 1
    return line


def _where(path: Sequence[str | int], root: yaml.Node | None) -> str:
    dotted = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")
    line = _line_of(root, path)
    return f"{dotted or '<top>'} (line {line})" if line else dotted or "<top>"


@dataclass
class LoadedPlaybook:
    playbook: Playbook
    path: Path
    content: dict[str, Any] = field(default_factory=dict)  # key -> {tone -> {locale -> text}}


def load_playbook(path: str | Path) -> LoadedPlaybook:
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlaybookError(str(path), [f"not valid YAML: {exc}"]) from exc
    if not isinstance(data, dict):
        raise PlaybookError(str(path), ["<top> (line 1): a playbook is a mapping"])
    try:
        pb = Playbook.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_where(e['loc'], root)}: {e['msg']}" for e in exc.errors()]
        raise PlaybookError(str(path), problems) from None
    violations = redlines.check(pb) + check_outreach(pb)
    if violations:
        raise PlaybookError(
            str(path),
            [f"{_where(v.path, root)}: red line {v.rule}: {v.message}" for v in violations],
        )
    content: dict[str, Any] = {}
    if pb.content_file:
        content_path = path.parent / pb.content_file
        if not content_path.exists():
            raise PlaybookError(str(path), [f"content_file: {content_path} does not exist"])
        content = yaml.safe_load(content_path.read_text(encoding="utf-8")) or {}
    keys = {k for m in pb.moments.values() for w in m.watch for k in w.adapt.content}
    keys |= {o.template for o in pb.outreach}
    if pb.handoff.content:
        keys.add(pb.handoff.content)
    missing = sorted(keys - set(content))
    if missing:
        raise PlaybookError(str(path), [f"content keys without texts: {', '.join(missing)}"])
    return LoadedPlaybook(pb, path, content)


def load_dir(directory: str | Path | None = None) -> list[LoadedPlaybook]:
    directory = Path(directory) if directory else EXAMPLES
    files = sorted(p for p in directory.glob("*.yaml") if not p.name.endswith(".content.yaml"))
    if not files:
        raise PlaybookError(str(directory), ["no playbook (*.yaml) found"])
    return [load_playbook(p) for p in files]
