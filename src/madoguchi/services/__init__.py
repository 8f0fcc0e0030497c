"""Use cases: each is one unit of work — read, decide with domain, write, commit, publish."""
