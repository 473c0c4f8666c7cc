"""AI assistance switched on through the environment, as an operator would: `regie chat`
against a local OpenAI-compatible server, then `regie llm usage`."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.bot.conftest import Run
from tests.bot.openai_fake import FakeOpenAI


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def test_chat_with_ai_on_and_the_usage_report(run: Run, fake: FakeOpenAI) -> None:
    assert run("init").returncode == 0
    assert run("demo").returncode == 0
    fake.answer("What did [name-1] show you that you still use?")
    ai = {
        "REGIE_LLM": "on",
        "OPENAI_API_KEY": "sk-test-not-a-real-key",
        "OPENAI_BASE_URL": fake.url,
        "REGIE_LLM_MODEL": "fake-model",
    }
    answer = "Marieke Jansen helped me a lot, marieke.jansen@example.com"
    chat = run(
        "chat",
        "--as",
        "alex@example.com",
        stdin=f"hi\n1\nyes\n2\nreflect\nyes\n{answer}\n",
        extra_env=ai,
    )
    assert chat.returncode == 0, chat.stderr
    assert "AI help" in chat.stdout  # the consent question
    assert "What did Marieke Jansen show you that you still use?" in chat.stdout
    assert [r["model"] for r in fake.requests] == ["fake-model"]
    assert "Marieke" not in fake.sent and "@example.com" not in fake.sent

    plain = run("llm", "usage", extra_env={"REGIE_LLM_MONTHLY_TOKEN_BUDGET": "1000", **ai})
    assert plain.returncode == 0, plain.stderr
    assert "AI assistance is on (model fake-model)" in plain.stdout
    assert "follow_up" in plain.stdout
    assert "135 of 1,000 tokens used, 865 left" in plain.stdout
    data = json.loads(run("llm", "usage", "--json").stdout)
    assert data["llm"] == "off" and data["used"] == 135 and data["budget"] == 2_000_000
    assert data["usage"] == [
        {
            "month": data["month"],
            "feature": "follow_up",
            "requests": 1,
            "prompt_tokens": 120,
            "completion_tokens": 15,
        }
    ]


def test_chat_with_ai_off_never_calls_the_model(run: Run, fake: FakeOpenAI) -> None:
    run("init")
    run("demo")
    chat = run(
        "chat",
        "--as",
        "alex@example.com",
        stdin="hi\n1\nyes\n2\nreflect\nI helped a customer\n",
        extra_env={"OPENAI_API_KEY": "sk-test-not-a-real-key", "OPENAI_BASE_URL": fake.url},
    )
    assert chat.returncode == 0, chat.stderr
    assert "(2/3)" in chat.stdout and "AI help" not in chat.stdout
    assert fake.requests == []
    usage = run("llm", "usage")
    assert "No AI requests recorded yet." in usage.stdout
