"""Weight: what a visitor downloads, and the memory of a server doing nothing.

The loader is ``/widget.js``, what a host page embeds. The chat frame is what the browser
fetches when the visitor opens the chat: the ``/chat`` page, the stylesheets it links, the module
script it names and every module that one imports (``import … from``, followed to the end), and
the translation catalog of the desk's default language, which the frame loads before it draws
(a second catalog only when the host page's language differs, not counted). The first API
answers (``/api/v1/visitor/config`` and the availability) are data, listed apart.

Each file is counted as sent raw (madoguchi does not compress) and gzipped (level 9, what
``gzip -9`` gives): what it would weigh behind a proxy that compresses.
"""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

# A static import or re-export at the start of a line: `import x from './a.js'`,
# `import { a,\n b } from '../b.js'`, `import './c.js'`, `export * from './d.js'`.
_STATIC_IMPORT = re.compile(
    r"""^(?:import|export)\s+(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]""", re.MULTILINE
)
_DYNAMIC_IMPORT = re.compile(r"""(?<![\w.])import\(\s*['"]""")
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?['"]?([^'")\s;]+)""")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.styles: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link" and found.get("rel") == "stylesheet" and found.get("href"):
            self.styles.append(str(found["href"]))
        elif tag == "script" and found.get("src"):
            self.scripts.append(str(found["src"]))


def _sizes(path: str, body: bytes) -> dict[str, Any]:
    return {"path": path, "bytes": len(body), "gzip": len(gzip.compress(body, 9, mtime=0))}


def _same_origin(base: str, url: str) -> bool:
    return urlsplit(url).netloc in ("", urlsplit(base).netloc)


def measure(base: str) -> dict[str, Any]:
    """Fetch the loader and the chat frame from a running node and weigh every file."""
    with httpx.Client(base_url=base, timeout=10, trust_env=False) as http:

        def get(path: str) -> bytes:
            response = http.get(path, headers={"Accept-Encoding": "identity"})
            response.raise_for_status()
            return response.content

        compressed = http.get("/widget.js", headers={"Accept-Encoding": "gzip"})
        loader = _sizes("/widget.js", get("/widget.js"))
        page_html = get("/chat")
        page = _Page()
        page.feed(page_html.decode("utf-8"))
        files = [_sizes("/chat", page_html)]
        dynamic: list[str] = []
        seen: set[str] = set()
        pending = [*page.styles, *page.scripts]
        while pending:
            path = urlsplit(urljoin(f"{base}/chat", pending.pop(0))).path
            if path in seen:
                continue
            seen.add(path)
            body = get(path)
            files.append(_sizes(path, body))
            text = body.decode("utf-8")
            if path.endswith(".js"):
                pending += [urljoin(path, spec) for spec in _STATIC_IMPORT.findall(text)]
                code = "\n".join(
                    line for line in text.splitlines() if not line.lstrip().startswith(("*", "//"))
                )
                if _DYNAMIC_IMPORT.search(code):
                    dynamic.append(path)
            elif path.endswith(".css"):
                pending += [
                    urljoin(path, spec)
                    for spec in _CSS_IMPORT.findall(text)
                    if _same_origin(base, spec)
                ]
        config = http.get("/api/v1/visitor/config").json()
        language = config["default_language"]
        files.append(_sizes(f"/locales/{language}.json", get(f"/locales/{language}.json")))
        api = [
            _sizes("/api/v1/visitor/config", get("/api/v1/visitor/config")),
            _sizes(
                f"/api/v1/visitor/availability?language={language}",
                get(f"/api/v1/visitor/availability?language={language}"),
            ),
        ]
    return {
        "loader": loader,
        "chat_frame": {
            "files": files,
            "count": len(files),
            "bytes": sum(f["bytes"] for f in files),
            "gzip": sum(f["gzip"] for f in files),
            "dynamic_imports_in": dynamic,
        },
        "api": api,
        "served_compressed": compressed.headers.get("content-encoding") == "gzip",
    }
