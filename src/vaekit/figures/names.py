"""Every figure a run folder holds: its name, file name, title and caption, in one table.

Training writes the first three into the run folder; the report's figures go to RUN_DIR/report/ and
the disentanglement figures to RUN_DIR/disentanglement/ (and RUN_DIR/report/ for the report). The
report shows them in this table's order under their titles; anything that names a figure's file
reads it from here; the file names themselves are the run folder's (``vaekit.rundir.Figures``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..rundir import Figures


@dataclass(frozen=True)
class Figure:
    file: str  # the PNG's file name, from vaekit.rundir.Figures (its arrays, where kept, share the stem: FILE.npz)
    title: str
    caption: str


FIGURES: dict[str, Figure] = {
    "curves": Figure(Figures.CURVES, "Training curves", "ELBO and KL per epoch, nats per example."),
    "reconstructions": Figure(Figures.RECONSTRUCTIONS, "Reconstructions",
                              "Inputs (upper row of each pair) and the means of p(x|z) at z = E[q(z|x)]."),
    "samples": Figure(Figures.SAMPLES, "Samples", "Means of p(x|z) for z drawn from the prior."),
    "interpolation": Figure(Figures.INTERPOLATION, "Interpolations",
                            "From the first to the second evaluation example in latent space: linear and spherical."),
    "traversal": Figure(Figures.TRAVERSAL, "Traversals", "Each row sweeps one latent coordinate from -3 to +3 around the "
                        "first example's posterior mean; rows by KL."),
    "latent_map": Figure(Figures.LATENT_MAP, "Latent map", "Posterior means in two dimensions, coloured by label."),
    "latent_map_manifold": Figure(Figures.MANIFOLD, "Decoded manifold",
                                  "Decoded over the prior's quantiles (2-D latent spaces)."),
    "kl_per_dimension": Figure(Figures.KL_PER_DIMENSION, "KL per latent dimension",
                               "Mean KL over the evaluation split, nats."),
    "code_use": Figure(Figures.CODE_USE, "Code use", "How often each code of each codebook is chosen over the evaluation "
                       "split (a VQ-VAE), most used first; unused codes are dead."),
    "class_samples": Figure(Figures.CLASS_SAMPLES, "Samples per class",
                            "A conditional model: one row per class, samples drawn for it."),
    "mutual_information": Figure(Figures.MUTUAL_INFORMATION, "Mutual information",
                                 "Mutual information between each latent dimension and each factor."),
    "factor_traversal": Figure(Figures.FACTOR_TRAVERSAL, "Factor traversal",
                               "Each factor's most informative dimension swept over its range."),
    "factor_scatter": Figure(Figures.FACTOR_SCATTER, "Factor scatter", "That dimension against the factor's value."),
}
TRAINING_FIGURES = ("curves", "reconstructions", "samples")  # written into the run folder by training
DISENTANGLEMENT_FIGURES = ("mutual_information", "factor_traversal", "factor_scatter")


def figure_file(name: str) -> str:
    """The file name of figure ``name`` (a key of ``FIGURES``)."""
    return FIGURES[name].file
