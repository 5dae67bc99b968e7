"""Contracts and plumbing shared by the nianbao services.

Nothing in here knows how to crawl, parse or validate: it holds the messages the services exchange
(`contracts`), the canonical record the parser emits (`record`), the database schema (`models`, `db`),
the raw-page store (`rawstore`), Celery wiring (`celery_app`, `bus`) and Prometheus plumbing
(`metrics_http`).
"""
