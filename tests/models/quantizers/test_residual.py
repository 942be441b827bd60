"""Residual quantization (models/quantizers/residual.py): the error does not grow with more stages, and a
narrower codebook decodes through its projection as the code prior sees it."""

import torch
from helpers import small_quantizer

from vaekit.models.code_prior import CodePrior
from vaekit.seeding import seeded


def test_residual_quantization_error_does_not_grow_with_more_stages():
    z = torch.randn(400, 4, generator=torch.Generator().manual_seed(0))
    residual = small_quantizer(quantizer="residual", codebooks=4, codebook_init="kmeans")
    with seeded(0, "cpu"):
        residual.train().quantize(z)  # each stage's codebook: k-means of what the stages before left
    residual.eval()
    errors = [float((residual.quantize(z, stages=s).value - z).pow(2).sum()) for s in range(1, 5)]
    assert all(later <= earlier for earlier, later in zip(errors, errors[1:])), errors
    assert errors[-1] < 0.5 * errors[0]
    out = residual.quantize(z)
    assert out.codes.shape == (400, 4) and out.inputs.shape == (400, 4, 4)
    prior = CodePrior(residual.code_vectors(), positions=1)  # the prior decodes the 4 code maps to the same vectors
    torch.testing.assert_close(prior.vectors(out.codes), out.value)


def test_a_narrower_codebook_decodes_through_its_projection_as_the_code_prior_sees_it():
    narrow = small_quantizer(codebook_dim=2, codebooks=3, quantizer="residual").eval()
    z = torch.randn(50, 4, generator=torch.Generator().manual_seed(0))
    out = narrow.quantize(z)
    assert out.inputs.shape == (50, 3, 2) and out.value.shape == (50, 4)
    torch.testing.assert_close(CodePrior(narrow.code_vectors(), positions=1).vectors(out.codes), out.value)
