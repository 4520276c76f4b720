import datetime as dt
import re
import json
import xml.etree.ElementTree as ET
import zipfile

import feedparser
import openpyxl
import pytest
from markupsafe import escape

from services.notices import publications as pub
from shared.language import notation as cl
from services.notices.publications import (
    SUMMARY_COLUMNS, atom_feed, etag, json_feed, notice_data, opinion_lists,
    render_index_html, render_notice_html, render_opinion_html, write_summary_xlsx,
)

SCRIPT = "<script>alert(1)</script>"
FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(A1)"]
BASE = "https://rsj.example.gov.cn/pinggu/"


def entry(n, cohort, klass, outcome, *, name=None, jurisdiction="140100", clauses=(),
          deadline=None, total=None, grade=None, category="social"):
    level = "provincial" if jurisdiction == "140000" else "municipal"
    return {
        "uscc": f"52{jurisdiction}MJ{n:08d}", "name": name or f"测试职业技能培训学校{n:02d}",
        "category": category, "level": level, "jurisdiction": jurisdiction,
        "cohort": cohort, "class": klass, "outcome": outcome, "clauses": list(clauses),
        "deadline": deadline, "decided_on": "2023-10-31", "total": total, "grade": grade,
    }


@pytest.fixture
def taiyuan():
    """Every outcome of both cohorts in 太原, with hostile names, in no particular order."""
    return [
        entry(9, 2020, "pass", "同意延续备案", total=91.5, grade="合格", name=FORMULAS[0]),
        entry(3, 2020, "terminate", "终止备案", clauses=["四(一)7"], total=52, grade="不合格",
              name=SCRIPT),
        entry(7, 2020, "rectify", "暂时不予延续备案", clauses=["四(二)3", "四(二)2"],
              deadline="2023-12-31", total=70, grade="不达标", name=FORMULAS[1]),
        entry(1, 2020, "pass", "延续备案", clauses=["四(二)"], total=82, grade="合格",
              category="enterprise"),
        entry(8, 2021, "terminate", "终止备案", clauses=["六(二)"], name=FORMULAS[2]),
        entry(2, 2021, "rectify", "暂停评价活动", clauses=["四(二)1"], deadline="2023-12-31",
              total=85, grade="合格", name=FORMULAS[3], category="college"),
        entry(6, 2021, "pass", "正常评价", total=88, grade="合格", name="A&B \"职业\" 学院"),
        entry(4, 2021, "pass", "恢复评价活动", clauses=["四(二)"], total=80, grade="合格"),
    ]


def usccs(items):
    return [e["uscc"] for e in items]


# ------------------------------------------------------------------ lists

def test_opinion_lists_2020_cohort(taiyuan):
    lists = opinion_lists(taiyuan)[2020]
    assert list(lists) == ["终止备案", "同意延续备案", "暂时不予延续备案"]
    assert usccs(lists["终止备案"]) == ["52140100MJ00000003"]
    # A passed rectification (延续备案) is listed with the renewed, sorted by USCC.
    assert usccs(lists["同意延续备案"]) == ["52140100MJ00000001", "52140100MJ00000009"]
    assert lists["同意延续备案"][0]["outcome"] == "延续备案"
    assert usccs(lists["暂时不予延续备案"]) == ["52140100MJ00000007"]


def test_opinion_lists_2021_cohort(taiyuan):
    lists = opinion_lists(taiyuan)[2021]
    assert list(lists) == ["终止备案", "暂停评价活动", "正常评价"]
    assert usccs(lists["终止备案"]) == ["52140100MJ00000008"]
    assert usccs(lists["暂停评价活动"]) == ["52140100MJ00000002"]
    assert usccs(lists["正常评价"]) == ["52140100MJ00000004", "52140100MJ00000006"]


def test_opinion_lists_are_deterministic_and_complete(taiyuan):
    assert opinion_lists(taiyuan) == opinion_lists(list(reversed(taiyuan)))
    empty = opinion_lists([])
    assert {c: {k: len(v) for k, v in ls.items()} for c, ls in empty.items()} == {
        2020: {"终止备案": 0, "同意延续备案": 0, "暂时不予延续备案": 0},
        2021: {"终止备案": 0, "暂停评价活动": 0, "正常评价": 0}}


@pytest.mark.parametrize("bad", [
    entry(1, 2020, "rectify", "暂停评价活动"),     # a 2021 label on a 2020 filing
    entry(1, 2021, "pass", "延续备案"),
    entry(1, 2022, "pass", "正常评价"),            # out of scope
    entry(1, 2021, "pass", None),                  # undecided
])
def test_opinion_lists_refuse_what_the_notice_has_no_list_for(bad):
    with pytest.raises(ValueError, match="52140100MJ00000001"):
        opinion_lists([bad])


def test_opinion_lists_refuse_an_institution_twice():
    with pytest.raises(ValueError, match="twice"):
        opinion_lists([entry(1, 2020, "pass", "同意延续备案"),
                       entry(1, 2020, "terminate", "终止备案")])


# ------------------------------------------------------------------ 附件3 xlsx

def test_summary_xlsx_row_by_row(tmp_path, taiyuan):
    path = tmp_path / "附件3.xlsx"
    assert write_summary_xlsx(path, "140100", taiyuan, generated_on="2023-09-30") == path
    ws = openpyxl.load_workbook(path)["评估意见汇总表"]

    assert ws["A1"].value == "2020-2021年度备案机构评估意见汇总表"
    assert "太原市人力资源和社会保障局" in ws["A2"].value and "2023年9月30日" in ws["A2"].value
    assert [c.value for c in ws[3]] == [c for c, _ in SUMMARY_COLUMNS]
    assert all(c.font.b and c.comment is not None for c in ws[3])

    # Cohort, then the notice's list order, then USCC.
    expected = [e for lists in opinion_lists(taiyuan).values() for members in lists.values()
                for e in members]
    rows = list(ws.iter_rows(min_row=4))
    assert len(rows) == len(taiyuan) == ws.max_row - 3
    for number, (row, e) in enumerate(zip(rows, expected), start=1):
        values = [c.value for c in row]
        deadline = dt.datetime.fromisoformat(e["deadline"]) if e["deadline"] else None
        clauses = values[10] or ""
        assert values[:10] == [
            number, e["uscc"], e["name"], pub.CATEGORY_ZH[e["category"]], "市级", "太原市",
            e["cohort"], None if e["total"] is None else float(e["total"]), e["grade"],
            e["outcome"]]
        assert all(cl.table(code) in clauses for code in e["clauses"])
        assert values[11:] == [deadline, dt.datetime(2023, 10, 31)]
    # Clauses are cited with their text, in the order the verdict gave them.
    by_uscc = {r[1].value: r for r in rows}
    assert by_uscc["52140100MJ00000007"][10].value == (
        "四（二）3 评估结果不达标准；"
        "四（二）2 法人登记证明不在有效期内,或年度报告中存在影响法人资质合规性问题")


def test_summary_xlsx_keeps_formula_like_names_as_text(tmp_path, taiyuan):
    path = tmp_path / "s.xlsx"
    write_summary_xlsx(path, "140100", taiyuan, generated_on="2023-09-30")
    for read_only in (False, True):
        wb = openpyxl.load_workbook(path, read_only=read_only)
        names = {row[2].value: row[2] for row in wb.active.iter_rows(min_row=4)}
        for name in FORMULAS:
            assert names[name].value == name and names[name].data_type == "s"
        wb.close()
    with zipfile.ZipFile(path) as zf:
        assert b"<f>" not in zf.read("xl/worksheets/sheet1.xml")


def test_summary_xlsx_layout_and_print_setup(tmp_path, taiyuan):
    path = tmp_path / "s.xlsx"
    write_summary_xlsx(path, "140100", taiyuan, generated_on=dt.date(2023, 9, 30),
                       campaign_title="汇总表 R&D")
    ws = openpyxl.load_workbook(path).active
    assert ws.freeze_panes == "A4"
    assert "A1:M1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws.column_dimensions["C"].width >= 30
    assert ws.page_setup.orientation == "landscape"
    assert str(ws.page_setup.paperSize) == str(ws.PAPERSIZE_A4)
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows.replace("$", "") == "3:3"
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert ws.oddHeader.center.text == "汇总表 R&&D"
    assert ws.auto_filter.ref == "A3:M11"


def test_summary_xlsx_refuses_another_jurisdictions_institution(tmp_path, taiyuan):
    stray = entry(99, 2020, "pass", "同意延续备案", jurisdiction="140200")
    with pytest.raises(ValueError, match="52140200MJ00000099"):
        write_summary_xlsx(tmp_path / "s.xlsx", "140100", [*taiyuan, stray],
                           generated_on="2023-09-30")
    assert not (tmp_path / "s.xlsx").exists()


# ------------------------------------------------------------------ HTML

def assert_html_document(html):
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in html and '<meta charset="utf-8">' in html
    assert 'name="viewport"' in html


def assert_names_escaped(html, entries):
    for e in entries:
        assert str(escape(e["name"])) in html
        assert e["uscc"] in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html


def test_opinion_html_of_a_city(taiyuan):
    html = render_opinion_html("140100", taiyuan, generated_on="2023-09-30")
    assert_html_document(html)
    assert_names_escaped(html, taiyuan)
    assert "太原市人力资源和社会保障局关于2020-2021年度备案职业技能等级认定评价机构的评估意见" in html
    assert "A&amp;B &#34;职业&#34; 学院" in html
    assert "size: A4" in html
    for heading in ("需终止备案的机构", "同意延续备案的机构", "暂时不予延续备案的机构",
                    "暂停评价活动的机构", "正常评价的机构"):
        assert heading in html
    assert "2020年度备案机构共4家，其中终止备案1家、同意延续备案2家、暂时不予延续备案1家。" in html
    assert "2021年度备案机构共4家，其中终止备案1家、暂停评价活动1家、正常评价2家。" in html
    # Cited clauses come with their text from the rulebook.
    assert "<dt>四（一）7</dt><dd>评估结果不合格</dd>" in html
    assert "<dt>六（二）</dt><dd>无故拒绝参加评估,取消备案资质</dd>" in html
    assert "经整改复评，延续备案" in html and "经整改复评，恢复评价活动" in html
    assert "2023年9月30日" in html


def test_opinion_html_of_the_provincial_center():
    entries = [entry(1, 2021, "pass", "正常评价", jurisdiction="140000", total=90, grade="合格")]
    html = render_opinion_html("140000", entries, generated_on="2023-09-30",
                               title="省属评价机构评估意见")
    assert "<h1>省属评价机构评估意见</h1>" in html
    assert "山西省职业技能鉴定中心" in html and "商职业能力建设处" in html
    assert "暂时不予延续备案的机构（0家）" in html


def test_opinion_html_refuses_another_jurisdictions_institution(taiyuan):
    with pytest.raises(ValueError, match="140200"):
        render_opinion_html("140200", taiyuan, generated_on="2023-09-30")


def province(taiyuan):
    return [*taiyuan,
            entry(5, 2021, "terminate", "终止备案", jurisdiction="140000",
                  clauses=["四(一)1"], name="省级" + SCRIPT)]


def test_notice_html(taiyuan):
    entries = province(taiyuan)
    html = render_notice_html({
        "id": "2023-1", "number": "晋人社评估〔2023〕1号", "title": None,
        "published_on": "2023-10-31", "entries": entries,
        "xlsx_url": "notices/2023-1.xlsx"})
    assert_html_document(html)
    assert_names_escaped(html, entries)
    assert "山西省人力资源和社会保障厅关于2020-2021年度职业技能等级认定评价机构评估结果的通告" in html
    assert "晋人社评估〔2023〕1号" in html and "2023年10月31日" in html
    assert 'class="correction"' not in html
    assert 'href="2023-1.json"' in html and 'href="2023-1.xlsx"' in html
    assert 'href="2023-1.pdf"' in html
    # An anchor per institution, so a search result can point at its row.
    assert all(f'<tr id="u-{e["uscc"]}">' in html for e in entries)
    assert "@media (max-width: 40rem)" in html
    assert "省职业技能鉴定中心" in html and "太原市" in html
    # The public notice carries no scores.
    assert "评估得分" not in html


def test_notice_without_correction_shows_none(taiyuan):
    html = render_notice_html({"id": "1", "number": "N1", "title": "通告<b>",
                               "published_on": "2023-10-31", "entries": taiyuan})
    assert 'class="correction"' not in html
    assert "通告&lt;b&gt;" in html and "通告<b>" not in html


def feed_notices():
    return [
        {"id": "2023-1", "number": "晋人社评估〔2023〕1号", "title": "评估结果通告" + SCRIPT,
         "published_on": "2023-10-31", "updated": "2023-10-31T09:00:00+08:00",
         "summary": "共8家 " + SCRIPT, "sizes": {"xlsx": 12345, "json": 678}},
        {"id": "2023-2", "number": "晋人社评估〔2023〕2号", "title": "更正通告",
         "published_on": "2023-11-05", "updated": "2023-11-05T10:30:00+08:00",
         "corrects": {"id": "2023-1", "number": "晋人社评估〔2023〕1号"}},
    ]


def test_index_html():
    html = render_index_html(feed_notices())
    assert_html_document(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert html.index('href="notices/2023-2.html"') < html.index('href="notices/2023-1.html"')
    assert "晋人社评估〔2023〕1号" in html and "2023年10月31日" in html
    assert 'type="application/atom+xml"' in html


def test_notice_data_is_json_and_grouped(taiyuan):
    data = notice_data({"id": "2023-1", "number": "晋人社评估〔2023〕1号", "title": None,
                        "published_on": "2023-10-31", "entries": province(taiyuan)})
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["corrects"] is None and data["id"] == "2023-1"
    assert list(data["entries"]) == ["2020", "2021"]
    assert list(data["entries"]["2021"]) == ["终止备案", "暂停评价活动", "正常评价"]
    terminated = data["entries"]["2021"]["终止备案"]
    assert usccs(terminated) == ["52140000MJ00000005", "52140100MJ00000008"]
    assert terminated[0]["clauses"] == ["四(一)1"] and "total" not in terminated[0]
    assert [e["outcome"] for e in data["entries"]["2020"]["同意延续备案"]] == ["延续备案",
                                                                          "同意延续备案"]


# ------------------------------------------------------------------ feeds

def test_atom_feed():
    xml = atom_feed(feed_notices(), base_url=BASE, updated="2023-11-05T10:30:00+08:00")
    ET.fromstring(xml.encode("utf-8"))  # well-formed
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in xml and "<script" not in xml

    feed = feedparser.parse(xml)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id == "urn:pinggu:notices"
    assert {(l.rel, l.href) for l in feed.feed.links} >= {
        ("self", BASE + "feed.atom"), ("alternate", BASE + "index.html")}
    first, second = feed.entries  # newest first
    assert [first.id, second.id] == ["urn:pinggu:notice:2023-2", "urn:pinggu:notice:2023-1"]
    assert second.title == "晋人社评估〔2023〕1号 评估结果通告" + SCRIPT
    assert second.link == BASE + "notices/2023-1.html"
    assert second.published == "2023-10-31T00:00:00+08:00"
    assert second.updated == "2023-10-31T09:00:00+08:00"
    assert second.summary == "共8家 " + SCRIPT
    assert [(e.href, e.type, e.length) for e in second.enclosures] == [
        (BASE + "notices/2023-1.xlsx", pub.XLSX_TYPE, "12345"),
        (BASE + "notices/2023-1.json", "application/json", "678")]
    # Without known sizes, no length is claimed.
    assert all("length" not in e or not e.length for e in first.enclosures)
    related = [l for l in first.links if l.rel == "related"]
    assert [l.href for l in related] == [BASE + "notices/2023-1.html"]


def test_atom_feed_refuses_a_naive_time():
    with pytest.raises(ValueError, match="time zone"):
        atom_feed(feed_notices(), base_url=BASE, updated="2023-11-05T10:30:00")


def test_json_feed():
    feed = json_feed(feed_notices(), base_url=BASE)
    assert json.loads(json.dumps(feed, ensure_ascii=False)) == feed
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] and feed["feed_url"] == BASE + "feed.json"
    assert feed["home_page_url"] == BASE + "index.html"
    items = feed["items"]
    assert [i["id"] for i in items] == ["urn:pinggu:notice:2023-2", "urn:pinggu:notice:2023-1"]
    for item in items:
        assert isinstance(item["id"], str)
        assert item.get("content_html") or item.get("content_text")
        assert item["url"].startswith(BASE) and item["date_published"].endswith("+08:00")
        assert all(a["url"].startswith(BASE) and a["mime_type"] for a in item["attachments"])
    old = items[1]
    assert "&lt;script&gt;" in old["content_html"] and "<script" not in old["content_html"]
    assert [a.get("size_in_bytes") for a in old["attachments"]] == [12345, 678]
    assert "size_in_bytes" not in items[0]["attachments"][0]
    assert items[0]["_pinggu"]["corrects"] == {"id": "2023-1", "number": "晋人社评估〔2023〕1号"}


def test_feeds_refuse_duplicate_ids():
    twice = [feed_notices()[0], feed_notices()[0]]
    with pytest.raises(ValueError, match="id"):
        json_feed(twice, base_url=BASE)


def test_etag():
    body = "评估结果".encode("utf-8")
    assert etag(body) == etag(bytes(body))
    assert etag(body) != etag(body + b" ")
    assert etag(body).startswith('"') and etag(body).endswith('"') and len(etag(body)) == 34
    with pytest.raises(TypeError):
        etag("text")


def test_the_portal_adds_its_note_and_footer_outside_the_published_document(monkeypatch,
                                                                            taiyuan):
    from services.notices import portal
    monkeypatch.setenv("PINGGU_SITE_ICP", "晋ICP备12345678号")
    monkeypatch.setenv("PINGGU_SITE_CODE", "1400000001")
    html = render_notice_html({"id": "n1", "number": "N1", "published_on": "2023-10-31",
                               "entries": taiyuan})
    later = [{"id": "n2", "number": "晋人社评估〔2024〕1号", "kind": "rectification"}]
    page = portal.with_portal_parts(html, later).decode()
    assert 'href="n2.html">整改复评结果通告 晋人社评估〔2024〕1号</a>' in page
    assert "晋ICP备12345678号" in page and "网站标识码：1400000001" in page
    assert "主办单位：山西省人力资源和社会保障厅" in page
    # Without the note and footer, the page is the document as published.
    bare = portal.with_portal_parts(html, []).decode()
    def squeeze(text):
        return re.sub(r"\s+", " ", text)
    assert squeeze(re.sub(r'<footer class="site-footer">.*?</footer>', "", bare, flags=re.S)) \
        == squeeze(html.replace(portal.LATER_MARK, "").replace(portal.FOOTER_MARK, ""))
    # A page published before the marks existed still gets both.
    old = html.replace(portal.LATER_MARK, "").replace(portal.FOOTER_MARK, "")
    page = portal.with_portal_parts(old, later).decode()
    assert 'class="later"' in page and "site-footer" in page
