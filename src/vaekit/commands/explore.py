"""vaekit explore: serve the interactive latent-space explorer of a run on a local web page."""

from __future__ import annotations

import sys
from pathlib import Path

from ..config.ranges import MAP_POINTS, PORT
from ._shared import number_option, open_run_of, run_dir_arguments, seed_option
from .registry import COMMANDS


@COMMANDS.register("explore")
class Explore:
    help = "explore a run's latent space in the browser: map, sliders, paths, traversals (a local web page)"
    description = (
        "Start a local web server for a trained run and print its URL. The page shows the evaluation split's "
        "posterior means in 2-D (the means themselves for 2 latents, else PCA or t-SNE), coloured by label; "
        "hovering a point shows its input and reconstruction, clicking selects it. One slider per latent "
        "dimension, ordered by KL per dimension (active ones first), decodes live; a button samples the prior "
        "at a temperature. Two selected points give the linear and spherical interpolation strips to scrub "
        "along; any dimension can be traversed around the current point. Images show as pixels, table rows as "
        "bars in the table's own units, 1-D signals as a line. A hierarchical VAE's sliders set its top-level "
        "latent; a VQ-VAE shows its code grid, editable from a palette of codebook entries. Everything the page "
        "needs ships inside the package: it works offline. Stop the server with Ctrl-C."
    )

    @staticmethod
    def arguments(p) -> None:
        run_dir_arguments(p)
        p.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: only this machine can connect); any other "
                            "address lets everyone who can reach the port use the model, and the command warns so")
        number_option(p, "--port", allowed=PORT, default=8765,
                      help="TCP port, 0 to 65535; 0 picks a free port. A port in use is an error")
        p.add_argument("--open", action="store_true", help="also open the page in the default web browser")
        number_option(p, "--max-points", allowed=MAP_POINTS, default=2000,
                      help=f"t-SNE maps at most this many examples (at least {MAP_POINTS.low}), drawn with --seed; "
                           "the PCA map shows every example of the split")
        seed_option(p, "t-SNE and of its choice of examples")

    @staticmethod
    def run(args) -> int:
        from ..latent.explorer import Explorer, ExplorerServer, is_loopback
        from ..runs.open import load_units

        evaluated = open_run_of(args)
        explorer = Explorer(evaluated.model, evaluated.data, evaluated.split, load_units(args.run_dir),
                            Path(args.run_dir).resolve().name, evaluated.config.model.name, args.max_points, args.seed)
        server = ExplorerServer(explorer, args.host, args.port)
        if not is_loopback(args.host):
            print(f"vaekit explore: warning: listening on {args.host}: anyone who can reach port "
                  f"{server.server_address[1]} can use this model and read its data", file=sys.stderr)
        print(f"exploring {args.run_dir} ({evaluated.data.name}, {evaluated.split} split, {len(evaluated.data)} examples)")
        print(f"open {server.url} (Ctrl-C stops the server)", flush=True)
        if args.open:
            import webbrowser

            webbrowser.open(server.url)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("stopped")
        finally:
            server.server_close()
        return 0
