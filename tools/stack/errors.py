"""The one error the launcher raises: a reason a person can act on."""


class StackError(RuntimeError):
    """Printed as a single line: what went wrong and how to fix it."""
