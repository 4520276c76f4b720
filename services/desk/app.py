"""The operators' desk: a web application where each bureau's clerks sign in, download
pre-filled forms, upload them, and follow their cases; the province follows the campaign
and publishes (issue 15; docs/desk.md).

A Flask application (served by waitress, services/desk/server.py). It keeps no data of
its own: every page is read from the services over RPC with the signed-in operator's
identity (services/desk/rpc.py), and every page and download checks 属地管理 — a city
bureau's clerk sees and acts on their own city only; another city's case or form is 404,
as if it did not exist (notice 晋人社办函〔2023〕223号 三、属地管理).
"""
from flask import Flask, abort, g, redirect, render_template, request, url_for

from shared import log, upload
from shared.errors import BadInput, Refused
from shared.language.jurisdictions import CITIES
from services.desk import sessions as sessions_module
from services.desk.sessions import Sessions, csrf_ok

COOKIE = "pinggu_desk"
OPEN_PATHS = ("/signin", "/health", "/static/")
ROLES = {"province": "省厅", "center": "省评价中心", "city": "市局", "auditor": "审计"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def create_app(services, *, secure_cookies=False, sessions=None):
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = upload.MAX_UPLOAD_BYTES + 64 * 1024
    app.extensions["desk"] = {"services": services, "sessions": sessions or Sessions(),
                              "secure": secure_cookies}
    app.jinja_env.globals.update(CITIES=CITIES, ROLES=ROLES)
    app.before_request(_open_session)
    app.context_processor(lambda: {"csrf": g.session["csrf"] if g.get("session") else "",
                                   "operator": g.get("operator")})
    app.after_request(_finish)
    _errors(app)
    from services.desk import views_cases, views_forms, views_province
    for module in (views_cases, views_forms, views_province):
        app.register_blueprint(module.blueprint)

    @app.get("/health")
    def health():
        return {"ok": True}

    @app.get("/")
    def home():
        if g.operator["role"] == "city":
            return redirect(url_for("cases.listing"))
        return redirect(url_for("province.progress"))

    @app.route("/signin", methods=["GET", "POST"])
    def signin():
        if request.method == "GET":
            return render_template("signin.html")
        operator_id = request.form.get("operator", "").strip()
        answer = desk()["services"].call(None, "registry", "operator_sign_in", operator_id,
                                         request.form.get("password", ""))
        log.get("desk").info("desk.sign_in", operator=operator_id, ok=answer["ok"],
                             locked=answer.get("locked", False),
                             remote=request.remote_addr)
        if not answer["ok"]:
            message = "该账号已锁定：密码连续错误次数过多，请联系省厅重置密码。" \
                if answer["locked"] else "账号或密码错误。"
            return render_template("signin.html", error=message, operator_id=operator_id), \
                (423 if answer["locked"] else 401)
        # A new session on sign-in: an id planted before it is worth nothing after.
        desk()["sessions"].drop(g.sid)
        g.sid, g.session = desk()["sessions"].new(answer["operator"])
        g.new_cookie = True
        return redirect(url_for("home"), 303)

    @app.post("/signout")
    def signout():
        desk()["sessions"].drop(g.sid)
        g.sid, g.session = desk()["sessions"].new()
        g.new_cookie = True
        return redirect(url_for("signin"), 303)

    return app


def desk():
    from flask import current_app
    return current_app.extensions["desk"]


def call(service, method, *args, **kwargs):
    """An RPC as the signed-in operator."""
    return desk()["services"].call(g.operator, service, method, *args, **kwargs)


def own_jurisdiction(requested=None):
    """The jurisdiction a page is about: a city clerk's own (another city's is 404); the
    province's offices and the auditor choose any city (default: the first)."""
    operator = g.operator
    if operator["role"] == "city":
        if requested and requested != operator["jurisdiction"]:
            abort(404)
        return operator["jurisdiction"]
    if requested and requested not in CITIES:
        abort(404)
    return requested or next(iter(CITIES))


def keep_file(filename, body, most=20):
    """A file the session may download once it is made (a marked workbook, an opinion's
    xlsx): its token for /forms/marked/<token>.xlsx. The session keeps the latest few."""
    import secrets
    files = g.session["files"]
    while len(files) >= most:
        files.pop(next(iter(files)))
    token = secrets.token_urlsafe(16)
    files[token] = (filename, body)
    return token


def may_see(jurisdiction):
    return g.operator["role"] != "city" or g.operator["jurisdiction"] == jurisdiction


def _open_session():
    store = desk()["sessions"]
    g.sid = request.cookies.get(COOKIE)
    g.session = store.get(g.sid)
    g.new_cookie = False
    if g.session is None:
        g.sid, g.session = store.new()
        g.new_cookie = True
    g.operator = g.session["operator"]
    if request.method == "POST" and not csrf_ok(g.session, request.form.get("csrf")):
        return render_template("error.html", title="请求被拒绝",
                               message="表单已失效（缺少或错误的防伪令牌），请刷新页面后重试。"), 403
    if g.operator is None and not request.path.startswith(OPEN_PATHS):
        return redirect(url_for("signin"))
    return None


def _finish(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if getattr(g, "new_cookie", False):
        response.set_cookie(COOKIE, g.sid, httponly=True, samesite="Strict",
                            secure=desk()["secure"] or request.is_secure, path="/",
                            max_age=sessions_module.ABSOLUTE)
    return response


def _errors(app):
    @app.errorhandler(404)
    def not_found(_):
        return render_template("error.html", title="未找到",
                               message="没有这个页面，或它不在本辖区（属地管理）。"), 404

    @app.errorhandler(413)
    def too_large(_):
        return render_template("error.html", title="文件过大",
                               message=f"文件不能超过 {upload.MAX_UPLOAD_BYTES // 2**20} MB。"), 413

    @app.errorhandler(Refused)
    def refused(exc):
        if exc.rule == "属地管理":
            return not_found(exc)
        return render_template("error.html", title="无权操作",
                               message=f"此操作不被允许（{exc.rule}）：{exc.message}"), 403

    @app.errorhandler(BadInput)
    def bad_input(exc):
        return render_template("error.html", title="输入有误", message=str(exc)), 400
