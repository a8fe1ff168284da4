import { describe, expect, it } from 'vitest';
import { flightComponents } from '../../../src/cli/fsw.js';
import { defineComponent, SEVERITY_SUBTYPE } from '../../../src/core/component.js';
import { buildDictionary, type MissionDictionary } from '../../../src/core/dictionary.js';
import {
  bool,
  bytes,
  type DataType,
  enumOf,
  f32,
  f64,
  i8,
  i16,
  i32,
  i64,
  str,
  u8,
  u16,
  u32,
  u64,
} from '../../../src/core/types.js';
import {
  cosmosCommandName,
  cosmosEventName,
  cosmosStructureName,
  snakeName,
  toCosmos,
} from '../../../src/ground/exports/cosmos.js';
import {
  eventArgumentName,
  eventContainerName,
  housekeepingContainerName,
  qualifiedXtceName,
  toXtce,
  XTCE_NAMESPACE,
} from '../../../src/ground/exports/xtce.js';
import {
  attr,
  child,
  children,
  descendants,
  hasCommand,
  parseXml,
  pythonXml,
  type XmlElement,
  xmllint,
} from '../../support/xml.js';

const WEIRD = `Sets <everything> & "quotes" 'too'`;

/** Every data type of the dictionary, in commands, telemetry, events and housekeeping. */
const probe = defineComponent({
  name: 'probe',
  commands: {
    SET_ALL: {
      opcode: 0x0a01,
      description: WEIRD,
      args: {
        level: u8({ min: 1, max: 9, units: 'V' }),
        offset: i16(),
        count: u32(),
        delta: i64({ min: -5n, max: 5n }),
        serial: u64(),
        speed: f32({ min: -1.5, max: 2.5, units: 'm/s' }),
        ratio: f64(),
        enabled: bool(),
        mode: enumOf(['OFF', 'ON', 'half on']),
        small: i8(),
        medium: u16(),
        large: i32(),
      },
    },
    FIRE: { opcode: 0x0a02, hazardous: true, modes: ['NOMINAL'], description: 'Fires the thruster' },
    LABEL: {
      opcode: 0x0a03,
      args: { text: str({ maxLength: 8 }), blob: bytes({ maxLength: 4 }), tail: u16() },
    },
  },
  telemetry: {
    voltage: { id: 0x0a01, type: f32({ units: 'V', min: 0, max: 40 }), description: WEIRD },
    small: { id: 0x0a02, type: i8() },
    medium: { id: 0x0a03, type: i16({ min: -100, max: 100 }) },
    large: { id: 0x0a04, type: i32() },
    huge: { id: 0x0a05, type: i64() },
    tiny: { id: 0x0a06, type: u8() },
    count: { id: 0x0a07, type: u16() },
    total: { id: 0x0a08, type: u32({ units: 's' }) },
    serial: { id: 0x0a09, type: u64() },
    precise: { id: 0x0a0a, type: f64() },
    armed: { id: 0x0a0b, type: bool() },
    mode: { id: 0x0a0c, type: enumOf(['OFF', 'ON', 'half on']) },
    note: { id: 0x0a0d, type: str({ maxLength: 20 }) },
    dump: { id: 0x0a0e, type: bytes({ maxLength: 16 }) },
  },
  events: {
    SEEN: {
      id: 0x0a01,
      severity: 'medium',
      args: { what: str({ maxLength: 16 }), level: u8() },
      message: 'seen {what} <{level}>',
    },
    QUIET: { id: 0x0a02, severity: 'info' },
  },
  housekeeping: {
    FAST: {
      id: 0x0a10,
      parameters: ['voltage', 'mode', 'note', 'count'],
      intervalMs: 100,
      description: WEIRD,
    },
    ALL: {
      id: 0x0a11,
      parameters: [
        'small',
        'medium',
        'large',
        'huge',
        'tiny',
        'count',
        'total',
        'serial',
        'precise',
        'armed',
        'mode',
        'voltage',
      ],
      intervalMs: 1000,
      enabled: false,
    },
    BLOBS: { id: 0x0a12, parameters: ['dump', 'note'], intervalMs: 5000 },
  },
  setup: () => ({ commands: { SET_ALL: () => undefined, FIRE: () => undefined, LABEL: () => undefined } }),
});

const probeDictionary = () => buildDictionary([probe], { name: 'probeSat', spacecraftId: 0x33, apid: 0x21 });
const flightDictionary = () => buildDictionary(flightComponents());
const crcHex = (d: MissionDictionary) => `0x${d.crc32.toString(16).padStart(8, '0')}`;

const INTEGER: Readonly<Record<string, { bits: number; signed: boolean }>> = {
  u8: { bits: 8, signed: false },
  u16: { bits: 16, signed: false },
  u32: { bits: 32, signed: false },
  u64: { bits: 64, signed: false },
  i8: { bits: 8, signed: true },
  i16: { bits: 16, signed: true },
  i32: { bits: 32, signed: true },
  i64: { bits: 64, signed: true },
};

/** Wire size of a fixed-size type in bits (strings and bytes: undefined). */
function fixedBits(type: DataType): number | undefined {
  if (type.kind === 'string' || type.kind === 'bytes') return undefined;
  if (type.kind === 'bool' || type.kind === 'enum') return 8;
  if (type.kind === 'f32') return 32;
  if (type.kind === 'f64') return 64;
  return INTEGER[type.kind]?.bits;
}

// ------------------------------------------------------------------------------------------------- XTCE

interface Xtce {
  readonly root: XmlElement;
  readonly comments: readonly string[];
  byName(set: string, element: string, name: string): XmlElement;
}

function readXtce(text: string): Xtce {
  const { root, comments } = parseXml(text);
  return {
    root,
    comments,
    byName(set, element, name) {
      const found = descendants(
        child(
          set === 'ArgumentTypeSet' || set === 'MetaCommandSet'
            ? child(root, 'CommandMetaData')
            : child(root, 'TelemetryMetaData'),
          set,
        ),
        element,
      ).filter((e) => e.attrs.get('name') === name);
      if (found.length !== 1) throw new Error(`${found.length} <${element} name="${name}"> in ${set}`);
      return found[0] as XmlElement;
    },
  };
}

/** The type element a reference names, in a type set (any element kind). */
function typeNamed(xtce: Xtce, set: 'ParameterTypeSet' | 'ArgumentTypeSet', name: string): XmlElement {
  const meta = set === 'ParameterTypeSet' ? 'TelemetryMetaData' : 'CommandMetaData';
  const found = child(child(xtce.root, meta), set).children.filter((e) => e.attrs.get('name') === name);
  expect(found, `type ${name} in ${set}`).toHaveLength(1);
  return found[0] as XmlElement;
}

/** The XTCE type says what the dictionary type says: kind, size on the wire, signedness, labels, range, units. */
function expectXtceType(element: XmlElement, type: DataType, role: 'Parameter' | 'Argument') {
  const units = type.units;
  if (units) expect(child(child(element, 'UnitSet'), 'Unit').text).toBe(units);
  else expect(children(element, 'UnitSet')).toHaveLength(0);
  switch (type.kind) {
    case 'bool': {
      expect(element.name).toBe(`Boolean${role}Type`);
      const encoding = child(element, 'IntegerDataEncoding');
      expect(attr(encoding, 'sizeInBits')).toBe('8');
      return;
    }
    case 'enum': {
      expect(element.name).toBe(`Enumerated${role}Type`);
      expect(attr(child(element, 'IntegerDataEncoding'), 'sizeInBits')).toBe('8');
      const list = children(child(element, 'EnumerationList'), 'Enumeration');
      expect(list.map((e) => [attr(e, 'value'), attr(e, 'label')])).toEqual(
        type.values.map((label, index) => [String(index), label]),
      );
      return;
    }
    case 'string': {
      expect(element.name).toBe(`String${role}Type`);
      const encoding = child(element, 'StringDataEncoding');
      expect(attr(encoding, 'encoding')).toBe('UTF-8');
      const variable = child(encoding, 'Variable');
      expect(attr(variable, 'maxSizeInBits')).toBe(String((type.maxLength + 2) * 8));
      expect(attr(child(variable, 'LeadingSize'), 'sizeInBitsOfSizeTag')).toBe('16');
      return;
    }
    case 'bytes': {
      expect(element.name).toBe(`Binary${role}Type`);
      const encoding = child(element, 'BinaryDataEncoding');
      expect(child(child(encoding, 'FromBinaryTransformAlgorithm'), 'AlgorithmText').text).toBe(
        'org.yamcs.algo.LeadingSizeBinaryDecoder(16)',
      );
      expect(child(child(encoding, 'ToBinaryTransformAlgorithm'), 'AlgorithmText').text).toBe(
        'org.yamcs.algo.LeadingSizeBinaryEncoder(16)',
      );
      expect(child(child(element, 'AncillaryDataSet'), 'AncillaryData').text).toBe(
        `maxLength=${type.maxLength}`,
      );
      return;
    }
    case 'f32':
    case 'f64': {
      const bits = type.kind === 'f32' ? '32' : '64';
      expect(element.name).toBe(`Float${role}Type`);
      expect(attr(element, 'sizeInBits')).toBe(bits);
      const encoding = child(element, 'FloatDataEncoding');
      expect([attr(encoding, 'sizeInBits'), attr(encoding, 'encoding')]).toEqual([bits, 'IEEE754_1985']);
      expectRange(element, role, type.min, type.max);
      return;
    }
    default: {
      const { bits, signed } = INTEGER[type.kind] as { bits: number; signed: boolean };
      expect(element.name).toBe(`Integer${role}Type`);
      expect(attr(element, 'signed')).toBe(String(signed));
      const encoding = child(element, 'IntegerDataEncoding');
      expect(attr(encoding, 'sizeInBits')).toBe(String(bits));
      expect(attr(encoding, 'encoding')).toBe(signed ? 'twosComplement' : 'unsigned');
      expect(encoding.attrs.get('byteOrder') ?? 'mostSignificantByteFirst').toBe('mostSignificantByteFirst');
      expectRange(element, role, type.min, type.max);
    }
  }
}

function expectRange(
  element: XmlElement,
  role: 'Parameter' | 'Argument',
  min: number | bigint | undefined,
  max: number | bigint | undefined,
) {
  const ranges =
    role === 'Parameter'
      ? children(element, 'ValidRange')
      : children(element, 'ValidRangeSet').flatMap((s) => children(s, 'ValidRange'));
  if (min === undefined && max === undefined) {
    expect(ranges).toHaveLength(0);
    return;
  }
  expect(ranges).toHaveLength(1);
  const range = ranges[0] as XmlElement;
  expect(range.attrs.get('minInclusive')).toBe(min === undefined ? undefined : String(min));
  expect(range.attrs.get('maxInclusive')).toBe(max === undefined ? undefined : String(max));
}

function comparisonsOf(base: XmlElement): Array<[string, string]> {
  return descendants(base, 'Comparison').map((c) => [attr(c, 'parameterRef'), attr(c, 'value')]);
}

/** Encoded size in bits of the integer header parameters a container's entries name. */
function headerBits(xtce: Xtce, container: XmlElement): number {
  let bits = 0;
  for (const entry of children(child(container, 'EntryList'), 'ParameterRefEntry')) {
    const parameter = xtce.byName('ParameterSet', 'Parameter', attr(entry, 'parameterRef'));
    const type = typeNamed(xtce, 'ParameterTypeSet', attr(parameter, 'parameterTypeRef'));
    bits += Number(attr(descendants(type, 'IntegerDataEncoding')[0] as XmlElement, 'sizeInBits'));
  }
  return bits;
}

function aliasOf(element: XmlElement): string {
  return attr(child(child(element, 'AliasSet'), 'Alias'), 'alias');
}

/** Checks an XTCE document against the dictionary it came from, element by element. */
function checkXtceAgainst(text: string, d: MissionDictionary) {
  const xtce = readXtce(text);
  const { root } = xtce;
  expect(root.name).toBe('SpaceSystem');
  expect(attr(root, 'xmlns')).toBe(XTCE_NAMESPACE);
  expect(attr(root, 'name')).toBe(d.mission.name.replace(/[^A-Za-z0-9_-]/g, '_'));
  expect(attr(child(root, 'Header'), 'version')).toBe(crcHex(d));
  expect(xtce.comments.join('\n')).toContain(`Dictionary CRC-32: ${crcHex(d)}`);

  // Headers: 6 octets of CCSDS primary header, 7 of PUS-C TM secondary header and 6 of CUC time.
  const ccsds = xtce.byName('ContainerSet', 'SequenceContainer', 'CCSDSPacket');
  expect(attr(ccsds, 'abstract')).toBe('true');
  expect(headerBits(xtce, ccsds)).toBe(48);
  const pusTm = xtce.byName('ContainerSet', 'SequenceContainer', 'PUS_TM');
  expect(headerBits(xtce, pusTm)).toBe(56 + 48);
  expect(comparisonsOf(child(pusTm, 'BaseContainer'))).toEqual([
    ['ccsds_type', '0'],
    ['ccsds_sec_hdr', '1'],
    ['ccsds_apid', String(d.mission.apid)],
  ]);
  const time = typeNamed(xtce, 'ParameterTypeSet', 'hdr_cuc_time');
  expect(time.name).toBe('AbsoluteTimeParameterType');
  expect(child(child(time, 'ReferenceTime'), 'Epoch').text).toBe('TAI');
  expect(Number(attr(child(time, 'Encoding'), 'scale'))).toBe(1 / 65536);
  const hk = xtce.byName('ContainerSet', 'SequenceContainer', 'PUS_TM_3_25');
  expect(headerBits(xtce, hk)).toBe(16);
  expect(comparisonsOf(child(hk, 'BaseContainer'))).toEqual([
    ['pus_service', '3'],
    ['pus_subtype', '25'],
  ]);

  // Every telemetry parameter, with its type.
  for (const t of d.telemetry) {
    const parameter = xtce.byName('ParameterSet', 'Parameter', qualifiedXtceName(t.name));
    expect(aliasOf(parameter)).toBe(t.name);
    expect(child(parameter, 'LongDescription').text).toContain(`0x${t.id.toString(16).padStart(4, '0')}`);
    expectXtceType(
      typeNamed(xtce, 'ParameterTypeSet', attr(parameter, 'parameterTypeRef')),
      t.type,
      'Parameter',
    );
  }
  // Every housekeeping structure: the (3,25) container restricted to its ID, its parameters in packing order.
  for (const s of d.housekeeping) {
    const container = xtce.byName('ContainerSet', 'SequenceContainer', housekeepingContainerName(s.name));
    expect(aliasOf(container)).toBe(s.name);
    expect(container.attrs.get('abstract')).toBeUndefined();
    const base = child(container, 'BaseContainer');
    expect(attr(base, 'containerRef')).toBe('PUS_TM_3_25');
    expect(comparisonsOf(base)).toEqual([['hk_structure_id', String(s.id)]]);
    expect(
      children(child(container, 'EntryList'), 'ParameterRefEntry').map((e) => attr(e, 'parameterRef')),
    ).toEqual(s.parameters.map(qualifiedXtceName));
  }
  // Every event: TM(5, severity) with its ID, then its arguments.
  for (const e of d.events) {
    const container = xtce.byName('ContainerSet', 'SequenceContainer', eventContainerName(e.name));
    const base = child(container, 'BaseContainer');
    expect(attr(base, 'containerRef')).toBe('PUS_TM_5');
    expect(comparisonsOf(base)).toEqual([
      ['pus_subtype', String(SEVERITY_SUBTYPE[e.severity])],
      ['event_id', String(e.id)],
    ]);
    const entries = children(child(container, 'EntryList'), 'ParameterRefEntry').map((x) =>
      attr(x, 'parameterRef'),
    );
    expect(entries).toEqual(Object.keys(e.args).map((a) => eventArgumentName(e.name, a)));
    for (const [arg, type] of Object.entries(e.args)) {
      const parameter = xtce.byName('ParameterSet', 'Parameter', eventArgumentName(e.name, arg));
      expectXtceType(
        typeNamed(xtce, 'ParameterTypeSet', attr(parameter, 'parameterTypeRef')),
        type,
        'Parameter',
      );
    }
  }

  // Commands: the abstract PUS TC is 11 octets of header, TC(8,1) adds the 16-bit function ID.
  const pusTc = xtce.byName('MetaCommandSet', 'MetaCommand', 'PUS_TC');
  let tcBits = 0;
  for (const entry of children(child(child(pusTc, 'CommandContainer'), 'EntryList'), 'ArgumentRefEntry')) {
    const argument = children(child(pusTc, 'ArgumentList'), 'Argument').find(
      (a) => attr(a, 'name') === attr(entry, 'argumentRef'),
    ) as XmlElement;
    const type = typeNamed(xtce, 'ArgumentTypeSet', attr(argument, 'argumentTypeRef'));
    tcBits += Number(attr(child(type, 'IntegerDataEncoding'), 'sizeInBits'));
    if (attr(argument, 'name') === 'pus_ack_flags') expect(attr(type, 'initialValue')).toBe('15');
  }
  expect(tcBits).toBe(88);
  const perform = xtce.byName('MetaCommandSet', 'MetaCommand', 'PUS_TC_8_1');
  const assigned = new Map(
    descendants(child(perform, 'BaseMetaCommand'), 'ArgumentAssignment').map((a) => [
      attr(a, 'argumentName'),
      attr(a, 'argumentValue'),
    ]),
  );
  expect(Object.fromEntries(assigned)).toMatchObject({
    ccsds_version: '0',
    ccsds_type: '1',
    ccsds_sec_hdr: '1',
    ccsds_apid: String(d.mission.apid),
    ccsds_seq_flags: '3',
    pus_version: '2',
    pus_service: '8',
    pus_subtype: '1',
  });
  expect(assigned.has('pus_ack_flags')).toBe(false);

  for (const c of d.commands) {
    const command = xtce.byName('MetaCommandSet', 'MetaCommand', qualifiedXtceName(c.name));
    expect(aliasOf(command)).toBe(c.name);
    const base = child(command, 'BaseMetaCommand');
    expect(attr(base, 'metaCommandRef')).toBe('PUS_TC_8_1');
    expect(
      descendants(base, 'ArgumentAssignment').map((a) => [attr(a, 'argumentName'), attr(a, 'argumentValue')]),
    ).toEqual([['function_id', String(c.opcode)]]);
    const args = Object.entries(c.args);
    const declared = children(command, 'ArgumentList').flatMap((l) => children(l, 'Argument'));
    expect(declared.map((a) => attr(a, 'name'))).toEqual(args.map(([name]) => name));
    args.forEach(([, type], i) => {
      const argument = declared[i] as XmlElement;
      expectXtceType(typeNamed(xtce, 'ArgumentTypeSet', attr(argument, 'argumentTypeRef')), type, 'Argument');
    });
    const container = child(command, 'CommandContainer');
    expect(attr(child(container, 'BaseContainer'), 'containerRef')).toBe('PUS_TC_8_1');
    expect(
      children(child(container, 'EntryList'), 'ArgumentRefEntry').map((e) => attr(e, 'argumentRef')),
    ).toEqual(args.map(([name]) => name));
    const significance = children(command, 'DefaultSignificance');
    if (c.hazardous) {
      expect(significance).toHaveLength(1);
      expect(attr(significance[0] as XmlElement, 'consequenceLevel')).toBe('critical');
    } else {
      expect(significance).toHaveLength(0);
    }
    expect(child(command, 'LongDescription').text).toContain(`function ID ${c.opcode}`);
  }
  return xtce;
}

describe('XTCE export', () => {
  it('is well-formed XML in the XTCE 1.2 namespace, with the dictionary CRC in the header', () => {
    for (const d of [probeDictionary(), flightDictionary()]) {
      const text = toXtce(d);
      expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
      expect(text.endsWith('</SpaceSystem>\n')).toBe(true);
      expect(() => parseXml(text)).not.toThrow();
    }
  });

  it.skipIf(!hasCommand('xmllint'))('passes xmllint --noout', () => {
    expect(xmllint(toXtce(probeDictionary()))).toBeNull();
    expect(xmllint(toXtce(flightDictionary()))).toBeNull();
  });

  it.skipIf(!hasCommand('python3'))('passes a conforming parser (Python expat)', () => {
    expect(pythonXml(toXtce(probeDictionary()))).toBeNull();
    expect(pythonXml(toXtce(flightDictionary()))).toBeNull();
  });

  it('has every command, telemetry parameter, structure and event of a dictionary with every data type', () => {
    const d = probeDictionary();
    const xtce = checkXtceAgainst(toXtce(d), d);
    expect(attr(xtce.root, 'name')).toBe('probeSat');
    // Ranges and units as declared.
    const setAll = xtce.byName('MetaCommandSet', 'MetaCommand', 'probe_SET_ALL');
    const level = children(child(setAll, 'ArgumentList'), 'Argument')[0] as XmlElement;
    const levelType = typeNamed(xtce, 'ArgumentTypeSet', attr(level, 'argumentTypeRef'));
    expect(child(child(levelType, 'ValidRangeSet'), 'ValidRange').attrs).toEqual(
      new Map([
        ['minInclusive', '1'],
        ['maxInclusive', '9'],
      ]),
    );
    const fire = xtce.byName('MetaCommandSet', 'MetaCommand', 'probe_FIRE');
    expect(child(fire, 'LongDescription').text).toContain('allowed in modes NOMINAL');
    const fast = xtce.byName('ContainerSet', 'SequenceContainer', 'HK_probe_FAST');
    expect(child(fast, 'LongDescription').text).toContain('every 100 ms');
    const all = xtce.byName('ContainerSet', 'SequenceContainer', 'HK_probe_ALL');
    expect(child(all, 'LongDescription').text).toContain('disabled at start-up');
  });

  it('has every command, telemetry parameter, structure and event of the flight dictionary', () => {
    const d = flightDictionary();
    const xtce = checkXtceAgainst(toXtce(d), d);
    expect(d.housekeeping.length).toBeGreaterThan(0);
    const hazardous = d.commands.filter((c) => c.hazardous);
    expect(hazardous.length).toBeGreaterThan(0);
    for (const c of hazardous) {
      const command = xtce.byName('MetaCommandSet', 'MetaCommand', qualifiedXtceName(c.name));
      expect(attr(child(command, 'DefaultSignificance'), 'reasonForWarning')).toContain('armed');
    }
  });

  it('declares one type per distinct data type, shared by the parameters that have it', () => {
    const d = probeDictionary();
    const xtce = readXtce(toXtce(d));
    const parameterTypes = child(child(xtce.root, 'TelemetryMetaData'), 'ParameterTypeSet').children;
    const names = parameterTypes.map((t) => attr(t, 'name'));
    expect(new Set(names).size).toBe(names.length);
    // probe.mode and the SET_ALL/telemetry enum share their labels: one enumerated parameter type.
    expect(parameterTypes.filter((t) => t.name === 'EnumeratedParameterType')).toHaveLength(1);
    const argumentTypes = child(child(xtce.root, 'CommandMetaData'), 'ArgumentTypeSet').children;
    const argumentNames = argumentTypes.map((t) => attr(t, 'name'));
    expect(new Set(argumentNames).size).toBe(argumentNames.length);
  });

  it('is deterministic: the same dictionary gives the same bytes', () => {
    expect(toXtce(probeDictionary())).toBe(toXtce(probeDictionary()));
    const d = flightDictionary();
    expect(toXtce(d)).toBe(toXtce(d));
    expect(toXtce(flightDictionary())).toBe(toXtce(d));
  });

  it('escapes <&>"\' in descriptions and keeps them intact', () => {
    const text = toXtce(probeDictionary());
    expect(text).toContain(
      'shortDescription="Sets &lt;everything&gt; &amp; &quot;quotes&quot; &apos;too&apos;"',
    );
    expect(text).not.toContain(WEIRD);
    const xtce = readXtce(text);
    expect(attr(xtce.byName('MetaCommandSet', 'MetaCommand', 'probe_SET_ALL'), 'shortDescription')).toBe(
      WEIRD,
    );
    expect(attr(xtce.byName('ParameterSet', 'Parameter', 'probe_voltage'), 'shortDescription')).toBe(WEIRD);
    expect(attr(xtce.byName('ContainerSet', 'SequenceContainer', 'HK_probe_FAST'), 'shortDescription')).toBe(
      WEIRD,
    );
    const seen = xtce.byName('ContainerSet', 'SequenceContainer', 'EVT_probe_SEEN');
    expect(child(seen, 'LongDescription').text).toContain('"seen {what} <{level}>"');
  });

  it('keeps comments well-formed whatever the mission is called, and uses its APID', () => {
    const d = buildDictionary([probe], { name: 'sat--one', spacecraftId: 1, apid: 0x7f });
    const text = toXtce(d);
    const xtce = checkXtceAgainst(text, d);
    expect(attr(xtce.root, 'name')).toBe('sat--one');
    expect(xtce.comments[0]).toContain('sat- -one');
  });

  it('refuses a component whose telemetry would take the name of a header field', () => {
    const clash = defineComponent({
      name: 'ccsds',
      telemetry: { apid: { id: 0x0b01, type: u16() } },
      setup: () => ({}),
    });
    expect(() => toXtce(buildDictionary([clash]))).toThrow(/ccsds_apid/);
  });
});

// ------------------------------------------------------------------------------------------------ COSMOS

interface CosmosItem {
  readonly keyword: string;
  readonly name: string;
  /** undefined for APPEND_ lines. */
  readonly offset: number | undefined;
  readonly bits: number;
  readonly type: string;
  /** The tokens after the type (min, max, default or ID value, description). */
  readonly rest: readonly string[];
  readonly modifiers: string[][];
}

interface CosmosPacket {
  readonly keyword: 'COMMAND' | 'TELEMETRY';
  readonly target: string;
  readonly name: string;
  readonly endianness: string;
  readonly description: string;
  readonly packetModifiers: string[][];
  readonly items: CosmosItem[];
}

/** A token of a definition line: a double-quoted string (quotes removed) or a bare word. */
function tokens(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1] : (m[2] as string)));
}

/** Reads COSMOS command or telemetry definitions back into packets and items. */
function readCosmos(text: string): CosmosPacket[] {
  const packets: CosmosPacket[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    expect(line.split('"').length % 2, `unbalanced quotes in ${line}`).toBe(1);
    const [keyword, ...args] = tokens(line);
    const packet = packets[packets.length - 1];
    if (keyword === 'COMMAND' || keyword === 'TELEMETRY') {
      expect(args).toHaveLength(4);
      packets.push({
        keyword,
        target: args[0] as string,
        name: args[1] as string,
        endianness: args[2] as string,
        description: args[3] as string,
        packetModifiers: [],
        items: [],
      });
    } else if (/^(APPEND_)?(ID_)?(PARAMETER|ITEM)$/.test(keyword as string)) {
      if (!packet) throw new Error(`${keyword} outside a packet`);
      const append = (keyword as string).startsWith('APPEND_');
      const [name, ...more] = args;
      const offset = append ? undefined : Number(more.shift());
      const bits = Number(more.shift());
      const type = more.shift() as string;
      packet.items.push({
        keyword: keyword as string,
        name: name as string,
        offset,
        bits,
        type,
        rest: more,
        modifiers: [],
      });
    } else if (keyword === 'HAZARDOUS') {
      packet?.packetModifiers.push([keyword, ...args]);
    } else {
      const item = packet?.items[packet.items.length - 1];
      if (!item) throw new Error(`modifier ${keyword} without an item`);
      item.modifiers.push([keyword as string, ...args]);
    }
  }
  return packets;
}

/**
 * The layout adds up: each explicit offset is where the previous item ended; a zero-size item is variable, sized
 * by the 16-bit length item just before it, and everything after it is appended. Returns the fixed size in bits,
 * or undefined for a packet with variable-size items.
 */
function checkLayout(packet: CosmosPacket): number | undefined {
  let offset: number | undefined = 0;
  let previous: CosmosItem | undefined;
  for (const item of packet.items) {
    if (item.bits === 0) {
      expect(item.offset, `${packet.name} ${item.name}`).toBeUndefined();
      expect(item.modifiers).toContainEqual(['VARIABLE_BIT_SIZE', previous?.name, '8', '0']);
      expect(previous?.bits).toBe(16);
      offset = undefined;
    } else if (offset === undefined) {
      expect(
        item.offset,
        `${packet.name} ${item.name} must be appended after a variable item`,
      ).toBeUndefined();
    } else {
      expect(item.offset, `${packet.name} ${item.name}`).toBe(offset);
      offset += item.bits;
    }
    previous = item;
  }
  return offset;
}

function itemNamed(packet: CosmosPacket, name: string): CosmosItem {
  const item = packet.items.find((i) => i.name === name);
  if (!item) throw new Error(`${packet.name} has no ${name}`);
  return item;
}

const TC_HEADER = [
  'CCSDSVER',
  'PKTTYPE',
  'SHF',
  'APID',
  'SEQFLAGS',
  'SEQCNT',
  'PKTLEN',
  'PUSVER',
  'ACKFLAGS',
];
const TM_HEADER = [
  'CCSDSVER',
  'PKTTYPE',
  'SHF',
  'APID',
  'SEQFLAGS',
  'SEQCNT',
  'PKTLEN',
  'PUSVER',
  'TIMEREF',
  'SERVICE',
  'SUBTYPE',
  'MSGCOUNTER',
  'DESTID',
  'TIMECOARSE',
  'TIMEFINE',
];

/** The COSMOS items a value of the dictionary becomes: [name, bits, type]. */
function expectedItems(name: string, type: DataType): Array<[string, number, string]> {
  const item = snakeName(name);
  if (type.kind === 'string')
    return [
      [`${item}_LEN`, 16, 'UINT'],
      [item, 0, 'STRING'],
    ];
  if (type.kind === 'bytes')
    return [
      [`${item}_LEN`, 16, 'UINT'],
      [item, 0, 'BLOCK'],
    ];
  const bits = fixedBits(type) as number;
  const cosmos =
    type.kind === 'f32' || type.kind === 'f64' ? 'FLOAT' : type.kind.startsWith('i') ? 'INT' : 'UINT';
  return [[item, bits, cosmos]];
}

function expectStates(item: CosmosItem, type: DataType) {
  const states = item.modifiers.filter((m) => m[0] === 'STATE').map((m) => [m[1], m[2]]);
  if (type.kind === 'enum') expect(states).toEqual(type.values.map((label, i) => [label, String(i)]));
  else if (type.kind === 'bool')
    expect(states).toEqual([
      ['FALSE', '0'],
      ['TRUE', '1'],
    ]);
  else expect(states).toEqual([]);
  const units = item.modifiers.find((m) => m[0] === 'UNITS');
  expect(units?.slice(1)).toEqual(type.units ? [type.units, type.units] : undefined);
}

function checkCosmosAgainst(target: { cmd: string; tlm: string }, d: MissionDictionary) {
  const targetName = d.mission.name.toUpperCase();
  const commands = readCosmos(target.cmd);
  expect(commands.map((p) => p.name)).toEqual(d.commands.map((c) => cosmosCommandName(c.name)));
  for (const [i, c] of d.commands.entries()) {
    const packet = commands[i] as CosmosPacket;
    expect([packet.keyword, packet.target, packet.endianness]).toEqual(['COMMAND', targetName, 'BIG_ENDIAN']);
    expect(packet.description).toContain(c.name);
    const fixed = checkLayout(packet);
    expect(packet.items.slice(0, 13).map((item) => item.name)).toEqual([
      ...TC_HEADER,
      'SERVICE',
      'SUBTYPE',
      'SOURCEID',
      'FUNCTIONID',
    ]);
    const fn = itemNamed(packet, 'FUNCTIONID');
    expect([fn.keyword, fn.offset, fn.bits, fn.type, ...fn.rest.slice(0, 3)]).toEqual([
      'ID_PARAMETER',
      88,
      16,
      'UINT',
      String(c.opcode),
      String(c.opcode),
      String(c.opcode),
    ]);
    expect(itemNamed(packet, 'SERVICE').rest.slice(0, 3)).toEqual(['8', '8', '8']);
    expect(itemNamed(packet, 'SUBTYPE').rest.slice(0, 3)).toEqual(['1', '1', '1']);
    expect(itemNamed(packet, 'PKTTYPE').rest.slice(0, 3)).toEqual(['1', '1', '1']);
    expect(itemNamed(packet, 'APID').rest.slice(0, 3)).toEqual(Array(3).fill(String(d.mission.apid)));
    expect(itemNamed(packet, 'PUSVER').rest.slice(0, 3)).toEqual(['2', '2', '2']);
    expect(itemNamed(packet, 'ACKFLAGS').rest.slice(0, 3)).toEqual(['0', '15', '15']);
    // The arguments in wire order, then the CRC.
    const args = packet.items.slice(13, -1);
    const expected = Object.entries(c.args).flatMap(([name, type]) => expectedItems(name, type));
    expect(args.map((a) => [a.name, a.bits, a.type])).toEqual(expected);
    for (const [name, type] of Object.entries(c.args)) {
      expectStates(itemNamed(packet, snakeName(name)), type);
    }
    const crc = packet.items[packet.items.length - 1] as CosmosItem;
    expect([crc.name, crc.bits]).toEqual(['CRC', 16]);
    const fixedArgs = Object.values(c.args).map(fixedBits);
    if (fixedArgs.every((b) => b !== undefined)) {
      // 6 + 5 octets of header, 2 of function ID, the arguments, 2 of CRC; PKTLEN is total - 7.
      const total = 104 + fixedArgs.reduce<number>((a, b) => a + (b as number), 0) + 16;
      expect(fixed).toBe(total);
      expect(itemNamed(packet, 'PKTLEN').rest.slice(0, 3)).toEqual(Array(3).fill(String(total / 8 - 7)));
    } else {
      expect(fixed).toBeUndefined();
    }
    expect(packet.packetModifiers.some((m) => m[0] === 'HAZARDOUS')).toBe(c.hazardous);
  }

  const telemetry = readCosmos(target.tlm);
  expect(telemetry.map((p) => p.name)).toEqual([
    ...d.housekeeping.map((s) => cosmosStructureName(s.name)),
    ...d.events.map((e) => cosmosEventName(e.name)),
  ]);
  const checkTm = (packet: CosmosPacket, service: number, subtype: number, idName: string, id: number) => {
    expect([packet.keyword, packet.target, packet.endianness]).toEqual([
      'TELEMETRY',
      targetName,
      'BIG_ENDIAN',
    ]);
    checkLayout(packet);
    expect(packet.items.slice(0, 16).map((item) => item.name)).toEqual([...TM_HEADER, idName]);
    const ids = packet.items.filter((item) => item.keyword.includes('ID_'));
    expect(ids.map((item) => [item.name, item.offset, item.bits, item.rest[0]])).toEqual([
      ['APID', 5, 11, String(d.mission.apid)],
      ['SERVICE', 56, 8, String(service)],
      ['SUBTYPE', 64, 8, String(subtype)],
      [idName, 152, 16, String(id)],
    ]);
    const crc = packet.items[packet.items.length - 1] as CosmosItem;
    expect([crc.name, crc.bits]).toEqual(['CRC', 16]);
  };
  for (const [i, s] of d.housekeeping.entries()) {
    const packet = telemetry[i] as CosmosPacket;
    checkTm(packet, 3, 25, 'STRUCTUREID', s.id);
    const entries = s.parameters.map((p) => d.telemetryByName.get(p)).filter((t) => t !== undefined);
    const expected = entries.flatMap((t) => expectedItems(t.name.slice(t.name.indexOf('.') + 1), t.type));
    expect(packet.items.slice(16, -1).map((a) => [a.name, a.bits, a.type])).toEqual(expected);
    for (const t of entries)
      expectStates(itemNamed(packet, snakeName(t.name.slice(t.name.indexOf('.') + 1))), t.type);
  }
  for (const [i, e] of d.events.entries()) {
    const packet = telemetry[d.housekeeping.length + i] as CosmosPacket;
    checkTm(packet, 5, SEVERITY_SUBTYPE[e.severity], 'EVENTID', e.id);
    const expected = Object.entries(e.args).flatMap(([name, type]) => expectedItems(name, type));
    expect(packet.items.slice(16, -1).map((a) => [a.name, a.bits, a.type])).toEqual(expected);
  }
  return { commands, telemetry };
}

describe('COSMOS export', () => {
  it('defines every command with its FUNCTIONID, header, arguments in wire order and CRC, offsets adding up', () => {
    const d = probeDictionary();
    const { commands } = checkCosmosAgainst(toCosmos(d), d);
    const setAll = commands.find((p) => p.name === 'PROBE_SET_ALL') as CosmosPacket;
    expect(itemNamed(setAll, 'LEVEL').rest.slice(0, 3)).toEqual(['1', '9', '1']);
    expect(itemNamed(setAll, 'SPEED').rest.slice(0, 3)).toEqual(['-1.5', '2.5', '0']);
    expect(itemNamed(setAll, 'RATIO').rest.slice(0, 3)).toEqual(['MIN_FLOAT64', 'MAX_FLOAT64', '0']);
    expect(itemNamed(setAll, 'DELTA').rest.slice(0, 3)).toEqual(['-5', '5', '0']);
    expect(itemNamed(setAll, 'SERIAL').rest.slice(0, 3)).toEqual(['0', '18446744073709551615', '0']);
    expect(itemNamed(setAll, 'MODE').modifiers).toContainEqual(['STATE', 'half on', '2']);
    const label = commands.find((p) => p.name === 'PROBE_LABEL') as CosmosPacket;
    expect(label.items.slice(13).map((i) => [i.keyword, i.name])).toEqual([
      ['PARAMETER', 'TEXT_LEN'],
      ['APPEND_PARAMETER', 'TEXT'],
      ['APPEND_PARAMETER', 'BLOB_LEN'],
      ['APPEND_PARAMETER', 'BLOB'],
      ['APPEND_PARAMETER', 'TAIL'],
      ['APPEND_PARAMETER', 'CRC'],
    ]);
    const fire = commands.find((p) => p.name === 'PROBE_FIRE') as CosmosPacket;
    expect(fire.packetModifiers).toEqual([['HAZARDOUS', 'Refused unless armed first']]);
  });

  it('defines every housekeeping structure and event as telemetry identified by its ID', () => {
    const d = probeDictionary();
    const { telemetry } = checkCosmosAgainst(toCosmos(d), d);
    const fast = telemetry.find((p) => p.name === 'PROBE_FAST') as CosmosPacket;
    expect(fast.items.slice(16).map((i) => [i.keyword, i.name, i.offset ?? null, i.bits])).toEqual([
      ['ITEM', 'VOLTAGE', 168, 32],
      ['ITEM', 'MODE', 200, 8],
      ['ITEM', 'NOTE_LEN', 208, 16],
      ['APPEND_ITEM', 'NOTE', null, 0],
      ['APPEND_ITEM', 'COUNT', null, 16],
      ['APPEND_ITEM', 'CRC', null, 16],
    ]);
    // A fixed structure: 19 octets of header and ID, the parameters, the CRC.
    const all = telemetry.find((p) => p.name === 'PROBE_ALL') as CosmosPacket;
    expect(checkLayout(all)).toBe(152 + 16 + (8 + 16 + 32 + 64 + 8 + 16 + 32 + 64 + 64 + 8 + 8 + 32) + 16);
    const seen = telemetry.find((p) => p.name === 'EVENT_PROBE_SEEN') as CosmosPacket;
    expect(seen.description).toContain('severity medium');
  });

  it('covers the flight dictionary', () => {
    const d = flightDictionary();
    const target = toCosmos(d);
    checkCosmosAgainst(target, d);
    expect(target.cmd).toContain('COMMAND SKYNODE ');
    expect(target.tlm).toContain('TELEMETRY SKYNODE ');
    expect(target.cmd).toContain(`Dictionary CRC-32: ${crcHex(d)}`);
    expect(target.tlm).toContain(`Dictionary CRC-32: ${crcHex(d)}`);
  });

  it('is deterministic and keeps quoted strings intact', () => {
    expect(toCosmos(probeDictionary())).toEqual(toCosmos(probeDictionary()));
    expect(toCosmos(flightDictionary())).toEqual(toCosmos(flightDictionary()));
    const setAll = readCosmos(toCosmos(probeDictionary()).cmd).find((p) => p.name === 'PROBE_SET_ALL');
    expect(setAll?.description).toContain(`Sets <everything> & 'quotes' 'too'`);
  });

  it('gives an item that would take a header name the component in front', () => {
    const clash = defineComponent({
      name: 'radio',
      commands: { TUNE: { opcode: 0x0c01, args: { apid: u16(), crc: u8() } } },
      telemetry: { service: { id: 0x0c01, type: u8() } },
      setup: () => ({ commands: { TUNE: () => undefined } }),
    });
    const target = toCosmos(buildDictionary([clash]));
    const [tune] = readCosmos(target.cmd);
    expect(tune?.items.slice(13).map((i) => i.name)).toEqual(['RADIO_APID', 'RADIO_CRC', 'CRC']);
    const [hk] = readCosmos(target.tlm);
    expect(hk?.items.slice(16).map((i) => i.name)).toEqual(['RADIO_SERVICE', 'CRC']);
  });
});

describe('the strict XML reader these tests use', () => {
  it('refuses what a conforming parser refuses', () => {
    const bad = [
      '<a><b></a></b>',
      '<a><b></a>',
      '<a x=1/>',
      '<a x="1" x="2"/>',
      '<a x="<"/>',
      '<a>&nbsp;</a>',
      '<a>& b</a>',
      '<a>&#0;</a>',
      '<!-- a -- b --><a/>',
      '<a/><b/>',
      'text<a/>',
      '<a/>text',
      '<a><!DOCTYPE x></a>',
    ];
    for (const text of bad) expect(() => parseXml(text), text).toThrow();
  });

  it('reads elements, attributes, text and references', () => {
    const { root, comments } = parseXml(
      `<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><a k='v &amp; &quot;w&quot;'><b>x &lt; y &#x41;&#66;</b><c/></a>\n`,
    );
    expect(comments).toEqual([' c ']);
    expect(attr(root, 'k')).toBe('v & "w"');
    expect(child(root, 'b').text).toBe('x < y AB');
    expect(root.children.map((c) => c.name)).toEqual(['b', 'c']);
  });
});

describe('COSMOS limits from the dictionary monitors', () => {
  it('gives a telemetry item the limits of the first limit monitor on it, and names the other monitors', async () => {
    const { flightComponents } = await import('../../../src/cli/fsw.js');
    const { buildDictionary } = await import('../../../src/core/dictionary.js');
    const lines = toCosmos(buildDictionary(flightComponents())).tlm.split('\n');
    const item = lines.findIndex((l) => /^ {2}ITEM JUNCTION_C \d+ 32 FLOAT/.test(l));
    expect(item).toBeGreaterThan(0);
    const after = lines.slice(item + 1, item + 5);
    expect(after).toContain('    LIMITS DEFAULT 10 ENABLED -40 -40 90 90');
    expect(after.some((l) => l.includes('thermal.JUNCTION_STUCK') && l.includes('delta check'))).toBe(true);
    // One LIMITS per limit-monitored parameter (five of the six deployed monitors are limit checks).
    expect(lines.filter((l) => l.trim().startsWith('LIMITS DEFAULT')).length).toBe(5);
  });
});
