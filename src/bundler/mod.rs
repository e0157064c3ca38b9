//! Bundling of Convex functions with the project's own esbuild, driven through
//! esbuild's stdin/stdout service protocol.
