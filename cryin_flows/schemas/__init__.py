"""Pydantic output documents, one per kind of job (emmet/atomate2 style)."""
