"""HTTP views: the health route and the interactive-job endpoints (the REST API grows here)."""
