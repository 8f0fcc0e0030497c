"""Email: composing, sending through the outbox, and receiving replies (docs/email.md)."""
