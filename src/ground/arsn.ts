/**
 * The ground's anti-replay sequence numbers, kept in a file so that they keep increasing across restarts of the
 * ground station (the node rejects any ARSN not above the last it accepted). Numbers are reserved in blocks:
 * the file always holds a value above every number handed out, written crash-safely (temp file, fsync, rename)
 * before the block is used, so a crash skips numbers but never repeats one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MAX_ARSN, type Spi } from '../link/sdls.js';

export class ArsnFile {
  private readonly next = new Map<string, number>();
  private readonly reserved = new Map<string, number>();

  constructor(
    readonly path: string,
    private readonly block = 1000,
  ) {
    try {
      const stored = JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>;
      for (const [spi, value] of Object.entries(stored)) {
        if (Number.isInteger(value) && value >= 0) {
          this.next.set(spi, value);
          this.reserved.set(spi, value);
        }
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new Error(`ARSN file ${path}: ${String(error)}`);
    }
  }

  static inDirectory(directory: string): ArsnFile {
    return new ArsnFile(join(directory, 'arsn.json'));
  }

  /** The next ARSN for `spi` (starting at 1). */
  take(spi: Spi): number {
    const value = this.advance(String(spi));
    if (value > MAX_ARSN) throw new Error(`ARSN space of SPI ${spi} exhausted: a new key is needed`);
    return value;
  }

  /**
   * The next TC packet sequence count (14 bits): continuing across runs keeps request IDs (which verification
   * reports echo) from repeating at every start of the ground station.
   */
  takeSequenceCount(): number {
    return this.advance('tcSequence') & 0x3fff;
  }

  private advance(key: string): number {
    const value = this.next.get(key) ?? 1;
    if (value >= (this.reserved.get(key) ?? 0)) {
      this.reserved.set(key, Math.min(value + this.block, MAX_ARSN + 1));
      this.save();
    }
    this.next.set(key, value + 1);
    return value;
  }

  private save(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const temp = `${this.path}.tmp`;
    const fd = openSync(temp, 'w');
    try {
      writeSync(fd, JSON.stringify(Object.fromEntries(this.reserved)));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.path);
    const dir = openSync(dirname(this.path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }
}
