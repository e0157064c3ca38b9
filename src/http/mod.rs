//! The one HTTP client: management API (`/api/`, `/v1/`), deployment API, version API.
