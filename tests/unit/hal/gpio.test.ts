import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HalContext } from '../../../src/hal/io.js';
import { type GpioLoadSwitch, gpioLoadSwitch, listGpioChips } from '../../../src/hal/linux/gpio.js';
import { tempDir } from '../../support/cli.js';
import { fakeExecutable, fakeHal, fakeTree } from '../../support/sysfs.js';

/**
 * Fake libgpiod tools, v1 or v2 command lines. They log their argv, and share a state directory that stands in
 * for the kernel: a line requested by a live gpioset is busy for everyone else (EBUSY, as the GPIO uAPI does),
 * and its last driven level stays readable afterwards. Line GPIO17 is offset 17 of gpiochip0.
 */
function fakeGpiod(version: 1 | 2): { bin: string; log: string; state: string } {
  const bin = tempDir('skynode-gpiod-');
  const state = join(bin, 'state');
  const log = join(bin, 'tools.log');
  mkdirSync(state);
  const common = `#!/usr/bin/env bash
STATE='${state}'; mkdir -p "$STATE"
echo "$(basename "$0") $*" >> '${log}'
busy() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }
`;
  const versionText = version === 1 ? 'v1.6.3' : 'v2.1';
  const parseV1 = `args=(); for a in "$@"; do case "$a" in -*) ;; *) args+=("$a");; esac; done
chip="\${args[0]}"; spec="\${args[1]}"`;
  const parseV2 = `chip=''; banner=0; rest=()
while [ $# -gt 0 ]; do case "$1" in -c|--chip) chip="$2"; shift 2;; --banner) banner=1; shift;; -*) shift;; *) rest+=("$1"); shift;; esac; done
spec="\${rest[0]}"`;
  fakeExecutable(
    bin,
    'gpioset',
    `${common}
if [ "$1" = "--version" ]; then echo "gpioset (libgpiod) ${versionText}"; echo "Copyright (C) 2017-2023 Bartosz Golaszewski"; exit 0; fi
banner=0
${version === 1 ? parseV1 : parseV2}
line="\${spec%%=*}"; value="\${spec#*=}"
if [ -z "$chip" ]; then
  if [ "$line" = GPIO17 ]; then chip=gpiochip0; line=17; else echo "gpioset: cannot find line '$line'" >&2; exit 1; fi
fi
key="$chip-$line"
if busy "$key"; then echo 'gpioset: error requesting GPIO lines: Device or resource busy' >&2; exit 1; fi
echo $$ > "$STATE/$key.pid"; echo "$value" > "$STATE/$key.value"; echo $$ >> "$STATE/pids"
trap 'rm -f "$STATE/$key.pid"; exit 0' TERM INT
[ "$banner" = 1 ] && echo "Setting line '$line'..."
while :; do sleep 0.05 </dev/null >/dev/null 2>&1 & wait $!; done
`,
  );
  fakeExecutable(
    bin,
    'gpioget',
    `${common}
${version === 1 ? parseV1 : parseV2}
line="$spec"
if busy "$chip-$line"; then echo 'gpioget: error reading GPIO values: Device or resource busy' >&2; exit 1; fi
cat "$STATE/$chip-$line.value" 2>/dev/null || echo 0
`,
  );
  if (version === 1) {
    fakeExecutable(
      bin,
      'gpioinfo',
      `${common}
echo "$1 - 32 lines:"
for line in $(seq 0 31); do
  pidfile="$STATE/$1-$line.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    printf '\\tline %3d:      unnamed   "gpioset"   output  active-high [used]\\n' "$line"
  else
    printf '\\tline %3d:      unnamed       unused   input  active-high\\n' "$line"
  fi
done
`,
    );
    fakeExecutable(
      bin,
      'gpiofind',
      `${common}
if [ "$1" = GPIO17 ]; then echo 'gpiochip0 17'; else exit 1; fi
`,
    );
  }
  return { bin, log, state };
}

const switches: GpioLoadSwitch[] = [];
const holderPids: number[] = [];

afterEach(async () => {
  await Promise.all(switches.splice(0).map((s) => s.close()));
  // No gpioset outlives its test.
  for (const pid of holderPids.splice(0)) expect(alive(pid)).toBe(false);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function context(bin: string): HalContext {
  return { ...fakeHal(tempDir()), env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } };
}

function make(ctx: HalContext, options: Parameters<typeof gpioLoadSwitch>[1]): GpioLoadSwitch {
  const s = gpioLoadSwitch(ctx, options);
  switches.push(s);
  return s;
}

function logged(log: string, tool: string): string[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith(`${tool} `) && !line.endsWith('--version'));
}

function pids(state: string): number[] {
  const found = existsSync(join(state, 'pids'))
    ? readFileSync(join(state, 'pids'), 'utf8').trim().split('\n').map(Number)
    : [];
  holderPids.push(...found.filter((pid) => !holderPids.includes(pid)));
  return found;
}

describe.each([1, 2] as const)('GPIO load switch, libgpiod v%i', (version) => {
  const setCommand = (spec: string): string =>
    version === 1 ? `gpioset --mode=signal gpiochip0 ${spec}` : `gpioset -c gpiochip0 --banner ${spec}`;

  it('holds the commanded level with gpioset and switches by replacing the holder', async () => {
    const { bin, log, state } = fakeGpiod(version);
    const heater = make(context(bin), { name: 'heater', chip: 'gpiochip0', line: 17 });
    expect(heater.info).toEqual({ source: 'gpio gpiochip0:17', driver: 'gpio' });
    expect(await heater.set(true)).toEqual({ ok: true });
    expect(logged(log, 'gpioset')).toEqual([setCommand('17=1')]);
    const [first] = pids(state);
    expect(first !== undefined && alive(first)).toBe(true);
    expect(await heater.read()).toMatchObject({ quality: 'ok', value: true });
    // While the holder has the line the kernel would refuse gpioget, so it is not asked.
    expect(logged(log, 'gpioget')).toEqual([]);

    expect(await heater.set(true)).toEqual({ ok: true });
    expect(pids(state)).toHaveLength(1);

    expect(await heater.set(false)).toEqual({ ok: true });
    expect(logged(log, 'gpioset')).toEqual([setCommand('17=1'), setCommand('17=0')]);
    const [, second] = pids(state);
    expect(alive(first!)).toBe(false);
    expect(second !== undefined && alive(second)).toBe(true);
    expect(await heater.read()).toMatchObject({ quality: 'ok', value: false });

    await heater.close();
    expect(alive(second!)).toBe(false);
    expect((await heater.set(true)).ok).toBe(false);
  });

  it('reads the line with gpioget when no holder runs', async () => {
    const { bin, log, state } = fakeGpiod(version);
    writeFileSync(join(state, 'gpiochip0-17.value'), '1\n');
    const payload = make(context(bin), { name: 'payload', chip: 'gpiochip0', line: 17 });
    expect(await payload.read()).toMatchObject({ quality: 'ok', value: true });
    expect(logged(log, 'gpioget')).toEqual([
      version === 1 ? 'gpioget gpiochip0 17' : 'gpioget -c gpiochip0 --numeric --as-is 17',
    ]);
  });

  it('inverts an active-low line both ways', async () => {
    const { bin, log, state } = fakeGpiod(version);
    const ctx = context(bin);
    const radio = make(ctx, { name: 'radio', chip: 'gpiochip0', line: 17, activeLow: true });
    expect(await radio.set(true)).toEqual({ ok: true });
    expect(logged(log, 'gpioset')).toEqual([setCommand('17=0')]);
    pids(state);
    expect(await radio.read()).toMatchObject({ quality: 'ok', value: true });
    await radio.close();
    // Released at level 0: the fresh switch reads it through gpioget as on.
    const again = make(ctx, { name: 'radio', chip: 'gpiochip0', line: 17, activeLow: true });
    expect(await again.read()).toMatchObject({ quality: 'ok', value: true });
  });

  it('drives the initial state at once', async () => {
    const { bin, log, state } = fakeGpiod(version);
    const camera = make(context(bin), { name: 'camera', chip: 'gpiochip0', line: 17, initial: false });
    expect(await camera.read()).toMatchObject({ quality: 'ok', value: false });
    expect(logged(log, 'gpioset')).toEqual([setCommand('17=0')]);
    pids(state);
  });

  it('finds a line by name', async () => {
    const { bin, log, state } = fakeGpiod(version);
    const pump = make(context(bin), { name: 'pump', line: 'GPIO17' });
    expect(await pump.set(true)).toEqual({ ok: true });
    expect(logged(log, 'gpioset')).toEqual([
      version === 1 ? 'gpioset --mode=signal gpiochip0 17=1' : 'gpioset --banner GPIO17=1',
    ]);
    if (version === 1) expect(logged(log, 'gpiofind')).toEqual(['gpiofind GPIO17']);
    pids(state);
    const missing = make(context(bin), { name: 'fan', line: 'NO_SUCH_LINE' });
    expect((await missing.set(true)).ok).toBe(false);
  });

  it('reports the tool error when the line is busy', async () => {
    const { bin, state } = fakeGpiod(version);
    // Another process holds the line (a live pid standing in for its request).
    writeFileSync(join(state, 'gpiochip0-17.pid'), `${process.pid}\n`);
    const heater = make(context(bin), { name: 'heater', chip: 'gpiochip0', line: 17 });
    const result = await heater.set(true);
    expect(result).toEqual({
      ok: false,
      error:
        version === 1
          ? // v1 asks gpioinfo first, since it confirms a holder by seeing "gpioset" hold the line.
            expect.stringMatching(/heater \(gpiochip0:17\).*already requested by "gpioset"/)
          : expect.stringMatching(/heater \(gpiochip0:17\).*exit code 1: .*Device or resource busy/),
    });
    const reading = await heater.read();
    expect(reading).toMatchObject({
      quality: 'failed',
      error: expect.stringContaining('Device or resource busy'),
    });
  });

  it('reports what gpioset said when it exits with an error', async () => {
    const { bin, log } = fakeGpiod(version);
    fakeExecutable(
      bin,
      'gpioset',
      `#!/usr/bin/env bash
echo "gpioset $*" >> '${log}'
if [ "$1" = "--version" ]; then echo 'gpioset (libgpiod) ${version === 1 ? 'v1.6.3' : 'v2.1'}'; exit 0; fi
echo 'gpioset: error requesting GPIO lines: Device or resource busy' >&2
exit 1
`,
    );
    const heater = make(context(bin), { name: 'heater', chip: 'gpiochip0', line: 17 });
    expect(await heater.set(true)).toEqual({
      ok: false,
      error: expect.stringMatching(
        /exit code 1: gpioset: error requesting GPIO lines: Device or resource busy\)$/,
      ),
    });
    expect(logged(log, 'gpioset')).toEqual([setCommand('17=1')]);
  });

  it('fails the next read when the holder dies, and recovers on the next set', async () => {
    const { bin, state } = fakeGpiod(version);
    const heater = make(context(bin), { name: 'heater', chip: 'gpiochip0', line: 17 });
    expect(await heater.set(true)).toEqual({ ok: true });
    const [pid] = pids(state);
    process.kill(pid!, 'SIGKILL');
    await expect
      .poll(async () => heater.read())
      .toMatchObject({
        quality: 'failed',
        error: expect.stringMatching(/ended unexpectedly \(signal SIGKILL\)/),
      });
    expect(await heater.set(true)).toEqual({ ok: true });
    pids(state);
    expect(await heater.read()).toMatchObject({ quality: 'ok', value: true });
  });
});

describe('GPIO load switch without libgpiod', () => {
  it('names the package to install', async () => {
    const empty = tempDir('skynode-bin-');
    const heater = make(
      { ...fakeHal(tempDir()), env: { PATH: empty } },
      { name: 'heater', chip: 'gpiochip0', line: 17 },
    );
    expect(await heater.set(true)).toEqual({
      ok: false,
      error: expect.stringContaining('apt install gpiod'),
    });
    expect(await heater.read()).toMatchObject({
      quality: 'failed',
      error: expect.stringContaining('apt install gpiod'),
    });
  });
});

describe('GPIO chips', () => {
  it('lists chips from the bus and /dev, with label and size from the legacy class', async () => {
    const root = fakeTree({
      'sys/devices/platform/soc/fe200000.gpio/gpiochip0/dev': '254:0\n',
      'sys/devices/platform/soc/fe200000.gpio/gpio/gpiochip512/label': 'pinctrl-bcm2711\n',
      'sys/devices/platform/soc/fe200000.gpio/gpio/gpiochip512/ngpio': '58\n',
      'sys/devices/platform/soc/fe200000.gpio/gpio/gpiochip512/base': '512\n',
      'sys/devices/platform/soc/fe200000.gpio/gpio/gpiochip512/device': { link: '../..' },
      'sys/bus/gpio/devices/gpiochip0': { link: '/sys/devices/platform/soc/fe200000.gpio/gpiochip0' },
      'sys/class/gpio/gpiochip512': { link: '/sys/devices/platform/soc/fe200000.gpio/gpio/gpiochip512' },
      'sys/bus/gpio/devices/gpiochip1/dev': '254:1\n',
      'dev/gpiochip0': '',
      'dev/gpiochip1': '',
      'dev/gpiochip10': '',
    });
    expect(await listGpioChips(fakeHal(root))).toEqual([
      { name: 'gpiochip0', label: 'pinctrl-bcm2711', lines: 58, base: 512, charDevice: true },
      { name: 'gpiochip1', charDevice: true },
      { name: 'gpiochip10', charDevice: true },
    ]);
  });

  it('resolves a chip given by its label', async () => {
    const { bin, log, state } = fakeGpiod(2);
    const root = fakeTree({
      'sys/class/gpio/gpiochip0/label': 'tegra234-gpio\n',
      'sys/class/gpio/gpiochip0/device/gpiochip0/dev': '254:0\n',
    });
    const ctx = { ...fakeHal(root), env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } };
    const heater = make(ctx, { name: 'heater', chip: 'tegra234-gpio', line: 17 });
    expect(await heater.set(true)).toEqual({ ok: true });
    expect(logged(log, 'gpioset')).toEqual(['gpioset -c gpiochip0 --banner 17=1']);
    pids(state);
  });
});
