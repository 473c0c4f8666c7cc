"""The HR and admin pages of the web app (issue 20): campaigns, participation, people and
health. ``ROUTES`` is added to the web app's pages (``bot/web/pages/__init__.py``).

- ``/app/hr/…`` for people with the hr role (and administrators): campaigns (``campaigns``,
  ``campaign_editor``, ``campaign_preview``, ``campaign_status``) and participation.
- ``/app/admin/…`` for administrators: people and health.

Who may open what is decided in ``access`` (one decorator a role); HR pages show counts of
people under the ``<K`` rule and never anyone's free text.
"""

from __future__ import annotations

from aiohttp import web

from bot.web.hr import campaign_status, campaigns, health, participation, people

ROUTES: list[web.RouteDef] = [
    web.get("/app/hr/campaigns", campaigns.listing),
    web.get("/app/hr/campaigns/new", campaigns.new),
    web.post("/app/hr/campaigns/upload", campaigns.upload),
    web.post("/app/hr/campaigns/edit", campaigns.edit),
    web.post("/app/hr/campaigns/check.json", campaigns.check_json),
    web.get("/app/hr/campaigns/{campaign_id}", campaign_status.page),
    web.get("/app/hr/campaigns/{campaign_id}/events", campaign_status.events, allow_head=False),
    web.post("/app/hr/campaigns/{campaign_id}/pause", campaigns.pause_campaign),
    web.post("/app/hr/campaigns/{campaign_id}/resume", campaigns.resume_campaign),
    web.post("/app/hr/campaigns/{campaign_id}/cancel", campaigns.cancel_campaign),
    web.get("/app/hr/approvals/{launch_id}", campaigns.approval),
    web.post("/app/hr/approvals/{launch_id}", campaigns.decide),
    web.get("/app/hr/participation", participation.page),
    web.get("/app/hr/participation.csv", participation.download),
    web.get("/app/admin/people", people.page),
    web.post("/app/admin/people/check", people.check),
    web.post("/app/admin/people/import", people.import_file),
    web.get("/app/admin/people/{person_id}", people.person_page),
    web.post("/app/admin/people/{person_id}", people.person_save),
    web.get("/app/admin/health", health.page),
    web.post("/app/admin/health/retry", health.retry),
]
