"""Forms: downloads pre-filled for the jurisdiction, and uploads that help (issue 15).

A download is the evaluation service's template for the clerk's own jurisdiction (another
city's is 404); the rectification and re-score forms list only the cases under
rectification. A jurisdiction with more institutions than one file may list gets each form
in parts, one link each, cut as the CLI cuts its files (issue 14). An upload is
all-or-nothing, as in the CLI: a good one gives a receipt (who, when, rows, the file's
SHA-256) and the cases' new states; a bad one every error at once, in Chinese, and the
same workbook with the bad cells marked, to fix in place.
"""
import base64
import datetime
import hashlib

from flask import (Blueprint, Response, abort, g, redirect, render_template, request,
                   url_for)

from shared import upload as uploads
from shared.errors import BadInput, rule_label
from services.desk import status as status_module
from services.desk.app import call, keep_file, own_jurisdiction
from services.desk.views_cases import jurisdiction_rows

blueprint = Blueprint("forms", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# name -> (the evaluation service's form kind, only the cases under rectification, label)
DOWNLOADS = {
    "self-assessment": ("self-assessment", False, "自查自评表"),
    "score-sheet": ("score-sheet", False, "评分表"),
    "findings": ("findings", False, "问题认定表"),
    "rectification": ("rectification", True, "整改情况表（仅整改中的机构）"),
    "re-score": ("score-sheet", True, "整改复评评分表（仅整改中的机构）"),
}
RESULT_NAMES = {"self_assessed": "新记录自评", "scored": "新记录评分", "findings": "新记录问题",
                "rectifications": "新记录整改", "unchanged": "与已记录相同"}
UPLOADS = {"self-assessment": ("submit_self_assessment", "自查自评表"),
           "score-sheet": ("submit_score_sheet", "评分表（含复评）"),
           "findings": ("submit_findings", "问题认定表"),
           "rectification": ("submit_rectification", "整改情况表")}


@blueprint.get("/forms")
def index():
    jurisdiction = own_jurisdiction(request.args.get("jurisdiction"))
    return render_template("forms.html", jurisdiction=jurisdiction, downloads=DOWNLOADS,
                           uploads=UPLOADS, parts=_parts(jurisdiction))


@blueprint.get("/forms/<jurisdiction>/<name>.xlsx")
def download(jurisdiction, name):
    """A form, or one part of it (<name>-<k>.xlsx) when the jurisdiction has more
    institutions than one file may list (issue 14): the CLI's file names, the service's
    cut. A part beyond the last is 404."""
    jurisdiction = own_jurisdiction(jurisdiction)
    name, part = _form_and_part(name)
    if name not in DOWNLOADS:
        abort(404)
    kind, only_rectifying, _ = DOWNLOADS[name]
    usccs = status_module.rectifying(jurisdiction_rows(jurisdiction)) \
        if only_rectifying else None
    # Never the whole when it needs parts: a whole form is part 1 of 1.
    template = call("evaluation", "template", kind, jurisdiction, usccs, part or 1)
    if template is None:
        abort(404)
    if part is None and template["parts"] > 1:  # an old link: the parts are on the page
        return redirect(url_for("forms.index", jurisdiction=jurisdiction), 303)
    filename = f"{jurisdiction}-{name}" + (f"-{part}" if part else "") + ".xlsx"
    return _xlsx(base64.b64decode(template["content"]), filename)


@blueprint.post("/forms/upload")
def upload():
    kind = request.form.get("kind")
    file = request.files.get("file")
    if kind not in UPLOADS or file is None or not file.filename:
        raise BadInput("请选择表格类型和要上传的文件（.xlsx）")
    content = file.read()
    digest = hashlib.sha256(content).hexdigest()
    sent = {"filename": file.filename, "content": base64.b64encode(content).decode()}
    try:
        result = call("evaluation", UPLOADS[kind][0], sent)
    except BadInput as exc:
        errors = exc.errors or [{"file": exc.file, "sheet": exc.sheet, "row": exc.row,
                                 "column": exc.column, "rule": "", "message": exc.message,
                                 "message_zh": exc.message}]
        marked = None
        if any(e.get("row") or e.get("sheet") for e in errors):
            try:  # in a worker with the parse limits: the file is the clerk's, untrusted
                copy = uploads.marked(sent, errors)
                marked = keep_file(copy["filename"], base64.b64decode(copy["content"]))
            except BadInput:  # not a workbook that can be marked: the list says why
                marked = None
        shown = [dict(e, rule=rule_label(e.get("rule"))) for e in errors]
        return render_template("upload_errors.html", filename=file.filename, errors=shown,
                               truncated=exc.truncated, marked=marked,
                               label=UPLOADS[kind][1]), 422
    receipt = {"operator": g.operator, "at": datetime.datetime.now(
                   datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
               "filename": file.filename, "sha256": digest, "result": result,
               "rows": _rows(result)}
    jurisdiction = own_jurisdiction(request.form.get("jurisdiction"))
    return render_template("receipt.html", receipt=receipt, label=UPLOADS[kind][1],
                           result_names=RESULT_NAMES,
                           cases=jurisdiction_rows(jurisdiction), jurisdiction=jurisdiction)


@blueprint.get("/forms/marked/<token>.xlsx")
def marked(token):
    found = g.session["files"].get(token)
    if found is None:
        abort(404)
    return _xlsx(found[1], found[0])


def _parts(jurisdiction):
    """name -> the parts of that download, as the evaluation service cuts them. The cases
    under rectification are among the jurisdiction's, so when all of these fit in one file
    theirs do too, and the case list is not read."""
    whole = call("evaluation", "template_parts", jurisdiction)
    if len(whole) == 1:
        return {name: whole for name in DOWNLOADS}
    rectifying = call("evaluation", "template_parts", jurisdiction,
                      status_module.rectifying(jurisdiction_rows(jurisdiction)))
    return {name: rectifying if only else whole
            for name, (_, only, _) in DOWNLOADS.items()}


def _form_and_part(name):
    """("score-sheet", 2) from "score-sheet-2"; (name, None) without a part number."""
    form, _, number = name.rpartition("-")
    if form and number.isascii() and number.isdigit() and not number.startswith("0"):
        return form, int(number)
    return name, None


def _rows(result):
    """How many rows the file had: those recorded and those handed in again unchanged."""
    counts = [v for v in result.values() if isinstance(v, int) and not isinstance(v, bool)]
    return sum(counts)


def _xlsx(body, filename):
    from urllib.parse import quote
    return Response(body, mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})
