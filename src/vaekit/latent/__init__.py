"""Using a trained model's latent space: encode, sample, interpolate, traverse, denoise, map.

Every function takes model inputs (the values the model was trained on: binarised, scaled or
standardised) and returns CPU tensors. Embeddings are posterior means, never samples. Nothing
here prints or touches the global random state: the functions that draw are seeded through
``vaekit.seeding.seeded`` (or, for ``sample_latents`` and ``add_noise``, draw from whatever state
the caller set up, so that they compose inside a caller's seeded section).
"""

from .denoise import add_noise, denoise, noise_clip
from .encode import (DECODE_BATCH, ENCODE_BATCH, as_batch, decode_mean, encode_data, posterior_mean, reconstruct_inputs,
                     sample_latents)
from .maps import MAP_METHODS, LatentMap, latent_map, manifold_grid, prior_quantiles
from .paths import PATHS, interpolate, lerp, morph_label, slerp
from .traverse import Traversal, dimension_kl, mean_kl_per_dimension, order_dimensions, traverse, traverse_from

__all__ = ["DECODE_BATCH", "ENCODE_BATCH", "MAP_METHODS", "PATHS", "LatentMap", "Traversal", "add_noise", "as_batch", "decode_mean",
           "denoise", "dimension_kl", "encode_data", "interpolate", "latent_map", "lerp", "manifold_grid",
           "mean_kl_per_dimension", "morph_label", "noise_clip", "order_dimensions", "posterior_mean", "prior_quantiles",
           "reconstruct_inputs", "sample_latents", "slerp", "traverse", "traverse_from"]
