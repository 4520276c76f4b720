"""Reading one cell's value as a form column expects it (text, code, whole number,
decimal, date), by the one normalisation policy of docs/forms.md; a value that does
not fit raises BadInput naming the cell and the rule, in English and in Chinese."""

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal

from shared.errors import BadInput

# Text columns without a limit of their own.
TEXT_MAX = 200
# Numbers: at most 15 significant digits (what a cell holds exactly) and magnitudes an
# operator can mean. Beyond that a number is a slip or an attack, never data.
MAX_DIGITS = 15
# Every date cell lies in these years, whatever the form; readers narrow it further
# (the campaign, the business date).
DATE_MIN, DATE_MAX = dt.date(1980, 1, 1), dt.date(2099, 12, 31)
# How far after the business date a date may lie: forms are filled in ahead (a score
# sheet dated for the visit next week), other systems report as of a cut-off. Beyond
# that a date is a slip (2099) and would decide deadlines.
AHEAD = dt.timedelta(days=90)


def latest_date(today):
    """The latest date a cell may hold, given the business date (None: no bound)."""
    return today + AHEAD if today else None

# A float holds integers exactly only up to 2**53; an 18-digit code typed into a number
# cell has already lost digits by the time we see it.
_EXACT_FLOAT = 2 ** 53


class Unreadable:
    """A cell whose value cannot be taken as data (an Excel error, a formula without a
    computed value, a number beyond any cell's precision). It is refused, naming the
    cell, only if the reader asks for that column."""

    def __init__(self, reason, reason_zh=None):
        self.reason = reason
        self.reason_zh = reason_zh or reason

    def __repr__(self):
        return f"<unreadable: {self.reason}>"

# ----------------------------------------------------------------- cell coercion
# Each takes the raw cell value and where it came from; blank (None or whitespace)
# returns None when required=False and is refused otherwise.
#
# One normalisation policy (docs/forms.md): codes, numbers and dates typed as text are
# NFKC-normalised (full-width digits, letters and punctuation become ASCII) and then
# read strictly in ASCII; anything else is refused. Names and free text are kept as
# typed (stripped), and refused if they hold control, format or bidi characters.

def _blank(value, required, where):
    if isinstance(value, Unreadable):
        raise BadInput(value.reason, message_zh=value.reason_zh, rule="readable cell",
                       **where)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadInput("required, but the cell is empty", message_zh="必填,但单元格为空",
                           rule="required", **where)
        return True
    return False


def _where(file, row, column, sheet):
    return {"file": file, "row": row, "column": column, "sheet": sheet}


def nfkc(text):
    """Codes, numbers and dates typed as text: full-width and compatibility forms
    become their ASCII equivalents (６-１８ -> 6-18, ２０２３年 -> 2023年)."""
    return unicodedata.normalize("NFKC", text).strip()


# Control (Cc), format (Cf: bidi overrides, zero-width characters), surrogate and
# private-use characters, and the Unicode line/paragraph separators.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}


def _hidden_character(text, multiline):
    for ch in text:
        if multiline and ch == "\n":
            continue
        if unicodedata.category(ch) in _REFUSED_CATEGORIES:
            return ch
    return None


def as_text(value, *, file=None, row=None, column=None, sheet=None, required=True,
            max_length=TEXT_MAX, multiline=False):
    """A name or free text as typed (stripped). `multiline` allows line breaks (free
    text such as evidence); every other control, format or bidi character is refused."""
    where = _where(file, row, column, sheet)
    if _blank(value, required, where):
        return None
    if isinstance(value, bool):
        raise BadInput("expected text, got a TRUE/FALSE cell",
                       message_zh="应为文本,实为 TRUE/FALSE 单元格", rule="text", **where)
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= _EXACT_FLOAT:
            raise BadInput(f"expected text, got the number {value!r} (digits may have "
                           "been lost: format the cell as text and type it again)",
                           message_zh=f"应为文本,实为数值 {value!r}(可能已丢失位数:请把"
                           "单元格格式设为「文本」后重新输入)", rule="text", **where)
        value = int(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time, dt.timedelta)):
        raise BadInput("expected text, got a date cell", message_zh="应为文本,实为日期单元格",
                       rule="text", **where)
    if isinstance(value, int) and abs(value) >= _EXACT_FLOAT:
        raise BadInput("expected text, got a number too long to be exact (format the "
                       "cell as text and type it again)",
                       message_zh="应为文本,实为位数过长的数值(请把单元格格式设为「文本」后"
                       "重新输入)", rule="text", **where)
    text = str(value).strip()
    if max_length is not None and len(text) > max_length:
        raise BadInput(f"longer than {max_length} characters",
                       message_zh=f"超过 {max_length} 个字符", rule="text length", **where)
    if multiline:
        text = text.replace("\r\n", "\n")
    hidden = _hidden_character(text, multiline)
    if hidden is not None:
        raise BadInput(f"holds the invisible or control character U+{ord(hidden):04X} "
                       f"({unicodedata.name(hidden, 'unnamed')}); type the text again "
                       "without it",
                       message_zh=f"含有不可见字符或控制字符 U+{ord(hidden):04X},请删除后"
                       "重新输入", rule="visible characters", **where)
    return text


def as_code(value, *, file=None, row=None, column=None, sheet=None, required=True,
            max_length=TEXT_MAX):
    """A code (USCC, occupation, clause, city, status): NFKC-normalised, white space
    removed, and then only printable ASCII, or refused."""
    text = as_text(value, file=file, row=row, column=column, sheet=sheet,
                   required=required, max_length=max_length)
    if text is None:
        return None
    code = "".join(nfkc(text).split())
    if not all(" " < ch < "\x7f" for ch in code) and not _cjk_code(code):
        raise BadInput(f"{_show(text)} holds characters a code cannot have",
                       message_zh=f"{_show(text)} 含有代码中不能出现的字符",
                       rule="code characters", **_where(file, row, column, sheet))
    return code


def _cjk_code(code):
    # Some codes are words (登记状态 有效, 类型 企业, 所属地市 太原市, 四(一)5): letters
    # and ideographs are fine, symbols and invisible characters are not.
    return all(ch.isalnum() or ch in "-().,:;/_、—–‐‑" for ch in code)


def _show(text, limit=40):
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _bounded(number, minimum, maximum, where):
    if minimum is not None and number < minimum:
        raise BadInput(f"{number} is less than the minimum {minimum}",
                       message_zh=f"{number} 小于最小值 {minimum}", rule="minimum", **where)
    if maximum is not None and number > maximum:
        raise BadInput(f"{number} is more than the maximum {maximum}",
                       message_zh=f"{number} 大于最大值 {maximum}", rule="maximum", **where)
    return number


_DECIMAL = re.compile(r"[+-]?(?=[0-9.]{1,%d}$)[0-9]*\.?[0-9]+" % (MAX_DIGITS + 1))
_LIMIT = 10 ** MAX_DIGITS


_WHAT_ZH = {"a whole number": "整数", "a number": "数字"}


def _to_decimal(value, where, what):
    """The one number policy for whole-number and decimal columns alike: a number
    cell, or text that after NFKC is plain ASCII digits with at most one decimal point
    (no exponent, no underscores, no 'Infinity'), of at most MAX_DIGITS digits."""
    zh, rule = _WHAT_ZH[what], what.split(" ", 1)[1]
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise BadInput(f"expected {what}, got {_show(str(value))}",
                       message_zh=f"应为{zh},实为 {_show(str(value))}", rule=rule, **where)
    if isinstance(value, str):
        text = nfkc(value)
        if len(text) > MAX_DIGITS + 2 or not _DECIMAL.fullmatch(text):
            raise BadInput(f"expected {what} (digits, at most one decimal point, at most "
                           f"{MAX_DIGITS} digits), got {_show(value)}",
                           message_zh=f"应为{zh}(只填数字,至多一个小数点,不超过 "
                           f"{MAX_DIGITS} 位,不带单位),实为 {_show(value)}", rule=rule,
                           **where)
        number = Decimal(text)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise BadInput(f"expected {what}, got {value!r}",
                           message_zh=f"应为{zh},实为 {value!r}", rule=rule, **where)
        number = Decimal(repr(value))
    else:
        number = Decimal(value)
    if not number.is_finite() or abs(number) >= _LIMIT or (
            number and number.adjusted() < -MAX_DIGITS):
        raise BadInput(f"expected {what} below 10^{MAX_DIGITS}, got {_show(str(value))}",
                       message_zh=f"应为小于 10^{MAX_DIGITS} 的{zh},实为 {_show(str(value))}",
                       rule=rule, **where)
    return number


def as_int(value, *, file=None, row=None, column=None, sheet=None, required=True,
           minimum=None, maximum=None):
    where = _where(file, row, column, sheet)
    if _blank(value, required, where):
        return None
    number = _to_decimal(value, where, "a whole number")
    if number != number.to_integral_value():
        raise BadInput(f"expected a whole number, got {_show(str(value))}",
                       message_zh=f"应为整数,实为 {_show(str(value))}", rule="whole number",
                       **where)
    return _bounded(int(number), minimum, maximum, where)


def as_decimal(value, *, file=None, row=None, column=None, sheet=None, required=True,
               minimum=None, maximum=None):
    """A Decimal, exact for what the operator typed (floats go through their repr)."""
    where = _where(file, row, column, sheet)
    if _blank(value, required, where):
        return None
    return _bounded(_to_decimal(value, where, "a number"), minimum, maximum, where)


def as_number(value, *, file=None, row=None, column=None, sheet=None, required=True,
              minimum=None, maximum=None):
    number = as_decimal(value, file=file, row=row, column=column, sheet=sheet,
                        required=required, minimum=minimum, maximum=maximum)
    return None if number is None else float(number)


_DATE_TEXT = re.compile(
    r"([0-9]{4})\s*(?:[-/.]|年)\s*([0-9]{1,2})\s*(?:[-/.]|月)\s*([0-9]{1,2})\s*日?")


def as_date(value, *, file=None, row=None, column=None, sheet=None, required=True,
            earliest=None, latest=None):
    """A date from a date cell, or text YYYY-MM-DD (also YYYY/MM/DD, YYYY.MM.DD and
    YYYY年M月D日, NFKC-normalised). A plain number is refused rather than read as an
    Excel serial day: it is more often a typing slip than a date. Every date lies in
    DATE_MIN..DATE_MAX, and in `earliest`..`latest` when given."""
    where = _where(file, row, column, sheet)
    if _blank(value, required, where):
        return None
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise BadInput(f"expected a date, got the time {value.isoformat()}",
                           message_zh=f"应为日期,实为时间 {value.isoformat()}", rule="date",
                           **where)
        date = value.date()
    elif isinstance(value, dt.date):
        date = value
    elif isinstance(value, str):
        match = _DATE_TEXT.fullmatch(nfkc(value)) if len(value) <= 40 else None
        date = None
        if match:
            try:
                date = dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                pass
        if date is None:
            raise BadInput(f"not a valid date {_show(value)} (write YYYY-MM-DD)",
                           message_zh=f"{_show(value)} 不是有效日期(请写成 YYYY-MM-DD)",
                           rule="date", **where)
    else:
        raise BadInput(f"expected a date, got {_show(str(value))} (format the cell as a "
                       "date or write YYYY-MM-DD)",
                       message_zh=f"应为日期,实为 {_show(str(value))}(请把单元格设为日期"
                       "格式或写成 YYYY-MM-DD)", rule="date", **where)
    low = max(DATE_MIN, earliest) if earliest else DATE_MIN
    high = min(DATE_MAX, latest) if latest else DATE_MAX
    if not low <= date <= high:
        raise BadInput(f"{date.isoformat()} is outside {low.isoformat()} .. "
                       f"{high.isoformat()}",
                       message_zh=f"{date.isoformat()} 不在 {low.isoformat()} 至 "
                       f"{high.isoformat()} 之间", rule="date range", **where)
    return date
