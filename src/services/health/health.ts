/**
 * Health of the flight software itself: uptime, boot count, memory, event-loop lag, CPU load and rate-group
 * overruns, sampled at 1 Hz; a no-op command to check the command path end to end (as cFS apps have).
 */
import '../../hal/index.js';
import { defineComponent } from '../../core/component.js';
import { bool, f32, str, u32 } from '../../core/types.js';

const MIB = 1024 * 1024;

export const health = defineComponent({
  name: 'health',
  description:
    'Health of the flight software process: uptime, boot count, memory, event-loop lag, CPU, overruns',
  commands: {
    NOOP: { opcode: 0x0101, description: 'Does nothing but count and report: checks the command path' },
    RESET_COUNTERS: { opcode: 0x0102, description: 'Zeroes the no-op and lag-warning counters' },
    REPORT_COMPONENTS: {
      opcode: 0x0104,
      description: "Reports every component's execution counters, one COMPONENT_STATS event each",
    },
    RESTART_FSW: {
      opcode: 0x0103,
      hazardous: true,
      description: 'Restarts the flight software (its supervisor starts it again): arm it first',
    },
  },
  telemetry: {
    uptimeS: {
      id: 0x0101,
      type: u32({ units: 's' }),
      description: 'Seconds of mission time since this start',
    },
    bootCount: {
      id: 0x0102,
      type: u32(),
      description: 'Starts with this state directory, this one included',
    },
    rssMiB: { id: 0x0103, type: f32({ units: 'MiB' }), description: 'Resident memory of the process' },
    heapUsedMiB: { id: 0x0104, type: f32({ units: 'MiB' }), description: 'JavaScript heap in use' },
    eventLoopLagMs: {
      id: 0x0105,
      type: f32({ units: 'ms' }),
      description: 'Worst event-loop delay in the last second',
    },
    cpuPercent: {
      id: 0x0106,
      type: f32({ units: '%' }),
      description: 'CPU time over real time (100 = one core)',
    },
    overruns: {
      id: 0x0107,
      type: u32(),
      description: 'Rate-group ticks that ran past their period, all groups',
    },
    skippedTicks: {
      id: 0x0108,
      type: u32(),
      description: 'Rate-group slots skipped because a group ran late',
    },
    noopCount: { id: 0x0109, type: u32(), description: 'NOOP commands executed since the last reset' },
    lagWarnings: { id: 0x010a, type: u32(), description: 'LAG_HIGH events since the last reset' },
    watchdogKicks: {
      id: 0x010b,
      type: u32(),
      description: "Kicks of the board's watchdog since this start (0 on a board without one)",
    },
    watchdogFailures: {
      id: 0x010c,
      type: u32(),
      description: 'Watchdog kicks that failed since this start',
    },
    stateDirFreeMiB: {
      id: 0x010d,
      type: f32({ units: 'MiB' }),
      description: 'Free space on the filesystem of the state directory (-1: unknown)',
    },
    componentTaskRuns: {
      id: 0x010f,
      type: u32(),
      description: 'Rate-group task executions, all components (REPORT_COMPONENTS gives each)',
    },
    componentTaskFailures: {
      id: 0x0110,
      type: u32(),
      description: 'Rate-group tasks that threw, all components',
    },
    busiestComponent: {
      id: 0x0111,
      type: str({ maxLength: 16 }),
      description: 'The component whose tasks took the most time since start',
    },
    busiestComponentMs: {
      id: 0x0112,
      type: f32({ units: 'ms' }),
      description: 'Time its tasks took since start',
    },
    stateDirUsedPercent: {
      id: 0x010e,
      type: f32({ units: '%' }),
      description: 'How full that filesystem is',
    },
  },
  events: {
    BOOT: {
      id: 0x0101,
      severity: 'info',
      args: { bootCount: u32(), clock: str({ maxLength: 16 }) },
      message: 'flight software started, boot {bootCount} ({clock} time)',
    },
    NOOP: { id: 0x0102, severity: 'info', args: { count: u32() }, message: 'no-op {count}' },
    LAG_HIGH: {
      id: 0x0103,
      severity: 'low',
      args: { lagMs: f32({ units: 'ms' }), limitMs: f32({ units: 'ms' }) },
      message: 'event loop delayed {lagMs} ms (limit {limitMs} ms)',
    },
    OVERRUN: {
      id: 0x0104,
      severity: 'low',
      args: {
        group: str({ maxLength: 16 }),
        durationMs: f32({ units: 'ms' }),
        periodMs: f32({ units: 'ms' }),
      },
      message: 'rate group {group} ran {durationMs} ms in a {periodMs} ms period',
    },
    COUNTERS_RESET: { id: 0x0105, severity: 'info', message: 'health counters reset' },
    COMPONENT_STATS: {
      id: 0x0107,
      severity: 'info',
      args: {
        component: str({ maxLength: 16 }),
        runs: u32(),
        failures: u32(),
        totalMs: f32({ units: 'ms' }),
      },
      message: 'component {component}: {runs} task runs, {failures} failed, {totalMs} ms',
    },
    WATCHDOG_FAILED: {
      id: 0x0106,
      severity: 'medium',
      args: { source: str({ maxLength: 48 }), error: str({ maxLength: 96 }) },
      message: 'watchdog {source} could not be kicked: {error}',
    },
  },
  monitors: {
    EVENT_LOOP_LAG: {
      id: 0x0101,
      parameter: 'eventLoopLagMs',
      check: { kind: 'limit', low: 0, high: 500 },
      persistence: 3,
      description: 'Event loop late by more than 500 ms in three seconds running',
    },
    STATE_DIR_FULL: {
      id: 0x0102,
      parameter: 'stateDirUsedPercent',
      check: { kind: 'limit', low: -1, high: 95 },
      persistence: 5,
      description: "The state directory's filesystem more than 95 % full",
    },
  },
  params: {
    lagLimitMs: {
      id: 0x0101,
      type: f32({ min: 1, max: 60_000, units: 'ms' }),
      default: 200,
      description: 'Event-loop delay above which LAG_HIGH is raised',
    },
    reportOverruns: {
      id: 0x0102,
      type: bool(),
      default: true,
      description: 'Raise an OVERRUN event for every rate-group overrun',
    },
  },
  setup(ctx) {
    let noopCount = 0;
    let lagWarnings = 0;
    const monitor = ctx.hal.process;
    const watchdog = ctx.hal.watchdog;
    let watchdogKicks = 0;
    let watchdogFailures = 0;
    let kickInFlight = false;
    // Fault protection's software watchdog decides whether the hardware one is fed (true until it says otherwise).
    let feedAllowed = true;
    const fromFdir = ctx.bus.telemetry$.subscribe((sample) => {
      if (sample.name === 'fdir.swWatchdogOk') feedAllowed = sample.value as boolean;
    });

    ctx.events.BOOT({ bootCount: ctx.system.bootCount, clock: ctx.clock.kind });

    // Overruns are reported as they happen: they are rare, and each one says a deadline was missed.
    const overruns = ctx.system.overruns$.subscribe((overrun) => {
      if (ctx.params.get('reportOverruns')) {
        ctx.events.OVERRUN({
          group: overrun.group,
          durationMs: overrun.durationMs,
          periodMs: overrun.periodMs,
        });
      }
    });
    ctx.every('1Hz', () => {
      const groups = ctx.system.rateGroups();
      ctx.tlm.uptimeS(Math.floor((ctx.clock.now() - ctx.system.startedMs) / 1000));
      ctx.tlm.bootCount(ctx.system.bootCount);
      ctx.tlm.overruns(groups.reduce((sum, g) => sum + g.overruns, 0));
      ctx.tlm.skippedTicks(groups.reduce((sum, g) => sum + g.skipped, 0));
      ctx.tlm.noopCount(noopCount);
      ctx.tlm.lagWarnings(lagWarnings);
      // The 1 Hz group running at all shows the scheduler alive; a hung loop stops the kicks and the watchdog
      // restarts the flight software. A kick still in flight is not stacked on (a stuck tool must not pile up).
      if (watchdog && !kickInFlight && feedAllowed) {
        kickInFlight = true;
        void watchdog.kick().then((result) => {
          kickInFlight = false;
          if (result.ok) watchdogKicks += 1;
          else {
            watchdogFailures += 1;
            ctx.events.WATCHDOG_FAILED({
              source: watchdog.info.source.slice(0, 48),
              error: result.error.slice(0, 96),
            });
          }
        });
      }
      const stats = ctx.system.componentStats();
      ctx.tlm.componentTaskRuns(stats.reduce((sum, c) => sum + c.runs, 0) >>> 0);
      ctx.tlm.componentTaskFailures(stats.reduce((sum, c) => sum + c.failures, 0) >>> 0);
      const busiest = stats.reduce<(typeof stats)[number] | undefined>(
        (top, c) => (top === undefined || c.totalMs > top.totalMs ? c : top),
        undefined,
      );
      ctx.tlm.busiestComponent((busiest?.component ?? '').slice(0, 16));
      ctx.tlm.busiestComponentMs(busiest?.totalMs ?? 0);
      ctx.tlm.watchdogKicks(watchdogKicks);
      ctx.tlm.watchdogFailures(watchdogFailures);
      if (monitor) {
        const reading = monitor.read();
        ctx.tlm.rssMiB(reading.rssBytes / MIB);
        ctx.tlm.heapUsedMiB(reading.heapUsedBytes / MIB);
        ctx.tlm.eventLoopLagMs(reading.eventLoopLagMs);
        ctx.tlm.cpuPercent(reading.elapsedMs > 0 ? (100 * reading.cpuMs) / reading.elapsedMs : 0);
        if (reading.stateDirFreeBytes !== undefined && reading.stateDirTotalBytes) {
          ctx.tlm.stateDirFreeMiB(reading.stateDirFreeBytes / MIB);
          ctx.tlm.stateDirUsedPercent(100 * (1 - reading.stateDirFreeBytes / reading.stateDirTotalBytes));
        } else {
          ctx.tlm.stateDirFreeMiB(-1);
          ctx.tlm.stateDirUsedPercent(-1);
        }
        const limitMs = ctx.params.get('lagLimitMs');
        if (reading.eventLoopLagMs > limitMs) {
          lagWarnings += 1;
          ctx.events.LAG_HIGH({ lagMs: reading.eventLoopLagMs, limitMs });
        }
      }
    });

    return {
      commands: {
        NOOP: () => {
          noopCount += 1;
          ctx.events.NOOP({ count: noopCount });
          return undefined;
        },
        RESTART_FSW: () => {
          if (!ctx.system.requestRestart('commanded by RESTART_FSW')) {
            return { ok: false, reason: 'no supervisor restarts the flight software in this deployment' };
          }
          return undefined;
        },
        REPORT_COMPONENTS: () => {
          for (const c of ctx.system.componentStats()) {
            ctx.events.COMPONENT_STATS({
              component: c.component.slice(0, 16),
              runs: c.runs >>> 0,
              failures: c.failures >>> 0,
              totalMs: c.totalMs,
            });
          }
          return undefined;
        },
        RESET_COUNTERS: () => {
          noopCount = 0;
          lagWarnings = 0;
          ctx.events.COUNTERS_RESET();
          return undefined;
        },
      },
      stop: () => {
        overruns.unsubscribe();
        fromFdir.unsubscribe();
      },
    };
  },
});
