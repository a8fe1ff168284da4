/**
 * Fault protection: nobody watches most of the orbit, so the node watches itself.
 * - Limit monitoring (PUS service 12 semantics) of every monitor the components declare in the dictionary: each
 *   confirmed transition is an event (`fdir.LIMIT_VIOLATED`, `fdir.LIMIT_CLEARED`).
 * - Event-actions (service 19 semantics): an event triggers a command or a stored sequence.
 * - Safe mode, entered by event-action, by command, or after repeated reboots; left only by command
 *   (`modes.SET_MODE mode=NOMINAL`); its reason kept durably and reported.
 * - A software watchdog on the rate groups and the event loop: a stall is reported as soon as the loop runs again;
 *   a stall past the trip threshold stops the hardware-watchdog feed (the health component feeds it only while
 *   `fdir.swWatchdogOk`), so the board resets. The reason of every reset is kept durably and reported at the
 *   next boot.
 * The ground controls all of it with service 8 functions in the dictionary (PROTOCOL.md defines no wire format
 * for services 12 and 19).
 */
import { defineComponent } from '../../core/component.js';
import { bool, f32, f64, str, u8, u16, u32 } from '../../core/types.js';
import { type EventActionDefinition, EventActionEngine, type StoredSequence } from './actions.js';
import { type MonitorDefinition, MonitoringEngine, type MonitorState } from './monitoring.js';

export interface FdirConfig {
  readonly eventActions: readonly EventActionDefinition[];
  readonly sequences: readonly StoredSequence[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const VIOLATING: ReadonlySet<MonitorState> = new Set([
  'below-low',
  'above-high',
  'unexpected',
  'stuck',
  'jump',
]);

function valueText(value: unknown): string {
  return typeof value === 'number' ? String(Number(value.toPrecision(6))) : String(value);
}

export function createFdir(config: FdirConfig) {
  return defineComponent({
    name: 'fdir',
    description:
      'Fault protection: limit monitoring, event-actions, safe mode, software watchdog, reset reasons',
    commands: {
      ENABLE_MONITOR: { opcode: 0x0c01, args: { id: u16() }, description: 'Enables a monitor (service 12)' },
      DISABLE_MONITOR: { opcode: 0x0c02, args: { id: u16() }, description: 'Disables a monitor' },
      SET_LIMITS: {
        opcode: 0x0c03,
        args: { id: u16(), low: f64(), high: f64() },
        description: "Changes a limit monitor's low and high limits",
      },
      SET_PERSISTENCE: {
        opcode: 0x0c04,
        args: { id: u16(), samples: u16({ min: 1, max: 10000 }) },
        description: 'Changes how many samples in a row confirm a transition',
      },
      ENABLE_ACTION: {
        opcode: 0x0c05,
        args: { id: u16() },
        description: 'Enables an event-action (service 19)',
      },
      DISABLE_ACTION: { opcode: 0x0c06, args: { id: u16() }, description: 'Disables an event-action' },
      RUN_SEQUENCE: {
        opcode: 0x0c07,
        args: { name: str({ maxLength: 32 }) },
        description: 'Starts a stored command sequence',
      },
      ABORT_SEQUENCE: {
        opcode: 0x0c08,
        args: { name: str({ maxLength: 32 }) },
        description: "Stops a running sequence's remaining steps",
      },
      ENTER_SAFE: {
        opcode: 0x0c09,
        args: { reason: str({ maxLength: 80 }) },
        description: 'Enters safe mode (left only by modes.SET_MODE)',
      },
      CLEAR_BOOT_HISTORY: {
        opcode: 0x0c0a,
        description:
          'Forgets past boots, so that a deliberate series of restarts is not taken for a reboot loop',
      },
    },
    telemetry: {
      monitorsEnabled: { id: 0x0c01, type: u16(), description: 'Monitors enabled' },
      monitorsViolated: { id: 0x0c02, type: u16(), description: 'Monitors in a violating state now' },
      checks: { id: 0x0c03, type: u32(), description: 'Samples checked since start' },
      transitions: { id: 0x0c04, type: u32(), description: 'Monitor transitions since start' },
      actionsFired: { id: 0x0c05, type: u32(), description: 'Event-actions fired since start' },
      actionsFailed: { id: 0x0c06, type: u32(), description: 'Action commands that failed since start' },
      sequencesRunning: { id: 0x0c07, type: u8(), description: 'Stored sequences running now' },
      swWatchdogOk: {
        id: 0x0c08,
        type: bool(),
        description: 'The software watchdog is healthy: only then is the hardware watchdog fed',
      },
      stalls: {
        id: 0x0c09,
        type: u32(),
        description: 'Event-loop stalls longer than stallReportMs since start',
      },
      longestStallMs: { id: 0x0c0a, type: f32({ units: 'ms' }), description: 'Longest stall since start' },
      lastResetReason: {
        id: 0x0c0b,
        type: str({ maxLength: 96 }),
        description: 'Why the previous run ended',
      },
      bootsInWindow: {
        id: 0x0c0c,
        type: u8(),
        description: 'Unexpected resets within rebootWindowS, this boot included when it follows one',
      },
      safeReason: { id: 0x0c0d, type: str({ maxLength: 96 }), description: 'Why safe mode was last entered' },
    },
    events: {
      LIMIT_VIOLATED: {
        id: 0x0c01,
        severity: 'medium',
        args: {
          monitor: str({ maxLength: 48 }),
          parameter: str({ maxLength: 48 }),
          state: str({ maxLength: 12 }),
          value: str({ maxLength: 24 }),
        },
        message: 'monitor {monitor}: {parameter} {state} ({value})',
      },
      LIMIT_CLEARED: {
        id: 0x0c02,
        severity: 'info',
        args: {
          monitor: str({ maxLength: 48 }),
          parameter: str({ maxLength: 48 }),
          value: str({ maxLength: 24 }),
        },
        message: 'monitor {monitor}: {parameter} back in limits ({value})',
      },
      MONITOR_CHANGED: {
        id: 0x0c03,
        severity: 'info',
        args: { monitor: str({ maxLength: 48 }), change: str({ maxLength: 48 }) },
        message: 'monitor {monitor}: {change}',
      },
      ACTION_FIRED: {
        id: 0x0c04,
        severity: 'low',
        args: { action: str({ maxLength: 48 }), event: str({ maxLength: 48 }) },
        message: 'event-action {action} fired on {event}',
      },
      ACTION_FAILED: {
        id: 0x0c05,
        severity: 'medium',
        args: {
          action: str({ maxLength: 48 }),
          command: str({ maxLength: 48 }),
          reason: str({ maxLength: 96 }),
        },
        message: 'event-action {action}: {command} failed: {reason}',
      },
      STALL: {
        id: 0x0c06,
        severity: 'medium',
        args: { durationMs: f32({ units: 'ms' }) },
        message: 'event loop stalled for {durationMs} ms',
      },
      WATCHDOG_TRIPPED: {
        id: 0x0c07,
        severity: 'high',
        args: { reason: str({ maxLength: 96 }) },
        message: 'software watchdog tripped, hardware watchdog no longer fed: {reason}',
      },
      SAFE_MODE: {
        id: 0x0c08,
        severity: 'high',
        args: { reason: str({ maxLength: 96 }) },
        message: 'safe mode: {reason}',
      },
      REBOOT_LOOP: {
        id: 0x0c09,
        severity: 'high',
        args: { boots: u8(), windowS: u32({ units: 's' }) },
        message: '{boots} unexpected resets within {windowS} s: booting into safe mode',
      },
      RESET_REASON: {
        id: 0x0c0a,
        severity: 'info',
        args: { reason: str({ maxLength: 96 }) },
        message: 'previous run ended: {reason}',
      },
    },
    params: {
      rebootLoopBoots: {
        id: 0x0c01,
        type: u8({ min: 2, max: 100 }),
        default: 3,
        description: 'Unexpected resets (not an orderly stop) within rebootWindowS that mean a reboot loop',
      },
      rebootWindowS: { id: 0x0c02, type: u32({ min: 10, max: 604800, units: 's' }), default: 600 },
      stallReportMs: {
        id: 0x0c03,
        type: f32({ min: 100, max: 600000, units: 'ms' }),
        default: 1000,
        description: 'An event-loop stall longer than this is reported',
      },
      stallTripMs: {
        id: 0x0c04,
        type: f32({ min: 100, max: 600000, units: 'ms' }),
        default: 5000,
        description:
          'A stall longer than this trips the software watchdog: the hardware watchdog is no longer fed',
      },
    },
    setup(ctx) {
      const dictionary = ctx.system.dictionary;
      const definitions: MonitorDefinition[] = dictionary.monitors.map((m) => ({
        id: m.id,
        name: m.name,
        parameter: m.parameter,
        check: m.check,
        persistence: m.persistence,
        enabled: m.enabled,
      }));
      // Changes the ground made to monitors are kept across restarts.
      const stored = ctx.storage.get('monitors');
      if (stored) {
        const changes = JSON.parse(decoder.decode(stored)) as Record<string, Partial<MonitorDefinition>>;
        for (let i = 0; i < definitions.length; i++) {
          const def = definitions[i] as MonitorDefinition;
          const change = changes[String(def.id)];
          if (change) definitions[i] = { ...def, ...change } as MonitorDefinition;
        }
      }
      const monitoring = new MonitoringEngine(definitions);
      const saveMonitors = () => {
        const changes: Record<string, Partial<MonitorDefinition>> = {};
        for (const s of monitoring.states()) {
          const def = monitoring.definition(s.id);
          if (def)
            changes[String(s.id)] = { check: def.check, persistence: def.persistence, enabled: s.enabled };
        }
        ctx.storage.put('monitors', encoder.encode(JSON.stringify(changes)));
      };
      let transitions = 0;
      let failed = 0;
      const actions = new EventActionEngine(config.eventActions, config.sequences, {
        scheduler: ctx.clock.scheduler,
        dispatch: async (command, source) => {
          const result = await ctx.system.dispatch({
            name: command.command,
            ...(command.args ? { args: command.args } : {}),
            source,
          });
          return result.ok ? { ok: true } : { ok: false, reason: result.reason };
        },
        onOutcome: (outcome) => {
          if (!outcome.ok) {
            failed += 1;
            ctx.events.ACTION_FAILED({
              action: outcome.action.slice(0, 48),
              command: outcome.command.slice(0, 48),
              reason: (outcome.reason ?? 'failed').slice(0, 96),
            });
          }
        },
      });

      // Monitoring: every telemetry sample on the bus goes through the engine (a map lookup when unmonitored).
      const samples = ctx.bus.telemetry$.subscribe((sample) => {
        const found = monitoring.sample(sample.name, sample.value);
        for (const t of found) {
          transitions += 1;
          const value = valueText(t.value).slice(0, 24);
          if (VIOLATING.has(t.to)) {
            ctx.events.LIMIT_VIOLATED({
              monitor: t.name.slice(0, 48),
              parameter: t.parameter.slice(0, 48),
              state: t.to,
              value,
            });
          } else if (t.to === 'ok' && VIOLATING.has(t.from)) {
            ctx.events.LIMIT_CLEARED({
              monitor: t.name.slice(0, 48),
              parameter: t.parameter.slice(0, 48),
              value,
            });
          } else if (t.to === 'invalid') {
            ctx.events.MONITOR_CHANGED({
              monitor: t.name.slice(0, 48),
              change: `${t.parameter} invalid: not checked`.slice(0, 48),
            });
          } else if (t.from === 'invalid') {
            ctx.events.MONITOR_CHANGED({
              monitor: t.name.slice(0, 48),
              change: `${t.parameter} valid again`.slice(0, 48),
            });
          }
        }
      });
      // Event-actions: every event on the bus, ours included (a limit violation is an fdir event).
      const events = ctx.bus.events$.subscribe((event) => {
        const fired = actions.onEvent({ name: event.name, args: event.args });
        for (const name of fired)
          ctx.events.ACTION_FIRED({ action: name.slice(0, 48), event: event.name.slice(0, 48) });
      });

      // Safe mode: whoever enters it, the reason is kept and reported.
      let safeReason = decoder.decode(ctx.storage.get('safeReason') ?? new Uint8Array());
      const modeChanges = ctx.system.modeChanges$.subscribe(({ to, reason }) => {
        if (to !== 'SAFE') return;
        safeReason = reason.slice(0, 96);
        ctx.storage.put('safeReason', encoder.encode(safeReason));
        ctx.events.SAFE_MODE({ reason: safeReason });
      });

      // Why the last run ended: written on the way out; nothing written means it did not end by itself.
      const recorded = ctx.storage.get('resetReason');
      const lastResetReason = recorded
        ? decoder.decode(recorded)
        : ctx.system.bootCount <= 1
          ? 'first boot'
          : 'unexpected: no reason recorded (power loss, kill -9, crash or hardware watchdog)';
      ctx.storage.delete('resetReason');
      ctx.events.RESET_REASON({ reason: lastResetReason.slice(0, 96) });

      // Reboot loop: resets that were not an orderly stop (a crash, a watchdog, a power loss), within the window,
      // this one included. Deliberate restarts (a SIGTERM, a commanded restart) do not count.
      const nowMs = ctx.clock.now();
      const windowMs = ctx.params.get('rebootWindowS') * 1000;
      const history = (
        JSON.parse(decoder.decode(ctx.storage.get('boots') ?? encoder.encode('[]'))) as number[]
      ).filter((t) => Number.isFinite(t) && nowMs - t < windowMs && t <= nowMs);
      const unexpected = lastResetReason !== 'orderly stop' && lastResetReason !== 'first boot';
      if (unexpected) history.push(nowMs);
      ctx.storage.put('boots', encoder.encode(JSON.stringify(history)));
      const bootsInWindow = history.length;
      if (unexpected && bootsInWindow >= ctx.params.get('rebootLoopBoots') && ctx.system.mode() !== 'SAFE') {
        ctx.events.REBOOT_LOOP({ boots: Math.min(255, bootsInWindow), windowS: windowMs / 1000 });
        ctx.system.setMode('SAFE', `reboot loop: ${bootsInWindow} resets within ${windowMs / 1000} s`);
      }

      // Software watchdog: the 10 Hz task's own period, measured on the monotonic clock.
      let lastTickMs: number | undefined;
      let stalls = 0;
      let longestStallMs = 0;
      let healthy = true;
      const periodMs = 100;
      ctx.every('10Hz', () => {
        const now = ctx.clock.monotonicMs();
        if (lastTickMs !== undefined) {
          const stallMs = now - lastTickMs - periodMs;
          if (stallMs > ctx.params.get('stallReportMs')) {
            stalls += 1;
            longestStallMs = Math.max(longestStallMs, stallMs);
            ctx.events.STALL({ durationMs: stallMs });
            if (healthy && stallMs > ctx.params.get('stallTripMs')) {
              healthy = false;
              const reason = `event loop stalled ${Math.round(stallMs)} ms`;
              ctx.storage.put('resetReason', encoder.encode(`software watchdog: ${reason}`));
              ctx.events.WATCHDOG_TRIPPED({ reason });
            }
            ctx.tlm.swWatchdogOk(healthy);
          }
        }
        lastTickMs = now;
      });
      ctx.every('1Hz', () => {
        const states = monitoring.states();
        ctx.tlm.monitorsEnabled(states.filter((s) => s.enabled).length);
        ctx.tlm.monitorsViolated(monitoring.violated);
        ctx.tlm.checks(monitoring.checks >>> 0);
        ctx.tlm.transitions(transitions);
        ctx.tlm.actionsFired(actions.fired);
        ctx.tlm.actionsFailed(failed);
        ctx.tlm.sequencesRunning(actions.running().length);
        ctx.tlm.swWatchdogOk(healthy);
        ctx.tlm.stalls(stalls);
        ctx.tlm.longestStallMs(longestStallMs);
        ctx.tlm.lastResetReason(lastResetReason.slice(0, 96));
        ctx.tlm.bootsInWindow(Math.min(255, bootsInWindow));
        ctx.tlm.safeReason(safeReason);
      });

      const known = (id: number) =>
        monitoring.definition(id)
          ? undefined
          : { ok: false as const, code: 6 as const, reason: `no monitor ${id}` };
      const changed = (id: number, change: string) => {
        saveMonitors();
        ctx.events.MONITOR_CHANGED({
          monitor: (monitoring.definition(id)?.name ?? String(id)).slice(0, 48),
          change,
        });
      };

      return {
        commands: {
          ENABLE_MONITOR: ({ id }) => {
            const missing = known(id);
            if (missing) return missing;
            monitoring.enable(id);
            changed(id, 'enabled');
            return undefined;
          },
          DISABLE_MONITOR: ({ id }) => {
            const missing = known(id);
            if (missing) return missing;
            monitoring.disable(id);
            changed(id, 'disabled');
            return undefined;
          },
          SET_LIMITS: ({ id, low, high }) => {
            const def = monitoring.definition(id);
            if (!def) return { ok: false, code: 6, reason: `no monitor ${id}` };
            if (def.check.kind !== 'limit')
              return { ok: false, code: 6, reason: `monitor ${id} is not a limit check` };
            if (!(low <= high)) return { ok: false, code: 6, reason: `low ${low} > high ${high}` };
            monitoring.setCheck(id, { kind: 'limit', low, high });
            changed(id, `limits ${low}..${high}`);
            return undefined;
          },
          SET_PERSISTENCE: ({ id, samples }) => {
            const missing = known(id);
            if (missing) return missing;
            monitoring.setPersistence(id, samples);
            changed(id, `persistence ${samples}`);
            return undefined;
          },
          ENABLE_ACTION: ({ id }) =>
            actions.enable(id) ? undefined : { ok: false, code: 6, reason: `no event-action ${id}` },
          DISABLE_ACTION: ({ id }) =>
            actions.disable(id) ? undefined : { ok: false, code: 6, reason: `no event-action ${id}` },
          RUN_SEQUENCE: ({ name }) =>
            actions.runSequence(name, 'fdir.RUN_SEQUENCE')
              ? undefined
              : { ok: false, code: 6, reason: `no sequence '${name}', or it is running` },
          ABORT_SEQUENCE: ({ name }) =>
            actions.abort(name)
              ? undefined
              : { ok: false, code: 6, reason: `sequence '${name}' is not running` },
          ENTER_SAFE: ({ reason }, invocation) => {
            ctx.system.setMode('SAFE', `commanded by ${invocation.source}: ${reason}`);
            return undefined;
          },
          CLEAR_BOOT_HISTORY: () => {
            ctx.storage.put('boots', encoder.encode('[]'));
            return undefined;
          },
        },
        stop: () => {
          samples.unsubscribe();
          events.unsubscribe();
          modeChanges.unsubscribe();
          actions.dispose();
          // A watchdog trip already said why this run ends.
          if (healthy) ctx.storage.put('resetReason', encoder.encode('orderly stop'));
        },
      };
    },
  });
}
