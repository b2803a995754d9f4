"""Errors a user can fix: each message says what is wrong and what to do."""


class GankitError(Exception):
    """Base class for mistakes the user can correct; the CLI prints it in one line."""


class ConfigError(GankitError):
    """A configuration value, key or flag is invalid."""


class DataError(GankitError):
    """A data file is missing, corrupt or not what it claims to be."""


class CheckpointError(GankitError):
    """A checkpoint or run directory is missing, corrupt or unsafe to load."""


class TrainingStopped(GankitError):
    """Training was stopped by a signal before a command that needs it finished could go on."""


class TrainingDiverged(GankitError):
    """Losses or weights became NaN or infinite; nothing from the diverged state was saved."""


class RunCollapsed(GankitError):
    """The health monitor found mode collapse and the run was configured to stop (health: stop)."""


def shown(value: object, limit: int = 60) -> str:
    """A user's value as it may appear in a message: repr bounded in nesting, items and length, so that a
    small input built to expand (a YAML "billion laughs") cannot make the message itself huge."""
    import reprlib

    short = reprlib.Repr()
    short.maxlevel, short.maxlist, short.maxtuple, short.maxdict, short.maxset = 3, 4, 4, 4, 4
    short.maxstring = short.maxother = limit
    text = short.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def did_you_mean(word: object, options: object) -> str:
    """' (did you mean 'x'?)' when one of options is close to word (a typo), else ''."""
    import difflib

    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""
