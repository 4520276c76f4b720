"""The operators' desk in a real headless Chromium (Debian's, driven by Selenium), against
a cluster of its own: issue 15's acceptance scenario, step by step.

Screenshots of every page, at 1366×768 and 390×844, go to var/test-output/desk/ (or
$PINGGU_TEST_OUTPUT/desk/), not committed, for a reviewer to look at.
"""
import datetime
import hashlib
import os
import time
import urllib.error
import urllib.request

import openpyxl
import pytest

from tests import factories
from tests.e2e import flow
from tests.support import ROOT, Cluster, wait_for

pytestmark = pytest.mark.e2e

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    pytest.skip("Debian's chromium and chromium-driver are not installed (.ci/run installs "
                "them)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

PASSWORD = "太原-desk-2023-pw"
OTHER_PASSWORD = "datong-desk-2023"
SIZES = {"desktop": (1366, 768), "phone": (390, 844)}
OUTPUT = os.path.join(os.environ.get("PINGGU_TEST_OUTPUT") or os.path.join(ROOT, "var",
                                                                           "test-output"),
                      "desk")
# Four planted errors, each in its own cell of the self-assessment's sheet 机构情况:
# (row index among the institutions, column, value).
PLANTED = [(0, "考评人员数", "12人"), (1, "内部质量督导人员数", -1), (2, "专家数", "五"),
           (0, "自评得分", 150)]
GOOD = {"考评人员数": 12, "内部质量督导人员数": 3, "专家数": 5, "自评得分": 85}


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """A cluster of the desk's own (a form pre-filled for 140100 lists exactly these
    institutions), with three institutions of 140100 and one of 140200."""
    cluster = Cluster().create()
    try:
        cluster.start().open_campaign()
        tmp = tmp_path_factory.mktemp("desk-roster")
        rows = [factories.institution(n, city="140100") for n in (501, 502, 503)] + \
            [factories.institution(504, city="140200")]
        flow.file(cluster, tmp, rows)
        for operator, password in (("city-140100", PASSWORD), ("city-140200", OTHER_PASSWORD),
                                   ("city-140300", OTHER_PASSWORD), ("province", PASSWORD)):
            cluster.cli("operator", "password", operator, "--password-stdin",
                        operator="province", input=password + "\n", check=True)
        cluster.url = cluster.start_desk()
        cluster.rows = rows
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    downloads = tmp_path_factory.mktemp("desk-downloads")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
                 "--window-size=1366,768", "--lang=zh-CN"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "safebrowsing.enabled": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.downloads = downloads
    # A page that follows a form post (an upload the services check) may take a moment.
    driver.implicitly_wait(20)
    try:
        yield driver
    finally:
        driver.quit()


# -- helpers -----------------------------------------------------------------------------
def open_page(browser, desk, path):
    browser.get(desk.url + path)


def screenshots(browser, name):
    """The page as it is, at both sizes; the window is put back to the desktop size."""
    os.makedirs(OUTPUT, exist_ok=True)
    for size, (width, height) in SIZES.items():
        browser.set_window_size(width, height)
        browser.save_screenshot(os.path.join(OUTPUT, f"{name}-{size}-{width}x{height}.png"))
    browser.set_window_size(*SIZES["desktop"])


def sign_in(browser, desk, operator, password):
    browser.delete_all_cookies()
    open_page(browser, desk, "/signin")
    browser.find_element(By.ID, "operator").send_keys(operator)
    browser.find_element(By.ID, "password").send_keys(password)
    # The answer replaces the sign-in page (a landing page, or the form again with an error):
    # wait for it, so the next request carries the new session, not none.
    click_and_wait(browser, "signin")


def click_and_wait(browser, element_id):
    """Click, and return once the page the click asked for has replaced this one (a click
    returns before the browser has navigated)."""
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.ID, element_id).click()
    WebDriverWait(browser, 30).until(expected_conditions.staleness_of(page))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def text(browser, element_id):
    return browser.find_element(By.ID, element_id).text


def status_of(browser, desk, path):
    """The HTTP status of a GET with the browser's session (the page alone does not say)."""
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
    request = urllib.request.Request(desk.url + path, headers={"Cookie": cookie})
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def download(browser, element_id, name):
    target = os.path.join(browser.downloads, name)
    if os.path.exists(target):
        os.unlink(target)
    browser.find_element(By.ID, element_id).click()
    wait_for(lambda: os.path.exists(target) and not os.path.exists(target + ".crdownload"),
             timeout=30, what=f"the download of {name}")
    time.sleep(0.2)
    return target


def fill_self_assessment(template, out, planted=()):
    """The downloaded template filled in as a clerk would, with `planted` errors."""
    wb = openpyxl.load_workbook(template)
    sheet = wb["机构情况"]
    header = [c.value for c in sheet[1]]
    for n, row in enumerate(sheet.iter_rows(min_row=2)):
        if not row[0].value:
            continue
        for column, value in GOOD.items():
            row[header.index(column)].value = value
        for index, column, value in planted:
            if index == n:
                row[header.index(column)].value = value
    activity = wb["认定开展情况"]
    for row in list(sheet.iter_rows(min_row=2, values_only=True)):
        if row[0]:
            for year in (2021, 2022):
                activity.append([row[0], year, "6-18-02-04", 4, 40, 36, 36])
    wb.save(out)
    return str(out)


def upload(browser, desk, kind, path):
    open_page(browser, desk, "/forms")
    browser.find_element(By.CSS_SELECTOR, f"#kind option[value='{kind}']").click()
    browser.find_element(By.ID, "file").send_keys(path)
    browser.find_element(By.ID, "upload").click()


# -- the acceptance scenario -------------------------------------------------------------
def test_a_clerk_signs_in_and_downloads_the_self_assessment_pre_filled(desk, browser):
    sign_in(browser, desk, "city-140100", PASSWORD)
    assert "city-140100" in text(browser, "who") or "太原" in text(browser, "who")
    assert "共 3 家" in text(browser, "count")
    screenshots(browser, "cases")
    open_page(browser, desk, "/forms")
    screenshots(browser, "forms")
    template = download(browser, "download-self-assessment", "140100-self-assessment.xlsx")
    usccs = [r[0] for r in openpyxl.load_workbook(template)["机构情况"].iter_rows(
        min_row=2, values_only=True) if r[0]]
    assert sorted(usccs) == sorted(r.uscc for r in desk.rows[:3])


def test_an_upload_with_four_planted_errors_shows_all_four_and_the_marked_workbook(
        desk, browser, tmp_path):
    template = os.path.join(browser.downloads, "140100-self-assessment.xlsx")
    bad = fill_self_assessment(template, tmp_path / "自查自评-有错.xlsx", PLANTED)
    upload(browser, desk, "self-assessment", bad)
    errors = browser.find_elements(By.CSS_SELECTOR, "tr.upload-error")
    screenshots(browser, "upload-errors")
    assert len(errors) == 4, [e.text for e in errors]
    columns = sorted(e.find_elements(By.TAG_NAME, "td")[2].text for e in errors)
    assert columns == sorted(c for _, c, _ in PLANTED)
    marked = download(browser, "marked", "自查自评-有错-标注.xlsx")
    sheet = openpyxl.load_workbook(marked)["机构情况"]
    commented = [c for row in sheet.iter_rows() for c in row if c.comment is not None
                 and c.row > 1]
    assert len(commented) == 4
    # All or nothing: nothing was recorded.
    assert desk.cli_json("campaign", "status")["jurisdictions"][0]["self_assessed"] == 0


def test_the_corrected_file_gives_a_receipt_and_the_verdicts_show_on_the_case_list(
        desk, browser, tmp_path):
    sign_in(browser, desk, "city-140100", PASSWORD)
    open_page(browser, desk, "/forms")
    template = download(browser, "download-self-assessment", "140100-self-assessment.xlsx")
    good = fill_self_assessment(template, tmp_path / "自查自评.xlsx")
    upload(browser, desk, "self-assessment", good)
    assert "city-140100" in text(browser, "receipt-who")
    assert text(browser, "receipt-rows") == "3"
    with open(good, "rb") as f:
        assert text(browser, "receipt-sha256") == hashlib.sha256(f.read()).hexdigest()
    assert datetime.date.today().isoformat() in text(browser, "receipt-when")
    screenshots(browser, "receipt")

    scores = dict(zip((r.uscc for r in desk.rows[:3]), (90, 70, 40)))
    flow.score(desk, tmp_path, scores, "city-140100")
    expected = {uscc: flow.verdict(desk, uscc)["outcome"] for uscc in scores}

    def listed():
        open_page(browser, desk, "/cases")
        return {row.get_attribute("data-uscc"): row.find_element(By.CLASS_NAME,
                                                                 "outcome").text
                for row in browser.find_elements(By.CSS_SELECTOR, "#cases tbody tr")}
    wait_for(lambda: listed() == expected, timeout=30, what="the verdicts on the case list")
    screenshots(browser, "cases-decided")

    # The rectification and re-score forms list only the cases under rectification.
    rectifying = sorted(u for u, outcome in expected.items() if outcome == "暂停评价活动")
    assert rectifying
    open_page(browser, desk, "/forms")
    for name in ("rectification", "re-score"):
        path = download(browser, f"download-{name}", f"140100-{name}.xlsx")
        listed_usccs = [r[0] for r in openpyxl.load_workbook(path).worksheets[0].iter_rows(
            min_row=2, values_only=True) if r[0]]
        assert sorted(listed_usccs) == rectifying, name

    open_page(browser, desk, f"/cases?q={desk.rows[2].uscc[-6:]}")
    assert [r.get_attribute("data-uscc") for r in browser.find_elements(
        By.CSS_SELECTOR, "#cases tbody tr")] == [desk.rows[2].uscc]
    open_page(browser, desk, f"/cases/{desk.rows[2].uscc}")
    assert text(browser, "outcome") == expected[desk.rows[2].uscc]
    assert browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")
    screenshots(browser, "case")
    open_page(browser, desk, f"/cases/{desk.rows[2].uscc}?as_of=2023-08-27")
    assert "待自查自评" in text(browser, "state")


def test_another_citys_case_and_template_are_404_for_the_clerk(desk, browser):
    sign_in(browser, desk, "city-140100", PASSWORD)
    other = desk.rows[3].uscc
    assert status_of(browser, desk, f"/cases/{other}") == 404
    assert status_of(browser, desk, "/forms/140200/self-assessment.xlsx") == 404
    assert status_of(browser, desk, "/cases?jurisdiction=140200") == 404
    assert status_of(browser, desk, f"/cases/{desk.rows[0].uscc}") == 200
    assert status_of(browser, desk, "/forms/140100/self-assessment.xlsx") == 200
    open_page(browser, desk, f"/cases/{other}")
    assert text(browser, "error-title") == "未找到"
    screenshots(browser, "not-found")
    # Its own clerk sees it.
    sign_in(browser, desk, "city-140200", OTHER_PASSWORD)
    assert status_of(browser, desk, f"/cases/{other}") == 200


def test_five_wrong_passwords_lock_the_account(desk, browser):
    for attempt in range(5):
        sign_in(browser, desk, "city-140300", f"wrong-{attempt}-password")
        assert "signin" in browser.current_url
    assert "锁定" in text(browser, "error")
    screenshots(browser, "signin-locked")
    sign_in(browser, desk, "city-140300", OTHER_PASSWORD)  # the right one, too late
    assert "锁定" in text(browser, "error")
    listed = {e["id"]: e for e in desk.cli_json("operator", "list")}
    assert listed["city-140300"]["sign_in"]["locked"]
    assert listed["city-140300"]["sign_in"]["failures"] == 5
    # A new password from the province lifts it.
    desk.cli("operator", "password", "city-140300", "--password-stdin", operator="province",
             input="a-new-password-1\n", check=True)
    sign_in(browser, desk, "city-140300", "a-new-password-1")
    assert browser.find_elements(By.ID, "signout")


def test_a_form_post_without_the_csrf_token_is_refused(desk, browser):
    sign_in(browser, desk, "city-140100", PASSWORD)
    open_page(browser, desk, "/cases")
    browser.execute_script(
        "document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
    browser.find_element(By.ID, "signout").click()
    assert "请求被拒绝" in text(browser, "error-title")
    screenshots(browser, "csrf-refused")
    open_page(browser, desk, "/cases")  # still signed in: the sign-out was refused
    assert browser.find_elements(By.ID, "signout")
    click_and_wait(browser, "signout")  # with its token it works
    assert "signin" in browser.current_url
    assert status_of(browser, desk, "/cases") == 302 or "signin" in browser.current_url


def test_the_provinces_progress_page_shows_the_counts_of_campaign_status(desk, browser):
    sign_in(browser, desk, "province", PASSWORD)
    open_page(browser, desk, "/progress")
    screenshots(browser, "progress")
    expected = desk.cli_json("campaign", "status")["jurisdictions"]
    shown = {}
    for row in browser.find_elements(By.CSS_SELECTOR, "#progress tbody tr"):
        cells = [int(td.text) for td in row.find_elements(By.CSS_SELECTOR, "td.num")]
        shown[row.get_attribute("data-jurisdiction")] = cells
    assert shown == {j["jurisdiction"]: [j["in_scope"], j["self_assessed"], j["scored"],
                                         j["missing_self_assessment"], j["missing_score"],
                                         j["flagged"]] for j in expected}
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    open_page(browser, desk, "/publish")
    screenshots(browser, "publish")
    browser.find_element(By.CSS_SELECTOR, "#opinions-jurisdiction option[value='140100']").click()
    browser.find_element(By.ID, "publish-opinions").click()
    assert "太原市" in text(browser, "published")
    opinion = download(browser, "opinion-140100", "140100-评估意见-附件3.xlsx")
    assert openpyxl.load_workbook(opinion).worksheets
    # The notice needs every case decided: 140200's is not, and the page says which.
    open_page(browser, desk, "/publish")
    browser.find_element(By.ID, "publish-notice").click()
    assert "not yet decided" in browser.find_element(By.CLASS_NAME, "error").text
    sign_in(browser, desk, "city-140100", PASSWORD)
    assert status_of(browser, desk, "/progress") == 404


# -- forms in parts (issue 14) -----------------------------------------------------------
LARGE = 4001  # one more than a form lists (services.evaluation.forms.templates.PER_FILE)


def test_a_jurisdiction_over_4000_institutions_gets_each_form_in_parts(desk, browser,
                                                                       tmp_path):
    rows = [factories.institution(n, city="140300") for n in range(30001, 30001 + LARGE)]
    desk.cli("roster", "import", factories.roster(tmp_path / "large.xlsx", rows),
             operator="province", check=True, timeout=600)
    wait_for(lambda: {j["jurisdiction"]: j["in_scope"] for j in desk.cli_json(
        "campaign", "status")["jurisdictions"]}.get("140300") == LARGE, timeout=120,
        what="evaluation to know 140300's filings")
    usccs = sorted(r.uscc for r in rows)

    sign_in(browser, desk, "province", PASSWORD)
    open_page(browser, desk, "/forms?jurisdiction=140300")
    screenshots(browser, "forms-parts")
    links = {e.get_attribute("id"): e.text for e in browser.find_elements(
        By.CSS_SELECTOR, "a[id^='download-self-assessment']")}
    assert links == {"download-self-assessment-1": "第1部分（第1–4000家）",
                     "download-self-assessment-2": "第2部分（第4001家）"}
    first = download(browser, "download-self-assessment-1", "140300-self-assessment-1.xlsx")
    second = download(browser, "download-self-assessment-2", "140300-self-assessment-2.xlsx")

    def listed(path):
        return [r[0] for r in openpyxl.load_workbook(path, read_only=True)["机构情况"]
                .iter_rows(min_row=2, values_only=True) if r[0]]
    assert listed(first) == usccs[:4000] and listed(second) == usccs[4000:]
    assert status_of(browser, desk, "/forms/140300/self-assessment-3.xlsx") == 404
    assert status_of(browser, desk, "/forms/140300/self-assessment.xlsx") == 303

    # A part is filled in and handed in on its own.
    upload(browser, desk, "self-assessment",
           fill_self_assessment(second, tmp_path / "自查自评-第2部分.xlsx"))
    assert text(browser, "receipt-rows") == "1"
