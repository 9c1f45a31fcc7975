"""Celery tasks of their own (besides Dash's background callbacks), registered by app.py
when REDIS_URL is set."""
