"""Operator accounts for a bench desk: ``madoguchi user add`` once per e-mail, in one process.

``python -m bench.accounts EMAIL …`` with the desk's environment (and
``MADOGUCHI_USER_PASSWORD``) set: ``madoguchi migrate`` first (a desk may need no account),
then each account, of the support department with the desk's default capacity.
"""

from __future__ import annotations

import sys

from madoguchi import cli


def main(emails: list[str]) -> int:
    """Migrate, then create each account; stop at the first failure with its status."""
    code: int = cli.main(["migrate"])
    if code != 0:
        return code
    for email in emails:
        name = email.split("@", 1)[0]
        code = cli.main(["user", "add", email, "--name", name, "--departments", "support"])
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
