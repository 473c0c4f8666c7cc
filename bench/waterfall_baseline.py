"""The baseline: the reflection conversation built the way the Bot Framework samples do it —
botbuilder-dialogs' ``WaterfallDialog`` with ``TextPrompt``/``ChoicePrompt``, state in
``MemoryStorage`` (nothing persisted), driven through botbuilder's ``TestAdapter``.

botbuilder-dialogs is a benchmark-only dependency (``pip install -e '.[bench]'``); the product
never imports it.
"""

from __future__ import annotations

from botbuilder.core import ConversationState, MemoryStorage, MessageFactory, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import (
    DialogSet,
    DialogTurnStatus,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.choices import Choice
from botbuilder.dialogs.prompts import ChoicePrompt, PromptOptions, TextPrompt
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

QUESTIONS = (
    "What comes easily to you that others seem to find hard?",
    "Where else in the organisation could your skills make a difference?",
    "Who in the organisation would you like to get to know better, and why?",
)


class WaterfallReflection:
    def __init__(self) -> None:
        self.state = ConversationState(MemoryStorage())
        self.dialogs = DialogSet(self.state.create_property("DialogState"))
        self.dialogs.add(TextPrompt("text"))
        self.dialogs.add(ChoicePrompt("choice"))
        self.dialogs.add(
            WaterfallDialog(
                "reflection",
                [self._ask(0), self._ask(1), self._ask(2), self._insight, self._done],
            )
        )

    @staticmethod
    def _ask(index: int):  # type: ignore[no-untyped-def]
        async def step(step: WaterfallStepContext):  # type: ignore[no-untyped-def]
            if index > 0:
                step.values[f"a{index}"] = step.result
            text = f"({index + 1}/3) {QUESTIONS[index]}"
            return await step.prompt("text", PromptOptions(prompt=MessageFactory.text(text)))

        return step

    @staticmethod
    async def _insight(step: WaterfallStepContext):  # type: ignore[no-untyped-def]
        step.values["a3"] = step.result
        choices = [
            Choice("Turn it into an experiment"),
            Choice("Add it to my plan"),
            Choice("Not now"),
        ]
        prompt = MessageFactory.text("Did something come up that you'd like to act on?")
        return await step.prompt("choice", PromptOptions(prompt=prompt, choices=choices))

    @staticmethod
    async def _done(step: WaterfallStepContext):  # type: ignore[no-untyped-def]
        await step.context.send_activity("Lovely. I'm here when you want to pick it up.")
        return await step.end_dialog()

    async def on_turn(self, context: TurnContext) -> None:
        dialog_context = await self.dialogs.create_context(context)
        result = await dialog_context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await dialog_context.begin_dialog("reflection")
        await self.state.save_changes(context)


def adapter_for(bot_logic, n: int) -> TestAdapter:  # type: ignore[no-untyped-def]
    """A TestAdapter whose activities come from person ``n``'s own personal chat."""
    template = Activity(
        channel_id="msteams",
        service_url="https://test.invalid/",
        from_property=ChannelAccount(id=f"29:p{n}", name=f"Person {n}", aad_object_id=f"aad-{n}"),
        recipient=ChannelAccount(id="28:bot", name="Regie"),
        conversation=ConversationAccount(id=f"a:conv{n}", conversation_type="personal"),
        locale="en-US",
    )
    return TestAdapter(bot_logic, template)
