"""Errors that reach the operator: each maps to an exit code of the CLI (DESIGN.md §3).

A file is refused as a whole but with every problem found: `BadInput.errors` lists them,
each a dict with file, sheet, row, column, rule, message (English) and message_zh. Over
RPC nameko passes on only an exception's type and text; `from_remote` rebuilds the
BadInput or Refused a RemoteError stands for. (Minimal version of the forms work's
contract, for the CLI; the forms branch carries the full one.)
"""
import json

# The one line of a BadInput's text that carries its problems across RPC.
_MARK = "pinggu-errors: "
_FIELDS = ("file", "sheet", "row", "column", "rule", "message", "message_zh")


class BadInput(Exception):
    """Input refused as a whole (exit 2); names the file, sheet, row, column and rule
    where it can. `errors` holds every problem found; `truncated` says reading stopped
    before the end of the file."""

    def __init__(self, message, *, file=None, row=None, column=None, sheet=None,
                 rule=None, message_zh=None, errors=None, truncated=False):
        self.message = message
        self.message_zh = message_zh or message
        self.file = file
        self.sheet = sheet
        self.row = row
        self.column = column
        self.rule = rule
        self.errors = [dict({k: None for k in _FIELDS}, **e) for e in errors] if errors \
            else [{"file": file, "sheet": sheet, "row": row, "column": column, "rule": rule,
                   "message": message, "message_zh": self.message_zh}]
        self.truncated = truncated
        super().__init__(str(self))

    def __str__(self):
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.sheet is not None:
            where.append(f"sheet {self.sheet}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        line = f"{', '.join(where)}: {self.message}" if where else self.message
        if len(self.errors) > 1:
            line += f" (and {len(self.errors) - 1} more)"
        return line + "\n" + _MARK + json.dumps(
            {"errors": self.errors, "truncated": self.truncated}, ensure_ascii=False)

    def to_dict(self):
        return {"error": "bad_input", "message": self.message, "message_zh": self.message_zh,
                "file": self.file, "sheet": self.sheet, "row": self.row,
                "column": self.column, "rule": self.rule,
                "errors": [dict(e) for e in self.errors], "truncated": self.truncated}


class Refused(Exception):
    """A command the operator may not give (exit 2); names the rule that refused it."""

    def __init__(self, rule, message):
        self.rule = rule
        self.message = message
        super().__init__(f"refused by {rule}: {message}")

    def to_dict(self):
        return {"error": "refused", "rule": self.rule, "message": self.message}


def from_remote(remote_error):
    """The BadInput or Refused a nameko RemoteError stands for, with all its problems;
    None for any other remote error."""
    kind = getattr(remote_error, "exc_type", None)
    value = str(getattr(remote_error, "value", "") or "")
    if kind == "BadInput":
        head, _, data = value.partition("\n" + _MARK)
        try:
            payload = json.loads(data) if data else None
            errors = payload and payload["errors"]
            if errors:
                first = errors[0]
                return BadInput(first.get("message") or head, errors=errors,
                                truncated=bool(payload.get("truncated")),
                                **{k: first.get(k) for k in ("file", "sheet", "row",
                                                             "column", "rule")})
        except (ValueError, KeyError, TypeError, AttributeError):
            pass
        return BadInput(head)
    if kind == "Refused":
        prefix = "refused by "
        rule, _, message = value[len(prefix):].partition(": ") \
            if value.startswith(prefix) else ("", "", value)
        return Refused(rule or None, message)
    return None
