"""The two pages account emails link to: ``/verify-email`` and ``/reset-password`` (``PUBLIC_BASE_URL``).

A marketplace's own web front end usually serves these paths and calls the REST API; these plain HTML
forms make the links work out of the box (``bazaar run``, an API-only deployment). Opening a link only
shows a form: the token is spent by the POST the person makes, never by a mail scanner that prefetches
the URL. No script and no external resource, so the API's strict Content-Security-Policy still holds.
"""

from __future__ import annotations

from flask import Blueprint, render_template_string, request

from app.extensions import db
from app.ratelimit import failed, ip_key, rate_limit
from blueprints.auth import accounts
from blueprints.auth.errors import AuthError

bp = Blueprint("auth_pages", __name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ title }} · Bazaar</title></head>
<body>
<h1>{{ title }}</h1>
{% if message %}<p role="status">{{ message }}</p>{% endif %}
{% for field, problems in errors.items() %}{% for problem in problems %}
<p role="alert">{{ problem }}</p>{% endfor %}{% endfor %}
{% if form %}
<form method="post">
  <input type="hidden" name="token" value="{{ token }}">
  {% if form == "reset" %}
  <p><label>New password <input type="password" name="new_password" autocomplete="new-password" required
     minlength="{{ min_length }}"></label></p>
  {% endif %}
  <p><button type="submit">{{ button }}</button></p>
</form>
{% endif %}
</body></html>
"""


def _page(status: int = 200, **context: object) -> tuple[str, int]:
    defaults: dict[str, object] = {"message": "", "errors": {}, "form": None, "token": "", "button": ""}
    defaults["min_length"] = accounts.PASSWORD_MIN_LENGTH
    return render_template_string(PAGE, **{**defaults, **context}), status


def _refused(exc: AuthError, title: str) -> tuple[str, int]:
    db.session.rollback()
    errors = dict(exc.errors or {}) or {"token": [str(exc)]}
    return _page(exc.status, title=title, errors=errors)


@bp.route("/verify-email", methods=["GET"])
def verify_email_form() -> tuple[str, int]:
    token = request.args.get("token", "")
    if not token:
        return _page(400, title="Confirm your email", errors={"token": ["This link has no token."]})
    return _page(title="Confirm your email", form="verify", token=token, button="Confirm my email address")


@bp.route("/verify-email", methods=["POST"])
@rate_limit("RATELIMIT_AUTH_PASSWORD", key=ip_key, count_when=failed)
def verify_email() -> tuple[str, int]:
    try:
        accounts.verify_email(token=request.form.get("token", ""))
    except AuthError as exc:
        return _refused(exc, "Confirm your email")
    db.session.commit()
    return _page(title="Email confirmed", message="Thank you: your email address is confirmed.")


@bp.route("/reset-password", methods=["GET"])
def reset_password_form() -> tuple[str, int]:
    token = request.args.get("token", "")
    if not token:
        return _page(400, title="Choose a new password", errors={"token": ["This link has no token."]})
    return _page(title="Choose a new password", form="reset", token=token, button="Set my new password")


@bp.route("/reset-password", methods=["POST"])
@rate_limit("RATELIMIT_AUTH_PASSWORD", key=ip_key, count_when=failed)
def reset_password() -> tuple[str, int]:
    token = request.form.get("token", "")
    try:
        accounts.reset_password(token=token, new_password=request.form.get("new_password", ""))
    except AuthError as exc:
        title = "Choose a new password"
        if exc.errors and "new_password" in exc.errors:  # the token is still good: let them try again
            db.session.rollback()
            return _page(exc.status, title=title, errors=dict(exc.errors), form="reset", token=token,
                         button="Set my new password")  # fmt: skip
        return _refused(exc, title)
    db.session.commit()
    return _page(title="Password changed", message="Your password is changed and every session was signed out.")
