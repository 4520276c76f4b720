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
