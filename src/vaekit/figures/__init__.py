"""Figures: every PNG vaekit draws (matplotlib, no display needed) and the run report's HTML page.

``grids`` image grids and table rows; ``curves`` training curves; ``latent`` the latent-space
pictures (rows, scatter, manifold, KL bars); ``latent_outputs`` the latent tools' results saved as a
PNG with the arrays behind it; ``report`` the self-contained HTML page; ``names`` every figure's
file name, title and caption (``FIGURES``), the one place they are spelled.
"""
