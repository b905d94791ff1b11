"""The tag console: its HTTP API, its users, and what it reads."""
