"""The report page (figures/report.py): pictures travel inside the page, text is escaped, sections
without their data are left out and the page says which."""

import base64
from pathlib import Path

from vaekit.figures.report import ReportContext, Section, embed_png, render, table, write_html


def test_an_embedded_png_decodes_to_the_same_bytes(tmp_path):
    data = b"\x89PNG\r\n\x1a\n not really a picture"
    (tmp_path / "a.png").write_bytes(data)
    for source in (data, tmp_path / "a.png"):
        tag = embed_png(source)
        assert base64.b64decode(tag.split("base64,")[1].split('"')[0]) == data


def test_tables_and_titles_are_escaped():
    assert table([("<b>", "a & b")]) == "<table><tr><th>&lt;b&gt;</th><td>a &amp; b</td></tr></table>"
    page = render("run <x>", [Section("s & t", "<p>body</p>")], ["probe: no <labels>"])
    assert "<title>run &lt;x&gt;</title>" in page and "<h2 id='s0'>s &amp; t</h2><p>body</p>" in page
    assert "Left out: probe: no &lt;labels&gt;" in page


def test_write_html_keeps_the_sections_that_have_their_data_in_order(tmp_path):
    context = ReportContext(Path(tmp_path), None, {}, [], left_out=["samples: an autoencoder has no prior"])
    makers = [lambda c: Section("first", "1"), lambda c: None, lambda c: Section("third", "3")]
    page = write_html(tmp_path / "report.html", "run", context, makers).read_text()
    assert page.index("first") < page.index("third") and "<h2 id='s1'>third</h2>" in page
    assert "Left out: samples: an autoencoder has no prior" in page
