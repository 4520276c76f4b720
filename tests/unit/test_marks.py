"""The marked workbook: the clerk's file back with each problem on its cell, row or sheet."""
import io

import openpyxl
import pytest

from services.evaluation import forms
from shared.errors import BadInput
from shared.marks import RED, mark_workbook

A, B = "914403001922038216", "91110000710925462X"
INSTITUTIONS = [{"uscc": A, "name": "甲"}, {"uscc": B, "name": "乙"}]


def filled_self_assessment(tmp_path):
    path = forms.write_template("self-assessment", tmp_path / "t.xlsx", INSTITUTIONS)
    wb = openpyxl.load_workbook(path)
    ws = wb["机构情况"]
    for column, value in zip("CDEF", ["12人", 2, 3, 88]):
        ws[f"{column}2"] = value
    wb["认定开展情况"].append([A, 2022, "6-18-02-04", 3, 10, 12, 8])
    wb.save(path)
    return path


def read_back(content):
    return openpyxl.load_workbook(io.BytesIO(content))


def test_the_planted_errors_are_marked_on_their_cells(tmp_path):
    path = filled_self_assessment(tmp_path)
    with pytest.raises(BadInput) as info:
        forms.read_self_assessment(path)
    content = path.read_bytes()
    wb = read_back(mark_workbook(content, info.value.errors))
    bad = wb["机构情况"]["C2"]
    assert bad.fill.fgColor.rgb.endswith(RED)
    assert "应为整数" in bad.comment.text and "whole number" in bad.comment.text
    passed = wb["认定开展情况"]["F2"]
    assert passed.fill.fgColor.rgb.endswith(RED)
    assert passed.comment.text == "合格人数 12 大于参评人数 10(规则:passed ≤ assessed)"
    # Everything else is the clerk's file as it was.
    assert wb["机构情况"]["D2"].value == 2 and wb["认定开展情况"]["A2"].value == A
    assert not wb["机构情况"]["D2"].fill.fgColor.rgb.endswith(RED)
    assert wb["机构情况"]["A3"].value == B


def test_problems_without_a_cell_mark_the_row_or_the_sheet(tmp_path):
    path = forms.write_template("findings", tmp_path / "t.xlsx", INSTITUTIONS)
    errors = [
        {"sheet": "问题认定", "row": 3, "column": None, "message_zh": "整行有误",
         "rule": "r1"},
        {"sheet": None, "row": None, "column": None, "message_zh": "没有填写任何一行",
         "rule": "filled rows"},
        {"sheet": "问题认定", "row": 1, "column": "不存在的列", "message_zh": "缺少此列",
         "rule": "header"},
    ]
    wb = read_back(mark_workbook(path.read_bytes(), errors))
    ws = wb["问题认定"]
    assert all(c.fill.fgColor.rgb.endswith(RED) for c in ws[3])
    assert "整行有误" in ws["A3"].comment.text
    assert ws.sheet_properties.tabColor.rgb.endswith(RED)
    # A1 keeps the template's own header comment below the problems.
    assert ws["A1"].comment.text.startswith("没有填写任何一行(规则:filled rows)\n缺少此列")
    assert "18 位统一社会信用代码" in ws["A1"].comment.text


def test_two_problems_of_one_cell_share_its_comment(tmp_path):
    path = forms.write_template("rectification", tmp_path / "t.xlsx", INSTITUTIONS)
    errors = [{"sheet": "整改报告", "row": 2, "column": "提交日期", "message_zh": m,
               "rule": None} for m in ("甲", "乙")]
    ws = read_back(mark_workbook(path.read_bytes(), errors))["整改报告"]
    assert ws["D2"].comment.text == "甲\n乙"


def test_a_file_that_is_not_xlsx_is_refused(tmp_path):
    with pytest.raises(BadInput, match="not an xlsx file"):
        mark_workbook(b"name,uscc\n", [], name="x.csv")


def test_an_upload_is_marked_in_a_worker_and_read_back_refused_the_same(tmp_path):
    import base64

    from shared import upload
    path = filled_self_assessment(tmp_path)
    sent = upload.encode(path)
    with pytest.raises(BadInput) as info:
        upload.parse(sent, "self-assessment")
    errors = info.value.errors
    assert len(errors) == 2  # through the worker's JSON: the whole list
    back = upload.marked(sent, errors)
    assert back["filename"] == "t-标注.xlsx"
    content = base64.b64decode(back["content"])
    ws = read_back(content)["认定开展情况"]
    assert ws["F2"].fill.fgColor.rgb.endswith(RED)
    # The marked file is still the clerk's data: reading it gives the same problems.
    (tmp_path / "m.xlsx").write_bytes(content)
    with pytest.raises(BadInput) as again:
        forms.read_self_assessment(tmp_path / "m.xlsx", name="t.xlsx")
    assert again.value.errors == errors
