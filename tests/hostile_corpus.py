"""A corpus of hostile and careless files for the seven readers (issue 13), as an attacker
and a hurried clerk would hand them in: `python -m tests.hostile_corpus DIR` writes it
and prints what each file is and what must become of it.

Every case says its outcome: accepted (with the values the documented normalisation
gives, docs/forms.md) or refused naming the cell (sheet, row, column) or, for a file
that is not a table at all, the file. tests/integration/test_hostile_corpus.py runs
every case through the parse worker with its production limits.
"""
import datetime
import io
import os
import re
import shutil
import sys
import zipfile
from dataclasses import dataclass, field

from tests import factories

A = factories.make_uscc(1)
B = factories.make_uscc(2)
TODAY = datetime.date(2023, 10, 20)
PERIOD = (datetime.date(2023, 1, 1), TODAY + datetime.timedelta(days=90))  # as the service


@dataclass
class Case:
    name: str
    kind: str
    path: str
    refused: bool
    column: str | None = None     # the column a refusal names (None: the whole file)
    row: int | None = None
    sheet: str | None = None
    check: dict = field(default_factory=dict)  # accepted: {(row index, field): value}
    params: dict = field(default_factory=dict)


# ------------------------------------------------------------------- base files

def _params(kind):
    from services.evaluation.rubric import DEFAULT_RUBRIC
    return {"roster": {"today": TODAY}, "legal-status": {"today": TODAY},
            "activity": {"today": TODAY}, "self-assessment": {},
            "score-sheet": {"rubric": DEFAULT_RUBRIC, "period": PERIOD},
            "findings": {}, "rectification": {"period": PERIOD}}[kind]


def base(kind, path, **over):
    """A valid one-institution file of `kind`; `over` replaces cells by column."""
    if kind == "roster":
        row = factories.institution(1)
        factories.roster(path, [row])
    elif kind == "legal-status":
        factories.legal_status(path, [(A, "有效", datetime.date(2030, 1, 1),
                                       datetime.date(2023, 9, 1))])
    elif kind == "activity":
        factories.activity_report(path, [(A, 2022, "6-18-02-04", 4, 12)])
    elif kind == "self-assessment":
        factories.self_assessment(path, [A])
    elif kind == "score-sheet":
        factories.score_sheet(path, {A: 85})
    elif kind == "findings":
        factories.findings(path, [(A, "四(一)5", "现场核查发现档案缺失")])
    elif kind == "rectification":
        factories.rectification(path, [(A, "已补齐档案", datetime.date(2023, 10, 10))])
    for column, value in over.items():
        sheet = None
        if isinstance(column, tuple):
            sheet, column = column
        factories.set_cell(path, 2, column, value, sheet=sheet)
    return str(path)


# One text column and one number (or code) column of each kind, for the generic cases.
TEXT = {"roster": "机构名称", "legal-status": "登记状态", "activity": "职业编码",
        "self-assessment": "统一社会信用代码", "score-sheet": "评估人",
        "findings": "事实与证据", "rectification": "整改情况"}
NUMBER = {"roster": "统一社会信用代码", "legal-status": "统一社会信用代码", "activity": "发证数",
          "self-assessment": "考评人员数", "score-sheet": "档案管理", "findings": "统一社会信用代码",
          "rectification": "统一社会信用代码"}
SHEET = {"self-assessment": "机构情况", "score-sheet": "Sheet", "roster": "备案机构名册"}
KINDS = tuple(TEXT)


# ------------------------------------------------------------------- raw rewrites

def rewrite(path, sheet_index=1, edit=None, extra=None, drop=()):
    """Rewrite the xlsx at `path`: `edit(xml) -> xml` on worksheet `sheet_index`,
    `extra` members added, `drop` members removed."""
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    name = f"xl/worksheets/sheet{sheet_index}.xml"
    if edit:
        parts[name] = edit(parts[name].decode()).encode()
    parts.update(extra or {})
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in parts.items():
            if member not in drop:
                zf.writestr(member, data)
    os.replace(tmp, path)
    return path


def _letter(index):
    from openpyxl.utils import get_column_letter
    return get_column_letter(index)


def _header(path, sheet=None):
    import openpyxl
    wb = openpyxl.load_workbook(path, read_only=True)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    wb.close()
    return header


def replace_cell(path, column, new_cell_xml, row=2):
    """Replace the <c> element of `column` in `row` with raw XML (where r="REF" is the
    cell's reference)."""
    ref = f"{_letter(_header(path).index(column) + 1)}{row}"

    def edit(xml):
        pattern = re.compile(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)', re.S)
        assert pattern.search(xml), ref
        return pattern.sub(new_cell_xml.replace("REF", ref), xml, count=1)
    return rewrite(path, edit=edit)


def with_rows(path, rows_xml):
    return rewrite(path, edit=lambda xml: xml.replace("</sheetData>", rows_xml + "</sheetData>"))


def with_dimension(path, ref):
    def edit(xml):
        if "<dimension" in xml:
            return re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>', xml)
        return xml.replace("<sheetViews>", f'<dimension ref="{ref}"/><sheetViews>', 1)
    return rewrite(path, edit=edit)


def with_merge(path, ref):
    def edit(xml):
        merge = f'<mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>'
        return xml.replace("</sheetData>", "</sheetData>" + merge, 1)
    return rewrite(path, edit=edit)


# ------------------------------------------------------------------- the corpus

def generate(directory, only=None):
    """Every case, written into `directory`; with `only` = (kind, name), that one."""
    os.makedirs(directory, exist_ok=True)
    cases = []

    def add(name, kind, refused, column=None, *, row=2, sheet=None, check=None,
            build=None, **over):
        if only and (kind, name) != only:
            return
        path = os.path.join(directory, f"{kind}--{name}.xlsx")
        base(kind, path, **over)
        if build:
            build(path)
        cases.append(Case(name, kind, path, refused, column, row if column else None,
                          sheet, check or {}, _params(kind)))

    for kind in KINDS:
        if only and kind != only[0]:
            continue
        text, number = TEXT[kind], NUMBER[kind]
        add("valid", kind, False)
        # The 4.8 KB file: a declared dimension of the whole sheet, and one cell
        # at XFD1 (a header no form has) over 10,000 rows.
        add("dimension-xfd1", kind, True, "XFD", row=1, build=lambda p: (
            with_dimension(p, "A1:XFD1048576"),
            rewrite(p, edit=lambda x: x.replace("</row>", '<c r="XFD1" t="inlineStr"><is>'
                                                '<t>x</t></is></c></row>', 1)),
            with_rows(p, "".join(f'<row r="{n}"/>' for n in range(3, 10003)))))
        # The declared dimension alone is ignored: the file reads as it is.
        add("dimension-lie", kind, False,
            build=lambda p: with_dimension(p, "A1:XFD1048576"))
        # A million blank rows: every row counts, blank or not.
        add("blank-rows", kind, True, None, build=lambda p: with_rows(
            p, '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'))
        add("formula-without-value", kind, True, number,
            build=lambda p, c=number: replace_cell(p, c, '<c r="REF"><f>1+1</f></c>'))
        add("excel-error", kind, True, number,
            build=lambda p, c=number: replace_cell(p, c, '<c r="REF" t="e"><v>#DIV/0!</v></c>'))
        add("huge-integer", kind, True, number, build=lambda p, c=number: replace_cell(
            p, c, '<c r="REF"><v>' + "9" * 5000 + "</v></c>"))
        add("1e999999", kind, True, number,
            build=lambda p, c=number: replace_cell(p, c, '<c r="REF"><v>1e999999</v></c>'))
        add("bidi-override", kind, True, text,
            **{text: "\u202e" + str(_value(kind, text))})
        add("merged", kind, True, "A", row=2, build=lambda p: with_merge(p, "A2:B2"))
        add("long-text", kind, True, text, **{text: "长" * 100_000})
        cases.extend(c for c in _file_level(directory, kind, only)
                     if not only or c.name == only[1])
    _specific(directory, add)
    return cases


def generate_one(directory, kind, name):
    """Only the cases named `name` of reader `kind` (the e2e tests need a few)."""
    return [c for c in generate(directory, only=(kind, name))]


def _value(kind, column):
    return {"机构名称": "测试职业技能培训学校0001", "登记状态": "有效", "职业编码": "6-18-02-04",
            "统一社会信用代码": A, "评估人": "评估员甲", "事实与证据": "现场核查发现档案缺失",
            "整改情况": "已补齐档案"}[column]


def _file_level(directory, kind, only=None):
    """Files that are not tables at all: refused naming the file."""
    out = []

    def case(name, writer):
        if only and name != only[1]:
            return
        path = os.path.join(directory, f"{kind}--{name}.xlsx")
        if name in _SHARED:
            # The big ones are built once, from the roster, and handed to every reader.
            path = os.path.join(directory, f"any--{name}.xlsx")
            if not os.path.exists(path):
                writer(path)
        else:
            writer(path)
        out.append(Case(name, kind, path, True, None, None, None, {}, _params(kind)))

    def renamed_xls(path):  # the OLE2 signature of an .xls file, then noise
        with open(path, "wb") as f:
            f.write(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 4096)

    def renamed_csv(path):
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"统一社会信用代码,机构名称\n{A},测试\n")

    def truncated(path):
        base(kind, path)
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[: len(data) // 2])

    def zip_bomb(path):  # 718 KB inflating to 700 MB, as in the issue
        base("roster", path)
        with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
            with zf.open("xl/media/bomb.bin", "w", force_zip64=True) as member:
                chunk = b"\0" * (1 << 20)
                for _ in range(700):
                    member.write(chunk)

    def xxe(path):
        base(kind, path)
        rewrite(path, edit=lambda x: x.replace(
            "<worksheet", '<!DOCTYPE w [<!ENTITY e SYSTEM "file:///etc/passwd">'
            '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            "<worksheet", 1).replace("</sheetData>", "</sheetData>", 1))

    def shared_strings(path):  # 2M shared strings
        base("roster", path)
        body = "".join(f"<si><t>{n}</t></si>" for n in range(2_000_000))
        xml = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxml'
               f'formats.org/spreadsheetml/2006/main" count="2000000" uniqueCount="2000000">'
               f"{body}</sst>")
        with zipfile.ZipFile(path) as zf:
            types = zf.read("[Content_Types].xml").decode()
            rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        if "sharedStrings" not in types:
            types = types.replace("</Types>", '<Override PartName="/xl/sharedStrings.xml" '
                                  'ContentType="application/vnd.openxmlformats-officedocument.'
                                  'spreadsheetml.sharedStrings+xml"/></Types>')
            rels = rels.replace("</Relationships>", '<Relationship Id="rIdSS" Type="http://'
                                'schemas.openxmlformats.org/officeDocument/2006/relationships/'
                                'sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        rewrite(path, extra={"xl/sharedStrings.xml": xml.encode(),
                             "[Content_Types].xml": types.encode(),
                             "xl/_rels/workbook.xml.rels": rels.encode()})

    def empty(path):
        open(path, "wb").close()

    for name, writer in (("renamed-xls", renamed_xls), ("renamed-csv", renamed_csv),
                         ("truncated", truncated), ("zip-bomb", zip_bomb), ("xxe", xxe),
                         ("shared-strings", shared_strings), ("empty", empty)):
        case(name, writer)
    return out


_SHARED = ("zip-bomb", "shared-strings")


def _specific(directory, add):
    """The reader-specific cases of the issue."""
    # The full-width 职业编码 of 附件1 is read as the ASCII code (it used to terminate).
    add("full-width-occupation", "self-assessment", False,
        build=lambda p: _activity_occupation(p, "６-１８-０２-０４"),
        check={(0, "activity", 0, "occupation"): "6-18-02-04"})
    add("full-width-occupation", "activity", False, **{"职业编码": "６－１８－０２－０４"},
        check={(0, "rows", 0, "occupation"): "6-18-02-04"})
    # Whole-number and decimal columns follow the same policy.
    add("full-width-whole", "self-assessment", False, **{"考评人员数": "１２"},
        check={(0, "assessors"): 12})
    add("full-width-decimal", "self-assessment", False, **{"自评得分": "８５"},
        check={(0, "self_score"): 85})
    add("underscore-decimal", "self-assessment", True, "自评得分", sheet="机构情况",
        **{"自评得分": "8_5"})
    add("score-1e999999-text", "score-sheet", True, "认定开展情况", **{"认定开展情况": "1e999999"})
    add("score-full-width", "score-sheet", False, **{"档案管理": "１０"},
        check={(0, "areas", "档案管理"): 10})
    add("huge-integer-text", "self-assessment", True, "考评人员数", sheet="机构情况",
        **{"考评人员数": "9" * 5000})
    # Dates far outside the campaign and the business date.
    add("submitted-1990", "rectification", True, "提交日期",
        **{"提交日期": datetime.date(1990, 1, 1)})
    add("submitted-2099", "rectification", True, "提交日期",
        **{"提交日期": datetime.date(2099, 1, 1)})
    add("evaluated-2099", "score-sheet", True, "评估日期", **{"评估日期": datetime.date(2099, 1, 1)})
    add("full-width-date", "rectification", False, **{"提交日期": "２０２３－１０－１０"},
        check={(0, "submitted_on"): "2023-10-10"})
    add("published-2099", "roster", True, "公开发布日期",
        **{"公开发布日期": datetime.date(2099, 1, 1), "备案有效期至": datetime.date(2099, 6, 1)})
    add("reported-2099", "legal-status", True, "报告日期", **{"报告日期": datetime.date(2099, 1, 1)})
    add("activity-next-year", "activity", True, "年度", **{"年度": 2024})
    # Names and free text: no newline in a name, no bidi or zero-width anywhere.
    add("newline-in-name", "roster", True, "机构名称", **{"机构名称": "测试\n学校"})
    add("zero-width-in-name", "roster", True, "机构名称", **{"机构名称": "测试\u200b学校"})
    add("newline-in-evidence", "findings", False, **{"事实与证据": "第一条\n第二条"},
        check={(0, "evidence"): "第一条\n第二条"})
    add("rlo-in-evidence", "findings", True, "事实与证据", **{"事实与证据": "正常\u202e文字"})
    add("report-too-long", "rectification", True, "整改情况", **{"整改情况": "整" * 5001})
    add("full-width-uscc", "findings", False, **{"统一社会信用代码": _full_width(A)},
        check={(0, "uscc"): A})
    add("full-width-scope", "roster", False, **{"备案范围": "６-１８-０２-０４：３，４"},
        check={(0, "scope"): (("6-18-02-04", (3, 4)),)})
    add("full-width-clause", "findings", False, **{"条款": "四（一）５"},
        check={(0, "clause"): "四(一)5"})


def _full_width(text):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _activity_occupation(path, code):
    factories.set_cell(path, 2, "职业编码", code, sheet="认定开展情况")


def main(argv):
    if len(argv) != 1:
        print("usage: python -m tests.hostile_corpus DIR", file=sys.stderr)
        return 2
    directory = argv[0]
    shutil.rmtree(directory, ignore_errors=True)
    for case in generate(directory):
        outcome = (f"refused at {case.sheet or ''} row {case.row} column {case.column}"
                   if case.refused and case.column else
                   "refused (the file)" if case.refused else "accepted")
        print(f"{os.path.basename(case.path)}\t{outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
