"""WTForms classes, one module per feature. Forms get what they need through their constructor."""
