"""A headless Chromium driven by selenium for the explorer's page tests and its benchmark: console errors and the
network log are read back, so a test can assert that the page fetched nothing from elsewhere."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1000"]


class BrowserMissing(Exception):
    """selenium, chromium or its driver is not installed; the message says which."""


def chrome():
    """A new headless Chromium (selenium WebDriver); ``BrowserMissing`` saying what is not installed."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise BrowserMissing("selenium is not installed (pip install selenium, or scripts/setup.sh --test)") from None
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        raise BrowserMissing(f"no {' or '.join(missing)}: install Debian's chromium and chromium-driver "
                             "(scripts/setup.sh --test does as root)")
    profile = tempfile.mkdtemp(prefix="vaekit-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.profile_dir = profile
    return driver


def close(driver) -> None:
    driver.quit()
    shutil.rmtree(driver.profile_dir, ignore_errors=True)


def console_errors(driver) -> list[str]:
    """The console's errors (level SEVERE) since the last call."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def requested_urls(driver) -> list[str]:
    """Every URL the page asked for since the last call (the DevTools network log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def network_requests(urls: list[str]) -> list[str]:
    """The URLs that go to a host over the network (http, https, ws, wss), leaving out the browser's own
    chrome:// resources and data: or blob: URLs, which reach no host."""
    from urllib.parse import urlparse

    return [url for url in urls if urlparse(url).scheme in ("http", "https", "ws", "wss")]


def wait_for(driver, script: str, timeout: float = 20):
    """Wait until the JavaScript expression ``script`` is truthy; returns its value."""
    from selenium.webdriver.support.ui import WebDriverWait

    waiting = WebDriverWait(driver, timeout, poll_frequency=0.05)
    status = "document.getElementById('status').textContent"
    return waiting.until(lambda d: d.execute_script(f"return {script}"),
                         f"waited {timeout} s for: {script}; the page says: {driver.execute_script('return ' + status)!r}")
