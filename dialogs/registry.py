"""Every conversation the bot can have, by id. Add a new dialog here (see docs/architecture.md)."""

from __future__ import annotations

from dialogs.campaigns.checks import press_refusal
from dialogs.campaigns.hr_chat import campaigns
from dialogs.campaigns.pulse import pulse
from dialogs.campaigns.pulse_results import pulse_results
from dialogs.campaigns.reply import campaign_reply
from dialogs.engine.dialog import Dialog
from dialogs.flows.buddy import buddy
from dialogs.flows.checkin import checkin
from dialogs.flows.experiment import experiment
from dialogs.flows.feedback import feedback, feedback_reply
from dialogs.flows.field import field
from dialogs.flows.growth import growth
from dialogs.flows.learning import learning
from dialogs.flows.menu import menu
from dialogs.flows.plan import plan
from dialogs.flows.preferences import settings
from dialogs.flows.privacy import privacy
from dialogs.flows.profile import profile
from dialogs.flows.reflection import reflection
from dialogs.flows.report import report
from dialogs.flows.stories import stories, story
from dialogs.flows.team import team
from dialogs.flows.web import web
from dialogs.flows.welcome import welcome
from dialogs.flows.year_summary import year_summary
from dialogs.nudges.calm import nudge_later

campaign_reply.precondition = press_refusal  # a refused button must not put anything aside

DIALOGS: dict[str, Dialog] = {
    d.id: d
    for d in (
        welcome,
        menu,
        reflection,
        experiment,
        checkin,
        plan,
        profile,
        privacy,
        settings,
        team,
        report,
        campaigns,
        campaign_reply,
        year_summary,
        field,
        nudge_later,
        growth,
        learning,
        buddy,
        web,
        feedback,
        feedback_reply,
        story,
        stories,
        pulse,
        pulse_results,
    )
}
