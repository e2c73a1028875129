"""Access-to-information requests on the web."""
