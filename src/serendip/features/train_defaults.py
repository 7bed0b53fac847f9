"""Regenerate the default encoders shipped in ``serendip/models`` (reproducible, seeded).

    python -m serendip.features.train_defaults [--n-sources 20000] [--seed 0] [--out DIR]

Simulates ``n_sources`` files with :func:`serendip.simulate.simulate_population`, represents
them with :mod:`serendip.represent` and trains / fits, in this order:

* ``et_pca15.safetensors`` - PCA, 15 components, raw E-t maps;
* ``etdt_pca22.safetensors`` - PCA, 22 components, raw E-t-dt cubes;
* ``et_conv_ae.safetensors`` - ConvAutoencoder (12 latent), normalised E-t maps;
* ``etdt_dense_ae.safetensors`` - DenseAutoencoder (24 latent), normalised cubes (float16 weights
  so that the file stays under 2 MB);
* ``deepsets.safetensors`` - DeepSetsEncoder (16 latent), raw events;
* ``et_conv_ae_dev.safetensors`` / ``etdt_dense_ae_dev.safetensors`` - the same autoencoders
  on count-aware maps / cubes (:func:`serendip.represent.deviance.deviance_maps`, squashed to
  (0, 1) by :func:`~serendip.represent.deviance.squash`), the default input of 2D-AE / 3D-AE.

Each file records how it was made (population size, seed, epochs run, losses, wall time).
Runtime on the project's 2-core machine: see ``serendip/models/README.md``.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    """Command line: retrain the shipped encoders (see the module docstring)."""
    ap = argparse.ArgumentParser(
        prog="python -m serendip.features.train_defaults", description=__doc__.split("\n")[0]
    )
    ap.add_argument(
        "--n-sources", type=int, default=20_000, help="simulated files to train on (default 20000)"
    )
    ap.add_argument("--seed", type=int, default=0, help="seed of the simulation and of every model")
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: the package's models folder)",
    )
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument(
        "--epochs", type=int, default=None, help="cap on epochs of every model (default: see below)"
    )
    ap.add_argument(
        "--conv-epochs", type=int, default=8, help="max epochs, conv autoencoder (default 8)"
    )
    ap.add_argument(
        "--dense-epochs", type=int, default=10, help="max epochs, dense autoencoder (default 10)"
    )
    ap.add_argument(
        "--deepsets-epochs", type=int, default=15, help="max epochs, DeepSets (default 15)"
    )
    ap.add_argument(
        "--conv-files",
        type=int,
        default=6000,
        help="files (random subset) for the conv AE (default 6000)",
    )
    ap.add_argument(
        "--dense-files",
        type=int,
        default=10000,
        help="files (random subset) for the dense AE (default 10000)",
    )
    ap.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="train only these defaults (names in DEFAULT_ENCODERS)",
    )
    args = ap.parse_args(argv)

    import torch
    from rich.console import Console

    from serendip import __version__
    from serendip.features import ConvAutoencoder, DeepSetsEncoder, DenseAutoencoder, PCAFeatures
    from serendip.features.registry import DEFAULT_ENCODERS
    from serendip.paths import models_dir
    from serendip.represent import et_maps, etdt_cubes
    from serendip.represent.deviance import deviance_maps, squash
    from serendip.simulate import simulate_population

    console = Console(stderr=True)
    torch.set_num_threads(args.threads)
    out = args.out or models_dir()
    out.mkdir(parents=True, exist_ok=True)
    only = set(args.only or DEFAULT_ENCODERS)
    t0 = time.perf_counter()
    console.print(f"simulating {args.n_sources} sources (seed {args.seed}) ...")
    pop = simulate_population(args.n_sources, seed=args.seed)
    ev = pop.events
    console.print(f"  {ev.n_files} files, {ev.n_events} events in {time.perf_counter() - t0:.1f} s")
    info = {
        "trained_on": f"serendip.simulate.simulate_population(n_sources={args.n_sources}, seed={args.seed})",
        "n_files": int(ev.n_files),
        "n_events": int(ev.n_events),
        "serendip_version": __version__,
        "torch_version": torch.__version__,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": f"python -m serendip.features.train_defaults --n-sources {args.n_sources} --seed {args.seed}",
    }
    timings: dict[str, float] = {}

    def cap(n: int) -> int:
        return n if args.epochs is None else min(n, args.epochs)

    def save(name: str, model, t_start: float, **kw) -> None:
        dt = time.perf_counter() - t_start
        timings[name] = dt
        path = out / DEFAULT_ENCODERS[name].filename
        model.save(path, extra={**info, "wall_time_s": round(dt, 1)}, **kw)
        hist = getattr(model, "history_", None)
        msg = f"  {name}: {dt:.1f} s -> {path} ({path.stat().st_size / 1e6:.2f} MB)"
        if hist:
            msg += f"; epochs {hist['epochs_run']}, best val loss {min(hist['val_loss']):.5f}"
        console.print(msg)

    info["train_files"] = int(ev.n_files)
    if "et_pca" in only:
        t = time.perf_counter()
        save("et_pca", PCAFeatures(15).fit(et_maps(ev, normalize=False)), t)
    if "etdt_pca" in only:
        t = time.perf_counter()
        chunk = 5000
        pca = PCAFeatures(22).fit_chunks(
            lambda a, b: etdt_cubes(ev.slice_files(a, b), normalize=False),
            ev.n_files,
            (24, 16, 16),
            chunk,
        )
        save("etdt_pca", pca, t)

    def subset(k: int) -> np.ndarray:
        rng = np.random.default_rng(args.seed + 7)
        return np.sort(rng.choice(ev.n_files, size=min(k, ev.n_files), replace=False))

    if "et_conv_ae" in only:
        t = time.perf_counter()
        idx = subset(args.conv_files)
        maps = et_maps(ev.select(idx), normalize=True)
        ae = ConvAutoencoder(epochs=cap(args.conv_epochs), seed=args.seed, verbose=True).fit(maps)
        info["train_files"] = int(len(idx))
        save("et_conv_ae", ae, t)
    if "etdt_dense_ae" in only:
        t = time.perf_counter()
        idx = subset(args.dense_files)
        cubes = etdt_cubes(ev.select(idx), normalize=True)
        dae = DenseAutoencoder(epochs=cap(args.dense_epochs), seed=args.seed, verbose=True).fit(
            cubes
        )
        del cubes
        info["train_files"] = int(len(idx))
        save("etdt_dense_ae", dae, t, half=True)
    if "et_conv_ae_dev" in only:
        t = time.perf_counter()
        idx = subset(args.conv_files)
        maps = squash(deviance_maps(et_maps(ev.select(idx))))
        ae = ConvAutoencoder(epochs=cap(args.conv_epochs), seed=args.seed, verbose=True).fit(maps)
        info["train_files"] = int(len(idx))
        save("et_conv_ae_dev", ae, t)
    if "etdt_dense_ae_dev" in only:
        t = time.perf_counter()
        idx = subset(args.dense_files)
        cubes = squash(deviance_maps(etdt_cubes(ev.select(idx), dense=True)))
        dae = DenseAutoencoder(epochs=cap(args.dense_epochs), seed=args.seed, verbose=True).fit(
            cubes
        )
        del cubes
        info["train_files"] = int(len(idx))
        save("etdt_dense_ae_dev", dae, t, half=True)
    if "deepsets" in only:
        t = time.perf_counter()
        ds = DeepSetsEncoder(
            epochs=cap(args.deepsets_epochs), batch_files=512, seed=args.seed, verbose=True
        ).fit(ev)
        info["train_files"] = int(ev.n_files)
        save("deepsets", ds, t)
    total = time.perf_counter() - t0
    console.print(
        "done in "
        + f"{total:.0f} s: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
        + f" (simulation and representations included; {np.round(total / 60, 1)} min)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
