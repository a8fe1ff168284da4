/**
 * The deployment's event-actions and stored sequences (`src/cli/fsw.ts` gives them to the fdir component). They
 * name events and commands from the dictionary; `skynode dict` lists the monitors whose violations they answer.
 */
import type { FdirConfig } from './fdir.js';

export const FLIGHT_RULES: FdirConfig = {
  eventActions: [
    {
      id: 1,
      name: 'JUNCTION_HIGH_SAFE',
      event: 'fdir.LIMIT_VIOLATED',
      when: { monitor: 'thermal.JUNCTION_HIGH' },
      action: {
        command: {
          command: 'fdir.ENTER_SAFE',
          args: { reason: 'junction over 90 degC (thermal.JUNCTION_HIGH)' },
        },
      },
      enabled: true,
    },
    {
      id: 2,
      name: 'CRITICAL_TRIP_SAFE',
      event: 'thermal.CRITICAL_SHUTDOWN',
      action: { command: { command: 'fdir.ENTER_SAFE', args: { reason: 'accelerator critical trip' } } },
      enabled: true,
    },
    {
      id: 3,
      name: 'STUCK_JUNCTION_SAFE_CAP',
      event: 'fdir.LIMIT_VIOLATED',
      when: { monitor: 'thermal.JUNCTION_STUCK' },
      action: { sequence: 'ACCELERATOR_RECOVERY' },
      enabled: false,
    },
  ],
  sequences: [
    {
      // Power-cycles the accelerator: off, ten minutes to cool and reset, on again (in NOMINAL only).
      name: 'ACCELERATOR_RECOVERY',
      steps: [
        { delayMs: 0, command: 'thermal.ACCELERATOR_OFF' },
        { delayMs: 600_000, command: 'thermal.ACCELERATOR_ON' },
      ],
    },
  ],
};
