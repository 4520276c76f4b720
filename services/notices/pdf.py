"""Print-ready PDFs of the opinions and notices, from their own HTML (WeasyPrint).

The HTML of a publication carries its GB/T 9704 print layout (templates/_print.css), so
the PDF is that page as printed: one source for screen, print and PDF. WeasyPrint needs
pango and the fonts installed by .ci/run (see README, "Debian packages").

Rendering is CPU-bound pure Python, seconds to tens of seconds for a long notice on a
loaded machine: the portal renders in a child process (`render_isolated`), so the
service's event loop (RPC, the portal, AMQP heartbeats) keeps running meanwhile, and the
CLI renders the PDFs it writes itself (`render_many`), so no RPC waits on them.
"""
import multiprocessing
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor


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


def render_many(htmls, workers=2):
    """The PDFs of several publications, `workers` at a time (one per core)."""
    htmls = list(htmls)
    if len(htmls) <= 1:
        return [render(h) for h in htmls]
    # Fresh interpreters, not forks: the caller may hold broker threads and connections.
    with ProcessPoolExecutor(max_workers=min(workers, len(htmls)),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(render, htmls))


if __name__ == "__main__":
    sys.stdout.buffer.write(render(sys.stdin.buffer.read().decode()))
