/** Components used by the core tests: small, but declared the way real ones are. */
import { defineComponent } from '../../src/core/component.js';
import { bool, enumOf, f32, i16, str, u8, u16, u64 } from '../../src/core/types.js';

export const thermalLike = defineComponent({
  name: 'thermal',
  commands: {
    SET_LIMIT: { opcode: 0x0301, args: { celsius: f32({ min: 40, max: 95, units: 'degC' }) } },
    SET_MODE: { opcode: 0x0302, args: { mode: enumOf(['AUTO', 'MANUAL', 'OFF']), level: u8({ max: 10 }) } },
    POWER_CYCLE: { opcode: 0x0303, hazardous: true },
    FAIL: { opcode: 0x0304, args: { how: enumOf(['throw', 'refuse', 'async']) } },
    LABEL: { opcode: 0x0305, args: { text: str({ maxLength: 8 }), serial: u64() } },
  },
  telemetry: {
    junctionC: { id: 0x0301, type: f32({ units: 'degC' }) },
    capW: { id: 0x0302, type: f32({ units: 'W' }) },
    mode: { id: 0x0303, type: enumOf(['AUTO', 'MANUAL', 'OFF']) },
  },
  events: {
    TRIPPED: { id: 0x0301, severity: 'high', args: { celsius: f32() }, message: 'tripped at {celsius} degC' },
    LIMIT_SET: { id: 0x0302, severity: 'info', args: { celsius: f32() }, message: 'limit now {celsius}' },
  },
  params: {
    targetC: { id: 0x0301, type: f32({ min: 40, max: 95 }), default: 85 },
    offsetC: { id: 0x0302, type: i16({ min: -20, max: 20 }), default: 0 },
    enabled: { id: 0x0303, type: bool(), default: true },
  },
  setup(ctx) {
    let mode: 'AUTO' | 'MANUAL' | 'OFF' = 'AUTO';
    ctx.every('1Hz', () => {
      ctx.tlm.junctionC(60 + ctx.params.get('offsetC'));
      ctx.tlm.mode(mode);
    });
    return {
      commands: {
        SET_LIMIT: ({ celsius }) => {
          ctx.events.LIMIT_SET({ celsius });
          return undefined;
        },
        SET_MODE: (args) => {
          mode = args.mode;
          return undefined;
        },
        POWER_CYCLE: () => undefined,
        FAIL: async ({ how }) => {
          if (how === 'throw') throw new Error('actuator did not answer');
          if (how === 'refuse') return { ok: false, reason: 'not now' };
          await Promise.resolve();
          return { ok: false, code: 10, reason: 'queue full' };
        },
        LABEL: () => undefined,
      },
    };
  },
});

export const powerLike = defineComponent({
  name: 'power',
  commands: { SHED: { opcode: 0x0401, args: { load: u16() } } },
  telemetry: { busV: { id: 0x0401, type: f32({ units: 'V' }) } },
  setup: () => ({ commands: { SHED: () => undefined } }),
});
