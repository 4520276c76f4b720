"""The province's progress chart as server-side SVG: no script, nothing to load, prints as
it shows. One bar per jurisdiction (in scope, with the self-assessed and scored parts),
and one bar of outcomes."""
from xml.sax.saxutils import escape

from shared.language import outcomes as o
from shared.language.jurisdictions import CITIES

COLORS = {"in_scope": "#d9d9d9", "self_assessed": "#8fb8de", "scored": "#2f6fad"}
# Green for the outcomes that let an institution go on, amber for rectification, red for
# termination (四(三)); grey for a label this chart does not know.
OUTCOME_COLORS = {o.NORMAL: "#2e7d32", o.RENEWAL_AGREED: "#43a047", o.RESUMED: "#66bb6a",
                  o.RENEWED: "#81c784", o.SUSPENDED: "#f9a825", o.RENEWAL_WITHHELD: "#fb8c00",
                  o.TERMINATED: "#c62828"}


def progress_svg(jurisdictions, width=640):
    """`jurisdictions`: campaign status rows (jurisdiction, in_scope, self_assessed,
    scored)."""
    bar, gap, label_w = 18, 8, 90
    top = 28
    height = top + len(jurisdictions) * (bar + gap) + 10
    most = max([j["in_scope"] for j in jurisdictions] + [1])
    scale = (width - label_w - 60) / most
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="各地自查自评与评分进度" class="chart">',
             _legend([("纳入评估", COLORS["in_scope"]), ("已自评", COLORS["self_assessed"]),
                      ("已评分", COLORS["scored"])])]
    for n, j in enumerate(jurisdictions):
        y = top + n * (bar + gap)
        name = CITIES.get(j["jurisdiction"], j["jurisdiction"])
        parts.append(f'<text x="0" y="{y + bar - 4}" font-size="13">{escape(name)}</text>')
        for key, h in (("in_scope", bar), ("self_assessed", bar * 0.66), ("scored", bar / 3)):
            parts.append(f'<rect x="{label_w}" y="{y + (bar - h) / 2:.1f}" height="{h:.1f}" '
                         f'width="{j[key] * scale:.1f}" fill="{COLORS[key]}">'
                         f'<title>{escape(name)} {key}: {j[key]}</title></rect>')
        parts.append(f'<text x="{label_w + j["in_scope"] * scale + 6:.1f}" y="{y + bar - 4}" '
                     f'font-size="12">{j["scored"]}/{j["self_assessed"]}/{j["in_scope"]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def outcomes_svg(counts, width=640):
    """`counts`: {outcome label: number of cases}, as one stacked bar with a legend."""
    total = sum(counts.values())
    height = 70
    order = list(OUTCOME_COLORS)
    items = sorted(counts.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order
                                                   else len(order), kv[0]))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="评估结论分布" class="chart">',
             _legend([(f"{k} {v}", OUTCOME_COLORS.get(k, "#78909c")) for k, v in items])]
    x = 0.0
    for outcome, count in items:
        w = (width - 2) * count / total if total else 0
        parts.append(f'<rect x="{x:.1f}" y="30" height="30" width="{w:.1f}" '
                     f'fill="{OUTCOME_COLORS.get(outcome, "#78909c")}">'
                     f'<title>{escape(outcome)}: {count}</title></rect>')
        x += w
    parts.append("</svg>")
    return "".join(parts)


def _legend(entries):
    out, x = [], 0
    for label, color in entries:
        out.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{color}"/>'
                   f'<text x="{x + 16}" y="15" font-size="12">{escape(label)}</text>')
        x += 24 + 13 * len(label)
    return "".join(out)
