"""``DenseAutoencoder``: a fully connected autoencoder for normalised E-t-dt cubes ("3D-AE").

Input: ``serendip.represent.etdt_cubes(events, normalize=True)``, float32 (n_files, 24, 16, 16)
(time x log-energy x dt bins, per-file min-max scaled to [0, 1]), flattened to 6,144 values.
Encoder: dense ``hidden`` layers (default 64, 48) then the ``latent_dim`` (default 24) latent
layer; LeakyReLU 0.1 after every layer, L2 penalty on the latent activations. Decoder: the
mirror image ending in a sigmoid. The widths are kept small so that the shipped model stays
under 2 MB (first layer 6,144 x 64 weights); the reference (``encoder_etdt.h5``) also maps the
flattened cube to 24 latent features with dense layers.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from serendip.features._autoencoder import BaseAutoencoder

CUBE_SHAPE = (24, 16, 16)


def _build_dense_net(input_shape: tuple[int, ...], hidden: tuple[int, ...], latent_dim: int):
    from torch import nn

    d = int(np.prod(input_shape))
    widths = [d, *[int(h) for h in hidden], int(latent_dim)]
    enc: list = [nn.Flatten()]
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        enc += [nn.Linear(a, b), nn.LeakyReLU(0.1)]
    dec: list = []
    rev = widths[::-1]
    for i, (a, b) in enumerate(zip(rev[:-1], rev[1:], strict=True)):
        dec += [nn.Linear(a, b), nn.Sigmoid() if i == len(rev) - 2 else nn.LeakyReLU(0.1)]
    dec.append(nn.Unflatten(1, tuple(input_shape)))
    net = nn.Module()
    net.encoder = nn.Sequential(*enc)
    net.decoder = nn.Sequential(*dec)
    return net


class DenseAutoencoder(BaseAutoencoder):
    """Fully connected autoencoder on normalised E-t-dt cubes, (n, 24, 16, 16) -> (n, 24).

    Any fixed per-file shape is accepted at ``fit`` (it is stored with the model and checked
    at ``transform``); the reference cube is 24 x 16 x 16. ``hidden`` gives the encoder's
    hidden widths (the decoder mirrors them). Other parameters: see
    :class:`serendip.features._autoencoder.BaseAutoencoder`.
    """

    kind: ClassVar[str] = "features.DenseAutoencoder"
    normalisation: ClassVar[str] = (
        "E-t-dt cubes (24 time x 16 log-energy x 16 dt bins, 0.5-7 keV), per-file min-max to [0, 1]"
    )
    fixed_input_shape: ClassVar[tuple[int, ...] | None] = None

    def __init__(
        self,
        latent_dim: int = 24,
        hidden: tuple[int, ...] = (64, 48),
        epochs: int = 100,
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        l2_latent: float = 1e-4,
        val_fraction: float = 0.1,
        patience: int = 8,
        min_delta: float = 1e-3,
        seed: int = 0,
        verbose: bool = False,
    ):
        self.hidden = hidden
        super().__init__(
            latent_dim=latent_dim,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            l2_latent=l2_latent,
            val_fraction=val_fraction,
            patience=patience,
            min_delta=min_delta,
            seed=seed,
            verbose=verbose,
        )

    def _build_net(self, input_shape):
        return _build_dense_net(tuple(input_shape), tuple(self.hidden), int(self.latent_dim))
