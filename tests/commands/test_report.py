"""The run report: written when training ends, every section present, images embedded, no outside files."""

import base64
import json
import re
from html.parser import HTMLParser

import pytest

import vaekit
from vaekit.cli import main

SECTIONS = ["Summary", "Configuration", "Training curves", "Evaluation", "Reconstructions", "Samples",
            "Interpolations", "Traversals", "Latent map", "Decoded manifold", "KL per latent dimension", "Linear probe",
            "Explore"]
PNG = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """Headings, image sources and links of a page, and whether every opened tag was closed."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self, text: str):
        super().__init__()
        self.headings, self.images, self.links, self.open, self.in_heading = [], [], [], [], False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "a":
            self.links.append(attrs.get("href", ""))
        self.in_heading = tag == "h2"
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing"
        self.in_heading = False

    def handle_data(self, data):
        if self.in_heading:
            self.headings.append(data)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 2-D latent VAE on digits whose training ends by writing the report."""
    config = vaekit.Config().replace(model={"hidden": [32], "latent_dim": 2}, train={"epochs": 3, "batch_size": 64})
    return vaekit.train(config, out=tmp_path_factory.mktemp("runs") / "vae2")


def test_training_ends_with_a_report_holding_every_section_with_embedded_pictures(trained):
    page = Page((trained.dir / "report.html").read_text())
    assert page.open == []
    assert page.headings == SECTIONS
    assert len(page.images) == 8  # curves, reconstructions, samples, interpolation, traversal, map, manifold, KL
    for source in page.images:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1])[:8] == PNG
    assert all(link.startswith("#") for link in page.links)  # nothing outside the file: it can be mailed
    results = json.loads((trained.dir / "eval.json").read_text())
    text = (trained.dir / "report.html").read_text()
    assert f"{results['elbo_nats']:.4f}" in text and f"{results['probe_accuracy']:.3f}" in text
    assert f"vaekit explore {trained.dir}" in text  # the command that explores this run


def test_the_report_reuses_a_newer_eval_json_and_redoes_a_stale_one(trained, capsys):
    path = trained.dir / "eval.json"
    results = json.loads(path.read_text())
    results["elbo_nats"] = -1234.5678  # a marker only a reused file can carry
    path.write_text(json.dumps(results))
    assert main(["report", str(trained.dir), "--device", "cpu"]) == 0
    assert "-1234.5678" in (trained.dir / "report.html").read_text()
    results["weights_sha256"] = "0" * 64  # an evaluation of other weights (before training went on)
    path.write_text(json.dumps(results))
    assert main(["report", str(trained.dir), "--device", "cpu"]) == 0
    assert "-1234.5678" not in (trained.dir / "report.html").read_text()
    assert f"written: {trained.dir / 'report.html'}" in capsys.readouterr().out


def test_an_autoencoder_report_leaves_out_what_needs_a_prior_and_says_so(tmp_path):
    config = vaekit.Config().replace(model={"name": "ae", "hidden": [32], "latent_dim": 3},
                                     train={"epochs": 2, "batch_size": 64})
    run = vaekit.train(config, out=tmp_path / "ae")
    page = Page((run.dir / "report.html").read_text())
    assert "Samples" not in page.headings and "KL per latent dimension" not in page.headings
    assert {"Traversals", "Latent map", "Linear probe"} <= set(page.headings)
    assert re.search(r"Left out: .*Samples \(samples.png was not made\)", (run.dir / "report.html").read_text())


def test_a_run_trained_on_python_arrays_is_refused_without_suggesting_an_option_report_lacks(tmp_path, capsys):
    import numpy as np
    from helpers import assert_one_line_error

    x = (np.random.default_rng(0).random((60, 16)) < 0.5).astype(np.float32)
    config = vaekit.Config().replace(model={"trunk": {"hidden": [8]}, "latent_dim": 2},
                                     train={"epochs": 1, "batch_size": 32, "report": False, "device": "cpu"})
    run = vaekit.train(config, data=x, out=tmp_path / "run").dir
    capsys.readouterr()
    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err, "trained on arrays passed in Python, which its folder does not hold; give the data again")
    assert "pass --data" not in err
