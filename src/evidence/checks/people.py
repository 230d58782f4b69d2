"""People checks (ACCESS-LIFECYCLE): leavers' access is removed everywhere, in time, and every
account belongs to a current person.

They judge the HR roster (`people.Roster`) against the evidence the other collectors gather in
the same run: the Google Workspace users listing, the GitHub organisation's members and the IAM
credential report. Those records are read, never required: a check declares the evidence of its
own source only (`requires`), so another system's listing that is missing, failed or malformed
is judged here, as an `error` saying so, never as "no account".

Offboarding (one finding per leaver and system, `observed.state` `active` or `removed`): a
leaver's account passes only when it is removed (Workspace: suspended, archived or not listed;
GitHub: not a member; IAM: no user of theirs with a console password or an active access key),
and only when the removal is shown to be within `offboard_within_days` of `left_on`:

* removed, and this run (or the first earlier run that saw it removed) is before the deadline:
  `pass`;
* removed, and an earlier run saw it still active after the deadline: `fail` (removed late);
* removed, but no run shows whether that was before the deadline: `manual`, saying so (never a
  pass on assumption);
* still active: `fail`, before the deadline too (the message says whether it is overdue).

"Earlier runs" are `people.Sightings`, which the people collector reads from the history: these
findings' own `observed.state`, run by run (see `evidence.collectors.people`).

Orphans (one finding per account, and one for the roster as a whole): every active Workspace
user, GitHub member and IAM user with a credential maps to an active roster person (by email,
alias, GitHub login or IAM user name, or through the `aliases` parameter) or is a declared
service account (`service_accounts`); any other account fails, named. A Workspace user is matched
by its primary email and every alias (`aliases`, `nonEditableAliases`), so a leaver's account
renamed but still active is found. A GitHub member is matched by login only: GitHub has no
aliases, so a leaver whose login was renamed is found only when the roster's github_login (or
the `aliases` parameter) names the new login.

The checks live by job - `people_common` (the roster, account matching and the other systems'
listings), `people_offboarding`, `people_orphans` and `people_review` (the access review's
population and revocations) - and this module, the `evidence.checks` entry point `people`,
exposes every one of them.
"""

from __future__ import annotations

from evidence.checks.people_common import PEOPLE, ROSTER_FILE, Directory, Person
from evidence.checks.people_offboarding import (
    leavers_github_removed,
    leavers_iam_removed,
    leavers_workspace_removed,
)
from evidence.checks.people_orphans import orphan_github_members, orphan_iam_users, orphan_workspace_users
from evidence.checks.people_review import REVIEW, ReviewAccount, access_review_revocations, review_population

__all__ = [
    "PEOPLE",
    "REVIEW",
    "ROSTER_FILE",
    "Directory",
    "Person",
    "ReviewAccount",
    "access_review_revocations",
    "leavers_github_removed",
    "leavers_iam_removed",
    "leavers_workspace_removed",
    "orphan_github_members",
    "orphan_iam_users",
    "orphan_workspace_users",
    "review_population",
]
