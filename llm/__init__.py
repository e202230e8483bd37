"""The gateway's model layer: provider contracts, the three SDK adapters and MultiAI (see README.md).

Never imports django, ninja, grompt_gateway, proxy or guards. The SDK-backed names load on first use,
so ``import llm.errors`` (from proxy/ or guards/) does not import the three SDKs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

from llm.errors import *  # noqa: F403 - the error tree is part of the public surface
from llm.errors import __all__ as _error_names
from llm.ports import GenStream, ProviderPort, StreamOutcome
from llm.types import PROVIDER_IDS, GenInput, GenOptions, GenResult, GenUsage, ProviderId

if TYPE_CHECKING:
    from llm.anthropic_provider import AnthropicProvider
    from llm.gemini_provider import GeminiProvider
    from llm.multi import MultiAIWrapper, ProviderInfo
    from llm.openai_provider import OpenAIProvider
    from llm.registry import ProviderConfig, ProviderRegistry
    from llm.retry import RetryPolicy

_LAZY: Final = {
    "AnthropicProvider": "llm.anthropic_provider",
    "GeminiProvider": "llm.gemini_provider",
    "MultiAIWrapper": "llm.multi",
    "OpenAIProvider": "llm.openai_provider",
    "ProviderConfig": "llm.registry",
    "ProviderInfo": "llm.multi",
    "ProviderRegistry": "llm.registry",
    "RetryPolicy": "llm.retry",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'llm' has no attribute {name!r}")


__all__ = [  # the lazy names are listed too
    *_error_names,
    "PROVIDER_IDS",
    "AnthropicProvider",
    "GenInput",
    "GenOptions",
    "GenResult",
    "GenStream",
    "GenUsage",
    "GeminiProvider",
    "MultiAIWrapper",
    "OpenAIProvider",
    "ProviderConfig",
    "ProviderId",
    "ProviderInfo",
    "ProviderPort",
    "ProviderRegistry",
    "RetryPolicy",
    "StreamOutcome",
]
