"""Print-ready PDFs of the opinion and the notice, laid out to GB/T 9704 (issue 16),
checked as a reader of the printout would: with pdftotext (poppler-utils, installed by
.ci/run)."""
import random
import shutil
import subprocess

import pytest

from services.notices import pdf, publications as pub

PDFTOTEXT = shutil.which("pdftotext")
pytestmark = pytest.mark.skipif(PDFTOTEXT is None, reason="poppler-utils is not installed "
                                "(.ci/run installs it)")

OUTCOMES = [(2020, "pass", "同意延续备案", []), (2020, "terminate", "终止备案", ["四(一)7"]),
            (2020, "rectify", "暂时不予延续备案", ["四(二)3"]), (2021, "pass", "正常评价", []),
            (2021, "rectify", "暂停评价活动", ["四(二)3", "四(二)2"]),
            (2021, "terminate", "终止备案", ["六(二)"])]


def entries(count, jurisdiction):
    rng = random.Random(count)
    out = []
    for n in range(count):
        cohort, klass, outcome, clauses = rng.choice(OUTCOMES)
        level = "provincial" if jurisdiction == "140000" else "municipal"
        out.append({
            "uscc": f"52{jurisdiction}MJ{n:08d}",
            # Long names, so rows wrap and the USCC column is squeezed.
            "name": "山西省" + "某某职业技能培训学校有限责任公司" * (1 + n % 3),
            "category": rng.choice(["enterprise", "college", "social"]), "level": level,
            "jurisdiction": jurisdiction, "cohort": cohort, "class": klass,
            "outcome": outcome, "clauses": clauses,
            "deadline": "2023-12-31" if klass == "rectify" else None,
            "decided_on": "2023-10-31", "total": 70.5, "grade": "不达标"})
    return out


def pages(path):
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    count = int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))
    return [subprocess.run([PDFTOTEXT, "-f", str(i), "-l", str(i), "-layout", str(path), "-"],
                           capture_output=True, text=True, check=True).stdout
            for i in range(1, count + 1)]


def check_printout(texts, rows):
    assert len(texts) > 1
    for number, text in enumerate(texts, start=1):
        # "— 1 —" on every page, at its foot.
        assert f"— {number} —" in text.strip().splitlines()[-1], (number, text[-200:])
        # A page that carries table rows carries the table's header too.
        if any(r["uscc"] in text for r in rows):
            assert "统一社会信用代码" in text, f"page {number} has rows but no header"
    whole = "\n".join(texts)
    for r in rows:  # never split across lines (nor pages)
        assert r["uscc"] in whole, f"{r['uscc']} is split"
    return whole


@pytest.fixture(scope="module")
def notice_pdf(tmp_path_factory):
    rows = entries(180, "140100") + entries(60, "140000")
    html = pub.render_notice_html({"id": "n1", "number": "晋人社评估〔2023〕1号",
                                   "published_on": "2023-10-31", "entries": rows})
    path = tmp_path_factory.mktemp("pdf") / "notice.pdf"
    path.write_bytes(pdf.render(html))
    return path, rows


def test_the_notice_pdf_prints_to_gb_t_9704(notice_pdf):
    path, rows = notice_pdf
    texts = pages(path)
    assert len(texts) >= 8  # 240 institutions: many pages, each numbered
    whole = check_printout(texts, rows)
    assert "山西省人力资源和社会保障厅" in texts[0] and "晋人社评估〔2023〕1号" in texts[0]
    assert "2023年10月31日" in texts[-1]  # 成文日期 at the end
    assert "四（一）7" in whole and "四(一)" not in whole


def test_the_notice_pdf_uses_a_fangsong_face(notice_pdf):
    path, _ = notice_pdf
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "cwTeXFangSong" in fonts or "FangSong" in fonts, fonts


def test_the_opinion_pdf_has_its_number_signer_and_contact(tmp_path):
    rows = entries(120, "140200")
    html = pub.render_opinion_html("140200", rows, generated_on="2023-09-30", fields={
        "number": "同人社字〔2023〕57号", "signer": "李四", "contact": "王五",
        "phone": "0352-1234567"})
    path = tmp_path / "opinion.pdf"
    path.write_bytes(pdf.render_isolated(html))
    texts = pages(path)
    check_printout(texts, rows)
    first = texts[0]
    assert "大同市人力资源和社会保障局" in first
    assert "同人社字〔2023〕57号" in first and "签发人：李四" in " ".join(first.split())
    assert "联系人：王五" in texts[-1] and "0352-1234567" in texts[-1]
    assert "2023年9月30日" in texts[-1]


def test_the_renderer_fetches_nothing(tmp_path):
    html = ('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png">'
            '<p>山西</p></body></html>')
    assert pdf.render(html).startswith(b"%PDF")
