"""``python -m regie …`` is the ``regie`` command."""

from bot.cli import app

app(prog_name="regie")
