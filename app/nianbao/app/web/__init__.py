"""A read-only web view of the stored reports, served by the admin API under ``/ui`` (see app.py)."""

from nianbao.app.web.app import create_web_app

__all__ = ["create_web_app"]
