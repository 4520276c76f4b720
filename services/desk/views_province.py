"""For the province: the campaign's progress per jurisdiction and its outcomes as a chart
(the counts are `pinggu campaign status`'s), and publishing opinions and notices."""
import base64
import collections

from flask import Blueprint, abort, g, render_template, request

from shared.errors import BadInput
from shared.language.jurisdictions import CITIES
from services.desk import chart
from services.desk.app import call, keep_file

blueprint = Blueprint("province", __name__)
READERS = ("province", "center", "auditor")
MILESTONES = {"self_assessment_due": "自查自评截止", "evaluation_due": "评估截止",
              "publication_due": "结果公布截止"}
NOTICE_KINDS = {"": "按顺序（首次为评估结果通告）", "rectification": "整改复评结果通告",
                "correction": "更正通告"}


def _require(*roles):
    if g.operator["role"] not in roles:
        abort(404)  # as for another city's pages: a bureau's clerk does not see these


@blueprint.get("/progress")
def progress():
    _require(*READERS)
    status = call("evaluation", "campaign_status")
    decided = call("notices", "decided")
    outcomes = collections.Counter(e["outcome"] for e in decided)
    by_jurisdiction = collections.defaultdict(collections.Counter)
    for entry in decided:
        by_jurisdiction[entry["jurisdiction"]][entry["outcome"]] += 1
    return render_template("progress.html", status=status,
                           progress_chart=chart.progress_svg(status["jurisdictions"]),
                           outcomes_chart=chart.outcomes_svg(dict(outcomes)),
                           outcomes=dict(outcomes), by_jurisdiction=by_jurisdiction,
                           milestones=MILESTONES)


@blueprint.route("/publish", methods=["GET", "POST"])
def publish():
    _require("province")
    done = None
    if request.method == "POST":
        if request.form.get("what") == "opinions":
            jurisdiction = request.form.get("jurisdiction") or None
            if jurisdiction and jurisdiction not in CITIES:
                raise BadInput(f"没有这个辖区：{jurisdiction}")
            opinions = call("notices", "publish_opinions", jurisdiction, None)
            files = {j: keep_file(f"{j}-评估意见-附件3.xlsx", base64.b64decode(opinion["xlsx"]))
                     for j, opinion in opinions.items()}
            done = {"what": "opinions", "files": files}
        elif request.form.get("what") == "notice":
            kind = request.form.get("kind") or None
            if (kind or "") not in NOTICE_KINDS:
                raise BadInput(f"没有这种通告：{kind}")
            notice = call("notices", "publish_notice", request.form.get("title") or None,
                          kind, request.form.get("reason") or None)
            done = {"what": "notice", "notice": notice}
        else:
            raise BadInput("请选择要发布的内容")
    return render_template("publish.html", done=done, kinds=NOTICE_KINDS)
