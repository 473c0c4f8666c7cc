"""The signed-in pages of the web app and OpenID Connect sign-in; ``bot/web/app.py`` adds
``ROUTES`` to ``regie serve``'s application.

- ``/app/``: "My development" (``me.py`` handlers, ``development.py`` what it shows), with
  its forms: an item's visibility, an experiment's lesson, settings, pause, downloads, delete.
- ``/app/team``, ``/app/team/{person_id}``: "My team" for managers (``my_team.py``,
  ``team.py``).
- ``/app/oidc/{provider}`` and its callback: Entra ID / Slack sign-in (``sign_in_oidc.py``).
"""

from __future__ import annotations

from aiohttp import web

from bot.web import hr
from bot.web.pages import me, my_team, sign_in_oidc

ROUTES: list[web.RouteDef] = [
    web.get("/app/", me.page),
    web.post("/app/items/{kind}/{item_id}/visibility", me.visibility),
    web.post("/app/items/experiment/{item_id}/lesson", me.lesson),
    web.post("/app/settings", me.settings),
    web.post("/app/pause", me.pause),
    web.post("/app/download/{what}", me.download),
    web.post("/app/delete", me.delete_everything),
    web.get("/app/team", my_team.team_page),
    web.get("/app/team/{person_id}", my_team.report_page),
    web.get("/app/oidc/{provider}", sign_in_oidc.start, allow_head=False),
    web.get("/app/oidc/{provider}/callback", sign_in_oidc.callback, allow_head=False),
    *hr.ROUTES,
]
