"""Receivers of the signals sent by accounts and chats services (see their signals.py)."""
