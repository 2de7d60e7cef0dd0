"""Open every page of the built book in headless Chromium and fail on anything a reader would see broken.

Usage: python tests/browser_check.py [--html book/_build/html] [--screenshots book/_build/screenshots]

The HTML folder is served from 127.0.0.1 on a free port, and each page is loaded by Debian's
`chromium` through Playwright (never `playwright install`: its browser download needs the
network). A page fails when

- a request leaves 127.0.0.1 (the book must work offline: MathJax, fonts and scripts are local),
  or a local request fails or answers with an HTTP error;
- an image does not load (``naturalWidth == 0``);
- a glued NumPy scalar shows as ``np.float64(...)`` in the prose;
- math does not typeset: a Sphinx ``.math`` element without a MathJax container, a MathJax
  error node (``merror``, or an undefined macro shown in red), or raw ``\\(``, ``\\[``, ``$$``
  or ``$...\\...$`` left in the text;
- an internal link points to a missing file or to an anchor that its target page lacks;
- the page shows a Python traceback or an error output of a cell;
- the page raises a JavaScript error;
- what a reader sees is badly laid out (LAYOUT_PROBE): the page scrolls sideways at a 1280 px
  window or on a 390 px phone (only a box that scrolls inside itself may be wider than the
  screen), a figure renders narrower than MIN_FIGURE_SHARE of the text column, a second header
  bar or a second search button shows, or visible code (unfolded cells and listings) takes more
  than MAX_CODE_SHARE of the article's height;
- a chapter (a page with code cells) does not open with its findings box (an admonition of class
  ``findings`` before its first section and its first cell), or lacks the download of its
  notebook as ``.ipynb`` and of its source as ``.md``.

Per page, three screenshots are saved under the screenshots folder: the full page at 1280 px
(``<page>.png``), and the first screen at 1280 x 900 (``<page>.screen.png``) and on a 390 x 844
phone (``<page>.phone.png``). Exit status 0 when every
page passes, 1 otherwise, 2 when the HTML or the browser is missing.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Folders of the HTML output that hold assets and templates, not pages.
SKIP_DIRS = {"_static", "_images", "_sources", "_sphinx_design_static"}
TRACEBACK_MARKERS = ("Traceback (most recent call last)",)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
MIN_FIGURE_SHARE = 0.6  # of the text column's width, for every figure of a cell's output
MIN_FIGURE_PX = 300  # narrower images (icons, logos, badges) are not figures
# Folded cells show one summary line; what stays visible is the teaching code (API demos and
# `literalinclude` listings of the formulas), which must leave most of the page to the prose.
MAX_CODE_SHARE = 0.3

# Runs in the page once MathJax (if any) has finished its first typesetting pass.
PAGE_PROBE = r"""
async () => {
  const out = {math: [], images: [], links: [], tracebacks: [], stderr: 0, raw_tex: [], numpy_repr: []};
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  // Images: load lazy ones too, then read their intrinsic width.
  const imgs = Array.from(document.images);
  for (const img of imgs) { img.loading = "eager"; }
  await Promise.all(imgs.map(img => img.decode().catch(() => null)));
  for (const img of imgs) {
    if (!img.complete || img.naturalWidth === 0) {
      out.images.push(img.getAttribute("src"));
    }
  }
  // Math: every Sphinx math node must hold a MathJax container, and no formula may be an error.
  document.querySelectorAll(".math").forEach(el => {
    if (!el.querySelector("mjx-container")) {
      out.math.push("not typeset: " + el.textContent.trim().slice(0, 80));
    }
  });
  document.querySelectorAll("mjx-merror").forEach(el => {
    out.math.push("MathJax error: " + (el.getAttribute("data-mjx-error") || el.textContent).slice(0, 80));
  });
  if (window.MathJax && MathJax.startup && MathJax.startup.document && MathJax.startup.toMML) {
    for (const item of MathJax.startup.document.math) {
      const mml = MathJax.startup.toMML(item.root);
      if (mml.includes("<merror") || /mathcolor="red"[^>]*>\\/.test(mml)) {
        out.math.push("TeX error in: " + String(item.math).slice(0, 80));
      }
    }
  }
  // Raw TeX left in the visible text (outside code, scripts and typeset math).
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      for (let p = node.parentElement; p; p = p.parentElement) {
        const tag = p.tagName.toLowerCase();
        if (["pre", "code", "script", "style", "textarea", "mjx-container", "kbd", "samp"].includes(tag)) {
          return NodeFilter.FILTER_REJECT;
        }
        if (p.classList.contains("highlight")) { return NodeFilter.FILTER_REJECT; }
      }
      return NodeFilter.FILTER_ACCEPT;
    }
  });
  const rawTex = /\\\(|\\\[|\$\$|\$[^$\n]*[\\^_{][^$\n]*\$/;
  // A NumPy scalar repr pasted by {glue:text} means a glued np.float64 that could not be formatted.
  const numpyRepr = /\bnp\.(float|int|uint|bool)\w*\(/;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (rawTex.test(node.textContent)) { out.raw_tex.push(node.textContent.trim().slice(0, 100)); }
    if (numpyRepr.test(node.textContent)) { out.numpy_repr.push(node.textContent.trim().slice(0, 100)); }
  }
  // Links, as written and as resolved by the browser.
  document.querySelectorAll("a[href]").forEach(a => {
    out.links.push([a.getAttribute("href"), a.href]);
  });
  // Tracebacks and error outputs of executed cells.
  document.querySelectorAll(".output.traceback, .output.error, .cell_output .traceback").forEach(el => {
    out.tracebacks.push(el.textContent.trim().slice(0, 200));
  });
  out.stderr = document.querySelectorAll(".output.stderr").length;
  out.text = document.body.innerText;
  return out;
}
"""


# Runs in the page at the current viewport: what a reader sees of its layout.
LAYOUT_PROBE = r"""
(args) => {
  const [minFigurePx] = args;
  const visible = el => {
    if (el.closest("details:not([open])")) { return false; }
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && style.visibility !== "hidden" && style.display !== "none";
  };
  const out = {};
  const root = document.documentElement;
  out.viewport = root.clientWidth;
  out.scroll_width = Math.max(root.scrollWidth, document.body.scrollWidth);
  // The elements that stick out of the window, outside any box that scrolls by itself.
  out.wide = [];
  if (out.scroll_width > out.viewport + 1) {
    for (const el of document.querySelectorAll(".bd-article *, .bd-header-article *")) {
      const r = el.getBoundingClientRect();
      if (r.right <= out.viewport + 1 || !visible(el)) { continue; }
      let boxed = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const ox = getComputedStyle(p).overflowX;
        if ((ox === "auto" || ox === "scroll" || ox === "hidden") && p.getBoundingClientRect().right <= out.viewport + 1) {
          boxed = true; break;
        }
      }
      if (!boxed) {
        out.wide.push(el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ? "." + el.className.split(" ")[0] : "") + " " + Math.round(r.right) + " px");
      }
      if (out.wide.length >= 5) { break; }
    }
  }
  const article = document.querySelector("article.bd-article") || document.querySelector("main");
  const column = article ? article.clientWidth - parseFloat(getComputedStyle(article).paddingLeft) - parseFloat(getComputedStyle(article).paddingRight) : root.clientWidth;
  out.column = column;
  out.figures = [];
  document.querySelectorAll(".cell_output img, figure img").forEach(img => {
    if (img.naturalWidth < minFigurePx || !visible(img)) { return; }
    out.figures.push([img.getAttribute("src"), img.getBoundingClientRect().width / column]);
  });
  out.headers = Array.from(document.querySelectorAll("header.bd-header, .bd-header.navbar")).filter(visible).length;
  out.search_buttons = Array.from(document.querySelectorAll(".search-button-field, button.search-button")).filter(visible).length;
  let code = 0;
  if (article) {
    article.querySelectorAll("div.highlight").forEach(el => {
      if (visible(el) && !el.parentElement.closest("div.highlight")) { code += el.getBoundingClientRect().height; }
    });
  }
  out.code_share = article ? code / article.getBoundingClientRect().height : 0;
  out.cells = document.querySelectorAll("div.cell").length;
  const findings = document.querySelector("div.admonition.findings");
  out.findings = Boolean(findings && visible(findings));
  if (findings) {
    const top = findings.getBoundingClientRect().top;
    const firstCell = document.querySelector("div.cell");
    const firstSection = document.querySelector("article section section, article h2");
    out.findings_first = (!firstCell || firstCell.getBoundingClientRect().top > top) &&
                         (!firstSection || firstSection.getBoundingClientRect().top > top);
    out.findings_verdicts = findings.querySelectorAll(".verdict").length;
  }
  out.downloads = Array.from(document.querySelectorAll(".dropdown-download-buttons a[href], a.btn[href*='_sources/']"))
    .map(a => a.getAttribute("href"));
  return out;
}
"""


def layout_problems(layout: dict, where: str) -> list[str]:
    """What the layout probe saw that a reader should not."""
    problems = []
    if layout["scroll_width"] > layout["viewport"] + 1:
        problems.append(f"scrolls sideways at {where}: {layout['scroll_width']} px of content in a "
                        f"{layout['viewport']} px window ({', '.join(layout['wide']) or 'no single element found'})")
    return problems


def reader_problems(layout: dict) -> list[str]:
    """Problems of the desktop view of a page beyond sideways scrolling."""
    problems = []
    for src, share in layout["figures"]:
        if share < MIN_FIGURE_SHARE:
            problems.append(f"figure {src} renders at {share:.0%} of the text column (< {MIN_FIGURE_SHARE:.0%})")
    if layout["headers"] > 0 or layout["search_buttons"] > 1:
        problems.append(f"duplicated header: {layout['headers']} header bar(s), {layout['search_buttons']} search buttons")
    if layout["code_share"] > MAX_CODE_SHARE:
        problems.append(f"visible code takes {layout['code_share']:.0%} of the page (> {MAX_CODE_SHARE:.0%}): fold the plumbing")
    if layout["cells"]:
        if not layout["findings"]:
            problems.append("a chapter without a findings box (admonition of class `findings`)")
        elif not layout["findings_first"]:
            problems.append("the findings box is not the first thing after the introduction")
        suffixes = {Path(urlsplit(h).path).suffix for h in layout["downloads"]}
        missing = {".ipynb", ".md"} - suffixes
        if missing:
            problems.append(f"no download of the chapter as {', '.join(sorted(missing))}")
    return problems


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test log readable
        pass


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve `root` on 127.0.0.1 at a free port; return the server and its base URL."""
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host}:{port}/"


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and (name == "id" or (tag == "a" and name == "name")):
                self.ids.add(value)


@functools.lru_cache(maxsize=None)
def anchors_of(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def local_target(root: Path, base: str, resolved: str) -> tuple[Path, str] | None:
    """The file and fragment a resolved URL points to, or None when it is not a page of the book."""
    if not resolved.startswith(base):
        return None
    url, fragment = urldefrag(resolved)
    rel = unquote(urlsplit(url).path)[len(urlsplit(base).path):]
    target = root / rel
    if rel == "" or rel.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target, unquote(fragment)


def check_links(root: Path, base: str, links: list[list[str]]) -> list[str]:
    problems = []
    for written, resolved in links:
        if written.startswith(("mailto:", "javascript:", "tel:")):
            continue
        hit = local_target(root, base, resolved)
        if hit is None:
            continue  # external link: not followed, there is no network here
        target, fragment = hit
        if not target.is_file():
            problems.append(f"broken link {written!r}: no file {target.relative_to(root)}")
        elif fragment and target.suffix == ".html" and fragment not in anchors_of(target):
            problems.append(f"broken anchor {written!r}: no id {fragment!r} in {target.relative_to(root)}")
    return problems


def pages_of(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*.html") if not SKIP_DIRS.intersection(p.relative_to(root).parts)
    )


def check_page(page, base: str, rel: str, root: Path, shot: Path, timeout_ms: int) -> tuple[list[str], int]:
    """Load one page, probe it and take its screenshot; return its problems and stderr count."""
    netloc = urlsplit(base).netloc
    problems: list[str] = []

    def route(route, request):
        # Anything that is not our server would need the network: refuse it and report.
        if urlsplit(request.url).netloc == netloc or request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            problems.append(f"needs the network: {request.url}")
            route.abort()

    def failed(request):
        if urlsplit(request.url).netloc == netloc:
            problems.append(f"request failed: {request.url} ({request.failure})")

    def response(resp):
        if resp.status >= 400:
            problems.append(f"HTTP {resp.status}: {resp.url}")

    page.route("**/*", route)
    page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
    page.on("requestfailed", failed)
    page.on("response", response)
    page.goto(base + rel, wait_until="load", timeout=timeout_ms)
    page.wait_for_load_state("networkidle", timeout=timeout_ms)
    probe = page.evaluate(PAGE_PROBE)
    problems += [f"image did not load: {src}" for src in probe["images"]]
    problems += [f"math: {m}" for m in probe["math"]]
    problems += [f"raw TeX in text: {t!r}" for t in probe["raw_tex"]]
    problems += [f"NumPy repr in text (glue float(x), not a NumPy scalar): {t!r}" for t in probe["numpy_repr"]]
    problems += [f"error output: {t!r}" for t in probe["tracebacks"]]
    if any(marker in probe["text"] for marker in TRACEBACK_MARKERS) and not probe["tracebacks"]:
        problems.append("page text shows a Python traceback")
    problems += check_links(root, base, probe["links"])
    page.screenshot(path=str(shot), full_page=True)
    page.evaluate("() => window.scrollTo(0, 0)")
    desktop = page.evaluate(LAYOUT_PROBE, [MIN_FIGURE_PX])
    problems += layout_problems(desktop, f"{DESKTOP['width']} px") + reader_problems(desktop)
    page.screenshot(path=str(shot.with_suffix(".screen.png")))
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    page.evaluate("() => window.scrollTo(0, 0)")
    phone = page.evaluate(LAYOUT_PROBE, [MIN_FIGURE_PX])
    problems += layout_problems(phone, f"{PHONE['width']} px (phone)")
    page.screenshot(path=str(shot.with_suffix(".phone.png")))
    page.set_viewport_size(DESKTOP)
    summary = (f"code {desktop['code_share']:.0%}, figures >= "
               f"{min((s for _, s in desktop['figures']), default=1):.0%} of the column")
    return problems, probe["stderr"], summary


def check_book(root: Path, shots: Path, timeout_ms: int = 60_000) -> int:
    from playwright.sync_api import sync_playwright

    pages = pages_of(root)
    if not pages:
        print(f"browser check: no HTML pages under {root}", file=sys.stderr)
        return 2
    shots.mkdir(parents=True, exist_ok=True)
    server, base = serve(root)
    failures: dict[str, list[str]] = {}
    start = time.perf_counter()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            context = browser.new_context(viewport=DESKTOP)
            for path in pages:
                rel = path.relative_to(root).as_posix()
                shot = shots / (rel.replace("/", "__")[: -len(".html")] + ".png")
                page = context.new_page()
                try:
                    problems, stderr, summary = check_page(page, base, rel, root, shot, timeout_ms)
                except Exception as exc:  # a hung or crashed page is a failure of that page
                    problems, stderr, summary = [f"could not check the page: {exc}".splitlines()[0]], 0, ""
                finally:
                    page.close()
                status = "FAIL" if problems else "ok"
                note = f"  ({stderr} stderr output(s))" if stderr else ""
                print(f"{status:4} {rel}  [{summary}]{note}", flush=True)
                if problems:
                    failures[rel] = problems
            browser.close()
    finally:
        server.shutdown()
    elapsed = time.perf_counter() - start
    for rel, problems in failures.items():
        print(f"\n{rel}:")
        for problem in dict.fromkeys(problems):
            print(f"  - {problem}")
    print(f"\n{len(pages)} pages checked in {elapsed:.1f} s; screenshots in {shots}")
    print(f"browser: {len(pages) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=here / "book" / "_build" / "html")
    parser.add_argument("--screenshots", type=Path, default=here / "book" / "_build" / "screenshots")
    args = parser.parse_args(argv)
    if not (args.html / "index.html").is_file():
        print(f"browser check: {args.html}/index.html is missing; run `make book` first", file=sys.stderr)
        return 2
    if not Path(CHROMIUM).is_file():
        print(f"browser check: {CHROMIUM} is missing; `apt-get install chromium`", file=sys.stderr)
        return 2
    return check_book(args.html.resolve(), args.screenshots.resolve())


if __name__ == "__main__":
    sys.exit(main())
