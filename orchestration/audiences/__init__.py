"""Audiences: the expression language, the audience file, exports."""
