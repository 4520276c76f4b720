"""Errors that reach the operator: each maps to an exit code of the CLI (DESIGN.md §3).

A file is refused as a whole, but with every problem it has (up to MAX_ERRORS), so the
clerk fixes them all in one go: `BadInput.errors` lists them, each naming the file,
sheet, row, column and rule, in English and in Chinese. A BadInput with one problem is
still built the old way, `BadInput(message, file=..., row=..., column=...)`.

Over RPC nameko passes on only the exception's type and text (`RemoteError.exc_type`,
`.value`); the text of a BadInput therefore ends in one line `pinggu-errors: {json}`
from which `from_remote` rebuilds the whole list on the caller's side.
"""
import json

MAX_ERRORS = 200

# The one line of an exception's text that carries its data across RPC.
_MARK = "pinggu-errors: "
_FIELDS = ("file", "sheet", "row", "column", "rule", "message", "message_zh")


def problem(message, *, message_zh=None, rule=None, file=None, sheet=None, row=None,
            column=None):
    """One problem of a file, as it appears in `BadInput.errors`."""
    return {"file": file, "sheet": sheet, "row": row, "column": column, "rule": rule,
            "message": message, "message_zh": message_zh or message}


# The rules a file's problems name (BadInput.rule), as a Chinese reader knows them. A rule
# not listed here is shown as it is.
RULES_ZH = {
    "code characters": "代码字符", "date": "日期", "date range": "日期范围",
    "filled rows": "填写的行", "header": "表头", "idempotency": "重复提交",
    "maximum": "最大值", "merged cells": "合并单元格", "minimum": "最小值",
    "parse limits": "文件限度", "readable cell": "可读单元格", "required": "必填",
    "sheets": "工作表", "text": "文本", "text length": "文本长度",
    "visible characters": "可见字符", "whole number": "整数", "xlsx": "xlsx 文件",
}


def rule_label(rule, lang="zh"):
    """A problem's rule for a reader of `lang` ('' when it names none)."""
    if not rule:
        return ""
    return RULES_ZH.get(rule, rule) if lang == "zh" else rule


class BadInput(Exception):
    """Input refused as a whole (exit 2); names the file, sheet, row, column and rule
    where it can. `errors` holds every problem found (the first is the one the
    attributes describe); `truncated` says that reading stopped at MAX_ERRORS."""

    def __init__(self, message, *, file=None, row=None, column=None, sheet=None,
                 rule=None, message_zh=None, errors=None, truncated=False):
        self.message = message
        self.file = file
        self.sheet = sheet
        self.row = row
        self.column = column
        self.rule = rule
        self.message_zh = message_zh or message
        self.errors = [dict(e) for e in errors] if errors else [problem(
            message, message_zh=message_zh, rule=rule, file=file, sheet=sheet, row=row,
            column=column)]
        self.truncated = truncated
        super().__init__(str(self))

    @classmethod
    def of(cls, errors, *, truncated=False):
        """One BadInput for a non-empty list of problems (dicts as `problem` makes)."""
        errors = [dict({k: None for k in _FIELDS}, **e) for e in errors]
        first = errors[0]
        return cls(first["message"], file=first["file"], sheet=first["sheet"],
                   row=first["row"], column=first["column"], rule=first["rule"],
                   message_zh=first["message_zh"], errors=errors, truncated=truncated)

    def with_sheet(self, sheet):
        """The same problems, those naming a row but no sheet now naming `sheet`."""
        return BadInput.of([dict(e, sheet=sheet) if e["row"] is not None
                            and e["sheet"] is None else e for e in self.errors],
                           truncated=self.truncated)

    def summary(self):
        """The first problem in one line of English, with how many others there are."""
        line = where(self.errors[0], "en") + self.message
        more = len(self.errors) - 1
        if more:
            line += f" (and {more}{'+' if self.truncated else ''} more)"
        return line

    def __str__(self):
        return self.summary() + "\n" + _MARK + json.dumps(
            {"errors": self.errors, "truncated": self.truncated}, ensure_ascii=False)

    def to_dict(self):
        return {"error": "bad_input", "message": self.message, "message_zh": self.message_zh,
                "file": self.file, "sheet": self.sheet, "row": self.row,
                "column": self.column, "rule": self.rule,
                "errors": [dict(e) for e in self.errors], "truncated": self.truncated}

    @classmethod
    def from_dict(cls, d):
        """The inverse of `to_dict` (also accepts it without the "error" key)."""
        if d.get("errors"):
            return cls.of(d["errors"], truncated=bool(d.get("truncated")))
        return cls(d["message"], file=d.get("file"), sheet=d.get("sheet"),
                   row=d.get("row"), column=d.get("column"), rule=d.get("rule"),
                   message_zh=d.get("message_zh"))


def where(error, lang="en"):
    """'file, sheet S, row R, column C: ' for one problem ('' if it names nothing)."""
    parts = []
    if error.get("file") is not None:
        parts.append(str(error["file"]))
    labels = {"en": ("sheet {}", "row {}", "column {}"),
              "zh": ("工作表「{}」", "第 {} 行", "列「{}」")}[lang]
    for key, label in zip(("sheet", "row", "column"), labels):
        if error.get(key) is not None:
            parts.append(label.format(error[key]))
    sep = "," if lang == "zh" else ", "
    return sep.join(parts) + (": " if parts else "")


class Refused(Exception):
    """A command the operator may not give (exit 2); names the rule that refused it."""

    def __init__(self, rule, message):
        self.rule = rule
        self.message = message
        super().__init__(f"refused by {rule}: {message}")

    def to_dict(self):
        return {"error": "refused", "rule": self.rule, "message": self.message}


_REFUSED = "refused by "


def from_remote(remote_error):
    """The BadInput or Refused a nameko RemoteError stands for, rebuilt with all its
    problems; None for any other remote error."""
    kind = getattr(remote_error, "exc_type", None)
    value = str(getattr(remote_error, "value", "") or "")
    if kind == "BadInput":
        head, _, data = value.partition("\n" + _MARK)
        if data:
            try:
                payload = json.loads(data)
                return BadInput.of(payload["errors"], truncated=payload["truncated"])
            except (ValueError, KeyError, TypeError, IndexError):
                pass
        return BadInput(head)
    if kind == "Refused":
        rule, _, message = value[len(_REFUSED):].partition(": ") \
            if value.startswith(_REFUSED) else ("", "", value)
        return Refused(rule or None, message)
    return None
