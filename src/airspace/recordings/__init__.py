"""Recording lifecycle: recording → processing → available → expired/deleted → purged."""
