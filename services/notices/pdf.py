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
first, so both cores finish together. Each document is still rendered once, whole, by
`render`: the bytes are those of a render in the caller's own process.
"""
import multiprocessing
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool


def render(html: str) -> bytes:
    """The PDF of one publication's HTML. Nothing is fetched: the pages reference no
    external resource, and a name in a roster must not make the renderer fetch one."""
    import weasyprint  # imported here: its import alone takes a second

    def refuse(url, *args, **kwargs):
        raise ValueError(f"publications fetch nothing: {url}")
    return weasyprint.HTML(string=html, url_fetcher=refuse).write_pdf()


def render_isolated(html: str, timeout=600) -> bytes:
    """`render` in a child process: the caller's green threads go on meanwhile."""
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
    pool = start(warm=0)  # more workers start as the documents find none idle
    # The longest document first: the last to start is a short one, so the workers end
    # together rather than one core finishing a long document alone.
    order = sorted(range(len(htmls)), key=lambda i: len(htmls[i]), reverse=True)
    futures = {i: pool.submit(render, htmls[i]) for i in order}
    return [futures[i] for i in range(len(htmls))]


def collect(futures):
    """The PDFs of `submit`, in the order of its documents."""
    global _pool
    try:
        return [future.result() for future in futures]
    except BrokenProcessPool:
        _pool = None  # a worker died (killed, out of memory): the next command starts anew
        raise


def render_many(htmls):
    """The PDFs of several publications, in their order, rendered on the warm pool."""
    return collect(submit(htmls))


if __name__ == "__main__":
    sys.stdout.buffer.write(render(sys.stdin.buffer.read().decode()))
