"""Exception types. Each carries a message a user can act on; front ends print it on one line."""


class PictuneError(Exception):
    """Base class of every error pictune raises on purpose."""


class InputError(PictuneError):
    """The input cannot be used as given (empty, too large, wrong type, undecodable)."""


class AbcError(PictuneError):
    """ABC text could not be read, converted or repaired."""


class ToolError(PictuneError):
    """An external program (abc2midi, midi2abc, abcm2ps) is missing, timed out or failed."""


class RenderError(PictuneError):
    """Audio, sheet music or MusicXML could not be produced."""
