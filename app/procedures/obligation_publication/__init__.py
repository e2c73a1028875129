"""Transparency-obligation publications: their calendar, validation and sampling (tables, services, pages,
templates)."""
