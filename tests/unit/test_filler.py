"""The one form filler the demo, the benchmarks and the tests share."""
import datetime as dt

import openpyxl
import pytest

from services.evaluation import forms
from services.evaluation.forms.filler import Rows, fill, new_form
from services.evaluation.rubric import DEFAULT_RUBRIC

A, B, C = "914403001922038216", "91110000710925462X", "12100000425006133D"
INSTITUTIONS = [{"uscc": code, "name": f"机构{n}"} for n, code in enumerate((A, B, C))]
FULL = {a.short_name: float(a.points) for a in DEFAULT_RUBRIC.areas}


def test_fills_keeps_and_appends_and_the_reader_agrees(tmp_path):
    path = forms.write_template("self-assessment", tmp_path / "t.xlsx", INSTITUTIONS)
    staff = {"考评人员数": 5, "内部质量督导人员数": 2, "专家数": 3, "自评得分": 88}
    fill(path, {"机构情况": Rows(values=lambda code: staff, keep=[A, C]),
                "认定开展情况": Rows(append=[
                    {"统一社会信用代码": A, "年度": 2022, "职业编码": "6-18-02-04", "等级": 3,
                     "参评人数": 10, "合格人数": 9, "发证数": 9}])})
    rows = forms.read_self_assessment(path)
    assert [r.uscc for r in rows] == [A, C]
    assert rows[0].activity[0]["passed"] == 9 and rows[1].activity == []


def test_deleting_rows_keeps_each_total_on_its_own_row(tmp_path):
    path = forms.write_template("score-sheet", tmp_path / "t.xlsx", INSTITUTIONS)
    fill(path, {None: Rows(values={C: {**FULL, "评估人": "甲", "评估日期": dt.date(2023, 9, 1)}},
                           keep=[C])})
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert ws["A2"].value == C and ws.max_row == 2
    assert ws["K2"].value == '=IF(COUNT(C2:J2),SUM(C2:J2),"")'
    assert forms.read_score_sheet(path, DEFAULT_RUBRIC)[0].score["total"] == 100


def test_new_form_starts_from_the_template(tmp_path):
    path = new_form("findings", tmp_path / "f.xlsx", {None: Rows(append=[
        {"统一社会信用代码": B, "条款": "四(一)5", "事实与证据": "考场监控"}])})
    assert [(r.uscc, r.clause) for r in forms.read_findings(path)] == [(B, "四(一)5")]


def test_an_unknown_column_is_named(tmp_path):
    path = forms.write_template("findings", tmp_path / "f.xlsx", INSTITUTIONS)
    with pytest.raises(KeyError, match="no column '备注'"):
        fill(path, {None: Rows(values={A: {"备注": "x"}})})
