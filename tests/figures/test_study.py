"""A study's figures and page: the median line over seeds, categories placed in first-seen order, the
page's table and embedded figures."""

import math

import numpy as np
from helpers import assert_png

from vaekit.figures.study import median_line, metric_against_parameter, rate_distortion, write_study_page


def test_the_median_line_joins_each_values_median_over_seeds():
    x = np.array([4.0, 1.0, 4.0, 1.0, 4.0, 16.0])
    y = np.array([3.0, 1.0, 5.0, np.nan, 10.0, np.nan])
    levels, medians = median_line(x, y)
    assert levels == [1.0, 4.0, 16.0]
    assert medians[:2] == [1.0, 5.0] and math.isnan(medians[2])


def test_figures_and_page(tmp_path):
    rows = [{"name": f"{prior},seed={seed}", "model.prior.name": prior, "val_elbo": -30.0 - i, "kl_nats": 1.0 + i,
             "log_px_z_nats": -29.0 + i} for i, (prior, seed) in enumerate([("normal", 0), ("mog", 0), ("normal", 1)])]
    against = metric_against_parameter(rows, "model.prior.name", ["val_elbo", "kl_nats"], tmp_path / "a.png")
    plane = rate_distortion([r["kl_nats"] for r in rows], [-r["log_px_z_nats"] for r in rows],
                            [r["model.prior.name"] for r in rows], tmp_path / "rd.png", "the evaluation")
    assert_png(against)
    assert_png(plane)
    page = write_study_page(tmp_path / "study.html", "a <study>", [("swept", "model.prior.name")], ["name", "kl"],
                            [["normal,seed=0", "1"], ["mog & co", "2"]], [("Plane", "each run", plane)], ["nothing"])
    text = page.read_text()
    assert "<title>a &lt;study&gt;</title>" in text and "<td>mog &amp; co</td>" in text
    assert text.count("data:image/png;base64,") == 1 and "Left out: nothing" in text
