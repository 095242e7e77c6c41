"""The team dashboard: promises by state, owner, customer and due date, actions, charts, ledger, calendar."""
