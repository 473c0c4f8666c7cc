"""The ``regie`` command line: the commands live in ``bot/commands/``, one module a topic."""

from __future__ import annotations

import typer

from bot.commands import campaign, chat, llm, outbox, pulse, serve, setup, web

app = typer.Typer(
    help="Regie: a development companion for Slack, Teams and the console.", no_args_is_help=True
)
for module in (setup, chat, serve, outbox):
    app.registered_commands += module.app.registered_commands
app.add_typer(setup.people_app, name="people")
app.add_typer(serve.slack_app, name="slack")
app.add_typer(serve.teams_app, name="teams")
app.add_typer(outbox.outbox_app, name="outbox")
app.add_typer(outbox.report_app, name="report")
app.add_typer(campaign.campaign_app, name="campaign")
app.add_typer(pulse.pulse_app, name="pulse")
app.add_typer(llm.llm_app, name="llm")
app.add_typer(web.web_app, name="web")
