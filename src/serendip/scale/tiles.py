"""eROSITA-like simulated survey tiles: one long event table (Parquet) per tile.

Each tile holds ``sources_per_tile`` simulated sources (:func:`serendip.simulate.simulate_population`)
seeded by ``(seed, tile number)``, so tiles can be generated in any order, on any worker, and a
tile is always the same. obsreg_ids get a ``t<tile>_`` prefix so they are unique across tiles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from serendip.scale.chunks import Chunk, ChunkReport, chunk_key, map_chunks


def tile_seed(seed: int, tile: int) -> int:
    """The simulator seed of tile ``tile`` (independent streams per tile)."""
    return int(np.random.SeedSequence([int(seed), 7, int(tile)]).generate_state(1, np.uint32)[0])


def simulate_tile(n_sources: int, seed: int, tile: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One tile's long event table (obsreg_id [categorical], time [s], energy [eV]) and info."""
    from serendip.simulate import simulate_population

    pop = simulate_population(int(n_sources), seed=tile_seed(seed, tile))
    ev = pop.events
    ids = np.char.add(f"t{int(tile):05d}_", ev.obsreg_id.astype(str))
    table = pd.DataFrame(
        {
            "obsreg_id": pd.Categorical.from_codes(ev.file_index, categories=pd.Index(ids)),
            "time": ev.time,
            "energy": ev.energy,
        }
    )
    labels = pop.sources["label"].value_counts().sort_index()
    return table, {
        "n_files": int(ev.n_files),
        "n_events": int(ev.n_events),
        "labels": {str(k): int(v) for k, v in labels.items()},
    }


def write_simulated_tiles(
    out_dir: str | Path,
    n_sources: int,
    sources_per_tile: int = 5000,
    seed: int = 0,
    client=None,
    progress: bool = True,
) -> ChunkReport:
    """Write ``ceil(n_sources / sources_per_tile)`` tiles as ``OUT/chunk-<tile>.parquet``.

    Resumable like any :func:`~serendip.scale.chunks.map_chunks` run; ``client`` spreads
    the tiles over Dask workers. Returns the chunk report (markers hold ``n_events``).
    """
    n_sources = int(n_sources)
    per = int(sources_per_tile)
    if n_sources < 1 or per < 1:
        raise ValueError("n_sources and sources_per_tile must be >= 1")
    n_tiles = -(-n_sources // per)
    chunks = []
    for t in range(n_tiles):
        n = min(per, n_sources - t * per)
        chunks.append(
            Chunk(
                f"{t:05d}", chunk_key("tile", n, seed, t), {"n_sources": n, "seed": seed, "tile": t}
            )
        )
    return map_chunks(simulate_tile, chunks, out_dir, client, progress, label="simulate tiles")
