/**
 * The system mode, as the ground sees and sets it. The mode itself lives in the executive (every component and
 * the command permissions read it there); this component reports it, announces every change, and takes
 * SET_MODE. Fault protection (safe mode entry by limit, event-action or reboot loop) builds on it.
 */
import { defineComponent, SYSTEM_MODES } from '../../core/component.js';
import { enumOf, str } from '../../core/types.js';

export const modes = defineComponent({
  name: 'modes',
  description: 'System mode (BOOT, SAFE, NOMINAL, SURVIVAL): reported, changed by command',
  commands: {
    SET_MODE: {
      opcode: 0x0601,
      args: { mode: enumOf(SYSTEM_MODES) },
      description: 'Sets the system mode (leaving SAFE takes this command)',
    },
  },
  telemetry: {
    mode: { id: 0x0601, type: enumOf(SYSTEM_MODES), description: 'The system mode now' },
  },
  events: {
    MODE_CHANGED: {
      id: 0x0601,
      severity: 'low',
      args: { from: enumOf(SYSTEM_MODES), to: enumOf(SYSTEM_MODES), reason: str({ maxLength: 120 }) },
      message: 'mode {from} -> {to}: {reason}',
    },
  },
  setup(ctx) {
    const changes = ctx.system.modeChanges$.subscribe(({ from, to, reason }) =>
      ctx.events.MODE_CHANGED({ from, to, reason: reason.slice(0, 120) }),
    );
    ctx.every('1Hz', () => ctx.tlm.mode(ctx.system.mode()));
    return {
      commands: {
        SET_MODE: ({ mode }, invocation) => {
          ctx.system.setMode(mode, `commanded by ${invocation.source}`);
          return undefined;
        },
      },
      stop: () => changes.unsubscribe(),
    };
  },
});
