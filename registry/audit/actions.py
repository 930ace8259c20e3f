"""One vocabulary of what the registry records (the shape of warehouse's `events/tags.py`):
audit actions are `subject.action` names, persona history actions the steps of its record.
Every `record`, `record_failure`, code check and history entry names a member, never a free
string; the audit log's filter and the central record read the same members."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    ACCESS_DENIED = "access.denied"

    AUTH_ACCOUNT_LOCKED = "auth.account.locked"
    AUTH_LOGIN = "auth.login"
    AUTH_LOGIN_PASSWORD = "auth.login.password"
    AUTH_LOGIN_MFA = "auth.login.mfa"
    AUTH_MFA = "auth.mfa"
    AUTH_MFA_ENROLL_START = "auth.mfa.enroll.start"
    AUTH_MFA_ENROLL_CONFIRM = "auth.mfa.enroll.confirm"
    AUTH_PASSWORD_CHANGE = "auth.password.change"
    AUTH_RECOVERY = "auth.recovery"
    AUTH_LOGOUT = "auth.logout"

    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_UNLOCK = "user.unlock"
    USER_RESET_PASSWORD = "user.reset_password"
    USER_RESET_MFA = "user.reset_mfa"
    USER_RESET_MFA_CONFIRM = "user.reset_mfa.confirm"
    USER_UNITS_SET = "user.units.set"
    USER_OWN_EMAIL = "user.own_email"
    ROLE_GRANT_PROPOSE = "role_grant.propose"
    ROLE_GRANT_SUPERSEDE = "role_grant.supersede"
    ROLE_GRANT_CONFIRM = "role_grant.confirm"

    UNIT_CREATE = "unit.create"
    UNIT_UPDATE = "unit.update"
    UNIT_MEMBER_ADD = "unit.member.add"
    UNIT_MEMBER_REMOVE = "unit.member.remove"

    INVESTIGATION_CREATE = "investigation.create"
    INVESTIGATION_MEMBER_ADD = "investigation.member.add"
    INVESTIGATION_AUTHORIZE = "investigation.authorize"
    INVESTIGATION_REFUSE = "investigation.refuse"

    PERSONA_CREATE = "persona.create"
    PERSONA_READ_IDENTITY = "persona.read_identity"
    PERSONA_IDENTITY_CHANGE = "persona.identity_change"
    PERSONA_DECONFLICT = "persona.deconflict"
    PERSONA_SUBMIT = "persona.submit"
    PERSONA_APPROVE = "persona.approve"
    PERSONA_REJECT = "persona.reject"
    PERSONA_RENEW = "persona.renew"
    PERSONA_ACTIVATE = "persona.activate"
    PERSONA_SUSPEND = "persona.suspend"
    PERSONA_RESUME = "persona.resume"
    PERSONA_RETIRE = "persona.retire"
    PERSONA_COMPROMISE = "persona.compromise"
    PERSONA_HANDOVER = "persona.handover"
    PERSONA_LAPSE_REPORT = "persona.lapse_report"
    PERSONA_TOS_ACKNOWLEDGE = "persona.tos_acknowledge"
    PERSONA_PHOTO_ADD = "persona.photo_add"
    PERSONA_LINKAGE_READ = "persona.linkage_read"
    PERSONA_LINKAGE_ASSESS = "persona.linkage_assess"

    ACCOUNT_REQUEST = "account.request"
    ACCOUNT_AUTHORIZE = "account.authorize"
    ACCOUNT_DECLINE = "account.decline"
    ACCOUNT_DISABLED = "account.disabled"
    ACCOUNT_CREATED_ON = "account.created_on"

    PLATFORM_CREATE = "platform.create"
    PLATFORM_TOS_REVIEW = "platform.tos_review"

    EQUIPMENT_REGISTER = "equipment.register"
    EQUIPMENT_INSPECT = "equipment.inspect"
    EQUIPMENT_ASSIGN = "equipment.assign"
    EQUIPMENT_RELEASE = "equipment.release"
    EQUIPMENT_QUARANTINE = "equipment.quarantine"
    EQUIPMENT_RETIRE = "equipment.retire"

    ACTIVITY_RECORD = "activity.record"
    ACTIVITY_READ = "activity.read"

    REVIEW_READ = "review.read"
    REVIEW_RESCHEDULE = "review.reschedule"
    REVIEW_HOLD = "review.hold"
    REVIEW_CANCEL = "review.cancel"
    REVIEW_OVERDUE = "review.overdue"
    CALENDAR_TOKEN_ISSUED = "calendar.token_issued"
    CALENDAR_FEED_READ = "calendar.feed_read"

    CENTRAL_RECORD_READ = "central_record.read"
    AUDIT_EXPORT = "audit.export"
    DISCLOSURE_CREATE = "disclosure.create"
    INTERNAL_AFFAIRS_OFFICER_REPORT = "internal_affairs.officer_report"
    DEMO_SEED = "demo.seed"
    KEYS_ROTATION_STARTED = "keys.rotation_started"
    KEYS_ROTATED = "keys.rotated"

    @classmethod
    def persona_step(cls, step: str) -> Action:
        """The audit action of a lifecycle step (`persona.<step>`); an unknown step is a bug."""
        return cls(f"persona.{step}")


class History(StrEnum):
    """What a persona's history records, in the order a persona meets them."""

    REQUESTED = "requested"
    IDENTITY_CHANGED = "identity_changed"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    RENEW = "renew"
    ACTIVATE = "activate"
    SUSPEND = "suspend"
    RESUME = "resume"
    RETIRE = "retire"
    COMPROMISE = "compromise"
    HANDOVER = "handover"
    ACCOUNT_REQUESTED = "account_requested"
    ACCOUNT_AUTHORIZED = "account_authorized"
    ACCOUNT_DECLINED = "account_declined"
    ACCOUNT_DISABLED = "account_disabled"
    EQUIPMENT_ASSIGNED = "equipment_assigned"
    EQUIPMENT_RELEASED = "equipment_released"
    REVIEW = "review"
