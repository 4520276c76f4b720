"""Print-ready PDFs of the opinions and notices, from their own HTML (WeasyPrint).

The HTML of a publication carries its GB/T 9704 print layout (templates/_print.css), so
the PDF is that page as printed: one source for screen, print and PDF. WeasyPrint needs
pango and the fonts installed by .ci/run (see README, "Debian packages").

Rendering is CPU-bound pure Python, seconds to tens of seconds for a long notice on a
loaded machine: the portal renders in a child process (`render_isolated`), so the
service's event loop (RPC, the portal, AMQP heartbeats) keeps running meanwhile, and the
CLI renders the PDFs it writes itself (`render_many`), so no RPC waits on them.

Issue 14 ("Scale"): the CLI's renderers are a pool of worker processes kept warm for the
life of the process (`start`): started before the command's RPC, so WeasyPrint's import
(a second) and its font set-up overlap the service's work; reused by every later command
of the same process (the demo runs its commands in one process); fed the longest document
first, so both cores finish together.

At a nation's size (issue 14: 100,000 institutions, a notice of ~60,000 rows) one
WeasyPrint document is neither fast nor small: its layout of the whole is held in memory
(~0.25 MB a row) and it runs on one core. A document of more than `PART_ROWS` rows of
the lists of 四(三) is therefore rendered in parts (`split`): cut between two rows of a
table, each part a document of its own (the head and styles, the sections and table it
continues with its header, then its rows), rendered on the pool in parallel without page
numbers; `join` puts their pages one after the other and prints on each its number, from
one document of empty pages laid out by the same @page rules, so the numbers run on
through the parts and stand where GB/T 9704 puts them. A part begins a page: that is the
difference from the document rendered whole (the same text in the same order, the same
page size, headers and footers; the PDF's outline is the parts' one after another). A
document of fewer rows is rendered once, whole.

Issue 14, the CPU of a row (branch pdf; figures in bench/README.md). A profile of `render`
(cProfile, a notice of 1,000 rows, bench/pdf_rows.py's): the layout 36 % (the cells'
lines 19 %), drawing and writing the PDF 35 %, the computed styles 20 % (of it the
colours, parsed again for every box, 9 %), the formatting structure 12 % (the collapsed
borders), the HTML's parse and the cascade the rest; and, outside the profile, Python's
garbage collector: its full collections walk the document's boxes and styles, about a
million objects a 1,000 rows that stay alive until the PDF is written, again and again,
~30 % of the CPU. So `render` turns the collector off and collects once after (~1 s
of a 1,000-row part): a 1,000-row notice in one process 11.8-15.3 → 8.7-11.1 s of CPU
before that collection, peak memory 580 → 680 MB; bench/pdf_rows.py at 2,000 rows paired
with main, 13.1 → 10.6, 15.8 → 13.6 and (with the font configuration below) 11.6 → 10.9 s
of CPU per 1,000 rows (0.81×, 0.86×, 0.94×). And one font configuration serves every
document of a process. Tried and left, each against the
page as is, alternated in one process: a print-only page (no screen CSS, no
`data-label`), no whitespace between the cells, no ids on the rows (2-3 runs each),
one face for the whole table (one run): none outside the noise (±15 %); WeasyPrint's
cost is per box, whatever its style. Headless Chromium (Debian chromium 156,
`--print-to-pdf`): 7.3 s of CPU for the same 1,000 rows (all its processes; 1.2 s for a
page of one line), 33 s for 5,000, so ~6 s per 1,000 rows against WeasyPrint's ~9-11: at
most 1.7×, not the 3× sought; and its PDF is not the print layout: Skia embeds the CFF
faces of Noto CJK (and any synthetic bold) as Type 3 fonts, again on every page (3.3 MB
against 0.9 MB), and breaks lines and pages elsewhere (the title's last line one
character). Not taken: WeasyPrint stays the engine.
"""
import gc
import io
import math
import multiprocessing
import re
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool


_fonts = None  # this process's WeasyPrint font configuration, kept across documents


def render(html: str) -> bytes:
    """The PDF of one publication's HTML. Nothing is fetched: the pages reference no
    external resource, and a name in a roster must not make the renderer fetch one."""
    global _fonts
    import weasyprint  # imported here: its import alone takes a second
    from weasyprint.text.fonts import FontConfiguration
    if _fonts is None:
        # One for all the documents a process renders (issue 14): the faces it looked
        # up stay known, ~0.15 s less a document (an opinion of 40 rows: 1.2 → 1.05 s).
        # The publications declare no @font-face, so no document adds to it.
        _fonts = FontConfiguration()

    def refuse(url, *args, **kwargs):
        raise ValueError(f"publications fetch nothing: {url}")
    # Issue 14: no cyclic garbage collection during the render, one after it. The
    # document's boxes and styles are a million objects a 1,000 rows, most alive until
    # the PDF is written: the automatic full collections walk them all again and again,
    # a third of the render's CPU, to free a sixth of its memory (see the module's
    # docstring); the collection after it frees the document at once, so a worker
    # holds no more than its document. The youngest generation only: every object the
    # render made is still in it (nothing was collected meanwhile), and the process's
    # older ones (its modules, the fonts) need no walk (0.07 s, not 0.13 s, after an
    # opinion of 40 rows).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return weasyprint.HTML(string=html, url_fetcher=refuse).write_pdf(font_config=_fonts)
    finally:
        if collecting:
            gc.enable()
            gc.collect(0)


def render_isolated(html: str, timeout=600) -> bytes:
    """`render_in_parts` in a child process: the caller's green threads go on meanwhile."""
    try:
        from eventlet.green import subprocess as green
    except ImportError:  # pragma: no cover - the services always have eventlet
        green = subprocess
    result = green.run([sys.executable, "-m", "services.notices.pdf"], input=html.encode(),
                       stdout=green.PIPE, stderr=green.PIPE, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"PDF rendering failed: {result.stderr.decode(errors='replace')[-2000:]}")
    return result.stdout


_pool = None  # the warm renderers of this process (`start`)


def _warm_up():
    """A worker's first task: import WeasyPrint and lay out a line in the documents'
    faces, so its first document pays for neither. A task, not the pool's initializer:
    should it fail (WeasyPrint missing), the documents' own renders say why."""
    render(WARM_UP_HTML)


WARM_UP_HTML = ('<!DOCTYPE html><html><head><style>body { font-family: "cwTeXFangSong", '
                '"Noto Serif CJK SC", serif; } th { font-family: "Noto Sans CJK SC"; } '
                'td { font-family: "Noto Sans Mono CJK SC"; }</style></head><body><p>评估意见'
                '</p><table><tr><th>统一社会信用代码</th><td>12140000MA0000000X</td></tr>'
                '</table></body></html>')
WORKERS = 2  # one per core of the machine it was measured on
_warmed = 0  # the workers started (with a warm-up) so far


def start(warm=WORKERS):
    """The pool of renderers, created once per process, with `warm` of its workers started
    now; call it early, and they warm up while the caller does something else. A command
    that will render one document warms one: a second would only take CPU from the
    services it is waiting for."""
    global _pool, _warmed
    if _pool is None:
        # Fresh interpreters, not forks: the caller may hold broker threads and connections.
        _pool = ProcessPoolExecutor(max_workers=WORKERS,
                                    mp_context=multiprocessing.get_context("spawn"))
        _warmed = 0
    # A worker starts when a task finds none idle: one warm-up each starts them.
    while _warmed < min(warm, WORKERS):
        _pool.submit(_warm_up)
        _warmed += 1
    return _pool


def submit(htmls):
    """Start rendering these publications on the warm pool; `collect` gives their PDFs."""
    htmls = list(htmls)
    jobs = []  # per document: its parts' HTML (one part: the document itself)
    for html in htmls:
        parts = split(html)
        jobs.append([html] if len(parts) == 1 else [_unnumbered(p) for p in parts])
    pool = start(warm=0)  # more workers start as the documents find none idle
    # The longest first: the last to start is a short one, so the workers end together
    # rather than one core finishing a long document alone.
    order = sorted(((d, p) for d, parts in enumerate(jobs) for p in range(len(parts))),
                   key=lambda dp: len(jobs[dp[0]][dp[1]]), reverse=True)
    futures = {(d, p): pool.submit(render, jobs[d][p]) for d, p in order}
    return [(html, [futures[(d, p)] for p in range(len(jobs[d]))])
            for d, html in enumerate(htmls)]


def collect(rendering):
    """The PDFs of `submit`, in the order of its documents."""
    global _pool
    try:
        out = []
        for html, futures in rendering:
            parts = [future.result() for future in futures]
            out.append(parts[0] if len(parts) == 1 else
                       join(html, parts, lambda page: start(warm=0).submit(render, page).result()))
        return out
    except BrokenProcessPool:
        _pool = None  # a worker died (killed, out of memory): the next command starts anew
        raise


def render_many(htmls):
    """The PDFs of several publications, in their order, rendered on the warm pool."""
    return collect(submit(htmls))


# -- a long document in parts ---------------------------------------------------------

PART_ROWS = 1000  # rows of the lists a part holds at most: ~12 s of one core, ~0.5 GB
_ROW = re.compile(r'<tr id="u-')
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
         "source", "track", "wbr"}
_MARGIN_BOXES = [f"{edge}-{where}" for edge in ("top", "bottom")
                 for where in ("left-corner", "left", "center", "right", "right-corner")]
_MARGIN_BOXES += [f"{side}-{where}" for side in ("left", "right")
                  for where in ("top", "middle", "bottom")]
# Appended to a part's styles: no margin box on any page; `join` prints the numbers.
_NO_MARGIN_BOXES = "".join(
    f"@page{sel} {{ " + " ".join(f"@{box} {{ content: none; }}" for box in _MARGIN_BOXES)
    + " }" for sel in ("", " :left", " :right"))
_NO_BACKGROUND = "html, body { background: none !important; }"


def split(html, rows=None):
    """The publication's HTML in parts of at most `rows` rows of its lists (rows are the
    `<tr id="u-…">` of the templates, _lists.html), cut between rows only; a single part
    (the HTML itself) when it has no more. A part after the first repeats the elements
    its first row stands in (the sections, the table with its header), reopened
    empty: their own text is in the part before."""
    rows = rows or PART_ROWS
    starts = [m.start() for m in _ROW.finditer(html)]
    if len(starts) <= rows:
        return [html]
    count = math.ceil(len(starts) / rows)
    size = math.ceil(len(starts) / count)
    cuts = starts[size::size]
    body = html.index("<body")
    body = html.index(">", body) + 1
    head = html[:body]
    parts, begin, opened = [], body, []
    stack = []  # (name, start tag, its thead) of the elements open at the scan's point
    position = body
    for cut in cuts:
        for m in _TAG.finditer(html, position, cut):
            closing, name = m.group(1), m.group(2).lower()
            if name in _VOID:
                continue
            if not closing:
                stack.append([name, m.group(0), ""])
            else:
                while stack:  # the templates close what they open
                    top = stack.pop()
                    if top[0] == name:
                        break
                if name == "thead":
                    table = next(e for e in reversed(stack) if e[0] == "table")
                    table[2] = html[html.rindex("<thead", 0, m.start()):m.end()]
        position = cut
        parts.append(head + "".join(opened) + html[begin:cut]
                     + "".join(f"</{e[0]}>" for e in reversed(stack)))
        opened = [_reopen(e) for e in stack]
        begin = cut
    parts.append(head + "".join(opened) + html[begin:])
    return parts


def _reopen(element):
    name, tag, thead = element
    if name == "table":  # continued: the page begins with its header, not a margin
        tag = tag.replace('class="', 'class="continued ', 1) if 'class="' in tag \
            else tag[:-1] + ' class="continued">'
        return tag + thead
    return tag


def _unnumbered(html):
    """A part as rendered: the document's own styles, and no page numbers."""
    return html.replace("</head>", f"<style>{_NO_MARGIN_BOXES}</style></head>", 1)


def join(html, parts, renderer=render):
    """One PDF of the parts' pages, in order, each page numbered as in the document
    rendered whole: the numbers come from a document of as many empty pages, laid out by
    the publication's own @page rules, each printed over the page of the same number."""
    import pypdf  # imported here: only a long document needs it
    writer = pypdf.PdfWriter()
    for body in parts:
        writer.append(pypdf.PdfReader(io.BytesIO(body)))  # with its part of the outline
    pages = len(writer.pages)
    body = html.index("<body")
    numbers = pypdf.PdfReader(io.BytesIO(renderer(  # printed over the parts: no background
        html[:body].replace("</head>", f"<style>{_NO_BACKGROUND}</style></head>", 1)
        + html[body:html.index(">", body) + 1]
        + '<div style="break-after: page"></div>' * (pages - 1) + "<div></div></body></html>")))
    if len(numbers.pages) != pages:
        raise RuntimeError(f"page numbers for {len(numbers.pages)} pages, not {pages}")
    for page, number in zip(writer.pages, numbers.pages):
        page.merge_page(number)
        page.compress_content_streams()
    first = pypdf.PdfReader(io.BytesIO(parts[0])).metadata
    if first:
        writer.add_metadata(dict(first))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render_in_parts(html):
    """`render`, one part after another for a long document (`split`): the memory of a
    part at a time, not of the whole."""
    parts = split(html)
    if len(parts) == 1:
        return render(html)
    return join(html, [render(_unnumbered(part)) for part in parts])


if __name__ == "__main__":
    sys.stdout.buffer.write(render_in_parts(sys.stdin.buffer.read().decode()))
