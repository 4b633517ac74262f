"""Probes: /healthz is the process, /readyz the dependencies and the migration state."""

from __future__ import annotations

from sqlalchemy import text

from app.extensions import db


def test_healthz_answers_without_dependencies(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_reports_each_dependency(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"] == {
        "postgresql": {"status": "ok"},
        "redis": {"status": "ok"},
        "migrations": {"status": "ok"},
    }


def test_readyz_fails_with_reason_when_not_migrated(app, client):
    with app.app_context():
        rows = db.session.execute(text("SELECT version_num FROM platform.alembic_version")).scalars().all()
        db.session.execute(text("DELETE FROM platform.alembic_version WHERE version_num = 'admin_0002'"))
        db.session.execute(text("INSERT INTO platform.alembic_version VALUES ('admin_0001')"))
        db.session.commit()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json["checks"]["migrations"]["status"] == "failing"
        assert "bazaar db upgrade" in response.json["checks"]["migrations"]["reason"]
    finally:
        with app.app_context():
            db.session.execute(text("DELETE FROM platform.alembic_version"))
            for row in rows:
                db.session.execute(text("INSERT INTO platform.alembic_version VALUES (:v)"), {"v": row})
            db.session.commit()


def test_readyz_fails_with_reason_when_redis_is_down(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", SOCKETIO_MESSAGE_QUEUE="off")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.json
    assert body["checks"]["redis"]["status"] == "failing"
    assert "ConnectionError" in body["checks"]["redis"]["reason"]
    assert body["checks"]["postgresql"]["status"] == "ok"


def test_metrics_exposes_request_counts_pool_and_queues(client):
    client.get("/healthz")
    text_body = client.get("/metrics").get_data(as_text=True)
    assert 'bazaar_http_requests_total{method="GET",route="/healthz",status="200"}' in text_body
    assert "bazaar_http_request_duration_seconds_bucket" in text_body
    assert 'bazaar_db_pool_connections{state="checked_out"}' in text_body
    assert 'bazaar_rq_queue_depth{queue="events"}' in text_body
