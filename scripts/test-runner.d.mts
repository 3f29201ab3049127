// Types of scripts/test-runner.mjs for its test (test/ci/testRunner.test.ts).

export interface TestRun {
  code: number | null;
  output: string;
  timedOut: boolean;
}

export function runTestFiles(options: {
  cwd: string;
  files: string[];
  timeoutMs: number;
  tapFile: string;
  boundMs?: number;
  stragglerMs?: number;
  echo?: boolean;
  env?: NodeJS.ProcessEnv;
  log?: (message: string) => void;
}): Promise<TestRun>;

export function specTotals(output: string): { passed: number; failed: number; skipped: number };
