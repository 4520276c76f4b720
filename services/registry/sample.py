"""A generated sample province: 862 filed institutions with the counts of the 2023
campaign (DESIGN.md §1), for demos and acceptance runs; or, for benchmarks, N institutions
in the same proportions of kinds, levels, cohorts and validity (issue 14).

Everything follows from the seed through one random.Random, so the same seed always
gives the same province. Counts that the acceptance checks rely on are exact, not drawn:
the category/level split per cohort group, the number of filings already expired before
the campaign, expiring during it, and legal registrations expired. At another size every
count is the 862's scaled (largest remainders, so the total is exactly N).
"""

import datetime as dt
import random

from shared import xlsx
from shared.errors import BadInput
from shared.language import jurisdictions as cities, uscc
from shared.language.outcomes import COHORTS
from services.registry.filing import Category, Level
from services.registry.roster import RosterRow, write_roster  # noqa: F401 (re-exported)

E, C, S = Category.ENTERPRISE, Category.COLLEGE, Category.SOCIAL
M, P = Level.MUNICIPAL, Level.PROVINCIAL

# The notice's figures for the 2020 + 2021 cohorts together.
IN_SCOPE_COUNTS = {(E, M): 74, (E, P): 30, (C, M): 66, (C, P): 58, (S, M): 197, (S, P): 82}
# The notice gives only totals for the out-of-scope batches (40 and 315); the split by
# category and level is ours, in roughly the same proportions.
BATCH_2019_COUNTS = {(E, M): 7, (E, P): 3, (C, M): 6, (C, P): 6, (S, M): 12, (S, P): 6}
BATCH_2022_COUNTS = {(E, M): 55, (E, P): 25, (C, M): 38, (C, P): 32, (S, M): 115, (S, P): 50}

BATCH_2019_DATE = dt.date(2019, 11, 20)
BATCH_2022_DATE = dt.date(2022, 9, 16)
BATCHES_2020 = [dt.date(2020, 4, 17), dt.date(2020, 6, 30), dt.date(2020, 8, 28),
                dt.date(2020, 10, 30), dt.date(2020, 12, 25)]
BATCHES_2021 = [dt.date(2021, 3, 26), dt.date(2021, 5, 28), dt.date(2021, 7, 30),
                dt.date(2021, 9, 29), dt.date(2021, 12, 10)]

CAMPAIGN_START = dt.date(2023, 9, 1)
CAMPAIGN_END = dt.date(2023, 12, 31)
# Exact numbers out of 862: ~7% of filings ended before the campaign, ~8% end during it,
# 5% of legal registrations have run out.
EXPIRED_BEFORE_CAMPAIGN = 60
EXPIRING_DURING_CAMPAIGN = 70
LEGAL_EXPIRED = 43

# Occupations of 职业分类大典 (2015/2022 editions) commonly filed for certification.
OCCUPATIONS = (
    ("6-18-02-04", "焊工"),
    ("6-18-01-01", "车工"),
    ("6-18-01-02", "铣工"),
    ("6-18-01-04", "磨工"),
    ("6-18-02-01", "铸造工"),
    ("6-20-01-01", "装配钳工"),
    ("6-20-01-02", "工具钳工"),
    ("6-31-01-03", "电工"),
    ("6-29-01-01", "砌筑工"),
    ("6-29-01-03", "混凝土工"),
    ("6-29-01-04", "钢筋工"),
    ("6-29-01-05", "架子工"),
    ("4-12-01-01", "汽车维修工"),
    ("4-03-02-01", "中式烹调师"),
    ("4-03-02-02", "中式面点师"),
    ("4-03-02-03", "西式烹调师"),
    ("4-03-02-04", "西式面点师"),
    ("4-03-02-07", "茶艺师"),
    ("4-10-01-02", "育婴员"),
    ("4-10-01-03", "保育员"),
    ("4-10-01-05", "养老护理员"),
    ("4-10-01-06", "家政服务员"),
    ("4-10-03-01", "美容师"),
    ("4-10-03-02", "美发师"),
    ("4-07-05-01", "保安员"),
    ("4-07-05-03", "智能楼宇管理员"),
    ("4-07-05-04", "消防设施操作员"),
    ("4-07-03-02", "企业人力资源管理师"),
    ("4-01-02-01", "营销员"),
    ("4-01-02-02", "电子商务师"),
    ("4-04-05-01", "计算机程序设计员"),
)
OCCUPATION_NAMES = dict(OCCUPATIONS)

# Rough population weights, so that 太原 and 运城 have more institutions than 阳泉.
CITY_WEIGHTS = {"140100": 543, "140200": 310, "140300": 131, "140400": 318,
                "140500": 219, "140600": 159, "140700": 338, "140800": 477,
                "140900": 268, "141000": 398, "141100": 340}
# Provincial filings are registered with the province or in the capital's districts.
PROVINCIAL_DIVISIONS = ["140000", "140000", "140100", "140105", "140106", "140107",
                        "140108", "140109", "140110"]

# Highest level (1 = 一级/高级技师) an institution of each category may certify,
# with weights: enterprises certify their senior technicians, social organisations
# mostly the lower levels.
TOP_LEVEL_WEIGHTS = {E: {1: 20, 2: 30, 3: 35, 4: 15}, C: {1: 5, 2: 30, 3: 45, 4: 20},
                     S: {3: 40, 4: 40, 5: 20}}
OCCUPATION_COUNT_WEIGHTS = {1: 40, 2: 30, 3: 20, 4: 10}

_BRANDS = ("晋华", "汾河", "龙城", "三晋", "鑫源", "宏达", "华泰", "瑞丰", "鼎盛", "恒泰",
           "金桥", "博远", "正和", "安泰", "永兴", "新程", "卓越", "启航", "德润", "弘毅",
           "明远", "锦程", "泰和", "汇通", "众鑫", "建达", "嘉禾", "天和", "昌盛", "兴晋",
           "长青", "联创", "华信", "融通", "聚源", "同力", "中鼎", "君安", "福瑞", "凯达")
_INDUSTRIES = ("煤业", "焦化", "钢铁", "电力", "化工", "建设", "建工", "交通", "物流", "能源",
               "机械", "装备制造", "食品", "医药", "信息技术", "新材料", "水务", "热力", "燃气",
               "铝业")
_FIELDS = ("工程", "机电", "交通", "煤炭", "财贸", "建筑", "艺术", "旅游", "水利", "林业",
           "农业", "医药", "电力", "化工", "信息", "冶金", "轻工", "体育", "经贸", "能源",
           "卫生", "管理")
_SKILLS = ("家政", "烹饪", "美容美发", "汽车维修", "电工焊工", "养老护理", "母婴护理",
           "电子商务", "计算机", "建筑技能")
_ASSOCIATIONS = ("家庭服务业", "烹饪", "美发美容", "养老服务", "焊接", "电力行业", "建筑业",
                 "物流与采购", "餐饮行业", "汽车维修", "人力资源服务", "职业培训",
                 "电子商务", "安全生产", "物业管理")

# (USCC prefix, name pattern, weight) per category. The prefix says who registered the
# institution: 91 enterprise (市场监管), 12 public institution (机构编制), 52 private
# non-enterprise unit (民政), 51 social group (民政) such as a trade association.
# {place} is "太原市" for municipal filings, "山西" for provincial; {placeful} "山西省".
_NAME_PATTERNS = {
    E: [("91", "{place}{brand}{industry}集团有限公司", 3),
        ("91", "{place}{brand}{industry}有限公司", 3),
        ("91", "{place}{brand}{industry}股份有限公司", 2),
        ("91", "{place}{brand}{industry}有限责任公司", 2)],
    C: [("12", "{place}{field}职业技术学院", 3),
        ("12", "{placeful}{field}技师学院", 3),
        ("12", "{place}{field}职业学院", 2),
        ("12", "{placeful}{field}高级技工学校", 2),
        ("12", "{placeful}{field}中等专业学校", 1),
        ("52", "{place}{brand}职业学院", 1),
        ("52", "{place}{brand}职业技术学校", 1),
        ("52", "{place}{brand}{field}技工学校", 1)],
    S: [("52", "{place}{brand}职业技能培训学校", 4),
        ("52", "{place}{brand}职业培训学校", 3),
        ("52", "{place}{brand}{skill}培训学校", 3),
        ("51", "{placeful}{association}协会", 2),
        ("91", "{place}{brand}人力资源服务有限公司", 2),
        ("91", "{place}{brand}教育科技有限公司", 1),
        ("91", "{place}{brand}{skill}服务有限公司", 1)],
}


SAMPLE_SIZE = 862
MAX_INSTITUTIONS = 1_000_000
# Tries at a fresh name before a numbered one: the patterns give the sample province
# enough distinct names, a nation of 100,000 institutions not.
NAME_TRIES = 10000


def sample_province(seed: int = 2023, institutions: int = SAMPLE_SIZE) -> list[RosterRow]:
    """The institutions of a plausible Shanxi, the same for the same seed; 862 (the
    notice's counts) unless `institutions` says how many."""
    if not isinstance(institutions, int) or not 1 <= institutions <= MAX_INSTITUTIONS:
        raise BadInput(f"institutions must be a whole number from 1 to {MAX_INSTITUTIONS}, "
                       f"not {institutions!r}")
    counts = _scaled_counts(institutions)
    rng = random.Random(seed)
    specs = []  # (category, level, published_on)
    for (category, level), n in counts["2019"].items():
        specs += [(category, level, BATCH_2019_DATE)] * n
    for (category, level), n in counts["in scope"].items():
        # Roughly half each year, varying with the seed.
        n2020 = round(n * rng.uniform(0.42, 0.58))
        specs += [(category, level, rng.choice(BATCHES_2020)) for _ in range(n2020)]
        specs += [(category, level, rng.choice(BATCHES_2021)) for _ in range(n - n2020)]
    for (category, level), n in counts["2022"].items():
        specs += [(category, level, BATCH_2022_DATE)] * n

    city_of = _assign_cities(rng, specs)
    valid_until = _assign_validity(rng, specs, counts["expired"], counts["expiring"])
    legal = _assign_legal_validity(rng, len(specs), counts["legal expired"])

    codes, names, rows = set(), set(), []
    numbered = {}
    for i, (category, level, published_on) in enumerate(specs):
        city = city_of.get(i)
        prefix, name = _name(rng, category, level, city, names, numbered)
        code = _uscc(rng, prefix, city, codes)
        rows.append(RosterRow(
            uscc=code, name=name, category=category.value, level=level.value,
            city=city, published_on=published_on, valid_until=valid_until[i],
            scope=_scope(rng, category), legal_valid_until=legal[i]))
    rows.sort(key=lambda r: (r.published_on, r.uscc))
    return rows


def _scaled_counts(n):
    """The sample's counts scaled to n institutions: the 18 (batch, category, level)
    cells by largest remainders so they add up to n exactly; the validity counts
    rounded. At n = 862 they are the sample's own."""
    cells = [("2019", key, count) for key, count in BATCH_2019_COUNTS.items()] + \
        [("in scope", key, count) for key, count in IN_SCOPE_COUNTS.items()] + \
        [("2022", key, count) for key, count in BATCH_2022_COUNTS.items()]
    exact = [count * n / SAMPLE_SIZE for _, _, count in cells]
    scaled = [int(x) for x in exact]
    by_remainder = sorted(range(len(cells)), key=lambda k: (scaled[k] - exact[k], k))
    for k in by_remainder[:n - sum(scaled)]:
        scaled[k] += 1
    counts = {"2019": {}, "in scope": {}, "2022": {}}
    for (batch, key, _), count in zip(cells, scaled):
        counts[batch][key] = count
    older = sum(scaled[:len(BATCH_2019_COUNTS) + len(IN_SCOPE_COUNTS)])
    expired = round(EXPIRED_BEFORE_CAMPAIGN * n / SAMPLE_SIZE)
    counts["expired"] = min(expired, older)
    counts["expiring"] = min(round(EXPIRING_DURING_CAMPAIGN * n / SAMPLE_SIZE),
                             older - counts["expired"])
    counts["legal expired"] = round(LEGAL_EXPIRED * n / SAMPLE_SIZE)
    return counts


def write_rosters(rows, path, per_file=xlsx.MAX_ROWS - 1):
    """Write the rows as roster files of at most `per_file` rows each (an import reads
    at most xlsx.MAX_ROWS rows, the header included): `path` itself when they fit in one,
    else path-1.xlsx, path-2.xlsx, ... Returns the paths written."""
    if len(rows) <= per_file:
        write_roster(rows, path)
        return [path]
    stem = path[:-5] if path.endswith(".xlsx") else path
    paths = []
    for part, start in enumerate(range(0, len(rows), per_file), 1):
        paths.append(f"{stem}-{part}.xlsx")
        write_roster(rows[start:start + per_file], paths[-1])
    return paths


def _assign_cities(rng, specs):
    """City per municipal institution. Within each group (in scope or not, category)
    the first eleven go to distinct cities, so every city has in-scope institutions of
    every category; the rest follow population."""
    city_of = {}
    groups = {}
    for i, (category, level, published_on) in enumerate(specs):
        if level is M:
            group = published_on.year in COHORTS, category, published_on.year < 2020
            groups.setdefault(group, []).append(i)
    codes, weights = list(CITY_WEIGHTS), list(CITY_WEIGHTS.values())
    for members in groups.values():
        rng.shuffle(members)
        first = rng.sample(codes, len(codes))
        for k, i in enumerate(members):
            city_of[i] = first[k] if k < len(first) else rng.choices(codes, weights)[0]
    return city_of


def _random_date(rng, start, end):
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _assign_validity(rng, specs, expired_count, expiring_count):
    # Only filings from before 2022 can plausibly have run out by September 2023.
    older = [i for i, spec in enumerate(specs) if spec[2].year < 2022]
    chosen = rng.sample(older, expired_count + expiring_count)
    expired = set(chosen[:expired_count])
    during = set(chosen[expired_count:])
    out = []
    for i, (_, _, published_on) in enumerate(specs):
        if i in expired:
            out.append(_random_date(rng, dt.date(2023, 1, 1),
                                    CAMPAIGN_START - dt.timedelta(days=1)))
        elif i in during:
            out.append(_random_date(rng, CAMPAIGN_START, CAMPAIGN_END))
        else:
            # Filings run four or five years; the 2019 batch five, so that it is not
            # caught by the campaign's dates.
            years = 5 if published_on.year == 2019 else rng.choice((4, 5))
            out.append(_add_years(published_on, years) - dt.timedelta(days=1))
    return out


def _assign_legal_validity(rng, n, expired_count):
    expired = set(rng.sample(range(n), expired_count))
    return [_random_date(rng, dt.date(2022, 3, 1), CAMPAIGN_START - dt.timedelta(days=1))
            if i in expired else
            _random_date(rng, dt.date(2024, 1, 1), dt.date(2030, 12, 31))
            for i in range(n)]


def _name(rng, category, level, city, taken, numbered):
    """A name not yet taken. Once the patterns' names of a place run short (beyond the
    sample's size) a name is reused with a number, as a second school of a group is
    （二）in real rosters: `numbered` holds the next number per name."""
    patterns = _NAME_PATTERNS[category]
    weights = [w for _, _, w in patterns]
    if level is M:
        place = placeful = cities.city_name(city)
    else:
        place, placeful = "山西", "山西省"
    tries = NAME_TRIES if len(taken) < SAMPLE_SIZE else 5
    for _ in range(tries):
        prefix, pattern, _ = rng.choices(patterns, weights)[0]
        name = pattern.format(place=place, placeful=placeful, brand=rng.choice(_BRANDS),
                              industry=rng.choice(_INDUSTRIES), field=rng.choice(_FIELDS),
                              skill=rng.choice(_SKILLS),
                              association=rng.choice(_ASSOCIATIONS))
        if name not in taken:
            taken.add(name)
            return prefix, name
    if len(taken) < SAMPLE_SIZE:
        raise RuntimeError("ran out of distinct institution names")
    number = numbered.get(name, 2)
    while f"{name}（{number}）" in taken:
        number += 1
    numbered[name] = number + 1
    taken.add(f"{name}（{number}）")
    return prefix, f"{name}（{number}）"


_GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_BODY_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _org_body(rng):
    """A 9-character organisation code: 8 characters and the GB 11714 check
    character. Codes issued since the 2015 reform start with "MA"."""
    if rng.random() < 0.5:
        head = "".join(rng.choice("0123456789") for _ in range(8))
    else:
        head = "MA0" + "".join(rng.choice(_BODY_CHARS) for _ in range(5))
    total = sum((int(ch) if ch.isdigit() else ord(ch) - 55) * w
                for ch, w in zip(head, _GB11714_WEIGHTS))
    check = 11 - total % 11
    return head + {10: "X", 11: "0"}.get(check, str(check))


def _uscc(rng, prefix, city, taken):
    division = city if city else rng.choice(PROVINCIAL_DIVISIONS)
    while True:
        code = uscc.make(prefix, division, _org_body(rng))
        if code not in taken:
            taken.add(code)
            return code


def _scope(rng, category):
    count = rng.choices(list(OCCUPATION_COUNT_WEIGHTS),
                        list(OCCUPATION_COUNT_WEIGHTS.values()))[0]
    tops = TOP_LEVEL_WEIGHTS[category]
    scope = []
    for code, _ in rng.sample(OCCUPATIONS, count):
        top = rng.choices(list(tops), list(tops.values()))[0]
        scope.append((code, tuple(range(top, 6))))
    return tuple(scope)
