"""``ConvAutoencoder``: the reference convolutional autoencoder for normalised E-t maps ("2D-AE").

Encoder (Dillmann et al. 2024, ``encoder_et.h5``), input one channel of 24 time x 16 energy bins:

====================================  ===================
layer                                 output (C x T x E)
====================================  ===================
conv 32, 3x3, same padding            32 x 24 x 16
batch norm
conv 32, 2x2, stride 2                32 x 12 x 8
conv 16, 3x3, same padding            16 x 12 x 8
batch norm
conv 16, 2x2, stride 2                16 x 6 x 4
flatten                               384
dense 192, dense 48, dense 12         12 (the latent)
====================================  ===================

LeakyReLU (slope 0.1) follows every layer including the latent; an L2 penalty
(``l2_latent``) on the bottleneck activations is added to the loss. The decoder mirrors it
(dense 48, 192, 384, transposed 2x2 stride-2 convolutions, 3x3 convolutions with batch norm)
and ends in a 3x3 convolution with a sigmoid, as inputs are min-max normalised to [0, 1].
"""

from __future__ import annotations

from typing import ClassVar

from serendip.features._autoencoder import BaseAutoencoder

MAP_SHAPE = (24, 16)


def _build_conv_net(latent_dim: int):
    from torch import nn

    act = lambda: nn.LeakyReLU(0.1)  # noqa: E731

    class _Unsqueeze(nn.Module):
        def forward(self, x):
            return x.unsqueeze(1)

    class _Squeeze(nn.Module):
        def forward(self, x):
            return x.squeeze(1)

    encoder = nn.Sequential(
        _Unsqueeze(),
        nn.Conv2d(1, 32, 3, padding=1),
        act(),
        nn.BatchNorm2d(32),
        nn.Conv2d(32, 32, 2, stride=2),
        act(),
        nn.Conv2d(32, 16, 3, padding=1),
        act(),
        nn.BatchNorm2d(16),
        nn.Conv2d(16, 16, 2, stride=2),
        act(),
        nn.Flatten(),
        nn.Linear(16 * 6 * 4, 192),
        act(),
        nn.Linear(192, 48),
        act(),
        nn.Linear(48, latent_dim),
        act(),
    )
    decoder = nn.Sequential(
        nn.Linear(latent_dim, 48),
        act(),
        nn.Linear(48, 192),
        act(),
        nn.Linear(192, 16 * 6 * 4),
        act(),
        nn.Unflatten(1, (16, 6, 4)),
        nn.ConvTranspose2d(16, 16, 2, stride=2),
        act(),
        nn.Conv2d(16, 32, 3, padding=1),
        act(),
        nn.BatchNorm2d(32),
        nn.ConvTranspose2d(32, 32, 2, stride=2),
        act(),
        nn.Conv2d(32, 1, 3, padding=1),
        nn.Sigmoid(),
        _Squeeze(),
    )
    net = nn.Module()
    net.encoder = encoder
    net.decoder = decoder
    return net


class ConvAutoencoder(BaseAutoencoder):
    """Convolutional autoencoder on normalised E-t maps, (n, 24, 16) -> (n, latent_dim=12).

    Inputs: ``serendip.represent.et_maps(events, normalize=True)``, float32 (n_files, 24, 16),
    each map min-max scaled to [0, 1]. ``transform`` returns the 12 latent features (float32),
    ``reconstruct`` the decoded maps, ``reconstruction_error`` the per-file mean squared error.
    See :class:`serendip.features._autoencoder.BaseAutoencoder` for the training parameters.
    """

    kind: ClassVar[str] = "features.ConvAutoencoder"
    normalisation: ClassVar[str] = (
        "E-t maps (24 time x 16 log-energy bins, 0.5-7 keV), per-file min-max to [0, 1]"
    )
    fixed_input_shape: ClassVar[tuple[int, ...] | None] = MAP_SHAPE

    def __init__(
        self,
        latent_dim: int = 12,
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
        return _build_conv_net(int(self.latent_dim))
