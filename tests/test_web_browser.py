"""The coordinators' web view in a real headless browser (Debian's chromium and chromium-driver,
driven with Selenium) against the real server on 127.0.0.1.

The browser is required, not optional: `make test` installs it first (scripts/ensure-browser),
and without it these tests fail, saying what to install. One browser serves the whole module.
"""

from __future__ import annotations

import asyncio
import io
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.web_world import FARHANAS_ONLY, INGRIDS, WebWorld, open_web_world

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
SCREENSHOT = Path("/tmp/overview.png")
# The chart's bars (bot.reports.response_chart).
BAR = (0x2F, 0x6F, 0x8F)


def _found(names: tuple[str, ...]) -> str | None:
    return next((path for name in names if (path := shutil.which(name))), None)


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    binary, chromedriver = _found(CHROMIUM), _found(("chromedriver",))
    if binary is None or chromedriver is None:
        pytest.fail(
            "a headless browser is needed: install Debian's chromium and chromium-driver "
            "(scripts/ensure-browser does it as root; `make test` runs it)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1200,1600")
    options.add_argument("--lang=en")
    browser = webdriver.Chrome(options=options, service=Service(chromedriver))
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[WebWorld]:
    world = await open_web_world(database_url, tmp_path)
    yield world
    await world.close()


async def in_browser(function: Any, *args: Any) -> Any:
    """A Selenium call, off the event loop: the server under test answers on that loop."""
    return await asyncio.to_thread(function, *args)


async def open_link(driver: Any, world: WebWorld, coordinator: str, path: str = "/web/?lang=en") -> None:
    """The link as a coordinator opens it (it moves on to the overview), then the page wanted."""
    await in_browser(driver.get, await world.link(coordinator))
    await wait_for(driver, lambda d: d.current_url.endswith("/web/"))
    await in_browser(driver.get, world.base + path)


async def wait_for(driver: Any, condition: Any, seconds: float = 20) -> None:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    # A page being replaced (a form posted, then the page it leads to) answers a read of the
    # old one with an error: the condition is asked again, as for an element not there yet.
    await in_browser(
        lambda: WebDriverWait(driver, seconds, ignored_exceptions=(WebDriverException,)).until(condition)
    )


def text_of(driver: Any) -> str:
    return str(driver.find_element("tag name", "body").text)


async def test_ingrids_overview_lists_her_participants_and_has_the_chart(
    driver: Any, world: WebWorld
) -> None:
    await open_link(driver, world, "ingrid")
    await wait_for(driver, lambda d: "Programme overview for Ingrid Solberg" in text_of(d))
    text = await in_browser(text_of, driver)
    for name in INGRIDS:
        assert name in text
    assert FARHANAS_ONLY not in text
    assert "Day 87 of 173" in text  # Rina: 4 January to 25 June, on 31 March
    chart = await in_browser(driver.find_element, "css selector", "#response-chart svg")
    size = chart.size
    assert size["width"] > 300 and size["height"] > 100

    await in_browser(driver.execute_script, "arguments[0].scrollIntoView({block: 'center'})", chart)
    png = await in_browser(driver.get_screenshot_as_png)
    SCREENSHOT.write_bytes(png)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert len(set(image.get_flattened_data())) > 50, "the screenshot is blank"
    # The chart's bars are drawn: its colour fills a good part of the chart's area on screen.
    box = await in_browser(
        driver.execute_script,
        "const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]",
        chart,
    )
    scale = image.width / await in_browser(driver.execute_script, "return window.innerWidth")
    area = image.crop(tuple(int(v * scale) for v in box))
    bars = sum(1 for pixel in area.get_flattened_data() if all(abs(a - b) < 12 for a, b in zip(pixel, BAR, strict=True)))
    assert bars > 500, f"only {bars} pixels of the bars' colour in the chart"

    # Readable on a phone: nothing wider than the screen.
    await in_browser(driver.set_window_size, 390, 844)
    try:
        await in_browser(driver.get, world.base + "/web/?lang=en")
        overflow = await in_browser(
            driver.execute_script,
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
        )
        assert overflow <= 0
        (SCREENSHOT.parent / "overview-phone.png").write_bytes(await in_browser(driver.get_screenshot_as_png))
    finally:
        await in_browser(driver.set_window_size, 1200, 1600)


async def test_a_support_request_shows_and_is_gone_after_mark_handled(driver: Any, world: WebWorld) -> None:
    words = "The landlord wants me out by Friday."
    await world.ask_support("bishal", words)
    await open_link(driver, world, "ingrid", "/web/attention?lang=en")
    await wait_for(driver, lambda d: words in text_of(d))
    count = int(await in_browser(lambda: driver.find_element("id", "attention-count").text))
    requests = await in_browser(driver.find_elements, "css selector", "li.request")
    [mine] = [r for r in requests if words in r.text]
    await in_browser(lambda: mine.find_element("tag name", "button").click())
    await wait_for(driver, lambda d: words not in text_of(d))
    assert "My visa needs renewing." in await in_browser(text_of, driver)  # Rina's is still open
    assert int(await in_browser(lambda: driver.find_element("id", "attention-count").text)) == count - 1
    # And in Norwegian, Ingrid's own language, the list says so too.
    await in_browser(driver.get, world.base + "/web/attention?lang=nb")
    assert "Åpne forespørsler om støtte" in await in_browser(text_of, driver)
