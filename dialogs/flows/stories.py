"""Success stories: a finished experiment, told in three lines (title, what I tried, what it
taught me), shared only when its author says so — with HR for campaigns and/or in the
organisation's stories channel — and withdrawn whenever they like.

``story`` is offered once, at the end of an experiment's reflection (never by default, never
again for that experiment once a story exists); the author sees exactly what will be posted
before anything is shared. ``stories`` lists one's own stories (withdraw one) and, for HR, the
stories shared with HR (audited).
"""

from __future__ import annotations

from dialogs.engine.content import Content
from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next, Start
from dialogs.engine.text import shorten
from dialogs.flows.common import ask_choice, ask_confirm, ask_text, bullet_list, labelled
from storage import stories as stored
from storage.items import experiments, own
from storage.models import Experiment, ExperimentStatus, Person, Role, Story, StoryState
from storage.privacy import Reader

story = Dialog("story", version=1, first="offer", title="story.title")
stories = Dialog("stories", version=1, first="overview", title="story.list_title")

WHERE = ("hr", "channel", "both")


def render(
    content: Content, lang: str, *, author: str, title: str, tried: str, learned: str
) -> str:
    """A story as it is posted and shown in campaigns, in ``lang``: the one rendering."""
    return content.text(
        lang, "story.rendered", author=author, title=title, tried=tried, learned=learned
    )


def render_story(content: Content, lang: str, item: Story, author: Person | None) -> str:
    return render(
        content,
        lang,
        author=author.name if author else "",
        title=item.title,
        tried=item.tried,
        learned=item.learned,
    )


def can_tell(db_experiment: Experiment | None, ctx: Ctx) -> bool:
    """A finished, reflected experiment of this person without a story yet."""
    return (
        db_experiment is not None
        and db_experiment.person_id == ctx.person.id
        and db_experiment.status == ExperimentStatus.DONE
        and bool(db_experiment.learned)
        and db_experiment.id is not None
        and stored.of_experiment(ctx.db, db_experiment.id) is None
    )


def _experiment(ctx: Ctx) -> Experiment | None:
    assert ctx.person.id is not None
    return own(ctx.db, Experiment, ctx.person.id, int(ctx.values.get("experiment_id", 0)))


@story.step("offer")
def offer(ctx: Ctx) -> Next:
    item = _experiment(ctx)
    if not can_tell(item, ctx):
        return End()
    if not ctx.answered:
        options = labelled(ctx, "story.offer_options", ("yes", "no"))
        return ask_choice(ctx, "story.offer", options)
    if ctx.answer == "no":
        ctx.say("story.no_problem")
        return End()
    return Goto("headline")


@story.step("headline")
def headline(ctx: Ctx) -> Next:
    item = _experiment(ctx)
    if item is None or not can_tell(item, ctx):
        ctx.say("story.gone")
        return End()
    if not ctx.answered:
        return ask_text(
            ctx, "story.ask_title", skippable=True, max_chars=200, title=shorten(item.title, 100)
        )
    ctx.values["title"] = str(ctx.answer or item.title)
    return Goto("tried")


@story.step("tried")
def tried(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_text(ctx, "story.ask_tried", max_chars=600)
    ctx.values["tried"] = str(ctx.answer)
    return Goto("learned")


@story.step("learned")
def learned(ctx: Ctx) -> Next:
    item = _experiment(ctx)
    if item is None:
        ctx.say("story.gone")
        return End()
    if not ctx.answered:
        return ask_text(
            ctx,
            "story.ask_learned",
            skippable=True,
            max_chars=600,
            learned=shorten(item.learned or "", 200),
        )
    ctx.values["learned"] = str(ctx.answer or item.learned or "")
    return Goto("where")


@story.step("where")
def where(ctx: Ctx) -> Next:
    channel = bool(ctx.settings.stories_channel)
    if not ctx.answered:
        options = labelled(ctx, "story.where_options", WHERE if channel else ("hr",))
        options.append(("none", ctx.t("story.where_options.none")))
        return ask_choice(ctx, "story.ask_where", options)
    if ctx.answer == "none":
        ctx.say("story.no_problem")
        return End()
    ctx.values["where"] = str(ctx.answer)
    return Goto("preview")


@story.step("preview")
def preview(ctx: Ctx) -> Next:
    item = _experiment(ctx)
    if item is None or not can_tell(item, ctx):
        ctx.say("story.gone")
        return End()
    where_to = str(ctx.values.get("where", "hr"))
    if not ctx.answered:
        ctx.say(f"story.preview.{where_to}")
        ctx.say_text(
            render(
                ctx.content,
                ctx.lang,
                author=ctx.person.name,
                title=str(ctx.values.get("title", "")),
                tried=str(ctx.values.get("tried", "")),
                learned=str(ctx.values.get("learned", "")),
            )
        )
        return ask_confirm(ctx, "story.ask_share")
    if not ctx.answer:
        ctx.say("story.not_shared")
        return End()
    stored.create(
        ctx.db,
        author=ctx.person,
        experiment_id=item.id,
        title=str(ctx.values.get("title", "")),
        tried=str(ctx.values.get("tried", "")),
        learned=str(ctx.values.get("learned", "")),
        for_hr=where_to in ("hr", "both"),
        in_channel=where_to in ("channel", "both"),
        now=ctx.now,
    )
    ctx.say(f"story.shared.{where_to}")
    return End()


# -- my stories, and HR's view ------------------------------------------------------------


def _where_label(ctx: Ctx, item: Story) -> str:
    if item.state == StoryState.WITHDRAWN:
        return ctx.t("story.states.withdrawn")
    places = [ctx.t("story.states.hr")] if item.for_hr else []
    places += [ctx.t("story.states.channel")] if item.in_channel else []
    return ", ".join(places)


def _untold(ctx: Ctx) -> list[Experiment]:
    assert ctx.person.id is not None
    return [e for e in experiments(ctx.db, ctx.person.id) if can_tell(e, ctx)]


@stories.step("overview")
def overview(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    mine = stored.stories_of(ctx.db, ctx.person.id)
    hr = ctx.person.role in (Role.HR, Role.ADMIN)
    if not ctx.answered:
        actions = []
        if mine:
            lines = [f"{shorten(s.title, 60)} ({_where_label(ctx, s)})" for s in mine[:10]]
            ctx.say_text(ctx.t("story.yours") + "\n" + bullet_list(lines))
        if any(s.state == StoryState.SHARED for s in mine):
            actions.append("withdraw")
        if _untold(ctx):
            actions.append("write")
        if hr:
            actions.append("hr")
        if not actions:
            ctx.say("story.none_yet")
            return End()
        return ask_choice(
            ctx, "story.what_now", labelled(ctx, "story.actions", [*actions, "nothing"])
        )
    if ctx.answer == "nothing":
        ctx.say("story.bye")
        return End()
    return Goto({"withdraw": "pick", "write": "pick_experiment", "hr": "hr"}[str(ctx.answer)])


@stories.step("pick_experiment")
def pick_experiment(ctx: Ctx) -> Next:
    if not ctx.answered:
        options = [(str(e.id), shorten(e.title, 60)) for e in _untold(ctx)]
        return ask_choice(ctx, "story.which_experiment", options)
    return Start("story", {"experiment_id": int(ctx.answer)}, step="headline")


@stories.step("pick")
def pick(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not ctx.answered:
        shared = [s for s in stored.stories_of(ctx.db, ctx.person.id) if s.state == "shared"]
        options = [(str(s.id), shorten(s.title, 60)) for s in shared]
        return ask_choice(ctx, "story.which", options)
    ctx.values["story_id"] = int(ctx.answer)
    return Goto("withdraw")


@stories.step("withdraw")
def withdraw(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    item = stored.own(ctx.db, ctx.person.id, int(ctx.values.get("story_id", 0)))
    if item is None or item.state != StoryState.SHARED:
        ctx.say("story.gone")
        return End()
    if not ctx.answered:
        return ask_confirm(ctx, "story.ask_withdraw", title=shorten(item.title, 100))
    if not ctx.answer:
        ctx.say("story.kept")
        return End()
    was_posted = item.post_state is not None
    stored.withdraw(ctx.db, item, now=ctx.now)
    ctx.say("story.withdrawn_posted" if was_posted else "story.withdrawn")
    return End()


@stories.step("hr")
def hr_view(ctx: Ctx) -> Next:
    """HR reads the stories their authors shared with HR (each author's story audited)."""
    if ctx.person.role not in (Role.HR, Role.ADMIN):
        ctx.say("story.not_allowed")
        return End()
    found = stored.for_hr(ctx.db, reader=Reader.of(ctx.person), now=ctx.now)
    if not found:
        ctx.say("story.none_for_hr")
        return End()
    authors = {p.id: p for p in (ctx.db.get(Person, s.person_id) for s in found) if p}
    ctx.say_text(
        "\n\n".join(render_story(ctx.content, ctx.lang, s, authors.get(s.person_id)) for s in found)
    )
    return End()
