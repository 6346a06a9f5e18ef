"""Server-rendered pages, static assets, and media served from local storage."""
