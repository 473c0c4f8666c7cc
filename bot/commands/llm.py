"""`regie llm`: what the optional AI assistance has used, against the monthly budget."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.commands.common import database, settings_and_logging

llm_app = typer.Typer(help="Optional AI assistance.", no_args_is_help=True)


@llm_app.command("usage")
def usage(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Requests and tokens per month and feature, and what is left of this month's budget."""
    from storage.llm_usage import month_of, tokens_used, usage_totals
    from storage.models import utcnow

    settings = settings_and_logging()
    month = month_of(utcnow())
    with database(settings) as db:
        totals = usage_totals(db)
        used = tokens_used(db, month)
    budget = settings.llm_monthly_token_budget
    left = max(budget - used, 0)
    if as_json:
        data = {
            "llm": settings.llm,
            "model": settings.llm_model,
            "month": month,
            "budget": budget,
            "used": used,
            "left": left,
            "usage": [
                {
                    "month": t.month,
                    "feature": t.feature,
                    "requests": t.requests,
                    "prompt_tokens": t.prompt_tokens,
                    "completion_tokens": t.completion_tokens,
                }
                for t in totals
            ],
        }
        typer.echo(json.dumps(data, indent=2))
        return
    state = "on" if settings.llm_enabled else "off"
    typer.echo(f"AI assistance is {state} (model {settings.llm_model}).")
    if not totals:
        typer.echo("No AI requests recorded yet.")
    else:
        typer.echo(
            f"{'month':<8} {'feature':<18} {'requests':>9} {'prompt':>10} {'completion':>11}"
        )
        for t in totals:
            typer.echo(
                f"{t.month:<8} {t.feature:<18} {t.requests:>9,} {t.prompt_tokens:>10,} "
                f"{t.completion_tokens:>11,}"
            )
    typer.echo(f"Budget {month}: {used:,} of {budget:,} tokens used, {left:,} left.")
