"""The persona lifecycle: what may happen to a persona now, and who may do it.

This package sits above the domains it orchestrates (personas, accounts, equipment, reviews,
audit): it asks them for facts and calls their repos, and no domain's rules (a service or a
repo) import it. Routes, pages and periodic work ask it; none of them works a rule out for
itself."""
