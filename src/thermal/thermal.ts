/**
 * The thermal component: keeps the AI accelerator under its junction limit while delivering the most compute the
 * radiator and the battery allow. On the 10 Hz rate group it reads the accelerator, runs `ThermalController`
 * (sensor check, trips, the governor, arbitration with the energy allowance the power component publishes) and
 * actuates through the HAL: the power cap where the device has one, else a frequency ceiling, and the
 * accelerator's supply switch for the critical trip (the fastest path). Outside NOMINAL the accelerator is off.
 */
import '../hal/index.js';
import { defineComponent } from '../core/component.js';
import { exclusive } from '../core/rate-group.js';
import { bool, enumOf, f32, str, u8, u32 } from '../core/types.js';
import type { AcceleratorLimits, Reading } from '../hal/types.js';
import type { PowerMode } from '../power/modes.js';
import {
  type Binding,
  ThermalController as Controller,
  defaultTrips,
  type ThermalController,
} from './controller.js';
import { GOVERNOR_NAMES } from './governor.js';

const BINDINGS = [
  'thermal',
  'energy',
  'none',
  'critical-trip',
  'sensor-fallback',
  'survival',
  'ground-off',
] as const satisfies readonly Binding[];
const SENSOR_FAULTS = ['none', 'failed', 'stale', 'out-of-range', 'stuck', 'implausible-rate'] as const;
const TRIP_TYPES = ['passive', 'hot', 'critical'] as const;

export const thermal = defineComponent({
  name: 'thermal',
  description:
    'Accelerator thermal control: junction limit, governor, trips, power cap and energy arbitration',
  commands: {
    SET_LIMIT: {
      opcode: 0x0b01,
      args: { celsius: f32({ min: 40, max: 95, units: 'degC' }) },
      description: 'Sets the junction limit the governor keeps under (trip points follow it)',
    },
    SET_GOVERNOR: {
      opcode: 0x0b02,
      args: { governor: enumOf(GOVERNOR_NAMES) },
      modes: ['NOMINAL'],
      description: 'Chooses the thermal governor (skynode, or a Linux baseline for comparison)',
    },
    ACCELERATOR_OFF: {
      opcode: 0x0b03,
      description: "Switches the accelerator's supply off and keeps it off",
    },
    ACCELERATOR_ON: {
      opcode: 0x0b04,
      modes: ['NOMINAL'],
      description: 'Lets the governor run the accelerator again (NOMINAL only: safe mode keeps it off)',
    },
  },
  telemetry: {
    junctionC: { id: 0x0b01, type: f32({ units: 'degC' }), description: 'Accelerator junction temperature' },
    acceleratorW: { id: 0x0b02, type: f32({ units: 'W' }), description: 'Accelerator power draw' },
    coreMHz: { id: 0x0b03, type: f32({ units: 'MHz' }), description: 'Accelerator core clock' },
    capW: { id: 0x0b04, type: f32({ units: 'W' }), description: 'Power cap applied' },
    thermalAllowanceW: {
      id: 0x0b05,
      type: f32({ units: 'W' }),
      description: 'What the governor lets the accelerator draw',
    },
    energyAllowanceW: {
      id: 0x0b06,
      type: f32({ units: 'W' }),
      description: 'What power management lets it draw',
    },
    allowanceW: { id: 0x0b07, type: f32({ units: 'W' }), description: 'The smaller of the two, granted' },
    binding: { id: 0x0b08, type: enumOf(BINDINGS), description: 'What limits the accelerator now' },
    governor: { id: 0x0b09, type: enumOf(GOVERNOR_NAMES), description: 'The governor running' },
    governorState: { id: 0x0b0a, type: str({ maxLength: 24 }), description: "The governor's own state" },
    acceleratorOn: { id: 0x0b0b, type: bool(), description: "The accelerator's supply is on" },
    sensorOk: { id: 0x0b0c, type: bool(), description: 'The junction reading is trusted' },
    sensorFault: { id: 0x0b0d, type: enumOf(SENSOR_FAULTS), description: 'Why it is not' },
    tripsActive: {
      id: 0x0b0e,
      type: u8(),
      description: 'Trips active: bit 0 passive, bit 1 hot, bit 2 critical',
    },
    limitC: { id: 0x0b0f, type: f32({ units: 'degC' }), description: 'The junction limit in force' },
    actuationFailures: {
      id: 0x0b10,
      type: u32(),
      description: 'Cap, ceiling or switch commands that failed',
    },
  },
  events: {
    TRIP_ENTERED: {
      id: 0x0b01,
      severity: 'low',
      args: { trip: enumOf(TRIP_TYPES), tripC: f32({ units: 'degC' }), junctionC: f32({ units: 'degC' }) },
      message: '{trip} trip at {tripC} degC entered (junction {junctionC} degC)',
    },
    TRIP_LEFT: {
      id: 0x0b02,
      severity: 'info',
      args: { trip: enumOf(TRIP_TYPES), tripC: f32({ units: 'degC' }), junctionC: f32({ units: 'degC' }) },
      message: '{trip} trip at {tripC} degC left (junction {junctionC} degC)',
    },
    CRITICAL_SHUTDOWN: {
      id: 0x0b03,
      severity: 'high',
      args: { junctionC: f32({ units: 'degC' }) },
      message: 'accelerator supply cut at junction {junctionC} degC (critical trip)',
    },
    SENSOR_FALLBACK: {
      id: 0x0b04,
      severity: 'medium',
      args: { fault: enumOf(SENSOR_FAULTS), capW: f32({ units: 'W' }) },
      message: 'junction sensor {fault}: accelerator held at the safe cap {capW} W',
    },
    SENSOR_RECOVERED: {
      id: 0x0b05,
      severity: 'info',
      message: 'junction sensor trusted again',
    },
    ACTUATION_FAILED: {
      id: 0x0b06,
      severity: 'medium',
      args: {
        what: enumOf(['power-cap', 'frequency-ceiling', 'supply'] as const),
        error: str({ maxLength: 96 }),
      },
      message: 'accelerator {what} not applied: {error}',
    },
    GOVERNOR_CHANGED: {
      id: 0x0b07,
      severity: 'info',
      args: { governor: enumOf(GOVERNOR_NAMES), limitC: f32({ units: 'degC' }) },
      message: 'thermal governor {governor}, junction limit {limitC} degC',
    },
  },
  monitors: {
    JUNCTION_HIGH: {
      id: 0x0b01,
      parameter: 'junctionC',
      check: { kind: 'limit', low: -40, high: 90 },
      persistence: 10,
      description:
        'Junction above 90 degC for 1 s: the governor lost control (an event-action enters safe mode)',
    },
    JUNCTION_STUCK: {
      id: 0x0b02,
      parameter: 'junctionC',
      check: { kind: 'delta', minDelta: 1e-6 },
      // A minute, not seconds: a live sensor has a resolution (0.01 degC over Modbus), and a junction held by a
      // steady cap can read the same value for a while (the governor's own check also weighs the power).
      persistence: 600,
      description: 'Junction reading identical for 60 s at 10 Hz: a stuck sensor',
    },
  },
  params: {
    limitC: {
      id: 0x0b01,
      type: f32({ min: 40, max: 95, units: 'degC' }),
      default: 85,
      description: 'Junction limit',
    },
    governor: {
      id: 0x0b02,
      type: enumOf(GOVERNOR_NAMES),
      default: 'skynode',
      description: 'Thermal governor',
    },
    safeCapW: {
      id: 0x0b03,
      type: f32({ min: 0, max: 10000, units: 'W' }),
      default: 0,
      description: 'Cap while the sensor is not trusted; 0: the lowest cap the device accepts',
    },
    stuckSamples: {
      id: 0x0b04,
      type: u32({ min: 2, max: 100000 }),
      default: 50,
      description: 'Identical junction readings in a row that mean a stuck sensor',
    },
  },
  setup(ctx) {
    const hal = ctx.hal;
    const accelerator = hal.accelerator;
    const supply = hal.loadSwitches?.find((load) => load.name === 'accelerator');
    // The board's own junction sensor, when it has one, also reads while the accelerator is switched off.
    const junctionSensor = hal.temperatures?.junction;
    let limits: AcceleratorLimits | undefined;
    let controller: ThermalController | undefined;
    let energyAllowanceW = Number.POSITIVE_INFINITY;
    let powerMode: PowerMode = 'NOMINAL';
    let groundOff = false;
    let actuationFailures = 0;
    let appliedOn: boolean | undefined;
    let appliedCapW: number | undefined;
    let lastSensorOk = true;
    const epochMs = ctx.clock.now();

    const build = (): void => {
      if (!limits) return;
      const limitC = ctx.params.get('limitC');
      const minPowerW = limits.minPowerCapW ?? 0;
      const maxPowerW = limits.maxPowerCapW ?? limits.defaultPowerCapW ?? 100;
      const safe = ctx.params.get('safeCapW');
      controller = new Controller({
        governor: ctx.params.get('governor'),
        minPowerW,
        maxPowerW,
        limitC,
        trips: defaultTrips(limitC),
        safeFallbackW: safe > 0 ? Math.min(Math.max(safe, minPowerW), maxPowerW) : minPowerW,
        sensor: { stuckSamples: ctx.params.get('stuckSamples') },
      });
      // Whatever was applied before is re-applied by the new controller's first step.
      appliedCapW = undefined;
      ctx.events.GOVERNOR_CHANGED({ governor: ctx.params.get('governor'), limitC });
    };
    // The device's limits make the controller. A device not ready at start (a serial bus still opening, a driver
    // still loading) is asked again once a second until it answers.
    let limitsInFlight = false;
    let limitsAskedMs = Number.NEGATIVE_INFINITY;
    let limitsFailures = 0;
    const askLimits = () => {
      if (!accelerator || limitsInFlight || ctx.clock.now() - limitsAskedMs < 1000) return;
      limitsInFlight = true;
      limitsAskedMs = ctx.clock.now();
      void accelerator.limits().then((reading) => {
        limitsInFlight = false;
        if (reading.quality === 'failed') {
          // Reported once, then counted: a missing accelerator must not flood the event log.
          if (limitsFailures === 0) {
            ctx.events.ACTUATION_FAILED({
              what: 'power-cap',
              error: `limits: ${reading.error}`.slice(0, 96),
            });
          }
          limitsFailures += 1;
          return;
        }
        limits = reading.value;
        build();
      });
    };
    askLimits();
    const paramWatches = (['limitC', 'governor', 'safeCapW', 'stuckSamples'] as const).map((name) =>
      ctx.params.watch(name).subscribe(() => build()),
    );
    const fromPower = ctx.bus.telemetry$.subscribe((sample) => {
      if (sample.name === 'power.energyAllowanceW') energyAllowanceW = sample.value as number;
      else if (sample.name === 'power.mode') powerMode = sample.value as PowerMode;
    });

    const fail = (what: 'power-cap' | 'frequency-ceiling' | 'supply', error: string) => {
      actuationFailures += 1;
      ctx.events.ACTUATION_FAILED({ what, error: error.slice(0, 96) });
    };

    /** Applies a cap: the power cap where the device has one, else the ceiling that draws about that power. */
    const applyCap = async (capW: number): Promise<void> => {
      if (!accelerator || !limits) return;
      if (accelerator.setPowerCap) {
        const result = await accelerator.setPowerCap(capW);
        if (result.ok) appliedCapW = capW;
        else fail('power-cap', result.error);
        return;
      }
      if (accelerator.setFrequencyCeiling) {
        // Dynamic power grows about as the cube of the clock: the ceiling for a fraction of the maximum power.
        const frequencies = limits.frequenciesMHz ?? [];
        const top = frequencies.at(-1);
        if (top === undefined) return;
        const maxW = limits.maxPowerCapW ?? 1;
        const mhz = top * Math.cbrt(Math.min(1, Math.max(0, capW / maxW)));
        const result = await accelerator.setFrequencyCeiling(mhz);
        if (result.ok) appliedCapW = capW;
        else fail('frequency-ceiling', result.error);
      }
    };

    const step = async (): Promise<void> => {
      if (!accelerator) return;
      if (!controller) {
        askLimits();
        return;
      }
      const [reading, boardJunction] = await Promise.all([accelerator.read(), junctionSensor?.read()]);
      const junction: Reading<number> =
        reading.quality !== 'failed'
          ? { ...reading, value: reading.value.celsius }
          : (boardJunction ?? { quality: 'failed', time: reading.time, error: reading.error });
      const acceleratorW = reading.quality === 'failed' ? 0 : (reading.value.watts ?? 0);
      const system = ctx.system.mode();
      const mode: PowerMode = system === 'NOMINAL' ? powerMode : 'SURVIVAL';
      const decision = controller.step({
        timeS: (ctx.clock.now() - epochMs) / 1000,
        junction,
        acceleratorW,
        energyAllowanceW,
        mode,
        groundOff,
      });
      for (const transition of decision.trips) {
        const trip = transition.trip.type as (typeof TRIP_TYPES)[number];
        const args = { trip, tripC: transition.trip.celsius, junctionC: junction.value ?? Number.NaN };
        if (transition.event === 'entered') ctx.events.TRIP_ENTERED(args);
        else ctx.events.TRIP_LEFT(args);
        if (trip === 'critical' && transition.event === 'entered') {
          ctx.events.CRITICAL_SHUTDOWN({ junctionC: junction.value ?? Number.NaN });
        }
      }
      if (decision.sensorOk !== lastSensorOk) {
        lastSensorOk = decision.sensorOk;
        if (decision.sensorOk) ctx.events.SENSOR_RECOVERED();
        else ctx.events.SENSOR_FALLBACK({ fault: decision.sensorFault ?? 'failed', capW: decision.capW });
      }
      if (supply && decision.acceleratorOn !== appliedOn) {
        const result = await supply.set(decision.acceleratorOn);
        if (result.ok) {
          appliedOn = decision.acceleratorOn;
          // A device that was off comes back with its default cap: apply ours again.
          appliedCapW = undefined;
        } else fail('supply', result.error);
      }
      if (
        decision.acceleratorOn &&
        (appliedCapW === undefined || Math.abs(decision.capW - appliedCapW) >= 0.5)
      ) {
        await applyCap(decision.capW);
      }
      ctx.tlm.junctionC(junction.value ?? Number.NaN);
      ctx.tlm.acceleratorW(acceleratorW);
      ctx.tlm.coreMHz(reading.quality === 'failed' ? 0 : (reading.value.coreMHz ?? 0));
      ctx.tlm.capW(decision.capW);
      ctx.tlm.thermalAllowanceW(decision.thermalAllowanceW);
      ctx.tlm.energyAllowanceW(Math.min(decision.energyAllowanceW, 1e6));
      ctx.tlm.allowanceW(decision.allowanceW);
      ctx.tlm.binding(decision.binding);
      ctx.tlm.governor(controller.governor.name);
      ctx.tlm.governorState(decision.governorState.slice(0, 24));
      ctx.tlm.acceleratorOn(decision.acceleratorOn);
      ctx.tlm.sensorOk(decision.sensorOk);
      ctx.tlm.sensorFault(decision.sensorFault ?? 'none');
      const monitor = controller.tripMonitor;
      ctx.tlm.tripsActive(
        (monitor.isActive('passive') ? 1 : 0) |
          (monitor.isActive('hot') ? 2 : 0) |
          (monitor.isActive('critical') ? 4 : 0),
      );
      ctx.tlm.limitC(controller.config.limitC);
      ctx.tlm.actuationFailures(actuationFailures);
    };

    // One step at a time: a slow tool (nvidia-smi) must not pile up steps behind it.
    ctx.every('10Hz', exclusive(step));

    return {
      commands: {
        SET_LIMIT: ({ celsius }) => {
          ctx.system.parameters.set('thermal.limitC', celsius);
          return undefined;
        },
        SET_GOVERNOR: ({ governor }) => {
          ctx.system.parameters.set('thermal.governor', governor);
          return undefined;
        },
        ACCELERATOR_OFF: () => {
          groundOff = true;
          return undefined;
        },
        ACCELERATOR_ON: () => {
          groundOff = false;
          return undefined;
        },
      },
      stop: () => {
        fromPower.unsubscribe();
        for (const watch of paramWatches) watch.unsubscribe();
      },
    };
  },
});
