import { requireSharedFixtures } from './shared-fixtures';

// The contract suite exists to read the third-party samples: without them it fails, never skips.
requireSharedFixtures();
