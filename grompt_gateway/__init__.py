"""The Grompt gateway's Django project: settings, the ASGI stack, the HTTP adapter and the /v1 API."""
