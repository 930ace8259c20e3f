"""003 IV.C.3: for an internal investigation, the designated investigator asks for one officer's
undercover footprint: every persona and platform account they requested, handled, received by
handover or approved, with dates. Codenames, case numbers and platforms only."""
