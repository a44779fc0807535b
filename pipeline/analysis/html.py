"""A report's Markdown as one self-contained HTML page: every figure embedded (base64 PNG), the
style inline, nothing fetched from the network, so the file can be mailed and opened anywhere.
Markdown is rendered by markdown-it-py (CommonMark with tables); raw HTML in the Markdown is
not passed through."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from markdown_it import MarkdownIt

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f;
       max-width: 62rem; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.8rem; border-bottom: 2px solid #d0d4da; padding-bottom: .3rem; }
h2 { font-size: 1.35rem; margin-top: 2.2rem; border-bottom: 1px solid #e3e6ea; }
h3 { font-size: 1.1rem; margin-top: 1.6rem; }
code { background: #f2f4f7; padding: .1rem .3rem; border-radius: 3px; font-size: .9em; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .86rem; display: block;
        overflow-x: auto; }
th, td { border: 1px solid #d9dde3; padding: .25rem .55rem; text-align: left; }
th { background: #f5f7fa; }
img { max-width: 100%; height: auto; display: block; margin: .8rem 0; }
nav { background: #f7f8fa; border: 1px solid #e3e6ea; padding: .6rem 1rem; margin: 1rem 0; }
nav a { margin-right: 1rem; }
"""
_IMAGE = re.compile(r'<img src="([^"]+)"')
_HEADING = re.compile(r"<h2>(.*?)</h2>")


def render(markdown: str, folder: Path, title: str) -> str:
    """The page for ``markdown`` whose images are files in ``folder``; a section index after
    the title. An image that is missing is an error (the page would show a broken image)."""
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    body = _IMAGE.sub(lambda m: f'<img src="{_data_uri(folder / m[1])}"', body)
    body = _with_index(body)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )


def _data_uri(path: Path) -> str:
    if path.suffix.lower() != ".png" or not path.is_file():
        raise FileNotFoundError(f"{path}: a report figure is missing (or not a PNG)")
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _with_index(body: str) -> str:
    """Anchors on the second-level headings and links to them after the first heading."""
    links = []

    def anchor(match: re.Match[str]) -> str:
        slug = f"s{len(links) + 1}"
        links.append(f'<a href="#{slug}">{match[1]}</a>')
        return f'<h2 id="{slug}">{match[1]}</h2>'

    body = _HEADING.sub(anchor, body)
    if not links:
        return body
    head, sep, rest = body.partition("</h1>\n")
    return f"{head}{sep}<nav>{' '.join(links)}</nav>\n{rest}" if sep else body
