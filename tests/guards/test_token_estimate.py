"""The token estimate behind reservations: above what real tokenizers count for Portuguese, Spanish and
English text, additive over chunks, digits counted one token each."""

from __future__ import annotations

import pytest

from guards.token_estimate import MESSAGE_OVERHEAD, prompt_tokens, text_tokens, text_weight, tokens_of_weight

# Chars per token that current tokenizers reach on prose (fewer chars per token = more tokens):
# English ~4, Portuguese and Spanish ~3 to 3.5. The estimate must stay above chars / 2.5 for all three.
SAMPLES = {
    "en": "The gateway reserves tokens before it calls a provider, then settles what the call really cost.",
    "pt": "A aplicação reserva os tokens antes de chamar o provedor e depois acerta o que a chamada custou.",
    "es": "La pasarela reserva los tokens antes de llamar al proveedor y luego ajusta lo que costó la llamada.",
}


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_prose_is_estimated_at_two_chars_per_token_or_more_tokens(language: str) -> None:
    text = SAMPLES[language]
    assert text_tokens(text) >= len(text) / 2
    assert text_tokens(text) > len(text) / 2.5


def test_accents_digits_and_other_scripts_weigh_more() -> None:
    assert text_tokens("ação") == 3  # 6 UTF-8 bytes
    assert text_tokens("2026") == 4  # one token per digit, as SentencePiece tokenizers split them
    assert text_tokens("東京") == 3  # 6 bytes: 1.5 tokens per CJK character
    assert text_tokens("") == 0


def test_weights_add_up_over_the_chunks_of_a_stream() -> None:
    chunks = ["Olá", ", mundo", " 42", "!"]
    assert tokens_of_weight(sum(text_weight(c) for c in chunks)) == text_tokens("".join(chunks))


def test_each_message_of_a_prompt_adds_its_overhead() -> None:
    assert prompt_tokens(user="hi", system=None) == 1 + MESSAGE_OVERHEAD
    assert prompt_tokens(user="hi", system="be brief") == 5 + 2 * MESSAGE_OVERHEAD
