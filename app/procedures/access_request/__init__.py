"""Access-to-information requests: their areas, committee and appeals (tables, services, pages, templates)."""
