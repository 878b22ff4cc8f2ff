"""Maps the SDK's :class:`LogLevel` onto the standard ``logging`` module (logger ``facecast``)."""

from __future__ import annotations

import logging

from .enums import LogLevel

LOGGER_NAME = "facecast"
_LEVELS = {
    LogLevel.off: logging.CRITICAL + 10,
    LogLevel.error: logging.ERROR,
    LogLevel.warning: logging.WARNING,
    LogLevel.all: logging.DEBUG,
}
_handler: logging.Handler | None = None


def apply_log_level(level: LogLevel) -> None:
    """Set the ``facecast`` loggers' threshold; give them a stderr handler if the app has none."""
    global _handler
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(_LEVELS[LogLevel(level)])
    if level is LogLevel.off or logging.getLogger().handlers or logger.handlers:
        return
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(_handler)


def reset_logging() -> None:
    global _handler
    logger = logging.getLogger(LOGGER_NAME)
    if _handler is not None:
        logger.removeHandler(_handler)
        _handler = None
    logger.setLevel(logging.NOTSET)
