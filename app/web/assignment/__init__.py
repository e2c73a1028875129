"""Case assignment: the administrators 'assignment list and reassignment, and recusal."""
