"""What the CLI prints: data as text for people or, with --json, as JSON on stdout;
errors as one line (or one line per problem of a file) on stderr, as a JSON object there
under --json (docs in README, "The command line")."""
import json
import sys

from shared.errors import rule_label
from services.cli.messages import say

# Exit codes (DESIGN.md §3, README): 0 success; 1 anything else; 2 bad input or refused
# permission; 3 the broker, the database or a service could not be reached.
EXIT_OK, EXIT_ERROR, EXIT_INPUT, EXIT_UNAVAILABLE = 0, 1, 2, 3


def emit(args, data, human):
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        human(data)


def kv(data):
    for key, value in data.items():
        print(f"{key}: {value}")


def progress(args, message):
    """Progress goes to stderr, so --json output stays clean."""
    print(f"  {message}", file=sys.stderr, flush=True)


def where(problem, lang):
    """'file, sheet S, row R, column C' of one problem, in `lang`."""
    labels = {"zh": ("工作表「{}」", "第 {} 行", "列「{}」"),
              "en": ("sheet {}", "row {}", "column {}")}[lang]
    parts = [str(problem["file"])] if problem.get("file") is not None else []
    parts += [label.format(problem[key]) for key, label
              in zip(("sheet", "row", "column"), labels) if problem.get(key) is not None]
    return ("，" if lang == "zh" else ", ").join(parts)


def problem_line(problem, lang):
    """One problem of a file, in one line."""
    message = problem.get("message_zh") if lang == "zh" else problem.get("message")
    message = message or problem.get("message") or ""
    place = where(problem, lang)
    line = f"{place}{'：' if lang == 'zh' else ': '}{message}" if place else message
    if problem.get("rule"):
        rule = rule_label(problem["rule"], lang)
        line += f"（{say('rule', lang)} {rule}）" if lang == "zh" \
            else f" ({say('rule', lang)} {rule})"
    return line


def bad_input_lines(exc, lang):
    """The lines a BadInput is shown as: one if it has one problem, else a heading and
    one line for each problem."""
    errors = getattr(exc, "errors", None) or [{"message": exc.message,
                                               "message_zh": exc.message}]
    if len(errors) == 1 and not getattr(exc, "truncated", False):
        return [problem_line(errors[0], lang)]
    files = {e.get("file") for e in errors if e.get("file")}
    heading = say("file_refused", lang, file=files.pop() if len(files) == 1
                  else say("the_file", lang), count=len(errors),
                  more=say("more_not_read", lang) if exc.truncated else "")
    return [heading] + [f"  {problem_line(e, lang)}" for e in errors]


def error(args, kind, code, lines, data=None):
    """Report an error on stderr: `lines` for people, `data` (a dict) under --json."""
    if getattr(args, "json", False):
        body = {"error": kind, "exit": code, "message": lines[0] if lines else ""}
        body.update(data or {})
        print(json.dumps(body, ensure_ascii=False, default=str), file=sys.stderr)
    else:
        print(f"pinggu: {lines[0]}", file=sys.stderr)
        for line in lines[1:]:
            print(line, file=sys.stderr)
    return code
