/**
 * The power component: runs power management (`PowerManager`) on the 1 Hz rate group against the board's battery,
 * solar input and bus monitor, switches the loads in the board's shedding order, and publishes the accelerator's
 * energy allowance, which the thermal component arbitrates with its own. Power SURVIVAL takes the system into
 * SURVIVAL (unless it is in SAFE) and back to NOMINAL when the battery recovers.
 */
import '../hal/index.js';
import { merge, skip } from 'rxjs';
import { defineComponent } from '../core/component.js';
import { exclusive } from '../core/rate-group.js';
import { bool, enumOf, f32, str, u8, u32 } from '../core/types.js';
import type { BatterySample, PowerSample, Reading, SolarSample } from '../hal/types.js';
import { PowerManager, type PowerManagerConfig, type PowerStatus } from './manager.js';
import { POWER_MODES } from './modes.js';

const BUDGET_REASONS = [
  'eclipse-floor',
  'sunset-charge',
  'max',
  'survival',
  'no-battery-reading',
  'no-battery',
] as const;
const SOC_SOURCES = ['gauge', 'coulomb', 'ocv', 'initial'] as const;
const SENSORS = ['battery', 'solar', 'busMonitor'] as const;

export const power = defineComponent({
  name: 'power',
  description:
    'Power management: state of charge, eclipse forecast, power modes, load shedding, the accelerator energy allowance',
  commands: {
    SET_MODE_OVERRIDE: {
      opcode: 0x0a01,
      args: { mode: enumOf(POWER_MODES) },
      description:
        'Holds a power mode whatever the state of charge (SURVIVAL still wins below its threshold)',
    },
    CLEAR_MODE_OVERRIDE: { opcode: 0x0a02, description: 'Returns the power mode to the state of charge' },
    SET_LOAD: {
      opcode: 0x0a03,
      args: { load: str({ maxLength: 32, description: 'A load switch by name' }), on: bool() },
      modes: ['NOMINAL', 'SURVIVAL'],
      description: 'Switches a load and holds it there, whatever the mode, until CLEAR_LOAD',
    },
    CLEAR_LOAD: {
      opcode: 0x0a04,
      args: { load: str({ maxLength: 32 }) },
      description: 'Returns a load to the shedding logic',
    },
    RESET_SOC: {
      opcode: 0x0a05,
      args: { soc: f32({ min: 0, max: 1 }) },
      description: 'Sets the state-of-charge estimate (after a ground analysis of the battery)',
    },
  },
  telemetry: {
    soc: { id: 0x0a01, type: f32(), description: 'State of charge estimate, 0..1' },
    storedWh: { id: 0x0a02, type: f32({ units: 'Wh' }), description: 'Energy stored, estimated' },
    usableWh: { id: 0x0a03, type: f32({ units: 'Wh' }), description: 'Usable capacity after fade' },
    socSource: { id: 0x0a04, type: enumOf(SOC_SOURCES), description: 'Where the estimate came from last' },
    mode: { id: 0x0a05, type: enumOf(POWER_MODES), description: 'Power mode' },
    modeOverridden: { id: 0x0a06, type: bool(), description: 'The ground holds the power mode' },
    energyAllowanceW: {
      id: 0x0a07,
      type: f32({ units: 'W' }),
      description: 'What the battery and the array let the accelerator draw now',
    },
    budgetReason: {
      id: 0x0a08,
      type: enumOf(BUDGET_REASONS),
      description: 'What limits the energy allowance',
    },
    eclipsePlanW: {
      id: 0x0a09,
      type: f32({ units: 'W' }),
      description: 'Accelerator power planned for the eclipse',
    },
    expectedSoc: {
      id: 0x0a0a,
      type: f32(),
      description: 'State of charge the plan expects at the next sunset (sunlit) or sunrise (eclipse)',
    },
    inEclipse: { id: 0x0a0b, type: bool(), description: 'The forecast says eclipse now' },
    nextLightChangeS: {
      id: 0x0a0c,
      type: f32({ units: 's' }),
      description: 'Seconds to the next sunset (sunlit) or sunrise (eclipse); -1 when none is forecast',
    },
    forecastSource: {
      id: 0x0a0d,
      type: enumOf(['orbit', 'observed'] as const),
      description: 'Eclipse forecast from the orbit model or from observed sunsets',
    },
    solarW: { id: 0x0a0e, type: f32({ units: 'W' }), description: 'Solar array input' },
    batteryV: { id: 0x0a0f, type: f32({ units: 'V' }), description: 'Battery voltage' },
    batteryA: { id: 0x0a10, type: f32({ units: 'A' }), description: 'Battery current, positive charging' },
    busW: { id: 0x0a11, type: f32({ units: 'W' }), description: 'Total load on the bus' },
    otherLoadsW: { id: 0x0a12, type: f32({ units: 'W' }), description: 'Bus load less the accelerator' },
    loadsOn: {
      id: 0x0a13,
      type: u32(),
      description: 'Load switches on, one bit per load in shedding order (bit 0: the first shed)',
    },
    sensorFailures: { id: 0x0a14, type: u32(), description: 'Power sensor reads that failed since start' },
    switchFailures: { id: 0x0a15, type: u32(), description: 'Load switch commands that failed since start' },
  },
  events: {
    MODE_CHANGED: {
      id: 0x0a01,
      severity: 'medium',
      args: {
        from: enumOf(POWER_MODES),
        to: enumOf(POWER_MODES),
        soc: f32(),
        reason: str({ maxLength: 120 }),
      },
      message: 'power mode {from} -> {to} at state of charge {soc}: {reason}',
    },
    LOAD_SWITCHED: {
      id: 0x0a02,
      severity: 'info',
      args: {
        load: str({ maxLength: 32 }),
        on: bool(),
        reason: enumOf(['shed', 'restore', 'ground'] as const),
      },
      message: 'load {load} on={on} ({reason})',
    },
    LOAD_SWITCH_FAILED: {
      id: 0x0a03,
      severity: 'medium',
      args: { load: str({ maxLength: 32 }), error: str({ maxLength: 96 }) },
      message: 'load {load} could not be switched: {error}',
    },
    SENSOR_FAILED: {
      id: 0x0a04,
      severity: 'low',
      args: { sensor: enumOf(SENSORS), error: str({ maxLength: 96 }) },
      message: 'power sensor {sensor} failed: {error}',
    },
  },
  monitors: {
    SOC_LOW: {
      id: 0x0a01,
      parameter: 'soc',
      check: { kind: 'limit', low: 0.3, high: 1.05 },
      persistence: 5,
      description: 'State of charge under the depth-of-discharge floor for 5 s',
    },
    BATTERY_VOLTAGE: {
      id: 0x0a02,
      parameter: 'batteryV',
      check: { kind: 'limit', low: 20, high: 34 },
      persistence: 5,
      description: 'Battery voltage outside 20..34 V (8 NMC cells) for 5 s',
    },
  },
  params: {
    altitudeKm: { id: 0x0a01, type: f32({ min: 160, max: 40000, units: 'km' }), default: 550 },
    betaDeg: { id: 0x0a02, type: f32({ min: -90, max: 90, units: 'deg' }), default: 0 },
    batteryAh: { id: 0x0a03, type: f32({ min: 0.1, max: 10000, units: 'Ah' }), default: 300 / (8 * 3.7) },
    seriesCells: { id: 0x0a04, type: u8({ min: 1, max: 200 }), default: 8 },
    capacityFade: { id: 0x0a05, type: f32({ min: 0, max: 0.9 }), default: 0 },
    socSource: { id: 0x0a06, type: enumOf(['gauge', 'coulomb'] as const), default: 'gauge' },
    floorSoc: { id: 0x0a07, type: f32({ min: 0, max: 0.9 }), default: 0.3 },
    marginSoc: { id: 0x0a08, type: f32({ min: 0, max: 0.5 }), default: 0.05 },
    chargeEfficiency: { id: 0x0a09, type: f32({ min: 0.5, max: 1 }), default: 0.95 },
    dischargeEfficiency: { id: 0x0a0a, type: f32({ min: 0.5, max: 1 }), default: 0.97 },
    maxChargeW: { id: 0x0a0b, type: f32({ min: 1, max: 100000, units: 'W' }), default: 300 },
    powerSaveEnter: { id: 0x0a0c, type: f32({ min: 0, max: 1 }), default: 0.4 },
    powerSaveExit: { id: 0x0a0d, type: f32({ min: 0, max: 1 }), default: 0.5 },
    survivalEnter: { id: 0x0a0e, type: f32({ min: 0, max: 1 }), default: 0.32 },
    survivalExit: { id: 0x0a0f, type: f32({ min: 0, max: 1 }), default: 0.42 },
  },
  setup(ctx) {
    const hal = ctx.hal;
    const loadNames = (hal.loadSwitches ?? []).map((load) => load.name);
    // The accelerator's own supply is the thermal system's (its critical trip): power management sheds the rest.
    const shedLoads = loadNames.filter((name) => name !== 'accelerator');
    let acceleratorMaxW = 400;
    let acceleratorW = 0;
    let thermalHintW = acceleratorMaxW;
    let sensorFailures = 0;
    let switchFailures = 0;
    const epochMs = ctx.clock.now();

    const build = (): PowerManager => {
      const config: PowerManagerConfig = {
        altitudeKm: ctx.params.get('altitudeKm'),
        betaDeg: ctx.params.get('betaDeg'),
        batteryAh: ctx.params.get('batteryAh'),
        seriesCells: ctx.params.get('seriesCells'),
        capacityFade: ctx.params.get('capacityFade'),
        socSource: ctx.params.get('socSource'),
        floorSoc: ctx.params.get('floorSoc'),
        marginSoc: ctx.params.get('marginSoc'),
        chargeEfficiency: ctx.params.get('chargeEfficiency'),
        dischargeEfficiency: ctx.params.get('dischargeEfficiency'),
        maxChargeW: ctx.params.get('maxChargeW'),
        acceleratorMaxW,
        loads: shedLoads,
        modeThresholds: {
          powerSaveEnter: ctx.params.get('powerSaveEnter'),
          powerSaveExit: ctx.params.get('powerSaveExit'),
          survivalEnter: ctx.params.get('survivalEnter'),
          survivalExit: ctx.params.get('survivalExit'),
        },
      };
      return new PowerManager(config);
    };
    let manager = build();
    // A changed orbit, battery or threshold rebuilds the manager; the state of charge carries over.
    const watched = [
      'altitudeKm',
      'betaDeg',
      'batteryAh',
      'seriesCells',
      'capacityFade',
      'socSource',
      'floorSoc',
      'marginSoc',
      'chargeEfficiency',
      'dischargeEfficiency',
      'maxChargeW',
      'powerSaveEnter',
      'powerSaveExit',
      'survivalEnter',
      'survivalExit',
    ] as const;
    const rebuild = merge(...watched.map((name) => ctx.params.watch(name).pipe(skip(1)))).subscribe(() => {
      const soc = manager.status?.soc.soc;
      manager = build();
      if (soc !== undefined) manager.soc.reset(soc);
    });
    void hal.accelerator?.limits().then((limits) => {
      if (limits.quality !== 'failed' && limits.value.maxPowerCapW !== undefined) {
        acceleratorMaxW = limits.value.maxPowerCapW;
        thermalHintW = acceleratorMaxW;
        const soc = manager.status?.soc.soc;
        manager = build();
        if (soc !== undefined) manager.soc.reset(soc);
      }
    });
    // The thermal component's measurements: the accelerator's draw and what heat allows it, averaged over ~10 min.
    const fromThermal = ctx.bus.telemetry$.subscribe((sample) => {
      if (sample.name === 'thermal.acceleratorW') acceleratorW = sample.value as number;
      else if (sample.name === 'thermal.thermalAllowanceW') {
        thermalHintW += ((sample.value as number) - thermalHintW) * (0.1 / 600);
      }
    });

    const failed = <T>(reading: Reading<T>, sensor: (typeof SENSORS)[number]): Reading<T> => {
      if (reading.quality === 'failed') {
        sensorFailures += 1;
        ctx.events.SENSOR_FAILED({ sensor, error: reading.error.slice(0, 96) });
      }
      return reading;
    };
    const missing = <T>(what: string): Reading<T> => ({
      quality: 'failed',
      time: ctx.clock.now(),
      error: `the board has no ${what}`,
    });

    const publish = (status: PowerStatus, solarW: number, battery: Reading<BatterySample>, busW: number) => {
      ctx.tlm.soc(status.soc.soc);
      ctx.tlm.storedWh(status.soc.energyWh);
      ctx.tlm.usableWh(status.soc.usableWh);
      ctx.tlm.socSource(status.soc.source);
      ctx.tlm.mode(status.mode);
      ctx.tlm.modeOverridden(manager.modes.override !== undefined);
      ctx.tlm.energyAllowanceW(status.energyAllowanceW);
      ctx.tlm.budgetReason(status.reason);
      ctx.tlm.eclipsePlanW(status.budget.eclipsePlanW);
      ctx.tlm.expectedSoc(status.budget.expectedSoc);
      ctx.tlm.inEclipse(status.forecast.inEclipse);
      const nowS = (ctx.clock.now() - epochMs) / 1000;
      ctx.tlm.nextLightChangeS(
        Number.isFinite(status.forecast.nextChangeS) ? Math.max(0, status.forecast.nextChangeS - nowS) : -1,
      );
      ctx.tlm.forecastSource(status.forecast.source);
      ctx.tlm.solarW(solarW);
      ctx.tlm.batteryV(battery.quality === 'failed' ? 0 : battery.value.volts);
      ctx.tlm.batteryA(battery.quality === 'failed' ? 0 : battery.value.amps);
      ctx.tlm.busW(busW);
      ctx.tlm.otherLoadsW(status.otherLoadsW);
      const states = manager.shedder.states();
      ctx.tlm.loadsOn(
        shedLoads.reduce((mask, name, i) => (states.get(name) ? mask | (1 << i) : mask), 0) >>> 0,
      );
      ctx.tlm.sensorFailures(sensorFailures);
      ctx.tlm.switchFailures(switchFailures);
    };

    const step = async (): Promise<void> => {
      if (!hal.battery) {
        // No battery on this board (a GPU host on mains): energy does not limit the accelerator.
        ctx.tlm.energyAllowanceW(acceleratorMaxW);
        ctx.tlm.budgetReason('no-battery');
        return;
      }
      const [battery, solar, bus] = await Promise.all([
        hal.battery.read().then((r) => failed(r, 'battery')),
        hal.solar
          ? hal.solar.read().then((r) => failed(r, 'solar'))
          : Promise.resolve(missing<SolarSample>('solar input')),
        hal.busMonitor
          ? hal.busMonitor.read().then((r) => failed(r, 'busMonitor'))
          : Promise.resolve(missing<PowerSample>('bus monitor')),
      ]);
      const timeS = (ctx.clock.now() - epochMs) / 1000;
      const status = manager.step({ timeS, battery, solar, bus, acceleratorW, thermalHintW });
      if (status.transition) {
        const t = status.transition;
        ctx.events.MODE_CHANGED({ from: t.from, to: t.to, soc: t.soc ?? 0, reason: t.reason.slice(0, 120) });
        const system = ctx.system.mode();
        if (t.to === 'SURVIVAL' && system !== 'SAFE' && system !== 'SURVIVAL') {
          ctx.system.setMode('SURVIVAL', `power: ${t.reason}`.slice(0, 120));
        } else if (t.from === 'SURVIVAL' && system === 'SURVIVAL') {
          ctx.system.setMode('NOMINAL', `power: ${t.reason}`.slice(0, 120));
        }
      }
      for (const change of status.loadChanges) {
        const load = hal.loadSwitches?.find((l) => l.name === change.name);
        if (!load) continue;
        const result = await load.set(change.on);
        if (result.ok) {
          ctx.events.LOAD_SWITCHED({ load: change.name, on: change.on, reason: change.reason });
        } else {
          switchFailures += 1;
          // Not applied: let the shedder try again next step.
          manager.shedder.observe(change.name, !change.on);
          ctx.events.LOAD_SWITCH_FAILED({ load: change.name, error: result.error.slice(0, 96) });
        }
      }
      const solarW = solar.quality === 'failed' ? 0 : solar.value.watts;
      const busW = bus.quality === 'failed' ? 0 : bus.value.watts;
      publish(status, solarW, battery, busW);
    };

    // A read still in flight is not stacked on: a hung sensor must not pile up steps.
    ctx.every('1Hz', exclusive(step));

    const unknownLoad = (load: string) =>
      shedLoads.includes(load)
        ? undefined
        : {
            ok: false as const,
            code: 6 as const,
            reason: `no load '${load}': the board has ${shedLoads.join(', ') || 'none'}`,
          };

    return {
      commands: {
        SET_MODE_OVERRIDE: ({ mode }) => {
          const t = manager.modes.force(mode, (ctx.clock.now() - epochMs) / 1000);
          if (t)
            ctx.events.MODE_CHANGED({
              from: t.from,
              to: t.to,
              soc: t.soc ?? 0,
              reason: t.reason.slice(0, 120),
            });
          return undefined;
        },
        CLEAR_MODE_OVERRIDE: () => {
          const t = manager.modes.clearOverride((ctx.clock.now() - epochMs) / 1000);
          if (t)
            ctx.events.MODE_CHANGED({
              from: t.from,
              to: t.to,
              soc: t.soc ?? 0,
              reason: t.reason.slice(0, 120),
            });
          return undefined;
        },
        SET_LOAD: ({ load, on }) => {
          const unknown = unknownLoad(load);
          if (unknown) return unknown;
          manager.shedder.setGround(load, on);
          return undefined;
        },
        CLEAR_LOAD: ({ load }) => {
          const unknown = unknownLoad(load);
          if (unknown) return unknown;
          manager.shedder.setGround(load, undefined);
          return undefined;
        },
        RESET_SOC: ({ soc }) => {
          manager.soc.reset(soc);
          return undefined;
        },
      },
      stop: () => {
        rebuild.unsubscribe();
        fromThermal.unsubscribe();
      },
    };
  },
});
