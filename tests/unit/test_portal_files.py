"""The portal's files (services/notices/portal.py `files`) are built again only where what
they show changed (issue 14): the site a later call returns is the one a fresh process
builds, byte for byte, while the notices are read once a call, not once a page."""
import datetime as dt
import uuid

from services.notices import portal, publications as pub
from tests.unit.test_publications import entry


class Notices:
    """The notices application as `portal.files` reads it, counting its reads."""

    def __init__(self):
        self.listing, self.stored, self.reads = [], {}, 0

    def publish(self, entries, affects=()):
        nid = uuid.uuid4()
        sequence = len(self.listing) + 1
        notice = {"id": nid, "sequence": sequence, "number": f"晋人社评估〔2023〕{sequence}号",
                  "title": "通告", "published_on": dt.date(2023, 10, 30 + sequence % 2),
                  "recorded_at": dt.datetime(2023, 10, 30, sequence, tzinfo=dt.timezone.utc),
                  "corrects": None, "kind": "results" if sequence == 1 else "correction",
                  "affects": [{"id": str(n["id"]), "number": n["number"]} for n in affects],
                  "summary": "", "xlsx_size": 2}
        self.listing.append((notice, entries))
        self.stored[nid] = {"html": pub.render_notice_html(
            {"id": str(nid), "number": notice["number"], "published_on": "2023-10-31",
             "entries": entries}).encode(), "json": b"{}", "xlsx": b"PK"}
        return notice

    def published_notices(self, fresh=True):
        self.reads += 1
        return [dict(n) for n, _ in self.listing]

    def notice_file(self, notice_id, kind):
        self.reads += 1
        return self.stored[notice_id][kind]

    def public_records(self):  # as NoticesApplication.public_records, uncached
        self.reads += 1
        records = {}
        for notice, entries in self.listing:
            for e in entries:
                records.setdefault(e["uscc"], []).append(dict(
                    e, notice_id=str(notice["id"]), number=notice["number"],
                    kind=notice["kind"], published_on=notice["published_on"].isoformat()))
        return records

    def fresh(self):
        """The same notices in an application that has built nothing yet."""
        other = Notices()
        other.listing, other.stored = self.listing, self.stored
        return other


def test_a_later_call_builds_only_what_changed_and_returns_the_same_site(monkeypatch):
    rendered = []
    render = pub.render_institution_html
    monkeypatch.setattr(pub, "render_institution_html",
                        lambda uscc, *a, **k: rendered.append(uscc) or render(uscc, *a, **k))
    app = Notices()
    rows = [entry(n, 2020, "pass", "同意延续备案") for n in range(12)]
    first = app.publish(rows)
    site = portal.files(app, "https://example.gov.cn/", pdfs=False)
    assert len(site) == 3 + 3 + 12 and len(rendered) == 12
    assert app.reads == 1 + 3 + 1  # the listing, a notice's three files, the records

    # A correction lists two of them again: their pages and the first notice's page
    # (its note naming the correction) change; nothing else is built again.
    changed = [dict(rows[3], outcome="终止备案", **{"class": "terminate"}),
               dict(rows[7], name="改名职业技能培训学校")]
    second = app.publish(changed, affects=[first])
    rendered.clear()
    again = portal.files(app, "https://example.gov.cn/", pdfs=False)
    assert sorted(rendered) == sorted(r["uscc"] for r in changed)
    assert again == portal.files(app.fresh(), "https://example.gov.cn/", pdfs=False)
    assert f"{second['id']}.html" in again[f"notices/{first['id']}.html"].decode()
    assert "改名职业技能培训学校" in again[f"institutions/{rows[7]['uscc']}.html"].decode()
    assert again[f"institutions/{rows[0]['uscc']}.html"] == \
        site[f"institutions/{rows[0]['uscc']}.html"]


def test_a_changed_footer_builds_every_page_again(monkeypatch):
    app = Notices()
    app.publish([entry(n, 2021, "pass", "正常评价") for n in range(3)])
    portal.files(app, "https://example.gov.cn/", pdfs=False)
    monkeypatch.setenv("PINGGU_SITE_ICP", "晋ICP备12345678号")
    site = portal.files(app, "https://example.gov.cn/", pdfs=False)
    pages = [body for path, body in site.items() if path.endswith(".html")]
    assert len(pages) == 1 + 1 + 3
    assert all("晋ICP备12345678号" in body.decode() for body in pages)
