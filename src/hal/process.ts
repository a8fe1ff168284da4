/**
 * The process the flight software runs in, seen as a device: resident memory, heap, event-loop delay and CPU
 * time. Read on the rate groups by the health component.
 */
import { statfsSync } from 'node:fs';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

export interface ProcessReading {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Largest event-loop delay since the previous reading, in ms (0 when the loop was never late). */
  readonly eventLoopLagMs: number;
  /** CPU time (user + system) since the previous reading, in ms, and the real time it was measured over. */
  readonly cpuMs: number;
  readonly elapsedMs: number;
  /** Free and total space of the filesystem holding the state directory, bytes (absent without one). */
  readonly stateDirFreeBytes?: number;
  readonly stateDirTotalBytes?: number;
}

export interface ProcessMonitor {
  read(): ProcessReading;
  close(): void;
}

/**
 * The Node.js process this runs in. CPU load is a ratio of CPU time to real elapsed time, so this device reads
 * the process's own monotonic clock (hrtime) rather than mission time, which may be virtual.
 */
export function nodeProcessMonitor(options: { readonly stateDir?: string } = {}): ProcessMonitor {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let lastCpu = process.cpuUsage();
  let lastReal = process.hrtime.bigint();
  return {
    read() {
      const cpu = process.cpuUsage(lastCpu);
      lastCpu = process.cpuUsage();
      const real = process.hrtime.bigint();
      const elapsedMs = Number(real - lastReal) / 1e6;
      lastReal = real;
      // The histogram counts the sampling resolution itself as delay; what is above it is lag.
      const lagMs = histogram.count > 0 ? Math.max(0, histogram.max / 1e6 - 10) : 0;
      histogram.reset();
      const memory = process.memoryUsage();
      let disk: { stateDirFreeBytes: number; stateDirTotalBytes: number } | undefined;
      if (options.stateDir) {
        try {
          const fs = statfsSync(options.stateDir);
          disk = { stateDirFreeBytes: fs.bavail * fs.bsize, stateDirTotalBytes: fs.blocks * fs.bsize };
        } catch {
          // A state directory that cannot be examined reads as absent; the store itself reports write errors.
        }
      }
      return {
        ...disk,
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        eventLoopLagMs: lagMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        elapsedMs,
      };
    },
    close() {
      histogram.disable();
    },
  };
}
