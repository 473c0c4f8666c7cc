"""Prompt builders shared by the flows, so every question gets its retry text the same way."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from dialogs.engine.dialog import Ask, Ctx
from dialogs.engine.replies import (
    Choice,
    ChoicePrompt,
    ConfirmPrompt,
    DatePrompt,
    ScalePrompt,
    TextPrompt,
)


def ask_choice(ctx: Ctx, key: str, options: Sequence[tuple[str, str]], **values: Any) -> Ask:
    """``options`` are (value, label) pairs; labels are already in the person's language."""
    return Ask(
        ChoicePrompt(
            text=ctx.t(key, **values),
            retry=ctx.t("retry.choice"),
            choices=tuple(Choice(label=label, value=value) for value, label in options),
        )
    )


def labelled(ctx: Ctx, prefix: str, values: Sequence[str]) -> list[tuple[str, str]]:
    """(value, label) pairs whose labels live under ``prefix`` in the content files."""
    return [(value, ctx.t(f"{prefix}.{value}")) for value in values]


def ask_text(
    ctx: Ctx,
    key: str,
    *,
    skippable: bool = False,
    max_chars: int = 1000,
    long: bool = False,
    **values: Any,
) -> Ask:
    return Ask(
        TextPrompt(
            text=ctx.t(key, **values),
            retry=ctx.t("retry.text", limit=max_chars),
            skip_label=ctx.t("common.skip") if skippable else None,
            max_chars=max_chars,
            long=long,
            required_retry="" if skippable else ctx.t("retry.required"),
        )
    )


def ask_scale(ctx: Ctx, key: str, *, low_label: str, high_label: str) -> Ask:
    return Ask(
        ScalePrompt(
            text=ctx.t(key),
            retry=ctx.t("retry.scale", low=1, high=5),
            low_label=ctx.t(low_label),
            high_label=ctx.t(high_label),
        )
    )


def ask_confirm(ctx: Ctx, key: str, *, destructive: bool = False, **values: Any) -> Ask:
    return Ask(
        ConfirmPrompt(
            text=ctx.t(key, **values),
            retry=ctx.t("retry.confirm"),
            yes_label=ctx.t("common.yes"),
            no_label=ctx.t("common.no"),
            destructive=destructive,
        )
    )


def ask_date(ctx: Ctx, key: str, *, skippable: bool = False, **values: Any) -> Ask:
    return Ask(
        DatePrompt(
            text=ctx.t(key, **values),
            retry=ctx.t("retry.date"),
            skip_label=ctx.t("common.not_sure") if skippable else None,
        )
    )


def format_date(ctx: Ctx, value: date | str | None) -> str:
    return ctx.content.date(ctx.lang, value)


def bullet_list(lines: Sequence[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)
