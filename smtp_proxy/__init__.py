"""The SMTP proxy: relays outgoing mail unchanged plus one `X-Versprochen` header and records promises."""
