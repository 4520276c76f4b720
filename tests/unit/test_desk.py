"""The desk's pure parts (services/desk) and its sign-in in the operators' directory: the
case list's statuses and filters, sessions and CSRF, the chart, the password events and
lock-out, the desk's tokens as services check them, and the web application's rules
(CSRF, 属地管理, cookies) with the services stubbed."""
import datetime
import re

import pytest
from argon2 import PasswordHasher
from hypothesis import given, strategies as st

from shared import integration, config as config_module, tokens
from shared.directory import operator_of
from shared.errors import BadInput, Refused
from shared.metadata import caused_by
from shared.operators import Operator
from services.desk import chart, sessions as sessions_module, status
from services.desk.sessions import Sessions, csrf_ok
from services.registry import directory
from services.registry.application import Registry
from shared.language.outcomes import COHORTS
from tests import factories


# -- the case list ---------------------------------------------------------------------
@pytest.mark.parametrize("decision, case_file, expected", [
    (None, None, "filed"),
    (None, {"self_assessed": True}, "self-assessed"),
    (None, {"self_assessed": True, "scored": True}, "scored"),
    ({"class": "rectify", "phase": "rectifying"}, {"scored": True}, "rectifying"),
    ({"class": "pass", "phase": "decided", "outcome": "正常评价"}, {}, "passed"),
    ({"class": "pass", "phase": "closed", "outcome": "恢复评价活动"}, {}, "rectified"),
    ({"class": "terminate", "phase": "closed", "outcome": "终止备案"}, {}, "terminated"),
])
def test_a_cases_status_follows_its_decision_then_its_forms(decision, case_file, expected):
    assert status.status_of(decision, case_file) == expected


rows = st.lists(st.fixed_dictionaries({
    "uscc": st.text("0123456789ABC", min_size=18, max_size=18),
    "name": st.sampled_from(["太原培训学校", "大同技工学校", "阳泉职业学校"]),
    "cohort": st.sampled_from(COHORTS),
    "status": st.sampled_from(list(status.STATUSES)),
    "deadline": st.none() | st.dates(datetime.date(2023, 9, 1),
                                     datetime.date(2024, 3, 1)).map(str)}), max_size=12)


@given(rows, st.none() | st.sampled_from(COHORTS),
       st.none() | st.sampled_from(list(status.STATUSES)),
       st.none() | st.dates(datetime.date(2023, 9, 1), datetime.date(2024, 3, 1)),
       st.none() | st.sampled_from(["太原", "学校", "12", "abc"]))
def test_the_filters_keep_exactly_the_rows_matching_all_of_them(rows, cohort, state, by, q):
    def matches(r):
        return ((cohort is None or r["cohort"] == cohort)
                and (state is None or r["status"] == state)
                and (by is None or (r["deadline"] is not None
                                    and r["deadline"] <= by.isoformat()))
                and (q is None or q.upper() in r["uscc"].upper() or q in r["name"]))
    assert status.select(rows, cohort, state, by, q) == [r for r in rows if matches(r)]


def test_merge_lists_every_filing_with_its_status_and_the_rectifying_ones():
    filings = [{"uscc": "B", "name": "乙", "cohort": 2021}, {"uscc": "A", "name": "甲",
                                                              "cohort": 2020}]
    merged = status.merge(filings, [{"uscc": "A", "self_assessed": True, "scored": True}],
                          [{"uscc": "B", "class": "rectify", "phase": "rectifying",
                            "outcome": "暂停评价活动", "deadline": "2023-11-30"}])
    assert [(r["uscc"], r["status"], r["deadline"]) for r in merged] == [
        ("A", "scored", None), ("B", "rectifying", "2023-11-30")]
    assert status.rectifying(merged) == ["B"]
    assert status.parse_date("2023-02-30") is None


# -- sessions ----------------------------------------------------------------------------
def test_a_session_ends_when_idle_too_long_or_too_old_and_at_sign_out():
    now = [0.0]
    store = Sessions(clock=lambda: now[0])
    sid, session = store.new({"id": "city-140100"})
    now[0] += sessions_module.IDLE - 1
    assert store.get(sid) is session
    now[0] += sessions_module.IDLE + 1
    assert store.get(sid) is None
    sid, _ = store.new()
    for _ in range(sessions_module.ABSOLUTE // sessions_module.IDLE + 1):
        now[0] += sessions_module.IDLE - 1
        store.get(sid)
    assert store.get(sid) is None
    sid, _ = store.new()
    store.drop(sid)
    assert store.get(sid) is None and store.get(None) is None


def test_csrf_needs_the_sessions_own_token():
    _, session = Sessions().new()
    assert csrf_ok(session, session["csrf"])
    assert not csrf_ok(session, None) and not csrf_ok(session, "x" + session["csrf"])
    assert not csrf_ok(None, session["csrf"])


# -- the chart ---------------------------------------------------------------------------
def test_the_progress_chart_shows_each_jurisdictions_counts():
    svg = chart.progress_svg([{"jurisdiction": "140100", "in_scope": 80, "self_assessed": 60,
                               "scored": 20}, {"jurisdiction": "140200", "in_scope": 0,
                                               "self_assessed": 0, "scored": 0}])
    assert "太原市" in svg and "20/60/80" in svg and "0/0/0" in svg
    assert svg.startswith("<svg") and "<script" not in svg
    assert "终止备案 2" in chart.outcomes_svg({"终止备案": 2, "正常评价": 5})
    assert chart.outcomes_svg({})


# -- the password and lock-out in the directory -----------------------------------------
@pytest.fixture
def registry():
    app = Registry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    with caused_by("province", "province"):
        directory.authorise(app, "city-140100", "city", "140100", "王五",
                            tokens.public_bytes(tokens.new_private_key()), "province")
    return app


FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def test_only_a_hash_is_kept_and_the_entry_never_carries_it(registry):
    with caused_by("province", "province"):
        with pytest.raises(BadInput, match="argon2id"):
            directory.set_password(registry, "city-140100", "plain-text-password", "province")
        entry = directory.set_password(registry, "city-140100",
                                       FAST.hash("correct horse 1"), "province")
    assert entry["password"]["by"] == "province"
    operator = registry.repository.get(directory.operator_uuid("city-140100"))
    assert "$argon2id$" not in repr(operator.entry)
    assert directory.sign_in(registry, "city-140100", "correct horse 1") == {
        "ok": True, "operator": {"id": "city-140100", "role": "city",
                                 "jurisdiction": "140100", "name": "王五"}}


def test_no_published_event_carries_the_hash(registry):
    """The hash is the DeskPassword's, whose events the outbox skips; what it publishes of
    the registry (the directory included) never holds it."""
    with caused_by("province", "province"):
        for password in ("correct horse 1", "battery staple 2"):
            directory.set_password(registry, "city-140100", FAST.hash(password), "province")
    published, kept = [], []
    for notification in registry.recorder.select_notifications(1, 100):
        domain_event = registry.mapper.to_domain_event(notification)
        if getattr(type(domain_event), "published", True):
            published.append(integration.dumps(integration.to_cloudevent(
                "registry", notification.id, domain_event)))
        else:
            kept.append(domain_event)
    assert [type(e).__qualname__ for e in kept] == ["DeskPassword.Set", "DeskPassword.Changed"]
    assert "$argon2" in repr(kept[0].__dict__)
    assert len(published) == 3 and not any("$argon2" in text for text in published)


def test_five_wrong_passwords_lock_until_a_new_password_is_set(registry):
    with caused_by("province", "province"):
        directory.set_password(registry, "city-140100", FAST.hash("correct horse 1"),
                               "province")
    with caused_by("desk", "system"):
        for n in range(1, directory.MAX_FAILURES):
            assert directory.sign_in(registry, "city-140100", f"wrong {n}") == {
                "ok": False, "locked": False}
        assert directory.sign_in(registry, "city-140100", "wrong 5") == {"ok": False,
                                                                        "locked": True}
        assert directory.sign_in(registry, "city-140100", "correct horse 1")["locked"]
    with caused_by("province", "province"):
        directory.set_password(registry, "city-140100", FAST.hash("battery staple 2"),
                               "province")
    with caused_by("desk", "system"):
        assert directory.sign_in(registry, "city-140100", "wrong")["ok"] is False
        assert directory.sign_in(registry, "city-140100", "battery staple 2")["ok"]
        # A success clears the count: four more wrong ones do not lock.
        for n in range(directory.MAX_FAILURES - 1):
            directory.sign_in(registry, "city-140100", f"wrong {n}")
        assert directory.sign_in(registry, "city-140100", "battery staple 2")["ok"]


def test_no_such_operator_or_no_password_is_just_a_wrong_sign_in(registry):
    assert directory.sign_in(registry, "nobody", "x") == {"ok": False, "locked": False}
    assert directory.sign_in(registry, "../etc", "x") == {"ok": False, "locked": False}
    assert directory.sign_in(registry, "city-140100", "x") == {"ok": False, "locked": False}


# -- the desk's tokens, as a service checks them -----------------------------------------
DESK = tokens.desk_private_key(config_module.DEV_DESK_SEED)
ENTRY = {"id": "city-140100", "role": "city", "jurisdiction": "140100", "name": "王五",
         "revoked": None}


def desk_token(subject="city-140100", role="city", jurisdiction="140100", key=DESK):
    return tokens.mint(key, kid="desk", subject=subject, role=role, jurisdiction=jurisdiction,
                       audience="evaluation", method="case", args_digest=tokens.digest(),
                       jti="j", issuer=tokens.DESK_ISSUER)


def verify_desk(token, entries):
    key = tokens.Key("desk", DESK.public_key(), operator=None, issuer=tokens.DESK_ISSUER)
    claims, key = tokens.verify(token, audience="evaluation", method="case",
                                args_digest=tokens.digest(), key_for=lambda kid: key)
    return operator_of(claims, key, entries.get)


def test_a_desk_token_acts_as_the_directorys_operator_and_no_wider():
    assert verify_desk(desk_token(), {"city-140100": ENTRY}) == Operator(
        "city-140100", "city", "140100", "王五")
    with pytest.raises(Refused, match="claims role province"):
        verify_desk(desk_token(role="province", jurisdiction="140000"),
                    {"city-140100": ENTRY})
    with pytest.raises(Refused, match="not in the directory"):
        verify_desk(desk_token(subject="someone"), {"city-140100": ENTRY})
    revoked = dict(ENTRY, revoked={"at": "2023-09-01T00:00:00", "by": "province"})
    with pytest.raises(Refused, match="revoked"):
        verify_desk(desk_token(), {"city-140100": revoked})
    with pytest.raises(Refused, match="invalid token"):
        verify_desk(desk_token(key=tokens.new_private_key()), {"city-140100": ENTRY})


def test_the_desks_key_is_the_development_one_only_in_development(tmp_path):
    from services import provision
    assert config_module.load({}).desk_seed == config_module.DEV_DESK_SEED
    provision.generate_keys(str(tmp_path), "k1")
    own = config_module.load({"PINGGU_DESK_KEY_FILE": str(tmp_path / "desk.key")})
    assert own.desk_seed != config_module.DEV_DESK_SEED and len(own.desk_public_keys) == 1
    services = config_module.load({"PINGGU_MODE": "production",
                                   "PINGGU_DESK_PUBLIC_KEY_FILE": str(tmp_path / "desk.pub")})
    assert services.desk_seed is None
    assert services.desk_public_keys == own.desk_public_keys
    dev = config_module.load({"PINGGU_MODE": "production",
                              "PINGGU_DESK_KEY_FILE": "", "PINGGU_DESK_PUBLIC_KEY_FILE": ""})
    assert dev.desk_public_keys == ()


# -- the web application with the services stubbed --------------------------------------
class Stub:
    """The services as the desk sees them: answers per (service, method)."""

    def __init__(self):
        self.calls = []
        self.passwords = {"city-140100": "right password"}

    def call(self, operator, service, method, *args, **kwargs):
        self.calls.append((operator and operator["id"], service, method, args))
        if method == "operator_sign_in":
            ok = self.passwords.get(args[0]) == args[1]
            return {"ok": True, "operator": dict(ENTRY, id=args[0])} if ok \
                else {"ok": False, "locked": False}
        if (service, method) == ("registry", "case"):
            return {"uscc": args[0], "name": "乙", "cohort": 2021,
                    "jurisdiction": "140200" if args[0].startswith("X") else "140100"}
        if method in ("institutions", "case_files", "cases", "history"):
            return []
        return None


@pytest.fixture
def web():
    from services.desk.app import create_app
    stub = Stub()
    app = create_app(stub, secure_cookies=True)
    return app.test_client(), stub


def csrf_of(page):
    return re.search(r'name="csrf" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def sign_in(client, password="right password"):
    page = client.get("/signin")
    return client.post("/signin", data={"csrf": csrf_of(page), "operator": "city-140100",
                                        "password": password})


def test_signing_in_starts_a_new_session_with_a_strict_http_only_cookie(web):
    client, _ = web
    before = client.get("/signin").headers["Set-Cookie"]
    assert "HttpOnly" in before and "SameSite=Strict" in before and "Secure" in before
    response = sign_in(client)
    assert response.status_code == 303
    after = response.headers["Set-Cookie"]
    assert after.split(";")[0] != before.split(";")[0]  # no session fixation
    assert client.get("/cases").status_code == 200
    assert sign_in(client, "wrong").status_code == 401


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(web):
    client, stub = web
    client.get("/signin")
    assert client.post("/signin", data={"operator": "city-140100",
                                        "password": "right password"}).status_code == 403
    assert not any(c[2] == "operator_sign_in" for c in stub.calls)
    sign_in(client)
    assert client.post("/signout", data={"csrf": "forged"}).status_code == 403
    assert client.get("/cases").status_code == 200


def test_another_citys_pages_are_404_and_the_service_is_asked_as_the_clerk(web):
    client, stub = web
    assert client.get("/cases").status_code == 302  # signed out: to the sign-in
    sign_in(client)
    assert client.get("/cases/X1").status_code == 404
    assert client.get("/forms/140200/self-assessment.xlsx").status_code == 404
    assert client.get("/cases?jurisdiction=140200").status_code == 404
    assert client.get("/progress").status_code == 404
    assert client.get("/cases/A1").status_code == 200
    assert {c[0] for c in stub.calls if c[2] != "operator_sign_in"} == {"city-140100"}
    assert [c[0] for c in stub.calls if c[2] == "operator_sign_in"] == [None]


# -- the desk's RPC client ---------------------------------------------------------------
class FakeProxy:
    def __init__(self, answer):
        self.answer, self.tokens, self.stopped = answer, [], False

    def stop(self):
        self.stopped = True

    def __getattr__(self, name):  # proxy.<service>.<method>(token, ...)
        return self

    def __call__(self, token, *args, **kwargs):
        self.tokens.append(token)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def client_with(*answers):
    from services.desk.rpc import Services
    services = Services(config_module.load({}))
    fakes = [FakeProxy(a) for a in answers]
    pending = list(fakes)
    services._take = lambda: (pending[0], pending.pop(0))
    return services, fakes


def test_a_dropped_connection_is_retried_once_with_the_same_token():
    services, (broken, fresh) = client_with(ConnectionResetError("gone"), {"ok": 1})
    assert services.call(ENTRY, "evaluation", "campaign") == {"ok": 1}
    assert broken.stopped and broken.tokens == fresh.tokens
    claims = __import__("jwt").decode(fresh.tokens[0], options={"verify_signature": False})
    assert (claims["iss"], claims["sub"], claims["jurisdiction"]) == (
        tokens.DESK_ISSUER, "city-140100", "140100")
    services, _ = client_with(ConnectionResetError("gone"), ConnectionResetError("again"))
    with pytest.raises(ConnectionResetError):
        services.call(ENTRY, "evaluation", "campaign")


def test_a_services_refusal_comes_back_as_itself():
    from nameko.exceptions import RemoteError
    services, _ = client_with(RemoteError("Refused", "refused by 属地管理: not yours"))
    with pytest.raises(Refused) as refused:
        services.call(ENTRY, "evaluation", "campaign")
    assert refused.value.rule == "属地管理"
    services, _ = client_with(RemoteError("BadInput", "row 3: bad"))
    with pytest.raises(BadInput, match="row 3: bad"):
        services.call(None, "registry", "operator_sign_in", "x", "y")


# -- forms in parts (issue 14), the evaluation service's own template RPCs ---------------
class TemplateStore:
    """The evaluation store as its template RPCs read it: `in_scope`, uscc -> name, all of
    140100 (the real one, on PostgreSQL: tests/integration/test_template_parts_rpc.py)."""

    def __init__(self, in_scope):
        self.in_scope = in_scope

    def template_usccs(self, jurisdiction, usccs=None):
        in_scope = sorted(self.in_scope) if jurisdiction == "140100" else []
        return in_scope if usccs is None else [u for u in in_scope if u in set(usccs)]

    def named_institutions(self, jurisdiction, usccs):
        return [{"uscc": u, "name": self.in_scope[u], "jurisdiction": jurisdiction}
                for u in usccs]

    def require_campaign(self):
        from services.evaluation.rubric import DEFAULT_RUBRIC
        return type("Campaign", (), {"rubric": DEFAULT_RUBRIC.to_dict()})


class SessionActing:
    """Who calls: the desk's session operator, as the services' Acting finds them."""

    def verify(self, identity):
        return Operator(identity["id"], identity["role"], identity["jurisdiction"])


class PartsStub(Stub):
    """The services of a 140100 with `count` institutions in scope, the first `rectifying`
    of them under rectification, and the evaluation service's real template RPCs cutting
    its forms in parts of `per_file`."""

    def __init__(self, count, per_file, rectifying=0):
        from nameko.testing.services import worker_factory
        from services.evaluation.service import EvaluationService
        super().__init__()
        self.usccs = [factories.make_uscc(n) for n in range(1, count + 1)]
        self.rectifying = self.usccs[:rectifying]
        store = TemplateStore({u: f"机构{n}" for n, u in enumerate(self.usccs)})
        self.evaluation = worker_factory(EvaluationService, store=store, acting=SessionActing())
        self.evaluation.template_per_file = per_file

    def call(self, operator, service, method, *args, **kwargs):
        if service == "evaluation" and method.startswith("template"):
            self.calls.append((operator["id"], service, method, args))
            return getattr(self.evaluation, method)(operator, *args, **kwargs)
        if method == "institutions":
            return [{"uscc": u, "name": "", "cohort": 2021} for u in self.usccs]
        if method == "cases":
            return [{"uscc": u, "class": "rectify", "phase": "rectifying"}
                    for u in self.rectifying]
        return super().call(operator, service, method, *args, **kwargs)


def parts_desk(*args):
    from services.desk.app import create_app
    stub = PartsStub(*args)
    client = create_app(stub).test_client()
    sign_in(client)
    return client, stub


def listed_usccs(response):
    import io
    import openpyxl
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    return [r[0] for r in sheet.iter_rows(min_row=2, values_only=True) if r[0]]


def download_links(page):
    """download name -> its URL, as the forms page links them."""
    return dict(re.findall(r'<a id="download-([^"]+)" href="([^"]+)">',
                           page.get_data(as_text=True)))


def test_a_jurisdiction_over_one_files_worth_gets_a_link_and_a_file_per_part():
    client, stub = parts_desk(7, 3, 4)
    page = client.get("/forms")
    links = download_links(page)
    assert links["self-assessment-1"] == "/forms/140100/self-assessment-1.xlsx"
    assert {n for n in links if n.startswith("score-sheet")} == {
        "score-sheet-1", "score-sheet-2", "score-sheet-3"}
    assert {n for n in links if n.startswith("rectification")} == {
        "rectification-1", "rectification-2"}
    assert "self-assessment" not in links  # no link to a whole that needs parts
    text = page.get_data(as_text=True)
    assert "第1部分（第1–3家）" in text and "第3部分（第7家）" in text and "共 7 家" in text

    part = client.get("/forms/140100/self-assessment-2.xlsx")
    assert part.status_code == 200
    assert "140100-self-assessment-2.xlsx" in part.headers["Content-Disposition"]
    assert listed_usccs(part) == sorted(stub.usccs)[3:6]
    assert listed_usccs(client.get("/forms/140100/re-score-2.xlsx")) == \
        sorted(stub.rectifying)[3:]
    for beyond in ("self-assessment-4", "rectification-3", "findings-0", "findings-02"):
        assert client.get(f"/forms/140100/{beyond}.xlsx").status_code == 404, beyond
    assert client.get("/forms/140200/self-assessment-1.xlsx").status_code == 404
    # A link to the whole from before: the parts are on the forms page.
    whole = client.get("/forms/140100/findings.xlsx")
    assert whole.status_code == 303 and whole.headers["Location"].endswith(
        "/forms?jurisdiction=140100")


def test_below_one_files_worth_the_forms_page_and_downloads_are_as_before():
    client, stub = parts_desk(7, 7, 2)
    page = client.get("/forms")
    assert download_links(page) == {name: f"/forms/140100/{name}.xlsx" for name in (
        "self-assessment", "score-sheet", "findings", "rectification", "re-score")}
    assert "部分" not in page.get_data(as_text=True)
    # One question of the services for the page: the case list is not read.
    assert [c[2] for c in stub.calls if c[2] != "operator_sign_in"] == ["template_parts"]
    whole = client.get("/forms/140100/self-assessment.xlsx")
    assert "140100-self-assessment.xlsx" in whole.headers["Content-Disposition"]
    assert listed_usccs(whole) == sorted(stub.usccs)
    assert listed_usccs(client.get("/forms/140100/rectification.xlsx")) == \
        sorted(stub.rectifying)
