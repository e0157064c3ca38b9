//! The deploy2 push pipeline: bundle, hash, start_push, wait_for_schema, finish_push.
