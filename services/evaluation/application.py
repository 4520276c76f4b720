"""The evaluation's application: the campaign, case files opened from filings, and the
forms handed in, each recorded as a whole or not at all."""
import collections

from shared.application import ServiceApplication, case_id
from shared.bulk import load_many
from shared.errors import BadInput
from services.evaluation import campaign as campaign_module
from services.evaluation.campaign import Campaign
from services.evaluation.inbound import Inbound
from services.evaluation.projections import CaseFiles  # noqa: F401  (the service attaches it)
from services.evaluation.rubric import Rubric

_Target = collections.namedtuple("_Target", "row_number uscc")


class Evaluation(Inbound, ServiceApplication):
    name = "evaluation"

    # -- the campaign -----------------------------------------------------------------
    def open_campaign(self, spec):
        """Open a campaign; opening the same one again changes nothing, and a new rubric
        for it becomes a new version (recorded scores keep theirs)."""
        def command():
            existing = self.get_or_none(campaign_module.campaign_id(spec["notice"]))
            if existing is None:
                campaign = Campaign(**spec)
                self.save(campaign)
                return {"opened": True, **campaign.to_dict()}
            same = {k: getattr(existing, k) for k in ("title", "cohorts", "milestones",
                                                      "evaluated_through_year", "readings")}
            if same != {k: spec[k] for k in same}:
                raise BadInput(f"campaign {spec['notice']} is already open with other "
                               "settings; only a new rubric version can be given again")
            if existing.rubric != spec["rubric"]:
                if existing.rubric["version"] == spec["rubric"]["version"]:
                    raise BadInput(f"rubric {spec['rubric']['version']} already exists with "
                                   "other points or thresholds: give the new one a new version",
                                   column="rubric.version")
                existing.change_rubric(spec["rubric"])
                self.save(existing)
            return {"opened": False, **existing.to_dict()}
        return self.run_command(command)

    def current_campaign(self):
        self.projections["casefiles"].catch_up()
        with self.recorder.datastore.transaction(commit=False) as cur:
            cur.execute("SELECT campaign_id FROM evaluation.casefiles_campaigns "
                        "ORDER BY position DESC LIMIT 1")
            row = cur.fetchone()
        return self.repository.get(row["campaign_id"]) if row else None

    def require_campaign(self):
        campaign = self.current_campaign()
        if campaign is None:
            raise BadInput("no campaign is open: run `pinggu campaign open` first")
        return campaign


    # -- forms ------------------------------------------------------------------------
    def _submit(self, operator, filename, rows, apply):
        """Apply `apply(case, row, campaign)` to each row's case and save them together;
        any refusal (unknown, out of scope, another jurisdiction) records nothing.

        `apply` returns whether the row recorded something: returns (rows recorded, rows
        unchanged), the latter handed in again exactly as recorded (issue 11).

        One command for the whole file (issue 14): its cases are loaded in one query,
        not one query a row, and saved with the command's journal in one transaction."""
        campaign = self.require_campaign()

        def command():
            found = load_many(self, [case_id(row.uscc) for row in rows])
            cases, recorded = {}, 0
            for row in rows:
                case = cases.get(row.uscc) or self._case_for(
                    operator, filename, row, campaign, found[case_id(row.uscc)])
                recorded += bool(apply(case, row, campaign))
                cases[row.uscc] = case
            self.save(*cases.values())
            return recorded, len(rows) - recorded
        return self.run_command(command)

    @staticmethod
    def _case_for(operator, filename, row, campaign, case):
        """The row's case, checked: filed, in the campaign's scope, and of a jurisdiction
        the operator may act for (属地管理)."""
        where = {"file": filename, "row": row.row_number, "column": "统一社会信用代码"}
        if case is None:
            raise BadInput(f"institution {row.uscc} is not filed (or its filing has not "
                           "reached evaluation yet: `pinggu settle`, then try again)", **where)
        if not case.in_scope(campaign.cohorts):
            raise BadInput(f"institution {row.uscc} (cohort {case.filing['cohort']}) is not in "
                           f"scope of the campaign {campaign.notice}", **where)
        operator.require_jurisdiction(case.jurisdiction, f"(institution {row.uscc}, "
                                      f"{filename} row {row.row_number})")
        return case

    def submit_self_assessments(self, operator, filename, rows, today):
        flagged = []

        def apply(case, row, campaign):
            on_time = today <= campaign.milestone("self_assessment_due")
            derived, recorded = case.self_assess(
                row.to_dict(), submitted_on=today.isoformat(), on_time=on_time,
                evaluated_through_year=campaign.evaluated_through_year)
            if derived["out_of_scope"]:
                flagged.append({"uscc": row.uscc, "out_of_scope": derived["out_of_scope"]})
            return recorded
        recorded, unchanged = self._submit(operator, filename, rows, apply)
        return {"self_assessed": recorded, "unchanged": unchanged, "flagged": flagged}

    def submit_scores(self, operator, filename, rows):
        built = {}  # the campaign's rubric, built once a file: 0.3 ms, once a row before

        def apply(case, row, campaign):
            if "rubric" not in built:
                built["rubric"] = Rubric.from_dict(campaign.rubric)
            return case.score(built["rubric"].score(row.areas).to_dict(),
                              evaluator=row.evaluator, evaluated_on=row.evaluated_on,
                              rubric=campaign.rubric)
        recorded, unchanged = self._submit(operator, filename, rows, apply)
        return {"scored": recorded, "unchanged": unchanged}

    def submit_findings(self, operator, filename, rows, today):
        def apply(case, row, campaign):
            return case.record_finding(row.clause, row.evidence, recorded_on=today.isoformat())
        recorded, unchanged = self._submit(operator, filename, rows, apply)
        return {"findings": recorded, "unchanged": unchanged}

    def submit_rectifications(self, operator, filename, rows):
        def apply(case, row, campaign):
            return case.submit_rectification(row.report, row.submitted_on)
        recorded, unchanged = self._submit(operator, filename, rows, apply)
        return {"rectifications": recorded, "unchanged": unchanged}

    def _one(self, operator, uscc, change):
        """A command on one case, checked like a form's row."""
        from shared.language.uscc import normalise
        return self._submit(operator, "command", [_Target(None, normalise(str(uscc)))],
                            lambda case, row, campaign: change(case))

    def accept_excuse(self, operator, uscc, reason):
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
            raise BadInput("the reason must be a text of 1 to 2000 characters", column="reason")
        recorded, _ = self._one(operator, uscc, lambda case: case.accept_excuse(
            uscc=case.uscc, reason=reason))
        return {"excused": uscc, "unchanged": not recorded}

    def withdraw_finding(self, operator, uscc, clause, reason):
        from shared.language.clauses import FINDING_CLAUSES, parse_clause
        try:
            clause = parse_clause(clause)
        except ValueError as exc:
            raise BadInput(str(exc), column="条款")
        if clause not in FINDING_CLAUSES:
            raise BadInput(f"{clause} is not a finding clause ({', '.join(FINDING_CLAUSES)})",
                           column="条款")
        withdrawn = []

        def withdraw(case):
            withdrawn.append(case.withdraw_finding(clause, reason))
            return withdrawn[-1]
        self._one(operator, uscc, withdraw)
        return {"withdrawn": withdrawn[-1]}

    # -- queries ----------------------------------------------------------------------
    def institutions_in_scope(self, jurisdiction):
        campaign = self.require_campaign()
        self.projections["casefiles"].catch_up()
        with self.recorder.datastore.transaction(commit=False) as cur:
            cur.execute("SELECT uscc FROM evaluation.casefiles_status WHERE jurisdiction = %s "
                        "AND cohort = ANY(%s) ORDER BY uscc", (jurisdiction, campaign.cohorts))
            return [row["uscc"] for row in cur.fetchall()]

    def case_files(self, jurisdiction):
        """Per case of the jurisdiction, what has been handed in (the desk's case list)."""
        self.projections["casefiles"].catch_up()
        with self.recorder.datastore.transaction(commit=False) as cur:
            cur.execute("SELECT uscc, cohort, self_assessed, scored, flagged, findings, excused"
                        " FROM evaluation.casefiles_status WHERE jurisdiction = %s"
                        " ORDER BY uscc", (jurisdiction,))
            return [dict(r) for r in cur.fetchall()]

    def template_usccs(self, jurisdiction, usccs=None):
        """The USCCs a form of the jurisdiction lists, in the order it lists them: all in
        scope, or those of `usccs` among them."""
        chosen = self.institutions_in_scope(jurisdiction)
        if usccs is not None:
            wanted = set(usccs)
            chosen = [u for u in chosen if u in wanted]
        return chosen

    def named_institutions(self, jurisdiction, usccs):
        """These institutions of the jurisdiction, each with its name, in this order."""
        # The names are in the case files: all loaded in one query (issue 14).
        found = load_many(self, [case_id(u) for u in usccs])
        return [{"uscc": u, "name": found[case_id(u)].filing.get("name"),
                 "jurisdiction": jurisdiction} for u in usccs]

    def status(self, today):
        campaign = self.require_campaign()
        self.projections["casefiles"].catch_up()
        with self.recorder.datastore.transaction(commit=False) as cur:
            cur.execute(
                "SELECT jurisdiction, count(*) AS in_scope,"
                " count(*) FILTER (WHERE self_assessed) AS self_assessed,"
                " count(*) FILTER (WHERE scored) AS scored,"
                " count(*) FILTER (WHERE NOT self_assessed AND NOT excused)"
                "   AS missing_self_assessment,"
                " count(*) FILTER (WHERE NOT scored) AS missing_score,"
                " count(*) FILTER (WHERE flagged) AS flagged,"
                " count(*) FILTER (WHERE excused) AS excused"
                " FROM evaluation.casefiles_status WHERE cohort = ANY(%s)"
                " GROUP BY jurisdiction ORDER BY jurisdiction", (campaign.cohorts,))
            rows = [dict(r) for r in cur.fetchall()]
        return {"campaign": campaign.to_dict(), "today": today.isoformat(),
                "next_milestone": campaign.next_milestone(today), "jurisdictions": rows}
