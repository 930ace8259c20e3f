"""What links personas (003 IV.B: a burned identity must not take its siblings with it).

A platform that finds one undercover account looks for its siblings: a shared device, a
recovery e-mail or phone number, a photo, a network egress, the same handler on the same
platform. The registry keeps keyed digests of each of these (never the value), answers the
blast radius of a burned persona for the supervisor to assess, and warns before a new
persona, account or device would share a link with a burned or a live one."""
