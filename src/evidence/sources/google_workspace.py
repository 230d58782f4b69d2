"""Google Workspace, as both sides see it: the evidence key of the users listing and the
partial-response field mask it is asked with (what the checks judge and what identifies a
user, and no more personal data)."""

from __future__ import annotations

SOURCE = "google_workspace"
#: evidence key: service "admin" (the API), operation "directory.users.list" (the discovery method id)
USERS_LIST = "admin.directory.users.list"
#: partial response of `users.list`: the fields the checks read, and those that name a user (its
#: aliases too: a renamed account still answers to its old address)
USER_FIELDS = (
    "kind,nextPageToken,users(primaryEmail,id,customerId,name/fullName,orgUnitPath,isAdmin,"
    "isDelegatedAdmin,isEnrolledIn2Sv,isEnforcedIn2Sv,suspended,suspensionReason,archived,"
    "creationTime,lastLoginTime,aliases,nonEditableAliases)"
)
