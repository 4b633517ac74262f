"""Domain packages: one per bounded context, same inner layout (see DESIGN.md §1)."""
