"""Errors a user can fix: the command line prints them without a traceback and exits with 2."""


class UserError(ValueError):
    """Bad input from the user: a path, a data file, a config value.

    The message names the file or field, the problem, and the fix.
    """
