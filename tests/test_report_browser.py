"""report.html opened in a real browser: the OS's headless Chromium, driven by Playwright and
started by the test, with the network cut off. The page must load with no console error and no
request leaving the file, and every figure must render (decoded, non-blank pixels).

Skipped, with the reason, only where no Chromium is installed (Debian: ``apt-get install
chromium``); ``.ci/run`` installs it and sets SEGMARK_REQUIRE_BROWSER=1, which turns the skip
into a failure."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from segmark.pipeline.analysis.report import write_report

CHROMIUM = next(
    (p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None
)
# quiet and offline: no background requests to Google's hosts, no first-run work
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def browser_or_skip() -> str:
    reason = None
    if CHROMIUM is None:
        reason = "no Chromium on this machine (Debian: apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed (pip install -e '.[test]')"
    if reason and os.environ.get("SEGMARK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"SEGMARK_REQUIRE_BROWSER=1 but {reason}")
    if reason:
        pytest.skip(reason)
    return str(CHROMIUM)


@pytest.fixture(scope="module")
def report_page(smoke_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    write_report(smoke_dataset, out, n_boot=100)
    return out / "report.html"


def test_report_html_is_self_contained(report_page: Path) -> None:
    page = report_page.read_text(encoding="utf-8")
    markdown = (report_page.parent / "report.md").read_text()
    assert page.count("<img ") == markdown.count("![") >= 2
    assert 'src="data:image/png;base64,' in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    for heading in (line[3:] for line in markdown.splitlines() if line.startswith("## ")):
        assert f">{heading}</h2>" in page  # every section of the Markdown


def test_report_html_renders_in_chromium(report_page: Path, tmp_path: Path) -> None:
    from matplotlib.image import imread
    from playwright.sync_api import sync_playwright

    executable = browser_or_skip()
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report_page.as_uri(), wait_until="load")
        images = page.evaluate(
            "[...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
        )
        title = page.title()
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert not errors, errors
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert title.startswith("segmark report: ") and len(images) >= 2
    assert all(done and width > 100 and height > 100 for done, width, height in images), images
    pixels = imread(shot)
    assert pixels.shape[0] > 900 and float(np.std(pixels[..., :3])) > 0.05  # drawn, not blank
