"""Print-ready PDFs of the opinions and notices, from their own HTML (WeasyPrint).

The HTML of a publication carries its GB/T 9704 print layout (templates/_print.css), so
the PDF is that page as printed: one source for screen, print and PDF. WeasyPrint needs
pango and the fonts installed by .ci/run (see README, "Debian packages").

Rendering is CPU-bound pure Python for seconds on a long notice: a service renders in a
child process (`render_isolated`), so its event loop (RPC, the portal, AMQP heartbeats)
keeps running meanwhile.
"""
import subprocess
import sys


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


if __name__ == "__main__":
    sys.stdout.buffer.write(render(sys.stdin.buffer.read().decode()))
