"""Evaluation: numbers about a trained model.

``likelihood`` the ELBO and the importance-sampled log p(x) (nats, bits per dimension);
``diagnostics`` KL per latent dimension, active units, reconstruction error; ``probe`` the linear
probe on the posterior means; ``disentanglement`` the disentanglement metrics (public face:
``vaekit.disentanglement``).
"""
