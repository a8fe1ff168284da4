/**
 * `skynode board probe --board FILE --check`: opens a board on this machine (or a tree given with --root) and reads
 * every role once, so an engineer learns before flight software runs that each role resolves to a device that
 * reads sane values. Nothing is actuated: load switches are read, not switched; the watchdog device is looked at,
 * not opened (opening /dev/watchdog arms it, and a board with `nowayout` would then reset).
 */
import { stat } from 'node:fs/promises';
import type { HalDevices } from '../core/component.js';
import type { BoardDefinition, BoardEnvironment } from './board.js';
import { under } from './io.js';
import { boardContext, type LinuxBoardSpec, openLinuxDevices } from './linux/board.js';
import { listWatchdogs } from './linux/watchdog.js';
import type { Reading } from './types.js';

export interface RoleCheck {
  /** The role: `accelerator`, `temperatures.soc`, `loadSwitches[0] heater`, `link`. */
  readonly role: string;
  readonly source: string;
  readonly ok: boolean;
  /** The reading in everyday units, or what is wrong and how to fix it. */
  readonly detail: string;
}

export interface BoardCheck {
  readonly board: string;
  readonly roles: readonly RoleCheck[];
  readonly ok: boolean;
}

const f = (value: number, digits: number): string => value.toFixed(digits);

function judge<T>(
  role: string,
  source: string,
  reading: Reading<T>,
  describe: (value: T) => string,
): RoleCheck {
  if (reading.quality === 'failed') return { role, source, ok: false, detail: `failed: ${reading.error}` };
  const text = describe(reading.value);
  if (reading.quality === 'ok') return { role, source, ok: true, detail: text };
  return { role, source, ok: false, detail: `${reading.quality}: ${text} (${reading.error})` };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function checkDevices(devices: HalDevices, spec: LinuxBoardSpec | undefined, env: BoardEnvironment) {
  const ctx = boardContext(env);
  const checks: Promise<RoleCheck>[] = [];
  const { accelerator, battery, busMonitor, solar, temperatures, powerRails, loadSwitches } = devices;
  if (accelerator) {
    checks.push(
      Promise.all([accelerator.read(), accelerator.limits()]).then(([reading, limits]) => {
        const check = judge('accelerator', accelerator.info.source, reading, (s) =>
          [
            `${f(s.celsius, 1)} degC`,
            s.watts !== undefined ? `${f(s.watts, 1)} W` : undefined,
            s.powerCapW !== undefined ? `cap ${f(s.powerCapW, 0)} W` : undefined,
            s.coreMHz !== undefined ? `${f(s.coreMHz, 0)} MHz` : undefined,
            s.throttleReasons.length > 0 ? `throttled: ${s.throttleReasons.join(', ')}` : undefined,
          ]
            .filter(Boolean)
            .join(', '),
        );
        if (!check.ok || limits.quality === 'ok') return check;
        return { ...check, ok: false, detail: `${check.detail}; limits ${limits.quality}: ${limits.error}` };
      }),
    );
  }
  if (battery) {
    checks.push(
      battery
        .read()
        .then((r) =>
          judge(
            'battery',
            battery.info.source,
            r,
            (s) => `${f(s.stateOfCharge * 100, 0)} %, ${f(s.volts, 2)} V, ${f(s.amps, 3)} A, ${s.status}`,
          ),
        ),
    );
  }
  const power = (role: string, monitor: NonNullable<HalDevices['busMonitor']>) =>
    monitor
      .read()
      .then((r) =>
        judge(
          role,
          monitor.info.source,
          r,
          (s) => `${f(s.volts, 3)} V, ${f(s.amps, 3)} A, ${f(s.watts, 2)} W`,
        ),
      );
  if (busMonitor) checks.push(power('busMonitor', busMonitor));
  for (const [name, monitor] of Object.entries(powerRails ?? {}))
    checks.push(power(`powerRails.${name}`, monitor));
  if (solar) {
    checks.push(
      solar
        .read()
        .then((r) =>
          judge(
            'solar',
            solar.info.source,
            r,
            (s) => `${s.online ? 'online' : 'offline'}, ${f(s.volts, 2)} V, ${f(s.watts, 2)} W`,
          ),
        ),
    );
  }
  for (const [name, sensor] of Object.entries(temperatures ?? {})) {
    checks.push(
      sensor
        .read()
        .then((r) => judge(`temperatures.${name}`, sensor.info.source, r, (c) => `${f(c, 1)} degC`)),
    );
  }
  (loadSwitches ?? []).forEach((load, i) => {
    checks.push(
      load
        .read()
        .then((r) =>
          judge(`loadSwitches[${i}] ${load.name}`, load.info.source, r, (on) => (on ? 'on' : 'off')),
        ),
    );
  });
  if (spec?.link) {
    const path = under(ctx, spec.link.path);
    checks.push(
      exists(path).then((found) => ({
        role: 'link',
        source: `${spec.link?.path}@${spec.link?.baud}`,
        ok: found,
        detail: found
          ? 'serial port present'
          : `${spec.link?.path} does not exist: plug in the adapter or enable the UART, or give --link`,
      })),
    );
  }
  const dog = spec?.watchdog;
  if (dog?.driver === 'dev-watchdog') {
    const devicePath = dog.path ?? '/dev/watchdog';
    checks.push(
      (async (): Promise<RoleCheck> => {
        const found = await exists(under(ctx, devicePath));
        const name =
          devicePath.replace(/^\/dev\//, '') === 'watchdog'
            ? 'watchdog0'
            : devicePath.replace(/^\/dev\//, '');
        const entry = (await listWatchdogs(ctx).catch(() => [])).find((w) => w.name === name);
        return {
          role: 'watchdog',
          source: devicePath,
          ok: found,
          detail: found
            ? `present${entry?.identity ? `: ${entry.identity}` : ''}${entry?.timeoutS !== undefined ? `, timeout ${entry.timeoutS} s` : ''} (not opened: that would arm it)`
            : `${devicePath} does not exist: enable the SoC's watchdog driver, or use { driver: 'systemd' }`,
        };
      })(),
    );
  } else if (dog?.driver === 'systemd') {
    const socket = (env.env ?? process.env).NOTIFY_SOCKET;
    checks.push(
      Promise.resolve({
        role: 'watchdog',
        source: 'systemd',
        ok: true,
        detail: socket
          ? 'running under systemd (NOTIFY_SOCKET set)'
          : 'systemd service watchdog: active when started by deploy/skynode.service (WatchdogSec=)',
      }),
    );
  }
  return Promise.all(checks);
}

/** Reads every role of a board once. */
export async function checkBoard(board: BoardDefinition, env: BoardEnvironment): Promise<BoardCheck> {
  const spec = (board as { spec?: LinuxBoardSpec }).spec;
  // A Linux board is opened without what would actuate: a load switch's `initial` state starts a gpioset driving
  // the line, and the watchdog role is checked from the spec (its driver is not needed; closing a systemd one
  // would tell systemd that the service is stopping).
  const opened = spec
    ? openLinuxDevices(
        {
          ...spec,
          loadSwitches: spec.loadSwitches?.map(({ initial: _initial, ...role }) => role),
          watchdog: undefined,
        },
        env,
      )
    : board.open(env);
  try {
    const roles = await checkDevices(opened.devices, spec, env);
    return { board: board.name, roles, ok: roles.every((role) => role.ok) };
  } finally {
    await opened.close();
  }
}

export function formatCheck(check: BoardCheck): string {
  const width = Math.max(4, ...check.roles.map((role) => role.role.length));
  const lines = check.roles.map(
    (role) => `${role.ok ? 'ok  ' : 'FAIL'}  ${role.role.padEnd(width)}  ${role.source}: ${role.detail}`,
  );
  if (lines.length === 0) lines.push('(the board maps no hardware roles)');
  lines.push(
    check.ok
      ? `board ${check.board}: every role resolves`
      : `board ${check.board}: ${check.roles.filter((role) => !role.ok).length} of ${check.roles.length} roles fail`,
  );
  return `${lines.join('\n')}\n`;
}
