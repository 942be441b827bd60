"""Configs of vaekit 0.1 (flat ``model`` and ``objective`` sections) migrated on read to the nested layout.

vaekit 0.1.0 and the 0.1 releases after it wrote one flat ``model`` section (29 keys at most, each
part picking its own out) and one flat ``objective`` section. Reading such a file (config.yaml, a
checkpoint's metadata, a --config file), each flat key moves to its part (``hidden`` ->
``trunk.hidden``, ``prior_components`` -> ``prior.components``, ``fsq_levels`` -> ``quantizer.levels``,
``code_prior_epochs`` -> ``code_prior.epochs`` ...). A key at its 0.1 default is dropped (the part's
own default is the same value), so a key that does not apply to the chosen part is dropped when it
kept its default and is an error (unknown key, from the validator) when it did not, as in 0.1. The
keys of REDEFAULTED, whose part's default changed after 0.1, are kept at their 0.1 value (also when
absent: 0.1 read that as its default) where they apply, so that a 0.1 file trains as it did.
Old flat ``--set`` keys (``--set model.prior_components=5``) are translated the same way.
"""

from __future__ import annotations

from typing import Any, Mapping

from .section import plain

# 0.1's ModelConfig defaults: the keys a flat model section may hold.
FLAT_MODEL_DEFAULTS: dict[str, Any] = {
    "name": "vae", "trunk": "mlp", "latent_dim": 16, "hidden": [512, 256], "channels": [32, 64],
    "likelihood": "auto", "sigma": 1.0, "prior": "normal", "prior_components": 0, "gated": False,
    "codebook_size": 512, "code_positions": 8, "commitment": 0.25, "codebook_ema": False, "codebook_restart": 100,
    "code_prior_hidden": 128, "code_prior_layers": 1, "quantizer": "nearest", "fsq_levels": [8, 5, 5, 5],
    "codebooks": 1, "codebook_init": "uniform", "codebook_cosine": False, "codebook_dim": 0,
    "gradient": "straight_through", "code_prior_epochs": 5, "mixtures": 1, "channel_coupling": False,
    "conditional": False, "classes": 0,
}

# Flat model keys whose part's default changed after 0.1 (0.3: the codebook quantizers' commitment 0.25 -> 1.0,
# restarts after 100 -> 2 unused batches), with the quantizers that take them: kept at their 0.1 default there.
REDEFAULTED: dict[str, tuple[str, ...]] = {"commitment": ("nearest", "residual"), "codebook_restart": ("nearest", "residual")}

# Flat model key -> (its part, its key there). The keys not listed stay options of the model.
MOVED: dict[str, tuple[str, str]] = {
    "trunk": ("trunk", "name"), "hidden": ("trunk", "hidden"), "channels": ("trunk", "channels"),
    "gated": ("trunk", "gated"),
    "likelihood": ("likelihood", "name"), "sigma": ("likelihood", "sigma"), "mixtures": ("likelihood", "mixtures"),
    "channel_coupling": ("likelihood", "channel_coupling"),
    "prior": ("prior", "name"), "prior_components": ("prior", "components"),
    "quantizer": ("quantizer", "name"), "fsq_levels": ("quantizer", "levels"), "codebooks": ("quantizer", "codebooks"),
    "codebook_size": ("quantizer", "codebook_size"), "commitment": ("quantizer", "commitment"),
    "codebook_ema": ("quantizer", "ema"), "codebook_restart": ("quantizer", "restart"),
    "codebook_init": ("quantizer", "init"), "codebook_cosine": ("quantizer", "cosine"),
    "codebook_dim": ("quantizer", "codebook_dim"), "gradient": ("quantizer", "gradient"),
    "code_prior_hidden": ("code_prior", "hidden"), "code_prior_layers": ("code_prior", "layers"),
    "code_prior_epochs": ("code_prior", "epochs"),
}

# 0.1's ObjectiveConfig defaults.
FLAT_OBJECTIVE_DEFAULTS: dict[str, Any] = {
    "name": "auto", "beta": 1.0, "warmup_epochs": 0, "free_bits": 0.0, "k": 5, "alpha": 1.0, "gamma": 1.0,
    "tc_estimator": "mss", "discriminator_hidden": 1000, "discriminator_layers": 6, "discriminator_lr": 1e-4,
    "capacity_max": 25.0, "capacity_steps": 100_000, "lambda_od": 10.0, "lambda_d": 100.0,
}

# Options 0.1 let through unused (it checked only the quantizer's, the prior's and the objective's):
# the trunk and likelihood options of the 0.1 parts that do not read them, and the VQ-VAE's on other
# models. Such a key is dropped, not refused, so every file 0.1 accepted still opens.
USED_BY = {("trunk", "mlp"): {"hidden", "gated"}, ("trunk", "conv"): {"channels", "gated"},
           ("likelihood", "gaussian"): {"sigma"}, ("likelihood", "discretized_logistic"): {"mixtures", "channel_coupling"},
           **{("likelihood", name): set() for name in ("bernoulli", "continuous_bernoulli", "gaussian_learned",
                                                       "categorical256")}}
VQVAE_ONLY = ("quantizer", "code_prior")  # parts of the vqvae only, with the model option code_positions
HIERARCHICAL = ("hvae", "conv_hvae")  # 0.1 sized their head and prior by hidden[-1], whatever the trunk


def is_flat(values: Mapping[str, Any]) -> bool:
    """Whether a config mapping is 0.1's flat layout: its model section holds a moved key as a plain value."""
    model = values.get("model")
    return isinstance(model, Mapping) and any(key in MOVED and not isinstance(value, Mapping)
                                              for key, value in model.items())


def migrate(values: Mapping[str, Any]) -> dict[str, Any]:
    """A config mapping in the nested layout: 0.1's flat one migrated, a nested one unchanged."""
    if not is_flat(values):
        return dict(values)
    migrated = dict(values)
    migrated["model"] = migrate_model(values["model"])
    if isinstance(values.get("objective"), Mapping):
        migrated["objective"] = without_defaults(values["objective"], FLAT_OBJECTIVE_DEFAULTS, keep=())
    return migrated


def migrate_model(flat: Mapping[str, Any]) -> dict[str, Any]:
    """0.1's flat model section -> {name, latent_dim, ..., trunk: {name, ...}, prior: {...}, ...}."""
    flat = {**{key: FLAT_MODEL_DEFAULTS[key] for key in redefaulted(flat)}, **flat}  # absent: 0.1's default
    model: dict[str, Any] = {}
    if flat.get("name") in HIERARCHICAL and flat.get("trunk", "mlp") != "mlp" and "hidden" in flat:
        hidden = flat.pop("hidden")
        if plain(hidden) != FLAT_MODEL_DEFAULTS["hidden"]:
            model["width"] = list(hidden)[-1]
    for key, value in without_defaults(flat, FLAT_MODEL_DEFAULTS, keep=("name", *redefaulted(flat))).items():
        if ignored_by_0_1(key, flat):
            continue
        if key in MOVED and isinstance(value, Mapping):  # already a part section (ModelConfig(prior={...}))
            model.setdefault(key, {}).update(value)
        elif key in MOVED:
            part, option = MOVED[key]
            model.setdefault(part, {})[option] = value
        else:
            model[key] = value
    return model


def redefaulted(flat: Mapping[str, Any]) -> tuple[str, ...]:
    """The REDEFAULTED keys that apply to the vqvae and quantizer ``flat`` chose."""
    if flat.get("name", "vae") != "vqvae":
        return ()
    quantizer = flat.get("quantizer", FLAT_MODEL_DEFAULTS["quantizer"])
    quantizer = quantizer.get("name", FLAT_MODEL_DEFAULTS["quantizer"]) if isinstance(quantizer, Mapping) else quantizer
    return tuple(key for key, quantizers in REDEFAULTED.items() if quantizer in quantizers)


def ignored_by_0_1(key: str, flat: Mapping[str, Any]) -> bool:
    """Whether 0.1 ignored the flat model option ``key`` for the parts ``flat`` chose (see USED_BY)."""
    if key == "code_positions" or MOVED.get(key, ("",))[0] in VQVAE_ONLY:
        return flat.get("name", "vae") != "vqvae"
    part, option = MOVED.get(key, ("", ""))
    used = USED_BY.get((part, flat.get(part, FLAT_MODEL_DEFAULTS.get(part))))
    return option != "name" and used is not None and option not in used


def without_defaults(section: Mapping[str, Any], defaults: dict[str, Any], keep: tuple[str, ...]) -> dict[str, Any]:
    """``section`` without the keys at their 0.1 default (unknown keys kept, for the validator to name)."""
    return {key: value for key, value in section.items()
            if key in keep or key not in defaults or plain(value) != defaults[key]}


def translate_flat_key(path: list[str], value: Any) -> list[str] | None:
    """The nested path of an old flat ``--set`` key (model.prior_components -> model.prior.components);
    other paths unchanged. None: nothing to set (prior_components=0 meant the prior's default)."""
    if len(path) != 2 or path[0] != "model" or path[1] not in MOVED or isinstance(value, Mapping):
        return path
    if path[1] == "prior_components" and value == 0:
        return None
    return ["model", *MOVED[path[1]]]

