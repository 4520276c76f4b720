"""`pinggu case explain` as text: each verdict with the notice's reasoning, in Chinese and
English, the deadlines that fired and the readings of the notice applied."""
import json


def print_explanation(view, e):
    print(f"{view['uscc']} {view['name']}（{view['cohort']}年度备案, "
          f"jurisdiction {view['jurisdiction']}）")
    if not e["verdicts"]:
        print("尚无结论 / No verdict yet")
    for n, v in enumerate(e["verdicts"], start=1):
        revised = f"（修订 / revises: {v['revises']}）" if v["revises"] else ""
        print(f"\n[{n}] {v['decided_on']} {v['outcome']}{revised} — "
              f"rulebook {v['rulebook_version']}")
        for line in v["lines"]:
            print(f"    {line}")
        print("    依据 / based on:")
        for name, value in sorted(v["inputs"].items()):
            print(f"      {name}: {json.dumps(value, ensure_ascii=False)}")
        if v["deadline"]:
            print(f"    整改期限 / rectify by: {v['deadline']}（两个月 / two calendar months）")
    if e.get("extension"):
        x = e["extension"]
        print(f"\n六(四) 备案到期后延续认定至 {x['until']} / filing expired {x['valid_until']}, "
              f"certification may continue until {x['until']}"
              + (f" — {x['ended']}" if x["ended"] else ""))
    for fired in e["deadlines_fired"]:
        move = fired["clock_move"]
        print(f"\n期限届满 / deadline passed ({fired['deadline']}) on {fired['business_date']}"
              + (f", when the clock was moved (#{move['move']} by {move['by']}, "
                 f"{move['from']} → {move['to']}, at {move['moved_at'][:19]})"
                 if move else " (wall clock)"))
    if e.get("reading_lines"):
        print("\n解读与评估设置 / readings of the notice and the campaign settings applied:")
        for line in e["reading_lines"]:
            print(f"    {line}")
    if e.get("self_assessment_missed"):
        print("\n六(二) 未按期自查自评 / no self-assessment by the milestone"
              + ("（已接受说明 / excuse accepted）" if e.get("excused") else ""))
