"""Errors that reach the operator: each maps to an exit code of the CLI (DESIGN.md §3)."""


class BadInput(Exception):
    """Input refused as a whole (exit 2); names the file, row and column where it can."""

    def __init__(self, message, *, file=None, row=None, column=None, sheet=None):
        self.message = message
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
                "sheet": self.sheet, "row": self.row, "column": self.column}


class Refused(Exception):
    """A command the operator may not give (exit 2); names the rule that refused it."""

    def __init__(self, rule, message):
        self.rule = rule
        self.message = message
        super().__init__(f"refused by {rule}: {message}")

    def to_dict(self):
        return {"error": "refused", "rule": self.rule, "message": self.message}
