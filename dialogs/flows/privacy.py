"""The privacy centre: see exactly what the manager sees, share or unshare per item, the
default for new items, opting out of anonymous totals, pausing nudges, export and delete."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from dialogs.engine.assistant import SUMMARY_DIALOG
from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next, Retry
from dialogs.engine.text import shorten
from dialogs.flows.common import (
    ask_choice,
    ask_confirm,
    ask_date,
    bullet_list,
    format_date,
    labelled,
)
from dialogs.flows.web import send_links
from dialogs.nudges.manager_view import preview
from storage.consent import current_consent, record_consent
from storage.items import all_items
from storage.links import DOWNLOADS
from storage.models import (
    ConsentKind,
    Person,
    Visibility,
)
from storage.people import pause_nudges
from storage.personal_data import forget_person
from storage.privacy import ITEM_TYPES, Reading, readings, set_visibility, shared_with_manager

privacy = Dialog("privacy", version=2, first="overview", title="privacy.title")

SHARE_PAGE_SIZE = 20
"""Items per page of the share list; "More…" shows the next (older) page, so every item can
be reached however many there are."""


def _label(ctx: Ctx, table: str, item: Any) -> str:
    text = {
        "answer": lambda: item.text,
        "experiment": lambda: item.title,
        "check_in": lambda: ctx.t("privacy.check_in_label", energy=item.energy),
        "plan_item": lambda: item.title,
        "profile_entry": lambda: item.text,
        "learning_entry": lambda: item.title,
    }[table]()
    mark = "👁" if item.visibility == Visibility.MANAGER else "🔒"
    if table == "answer" and item.dialog_id == SUMMARY_DIALOG:
        table = "summary"
    return shorten(f"{mark} {ctx.t(f'privacy.kinds.{table}')}: {text}", 70)


@privacy.step("overview")
def overview(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not ctx.answered:
        items = all_items(ctx.db, ctx.person.id)
        shared = sum(1 for _, item in items if item.visibility == Visibility.MANAGER)
        paused = ctx.person.nudge_paused_until
        ctx.say(
            "privacy.summary",
            default=ctx.t(f"privacy.visibility.{ctx.person.default_visibility}"),
            shared=shared,
            total=len(items),
            aggregates=ctx.t("common.yes" if ctx.person.in_aggregates else "common.no"),
            nudges=ctx.t("privacy.paused_until", date=format_date(ctx, paused))
            if paused and paused >= ctx.today
            else ctx.t(f"preferences.frequencies.{ctx.person.nudge_frequency}"),
        )
        actions = [
            "manager_view",
            "seen",
            "share",
            "default",
            "aggregates",
            "pause",
            "export",
            "delete",
            "done",
        ]
        if ctx.assistant.ai:
            actions.insert(-3, "ai")
        return ask_choice(ctx, "privacy.what_now", labelled(ctx, "privacy.actions", actions))
    if ctx.answer == "done":
        ctx.say("privacy.bye")
        return End()
    ctx.values["share_page"] = 0
    return Goto(str(ctx.answer))


@privacy.step("manager_view")
def manager_view(ctx: Ctx) -> Next:
    manager = ctx.db.get(Person, ctx.person.manager_id) if ctx.person.manager_id else None
    if manager is None:
        ctx.say("privacy.no_manager")
    else:
        ctx.say("privacy.manager_view_intro", manager=manager.name)
        items = shared_with_manager(ctx.db, ctx.person)
        # In the owner's language, with a line saying when the manager reads another one.
        ctx.say_text(preview(ctx.content, ctx.lang, ctx.person, items, manager=manager))
    return Goto("overview")


SEEN_WHAT = frozenset(
    {"digest", "sign_ups", "export", "download", "web_sign_in", "agenda"}
    | {"feedback_read", "story_read", "refused_read"}
)


def _reader(ctx: Ctx, entry: Reading) -> str:
    """Who really read it: the person, an administrator by name, or someone since gone."""
    if entry.reader is not None and entry.reader.id == ctx.person.id:
        return ctx.t("privacy.seen_you")  # their own download or sign-in
    if entry.reader is not None:
        return entry.reader.name
    if entry.operator:
        return ctx.t("privacy.seen_administrator", name=entry.operator)
    return ctx.t("privacy.seen_someone_gone")


@privacy.step("seen")
def seen(ctx: Ctx) -> Next:
    """Who has looked at what this person shared (from the audit log)."""
    assert ctx.person.id is not None
    entries = readings(ctx.db, ctx.person.id)
    if not entries:
        ctx.say("privacy.seen_nobody")
        return Goto("overview")
    lines = [
        ctx.t(
            "privacy.seen_line",
            who=_reader(ctx, entry),
            date=format_date(ctx, entry.at.astimezone(ZoneInfo(ctx.person.timezone)).date()),
        )
        + (f" ({ctx.t(f'privacy.seen_what.{entry.what}')})" if entry.what in SEEN_WHAT else "")
        for entry in entries
    ]
    ctx.say_text(ctx.t("privacy.seen_heading") + "\n" + bullet_list(lines))
    return Goto("overview")


def _share_page(ctx: Ctx) -> tuple[list[tuple[str, Any]], bool]:
    """The items on the current page of the share list (newest first), and whether older
    items follow. A page past the end (items went away) is the first page again."""
    assert ctx.person.id is not None
    items = sorted(
        all_items(ctx.db, ctx.person.id),
        key=lambda pair: (pair[1].created_at, pair[0], pair[1].id),
        reverse=True,
    )
    page = int(ctx.values.get("share_page", 0))
    if page * SHARE_PAGE_SIZE >= len(items):
        page = ctx.values["share_page"] = 0
    start = page * SHARE_PAGE_SIZE
    return items[start : start + SHARE_PAGE_SIZE], start + SHARE_PAGE_SIZE < len(items)


@privacy.step("share")
def share(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not ctx.answered:
        items, more = _share_page(ctx)
        if not items:
            ctx.say("privacy.no_items")
            return Goto("overview")
        options = [(f"{table}:{item.id}", _label(ctx, table, item)) for table, item in items]
        if more:
            options.append(("more", ctx.t("privacy.share_more")))
        if ctx.values.get("share_page", 0):
            options.append(("first", ctx.t("privacy.share_first")))
        options.append(("back", ctx.t("common.back")))
        return ask_choice(ctx, "privacy.share_which", options)
    if ctx.answer == "back":
        return Goto("overview")
    if ctx.answer in ("more", "first"):
        page = int(ctx.values.get("share_page", 0))
        ctx.values["share_page"] = page + 1 if ctx.answer == "more" else 0
        return Goto("share")
    table, _, item_id = str(ctx.answer).partition(":")
    item = ctx.db.get(ITEM_TYPES[table], int(item_id)) if table in ITEM_TYPES else None
    if item is None or item.person_id != ctx.person.id:
        return Goto("share")
    new = Visibility.PRIVATE if item.visibility == Visibility.MANAGER else Visibility.MANAGER
    set_visibility(
        ctx.db, owner_id=ctx.person.id, item_type=table, item_id=int(item_id), visibility=new
    )
    ctx.say(f"privacy.now_{new}")
    return Goto("share")


@privacy.step("default")
def default(ctx: Ctx) -> Next:
    if not ctx.answered:
        options = labelled(ctx, "privacy.default_options", (Visibility.PRIVATE, Visibility.MANAGER))
        return ask_choice(ctx, "privacy.ask_default", options)
    ctx.person.default_visibility = Visibility(str(ctx.answer))
    ctx.db.add(ctx.person)
    ctx.say("privacy.default_set", visibility=ctx.t(f"privacy.visibility.{ctx.answer}"))
    return Goto("overview")


@privacy.step("aggregates")
def aggregates(ctx: Ctx) -> Next:
    if not ctx.answered:
        key = "privacy.ask_opt_out" if ctx.person.in_aggregates else "privacy.ask_opt_in"
        return ask_confirm(ctx, key, min_group=ctx.settings.min_group_size)
    if ctx.answer:
        ctx.person.in_aggregates = not ctx.person.in_aggregates
        ctx.db.add(ctx.person)
        ctx.say("privacy.opted_in" if ctx.person.in_aggregates else "privacy.opted_out")
    return Goto("overview")


@privacy.step("pause")
def pause(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_date(ctx, "privacy.ask_pause")
    until = date.fromisoformat(ctx.answer)
    if until <= ctx.today:
        return Retry(ctx.t("privacy.pause_in_past"))
    pause_nudges(ctx.db, ctx.person, until)
    ctx.say("privacy.paused", date=format_date(ctx, until))
    return Goto("overview") if ctx.values.get("from_overview", True) else End()


@privacy.step("export")
def export(ctx: Ctx) -> Next:
    """Never the data itself in chat (far over any message limit): two one-time download
    links, the complete JSON and the printable "My development" page."""
    send_links(
        ctx,
        DOWNLOADS,
        text="privacy.export_ready",
        labels="privacy.export_links",
        refused="privacy.export_too_many",
    )
    return Goto("overview")


@privacy.step("delete")
def delete(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_confirm(ctx, "privacy.ask_delete", destructive=True)
    if not ctx.answer:
        ctx.say("privacy.delete_cancelled")
        return Goto("overview")
    forget_person(ctx.db, ctx.person, by="self")
    ctx.forgotten = True
    ctx.say("privacy.deleted")
    return End()


@privacy.step("ai")
def ai(ctx: Ctx) -> Next:
    """Whether text this person writes may go to the AI model (only with AI assistance on)."""
    assert ctx.person.id is not None
    on = current_consent(ctx.db, ctx.person.id, ConsentKind.AI) is True
    if not ctx.answered:
        return ask_confirm(ctx, "ai.ask_off" if on else "ai.ask_on")
    if ctx.answer:
        record_consent(ctx.db, ctx.person.id, ConsentKind.AI, granted=not on, now=ctx.now)
        ctx.say("ai.now_off" if on else "ai.now_on")
    return Goto("overview")
