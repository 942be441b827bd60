"""The latent-space explorer: a local web page over a trained model (``vaekit explore``).

``Explorer`` answers the page's questions with the latent tools; ``ExplorerServer`` serves the page
(shipped in ``assets/``: no file comes from anywhere else) and the JSON API on the loopback address.
"""

from .explorer import Explorer
from .server import ExplorerServer, is_loopback
from .wire import BadRequest, packed, unpacked

__all__ = ["BadRequest", "Explorer", "ExplorerServer", "is_loopback", "packed", "unpacked"]
