/**
 * The HIL rig's simulated devices on a real serial port: the EPS (unit 1) and the accelerator controller (unit 2)
 * of `node-devices.ts`, answering Modbus RTU on `path` (the rig's end of a pseudo-terminal pair, or a USB-serial
 * adapter wired to the board under test), while the plant is stepped on the mission clock's scheduler with the
 * inputs the devices were last written, as `../sim-devices.ts` steps it for the sim board. No wall clock: time
 * comes from `clock` only; the port answers as requests arrive.
 */
import { createRequire } from 'node:module';
import { interval, type Subscription } from 'rxjs';
import type { SerialPort } from 'serialport';
import type { MissionClock } from '../../src/core/clock.js';
import { closePort } from '../../src/transport/serial.js';
import type { Plant } from '../plant/plant.js';
import type { PtyEnd } from '../pty.js';
import { openPtyPipe } from '../pty-pipe.js';
import { ModbusSlave, type ModbusSlaveStats } from './modbus-slave.js';
import {
  type PlantModbusDevices,
  type PlantModbusDevicesOptions,
  plantModbusDevices,
} from './node-devices.js';

export interface SerialDevicesOptions {
  readonly plant: Plant;
  readonly clock: MissionClock;
  /** The serial device, e.g. /dev/ttyUSB0 or a pseudo-terminal's link. */
  readonly path: string;
  /** Default 115200 (8N1). */
  readonly baud?: number;
  /**
   * The rig's end of a pseudo-terminal pair that its maker set raw (hil/pty.ts), `path` naming it: read and write
   * it as a terminal, not through serialport (no baud rate to set; no thread-pool hop per read).
   */
  readonly pty?: PtyEnd;
  /** Mission time between plant steps, ms. Default 100. */
  readonly stepMs?: number;
  /** Unit addresses (default 1 and 2). */
  readonly units?: PlantModbusDevicesOptions;
  /** Fault injection on the slave (also settable later on `slave`). */
  readonly respond?: boolean;
  readonly corruptEvery?: number;
}

export interface SerialDevices {
  readonly devices: PlantModbusDevices;
  readonly slave: ModbusSlave;
  /** Live counters: requests, responses, CRC errors, exceptions (and more, see ModbusSlaveStats). */
  readonly stats: ModbusSlaveStats;
  /** Errors the port reported while open. */
  readonly portErrors: readonly string[];
  /** Line faults: octets hit by bit errors (both ways) and octets lost to a disconnection, so far. */
  readonly line: { readonly corruptedOctets: number; readonly droppedOctets: number };
  /**
   * Line noise: each octet crossing the line either way has one bit flipped with probability `bitErrorRate`
   * (0: a clean line), drawn from `random` (a seeded PRNG, so that a run repeats).
   */
  setLineNoise(bitErrorRate: number, random?: () => number): void;
  /** A pulled cable: nothing crosses the line either way until connected again. */
  setConnected(connected: boolean): void;
  /** Stops stepping the plant and closes the port. */
  close(): Promise<void>;
}

let serialPortClass: typeof SerialPort | undefined;
function serialPort(): typeof SerialPort {
  serialPortClass ??= (createRequire(import.meta.url)('serialport') as { SerialPort: typeof SerialPort })
    .SerialPort;
  return serialPortClass;
}

/** The rig's end of the device line, whichever way it is opened. */
interface DeviceLine {
  write(octets: Uint8Array): void;
  onData(listener: (chunk: Uint8Array) => void): void;
  close(): Promise<void>;
}

/** A serial port (a USB-serial adapter, or any tty) through serialport, at `baud` 8N1. */
async function serialLine(path: string, baud: number, errors: string[]): Promise<DeviceLine> {
  const SerialPortClass = serialPort();
  const port = new SerialPortClass({
    path,
    baudRate: baud,
    dataBits: 8,
    parity: 'none',
    stopBits: 1,
    rtscts: false,
    autoOpen: false,
  });
  port.on('error', (error: Error) => errors.push(error.message));
  await new Promise<void>((resolve, reject) => {
    port.open((error: Error | null) => (error ? reject(error) : resolve()));
  });
  return {
    write(octets) {
      port.write(Buffer.from(octets), (error) => {
        if (error) errors.push(error.message);
      });
    },
    onData(listener) {
      port.on('data', (chunk: Buffer) => listener(chunk));
    },
    close() {
      port.removeAllListeners('data');
      return closePort(port);
    },
  };
}

/** The rig's end of a pseudo-terminal pair, as a terminal (hil/pty-pipe.ts): no serial settings to make. */
function ptyLine(end: PtyEnd, errors: string[]): DeviceLine {
  const path = end.path;
  const pipe = openPtyPipe(end);
  let subscription: Subscription | undefined;
  return {
    write(octets) {
      if (!pipe.write(octets)) errors.push(`${path}: write refused`);
    },
    onData(listener) {
      subscription = pipe.data$.subscribe(listener);
    },
    async close() {
      subscription?.unsubscribe();
      await pipe.close();
      if (pipe.stats.lastError) errors.push(pipe.stats.lastError);
    },
  };
}

/** Opens `path`, serves both units on it, and steps the plant; resolves once the port is open. */
export async function startSerialDevices(options: SerialDevicesOptions): Promise<SerialDevices> {
  const { plant, clock } = options;
  const stepMs = options.stepMs ?? 100;
  if (!(stepMs > 0)) throw new RangeError(`startSerialDevices: stepMs must be > 0, not ${stepMs}`);
  const devices = plantModbusDevices(plant, options.units);
  const portErrors: string[] = [];

  const port: DeviceLine = options.pty
    ? ptyLine(options.pty, portErrors)
    : await serialLine(options.path, options.baud ?? 115200, portErrors);
  const line = { corruptedOctets: 0, droppedOctets: 0 };
  let bitErrorRate = 0;
  let random: () => number = Math.random;
  let connected = true;
  /** The octets as the line delivers them: a copy with bit errors, or undefined when the cable is out. */
  const across = (octets: Uint8Array): Uint8Array | undefined => {
    if (!connected) {
      line.droppedOctets += octets.length;
      return undefined;
    }
    if (bitErrorRate <= 0) return octets;
    const out = Uint8Array.from(octets);
    for (let i = 0; i < out.length; i++) {
      if (random() < bitErrorRate) {
        out[i] = (out[i] as number) ^ (1 << Math.floor(random() * 8));
        line.corruptedOctets += 1;
      }
    }
    return out;
  };
  const slave = new ModbusSlave({
    units: devices.units,
    send: (frame) => {
      const sent = across(frame);
      if (!sent) return;
      port.write(sent);
    },
    ...(options.respond !== undefined ? { respond: options.respond } : {}),
    ...(options.corruptEvery !== undefined ? { corruptEvery: options.corruptEvery } : {}),
  });
  port.onData((chunk) => {
    const received = across(chunk);
    if (received) slave.receive(received);
  });

  let lastStepMs = clock.now();
  const stepping: Subscription = interval(stepMs, clock.scheduler).subscribe(() => {
    const now = clock.now();
    if (now > lastStepMs) plant.step((now - lastStepMs) / 1000, devices.inputs());
    lastStepMs = now;
  });

  let closed: Promise<void> | undefined;
  return {
    devices,
    slave,
    stats: slave.stats,
    portErrors,
    line,
    setLineNoise(rate, source) {
      if (!(rate >= 0 && rate <= 1)) throw new RangeError(`bit error rate must be in 0..1, not ${rate}`);
      bitErrorRate = rate;
      if (source) random = source;
    },
    setConnected(value) {
      connected = value;
    },
    close() {
      closed ??= (async () => {
        stepping.unsubscribe();
        await port.close();
      })();
      return closed;
    },
  };
}
