"""The notices' application: the cases as the publications list them, the evaluation
opinions, and the province's notices, immutable once published."""
import os
import tempfile

from shared import bulk
from shared.application import ServiceApplication, case_id
from shared.errors import BadInput
from shared.integration import dumps
from services.notices import followups, publications
from services.notices.domain import Notice, notice_id
from services.notices.inbound import Inbound
from services.notices.projections import Listing  # noqa: F401  (the service attaches it)

from shared.language.outcomes import COHORTS as IN_SCOPE
from shared.language.notice import NOTICE_2023 as CAMPAIGN  # whose results these carry
NUMBER = "晋人社评估〔{year}〕{sequence}号"


class Notices(Inbound, ServiceApplication):
    name = "notices"

    # -- queries ----------------------------------------------------------------------
    def _rows(self, where="", params=()):
        self.projections["listing"].catch_up()
        with self.recorder.datastore.transaction(commit=False) as cur:
            cur.execute(f"SELECT uscc, jurisdiction, cohort, entry FROM notices.listing_entries "
                        f"WHERE cohort = ANY(%s) {where} ORDER BY jurisdiction, uscc",
                        (list(IN_SCOPE), *params))
            return cur.fetchall()

    def decided(self, jurisdiction=None):
        """The decided cases, with their scores (for operators)."""
        rows = self._rows("AND jurisdiction = %s", (jurisdiction,)) if jurisdiction \
            else self._rows()
        return [row["entry"] for row in rows if row["entry"]]

    def _entries(self, jurisdictions):
        """The rows of these jurisdictions; BadInput naming the open cases if any."""
        return [row["entry"] for row in self._decided_rows(jurisdictions)]

    def _decided_rows(self, jurisdictions):
        rows = self._rows("AND jurisdiction = ANY(%s)", (list(jurisdictions),))
        open_cases = [row["uscc"] for row in rows if not row["entry"]]
        if open_cases:
            shown = ", ".join(open_cases[:20])
            more = f" and {len(open_cases) - 20} more" if len(open_cases) > 20 else ""
            where = sorted({row["jurisdiction"] for row in rows if not row["entry"]})
            raise BadInput(f"{len(open_cases)} case(s) not yet decided in "
                           f"{', '.join(where)}: {shown}{more}")
        if not rows:
            raise BadInput(f"no case in scope in {', '.join(sorted(jurisdictions))}")
        return rows

    # -- opinions ---------------------------------------------------------------------
    def opinions(self, jurisdictions, today, fields=None):
        """Each jurisdiction's evaluation opinion, as HTML and the 附件3 xlsx (bytes).
        `fields` (文号, 签发人, 联系人, 电话) belong to one opinion: one jurisdiction."""
        fields = {k: v for k, v in (fields or {}).items() if v}
        if fields and len(jurisdictions) != 1:
            raise BadInput(f"{', '.join(sorted(fields))} belong to one opinion: "
                           "name its --jurisdiction")
        # Every jurisdiction's rows in one query (issue 14), each opinion then its own.
        rows_of = {}
        for row in self._decided_rows(jurisdictions):
            rows_of.setdefault(row["jurisdiction"], []).append(row["entry"])
        out = {}
        for jurisdiction in sorted(jurisdictions):
            entries = rows_of.get(jurisdiction)
            if not entries:
                raise BadInput(f"no case in scope in {jurisdiction}")
            html = publications.render_opinion_html(jurisdiction, entries, fields=fields,
                                                    generated_on=today.isoformat())
            out[jurisdiction] = {"html": html,
                                 "xlsx": _xlsx_bytes(jurisdiction, entries, today),
                                 "lists": {str(cohort): {label: len(members)
                                                         for label, members in lists.items()}
                                           for cohort, lists in
                                           publications.opinion_lists(entries).items()}}
        return out

    # -- notices ----------------------------------------------------------------------
    def published(self):
        """Each case as the notices published it (the latest notice naming it wins): what
        the public may see, and nothing not yet published."""
        notices = self.published_notices(fresh=False)
        key = tuple(n["id"] for n in notices)
        cached = self.__dict__.get("_published")
        if cached and cached[0] == key:  # notices never change: only a new one does
            return cached[1]
        by_uscc = {}
        for notice in notices:
            for entry in self.repository.get(notice["id"]).entries:
                by_uscc[entry["uscc"]] = dict(entry, notice=notice["number"])
        result = [by_uscc[k] for k in sorted(by_uscc)]
        self._published = (key, result)
        return result

    def public_records(self):
        """Each institution's public record across the notices, from the published lists
        only: {uscc: [row as each notice published it, with notice id, number, kind and
        date], ...} in publication order. Cached until a new notice appears."""
        notices = self.published_notices(fresh=False)
        key = tuple(n["id"] for n in notices)
        cached = self.__dict__.get("_records")
        if cached and cached[0] == key:
            return cached[1]
        records = {}
        for notice in notices:
            for entry in self.repository.get(notice["id"]).entries:
                records.setdefault(entry["uscc"], []).append(dict(
                    entry, notice_id=str(notice["id"]), number=notice["number"],
                    kind=notice["kind"], published_on=notice["published_on"].isoformat()))
        self._records = (key, records)
        return records

    def published_notices(self, fresh=True):
        """The notices; `fresh` first catches the read table up (operators' commands). The
        public portal reads what is already projected: anonymous polling must not take
        the projection's lock."""
        if fresh:
            self.projections["listing"].catch_up()
        with self.recorder.datastore.transaction(commit=False) as cur:
            cur.execute("SELECT id, sequence, number, title, published_on, recorded_at, "
                        "corrects, length(html) AS html_size, length(xlsx) AS xlsx_size, "
                        "coalesce(data->>'kind', 'results') AS kind, data->'affects' AS affects,"
                        " data->>'summary' AS summary "
                        "FROM notices.listing_notices ORDER BY sequence")
            return [dict(row) for row in cur.fetchall()]

    def notice_file(self, notice_uuid, kind):
        column = {"html": "html", "json": "data", "xlsx": "xlsx"}[kind]
        with self.recorder.datastore.transaction(commit=False) as cur:
            cur.execute(f"SELECT {column} AS body FROM notices.listing_notices WHERE id = %s",
                        (str(notice_uuid),))
            row = cur.fetchone()
        if row is None:
            return None
        body = row["body"]
        if kind == "json":
            return dumps(body).encode()
        return bytes(body) if kind == "xlsx" else body.encode()

    def publish_notice(self, today, title=None, kind=None, reason=None):
        """Publish the province's notice of all decided cases. After the first, a notice
        lists only what changed since it was published: the rectification-results notice
        (整改复评结果通告) for closed rectifications, a correction (更正通告) for any other
        change, each naming the notices it follows. `kind` picks one when both are
        pending (default: the rectification results first); `reason` is a correction's
        why, in the operator's words (default: derived from the changed grounds)."""
        def command():
            previous = self.published_notices()
            current = self._entries(self._all_jurisdictions())
            if kind not in (None, *followups.KINDS):
                raise BadInput(f"unknown kind of notice {kind!r} "
                               f"(one of {', '.join(followups.KINDS)})")
            affects, remaining = [], 0
            if not previous:
                if kind not in (None, followups.RESULTS):
                    raise BadInput("the first notice is the results notice (results)")
                chosen, rows = followups.RESULTS, current
            else:
                published, notice_of = self._published_rows(previous)
                split = followups.follow_up_rows(current, published, notice_of, reason)
                pending = [k for k in (followups.RECTIFICATION, followups.CORRECTION)
                           if split[k]]
                if not pending:
                    raise BadInput(f"nothing has changed since notice {previous[-1]['number']}")
                chosen = kind or pending[0]
                if chosen not in pending:
                    raise BadInput(f"no {followups.KIND_ZH.get(chosen, chosen)} to publish: "
                                   f"pending are {', '.join(pending)}")
                rows = split[chosen]
                remaining = sum(len(split[k]) for k in pending if k != chosen)
                ids = {r["original"]["id"] for r in rows if r.get("original")}
                affects = [{"id": str(n["id"]), "number": n["number"]} for n in previous
                           if str(n["id"]) in ids]
            entries = [public_entry(e) for e in rows]
            first = affects[0] if affects else None
            sequence = len(previous) + 1
            nid = notice_id(sequence)
            number = NUMBER.format(year=today.year, sequence=sequence)
            notice = {"id": str(nid), "number": number, "kind": chosen,
                      "title": title or publications.TITLES[chosen],
                      "published_on": today.isoformat(),
                      "corrects": first if chosen == followups.CORRECTION else None,
                      "cites": first, "affects": affects,
                      "entries": entries, "xlsx_url": f"notices/{nid}.xlsx"}
            notice["summary"] = publications.notice_summary(notice)
            html = publications.render_notice_html(notice)
            data = publications.notice_data(notice)
            xlsx = _xlsx_bytes(None, entries, today, notice)
            published_notice = Notice(sequence=sequence, number=number, title=notice["title"],
                                      published_on=notice["published_on"],
                                      corrects=notice["corrects"], entries=entries, html=html,
                                      data=data, xlsx=xlsx, kind=chosen, affects=affects)
            # Every listed case in one query, not a round trip apiece (issue 14).
            loaded = bulk.load_many(self, [case_id(entry["uscc"]) for entry in entries])
            cases = []
            for entry in entries:
                case = loaded[case_id(entry["uscc"])]
                if case is None:
                    raise LookupError(f"no case of {entry['uscc']} to record the notice on")
                case.publish(str(nid), number, entry)
                cases.append(case)
            self.save(published_notice, *cases)
            return {"id": str(nid), "number": number, "published_on": notice["published_on"],
                    "kind": chosen, "corrects": notice["corrects"], "affects": affects,
                    "entries": len(entries), "remaining": remaining}
        return self.run_command(command)

    def _published_rows(self, notices):
        """Each USCC's last published row, and the {id, number} of its notice."""
        rows, notice_of = {}, {}
        for notice in notices:
            for entry in self.repository.get(notice["id"]).entries:
                rows[entry["uscc"]] = entry
                notice_of[entry["uscc"]] = {"id": str(notice["id"]), "number": notice["number"]}
        return rows, notice_of

    def _all_jurisdictions(self):
        with self.recorder.datastore.transaction(commit=False) as cur:
            cur.execute("SELECT DISTINCT jurisdiction FROM notices.listing_entries")
            return [row["jurisdiction"] for row in cur.fetchall()]


_INTERNAL = ("basis", "facts_grade")  # how a verdict was reached: the department's


def public_entry(entry):
    """A case as the public sees it: outcomes, not scores (those are the department's)."""
    return {**{k: v for k, v in entry.items() if k not in _INTERNAL},
            "total": None, "grade": None}


def _xlsx_bytes(jurisdiction, entries, today, notice=None):
    with tempfile.TemporaryDirectory(prefix="pinggu-xlsx-") as tmp:
        path = os.path.join(tmp, "summary.xlsx")
        if notice is not None and notice["kind"] != followups.RESULTS:
            publications.write_followup_xlsx(path, notice)
        else:
            publications.write_summary_xlsx(path, jurisdiction, entries,
                                            generated_on=today.isoformat())
        with open(path, "rb") as f:
            return f.read()
