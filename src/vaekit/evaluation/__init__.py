"""Evaluation: numbers about a trained model.

``likelihood`` the ELBO and the importance-sampled log p(x) (nats, bits per dimension);
``diagnostics`` KL per latent dimension, active units, reconstruction error; ``probe`` the linear
probe on the posterior means; ``conditional`` whether a conditional model's samples show their class;
``codebook`` a VQ-VAE's codebook health; ``disentanglement`` the disentanglement metrics (public face:
``vaekit.disentanglement``). ``metrics`` is the registry every one of them registers its numbers in
(key, label, format, cost class, section); importing this package fills it.
"""

# They register their metrics, in this order (the order of tables and reports).
from . import likelihood, diagnostics, codebook, probe, conditional  # noqa: F401
from . import disentanglement  # noqa: F401
