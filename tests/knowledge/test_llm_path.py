"""The written-answer path through the real langchain-openai client and a local fake server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.qa_eval import answer_rates
from bot.errors import ConfigError
from bot.qa import KnowledgeService, chat_model_from_spec
from bot.settings import load_settings
from bot.views import answer_language, render_answer
from tests.conftest import SAMPLE_CONTENT
from tests.fake_openai import FakeOpenAI


def service_for(index_dir: Path, tmp_path: Path, base_url: str) -> KnowledgeService:
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    settings = load_settings(
        content_dir=SAMPLE_CONTENT,
        index_dir=copy,
        llm="openai:gpt-4o-mini",
        llm_base_url=base_url,
        llm_api_key="test-key",
    )
    return KnowledgeService(settings)


def test_an_answer_is_written_from_numbered_sources(sample_index_dir: Path, tmp_path: Path) -> None:
    reply = "提高留存主要靠稳定的品质和固定的配送节奏 [1]，并及时跟进预警用户 [2]。"
    with FakeOpenAI([reply]) as server:
        answer = service_for(sample_index_dir, tmp_path, server.base_url).ask("如何提高用户留存?")
    assert answer.answered and answer.text == reply
    (request,) = server.requests
    assert request["auth"] == "Bearer test-key"
    body = request["body"]
    assert body["model"] == "gpt-4o-mini" and body["temperature"] == 0
    system, user = body["messages"]
    assert (
        system["role"] == "system"
        and "简体中文" in system["content"]
        and "NO_ANSWER" in system["content"]
    )
    assert user["content"].startswith("Sources:\n\n[1] ")
    assert "[2] " in user["content"] and user["content"].endswith("Question: 如何提高用户留存?")
    assert answer.sources[0].chunk.text in user["content"]


def test_english_questions_ask_for_an_english_answer(
    sample_index_dir: Path, tmp_path: Path
) -> None:
    with FakeOpenAI(["Coverage is completions divided by the people required [1]."]) as server:
        answer = service_for(sample_index_dir, tmp_path, server.base_url).ask(
            "How is training coverage calculated?"
        )
    assert answer.answered and answer.language == "en"
    system = server.requests[0]["body"]["messages"][0]["content"]
    assert "Answer in English" in system and "translate" in system
    # The sources are Chinese only; the written answer is English, so no "only in Chinese".
    assert any("覆盖率" in hit.chunk.text for hit in answer.sources)
    shown = render_answer(answer, answer_language(answer.question, "zh"))
    assert shown.startswith("From the course materials:\nCoverage is completions")
    assert "Sources:" in shown


def test_a_question_without_a_language_of_its_own_is_answered_in_the_askers(
    sample_index_dir: Path, tmp_path: Path
) -> None:
    # "LTV?" reads as English to the detector but says nothing of the asker's language;
    # the bot passes the person's (bot.views.answer_language), and the model is told it.
    with FakeOpenAI(["LTV 是每位用户的月均毛利乘以预计生命周期 [1]。"]) as server:
        service = service_for(sample_index_dir, tmp_path, server.base_url)
        answer = service.ask("LTV?", reply_language=answer_language("LTV?", "zh"))
        english = service.ask("What is LTV?", reply_language=answer_language("What is LTV?", "zh"))
    assert answer.answered and answer.text.startswith("LTV 是")
    first, second = (request["body"]["messages"][0]["content"] for request in server.requests)
    assert "简体中文" in first and "Answer in English" not in first
    assert english.question == "What is LTV?" and "Answer in English" in second


def test_the_model_saying_no_answer_means_abstaining(
    sample_index_dir: Path, tmp_path: Path
) -> None:
    with FakeOpenAI(["NO_ANSWER"]) as server:
        answer = service_for(sample_index_dir, tmp_path, server.base_url).ask(
            "用户流失前有哪些预警信号？"
        )
    assert len(server.requests) == 1
    assert not answer.answered and answer.text == ""


def test_low_confidence_questions_never_reach_the_model(
    sample_index_dir: Path, tmp_path: Path
) -> None:
    with FakeOpenAI(["should not be used"]) as server:
        answer = service_for(sample_index_dir, tmp_path, server.base_url).ask(
            "食堂今天中午吃什么？"
        )
    assert not answer.answered
    assert server.requests == []


def test_the_benchmark_measures_the_written_answer_path(
    sample_index_dir: Path, tmp_path: Path
) -> None:
    # Two covered questions and one the bot declines before asking the model: the model
    # writes the first answer and refuses the second, so one of two answerable questions
    # is answered and the unanswerable one is declined.
    questions = [
        {"question": "如何提高用户留存?", "expected": [{"path": "x", "contains": "x"}]},
        {"question": "用户流失前有哪些预警信号？", "expected": [{"path": "x", "contains": "x"}]},
        {"question": "食堂今天中午吃什么？", "expected": []},
    ]
    with FakeOpenAI(["稳定的品质和固定的配送节奏 [1]。", "NO_ANSWER"]) as server:
        answerer = service_for(sample_index_dir, tmp_path, server.base_url).answerer
        assert answer_rates(answerer, questions) == (0.5, 1.0)
    assert len(server.requests) == 2


def test_the_chat_model_goes_through_the_configured_proxy(
    sample_index_dir: Path, tmp_path: Path
) -> None:
    with FakeOpenAI(["Coverage is completions divided by the people required [1]."]) as proxy:
        copy = tmp_path / "index"
        shutil.copytree(sample_index_dir, copy)
        settings = load_settings(
            content_dir=SAMPLE_CONTENT,
            index_dir=copy,
            llm="openai:gpt-4o-mini",
            llm_base_url="http://llm.example.invalid/v1",  # reachable only through the proxy
            llm_api_key="test-key",
            https_proxy=proxy.base_url.removesuffix("/v1"),
        )
        answer = KnowledgeService(settings).ask("How is training coverage calculated?")
    assert answer.answered
    (request,) = proxy.requests
    assert request["proxied_to"] == "llm.example.invalid"


def test_a_proxy_for_a_model_that_cannot_take_it_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="TRAINBOT_HTTPS_PROXY"):
        chat_model_from_spec("anthropic:claude", proxy="http://127.0.0.1:3128")


def test_a_model_without_its_key_is_one_clear_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """openai raises its own error for a missing key; the operator reads one line naming
    the setting, not a traceback (seen with TRAINBOT_LLM set and no key)."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match=r"TRAINBOT_LLM: .*TRAINBOT_LLM_API_KEY"):
        chat_model_from_spec("openai:gpt-4o-mini")
