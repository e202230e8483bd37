"""The gateway benchmark: a fast fake OpenAI upstream, the gateway under uvicorn, wrk and an SSE client."""
