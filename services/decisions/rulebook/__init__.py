"""The rules of notice 晋人社办函〔2023〕223号, pure and versioned (DESIGN.md §1, "The rules").

`decide(facts)` turns what is known about one in-scope institution into a verdict. It
does no I/O and reads no clock: the decisions service gathers the facts, calls it again
whenever a fact changes (and on each business date for facts that change with time), and
records the verdict with `RULEBOOK_VERSION`, so a verdict can always be re-derived and
explained from the facts it was made on. docs/rules.md goes through it clause by clause.

Where the notice leaves a reading open, the reading is the department's: it is campaign
data (`Readings`, set when the campaign is opened, the notice's defaults otherwise), and
every verdict records the settings it was made with. Rulebook 2023.2 (issue 17) reads:

- 四(一)1 自备案以来连续两年未开展: over the notice's own window, 二(一) "自公布备案资质起至
  评估前一个月" (from the filing's publication date to a month before the evaluation). Activity
  is known per 年度, so a known-inactive stretch is a run of years without activity, cut
  to the window; the rule fires when such a stretch covers `months` (24) whole months. A
  partial filing year counts for the months it has in the window, not as a year. Unknown
  activity (None) never fires it. Rulebook 2023.1 counted a partial year as a whole year.
- 四(一)3 严重超出备案范围: activity outside the filing scope is serious from a number of
  people (assessed or certified, whichever is more) or a share of all people assessed.
- 六(二) 无故拒绝参加评估: an act of the jurisdiction, recorded as a finding; or, when the
  jurisdiction's own self-assessment deadline (三(一): 各市自行安排) has passed with no
  self-assessment and no accepted excuse, automatic until the institution is evaluated on
  site (scored), unless the jurisdiction recorded the refusal.
- 六(四) 评估期间,备案时间已到期的: filings expiring from the campaign's opening to the
  province's publication.

The rulebook's modules: `facts` (what the rules look at), `rules` (the table, `decide`,
the re-decisions) and `explain`; the notice's clauses, grades and outcomes themselves are
shared language (shared/language/), imported from there.
"""
from services.decisions.rulebook.explain import describe_readings, explain
from services.decisions.rulebook.facts import (
    Facts, extension_applies, no_activity_stretch, seriously_beyond_scope)
from services.decisions.rulebook.rules import (
    REDERIVABLE, RULEBOOK_VERSION, RULES, Rule, Verdict, after_rectification, decide,
    extension_end, fired, in_extension, outcome_label, rectification_deadline, rederive,
    verdict_for)

__all__ = ["Facts", "REDERIVABLE", "RULEBOOK_VERSION", "RULES", "Rule", "Verdict",
           "after_rectification", "decide", "describe_readings", "explain",
           "extension_applies", "extension_end", "fired", "in_extension",
           "no_activity_stretch", "outcome_label", "rectification_deadline", "rederive",
           "seriously_beyond_scope", "verdict_for"]
