"""The publications (issue 6): the opinions and 附件3, the province's notice and its
correction, the portal's feeds and pages, and hostile institution names made inert."""
import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request

import feedparser
import openpyxl
import pytest

from tests import factories
from tests.e2e import flow
from tests.support import Cluster

pytestmark = pytest.mark.e2e

CITY, OPERATOR = "140300", "city-140300"
FORMULA = '=HYPERLINK("http://evil.example","点我")'
SCRIPT = "<script>alert(1)</script>培训学校"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("notices")
    cluster = Cluster().create()
    try:
        cluster.start().open_campaign()
        rows = [factories.institution(6000, cohort=2020, city=CITY, name=FORMULA),
                factories.institution(6001, cohort=2021, city=CITY, name=SCRIPT),
                factories.institution(6002, cohort=2020, city=CITY, name="+1 职业培训中心"),
                factories.institution(6003, cohort=2021, city=CITY, name="@SUM(A1) 技校"),
                factories.institution(6004, cohort=2021, city=CITY)]
        scores = {rows[0].uscc: 90, rows[1].uscc: 72, rows[2].uscc: 55, rows[3].uscc: 85,
                  rows[4].uscc: 65}
        flow.clock(cluster, "2023-08-28")
        flow.file(cluster, tmp, rows)
        flow.self_assess(cluster, tmp, rows, OPERATOR)
        flow.clock(cluster, "2023-09-20")
        # Before any score, the jurisdiction cannot publish its opinion.
        rc, out, err = cluster.cli("publish", "opinions", "--jurisdiction", CITY, "--out",
                                   str(tmp / "early"), operator=OPERATOR)
        early = (rc, err, os.path.exists(tmp / "early"))
        flow.score(cluster, tmp, scores, OPERATOR)
        for row in rows:
            flow.verdict(cluster, row.uscc)
        flow.clock(cluster, "2023-10-31")
        cluster.cli("publish", "opinions", "--jurisdiction", CITY, "--out",
                    str(tmp / "opinions"), operator=OPERATOR, check=True)
        first = cluster.cli_json("publish", "notice", "--out", str(tmp / "portal"))
        first_files = _portal(tmp / "portal")
        yield {"cluster": cluster, "rows": rows, "tmp": tmp, "early": early,
               "first": first, "first_files": first_files,
               "base": f"http://127.0.0.1:{cluster.http_port}"}
    finally:
        cluster.destroy()


def _portal(directory):
    return {str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*")
            if p.is_file()}


def _get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_an_undecided_jurisdiction_cannot_publish_and_is_told_which_cases(published):
    rc, err, wrote = published["early"]
    assert rc == 2 and not wrote
    assert all(row.uscc in err for row in published["rows"])


def test_the_summary_xlsx_lists_every_case_as_decided(published):
    cluster, tmp = published["cluster"], published["tmp"]
    decided = {c["uscc"]: c for c in cluster.cli_json("decided", "--jurisdiction", CITY)}
    ws = openpyxl.load_workbook(tmp / "opinions" / f"summary-{CITY}.xlsx").active
    header = [c.value for c in ws[3]]
    rows = [dict(zip(header, [c.value for c in row])) for row in ws.iter_rows(min_row=4)]
    assert len(rows) == len(decided) == 5
    for row in rows:
        case = decided[row["统一社会信用代码"]]
        assert row["机构名称"] == case["name"]
        assert row["评估意见"].startswith(case["outcome"]) or case["outcome"] in row["评估意见"]
    assert ws.freeze_panes == "A4"
    for row in ws.iter_rows(min_row=4):
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} became a formula: {cell.value}"


def test_the_notice_is_published_with_its_number_and_lists(published):
    first = published["first"]["notice"]
    assert first["number"] == "晋人社评估〔2023〕1号" and first["entries"] == 5
    data = json.loads(published["first_files"][f"notices/{first['id']}.json"])
    listed = {e["uscc"]: label for lists in data["entries"].values()
              for label, members in lists.items() for e in members}
    assert listed == {r.uscc: o for r, o in zip(published["rows"], (
        "同意延续备案", "暂停评价活动", "终止备案", "正常评价", "暂停评价活动"))}


def test_hostile_names_are_inert_in_every_output(published):
    files = dict(published["first_files"])
    for path in (published["tmp"] / "opinions").iterdir():
        files[f"opinions/{path.name}"] = path.read_bytes()
    for name, body in files.items():
        if name.endswith((".html", ".atom")):
            assert "<script>alert" not in body.decode(), name
        if name.endswith(".json"):
            # Machine data carries the name as it is, as a JSON string; only markup that a
            # reader renders must be escaped.
            data = json.loads(body)
            for item in data.get("items", []):
                assert "<script>alert" not in item["content_html"], name
        if name.endswith(".html") and not name.startswith("institutions/"):
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body.decode() or \
                "培训学校" not in body.decode(), name
        if name.endswith(".xlsx"):
            path = published["tmp"] / "check.xlsx"
            path.write_bytes(body)
            for ws in openpyxl.load_workbook(path).worksheets:
                for row in ws.iter_rows():
                    for cell in row:
                        assert cell.data_type != "f", f"{name} {cell.coordinate}"


def test_the_public_api_serves_the_published_outcomes_without_scores(published):
    status, headers, body = _get(f"{published['base']}/api/decided")
    cases = {c["uscc"]: c for c in json.loads(body)["cases"]}
    assert set(cases) == {row.uscc for row in published["rows"]}
    assert all(c["total"] is None and c["grade"] is None for c in cases.values())
    assert all(c["notice"] == "晋人社评估〔2023〕1号" for c in cases.values())


def test_both_feeds_parse_and_carry_the_notice(published):
    base = published["base"]
    status, headers, body = _get(f"{base}/feed.atom")
    assert status == 200 and headers["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(body)
    assert feed.bozo == 0, feed.get("bozo_exception")
    first = published["first"]["notice"]
    entry = feed.entries[-1]
    assert entry.id == f"urn:pinggu:notice:{first['id']}"
    assert any(link.rel == "enclosure" and link.href.endswith(".xlsx") for link in entry.links)
    status, headers, body = _get(f"{base}/feed.json")
    items = json.loads(body)
    assert items["version"] == "https://jsonfeed.org/version/1.1" and items["title"]
    assert all(i["id"] and (i.get("content_html") or i.get("content_text"))
               for i in items["items"])
    for item in items["items"]:
        for attachment in item["attachments"]:
            assert attachment["url"] and attachment["mime_type"]


def test_the_portal_polls_cheaply_with_etags_and_sees_a_new_notice(published):
    cluster, base = published["cluster"], published["base"]
    status, headers, _ = _get(f"{base}/feed.atom")
    tag = headers["ETag"]
    status, _, body = _get(f"{base}/feed.atom", {"If-None-Match": tag})
    assert status == 304 and body == b""
    # A case changes after publication: the correction appears in the feed by itself.
    flow.submit(cluster, "findings", factories.findings(published["tmp"] / "f.xlsx", [
        (published["rows"][3].uscc, "四(一)5", "考场监控录像")]), OPERATOR)
    flow.verdict(cluster, published["rows"][3].uscc, "终止备案")
    second = cluster.cli_json("publish", "notice", "--out", str(published["tmp"] / "portal"))
    notice = second["notice"]
    assert notice["corrects"]["number"] == "晋人社评估〔2023〕1号" and notice["entries"] == 1
    status, headers, body = _get(f"{base}/feed.atom", {"If-None-Match": tag})
    assert status == 200 and headers["ETag"] != tag
    ids = [e.id for e in feedparser.parse(body).entries]
    assert f"urn:pinggu:notice:{notice['id']}" in ids
    # The first notice is immutable: its files are byte for byte what they were; its
    # page only gains the portal's note linking to the later notice.
    first_id = published["first"]["notice"]["id"]
    for kind in ("html", "json", "xlsx"):
        status, _, served = _get(f"{base}/notices/{first_id}.{kind}")
        if kind == "html":
            note = re.search(rb'<aside class="later".*?</aside>\n', served, re.S).group(0)
            assert f'href="{notice["id"]}.html"'.encode() in note
            served = served.replace(note, b"")
        assert served == published["first_files"][f"notices/{first_id}.{kind}"]
    rc, out, err = cluster.cli("publish", "notice", "--out", str(published["tmp"] / "portal"),
                               operator="province")
    assert rc == 2 and "nothing has changed" in err


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                    "(.ci/run installs it)")
@pytest.mark.parametrize("page", ["index.html", "notice"])
def test_pages_render_in_headless_chromium_with_chinese_text_and_lists(published, page, tmp_path):
    base = published["base"]
    url = f"{base}/{page}" if page == "index.html" else \
        f"{base}/notices/{published['first']['notice']['id']}.html"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", url], capture_output=True,
                         text=True, timeout=120).stdout
    shot = tmp_path / "page.png"
    subprocess.run([CHROMIUM, *flags, "--window-size=412,915", f"--screenshot={shot}", url],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 5000
    assert "山西省人力资源和社会保障厅" in dom
    if page == "notice":
        for label in ("同意延续备案", "暂停评价活动", "终止备案", "正常评价"):
            assert label in dom
        for row in published["rows"]:
            assert row.uscc in dom
        assert "<script>alert" not in dom
    else:
        assert "晋人社评估〔2023〕1号" in dom
