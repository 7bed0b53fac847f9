"""Atomic file writes: write to a temporary name in the same folder, then rename.

A run killed at any moment leaves either the old file or the new one, never half a file.
:func:`file_digest` / :func:`digest_matches` record and check a file's content, so a resumed
run can tell whether an output is still the one its manifest vouches for.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    Keeps the final suffix on the temporary name, so writers that choose a format by
    extension (astropy, pandas) still work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600 files; give the result the usual permissions (umask applied)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


_CHUNK = 1 << 20


def file_digest(path: str | Path) -> dict[str, Any]:
    """Size (bytes), modification time (ns) and SHA-256 of the file at ``path``."""
    path = Path(path)
    st = path.stat()
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": h.hexdigest()}


def digest_matches(path: Path, digest: dict[str, Any]) -> bool:
    """Whether the file at ``path`` still holds the content that ``digest`` records.

    Same size and modification time is taken as unchanged (cheap); a file with another
    modification time (e.g. copied without ``-p``) is re-hashed and compared by content.
    """
    try:
        st = path.stat()
    except OSError:
        return False
    if not path.is_file() or st.st_size != digest.get("size"):
        return False
    if st.st_mtime_ns == digest.get("mtime_ns"):
        return True
    return file_digest(path)["sha256"] == digest.get("sha256")
