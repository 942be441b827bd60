"""Every figure a run folder holds: its name, file name, title and caption, in one table.

Training writes the first three into the run folder; the report's figures go to RUN_DIR/report/ and
the disentanglement figures to RUN_DIR/disentanglement/ (and RUN_DIR/report/ for the report). The
report shows them in this table's order under their titles; anything that names a figure's file
reads it from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    file: str  # the PNG's file name (its arrays, where kept, share the stem: FILE.npz)
    title: str
    caption: str


FIGURES: dict[str, Figure] = {
    "curves": Figure("curves.png", "Training curves", "ELBO and KL per epoch, nats per example."),
    "reconstructions": Figure("reconstructions.png", "Reconstructions",
                              "Inputs (upper row of each pair) and the means of p(x|z) at z = E[q(z|x)]."),
    "samples": Figure("samples.png", "Samples", "Means of p(x|z) for z drawn from the prior."),
    "interpolation": Figure("interpolation.png", "Interpolations",
                            "From the first to the second evaluation example in latent space: linear and spherical."),
    "traversal": Figure("traversal.png", "Traversals", "Each row sweeps one latent coordinate from -3 to +3 around the "
                        "first example's posterior mean; rows by KL."),
    "latent_map": Figure("latent_map.png", "Latent map", "Posterior means in two dimensions, coloured by label."),
    "latent_map_manifold": Figure("latent_map_manifold.png", "Decoded manifold",
                                  "Decoded over the prior's quantiles (2-D latent spaces)."),
    "kl_per_dimension": Figure("kl_per_dimension.png", "KL per latent dimension",
                               "Mean KL over the evaluation split, nats."),
    "code_use": Figure("code_use.png", "Code use", "How often each code of each codebook is chosen over the evaluation "
                       "split (a VQ-VAE), most used first; unused codes are dead."),
    "class_samples": Figure("class_samples.png", "Samples per class",
                            "A conditional model: one row per class, samples drawn for it."),
    "mutual_information": Figure("mutual_information.png", "Mutual information",
                                 "Mutual information between each latent dimension and each factor."),
    "factor_traversal": Figure("factor_traversal.png", "Factor traversal",
                               "Each factor's most informative dimension swept over its range."),
    "factor_scatter": Figure("factor_scatter.png", "Factor scatter", "That dimension against the factor's value."),
}
TRAINING_FIGURES = ("curves", "reconstructions", "samples")  # written into the run folder by training
DISENTANGLEMENT_FIGURES = ("mutual_information", "factor_traversal", "factor_scatter")


def figure_file(name: str) -> str:
    """The file name of figure ``name`` (a key of ``FIGURES``)."""
    return FIGURES[name].file
