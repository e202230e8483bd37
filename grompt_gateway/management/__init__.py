"""Management commands of the gateway (``python manage.py <command>``)."""
