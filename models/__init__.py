"""Detectors that suggest shapes, the mapping of their classes onto project labels, and
learning from people's corrections. No Dash, Flask, boto3 or SQLAlchemy here."""
