"""The spreadsheets: the 附件3 summary (评估意见汇总表) of an evaluation opinion and the
table of a later notice. Cells starting with = + - @ stay literal text (names are
untrusted); sheets print landscape on A4 with the title as header."""

from __future__ import annotations

import datetime as dt

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from shared.dates import parse_date
from shared.language import notation as cl
from shared.xlsx import save_workbook, write_cell
from services.notices import followups as fu
from services.notices.publications.lists import (
    CATEGORY_ZH, ISSUER, LEVEL_ZH, TITLES, _check_jurisdiction, _zh_date, area, authority,
    clause_text, opinion_lists)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ------------------------------------------------------------------ 附件3 summary

SUMMARY_SHEET = "评估意见汇总表"
SUMMARY_COLUMNS = [
    ("序号", "行号，从1起，按备案年度、评估意见、统一社会信用代码排序"),
    ("统一社会信用代码", "机构的18位统一社会信用代码(GB 32100-2015)"),
    ("机构名称", "备案名册中的机构名称"),
    ("类型", "自主评价企业 / 自主评价院校 / 社会培训评价组织"),
    ("备案层级", "市级 / 省级以上"),
    ("所属地市/评估单位", "市级机构为所属地市；省级以上机构为省职业技能鉴定中心"),
    ("备案年度", "公开发布备案的年度：2020 或 2021"),
    ("评估得分", "附件2评估表总分(满分100)；未评分的为空"),
    ("评估等级", "合格(≥80) / 不达标(60-79.99) / 不合格(<60)；未评分的为空"),
    ("评估意见", "2020年度：终止备案 / 同意延续备案 / 暂时不予延续备案；2021年度：终止备案 / "
                 "暂停评价活动 / 正常评价；整改复评后：延续备案 / 恢复评价活动"),
    ("依据条款", "作出该意见所依据的通知条款及其内容，如 四（二）3 评估结果不达标准"),
    ("整改期限", "需整改的机构完成整改的最后一日(含)，决定日起2个日历月"),
    ("决定日期", "作出该评估意见的日期"),
]
# The public notice's attachment carries no scores (四(三): they are the department's), so
# its xlsx has no score columns rather than two always-empty ones.
_SCORE_COLUMNS = ("评估得分", "评估等级")
_WIDTHS = {"序号": 6, "统一社会信用代码": 22, "机构名称": 36, "类型": 18, "备案层级": 10,
           "所属地市/评估单位": 18, "备案年度": 9, "评估得分": 9, "评估等级": 9,
           "评估意见": 16, "依据条款": 40, "整改期限": 12, "决定日期": 12}
_TITLE_ROW, _INFO_ROW, _HEADER_ROW = 1, 2, 3
_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def summary_columns(public=False):
    """The 附件3 columns (name, meaning): the opinion's, or the public notice's."""
    return [(c, m) for c, m in SUMMARY_COLUMNS if not (public and c in _SCORE_COLUMNS)]


def summary_rows(entries, public=False):
    """The 附件3 data rows, in summary_columns(public) order: cohort, then the lists in
    the notice's order, then USCC."""
    names = [c for c, _ in summary_columns(public)]
    rows = []
    for by_label in opinion_lists(entries).values():
        for members in by_label.values():
            for e in members:
                row = {
                    "序号": len(rows) + 1, "统一社会信用代码": e["uscc"],
                    "机构名称": e.get("name") or "",
                    "类型": CATEGORY_ZH.get(e.get("category"), e.get("category")),
                    "备案层级": LEVEL_ZH.get(e.get("level"), e.get("level")),
                    "所属地市/评估单位": area(e["jurisdiction"]), "备案年度": e["cohort"],
                    "评估得分": None if e.get("total") is None else float(e["total"]),
                    "评估等级": e.get("grade"), "评估意见": e["outcome"],
                    "依据条款": "；".join(f"{cl.table(c)} {clause_text(c)}".strip()
                                      for c in e.get("clauses") or ()),
                    "整改期限": parse_date(e["deadline"]) if e.get("deadline") else None,
                    "决定日期": parse_date(e["decided_on"]) if e.get("decided_on") else None,
                }
                rows.append([row[name] for name in names])
    return rows


def write_summary_xlsx(path, jurisdiction, entries, *,
                       campaign_title="2020-2021年度备案机构评估意见汇总表", generated_on):
    """附件3 of one jurisdiction: title row, info row, header (row 3), then one row per
    institution; frozen below the header, printable on landscape A4. Saved atomically;
    returns `path`. With `jurisdiction` None, the whole province's public list (the
    notice's attachment, without scores), issued by the department on its publication
    date."""
    entries = list(entries)
    public = jurisdiction is None
    if not public:
        _check_jurisdiction(jurisdiction, entries)
    rows = summary_rows(entries, public)
    described = summary_columns(public)
    last_col = get_column_letter(len(described))
    last_row = _HEADER_ROW + len(rows)

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SUMMARY_SHEET

    ws.merge_cells(f"A{_TITLE_ROW}:{last_col}{_TITLE_ROW}")
    title = ws.cell(row=_TITLE_ROW, column=1)
    write_cell(title, campaign_title)
    title.font = Font(bold=True, size=16)
    title.alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[_TITLE_ROW].height = 30

    ws.merge_cells(f"A{_INFO_ROW}:{last_col}{_INFO_ROW}")
    write_cell(ws.cell(row=_INFO_ROW, column=1),
         f"{'发布单位' if public else '评估单位'}：{ISSUER if public else authority(jurisdiction)}　　"
         f"机构数：{len(rows)}　　"
         f"{'发布日期' if public else '填报日期'}：{_zh_date(generated_on)}")

    for index, (column, meaning) in enumerate(described, start=1):
        cell = ws.cell(row=_HEADER_ROW, column=index, value=column)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BORDER
        cell.comment = Comment(meaning, "pinggu", width=300, height=120)

    wrap = Alignment(vertical="center", wrap_text=True)
    for row_index, values in enumerate(rows, start=_HEADER_ROW + 1):
        for col_index, value in enumerate(values, start=1):
            cell = ws.cell(row=row_index, column=col_index)
            write_cell(cell, value)
            cell.alignment, cell.border = wrap, _BORDER
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, float):
                cell.number_format = "0.00"

    for index, (column, _) in enumerate(described, start=1):
        ws.column_dimensions[get_column_letter(index)].width = _WIDTHS[column]
    ws.freeze_panes = f"A{_HEADER_ROW + 1}"
    ws.auto_filter.ref = f"A{_HEADER_ROW}:{last_col}{last_row}"
    _print_setup(ws, campaign_title)
    save_workbook(wb, path)
    return path


FOLLOWUP_COLUMNS = ("序号", "统一社会信用代码", "机构名称", "备案年度", "所属地市/评估单位",
                    "原通告", "原评估意见", "原依据条款", "现评估意见", "依据条款", "整改期限",
                    "备注")


def write_followup_xlsx(path, notice):
    """The attachment of a rectification-results notice or a correction: one row per
    institution, original → now, with the reason in 备注."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = fu.KIND_ZH[notice["kind"]]
    last_col = get_column_letter(len(FOLLOWUP_COLUMNS))
    ws.merge_cells(f"A{_TITLE_ROW}:{last_col}{_TITLE_ROW}")
    write_cell(ws.cell(row=_TITLE_ROW, column=1), notice.get("title") or TITLES[notice["kind"]])
    ws.cell(row=_TITLE_ROW, column=1).font = Font(bold=True, size=14)
    ws.merge_cells(f"A{_INFO_ROW}:{last_col}{_INFO_ROW}")
    write_cell(ws.cell(row=_INFO_ROW, column=1),
               f"{notice['number']}　　发布单位：{ISSUER}　　机构数：{len(notice['entries'])}　　"
               f"发布日期：{_zh_date(notice['published_on'])}")
    for index, column in enumerate(FOLLOWUP_COLUMNS, start=1):
        cell = ws.cell(row=_HEADER_ROW, column=index, value=column)
        cell.font, cell.border = Font(bold=True), _BORDER
    wrap = Alignment(vertical="center", wrap_text=True)
    entries = sorted(notice["entries"], key=lambda e: (e["cohort"], e["outcome"], e["uscc"]))
    for n, e in enumerate(entries, start=1):
        original = e.get("original") or {}
        values = [n, e["uscc"], e.get("name") or "", e["cohort"],
                  area(e["jurisdiction"]) if e.get("jurisdiction") else "",
                  original.get("number") or "", original.get("outcome") or "",
                  cl.table_list(original.get("clauses") or (), empty=""), e["outcome"],
                  cl.table_list(e.get("clauses") or (), empty=""),
                  parse_date(e["deadline"]) if e.get("deadline") else None,
                  e.get("reason") or ""]
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=_HEADER_ROW + n, column=col)
            write_cell(cell, value)
            cell.alignment, cell.border = wrap, _BORDER
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    for index, width in enumerate((6, 22, 36, 9, 18, 22, 16, 16, 14, 16, 12, 40), start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = f"A{_HEADER_ROW + 1}"
    _print_setup(ws, notice.get("title") or TITLES[notice["kind"]])
    save_workbook(wb, path)
    return path


def _print_setup(ws, title):
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    # "&" starts a header/footer code; a literal one is doubled.
    ws.oddHeader.center.text = title.replace("&", "&&")
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
