"""The 11 prefecture-level cities of Shanxi and who has jurisdiction over an institution.

Divisions are GB/T 2260 codes: the province 140000, its cities 14xx00. The jurisdictions
(属地管理, notice 三) are the province (its center evaluates provincial-level filings) and
each city's bureau; `JURISDICTIONS` lists them in code order.

Lookups raise ValueError for an unknown city; callers turn that into BadInput with the
row and column they know.
"""

PROVINCE = "140000"

CITIES = {
    "140100": "太原市",
    "140200": "大同市",
    "140300": "阳泉市",
    "140400": "长治市",
    "140500": "晋城市",
    "140600": "朔州市",
    "140700": "晋中市",
    "140800": "运城市",
    "140900": "忻州市",
    "141000": "临汾市",
    "141100": "吕梁市",
}

JURISDICTIONS = (PROVINCE, *CITIES)

_BY_NAME = {name: code for code, name in CITIES.items()}
_BY_NAME.update({name.removesuffix("市"): code for code, name in CITIES.items()})


def city_code(name_or_code):
    """The division code for "太原", "太原市" or "140100"."""
    key = str(name_or_code).strip()
    if key in CITIES:
        return key
    if key in _BY_NAME:
        return _BY_NAME[key]
    raise ValueError(f"unknown Shanxi city {key!r} (expected one of "
                     f"{', '.join(CITIES.values())} or its code 140100-141100)")


def city_name(code):
    """The full name, e.g. "太原市"."""
    try:
        return CITIES[code]
    except KeyError:
        raise ValueError(f"unknown Shanxi city code {code!r}") from None


def jurisdiction(level, city):
    """Who evaluates the institution (属地管理): the provincial center (140000) for
    provincial-level filings, else the bureau of its city. `level` is the Level id
    ("municipal" / "provincial") or a Level."""
    if level == "provincial":
        return PROVINCE
    if level == "municipal":
        if city is None:
            raise ValueError("a municipal institution needs its city")
        return city_code(city)
    raise ValueError(f"unknown filing level {level!r}")
