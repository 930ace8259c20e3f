"""The Persona Registry: the system of record for undercover online personas."""
