"""The notices after the first (issue 16): a rectification-results notice distinct from a
correction, each row with its reason in words and the original it follows."""
import re

from hypothesis import given, strategies as st

from services.notices import followups as fu
from services.notices import publications as pub
from shared.language.outcomes import COHORTS

N1 = {"id": "n1", "number": "晋人社评估〔2023〕1号"}


def row(n, cohort, klass, outcome, clauses=(), deadline=None, basis="rules", grade=None,
        name=None):
    return {"uscc": f"52140100MJ{n:08d}", "name": name or f"测试培训学校{n}",
            "category": "social", "level": "municipal", "jurisdiction": "140100",
            "cohort": cohort, "class": klass, "outcome": outcome, "clauses": list(clauses),
            "deadline": deadline, "decided_on": "2024-01-01", "total": None, "grade": None,
            "basis": basis, "facts_grade": grade}


def published_and_now():
    before = [row(1, 2020, "rectify", "暂时不予延续备案", ["四(二)3"], "2023-12-31"),
              row(2, 2021, "rectify", "暂停评价活动", ["四(二)3"], "2023-12-31"),
              row(3, 2021, "rectify", "暂停评价活动", ["四(二)1"], "2023-12-31"),
              row(4, 2020, "rectify", "暂时不予延续备案", ["四(二)2"], "2023-12-31"),
              row(5, 2020, "pass", "同意延续备案"),
              row(6, 2021, "terminate", "终止备案", ["四(一)5"]),
              row(7, 2021, "pass", "正常评价")]
    now = [row(1, 2020, "pass", "延续备案", ["四(二)"], basis="rescore", grade="合格"),
           row(2, 2021, "terminate", "终止备案", ["四(二)"], basis="rescore", grade="不合格"),
           row(3, 2021, "terminate", "终止备案", ["四(二)"], basis="deadline", grade="合格"),
           row(4, 2020, "rectify", "暂时不予延续备案", ["四(二)2"], "2023-12-31"),
           row(5, 2020, "terminate", "终止备案", ["四(一)5"]),
           row(6, 2021, "pass", "正常评价"),
           # Re-scored with the same outcome: no public change.
           {**row(7, 2021, "pass", "正常评价"), "decided_on": "2023-12-01", "total": 95}]
    published = {r["uscc"]: r for r in before}
    return now, published, {u: N1 for u in published}


def test_closed_rectifications_go_to_the_results_notice_with_reasons():
    now, published, notices_of = published_and_now()
    split = fu.follow_up_rows(now, published, notices_of)
    rect = {r["uscc"][-1]: r for r in split[fu.RECTIFICATION]}
    assert set(rect) == {"1", "2", "3"}
    assert rect["1"]["reason"] == "整改复评合格，依据第四条第（二）项延续备案"
    assert rect["2"]["reason"] == "复评仍不合格，依据第四条第（二）项终止备案"
    assert rect["3"]["reason"] == "逾期未整改，依据第四条第（二）项终止备案"
    assert rect["1"]["rectified"] == ["四(二)3"]
    assert rect["1"]["original"] == {**N1, "outcome": "暂时不予延续备案",
                                     "clauses": ["四(二)3"], "deadline": "2023-12-31"}


def test_other_changes_are_corrections_showing_the_original_and_why():
    now, published, notices_of = published_and_now()
    corr = {r["uscc"][-1]: r for r in fu.follow_up_rows(now, published, notices_of)[
        fu.CORRECTION]}
    assert set(corr) == {"5", "6"}
    assert corr["5"]["original"]["outcome"] == "同意延续备案"
    assert corr["5"]["reason"].startswith("经核查，存在通知第四条第（一）项第5款所列情形")
    assert corr["6"]["reason"] == "经复核，原认定的通知第四条第（一）项第5款所列情形不成立"
    given_reason = fu.follow_up_rows(now, published, notices_of, "录入错误")[fu.CORRECTION]
    assert {r["reason"] for r in given_reason} == {"录入错误"}


@given(st.sampled_from(["rescore", "deadline"]), st.sampled_from(COHORTS),
       st.booleans(), st.sampled_from(["合格", "不达标", "不合格", None]))
def test_every_closed_rectification_has_a_reason_in_words_and_the_clause(basis, cohort,
                                                                         passed, grade):
    if basis == "deadline":
        passed = False
    outcome = ({2020: "延续备案", 2021: "恢复评价活动"}[cohort] if passed else "终止备案")
    before = row(1, cohort, "rectify", {2020: "暂时不予延续备案", 2021: "暂停评价活动"}[cohort],
                 ["四(二)3"], "2023-12-31")
    after = row(1, cohort, "pass" if passed else "terminate", outcome, ["四(二)"],
                basis=basis, grade=grade)
    [closed] = fu.follow_up_rows([after], {before["uscc"]: before},
                                 {before["uscc"]: N1})[fu.RECTIFICATION]
    assert re.match(r"^(整改复评合格|逾期未整改|复评仍不合格|复评仍不达标|整改不到位)，"
                    r"依据第四条第（二）项(延续备案|恢复评价活动|终止备案)$", closed["reason"])


def notice(kind, entries, number="晋人社评估〔2024〕2号", nid="n2"):
    n = {"id": nid, "number": number, "kind": kind, "published_on": "2024-01-02",
         "entries": entries, "cites": N1, "affects": [N1],
         "corrects": N1 if kind == fu.CORRECTION else None}
    n["summary"] = pub.notice_summary(n)
    return n


def test_the_rectification_results_notice_is_not_a_correction():
    now, published, notices_of = published_and_now()
    rows = fu.follow_up_rows(now, published, notices_of)[fu.RECTIFICATION]
    html = pub.render_notice_html(notice(fu.RECTIFICATION, rows))
    assert "整改复评结果的通告" in html and "更正" not in html
    assert 'class="correction"' not in html
    assert '<a href="n1.html">晋人社评估〔2023〕1号</a>' in html
    # Every termination says why in 备注, with the clause.
    for r in rows:
        cell = re.search(rf'<tr id="u-{r["uscc"]}">.*?data-label="备注">([^<]*)</td>', html,
                         re.S).group(1)
        assert cell == r["reason"] and "第四条第（二）项" in cell
    assert "四(" not in html  # one notation: full-width brackets
    summary = pub.notice_summary(notice(fu.RECTIFICATION, rows))
    assert summary == ("3家限期整改机构的整改复评结果：整改复评合格1家，终止备案2家"
                       "（复评仍不合格1家、逾期未整改1家）。")


def test_the_correction_shows_original_and_corrected():
    now, published, notices_of = published_and_now()
    rows = fu.follow_up_rows(now, published, notices_of)[fu.CORRECTION]
    html = pub.render_notice_html(notice(fu.CORRECTION, rows))
    assert "关于更正" in html and 'class="correction"' in html
    five = re.search(r'<tr id="u-52140100MJ00000005">(.*?)</tr>', html, re.S).group(1)
    assert "同意延续备案（—）" in five and "终止备案（四（一）5）" in five
    assert 'href="n1.html#u-52140100MJ00000005"' in five
    data = pub.notice_data(notice(fu.CORRECTION, rows))
    assert data["kind"] == "correction" and data["corrects"]["number"] == N1["number"]


def test_the_original_and_its_feed_entry_link_to_every_later_notice():
    first = {"id": "n1", "number": N1["number"], "title": pub.NOTICE_TITLE, "sequence": 1,
             "published_on": "2023-10-31", "kind": "results", "summary": "公布7家……"}
    second = {"id": "n2", "number": "晋人社评估〔2024〕1号", "title": pub.RECTIFICATION_TITLE,
              "sequence": 2, "published_on": "2024-01-02", "kind": "rectification",
              "affects": [N1], "summary": "3家……"}
    third = {"id": "n3", "number": "晋人社评估〔2024〕2号", "title": pub.CORRECTION_TITLE,
             "sequence": 3, "published_on": "2024-01-03", "kind": "correction",
             "affects": [N1], "corrects": N1, "summary": "更正……"}
    later = pub.later_notices([first, second, third])
    assert [n["number"] for n in later["n1"]] == [second["number"], third["number"]]
    described = [{**n, "later": later[n["id"]]} for n in (first, second, third)]
    feed = pub.json_feed(described, base_url="https://x.example/")
    item = next(i for i in feed["items"] if i["id"].endswith("n1"))
    assert item["_pinggu"]["later"] == later["n1"]
    assert "notices/n2.html" in item["content_html"] and "notices/n3.html" in item["content_html"]
    # A short summary, not the title again.
    for i in feed["items"]:
        assert i["title"] not in i["content_html"]
        assert pub.NOTICE_TITLE not in i["content_html"]
    atom = pub.atom_feed(described, base_url="https://x.example/", updated="2024-01-03")
    assert atom.count('rel="related"') == 4  # n1 → n2, n3; n2 → n1; n3 → n1
    page = pub.render_later_html(later["n1"])
    assert 'href="n2.html"' in page and "整改复评结果通告" in page and "更正通告" in page


def test_the_public_attachment_has_no_empty_score_columns(tmp_path):
    now, published, notices_of = published_and_now()
    entries = [{**r, "total": None, "grade": None} for r in now
               if r["outcome"] not in ("延续备案", "恢复评价活动")]
    import openpyxl
    path = pub.write_summary_xlsx(tmp_path / "n.xlsx", None, entries, generated_on="2023-10-31")
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[3]]
    assert "评估得分" not in header and "评估等级" not in header
    assert "发布日期：2023年10月31日" in ws["A2"].value and "填报日期" not in ws["A2"].value


def test_the_follow_up_attachment_lists_original_and_reason(tmp_path):
    import openpyxl
    now, published, notices_of = published_and_now()
    rows = fu.follow_up_rows(now, published, notices_of)[fu.RECTIFICATION]
    rows[0]["name"] = '=HYPERLINK("http://x","y")'
    path = pub.write_followup_xlsx(tmp_path / "r.xlsx", notice(fu.RECTIFICATION, rows))
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[3]]
    body = [dict(zip(header, [c.value for c in r])) for r in ws.iter_rows(min_row=4)]
    assert {r["统一社会信用代码"]: r["备注"] for r in body} == {r["uscc"]: r["reason"] for r in rows}
    assert all(r["原通告"] == N1["number"] for r in body)
    assert all(c.data_type != "f" for r in ws.iter_rows(min_row=4) for c in r)
