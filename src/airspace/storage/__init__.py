"""Media storage: a local directory, or any S3-compatible object store."""
