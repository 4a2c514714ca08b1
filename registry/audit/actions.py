"""Every action the audit trail records, with what it means: the one place they are registered.

`record_event` refuses an action that is not listed here, so a misspelt or new name fails the
first test that writes it, instead of starting a second name for one thing in a trail that is
kept forever. docs/audit.md describes each one for readers of the trail (a test keeps the two
lists the same).
"""

from __future__ import annotations

from django.db import models


class Action(models.TextChoices):
    # Signing in
    LOGIN = "login", "Someone signed in"
    LOGOUT = "logout", "Someone signed out, or the registry ended their session"
    LOGIN_FAILED = "login_failed", "A sign-in was refused"
    PASSWORD_CHANGE = "password.change", "Someone changed their password"
    PASSWORD_SET = "password.set", "An administrator set or turned off someone's password"
    OTP_ENROL = "otp.enrol", "Someone set up an authenticator app"
    OTP_VERIFY = "otp.verify", "The second step of signing in was passed"
    OTP_VERIFY_FAILED = "otp.verify_failed", "A wrong or throttled two-factor code"
    OTP_DEVICE_RESET = "otp.device_reset", "An administrator removed someone's authenticator"
    OTP_DEVICE_REMOVE = "otp.device_remove", "Someone turned two-factor sign-in off"
    # People, sites and tokens
    USER_CREATE = "user.create", "A person was added"
    USER_UPDATE = "user.update", "A person's details, role, sites or access changed"
    SITE_CREATE = "site.create", "A site was added"
    SITE_UPDATE = "site.update", "A site's name changed"
    API_TOKEN_CREATE = "api_token.create", "An API token was made"
    API_TOKEN_UPDATE = "api_token.update", "An API token's name or expiry changed"
    API_TOKEN_REVOKE = "api_token.revoke", "An API token was revoked"
    # Patients and their forms
    PATIENT_CREATE = "patient.create", "A patient was enrolled"
    PATIENT_UPDATE = "patient.update", "A patient's sex or year of birth changed"
    SUBMISSION_CREATE = "submission.create", "A form was saved for the first time"
    SUBMISSION_UPDATE = "submission.update", "A saved form changed"
    SUBMISSION_VERIFY = "submission.verify", "A curator verified a form"
    SUBMISSION_LOCK = "submission.lock", "A curator locked a form"
    SUBMISSION_UNLOCK = "submission.unlock", "A curator unlocked a form"
    # Curation and quality
    DATA_QUERY_OPEN = "data_query.open", "A data query was opened"
    DATA_QUERY_ANSWER = "data_query.answer", "A data query was answered"
    DATA_QUERY_CLOSE = "data_query.close", "A data query was closed"
    DATA_QUERY_REOPEN = "data_query.reopen", "A data query was reopened"
    QUALITY_ISSUE_ACCEPT = "quality_issue.accept", "A curator accepted a quality finding"
    QUALITY_ISSUE_REOPEN = "quality_issue.reopen", "A quality finding was reopened"
    QUALITY_ISSUE_RESOLVE = "quality_issue.resolve", "A quality finding was resolved"
    QUALITY_RUN = "quality.run", "A data-quality run finished"
    STATISTICS_COMPUTE = "statistics.compute", "A statistics snapshot was computed"
    # Background runs and forms
    JOB_REQUEST = "job.request", "A background run was asked for"
    JOB_FAIL_STALE = "job.fail_stale", "A background run was found dead and failed"
    JOB_FAIL_UNSTARTED = "job.fail_unstarted", "A queued run no worker started was failed"
    FORM_VERSION_PUBLISH = "form_version.publish", "A form version was published"
    # Data in and out
    REDCAP_IMPORT = "redcap.import", "Records were imported through the REDCap API"
    REDCAP_METADATA_IMPORT = (
        "redcap.metadata_import",
        "A data dictionary was pushed through the REDCap API",
    )
    SYNTHETIC_GENERATE = "synthetic.generate", "Synthetic demonstration data was made"
    EXPORT = "export", "Data left the registry"
    EXPORT_DOWNLOAD = "export.download", "An export job's file was downloaded"
    AUDIT_EXPORT = "audit.export", "The audit trail was downloaded"
    BEACON_QUERY = "beacon.query", "The Beacon answered how many individuals match"
    # Reads of record-level data
    API_READ = "api.read", "A REST API read of record-level data"
    PATIENT_VIEW = "patient.view", "A page showed a patient"
    PATIENT_FIND = "patient.find", "Someone looked a patient up by hospital number"
    SUBMISSION_VIEW = "submission.view", "A page showed a form"
    DATA_QUERY_VIEW = "data_query.view", "A page showed a data query"
    QUALITY_ISSUE_VIEW = "quality_issue.view", "A page showed a quality finding"
    AUDIT_VIEW = "audit.view", "The audit trail was read"


READ_ACTIONS: tuple[Action, ...] = (
    Action.API_READ,
    Action.PATIENT_VIEW,
    Action.PATIENT_FIND,
    Action.SUBMISSION_VIEW,
    Action.DATA_QUERY_VIEW,
    Action.QUALITY_ISSUE_VIEW,
    Action.AUDIT_VIEW,
)
"""Actions that record a read, not a change: histories of changes leave them out."""


class UnregisteredAction(ValueError):
    """An audit action that registry/audit/actions.py does not list."""


def registered(action: str) -> Action:
    """`action` as the registered Action, or UnregisteredAction naming it."""
    try:
        return Action(action)
    except ValueError:
        raise UnregisteredAction(
            f"{action!r} is not a registered audit action; add it to registry/audit/actions.py "
            "and docs/audit.md."
        ) from None
