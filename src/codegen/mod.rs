//! `convex/_generated/`: the initial stubs and the final, analysis-driven files.
