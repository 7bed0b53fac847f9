"""Stage bookkeeping: keys, manifests and the skip-if-unchanged rule.

A stage's key is the SHA-256 of its settings, the keys of the stages it reads and the
serendip version. ``RUN_DIR/stages/<name>/manifest.json`` holds the key, the outputs, the
settings and the wall time; it is written last and atomically, so a stage killed half-way
has no manifest and is redone on resume.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serendip import __version__
from serendip.io.atomic import atomic_path


def stage_key(name: str, settings: dict[str, Any], input_keys: list[str]) -> str:
    """Deterministic key of a stage from its settings and its inputs' keys."""
    blob = json.dumps(
        {"stage": name, "settings": settings, "inputs": input_keys, "version": __version__},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class StageRecord:
    """What a finished stage left behind."""

    name: str
    key: str
    outputs: dict[str, str]
    seconds: float
    reused: bool = False
    info: dict[str, Any] = field(default_factory=dict)


class StageStore:
    """Manifests of the stages of one run directory."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.stage_root = self.run_dir / "stages"

    def stage_dir(self, name: str) -> Path:
        d = self.stage_root / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def manifest_path(self, name: str) -> Path:
        return self.stage_root / name / "manifest.json"

    def finished(self, name: str, key: str) -> StageRecord | None:
        """The record of stage ``name`` if it finished with ``key`` and its outputs exist."""
        path = self.manifest_path(name)
        if not path.is_file():
            return None
        try:
            m = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None
        if m.get("key") != key:
            return None
        outputs = m.get("outputs", {})
        if not all((self.run_dir / rel).exists() for rel in outputs.values()):
            return None
        return StageRecord(
            name, key, outputs, float(m.get("seconds", 0.0)), reused=True, info=m.get("info", {})
        )

    def record(
        self,
        name: str,
        key: str,
        outputs: dict[str, Path],
        settings: dict[str, Any],
        started: float,
        info: dict[str, Any] | None = None,
    ) -> StageRecord:
        rel = {
            k: str(Path(v).resolve().relative_to(self.run_dir.resolve()))
            for k, v in outputs.items()
        }
        seconds = time.perf_counter() - started
        manifest = {
            "stage": name,
            "key": key,
            "outputs": rel,
            "settings": settings,
            "seconds": seconds,
            "info": info or {},
            "serendip_version": __version__,
        }
        path = self.manifest_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(manifest, indent=2, default=str))
        return StageRecord(name, key, rel, seconds, reused=False, info=info or {})
