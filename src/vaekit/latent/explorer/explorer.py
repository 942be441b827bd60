"""The explorer's answers: a trained model and its evaluation split, asked about by the page.

Every answer is computed by the latent tools (``encode_data``, ``interpolate``, ``traverse_from``,
``latent_map``, ``sample_latents``), so what the page shows equals what ``vaekit interpolate``,
``traverse`` and ``latent-map`` write. The posterior means of the split are computed once, in
batches; reconstructions a block at a time; maps, traversals and single decodes are cached.
Answers are plain JSON-ready dicts, arrays packed as exact float32 (``wire.packed``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import partial

import torch

from ...errors import UserError
from ...models.conditional import model_labels
from ...models.vq import VQVAE
from ...seeding import seeded
from ..encode import ENCODE_BATCH, decode_mean, encode_data, posterior_mean, sample_latents
from ..maps import MAP_METHODS, latent_map
from ..paths import PATHS, interpolate
from ..traverse import dimension_kl, order_dimensions, traverse_from
from .controls import CodeGrid, sliders_for
from .wire import (
    MAX_ABS_Z,
    MAX_BATCH,
    MAX_SEED,
    MAX_SPAN,
    MAX_STEPS,
    MAX_TEMPERATURE,
    BadRequest,
    choice,
    integer,
    number,
    only,
    packed,
    vectors,
)

ACTIVE_VARIANCE = 0.01  # a dimension is active when Var_x of its posterior mean exceeds this (Burda et al., 2016)
CACHED = 512  # single decodes and traversals kept (least recently used dropped first)
BLOCKS = 8  # blocks of ENCODE_BATCH reconstructions kept
PRIOR_SPAN = 3.0  # sliders of a model with a prior reach at least +-3 (prior standard deviations)


class Explorer:
    """Answers about ``model`` on ``data`` (an ``ArrayData``, the evaluation split).

    units: the map back to the data's units (``vaekit.runs.open.DataUnits``: shift, scale, columns)
    or None; the page applies it to table rows. name: the run, for the page's title; model_name: the
    registered model's name (default: the model's class). max_points, seed: of a t-SNE map.

    The page's requests arrive on several server threads. The model keeps no per-call state (labels
    are arguments), but ``lock`` still serialises the answers that touch shared state: the caches
    (an LRU ``OrderedDict`` is checked, filled and trimmed in several steps, and a concurrent trim
    would drop a key between them), and seeded sampling, which reseeds torch's process-wide random
    generator inside ``seeded`` (two overlapping requests would interleave their draws, so a seed
    would no longer fix its answer). ``map_lock`` keeps a slow t-SNE map to one computation per method
    without holding ``lock`` meanwhile.
    """

    def __init__(self, model, data, split: str = "test", units=None, name: str = "", model_name: str = "",
                 max_points: int = 2000, seed: int = 0):
        if len(data) == 0:
            raise UserError(f"{data.name}: no examples to explore")
        self.model, self.data, self.split, self.units, self.name = model, data, split, units, name
        self.model_name = model_name or type(model).__name__
        self.max_points, self.seed = max_points, seed
        self.lock = threading.RLock()  # the caches and the global RNG's seeding (see the class docstring)
        self.map_lock = threading.Lock()
        self.sliders = sliders_for(model)
        self.codes = CodeGrid(model) if isinstance(model, VQVAE) else None
        self.encoded = encode_data(model, data)  # mean (N, D), log_var, labels
        self.labels = model_labels(model, data)  # (N,) for a conditional model, which decodes with them; else None
        self.driven = self.sliders.driven(self.encoded["mean"]) if self.sliders else self.encoded["mean"]
        self.kl = dimension_kl(model, data) if self.sliders is not None else None
        self.range = value_range(data)
        self.maps, self.decoded, self.traversals, self.blocks = {}, OrderedDict(), OrderedDict(), OrderedDict()
        self._palette = None

    # --- what the page is built from -----------------------------------------------------------

    def meta_query(self, query: dict) -> dict:
        only(query, ())
        return self.meta()

    def meta(self) -> dict:
        shape = list(self.model.data_shape)
        columns = getattr(self.units, "columns", None)
        kind = "image" if len(shape) == 3 else "table" if columns is not None else "signal"
        shift, scale = (self.units.shift, self.units.scale) if self.units is not None else (torch.tensor(0.0), torch.tensor(1.0))
        return {
            "run": self.name, "data": self.data.name, "split": self.split, "examples": len(self.data),
            "shape": shape, "kind": kind, "columns": columns, "range": self.range,
            "shift": shift.flatten().tolist(), "scale": scale.flatten().tolist(),
            "model": self.model_name, "labels": "labels" in self.encoded,
            "factors": factor_names(self.data),
            "latent": self.latent_meta(), "codes": self.codes_meta(),
            "sample": self.sample_meta(),
            "map_methods": [m for m in MAP_METHODS if m != "means" or self.driven.shape[1] == 2],
            "paths": PATHS.names(), "limits": {"batch": MAX_BATCH, "steps": MAX_STEPS, "span": MAX_SPAN},
        }

    def latent_meta(self) -> dict | None:
        """Slider dimensions in display order (KL, largest first; else variance of the means), their ranges."""
        if self.sliders is None:
            return None
        means = self.driven.double()
        variance = means.var(0) if len(means) > 1 else torch.zeros(means.shape[1], dtype=torch.float64)
        order = order_dimensions(self.kl if self.kl is not None else variance, means.shape[1], None)
        low, high = means.min(0).values, means.max(0).values
        pad = 0.25 * (high - low).clamp(min=1.0)
        low, high = low - pad, high + pad
        if self.model.prior is not None:  # the prior's bulk is in reach whatever the data cover
            low, high = low.clamp(max=-PRIOR_SPAN), high.clamp(min=PRIOR_SPAN)
        return {"name": self.sliders.name, "dims": means.shape[1], "order": order.tolist(),
                "ranked_by": "KL" if self.kl is not None else "variance",
                "kl": None if self.kl is None else self.kl.tolist(), "variance": variance.tolist(),
                "active": (variance > ACTIVE_VARIANCE).tolist(), "active_threshold": ACTIVE_VARIANCE,
                "low": low.tolist(), "high": high.tolist(), "note": self.sliders.note}

    def codes_meta(self) -> dict | None:
        if self.codes is None:
            return None
        return {"size": self.codes.size, "positions": self.codes.positions, "grid": list(self.codes.grid),
                "dim": self.codes.dim}

    def sample_meta(self) -> dict:
        try:
            self.model.prior_distribution()
        except UserError as exc:
            return {"available": False, "why": str(exc)}
        return {"available": True, "why": ""}

    def latent_map(self, query: dict) -> dict:
        """The 2-D map of the (driven) posterior means, with labels and factors of the points shown."""
        only(query, ("method",))
        method = choice(query, "method", MAP_METHODS, "auto")
        with self.map_lock:  # t-SNE takes seconds: once per method, and the model stays free meanwhile
            if method not in self.maps:
                self.maps[method] = latent_map(self.driven, method, self.max_points, self.seed)
            placed = self.maps[method]
        answer = {"method": placed.method, "axes": list(placed.axes), "index": placed.index.tolist(),
                  "coords": placed.coords.float().tolist()}
        if "labels" in self.encoded:
            answer["labels"] = self.encoded["labels"][placed.index].tolist()
        factors = getattr(self.data, "factors", None)
        if factors is not None:
            answer["factors"] = torch.as_tensor(factors)[placed.index].tolist()
        return answer

    def example(self, query: dict) -> dict:
        """Example ``index`` of the split: its input, reconstruction, posterior mean (the sliders' part), codes."""
        only(query, ("index",))
        i = integer(query, "index", 0, len(self.data) - 1)
        answer = {"index": i, "input": packed(self.input(i)[None]), "reconstruction": packed(self.reconstruction(i)[None]),
                  "z": self.driven[i].tolist()}
        if "labels" in self.encoded:
            answer["label"] = int(self.encoded["labels"][i])
        if self.codes is not None:
            with self.lock:
                answer["codes"] = self.model.codes(self.input(i)[None].to(next(self.model.parameters()))).cpu()[0].tolist()
        return answer

    def reconstruction(self, i: int) -> torch.Tensor:
        """(*shape): the decoded posterior mean of example i. Decoded a block of ENCODE_BATCH examples at a
        time, the last few blocks kept: hovering over the map asks for neighbours, often of one block."""
        block = i // ENCODE_BATCH
        with self.lock:
            if block not in self.blocks:
                means = self.encoded["mean"][block * ENCODE_BATCH : (block + 1) * ENCODE_BATCH]
                self.blocks[block] = decode_mean(self.model, means, self.labels_at(slice(
                    block * ENCODE_BATCH, (block + 1) * ENCODE_BATCH))).cpu()
            remember(self.blocks, block, BLOCKS)
            return self.blocks[block][i - block * ENCODE_BATCH]

    def labels_at(self, index) -> torch.Tensor | None:
        """The labels of the examples at ``index`` (int, slice or list) for a conditional model, else None."""
        return None if self.labels is None else self.labels[index]

    def input(self, i: int) -> torch.Tensor:
        """(*shape) on the CPU: the model input of example i, as the commands take it."""
        return self.data.inputs(slice(i, i + 1))[0].cpu()

    # --- decoding ---------------------------------------------------------------------------------

    def decode(self, body: dict) -> dict:
        """{"z": d numbers, or up to MAX_BATCH lists of them} -> {"x": (n, *shape)}, the decoded means."""
        self.need_sliders("decode slider values")
        only(body, ("z",))
        z, single = vectors(body, "z", self.driven.shape[1], MAX_ABS_Z)
        if not single:  # a batch is decoded as one batch, exactly as the model decodes it
            with self.lock:
                return {"x": packed(self.sliders.decode(z))}
        key = z.numpy().tobytes()
        with self.lock:
            if key not in self.decoded:
                self.decoded[key] = self.sliders.decode(z)
            remember(self.decoded, key)
            return {"x": packed(self.decoded[key])}

    def decode_codes(self, body: dict) -> dict:
        """{"codes": P code indices, or lists of them} -> {"x": (n, *shape)} (a VQ-VAE's code grids)."""
        if self.codes is None:
            raise BadRequest("this model has no code grid; decode_codes is for a VQ-VAE")
        only(body, ("codes",))
        codes, _ = vectors(body, "codes", self.codes.positions, self.codes.size, kind="integer")
        with self.lock:
            return {"x": packed(self.codes.decode(codes))}

    def palette(self, query: dict) -> dict:
        """{"x": (K, *shape)}: each codebook entry decoded at every position of the grid."""
        only(query, ())
        if self.codes is None:
            raise BadRequest("this model has no codebook; the palette is for a VQ-VAE")
        with self.lock:
            if self._palette is None:
                self._palette = self.codes.palette()
            return {"x": packed(self._palette)}

    # --- paths, traversals, samples ----------------------------------------------------------------

    def interpolate(self, body: dict) -> dict:
        """{"from": i, "to": j, "steps", "methods"} -> per method z (steps, d) and decoded (steps, *shape),
        as ``vaekit interpolate --from i --to j`` computes them."""
        only(body, ("from", "to", "steps", "methods"))
        last = len(self.data) - 1
        a, b = integer(body, "from", 0, last), integer(body, "to", 0, last)
        steps = integer(body, "steps", 2, MAX_STEPS, 10)
        methods = body.get("methods", PATHS.names())
        if not isinstance(methods, list) or not methods or any(m not in PATHS.names() for m in methods):
            raise BadRequest(f"methods must be a non-empty list of {', '.join(PATHS.names())}")
        answer = {"from": a, "to": b, "t": torch.linspace(0, 1, steps).tolist()}
        with self.lock:
            for method in dict.fromkeys(methods):
                z, decoded = interpolate(self.model, self.input(a), self.input(b), steps, method, self.labels_at([a, b]))
                driven = self.sliders.driven(z) if self.sliders else z
                answer[method] = {"z": packed(driven), "decoded": packed(decoded)}
        return answer

    def traverse(self, body: dict) -> dict:
        """{"dim", "span", "steps", and "index" or "z"} -> the row of that dimension of the traversal around
        the example's posterior mean (as ``vaekit traverse --index``) or around z."""
        self.need_sliders("traverse")
        only(body, ("dim", "span", "steps", "index", "z"))
        dims = self.driven.shape[1]
        dim = integer(body, "dim", 0, dims - 1)
        span = number(body, "span", 0.0, MAX_SPAN, 3.0, open_low=True)
        steps = integer(body, "steps", 2, MAX_STEPS, 9)
        if ("index" in body) == ("z" in body):
            raise BadRequest("traverse takes exactly one of index (an example) or z (a latent point)")
        with self.lock:
            if "index" in body:
                i = integer(body, "index", 0, len(self.data) - 1)
                labels = self.labels_at([i])  # a conditional model: the example's own, for encoding and decoding
                base = self.sliders.driven(posterior_mean(self.model, self.input(i), labels))[0].cpu()
            else:
                z, single = vectors(body, "z", dims, MAX_ABS_Z)
                if not single:
                    raise BadRequest("traverse takes one latent point z, not a list of them")
                base, labels = z[0], None
            key = (base.numpy().tobytes(), span, steps, None if labels is None else tuple(labels.tolist()))
            if key not in self.traversals:
                decode = partial(self.sliders.decode, labels=labels)
                self.traversals[key] = traverse_from(self.model, base, self.kl, None, span, steps, decode)
            remember(self.traversals, key)
            result = self.traversals[key]
        row = int((result.dims == dim).nonzero()[0, 0])
        return {"dim": dim, "kl": None if self.kl is None else float(self.kl[dim]), "values": result.values.tolist(),
                "z": packed(result.z[row]), "decoded": packed(result.decoded[row])}

    def sample(self, body: dict) -> dict:
        """{"n", "temperature", "seed"} -> n prior draws: z (the sliders' part), decoded, and codes for a VQ-VAE."""
        only(body, ("n", "temperature", "seed"))
        n = integer(body, "n", 1, MAX_BATCH, 1)
        temperature = number(body, "temperature", 0.0, MAX_TEMPERATURE, 1.0)
        seed = integer(body, "seed", 0, MAX_SEED, 0)
        if not self.sample_meta()["available"]:
            raise BadRequest(self.sample_meta()["why"])
        with self.lock, seeded(seed, next(self.model.parameters()).device):
            z, decoded = sample_latents(self.model, n, temperature)
            answer = {"decoded": packed(decoded)}
            if self.sliders is not None:
                answer["z"] = packed(self.sliders.driven(z))
            if self.codes is not None:
                answer["codes"] = self.model.prior.codes_of(z.to(next(self.model.parameters()))).cpu().tolist()
        return answer

    def need_sliders(self, what: str) -> None:
        if self.sliders is None:
            raise BadRequest(f"a VQ-VAE has no continuous latent to {what}; edit its code grid (decode_codes)")


def value_range(data) -> list[float]:
    """[low, high]: the range of the model inputs, the axis of bar charts and lines."""
    low, high = float("inf"), float("-inf")
    for start in range(0, len(data), ENCODE_BATCH):
        x = data.inputs(slice(start, start + ENCODE_BATCH))
        low, high = min(low, float(x.min())), max(high, float(x.max()))
    return [low, high]


def remember(cache: OrderedDict, key, size: int = CACHED) -> None:
    """Mark ``key`` as just used and drop the least recently used entries beyond ``size``."""
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)


def factor_names(data) -> list[str]:
    """The names of the data's ground-truth factors (``ArrayData.factor_info``); [] for data without factors."""
    if getattr(data, "factors", None) is None:
        return []
    info = getattr(data, "factor_info", None)
    return list(info.names) if info is not None else [f"factor {k}" for k in range(data.factors.shape[1])]
