"""The warm renderers of the CLI (issue 14, services/notices/pdf.py) change how soon the
PDFs come, never what they say: each PDF from the pool reads as the one rendered in the
caller's own process, and comes back in the order of the documents given (the pool takes
the longest first; it must not swap them). The documents' own text is pinned by digest,
so a speed-up that changes a word of an opinion or a notice fails here."""
import hashlib
import html as htmllib
import re
import shutil
import subprocess

import pytest

from services.notices import pdf, publications as pub
from tests.unit.test_pdf import entries


def text_digest(page):
    """SHA-256 of what a reader reads: the page without its styles and tags, whitespace
    collapsed, entities decoded."""
    body = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", body))
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


def opinion(jurisdiction, count):
    return pub.render_opinion_html(jurisdiction, entries(count, jurisdiction),
                                   generated_on="2023-10-31",
                                   fields={"number": "并人社字〔2023〕88号", "signer": "王某"})


def notice(count):
    return pub.render_notice_html({"id": "n1", "number": "晋人社评估〔2023〕1号",
                                   "published_on": "2023-10-31",
                                   "entries": entries(count, "140100")
                                   + entries(count // 3, "140000")})


# The digests of the documents as they were before issue 14's speed-ups (commit cc93395):
# a change of wording is made here on purpose, with the new digest, or not at all.
OPINION_TEXT = "c8f1cd0f5f3b0c4b3512c62903422c56dd910dd2e336de524a1d7f98bcac7c98"
NOTICE_TEXT = "46ae32d6435d89f412fe369c3886440e956a5d657526bdfe0c37056aa8d719a3"


def test_the_documents_text_is_unchanged():
    assert text_digest(opinion("140200", 40)) == OPINION_TEXT
    assert text_digest(notice(60)) == NOTICE_TEXT


@pytest.mark.skipif(shutil.which("pdftotext") is None,
                    reason="poppler-utils is not installed (.ci/run installs it)")
def test_the_pool_renders_what_one_process_renders_in_the_documents_order():
    # Short, long, middling: the pool starts the long one first and must still answer
    # in this order.
    pages = [opinion("140300", 2), notice(45), opinion("140500", 12)]
    pooled = pdf.render_many(pages)
    assert len(pooled) == 3
    for page, body in zip(pages, pooled):
        assert _text(body) == _text(pdf.render(page))
    assert "晋城市人力资源和社会保障局" in _text(pooled[2])  # 140500's, not another's


def _text(body):
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=body, capture_output=True,
                          check=True).stdout.decode()


# -- a long document in parts (pdf.split, pdf.join) ------------------------------------

def _uscc_order(page):
    return re.findall(r'<tr id="u-([0-9A-Z]{18})"', page)


def test_a_document_of_few_rows_is_rendered_whole():
    page = notice(45)
    assert pdf.split(page, rows=60) == [page]


def test_the_parts_hold_every_row_once_in_order_each_under_its_tables_header():
    page = notice(90)  # 120 rows in six tables
    parts = pdf.split(page, rows=25)
    assert len(parts) == 5 and all(len(_uscc_order(p)) <= 25 for p in parts)
    assert [u for p in parts for u in _uscc_order(p)] == _uscc_order(page)
    for part in parts:  # each part is a document with the styles, every table its header
        assert part.startswith("<!DOCTYPE html>") and "@page" in part
        assert part.count("<table") == part.count("统一社会信用代码</th>") >= 1
    # The text outside the rows is in one part only: the masthead in the first, the
    # signature in the last.
    assert "晋人社评估〔2023〕1号" in parts[0] and "晋人社评估〔2023〕1号" not in parts[1]
    assert "四、有关说明" in parts[-1] and "四、有关说明" not in parts[-2]


@pytest.mark.skipif(shutil.which("pdftotext") is None,
                    reason="poppler-utils is not installed (.ci/run installs it)")
def test_a_document_in_parts_prints_as_the_whole_with_its_pages_numbered_on(monkeypatch):
    page = notice(90)
    whole = pdf.render(page)
    monkeypatch.setattr(pdf, "PART_ROWS", 25)
    joined, again = pdf.render_many([page, opinion("140300", 2)])
    assert _text(again) == _text(pdf.render(opinion("140300", 2)))  # short: whole
    texts = _pages(joined)
    assert len(texts) > len(_pages(whole))  # each part begins a page
    for number, text in enumerate(texts, start=1):
        lines = [line for line in text.splitlines() if line.strip()]
        # One number a page, at its foot, odd pages on the right, even on the left.
        assert re.findall(r"— \d+ —", text) == [f"— {number} —"], (number, text[-300:])
        assert lines[-1].strip() == f"— {number} —"
        left = _bottom_left(joined, number)
        assert (f"— {number} —" in left) == (number % 2 == 0), (number, left)
        if re.search(r"[0-9]{6}[0-9A-Z]{10}", text):
            assert "统一社会信用代码" in text, f"page {number} has rows but no header"
    # The numbers are printed over the pages, not instead of them: the first page, all in
    # the first part, looks as the whole's first page.
    assert _raster(joined, 1) == _raster(whole, 1)
    # The same text in the same order: the words of the whole and of the parts, without
    # the page numbers and the tables' headers repeated on each page.
    assert _words(joined) == _words(whole)
    assert re.findall(r"[0-9]{6}[0-9A-Z]{12}", _text(joined)) == _uscc_order(page)


_HEADER = {"序号", "机构名称", "统一社会信用代码", "类型", "备案", "层级", "备案层级", "评估单位",
           "依据条款", "整改期限", "备注"}


def _words(body):
    text = subprocess.run(["pdftotext", "-raw", "-", "-"], input=body, capture_output=True,
                          check=True).stdout.decode()
    text = re.sub(r"— \d+ —", " ", text)
    return [w for w in text.split() if w not in _HEADER]


def _raster(body, number):
    out = subprocess.run(["pdftoppm", "-f", str(number), "-l", str(number), "-r", "30",
                          "-gray", "-"], input=body, capture_output=True, check=True).stdout
    assert out.startswith(b"P5")  # a greymap on stdout
    return out


def _bottom_left(body, number):
    """The text in the lower left quarter of an A4 page (595 × 842 pt) and its margin."""
    return subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), "-x", "0",
                           "-y", "700", "-W", "297", "-H", "142", "-", "-"], input=body,
                          capture_output=True, check=True).stdout.decode()


def _pages(body):
    text = _text(body)
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


@pytest.mark.skipif(shutil.which("pdftotext") is None,
                    reason="poppler-utils is not installed (.ci/run installs it)")
def test_the_portals_renderer_renders_a_long_document_in_parts_too(monkeypatch):
    # The portal's child process (render_isolated) renders the parts one after another:
    # the memory of a part, the same pages as the pool's.
    page = notice(40)
    monkeypatch.setattr(pdf, "PART_ROWS", 20)
    alone = pdf.render_in_parts(page)
    assert _text(alone) == _text(pdf.render_many([page])[0])
    assert len(_pages(alone)) > len(_pages(pdf.render(page)))


def test_a_render_runs_without_the_garbage_collector_and_collects_after(monkeypatch):
    # Issue 14: Python's full collections walking the document's boxes were a third of a
    # render's CPU; the render turns the collector off, and back on (collecting) after,
    # unless its caller had it off. And the fonts are set up once a process.
    import gc
    import weasyprint
    seen, fonts = [], []

    class Page:
        def __init__(self, **kwargs):
            pass

        def write_pdf(self, font_config):
            seen.append(gc.isenabled())
            fonts.append(font_config)
            return b"%PDF-"
    monkeypatch.setattr(weasyprint, "HTML", Page)
    collected = []
    monkeypatch.setattr(gc, "collect", lambda *a: collected.append(a) or 0)
    assert pdf.render("<p>山西</p>") == b"%PDF-"
    assert seen == [False] and gc.isenabled() and collected == [(0,)]
    gc.disable()
    try:
        pdf.render("<p>山西</p>")
        assert seen == [False, False] and not gc.isenabled() and len(collected) == 1
    finally:
        gc.enable()
    # One font configuration for every document of the process: the faces looked up once.
    assert fonts[0] is fonts[1] is not None
