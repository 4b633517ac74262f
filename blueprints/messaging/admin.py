"""Staff reader of conversations at ``/admin/messaging/conversations``: only under an access grant.

Thread metadata (who, which listing, when) is in the generated Threads view; message bodies are shown
here only while a dispute or a fraud review references the thread (``access.grant_staff_access``),
and only after the staff member picks the case they read under. Each read, and each refused attempt,
writes an audit record (``messaging.staff_read``) naming the staff member, thread and case.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from flask import abort, request
from flask_appbuilder import AppBuilder, BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_login import current_user
from sqlalchemy import select

from app.db import db
from blueprints.messaging import access
from blueprints.messaging.models import StaffAccessGrant, Thread

TEMPLATES = str(Path(__file__).resolve().parent / "templates")
LIST_LIMIT = 200


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


class ConversationReaderView(BaseView):
    """Conversations referenced by an open dispute or fraud review, readable case by case."""

    route_base = "/messaging/conversations"
    template_folder = TEMPLATES
    default_view = "index"
    base_permissions = ["can_list", "can_show"]

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):  # type: ignore[no-untyped-def]
        rows = db.session.execute(
            select(StaffAccessGrant, Thread)
            .join(Thread, Thread.id == StaffAccessGrant.thread_id)
            .where(StaffAccessGrant.closed_at.is_(None))
            .order_by(StaffAccessGrant.created_at.desc())
            .limit(LIST_LIMIT)
        ).all()
        return self.render_template("messaging_admin/conversations.html", rows=rows, title="Conversations under review")

    @expose("/<thread_id>")
    @has_access
    @permission_name("show")
    def show(self, thread_id: str):  # type: ignore[no-untyped-def]
        """The thread's open cases; with ``?grant=<id>`` its messages, read under that case (audited)."""
        thread_uuid = _uuid(thread_id)
        thread = db.session.get(Thread, thread_uuid) if thread_uuid else None
        if thread is None:
            abort(404)
        grants = access.grants_for(thread_id=thread.id)
        reading = None
        asked = "grant" in request.args
        if asked:
            reading = access.read_as_staff(
                thread_id=thread.id, grant_id=_uuid(request.args.get("grant")), staff_id=str(current_user.id)
            )
            db.session.commit()  # the audit record of the read, or of the refusal
        open_grants = [g for g in grants if g.closed_at is None]
        status = 403 if asked and reading is None else 200
        page = self.render_template(
            "messaging_admin/conversation.html",
            thread=thread,
            grants=grants,
            open_grants=open_grants,
            reading=reading,
            refused=asked and reading is None,
            title=f"Conversation {thread.id}",
        )
        return page, status


def register_admin(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(ConversationReaderView, "Conversations under review", icon="fa-comments", category="Messaging")
