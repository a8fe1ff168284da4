import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.js';
import {
  formatLinkSpec,
  type LinkSpec,
  LinkSpecError,
  openPipe,
  parseLinkSpec,
} from '../../../src/transport/pipe.js';

describe('parseLinkSpec', () => {
  const good: ReadonlyArray<[string, LinkSpec]> = [
    ['serial:/dev/ttyUSB0@115200', { kind: 'serial', path: '/dev/ttyUSB0', baudRate: 115200 }],
    ['serial:/dev/ttyUSB0', { kind: 'serial', path: '/dev/ttyUSB0', baudRate: 115200 }],
    ['serial:/dev/ttyAMA0@9600', { kind: 'serial', path: '/dev/ttyAMA0', baudRate: 9600 }],
    ['serial:/tmp/a@b/pty@57600', { kind: 'serial', path: '/tmp/a@b/pty', baudRate: 57600 }],
    ['serial:COM3', { kind: 'serial', path: 'COM3', baudRate: 115200 }],
    ['tcp:127.0.0.1:5000', { kind: 'tcp', host: '127.0.0.1', port: 5000 }],
    ['tcp:ground.example.org:52001', { kind: 'tcp', host: 'ground.example.org', port: 52001 }],
    ['tcp:[::1]:5000', { kind: 'tcp', host: '::1', port: 5000 }],
    ['tcp-listen:5000', { kind: 'tcp-listen', host: '0.0.0.0', port: 5000 }],
    ['tcp-listen:127.0.0.1:0', { kind: 'tcp-listen', host: '127.0.0.1', port: 0 }],
    ['tcp-listen:[::]:5000', { kind: 'tcp-listen', host: '::', port: 5000 }],
    ['udp:10.0.0.2:6000', { kind: 'udp', host: '10.0.0.2', port: 6000, bindHost: '0.0.0.0', bindPort: 0 }],
    [
      'udp:10.0.0.2:6000?bind=6001',
      { kind: 'udp', host: '10.0.0.2', port: 6000, bindHost: '0.0.0.0', bindPort: 6001 },
    ],
    [
      'udp:10.0.0.2:6000?bind=10.0.0.1:6001',
      { kind: 'udp', host: '10.0.0.2', port: 6000, bindHost: '10.0.0.1', bindPort: 6001 },
    ],
    ['udp:[::1]:6000', { kind: 'udp', host: '::1', port: 6000, bindHost: '::', bindPort: 0 }],
    ['udp-listen:6000', { kind: 'udp-listen', host: '0.0.0.0', port: 6000 }],
    ['  tcp:localhost:1  ', { kind: 'tcp', host: 'localhost', port: 1 }],
  ];

  it.each(good)('parses %s', (text, spec) => {
    expect(parseLinkSpec(text)).toEqual({ ok: true, spec });
  });

  const bad: ReadonlyArray<[string, RegExp]> = [
    ['', /no kind/],
    ['/dev/ttyUSB0', /no kind/],
    ['ttyUSB0:115200', /unknown kind "ttyUSB0"/],
    ['serial:', /serial device path is empty/],
    ['serial:@9600', /serial device path is empty/],
    ['serial:/dev/ttyUSB0@fast', /baud rate "fast" is not a number/],
    ['serial:/dev/ttyUSB0@0', /baud rate 0 is out of range/],
    ['tcp:5000', /has no port/],
    ['tcp:localhost:', /port "" is not a number/],
    ['tcp:localhost:http', /port "http" is not a number/],
    ['tcp:localhost:0', /port 0 is out of range \(1\.\.65535\)/],
    ['tcp:localhost:70000', /port 70000 is out of range/],
    ['tcp::5000', /host is empty/],
    ['tcp:::1:5000', /IPv6 address in brackets/],
    ['tcp:[::1:5000', /is not \[IPV6\]:PORT/],
    ['tcp-listen:', /port "" is not a number/],
    ['udp:10.0.0.2:6000?bind=x', /bind: port "x" is not a number/],
    ['udp:10.0.0.2:6000?port=1', /unknown option "port"/],
    ['udp-listen:a b:5', /host "a b" is not a host name/],
  ];

  it.each(bad)('refuses %j', (text, why) => {
    const result = parseLinkSpec(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(why);
    expect(result.error).toContain(`invalid link "${text}"`);
    // Every error names the accepted forms.
    for (const form of [
      'serial:PATH[@BAUD]',
      'tcp:HOST:PORT',
      'tcp-listen:[HOST:]PORT',
      'udp:HOST:PORT',
      'udp-listen:',
    ]) {
      expect(result.error).toContain(form);
    }
  });

  it('formats a spec so that it parses back to the same spec', () => {
    const host = fc.oneof(
      fc.constantFrom('localhost', 'ground.example.org', '::1', '::', 'fe80::1'),
      fc.ipV4(),
    );
    const port = fc.integer({ min: 1, max: 65535 });
    const spec: fc.Arbitrary<LinkSpec> = fc.oneof(
      fc.record({
        kind: fc.constant('serial' as const),
        path: fc.constantFrom('/dev/ttyUSB0', '/tmp/x/a', 'COM7'),
        baudRate: fc.integer({ min: 50, max: 4_000_000 }),
      }),
      fc.record({ kind: fc.constantFrom('tcp' as const), host, port }),
      fc.record({ kind: fc.constantFrom('tcp-listen' as const, 'udp-listen' as const), host, port }),
      fc.record({ kind: fc.constant('udp' as const), host, port, bindHost: host, bindPort: port }),
    );
    fc.assert(
      fc.property(spec, (s) => {
        expect(parseLinkSpec(formatLinkSpec(s))).toEqual({ ok: true, spec: s });
      }),
    );
  });
});

describe('openPipe', () => {
  it('throws LinkSpecError, naming the accepted forms, for a spec that does not parse', () => {
    const clock = new VirtualClock();
    expect(() => openPipe('carrier-pigeon:1', { scheduler: clock.scheduler })).toThrow(LinkSpecError);
    expect(() => openPipe('carrier-pigeon:1', { scheduler: clock.scheduler })).toThrow(
      /tcp-listen:\[HOST:\]PORT/,
    );
  });
});
