"""The explorer's page in a real browser (headless Chromium driven by selenium): it loads without
console errors, shows every example on the map, paints the server's decode of the sliders' z,
shows thumbnails on hover, draws interpolation strips between two picked points, ends a burst of
slider moves on the last value with one request in flight at most, asks no other host for anything,
and draws table rows and 1-D signals in their own views. Skipped without chromium and its driver."""

import numpy as np
import pytest
import torch
from browser import BrowserMissing, chrome, close, console_errors, network_requests, requested_urls, wait_for
from explorer_helpers import array, served, trained

from vaekit.runs.open import load_units


@pytest.fixture(scope="module")
def driver():
    try:
        browser = chrome()
    except BrowserMissing as missing:
        pytest.skip(str(missing))
    yield browser
    close(browser)


@pytest.fixture(scope="module")
def vae_page(tmp_path_factory, driver):
    """(explorer, client, driver) with the page of the digits VAE loaded and ready."""
    with served(trained(tmp_path_factory, "vae")) as (explorer, client):
        load(driver, client.url)
        yield explorer, client, driver


def load(driver, url: str) -> None:
    requested_urls(driver), console_errors(driver)  # start both logs afresh
    driver.get(url)
    wait_for(driver, "document.body.dataset.ready === 'true' && explorer.idle()")


def levels(values: torch.Tensor) -> np.ndarray:
    """What the page paints for model outputs in [0, 1]: grey levels 0..255."""
    return np.round(np.clip(values.numpy().reshape(-1), 0, 1) * 255)


def painted(driver, css: str) -> np.ndarray:
    """The red channel of the first canvas under ``css``: the grey levels it shows."""
    pixels = driver.execute_script(
        "const c = document.querySelector(arguments[0]);"
        "return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);", css)
    return np.array(pixels[0::4], dtype=float)


def settle(driver) -> list:
    """Wait for the decode queue to empty and the last answer to be painted; the sliders' z."""
    wait_for(driver, "explorer.idle() && explorer.state.painted && explorer.state.painted.z"
                     " && explorer.state.painted.z.join() === explorer.state.z.join()")
    return driver.execute_script("return explorer.state.z")


def decoded(client, z) -> torch.Tensor:
    return array(client.ok("POST", "/api/decode", {"z": z})["x"])[0]


def point(driver, i: int):
    """Move the mouse over example i's point on the map."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    x, y = driver.execute_script("return explorer.pointOf(arguments[0])", i)  # from the canvas' centre
    return ActionChains(driver).move_to_element_with_offset(driver.find_element(By.ID, "map"), round(x), round(y))


def pickable(driver, count: int, start: int = 0) -> list[int]:
    """``count`` examples from ``start`` on whose map points no other point covers (the mouse finds them)."""
    return driver.execute_script(
        "const found = [], S = explorer.state;"
        "for (const i of S.map.index) { if (i < arguments[1]) continue; const [x, y] = S.points[S.map.index.indexOf(i)];"
        "  if (explorer.exampleAt(Math.round(x), Math.round(y)) === i) found.push(i); if (found.length === arguments[0]) break; }"
        "return found", count, start)


def test_the_page_loads_without_errors_and_maps_every_example(vae_page):
    explorer, _, driver = vae_page
    assert console_errors(driver) == []
    shown = driver.execute_script("return [document.getElementById('map').dataset.points, explorer.state.map.index.length]")
    assert shown == [str(len(explorer.data)), len(explorer.data)]
    order = explorer.latent_meta()["order"]
    sliders = driver.execute_script("return Array.from(document.querySelectorAll('#sliders input'), s => +s.dataset.dim)")
    assert sliders == order  # one per dimension, by KL


def test_moving_a_slider_paints_the_servers_decode_of_the_new_z(vae_page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _, client, driver = vae_page
    before_z = settle(driver)
    before = painted(driver, "#main-view canvas")
    top = driver.execute_script("return explorer.state.meta.latent.order[0]")
    driver.find_element(By.ID, f"slider-{top}").send_keys(*[Keys.ARROW_RIGHT] * 40)
    z = settle(driver)
    assert z[top] != before_z[top] and [a for i, a in enumerate(z) if i != top] == [
        a for i, a in enumerate(before_z) if i != top]
    after = painted(driver, "#main-view canvas")
    assert np.abs(after - levels(decoded(client, z))).max() <= 1
    assert np.abs(after - before).max() > 1  # the picture did change
    assert console_errors(driver) == []


def test_hovering_a_point_shows_its_input_and_reconstruction(vae_page):
    explorer, client, driver = vae_page
    [i] = pickable(driver, 1, start=40)
    point(driver, i).perform()
    wait_for(driver, f"document.getElementById('tooltip').dataset.index === '{i}' && !document.getElementById('tooltip').hidden")
    shown = client.ok("GET", f"/api/example?index={i}")
    assert np.abs(painted(driver, "#tip-input canvas") - levels(array(shown["input"]))).max() <= 1
    assert np.abs(painted(driver, "#tip-recon canvas") - levels(array(shown["reconstruction"]))).max() <= 1


def test_two_picked_points_give_strips_that_end_at_their_reconstructions(vae_page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _, client, driver = vae_page
    a, b = pickable(driver, 1, start=10) + pickable(driver, 1, start=200)
    for i, button in [(a, "set-a"), (b, "set-b")]:
        point(driver, i).click().perform()
        wait_for(driver, f"explorer.state.selected === {i}")
        driver.find_element(By.ID, button).click()
    driver.find_element(By.ID, "show-paths").click()
    wait_for(driver, "document.querySelectorAll('#strips .frame').length === 20")
    first, last = (array(client.ok("GET", f"/api/example?index={i}")["reconstruction"]) for i in (a, b))
    for method in ("linear", "slerp"):
        frames = f"#strips [data-method={method}] .frame"
        assert np.abs(painted(driver, f"{frames}:first-of-type canvas") - levels(first)).max() <= 1
        assert np.abs(painted(driver, f"{frames}:last-of-type canvas") - levels(last)).max() <= 1
    driver.find_element(By.ID, "scrub").send_keys(Keys.END)  # scrub to t = 1: the current point becomes B's
    wait_for(driver, "explorer.state.painted && document.getElementById('main-caption').textContent.endsWith('t = 1.00')")
    assert np.abs(painted(driver, "#main-view canvas") - levels(last)).max() <= 1
    assert console_errors(driver) == []


def test_fifty_rapid_slider_moves_end_on_the_last_value_with_one_request_in_flight(vae_page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _, client, driver = vae_page
    second = driver.execute_script("return explorer.state.meta.latent.order[1]")
    slider = driver.find_element(By.ID, f"slider-{second}")
    sent_before = driver.execute_script("return explorer.decoder.sent")
    slider.send_keys(*[Keys.ARROW_LEFT] * 50)
    z = settle(driver)
    assert float(slider.get_attribute("value")) == pytest.approx(z[second])
    assert np.abs(painted(driver, "#main-view canvas") - levels(decoded(client, z))).max() <= 1
    in_flight, sent = driver.execute_script("return [explorer.decoder.maxInFlight, explorer.decoder.sent]")
    assert in_flight == 1 and 1 <= sent - sent_before <= 50


def test_sample_and_traverse_paint_the_servers_answers_and_the_page_asked_its_own_server_only(vae_page):
    from selenium.webdriver.common.by import By

    _, client, driver = vae_page
    driver.find_element(By.ID, "sample").click()  # the first draw of the page: seed 0, temperature 1
    wait_for(driver, "document.getElementById('main-caption').textContent.startsWith('a prior sample')")
    drawn = client.ok("POST", "/api/sample", {"n": 1, "temperature": 1, "seed": 0})
    assert np.abs(painted(driver, "#main-view canvas") - levels(array(drawn["decoded"]))).max() <= 1
    assert np.allclose(driver.execute_script("return explorer.state.z"), array(drawn["z"])[0].numpy())
    driver.find_element(By.ID, "show-traverse").click()  # around the sample, the first slider's dimension
    wait_for(driver, "document.querySelectorAll('#traversal .frame').length === 9 && explorer.idle()")
    z, dim = driver.execute_script("return [explorer.state.z, +document.getElementById('trav-dim').value]")
    swept = array(client.ok("POST", "/api/traverse", {"z": z, "dim": dim, "span": 3, "steps": 9})["decoded"])
    assert np.abs(painted(driver, "#traversal .frame:last-of-type canvas") - levels(swept[-1])).max() <= 1
    urls = requested_urls(driver)
    assert any(url.endswith("/api/traverse") for url in urls)
    assert [url for url in network_requests(urls) if not url.startswith(client.url)] == []
    assert console_errors(driver) == []


def test_a_table_run_shows_bars_and_values_in_the_tables_units(tmp_path_factory, driver):
    run = trained(tmp_path_factory, "table")
    with served(run) as (explorer, client):
        load(driver, client.url)
        z = settle(driver)
        assert driver.execute_script("return document.querySelector('#main-view canvas').dataset.kind") == "table"
        cells = driver.execute_script("return Array.from(document.querySelectorAll('#main-values td'), td => td.textContent)")
        units = load_units(run)
        expected = units(decoded(client, z)).tolist()
        assert cells[0::2] == ["height_cm", "weight_kg", "age_years"]
        assert np.allclose([float(v) for v in cells[1::2]], expected, rtol=1e-3)
        assert 150 < float(cells[1]) < 190  # centimetres, not standard deviations
        assert console_errors(driver) == []


def test_a_signal_run_draws_a_line(tmp_path_factory, driver):
    with served(trained(tmp_path_factory, "signal")) as (explorer, client):
        load(driver, client.url)
        settle(driver)
        kind, width = driver.execute_script("const c = document.querySelector('#main-view canvas');"
                                            "return [c.dataset.kind, c.width]")
        assert kind == "signal"
        ink = driver.execute_script(  # columns of the canvas with a drawn pixel: the line spans it
            "const c = document.querySelector('#main-view canvas'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height);"
            "const cols = new Set(); for (let p = 0; p < d.data.length; p += 4) if (d.data[p + 3] > 0) cols.add((p / 4) % c.width);"
            "return cols.size")
        assert ink > 0.9 * width
        assert console_errors(driver) == []


@pytest.mark.parametrize("kind, words", [("hvae", "top-level latent z2"), ("vqvae", "VQ-VAE")])
def test_hierarchical_and_vq_runs_say_what_drives_the_picture(tmp_path_factory, driver, kind, words):
    from selenium.webdriver.common.by import By

    with served(trained(tmp_path_factory, kind)) as (explorer, client):
        load(driver, client.url)
        assert words in driver.find_element(By.ID, "note").text
        if kind == "vqvae":  # set position 3 of the grid to code 5 from the palette
            driver.find_element(By.CSS_SELECTOR, "#code-grid button[data-position='3']").click()
            driver.find_element(By.CSS_SELECTOR, "#palette button[data-code='5']").click()
            wait_for(driver, "explorer.idle() && explorer.state.painted.codes && explorer.state.painted.codes[3] === 5")
            codes = driver.execute_script("return explorer.state.codes")
            expected = array(client.ok("POST", "/api/decode_codes", {"codes": codes})["x"])
            assert np.abs(painted(driver, "#main-view canvas") - levels(expected)).max() <= 1
        assert console_errors(driver) == []
