"""How a person's shared items read to their manager. The privacy centre's preview and the
manager's digest both use :func:`render_shared`, so the preview is exactly what the manager
sees: the digest in the manager's language, the preview (:func:`preview`) in the owner's own,
with a line saying the manager reads it in theirs."""

from __future__ import annotations

from dialogs.engine.assistant import SUMMARY_DIALOG
from dialogs.engine.content import Content
from dialogs.engine.text import shorten
from storage.models import Person
from storage.people import first_name
from storage.privacy import SharedItems


def render_shared(content: Content, lang: str, person: Person, items: SharedItems) -> str:
    def t(key: str, **values: object) -> str:
        return content.text(lang, key, **values)

    if not items:
        return t("manager_view.nothing", name=person.name)
    lines = [t("manager_view.heading", name=person.name)]
    for experiment in items.experiments:
        state = t(f"experiment.states.{experiment.status}")
        lines.append(t("manager_view.experiment", title=experiment.title, state=state))
        if experiment.learned:
            lines.append("   " + t("manager_view.learned", text=experiment.learned))
    for answer in items.answers:
        if answer.dialog_id == SUMMARY_DIALOG:  # a summary of the year, kept and shared
            lines.append(t("manager_view.summary", text=answer.text))
            continue
        try:
            question = content.question(answer.question_id).text[lang]
        except StopIteration:
            question = answer.question_id
        lines.append(t("manager_view.answer", question=question, text=answer.text))
    for item in items.plan_items:
        kind = t(f"plan.kinds.{item.kind}")
        lines.append(t("manager_view.plan", title=item.title, kind=kind))
    for check_in in items.check_ins:
        lines.append(
            t(
                "manager_view.check_in",
                energy=check_in.energy,
                next=shorten(check_in.next_step, 200) or "—",
            )
        )
    if items.profile:
        texts = ", ".join(f"{e.text} ({t(f'profile.headings.{e.kind}')})" for e in items.profile)
        lines.append(t("manager_view.profile", items=texts))
    for entry in items.learning:
        kind = t(f"learning.kinds.{entry.kind}")
        lines.append(t("manager_view.learning", title=entry.title, kind=kind))
        if entry.takeaway:
            lines.append("   " + t("manager_view.took", text=shorten(entry.takeaway, 300)))
    return "\n".join(lines)


def preview(
    content: Content, lang: str, owner: Person, items: SharedItems, *, manager: Person
) -> str:
    """The owner's "what my manager sees": the manager's view of their shared items in the
    owner's language ``lang`` and, when the manager reads another language, one line saying
    so."""
    text = render_shared(content, lang, owner, items)
    if manager.language != lang:
        note = content.text(
            lang, f"manager_view.read_in.{manager.language}", manager=first_name(manager.name)
        )
        text += "\n\n" + note
    return text
