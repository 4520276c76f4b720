"""The evaluation's application: case files opened from filings, score sheets recorded."""
from shared.application import ServiceApplication, case_id
from shared.errors import BadInput
from services.evaluation.domain import CaseFile
from services.evaluation.rubric import DEFAULT_RUBRIC

REGISTRY = "/pinggu/registry"


class Evaluation(ServiceApplication):
    name = "evaluation"
    rubric = DEFAULT_RUBRIC

    def on_upstream(self, envelope):
        """React to the registry's filings: open or update the case file."""
        from shared.integration import position_of, short_type
        kind = short_type(envelope)
        if kind not in ("registry.Institution.Filed", "registry.Institution.FilingChanged"):
            return False
        filing = envelope["data"]["filing"]

        def handle(processing_event):
            case = self.get_or_none(case_id(filing["uscc"]))
            if case is None:
                case = CaseFile(uscc=filing["uscc"], filing=filing)
            else:
                case.update_filing(filing)
            processing_event.collect_events(case)
        return self.process_upstream(envelope["source"], position_of(envelope), handle)

    def submit_scores(self, operator, filename, rows):
        """Record a score sheet as a whole: every row is checked before anything is saved.

        `rows` are (row_number, uscc, area_scores, evaluator, evaluated_on).
        """
        def command():
            cases = []
            for row_number, uscc, areas, evaluator, evaluated_on in rows:
                case = self.get_or_none(case_id(uscc))
                if case is None:
                    raise BadInput(f"institution {uscc} is not filed", file=filename,
                                   row=row_number, column="统一社会信用代码")
                if not case.in_scope:
                    raise BadInput(f"institution {uscc} (cohort {case.filing['cohort']}) is not "
                                   "in scope of the campaign", file=filename, row=row_number,
                                   column="统一社会信用代码")
                operator.require_jurisdiction(case.jurisdiction, f"(institution {uscc}, "
                                              f"{filename} row {row_number})")
                score = self.rubric.score(areas).to_dict()
                case.score(score, evaluator=evaluator, evaluated_on=evaluated_on,
                           rubric=self.rubric.to_dict())
                cases.append(case)
            self.save(*cases)
            return {"scored": len(cases)}
        return self.run_command(command)

    def case(self, uscc):
        case = self.get_or_none(case_id(uscc))
        if case is None:
            return None
        return {"uscc": uscc, "jurisdiction": case.jurisdiction, "in_scope": case.in_scope,
                "scores": case.scores}
