//! The user's project: `package.json`, `convex.json` and the functions directory.
