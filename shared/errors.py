"""Errors that reach the operator: each maps to an exit code of the CLI (DESIGN.md §3)."""


class BadInput(Exception):
    """Input refused as a whole (exit 2); names the file, row and column where it can."""

    def __init__(self, message, *, file=None, row=None, column=None, sheet=None,
                 errors=None, truncated=False):
        self.message = message
        # Every error of a file at once (issue 15): dicts with file, sheet, row, column,
        # rule, message, message_zh; `truncated` when there were more than the cap.
        self.errors = list(errors or [])
        self.truncated = truncated
        self.file = file
        self.sheet = sheet
        self.row = row
        self.column = column
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
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def to_dict(self):
        return {"error": "bad_input", "message": self.message, "file": self.file,
                "sheet": self.sheet, "row": self.row, "column": self.column,
                "errors": self.errors, "truncated": self.truncated}


class Refused(Exception):
    """A command the operator may not give (exit 2); names the rule that refused it."""

    def __init__(self, rule, message):
        self.rule = rule
        self.message = message
        super().__init__(f"refused by {rule}: {message}")

    def to_dict(self):
        return {"error": "refused", "rule": self.rule, "message": self.message}


def from_remote(remote_error):
    """The BadInput or Refused a service raised, from nameko's RemoteError; None for
    anything else (minimal: the message only, unless the service sent the error's dict)."""
    args = getattr(remote_error, "exc_args", None) or ()
    data = next((a for a in args if isinstance(a, dict)), None)
    if remote_error.exc_type == "BadInput":
        if data:
            return BadInput(data.get("message") or remote_error.value,
                            file=data.get("file"), sheet=data.get("sheet"),
                            row=data.get("row"), column=data.get("column"),
                            errors=data.get("errors"), truncated=bool(data.get("truncated")))
        return BadInput(remote_error.value)
    if remote_error.exc_type == "Refused":
        rule, _, message = str(remote_error.value).removeprefix("refused by ").partition(": ")
        return Refused(rule, message)
    return None
