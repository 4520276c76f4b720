"""Official documents (issue 16), end to end on real services: the opinion's PDF with its
文号 and 签发人, the results notice, the rectification-results notice (every termination
with its reason), a correction showing original → corrected, the original's page and
feed entry linking to both, and the portal's search finding an institution's page with
its outcomes across notices, in headless Chromium at phone and desktop sizes."""
import datetime
import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request

import feedparser
import pytest

from tests import factories
from tests.e2e import flow
from tests.support import Cluster

pytestmark = pytest.mark.e2e

CITY, OPERATOR = "140400", "city-140400"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PDFTOTEXT = shutil.which("pdftotext")
# name: (cohort, first score, what follows)
PLAN = {"pass": (2020, 90), "rectified": (2021, 72), "still_below": (2020, 75),
        "lapsed": (2021, 65), "corrected": (2021, 85), "failed": (2020, 55)}


def _get(url):
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("documents")
    cluster = Cluster().create()
    cluster.env.update(PINGGU_SITE_ICP="晋ICP备00000000号", PINGGU_SITE_CODE="1400000000")
    try:
        cluster.start().open_campaign()
        rows = {name: factories.institution(7100 + n, cohort=cohort, city=CITY,
                                            name=f"长治市{name}职业培训学校")
                for n, (name, (cohort, _)) in enumerate(PLAN.items())}
        usccs = {name: row.uscc for name, row in rows.items()}
        flow.clock(cluster, "2023-08-28")
        flow.file(cluster, tmp, list(rows.values()))
        flow.self_assess(cluster, tmp, list(rows.values()), OPERATOR)
        flow.clock(cluster, "2023-09-20")
        flow.score(cluster, tmp, {usccs[n]: s for n, (_, s) in PLAN.items()}, OPERATOR)
        # A finding recorded in error (as in the demo): it terminates, until withdrawn.
        flow.submit(cluster, "findings", factories.findings(tmp / "f.xlsx", [
            (usccs["corrected"], "四(一)5", "考场监控录像显示有组织传递答案")]), OPERATOR)
        flow.verdict(cluster, usccs["corrected"], "终止备案")
        for uscc in usccs.values():
            flow.verdict(cluster, uscc)
        flow.clock(cluster, "2023-10-31")
        cluster.cli("publish", "opinions", "--jurisdiction", CITY, "--out", str(tmp / "opinions"),
                    "--number", "长人社字〔2023〕31号", "--signer", "赵六", "--contact", "钱七",
                    "--phone", "0355-2020202", operator=OPERATOR, check=True)
        portal = str(tmp / "portal")
        results = cluster.cli_json("publish", "notice", "--out", portal)["notice"]

        # The rectification round: one rectifies and passes, one rectifies and is still
        # below standard, one does nothing by the deadline (2023-09-20 + 2 months).
        flow.clock(cluster, "2023-11-10")
        flow.submit(cluster, "rectification", factories.rectification(tmp / "rect.xlsx", [
            (usccs[n], "已整改", datetime.date(2023, 11, 8)) for n in ("rectified", "still_below")
        ]), OPERATOR)
        flow.score(cluster, tmp, {usccs["rectified"]: 90, usccs["still_below"]: 70}, OPERATOR,
                   name="rescore.xlsx")
        flow.clock(cluster, "2023-11-21")
        flow.verdict(cluster, usccs["rectified"], "恢复评价活动")
        for name in ("still_below", "lapsed"):
            flow.verdict(cluster, usccs[name], "终止备案")
        rectification = cluster.cli_json("publish", "notice", "--out", portal)["notice"]

        # A deliberate correction of one verdict: the finding was recorded in error.
        cluster.cli("finding", "withdraw", usccs["corrected"], "四(一)5", "--reason",
                    "误录：所涉系另一机构", operator=OPERATOR, check=True)
        flow.verdict(cluster, usccs["corrected"], "正常评价")
        correction = cluster.cli_json("publish", "notice", "--out", portal)["notice"]
        yield {"cluster": cluster, "tmp": tmp, "usccs": usccs, "results": results,
               "rectification": rectification, "correction": correction,
               "base": f"http://127.0.0.1:{cluster.http_port}"}
    finally:
        cluster.destroy()


def page(documents, notice):
    status, body = _get(f"{documents['base']}/notices/{documents[notice]['id']}.html")
    assert status == 200
    return body


@pytest.mark.skipif(PDFTOTEXT is None, reason="poppler-utils is not installed")
def test_the_opinion_pdf_has_its_number_and_signer(documents):
    path = documents["tmp"] / "opinions" / f"opinion-{CITY}.pdf"
    text = " ".join(subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    assert "长人社字〔2023〕31号" in text and "签发人：赵六" in text
    assert "联系人：钱七" in text and "— 1 —" in text


@pytest.mark.skipif(PDFTOTEXT is None, reason="poppler-utils is not installed")
def test_each_notice_has_its_print_ready_pdf(documents):
    for notice in ("results", "rectification", "correction"):
        path = documents["tmp"] / "portal" / "notices" / f"{documents[notice]['id']}.pdf"
        text = subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True,
                              text=True, check=True).stdout
        assert documents[notice]["number"] in text and "— 1 —" in text
    # The portal serves the same document as PDF.
    request = f"{documents['base']}/notices/{documents['correction']['id']}.pdf"
    with urllib.request.urlopen(request) as response:
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.read().startswith(b"%PDF")


def test_the_notices_are_a_results_notice_then_rectification_results_then_a_correction(
        documents):
    assert documents["results"]["kind"] == "results"
    assert documents["rectification"]["kind"] == "rectification"
    assert documents["rectification"]["entries"] == 3
    assert documents["correction"]["kind"] == "correction"
    assert documents["correction"]["entries"] == 1
    assert documents["correction"]["corrects"]["number"] == documents["results"]["number"]


def test_every_termination_in_the_rectification_results_has_its_reason(documents):
    html = page(documents, "rectification")
    assert "整改复评结果的通告" in html and "更正通告" not in html
    usccs = documents["usccs"]
    reasons = {}
    for name in ("rectified", "still_below", "lapsed"):
        row = re.search(rf'<tr id="u-{usccs[name]}">(.*?)</tr>', html, re.S).group(1)
        reasons[name] = re.search(r'data-label="备注">([^<]+)</td>', row).group(1)
    assert reasons == {"rectified": "整改复评合格，依据第四条第（二）项恢复评价活动",
                       "still_below": "复评仍不达标，依据第四条第（二）项终止备案",
                       "lapsed": "逾期未整改，依据第四条第（二）项终止备案"}


def test_the_correction_shows_original_and_corrected(documents):
    html = page(documents, "correction")
    row = re.search(rf'<tr id="u-{documents["usccs"]["corrected"]}">(.*?)</tr>', html,
                    re.S).group(1)
    assert re.search(r'class="was"[^>]*>终止备案（四（一）5）', row)
    assert re.search(r'class="now"[^>]*>正常评价（—）', row)
    assert "经复核，原认定的通知第四条第（一）项第5款所列情形不成立" in row


def test_the_original_page_and_feed_entry_link_to_both_later_notices(documents):
    html = page(documents, "results")
    later = re.search(r'<aside class="later".*?</aside>', html, re.S).group(0)
    for notice in ("rectification", "correction"):
        assert f'href="{documents[notice]["id"]}.html"' in later
        assert documents[notice]["number"] in later
    status, body = _get(f"{documents['base']}/feed.atom")
    feed = feedparser.parse(body)
    entry = next(e for e in feed.entries if e.id.endswith(documents["results"]["id"]))
    related = {link.href.rsplit("/", 1)[-1] for link in entry.links if link.rel == "related"}
    assert related == {f"{documents[n]['id']}.html" for n in ("rectification", "correction")}
    items = json.loads(_get(f"{documents['base']}/feed.json")[1])["items"]
    for item in items:
        assert item["title"] not in item["content_html"]
    # The document itself is as published: only the portal's note was added.
    stored = (documents["tmp"] / "portal" / "notices" / f"{documents['results']['id']}.json")
    assert json.loads(stored.read_text())["number"] == documents["results"]["number"]


def test_the_portal_has_a_government_site_footer(documents):
    status, html = _get(f"{documents['base']}/index.html")
    assert "主办单位：山西省人力资源和社会保障厅" in html
    assert "晋ICP备00000000号" in html and "网站标识码：1400000000" in html
    assert 'action="search"' in html


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
@pytest.mark.parametrize("size", ["412,915", "1366,900"], ids=["phone", "desktop"])
def test_searching_a_uscc_finds_the_institution_and_its_outcomes(documents, size, tmp_path):
    uscc = documents["usccs"]["corrected"]
    # The search is a plain GET form: what a phone submits without any script is this
    # URL, and the pages' Content-Security-Policy lets no script run at all.
    status, index = _get(f"{documents['base']}/index.html")
    assert re.search(r'<form class="search"[^>]*method="get" action="search">', index)
    assert "<script" not in index and "default-src 'none'" in index
    url = f"{documents['base']}/search?q={uscc}"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--window-size={size}",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", url], capture_output=True,
                         text=True, timeout=120).stdout
    assert uscc in dom and "长治市corrected职业培训学校" in dom
    assert documents["results"]["number"] in dom and documents["correction"]["number"] in dom
    assert "正常评价" in dom and "终止备案" in dom
    shot = tmp_path / "page.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", url], capture_output=True,
                   timeout=120)
    assert shot.exists() and shot.stat().st_size > 5000
    # By part of a name, too: a list of links, no script needed.
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom",
                          f"{documents['base']}/search?q=%E9%95%BF%E6%B2%BB%E5%B8%82"],
                         capture_output=True, text=True, timeout=120).stdout
    assert all(f"institutions/{u}.html" in dom for u in documents["usccs"].values())
