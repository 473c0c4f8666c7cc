"""`regie web`: the web app from the command line (a sign-in link for the console demo)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.commands.common import database, err, person_or_exit, settings_and_logging

web_app = typer.Typer(help="The web app (served by regie serve under /app/).", no_args_is_help=True)


@web_app.command("link")
def link(
    email: Annotated[str, typer.Option("--as", help="E-mail of the person who signs in.")],
) -> None:
    """Print a one-time sign-in link for the person (works once, for 10 minutes)."""
    from bot.web.urls import link_url
    from storage import links
    from storage.models import LinkPurpose, utcnow

    settings = settings_and_logging()
    with database(settings) as db:
        person = person_or_exit(db, email)
        assert person.id is not None
        try:
            issued = links.issue(db, person.id, LinkPurpose.SIGN_IN, now=utcnow())
        except links.TooManyLinks as limit:
            err.print(
                f"[red]{email} had {links.PER_HOUR} sign-in links this hour already.[/] "
                f"The next one can be made after {limit.retry_at:%H:%M} UTC."
            )
            raise typer.Exit(1) from None
    typer.echo(link_url(settings.base_url, issued.purpose, issued.token))
    typer.echo(f"(works once, until {issued.expires_at:%H:%M} UTC, for {email} only)", err=True)
