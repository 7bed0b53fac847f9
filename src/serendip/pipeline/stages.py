"""Stage bookkeeping: keys, manifests and the skip-if-unchanged rule.

A stage's key is the SHA-256 of its settings, the keys (and output digests) of the stages
it reads and the serendip version. ``RUN_DIR/stages/<name>/manifest.json`` holds the key,
the outputs with their digests (size, modification time and SHA-256 of each file), the
settings and the wall time.

Outputs and manifest are committed together: a stage that is about to run first deletes
its manifest (:meth:`StageStore.invalidate`), then writes its outputs, then writes the new
manifest last and atomically. A run killed anywhere in between leaves no manifest, so the
stage is redone on resume; and a stage is reused only when every output still has the
digest its manifest recorded, so no interleaving of kills, changed settings or edits by
hand can make a re-run reuse outputs that its key does not describe.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serendip import __version__
from serendip.io.atomic import atomic_path, digest_matches, file_digest
from serendip.layout import RunLayout


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
    #: {output name: {"size", "mtime_ns", "sha256"}} of the files the stage wrote
    digests: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def content(self) -> str:
        """One hash of the stage's output contents (its notices excluded); the stages that
        read this one include it in their keys, so they are redone whenever this stage's
        outputs change, even under the same key."""
        shas = sorted(f"{k}:{d['sha256']}" for k, d in self.digests.items() if k != "notices")
        return hashlib.sha256("|".join(shas).encode()).hexdigest()[:16]


#: bytes read at a time when hashing an output


class StageStore:
    """Manifests of the stages of one run directory."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.layout = RunLayout(self.run_dir)
        self.stage_root = self.layout.stages

    def stage_dir(self, name: str) -> Path:
        """Folder of one stage's outputs inside the run directory."""
        d = self.layout.stage_dir(name)
        d.mkdir(parents=True, exist_ok=True)
        return d

    def manifest_path(self, name: str) -> Path:
        """Path of one stage's manifest (its key, inputs and outputs)."""
        return self.layout.manifest(name)

    def invalidate(self, name: str) -> None:
        """Delete the manifest of stage ``name`` (before the stage writes any output)."""
        try:
            os.unlink(self.manifest_path(name))
        except FileNotFoundError:
            pass

    def finished(self, name: str, key: str) -> StageRecord | None:
        """The record of stage ``name`` if it finished with ``key`` and every output still
        has the digest recorded in its manifest."""
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
        digests = m.get("digests", {})
        if set(digests) != set(outputs) or not all(
            digest_matches(self.run_dir / rel, digests[k]) for k, rel in outputs.items()
        ):
            return None
        return StageRecord(
            name,
            key,
            outputs,
            float(m.get("seconds", 0.0)),
            reused=True,
            info=m.get("info", {}),
            digests=digests,
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
        """Write a finished stage's manifest so that a later run can reuse it."""
        rel = {
            k: str(Path(v).resolve().relative_to(self.run_dir.resolve()))
            for k, v in outputs.items()
        }
        seconds = time.perf_counter() - started
        digests = {k: file_digest(self.run_dir / r) for k, r in rel.items()}
        manifest = {
            "stage": name,
            "key": key,
            "outputs": rel,
            "digests": digests,
            "settings": settings,
            "seconds": seconds,
            "info": info or {},
            "serendip_version": __version__,
        }
        path = self.manifest_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(manifest, indent=2, default=str))
        return StageRecord(name, key, rel, seconds, reused=False, info=info or {}, digests=digests)
