"""Reports from listeners, and the queue moderators read them from."""
