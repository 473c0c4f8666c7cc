"""A demo organisation, so a newcomer sees the whole product on the console.

Two teams (Customer Service and Finance) with their managers and an HR person, half of them
Dutch-speaking, with a few weeks of history relative to ``now``. Alex is a fresh employee who
has not been welcomed yet. Loading again creates nobody twice and adds no history twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from sqlmodel import Session

from dialogs.engine.content import load_content
from storage import feedback, stories
from storage.items import experiments, has_any_items
from storage.models import (
    Answer,
    CheckIn,
    Experiment,
    ExperimentStatus,
    Person,
    PlanItem,
    PlanKind,
    ProfileEntry,
    ProfileKind,
    Role,
    SharedItem,
    Visibility,
)
from storage.people import by_email

DEMO_EMPLOYEE = "alex@example.com"


@dataclass(frozen=True)
class DemoResult:
    people: int
    created: int
    items: int


@dataclass(frozen=True)
class Kit:
    """A person's history: experiments (status, idea, title, learned, keep doing), reflection
    answers (question id, text), check-ins (energy, next step), plan items and profile entries
    (kind, text)."""

    experiments: tuple[tuple[str, str | None, str, str, str], ...] = ()
    answers: tuple[tuple[str, str], ...] = ()
    checkins: tuple[tuple[int, str], ...] = ()
    plans: tuple[tuple[str, str], ...] = ()
    profile: tuple[tuple[str, str], ...] = ()


# fmt: off
KITS: dict[str, Kit] = {
    "nl-cs": Kit(
        (("done", "shadow-colleague", "Een dag meelopen bij Finance",
          "Hoeveel werk er achter een factuur zit",
          "Eerst even Finance bellen voor ik een klant iets beloof"),
         ("doing", "teach-something", "Nieuwe collega's de klachtenprocedure uitleggen", "", ""),
         ("planned", "visit-customer", "Bij een klant kijken hoe ze onze app gebruiken", "", "")),
        (("time-flies", "Toen ik met een klant een lastig probleem stap voor stap oploste."),
         ("colleagues-come-to-you", "Voor lastige klanten. Ik blijf rustig als iemand boos is.")),
        ((4, "Donderdag de uitleg voor de nieuwe collega's afmaken"),
         (3, "Tijd blokken zodat de wachtrij me niet opslokt")),
        (("personal", "Leren timeboxen zodat mijn eigen projecten ook af komen"),
         ("improvement", "Standaardantwoorden voor veelgestelde vragen opschonen"),
         ("team", "Elke maand een klantverhaal delen in het teamoverleg")),
        (("skill", "Boze klanten weer rustig krijgen"),
         ("talent", "Ingewikkelde dingen simpel uitleggen"),
         ("learn", "Beter worden in Excel-rapportages")),
    ),
    "nl-fin": Kit(
        (("done", "shadow-colleague", "Een ochtend meeluisteren bij de klantenservice",
          "Hoe vaak klanten bellen over onduidelijke facturen",
          "Factuurteksten samen met de klantenservice nalopen"),
         ("dropped", "attend-workshop", "Workshop Power BI volgen", "", ""),
         ("doing", "try-new-tool", "De maandafsluiting automatiseren met een script", "", "")),
        (("learned-recently", "Ik bouw nu zelf een forecast; vorig jaar vroeg ik dat nog aan."),
         ("energy-drain", "Bonnetjes handmatig overtikken. Een betere scanner zou al schelen.")),
        ((3, "Het script eerst op de cijfers van vorige maand testen"),
         (5, "Het resultaat laten zien in het teamoverleg")),
        (("improvement", "Factuurteksten begrijpelijker maken"),
         ("personal", "Een cursus data-analyse afronden")),
        (("skill", "Cijfers kloppend krijgen onder tijdsdruk"),
         ("learn", "Presenteren voor een grotere groep")),
    ),
    "nl-lead": Kit(
        (("done", "present-team-meeting", "Een kwartier over mijn werk vertellen in het overleg",
          "Dat collega's veel meer willen weten dan ik dacht", "Elk kwartaal iets delen"),
         ("done", "coffee-other-department", "Koffie drinken met iemand van IT",
          "Dat IT onze tickets anders leest dan wij ze bedoelen", "Maandelijks bijpraten met IT"),
         ("planned", "mentor-newcomer", "Een nieuwe collega op weg helpen", "", "")),
        (("quietly-proud", "Dat we de achterstand in twee weken wegwerkten, zonder overuren."),
         ("dot-on-horizon", "Over een paar jaar wil ik projecten trekken, misschien een team.")),
        ((4, "Een datum prikken voor het volgende teamoverleg"),
         (2, "Eerst wat rust nemen; het was een drukke maand")),
        (("team", "Samen afspraken maken over bereikbaarheid"),
         ("personal", "Een training feedback geven volgen")),
        (("talent", "Mensen met elkaar verbinden"), ("skill", "Overzicht houden als het druk is"),
         ("learn", "Vaker nee zeggen")),
    ),
    "nl-new": Kit(
        (("planned", "coffee-other-department", "Koffie drinken met iemand van Finance", "", ""),),
        (("why-this-work", "Ik help graag mensen verder; dat merk ik hier elke dag."),),
        ((4, "Vragen opschrijven voor het gesprek met Marieke"),),
        (),
        (("learn", "Ons ticketsysteem goed leren kennen"),),
    ),
    "en-cs": Kit(
        (("done", "shadow-colleague", "Spend a day with the Finance team",
          "How much work goes into one invoice", "Check with Finance before promising a refund"),
         ("doing", "ask-feedback", "Ask three colleagues how I handle escalations", "", ""),
         ("planned", "join-project", "Help test the new customer portal", "", "")),
        (("colleagues-come-to-you", "Tricky escalations. I stay calm when a customer is upset."),
         ("at-your-best", "When I can solve a problem end to end instead of passing it on.")),
        ((4, "Send the feedback questions on Monday"),
         (3, "Block an hour a week for the portal tests")),
        (("improvement", "Shorten our refund replies"),
         ("personal", "Get better at saying no to side requests")),
        (("skill", "Calming down upset customers"), ("learn", "Writing clear help articles")),
    ),
    "en-fin": Kit(
        (("done", "visit-customer", "Join a sales call with a large customer",
          "Customers care more about the invoice layout than the numbers",
          "Ask sales about invoice complaints every quarter"),
         ("dropped", "swap-task", "Swap payroll checks with a colleague for a week", "", ""),
         ("doing", "try-new-tool", "Build the monthly report in Power BI", "", "")),
        (("learned-recently", "I can now build a cash-flow forecast on my own."),
         ("energy-drain", "Chasing missing receipts. A reminder bot would make it lighter.")),
        ((3, "Rebuild one chart a day"), (4, "Show the draft report to James")),
        (("improvement", "Automate the receipts reminder"),
         ("team", "Write down the month-end checklist together")),
        (("skill", "Spotting errors in large spreadsheets"), ("talent", "Calm at month end"),
         ("learn", "Presenting numbers to non-finance people")),
    ),
    "en-lead": Kit(
        (("done", "teach-something", "Teach the team my Excel shortcuts",
          "Teaching made me understand my own shortcuts better",
          "A ten-minute tip in every team meeting"),
         ("done", "read-and-share", "Read a book on coaching and share three ideas",
          "One more question beats giving advice", "Ask before I advise"),
         ("planned", "join-other-team-meeting", "Sit in on Customer Service's meeting", "", "")),
        (("who-inspires", "Marieke. She makes hard conversations look easy."),
         ("small-next-step", "Ask HR which leadership courses we have.")),
        ((5, "Plan the next tip for the team meeting"),
         (4, "Pick a date to visit Customer Service")),
        (("team", "Rotate who chairs the weekly meeting"),
         ("personal", "Finish a coaching course")),
        (("talent", "Making numbers understandable"), ("learn", "Coaching instead of fixing")),
    ),
}

# team: department and its lead (the lead reports to nobody)
TEAMS = {
    "hr": ("HR", None),
    "cs": ("Customer Service", "marieke.jansen"),
    "fin": ("Finance", "james.carter"),
}
# e-mail (before @example.com), name, team, language, country, started days ago, history kit
PEOPLE: tuple[tuple[str, str, str, str, str, int | None, str | None], ...] = (
    ("priya.shah", "Priya Shah", "hr", "en", "NL", 2900, None),
    ("marieke.jansen", "Marieke Jansen", "cs", "nl", "NL", 3400, "nl-lead"),
    ("james.carter", "James Carter", "fin", "en", "NL", 2100, "en-lead"),
    ("alex", "Alex Morgan", "cs", "en", "NL", 150, None),
    ("daan.devries", "Daan de Vries", "cs", "nl", "NL", 1300, "nl-cs"),
    ("fleur.bakker", "Fleur Bakker", "cs", "nl", "NL", 2500, "nl-lead"),
    ("lotte.smit", "Lotte Smit", "cs", "nl", "NL", None, "nl-cs"),
    ("olivia.brown", "Olivia Brown", "cs", "en", "GB", 700, "en-cs"),
    ("tom.visser", "Tom Visser", "cs", "nl", "NL", 10, "nl-new"),
    ("emma.wilson", "Emma Wilson", "fin", "en", "NL", 900, "en-fin"),
    ("noah.miller", "Noah Miller", "fin", "en", "US", 400, "en-fin"),
    ("liam.evans", "Liam Evans", "fin", "en", "NL", None, "en-lead"),
    ("ruben.meijer", "Ruben Meijer", "fin", "nl", "NL", 1800, "nl-fin"),
    ("sophie.deboer", "Sophie de Boer", "fin", "nl", "NL", 600, "nl-fin"),
    ("anouk.mulder", "Anouk Mulder", "fin", "nl", "NL", 3000, "nl-lead"),
)
# fmt: on

TIMEZONES = {"NL": "Europe/Amsterdam", "GB": "Europe/London", "US": "America/New_York"}
NOT_IN_AGGREGATES = frozenset({"olivia.brown", "ruben.meijer"})
WELCOMED_DAYS_AGO = 42
# How long ago an experiment was started, by status; the n-th of a kind is a few days older.
EXPERIMENT_AGE = {"done": 36, "dropped": 30, "doing": 18, "planned": 5}


def load_demo(db: Session, *, now: datetime) -> DemoResult:
    """Create (or refresh) the demo people and give those without items a history."""
    people: dict[str, Person] = {}
    created = items = 0
    for local, name, team, lang, country, started, kit in PEOPLE:
        email = f"{local}@example.com"
        department, lead = TEAMS[team]
        role = Role.HR if team == "hr" else Role.MANAGER if local == lead else Role.EMPLOYEE
        manager_id = people[lead].id if lead and lead != local else None
        person = by_email(db, email)
        if person is None:
            created += 1
            welcome_days = min(WELCOMED_DAYS_AGO, started - 1) if started else WELCOMED_DAYS_AGO
            person = Person(
                email=email,
                name=name,
                language=lang,
                timezone=TIMEZONES[country],
                country=country,
                start_date=(now - timedelta(days=started)).date() if started else None,
                in_aggregates=local not in NOT_IN_AGGREGATES,
                welcomed_at=None if email == DEMO_EMPLOYEE else now - timedelta(days=welcome_days),
                created_at=now - timedelta(days=WELCOMED_DAYS_AGO + 1),
            )
        # The organisation is refreshed on every load; personal settings are left alone.
        person.name, person.role, person.department = name, role, department
        person.manager_id = manager_id
        db.add(person)
        db.flush()
        people[local] = person
        if kit is not None and not has_any_items(db, person.id or 0):
            items += _add_history(db, person, KITS[kit], now=now, offset=len(people))
    _add_feedback_and_story(db, people, now=now)
    items += _add_buddy_growth_and_learning(db, people, now=now)
    _add_campaign_authors(db, people, now=now)
    _add_closed_pulse(db, people, now=now)
    return DemoResult(people=len(people), created=created, items=items)


BUDDIES = {"tom.visser": "daan.devries"}
"""New hire -> their buddy (``buddy_email`` in a real people CSV)."""


def _add_buddy_growth_and_learning(db: Session, people: dict[str, Person], *, now: datetime) -> int:
    """Tom (ten days in) has Daan as his buddy; Olivia has a growth conversation with Marieke
    in five days, prepared and brought, and a learning record. Added once; returns how many
    learning entries were added."""
    from storage import conversations
    from storage.learning import learning_record
    from storage.models import ConversationSide, LearningEntry, LearningKind

    for local, buddy in BUDDIES.items():
        people[local].buddy_id = people[buddy].id
        db.add(people[local])
    olivia = people["olivia.brown"]
    assert olivia.id is not None
    if learning_record(db, olivia.id):
        return 0
    talk = conversations.plan(
        db, employee=olivia, planned_for=(now + timedelta(days=5)).date(),
        set_by=ConversationSide.EMPLOYEE, now=now - timedelta(days=2),
    )  # fmt: skip
    talk.topics = "Taking on the help articles for the new portal"
    talk.went_well = "Shorter refund replies: fewer follow-up questions from customers"
    talk.needs = "Half a day a month for a writing course"
    shared = conversations.bringable(db, olivia.id, limit=1)
    talk.brought = [conversations.item_ref(item) for item in shared]
    talk.prepared_at = talk.agenda_shared_at = now - timedelta(days=1)
    db.add(talk)
    entries = (
        (LearningKind.COURSE, "Writing for the web", 40, "https://example.com/writing",
         "Put the answer in the first sentence", True),
        (LearningKind.INFORMAL, "Shadowed the Finance team for a morning", 25, None,
         "Why invoices confuse customers", False),
    )  # fmt: skip
    for kind, title, days, link, took, shown in entries:
        db.add(
            LearningEntry(
                person_id=olivia.id,
                kind=kind,
                title=title,
                link=link,
                takeaway=took,
                learned_on=(now - timedelta(days=days)).date(),
                visibility=Visibility.MANAGER if shown else Visibility.PRIVATE,
                in_aggregates=olivia.in_aggregates,
                created_at=now - timedelta(days=days - 1),
            )
        )
    return len(entries)


def _add_campaign_authors(db: Session, people: dict[str, Person], *, now: datetime) -> None:
    """HR may launch campaigns to everyone alone (up to REGIE_CAMPAIGN_APPROVAL_OVER people).
    Set once; an administrator's later change stays."""
    from storage import campaign_guardrails as guard
    from storage.privacy import Reader

    for person in people.values():
        if person.role == Role.HR and person.id and guard.scope_of(db, person.id) is None:
            everyone = guard.Scope(everyone=True)
            guard.set_scope(db, person, everyone, actor=Reader.administrator("demo"), now=now)


PULSE_ID = "learning-pulse-demo"
# topic a person chose and how much room they have to learn (1-5); None: skipped
PULSE_ANSWERS = {
    "marieke.jansen": ("people", 3), "alex": ("digital", 4), "daan.devries": ("craft", 2),
    "fleur.bakker": ("people", 4), "lotte.smit": ("digital", 3), "olivia.brown": ("craft", 5),
    "james.carter": ("lead", 3), "emma.wilson": ("digital", 2), "noah.miller": ("digital", None),
    "ruben.meijer": ("craft", 4), "sophie.deboer": ("people", 3), "anouk.mulder": ("lead", 2),
}  # fmt: skip


def _add_closed_pulse(db: Session, people: dict[str, Person], *, now: datetime) -> None:
    """A learning-needs pulse that closed ten days ago, answered by twelve of fifteen people
    (both departments over K): ``regie report pulse learning-pulse-demo``. Added once."""
    from dialogs.campaigns.spec import from_stored
    from storage import campaigns, pulse
    from storage.models import Campaign

    if campaigns.by_slug(db, PULSE_ID) is not None:
        return
    start, closes = (now - timedelta(days=30)).date(), (now - timedelta(days=11)).date()
    choices = {
        "craft": ("Mijn vak", "My craft"),
        "digital": ("Digitaal", "Digital skills"),
        "people": ("Samenwerken", "Working with people"),
        "lead": ("Leidinggeven", "Leading"),
    }
    labelled = [{"id": k, "label": {"nl": nl, "en": en}} for k, (nl, en) in choices.items()]
    data = {
        "id": PULSE_ID, "name": {"nl": "Leerpeiling", "en": "Learning pulse"},
        "owner": "priya.shah@example.com", "default_language": "nl",
        "start": start.isoformat(), "audience": "everyone",
        "pulse": {"closes": closes.isoformat(), "questions": [
            {"id": "room", "kind": "scale", "text": {
                "nl": "Hoeveel ruimte heb je om iets nieuws te leren?",
                "en": "How much room do you have to learn something new?"}},
            {"id": "topic", "kind": "choice", "text": {
                "nl": "Waar wil je dit jaar in groeien?", "en": "What would you like to grow in?"},
             "choices": labelled},
            {"id": "wish", "kind": "text", "text": {"nl": "Nog iets?", "en": "Anything else?"}},
        ]},
        "steps": [{"id": "invite", "day": 0, "time": "10:00", "actions": ["pulse", "not_for_me"],
                   "message": {"nl": "Wat wil jij leren, {first_name}?",
                               "en": "What would you like to learn, {first_name}?"}}],
    }  # fmt: skip
    spec = from_stored(data)
    launched = now - timedelta(days=30)
    campaign = Campaign(
        slug=PULSE_ID, name="Learning pulse", owner_id=people["priya.shah"].id, spec=spec.raw,
        spec_hash=spec.hash, launched_at=launched, updated_at=launched,
    )  # fmt: skip
    db.add(campaign)
    db.flush()
    assert campaign.id is not None
    ids = [p.id for p in people.values() if p.id is not None]
    campaigns.add_recipients(db, campaign.id, ids, now=launched)
    for n, (local, (topic, room)) in enumerate(PULSE_ANSWERS.items()):
        given = {"topic": topic} | ({"room": str(room)} if room else {})
        if n % 4 == 0:
            given["wish"] = "Meer tijd om te leren" if n % 8 == 0 else "A course on giving feedback"
        at = launched + timedelta(days=1 + n % 5)
        pulse.save(db, campaign.id, "invite", people[local], given, min_group=5, now=at)
    pulse.close(db, campaign.id, now=now - timedelta(days=10))


def _add_feedback_and_story(db: Session, people: dict[str, Person], *, now: datetime) -> None:
    """Olivia asked two colleagues for feedback (Daan answered, Lotte has not yet), and Emma
    shared a finished experiment as a story with HR. Added once."""
    names = ("olivia.brown", "daan.devries", "lotte.smit", "emma.wilson")
    olivia, daan, lotte, emma = (people[k] for k in names)
    assert olivia.id and daan.id and lotte.id and emma.id
    if feedback.requests_of(db, olivia.id) or stories.stories_of(db, emma.id):
        return
    _, (answered, _) = feedback.create_request(
        db, requester=olivia, topic="How I explain a refund to an upset customer",
        colleague_ids=[daan.id, lotte.id], anonymous=False, now=now - timedelta(days=3),
    )  # fmt: skip
    feedback.answer(answered, "Calm and clear. Maybe say the amount first.", now=now)
    done = next((e for e in experiments(db, emma.id) if e.learned), None)
    stories.create(
        db, author=emma, experiment_id=done.id if done else None,
        title=done.title if done else "A day at the help desk",
        tried="I spent a morning with a colleague from another team.",
        learned=(done.learned or "") if done else "Asking early saves a week.",
        for_hr=True, in_channel=False, now=now - timedelta(days=2),
    )  # fmt: skip


def _add_history(db: Session, person: Person, kit: Kit, *, now: datetime, offset: int) -> int:
    year_start = datetime(now.year, 1, 1, tzinfo=UTC)
    horizon = max((now - (person.welcomed_at or now)).days - 1, 0)
    shared = count(offset)

    def ago(days: int) -> datetime:
        """A moment in the past, after the welcome and within this calendar year."""
        return max(now - timedelta(days=min(days, horizon)), year_start)

    def owned(days: int) -> dict[str, Any]:
        """About every third item is shared with the manager."""
        visibility = Visibility.MANAGER if next(shared) % 3 == 0 else Visibility.PRIVATE
        return {"person_id": person.id, "visibility": visibility, "created_at": ago(days),
                "in_aggregates": person.in_aggregates}  # fmt: skip

    new: list[SharedItem] = []
    for i, (status, idea, title, learned, keep) in enumerate(kit.experiments):
        age = EXPERIMENT_AGE[status] + 3 * i
        finished = ago(age - 14) if status in ("done", "dropped") else ago(age - 4)
        new.append(
            Experiment(
                title=title,
                idea_id=idea,
                status=ExperimentStatus(status),
                planned_date=(ago(age) + timedelta(days=12 if status == "planned" else 3)).date(),
                learned=learned or None,
                keep_doing=keep or None,
                done_at=finished if status == "done" else None,
                updated_at=finished,
                **owned(age),
            )
        )
    questions = load_content()
    for i, (question_id, text) in enumerate(kit.answers):
        q = questions.question(question_id)
        new.append(
            Answer(
                dialog_id="reflection",
                question_id=q.id,
                competency=q.competency,
                frame=q.frame,
                text=text,
                **owned(30 - 9 * i),
            )
        )
    for i, (kind, title) in enumerate(kit.plans):
        target = (now + timedelta(days=60 + 30 * i)).date()
        new.append(
            PlanItem(kind=PlanKind(kind), title=title, target_date=target, **owned(25 - 4 * i))
        )
    new += [
        ProfileEntry(kind=ProfileKind(k), text=t, **owned(38 - 2 * i))
        for i, (k, t) in enumerate(kit.profile)
    ]
    db.add_all(new)
    db.flush()
    # Check-ins are about the experiment the person is working on, if any.
    current = next((e for e in new if isinstance(e, Experiment) and e.status == "doing"), None)
    for i, (energy, next_step) in enumerate(kit.checkins):
        new.append(
            CheckIn(
                energy=energy,
                next_step=next_step,
                experiment_id=current.id if current else None,
                experiment_status=current.status if current else None,
                **owned(14 - 7 * i),
            )
        )
    db.add_all(new)
    db.flush()
    return len(new)
