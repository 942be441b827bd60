"""vaekit latent-map: the posterior means in 2-D, and for a 2-D latent space the decoded manifold."""

from __future__ import annotations

from ..latent import MAP_METHODS
from ..rundir import Figures
from ..config.ranges import GRID, MAP_POINTS
from ._shared import announce, number_option, open_run_of, out_option, output_paths, run_dir_arguments, seed_option
from .registry import COMMANDS


@COMMANDS.register("latent-map")
class LatentMapCommand:
    help = "scatter the posterior means in 2-D (means, PCA or t-SNE), coloured by label"
    description = (
        "Encode the evaluation split and scatter the posterior means in 2-D: the means themselves when "
        "latent_dim = 2, else their PCA projection, or t-SNE with --method tsne; coloured by label when the "
        "data have labels. For latent_dim = 2 and a model with a prior, also decode a --grid x --grid "
        "manifold over the standard normal quantiles at probabilities (i + 0.5) / grid to FILE_manifold.png. "
        "The .npz holds 'coords' (M, 2), 'index' (M,) (the examples shown), 'labels' (M,) when present, and "
        "for the manifold 'manifold_z' (grid, grid, 2) and 'manifold_decoded' (grid, grid, *shape)."
    )

    @staticmethod
    def arguments(p) -> None:
        run_dir_arguments(p)
        p.add_argument("--method", choices=MAP_METHODS, default="auto",
                       help="auto (default): the means when latent_dim = 2, else pca; means: the posterior means themselves "
                            "(latent_dim = 2 only); pca: their first two principal components; tsne: scikit-learn's t-SNE")
        number_option(p, "--max-points", allowed=MAP_POINTS, default=2000,
                      help=f"t-SNE on at most this many examples (at least {MAP_POINTS.low}), drawn with --seed")
        seed_option(p, "t-SNE and of its choice of examples")
        number_option(p, "--grid", allowed=GRID, default=15,
                      help=f"manifold points per axis, from 2 to {GRID.high}, latent_dim = 2 only")
        out_option(p, Figures.LATENT_MAP, beside="; the .npz and FILE_manifold.png go beside it")

    @staticmethod
    def run(args) -> int:
        from ..figures.latent_outputs import latent_map_outputs
        from ._shared import check_writable

        check_writable(args.run_dir, args.out, Figures.LATENT_MAP)  # before any work

        evaluated = open_run_of(args)
        png, _ = output_paths(args.run_dir, args.out, Figures.LATENT_MAP)
        for path in latent_map_outputs(evaluated, png, args.method, args.max_points, args.seed, args.grid):
            announce(path)
        if evaluated.model.prior is None and evaluated.config.model.latent_dim == 2:
            print("no manifold grid: a plain autoencoder has no prior to take quantiles of")
        return 0
