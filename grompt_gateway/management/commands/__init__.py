"""``manage.py`` commands: ``runserver`` (uvicorn, ASGI) and ``mockllm`` (the mock LLM upstream)."""
