"""Space lifecycle (scheduled → live → ended, scheduled → canceled), tickets, topics."""
