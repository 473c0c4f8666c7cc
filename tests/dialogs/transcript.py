"""Transcript testing: ``send("…")`` / ``expect("…")`` against the real runtime and database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from dialogs.engine.content import Content
from dialogs.engine.replies import Prompt, Reply, Say
from dialogs.engine.runtime import Runtime
from dialogs.engine.turn import Action, Turn
from storage.models import Person


@dataclass
class Transcript:
    runtime: Runtime
    person_id: int
    replies: list[Reply] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    @property
    def content(self) -> Content:
        return self.runtime.content

    @property
    def lang(self) -> str:
        with Session(self.runtime.engine) as db:
            person = db.get(Person, self.person_id)
            return person.language if person else "en"

    def t(self, key: str, **values: Any) -> str:
        return self.content.text(self.lang, key, **values)

    def send(
        self,
        text: str | None = None,
        *,
        action: Action | None = None,
        inbound_id: str | None = None,
    ) -> list[Reply]:
        self.log.append(f"> {text if action is None else action}")
        self.replies = self.runtime.handle(
            Turn(person_id=self.person_id, text=text, action=action, inbound_id=inbound_id)
        )
        self.log.extend(f"< {r.text}" for r in self.replies)
        return self.replies

    def press(self, intent: str) -> list[Reply]:
        """Press a button of a nudge or campaign message (it carries an intent, not an answer)."""
        self.log.append(f"> [{intent}]")
        self.replies = self.runtime.handle(Turn(person_id=self.person_id, intent=intent))
        self.log.extend(f"< {r.text}" for r in self.replies)
        return self.replies

    @property
    def text(self) -> str:
        """Everything a person would read: texts and the labels of the buttons."""
        parts: list[str] = []
        for reply in self.replies:
            parts.append(reply.text)
            if isinstance(reply, Prompt):
                parts.extend(o.label for o in reply.options())
        return "\n".join(parts)

    def expect(self, *fragments: str) -> Transcript:
        for fragment in fragments:
            assert fragment.lower() in self.text.lower(), (
                f"expected {fragment!r} in the replies:\n{self.text}\n--- transcript ---\n"
                + "\n".join(self.log)
            )
        return self

    def expect_not(self, *fragments: str) -> Transcript:
        for fragment in fragments:
            assert fragment.lower() not in self.text.lower(), (
                f"did not expect {fragment!r} in:\n{self.text}"
            )
        return self

    @property
    def prompt(self) -> Prompt:
        prompts = [r for r in self.replies if isinstance(r, Prompt)]
        assert prompts, f"expected a question, got:\n{self.text}"
        return prompts[-1]

    def choose(self, value: str) -> list[Reply]:
        """Click the button with this value on the last prompt (as Slack/Teams would)."""
        prompt = self.prompt
        assert value in [o.value for o in prompt.options()], (value, prompt.options())
        return self.send(
            action=Action(
                value=value, session_id=prompt.session_id, step=prompt.step, seq=prompt.seq
            )
        )

    def says(self) -> list[str]:
        return [r.text for r in self.replies if isinstance(r, Say)]
