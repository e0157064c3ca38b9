'use strict';
// V8 tuning for a TypeScript compiler run (see src/push/jit_tuning.rs).
// Also passed to `node -e` on one line: single quotes, no shell
// metacharacters, comments only on lines of their own.
(function tuneJit() {
  const budget = ['--interrupt-budget=200000', '--max-inlined-bytecode-size-cumulative=300'];
  const count = ['--invocation-count-for-turbofan=9000', '--max-inlined-bytecode-size-cumulative=300'];
  const flags = { 18: budget, 20: budget, 22: count }[process.versions.node.split('.')[0]];
  if (flags) for (const flag of flags) require('v8').setFlagsFromString(flag);
})();
