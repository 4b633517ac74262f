"""Extensions that can be shared by several apps in one process (bound in ``init_app``).

Flask-AppBuilder, flask-smorest and Flask-SocketIO keep per-app state in their instance, so
those are created inside :func:`app.create_app` instead (see STACK-NOTES.md).
"""

from __future__ import annotations

from flask_appbuilder.models.sqla import Model
from flask_appbuilder.models.sqla.base import SQLA

# Deterministic constraint names, set before FAB's security models attach their constraints, so
# alembic sees the same names in every process whatever the import order.
Model.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# One declarative base for FAB's staff tables and every domain's models: one metadata for alembic.
db = SQLA(model_class=Model)
