import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { childLogger } from '../../observability/logger';

const log = childLogger({ component: 'dataverse-sandbox-persistence' });

/**
 * One JSON file in dataDir holding everything the sandbox knows. Writes are debounced (bursts of requests cost one
 * write) and atomic (temp file + rename), so a crash leaves either the old or the new state, never half a file.
 */
export class SandboxPersistence<T> {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => T,
    private readonly debounceMs = 200,
  ) {}

  load(): T | undefined {
    if (!existsSync(this.file)) return undefined;
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as T;
    } catch (error) {
      log.warn({ err: error, file: this.file }, 'sandbox data file unreadable; starting empty');
      return undefined;
    }
  }

  schedule(): void {
    this.dirty = true;
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.debounceMs);
    this.timer.unref();
  }

  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.dirty) return;
    this.dirty = false;
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.snapshot()));
    renameSync(tmp, this.file);
  }
}
