"""Built-in mock LLM upstream speaking the OpenAI, Anthropic and Gemini wire protocols (JSON and SSE).

Standalone: imports nothing from grompt_gateway, llm, proxy or guards. See README.md in this folder.
"""

from __future__ import annotations

from mockllm.answer import Answer
from mockllm.app import PROVIDERS, MockLLM
from mockllm.cli import main, run
from mockllm.recorder import Outcome, RecordedRequest, Recorder
from mockllm.scenario import DirectiveError, Scenario
from mockllm.server import MockLLMServer, ServerThread, start_mock

__all__ = [
    "PROVIDERS",
    "Answer",
    "DirectiveError",
    "MockLLM",
    "MockLLMServer",
    "Outcome",
    "RecordedRequest",
    "Recorder",
    "Scenario",
    "ServerThread",
    "main",
    "run",
    "start_mock",
]
