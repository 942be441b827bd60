"""The explorer's JSON API without a browser: its answers are the latent tools' answers exactly
(``model.decode``, the arrays ``vaekit interpolate`` and ``traverse`` write), every malformed request
gets a 4xx with a message while the server goes on serving, and the command binds safely."""

import json
import re
import subprocess
import sys
from importlib import resources

import numpy as np
import pytest
import torch
from explorer_helpers import Client, array, served, trained

from vaekit.cli import main
from vaekit.data.factors import FactorInfo
from vaekit.latent import encode_data, latent_map, sample_latents
from vaekit.latent.explorer import Explorer
from vaekit.models.code_prior import fit_code_prior
from vaekit.runs.open import load_units, open_run
from vaekit.seeding import seeded


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    return trained(tmp_path_factory, "vae")


@pytest.fixture(scope="module")
def vae(vae_run):
    with served(vae_run) as (explorer, client):
        yield explorer, client


def test_decode_answers_equal_model_decode_exactly(vae):
    explorer, client = vae
    model = explorer.model
    z = [[0.25, -1.5, 2.0], [0.0, 0.0, 0.0], [-3.0, 1.0, 0.5]]
    with torch.no_grad():
        expected = model.decode(torch.tensor(z)).mean
        single = model.decode(torch.tensor(z[:1])).mean
    assert torch.equal(array(client.ok("POST", "/api/decode", {"z": z})["x"]), expected)
    answer = client.ok("POST", "/api/decode", {"z": z[0]})["x"]
    assert answer["shape"] == [1, 1, 8, 8] and torch.equal(array(answer), single)
    assert torch.equal(array(client.ok("POST", "/api/decode", {"z": z[0]})["x"]), single)  # the cached answer too


def test_interpolate_answers_equal_the_interpolate_command_arrays(vae, vae_run, tmp_path):
    explorer, client = vae
    out = tmp_path / "path.png"
    assert main(["interpolate", str(vae_run), "--from", "3", "--to", "8", "--steps", "6", "--out", str(out),
                 "--device", "cpu"]) == 0
    answer = client.ok("POST", "/api/interpolate", {"from": 3, "to": 8, "steps": 6})
    with np.load(out.with_suffix(".npz")) as written:
        for method in ("linear", "slerp"):
            assert np.array_equal(array(answer[method]["z"]).numpy(), written[f"z_{method}"])
            assert np.array_equal(array(answer[method]["decoded"]).numpy(), written[f"decoded_{method}"])
        assert np.allclose(answer["t"], written["t"])


def test_traverse_answers_equal_the_traverse_command_rows(vae, vae_run, tmp_path):
    explorer, client = vae
    out = tmp_path / "traversal.png"
    assert main(["traverse", str(vae_run), "--index", "5", "--span", "2", "--steps", "5", "--out", str(out),
                 "--device", "cpu"]) == 0
    with np.load(out.with_suffix(".npz")) as written:
        for row, dim in enumerate(written["dims"].tolist()):
            answer = client.ok("POST", "/api/traverse", {"index": 5, "dim": dim, "span": 2, "steps": 5})
            assert np.array_equal(array(answer["z"]).numpy(), written["z"][row])
            assert np.array_equal(array(answer["decoded"]).numpy(), written["decoded"][row])
            assert answer["kl"] == pytest.approx(float(written["kl"][row]))
        # around a latent point instead of an example: the same sweep, every other coordinate held
        base = written["z"][0, 0].tolist()  # the first row's point: base with its dimension at -span
        other = int(written["dims"][1])
        answer = client.ok("POST", "/api/traverse", {"z": base, "dim": other, "span": 2, "steps": 5})
    z = array(answer["z"])
    expected = torch.tensor(base).repeat(5, 1)
    expected[:, other] = torch.linspace(-2, 2, 5)
    assert torch.equal(z, expected)
    with torch.no_grad():
        assert torch.allclose(array(answer["decoded"]), explorer.model.decode(z).mean, atol=1e-6)


def test_map_example_and_sample_answers_are_the_latent_tools_answers(vae):
    explorer, client = vae
    encoded = encode_data(explorer.model, explorer.data)
    answer = client.ok("GET", "/api/map?method=pca")
    placed = latent_map(encoded["mean"], "pca")
    assert len(answer["coords"]) == len(explorer.data) == 359
    assert np.allclose(answer["coords"], placed.coords.numpy(), atol=1e-5)
    assert answer["labels"] == encoded["labels"].tolist()
    shown = client.ok("GET", "/api/example?index=7")
    assert torch.equal(array(shown["input"])[0], explorer.data.inputs(slice(7, 8))[0])
    assert torch.equal(torch.tensor(shown["z"]), encoded["mean"][7])
    with torch.no_grad():
        assert torch.allclose(array(shown["reconstruction"])[0], explorer.model.decode(encoded["mean"][7:8]).mean[0],
                              atol=1e-6)
    drawn = client.ok("POST", "/api/sample", {"n": 4, "temperature": 0.7, "seed": 11})
    with seeded(11, "cpu"):
        z, decoded = sample_latents(explorer.model, 4, 0.7)
    assert torch.equal(array(drawn["z"]), z) and torch.equal(array(drawn["decoded"]), decoded)


def test_meta_orders_sliders_by_kl_and_marks_inactive_dimensions(vae):
    explorer, client = vae
    latent = client.ok("GET", "/api/meta")["latent"]
    kl = torch.tensor(latent["kl"])
    assert latent["order"] == torch.sort(kl, descending=True, stable=True).indices.tolist()
    variance = encode_data(explorer.model, explorer.data)["mean"].double().var(0)
    assert latent["active"] == (variance > 0.01).tolist()
    assert all(low <= -3 and high >= 3 for low, high in zip(latent["low"], latent["high"]))


def test_factor_colours_come_from_the_data(vae_run):
    opened = open_run(vae_run, "cpu")
    opened.data.factors = torch.arange(len(opened.data)).remainder(3).unsqueeze(1)  # a data source with factors
    opened.data.factor_info = FactorInfo(("thirds",), (3,), ((0.0, 1.0, 2.0),))
    explorer = Explorer(opened.model, opened.data, opened.split)
    answer = explorer.latent_map({"method": "pca"})
    assert answer["factors"] == [[i % 3] for i in answer["index"]]
    assert explorer.meta()["factors"] == ["thirds"] and "tsne" in explorer.meta()["map_methods"]


def test_explore_help_describes_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["explore", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option, words in [("--host", "127.0.0.1"), ("--port", "0 picks a free port"), ("--open", "browser"),
                          ("--data", "instead of the run's own"), ("--device", "cpu"), ("--max-points", "t-SNE"),
                          ("--seed", "seed of t-SNE")]:
        assert re.search(re.escape(option) + r"[ A-Z_]*\s.*" + re.escape(words), text), option


MALFORMED = [  # (method, path, body or None, headers, status, words the message must contain)
    ("POST", "/api/decode", b"{not json", {}, 400, "not JSON"),
    ("POST", "/api/decode", b"[1, 2, 3]", {}, 400, "JSON object"),
    ("POST", "/api/decode", b'{"z": [1, 2]}', {}, 400, "list of 3"),
    ("POST", "/api/decode", b'{"z": [NaN, 0, 0]}', {}, 400, "NaN"),
    ("POST", "/api/decode", b'{"z": [Infinity, 0, 0]}', {}, 400, "Infinity"),
    ("POST", "/api/decode", b'{"z": [1e300, 0, 0]}', {}, 400, "|value|"),
    ("POST", "/api/decode", b'{"z": ["a", 0, 0]}', {}, 400, "finite number"),
    ("POST", "/api/decode", json.dumps({"z": [[0, 0, 0]] * 100000}).encode(), {}, 413, "at most"),
    ("POST", "/api/decode", json.dumps({"z": [[0, 0, 0]] * 65}).encode(), {}, 400, "1 to 64"),
    ("POST", "/api/decode", b'{"z": [0, 0, 0], "extra": 1}', {}, 400, "unknown parameter"),
    ("POST", "/api/sample", b'{"n": 1000000}', {}, 400, "n must be from 1 to 64"),
    ("POST", "/api/sample", b'{"temperature": -1}', {}, 400, "temperature"),
    ("POST", "/api/interpolate", b'{"from": 0, "to": 400}', {}, 400, "to must be from 0 to 358"),
    ("POST", "/api/interpolate", b'{"from": -1, "to": 3}', {}, 400, "from must be"),
    ("POST", "/api/interpolate", b'{"from": true, "to": 3}', {}, 400, "integer"),
    ("POST", "/api/interpolate", b'{"from": "2", "to": 3}', {}, 400, "integer"),
    ("POST", "/api/interpolate", b'{"from": 0, "to": 3, "steps": 100000}', {}, 400, "steps"),
    ("POST", "/api/interpolate", b'{"from": 0, "to": 3, "methods": ["cubic"]}', {}, 400, "methods"),
    ("POST", "/api/traverse", b'{"dim": 9, "index": 0}', {}, 400, "dim must be from 0 to 2"),
    ("POST", "/api/traverse", b'{"dim": 0, "index": 0, "z": [0, 0, 0]}', {}, 400, "exactly one"),
    ("POST", "/api/traverse", b'{"dim": 0, "index": 0, "span": 0}', {}, 400, "span"),
    ("POST", "/api/decode_codes", b'{"codes": [0]}', {}, 400, "VQ-VAE"),
    ("GET", "/api/example?index=abc", None, {}, 400, "integer"),
    ("GET", "/api/example?index=1&index=2", None, {}, 400, "more than once"),
    ("GET", "/api/map?method=umap", None, {}, 400, "method must be one of"),
    ("GET", "/api/decode", None, {}, 405, "POST"),
    ("PUT", "/api/decode", b"{}", {}, 405, "not served"),
    ("GET", "/../../../etc/passwd", None, {}, 404, "no such page"),
    ("GET", "/%2e%2e/%2e%2e/etc/passwd", None, {}, 404, "no such page"),
    ("GET", "/assets/explorer.js", None, {}, 404, "no such page"),
    ("GET", "/api/meta", None, {"Host": "evil.example:80"}, 403, "not served"),
]


@pytest.mark.parametrize("method, path, body, headers, status, words", MALFORMED,
                         ids=[f"{m} {p} {b[:30] if b else ''}" for m, p, b, *_ in MALFORMED])
def test_a_malformed_request_gets_a_4xx_with_a_message_and_the_server_goes_on(vae, method, path, body, headers,
                                                                               status, words):
    _, client = vae
    extra = {"Content-Type": "application/json"} if body is not None else {}
    got, answer = client.request(method, path, body, {**extra, **headers})
    assert got == status and words in answer["error"], answer
    assert client.ok("POST", "/api/decode", {"z": [0.5, 0.5, 0.5]})["x"]["shape"] == [1, 1, 8, 8]


def test_the_page_is_the_package_files_and_names_no_other_host(vae):
    _, client = vae
    folder = resources.files("vaekit.latent.explorer").joinpath("assets")
    for path, name in [("/", "index.html"), ("/explorer.js", "explorer.js"), ("/explorer.css", "explorer.css")]:
        status, served_bytes = client.get(path)
        text = folder.joinpath(name).read_text()
        assert status == 200 and served_bytes == text.encode()
        assert "http://" not in text and "https://" not in text  # nothing fetched from elsewhere


def test_an_autoencoder_ranks_sliders_by_variance_and_refuses_to_sample(tmp_path_factory):
    with served(trained(tmp_path_factory, "ae")) as (explorer, client):
        meta = client.ok("GET", "/api/meta")
        assert meta["latent"]["ranked_by"] == "variance" and meta["latent"]["kl"] is None
        assert not meta["sample"]["available"] and "autoencoder" in meta["sample"]["why"]
        status, answer = client.post("/api/sample", {"n": 1})
        assert status == 400 and "autoencoder" in answer["error"]
        z = torch.tensor(meta["latent"]["high"])
        with torch.no_grad():
            assert torch.equal(array(client.ok("POST", "/api/decode", {"z": z.tolist()})["x"]),
                               explorer.model.decode(z[None]).mean)


def test_a_hierarchical_vae_is_driven_by_its_top_level(tmp_path_factory):
    with served(trained(tmp_path_factory, "hvae")) as (explorer, client):
        meta = client.ok("GET", "/api/meta")
        assert meta["latent"]["name"] == "z2" and meta["latent"]["dims"] == 2 and "top-level" in meta["latent"]["note"]
        z2 = torch.tensor([[0.5, -1.0]])
        with torch.no_grad():
            z1 = explorer.model.prior_distribution().conditional(z2).mean
            expected = explorer.model.decode(torch.cat([z1, z2], -1)).mean
        assert torch.equal(array(client.ok("POST", "/api/decode", {"z": z2[0].tolist()})["x"]), expected)
        encoded = encode_data(explorer.model, explorer.data)["mean"]
        assert torch.equal(torch.tensor(client.ok("GET", "/api/example?index=4")["z"]), encoded[4, 2:])
        assert len(client.ok("GET", "/api/map")["coords"]) == len(explorer.data)


def test_a_vqvae_decodes_edited_code_grids_and_samples_its_code_prior(tmp_path_factory):
    run = trained(tmp_path_factory, "vqvae")
    with served(run) as (explorer, client):
        meta = client.ok("GET", "/api/meta")
        assert meta["latent"] is None and meta["codes"] == {"size": 8, "positions": 4, "grid": [2, 2], "dim": 2}
        assert not meta["sample"]["available"] and "fit-code-prior" in meta["sample"]["why"]
        shown = client.ok("GET", "/api/example?index=2")
        assert shown["codes"] == explorer.model.codes(explorer.data.inputs(slice(2, 3)))[0].tolist()
        codes = [[1, 2, 3, 4], [7, 7, 0, 0]]
        codebook = explorer.model.quantizer.codebook.detach()
        with torch.no_grad():
            expected = explorer.model.decode(codebook[torch.tensor(codes)].flatten(1)).mean
        assert torch.equal(array(client.ok("POST", "/api/decode_codes", {"codes": codes})["x"]), expected)
        palette = array(client.ok("GET", "/api/palette")["x"])
        with torch.no_grad():
            assert torch.allclose(palette[5], explorer.model.decode(codebook[[5] * 4].flatten()[None]).mean[0], atol=1e-6)
        status, answer = client.post("/api/decode_codes", {"codes": [0, 1, 2, 8]})
        assert status == 400 and "from 0 to 7" in answer["error"]
        status, answer = client.post("/api/decode", {"z": [0, 0]})
        assert status == 400 and "code grid" in answer["error"]
    opened = open_run(run, "cpu")
    fit_code_prior(opened.model, opened.data, epochs=1)
    explorer = Explorer(opened.model, opened.data, opened.split, load_units(run))
    drawn = explorer.sample({"n": 3, "seed": 4})
    with seeded(4, "cpu"):
        z, decoded = sample_latents(opened.model, 3, 1.0)
    assert torch.equal(array(drawn["decoded"]), decoded)
    assert drawn["codes"] == opened.model.prior.codes_of(z).tolist()


def test_table_and_signal_runs_describe_their_own_views(tmp_path_factory):
    table = trained(tmp_path_factory, "table")
    with served(table) as (explorer, client):
        meta = client.ok("GET", "/api/meta")
        units = load_units(table)
        assert meta["kind"] == "table" and meta["columns"] == ["height_cm", "weight_kg", "age_years"]
        assert np.allclose(meta["shift"], units.shift.numpy()) and np.allclose(meta["scale"], units.scale.numpy())
    signals = trained(tmp_path_factory, "signal")
    with served(signals) as (explorer, client):
        meta = client.ok("GET", "/api/meta")
        assert meta["kind"] == "signal" and meta["columns"] is None and meta["shape"] == [32]
        assert meta["labels"] is False and meta["map_methods"] == ["auto", "pca", "tsne"]


def test_the_command_prints_its_url_warns_off_loopback_and_a_port_in_use_exits_2(vae_run, capsys):
    command = [sys.executable, "-m", "vaekit.cli", "explore", str(vae_run), "--host", "0.0.0.0", "--port", "0",
               "--device", "cpu"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        warning = process.stderr.readline()
        assert "warning: listening on 0.0.0.0: anyone who can reach port" in warning
        lines = [process.stdout.readline(), process.stdout.readline()]
        url = re.search(r"open http://127\.0\.0\.1:(\d+)/", lines[1])
        assert url, lines
        port = int(url.group(1))
        assert Client(f"http://127.0.0.1:{port}/").ok("GET", "/api/meta")["examples"] == 359
        assert main(["explore", str(vae_run), "--port", str(port), "--device", "cpu"]) == 2  # taken by the first
        error = capsys.readouterr().err
        assert f"port {port} on 127.0.0.1 is in use" in error and "--port 0" in error
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert main(["explore", str(vae_run), "--port", "70000"]) == 2
