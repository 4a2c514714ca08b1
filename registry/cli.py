"""What management commands share: turning domain errors into lines for a terminal."""

from django.core.exceptions import ValidationError


def describe(error: ValidationError) -> str:
    """One line per problem, each naming its field, for a person at a terminal."""
    if hasattr(error, "error_dict"):
        return "\n".join(
            f"{field}: {message}"
            for field, messages in error.message_dict.items()
            for message in messages
        )
    return "\n".join(error.messages)
