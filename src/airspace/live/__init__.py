"""Live rooms: roles, requests to speak, signaling, room events."""
