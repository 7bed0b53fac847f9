"""Where chunked work runs: in this process, on a local Dask cluster, or on a remote one.

>>> with get_client("none") as client:      # None: run every chunk in this process
...     pass
>>> with get_client("local") as client:     # doctest: +SKIP - a LocalCluster sized to the machine
...     pass
>>> with get_client("tcp://10.0.0.5:8786") as client:  # doctest: +SKIP - an existing scheduler
...     pass

``scheduler`` values:

* ``"none"``: no Dask; chunks run one after another in the calling process;
* ``None`` or ``"local"``: a :class:`distributed.LocalCluster` of one single-threaded worker
  *process* per CPU core, each with an equal share of 85 % of the machine's memory;
  ``"local:N"`` asks for ``N`` workers. Listens on 127.0.0.1 only, no dashboard;
* ``"tcp://host:port"`` (or ``tls://``, ``ws://``...): connect to a running scheduler; the
  workers there must see the same input and output paths (shared file system).

Everything started here is closed when the ``with`` block ends, also on errors.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

from serendip.errors import InputError

_PROTOCOLS = ("tcp://", "tls://", "ws://", "wss://", "inproc://", "ucx://")


def machine_cores() -> int:
    """CPU cores this process may use (affinity-aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def machine_memory_bytes() -> int:
    """Total physical memory [bytes]."""
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:  # pragma: no cover
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def parse_scheduler(scheduler: str | None) -> tuple[str, int | None]:
    """``(mode, n_workers)`` with mode "none", "local" or "address"; InputError if malformed."""
    if scheduler is None:
        return "local", None
    s = str(scheduler).strip()
    low = s.lower()
    if low == "none":
        return "none", None
    if low == "local":
        return "local", None
    if low.startswith("local:"):
        try:
            n = int(low.split(":", 1)[1])
        except ValueError:
            n = 0
        if n < 1:
            raise InputError("--scheduler", f"{s!r}: 'local:N' needs a positive worker count N")
        return "local", n
    if low.startswith(_PROTOCOLS):
        return "address", None
    raise InputError(
        "--scheduler",
        f"{s!r} is not 'none', 'local', 'local:N' or a scheduler address like tcp://host:8786",
    )


@contextlib.contextmanager
def get_client(
    scheduler: str | None = "local",
    *,
    n_workers: int | None = None,
    memory_limit: int | str | None = None,
    timeout_s: float = 30.0,
) -> Iterator[object | None]:
    """Yield a :class:`distributed.Client` (or None for ``"none"``); close what was started.

    Parameters
    ----------
    scheduler : "none", None / "local", "local:N" or a scheduler address (see module docstring).
    n_workers : worker processes of a local cluster (default: one per core, or N of "local:N").
    memory_limit : per-worker memory limit of a local cluster, bytes or a string like "4GiB"
        (default: 85 % of the machine's memory divided by the number of workers). A worker
        above it is restarted by its nanny and its chunk is retried or recorded as failed.
    timeout_s : how long to wait for a remote scheduler [s].
    """
    mode, n_from_spec = parse_scheduler(scheduler)
    if mode == "none":
        yield None
        return
    import dask
    from distributed import Client, LocalCluster

    quiet = {
        "distributed.admin.tick.limit": "30s",
        "logging.distributed": "error",
    }
    with dask.config.set(quiet):
        if mode == "address":
            try:
                client = Client(str(scheduler), timeout=timeout_s)
            except OSError as exc:
                raise InputError(
                    "--scheduler", f"cannot reach the Dask scheduler at {scheduler}: {exc}"
                ) from exc
            try:
                yield client
            finally:
                client.close()
            return
        n = int(n_workers or n_from_spec or machine_cores())
        mem = memory_limit or int(0.85 * machine_memory_bytes() / n)
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            memory_limit=mem,
            host="127.0.0.1",
            scheduler_port=0,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        try:
            client = Client(cluster)
            try:
                yield client
            finally:
                client.close()
        finally:
            cluster.close()


def use_client(scheduler: str | None, client=None):
    """``client`` itself when given (left open), else :func:`get_client` ``(scheduler)``."""
    return contextlib.nullcontext(client) if client is not None else get_client(scheduler)


def worker_count(client) -> int:
    """Number of workers of ``client`` (1 for in-process runs)."""
    if client is None:
        return 1
    return max(1, len(client.scheduler_info().get("workers", {})))
