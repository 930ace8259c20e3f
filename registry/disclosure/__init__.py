"""Disclosure packs for court and inspection (003 IV.B.4): what was authorized, by whom and
when, and that the rules held on each day a persona was used, provable against the audit chain."""
