"""The two ways logic can fail: a bad expression, or an evaluation that cannot be done here."""

from __future__ import annotations

__all__ = ["LogicEvaluationError", "LogicSyntaxError"]


class LogicSyntaxError(Exception):
    """An expression that is not valid logic, with the place where reading it went wrong.

    ``position`` is a 0-based offset into ``source``, so an editor can put the cursor there;
    ``str()`` reads like ``Unexpected ')' at position 14``.
    """

    def __init__(self, message: str, position: int, source: str = "") -> None:
        super().__init__(message, position, source)
        self.message = message
        self.position = position
        self.source = source

    def __str__(self) -> str:
        return f"{self.message} at position {self.position}"

    def pointer(self) -> str:
        """The offending line of the source with a caret under the position, for error pages."""
        start = self.source.rfind("\n", 0, self.position) + 1
        end = self.source.find("\n", self.position)
        line = self.source[start : end if end != -1 else len(self.source)]
        return f"{line}\n{' ' * (self.position - start)}^"


class LogicEvaluationError(Exception):
    """Evaluation needs something the caller did not give, such as a resolver for a reference
    to another event or instance. Never raised because of the values in a record."""
