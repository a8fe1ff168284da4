/**
 * The mission dictionary as an OpenC3 COSMOS target: `cmd_tlm/cmd.txt` and `cmd_tlm/tlm.txt`, big-endian, derived
 * from the dictionary alone (PROTOCOL.md decides every bit). Deterministic: same dictionary, same text.
 *
 * - COMMAND per dictionary command: the CCSDS primary header and PUS-C TC secondary header of a TC(8,1), the
 *   function ID (the opcode, an ID_PARAMETER), the arguments in wire order, then the 16-bit packet error control.
 * - TELEMETRY per housekeeping structure (TM(3,25), the structure ID an ID_ITEM) and per event (TM(5,severity),
 *   the event ID an ID_ITEM): the same header, then the parameters or arguments in packing order, then the CRC.
 *   Every packet is identified by the same items (APID, service, subtype, the 16 bits after the header), so the
 *   target needs no TLM_UNIQUE_ID_MODE.
 *
 * Items are placed at explicit bit offsets while the layout is fixed. A string or bytes value is a 16-bit length
 * item followed by the data with VARIABLE_BIT_SIZE (OpenC3 COSMOS 5.18 or later); everything after it is appended.
 */
import { SEVERITY_SUBTYPE } from '../../core/component.js';
import type { MissionDictionary } from '../../core/dictionary.js';
import { type DataType, NATURAL_RANGE } from '../../core/types.js';

export interface CosmosTarget {
  /** `cmd_tlm/cmd.txt` */
  readonly cmd: string;
  /** `cmd_tlm/tlm.txt` */
  readonly tlm: string;
}

/** A COSMOS name: upper case letters, digits and `_`. */
export function cosmosName(text: string): string {
  const name = text.replace(/[^A-Za-z0-9_]/g, '_').toUpperCase();
  return name === '' ? '_' : name;
}

/** `cpuPercent` -> `CPU_PERCENT`, `RESTART_FSW` stays. */
export function snakeName(text: string): string {
  return cosmosName(text.replace(/([a-z0-9])([A-Z])/g, '$1_$2'));
}

/** The COSMOS target name of a mission: `skynode` -> `SKYNODE`. */
export const cosmosTargetName = (missionName: string) => cosmosName(missionName);
/** Command packet of `health.RESTART_FSW`: `HEALTH_RESTART_FSW`. */
export const cosmosCommandName = (qualified: string) => snakeName(qualified.replace('.', '_'));
/** Telemetry packet of housekeeping structure `health.DEFAULT`: `HEALTH_DEFAULT`. */
export const cosmosStructureName = (qualified: string) => snakeName(qualified.replace('.', '_'));
/** Telemetry packet of event `health.BOOT`: `EVENT_HEALTH_BOOT`. */
export const cosmosEventName = (qualified: string) => `EVENT_${snakeName(qualified.replace('.', '_'))}`;

/** A double-quoted COSMOS string: the parser knows no escapes, so quotes become `'` and line breaks spaces. */
function quoted(text: string): string {
  return `"${text.replace(/"/g, "'").replace(/[\r\n\t]+/g, ' ')}"`;
}

/** A STATE key: bare when it is a plain word, quoted otherwise. */
function stateKey(label: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(label) ? label : quoted(label);
}

const hex = (value: number, digits: number) => `0x${value.toString(16).padStart(digits, '0')}`;

const INTEGER_BITS: Readonly<Record<string, number>> = {
  u8: 8,
  u16: 16,
  u32: 32,
  u64: 64,
  i8: 8,
  i16: 16,
  i32: 32,
  i64: 64,
};

const BIG_RANGE = {
  u64: [0n, 0xffffffffffffffffn],
  i64: [-0x8000000000000000n, 0x7fffffffffffffffn],
} as const;

/** Names reserved in every packet: the header items and the items COSMOS adds by itself. */
const RESERVED = [
  'CCSDSVER',
  'PKTTYPE',
  'SHF',
  'APID',
  'SEQFLAGS',
  'SEQCNT',
  'PKTLEN',
  'PUSVER',
  'ACKFLAGS',
  'TIMEREF',
  'SERVICE',
  'SUBTYPE',
  'SOURCEID',
  'MSGCOUNTER',
  'DESTID',
  'TIMECOARSE',
  'TIMEFINE',
  'FUNCTIONID',
  'STRUCTUREID',
  'EVENTID',
  'CRC',
  'PACKET_TIME',
  'PACKET_TIMESECONDS',
  'PACKET_TIMEFORMATTED',
  'RECEIVED_TIME',
  'RECEIVED_TIMESECONDS',
  'RECEIVED_TIMEFORMATTED',
  'RECEIVED_COUNT',
];

/** Item names of one packet: a name already taken gets the component in front, then a number. */
class ItemNames {
  private readonly taken = new Set<string>(RESERVED);

  claim(name: string, prefix: string): string {
    let candidate = name;
    if (this.taken.has(candidate)) candidate = `${prefix}_${name}`;
    for (let n = 2; this.taken.has(candidate); n += 1) candidate = `${prefix}_${name}_${n}`;
    this.taken.add(candidate);
    return candidate;
  }
}

/** Packet names must be unique in the target: two dictionary names that upper-case to the same one cannot be. */
class PacketNames {
  private readonly holders = new Map<string, string>();

  constructor(private readonly what: string) {}

  claim(name: string, holder: string): string {
    const other = this.holders.get(name);
    if (other !== undefined) {
      throw new Error(
        `COSMOS export: ${this.what} ${name} would stand for both ${other} and ${holder}: rename one`,
      );
    }
    this.holders.set(name, holder);
    return name;
  }
}

/** Lines of one packet, tracking where the next item goes while the layout is fixed. */
class Layout {
  readonly lines: string[] = [];
  /** Bit offset of the next item; undefined once a variable-size item has been placed. */
  offset: number | undefined = 0;

  constructor(private readonly kind: 'PARAMETER' | 'ITEM') {}

  /** `PARAMETER NAME OFFSET SIZE ...` or `APPEND_PARAMETER NAME SIZE ...`, `ID_` in front for an ID. */
  place(name: string, bits: number, rest: string, id = false) {
    const keyword = `${id ? 'ID_' : ''}${this.kind}`;
    if (this.offset === undefined) {
      this.lines.push(`  APPEND_${keyword} ${name} ${bits} ${rest}`);
    } else {
      this.lines.push(`  ${keyword} ${name} ${this.offset} ${bits} ${rest}`);
      this.offset += bits;
    }
  }

  /** A variable-size item: its data follow a 16-bit length item already placed. */
  placeVariable(name: string, lengthItem: string, rest: string) {
    this.lines.push(`  APPEND_${this.kind} ${name} 0 ${rest}`);
    this.lines.push(`    VARIABLE_BIT_SIZE ${lengthItem} 8 0`);
    this.offset = undefined;
  }

  modifier(line: string) {
    this.lines.push(`    ${line}`);
  }
}

function unitsLine(layout: Layout, units: string | undefined) {
  if (units) layout.modifier(`UNITS ${quoted(units)} ${quoted(units)}`);
}

function stateLines(layout: Layout, type: DataType) {
  if (type.kind === 'enum') {
    type.values.forEach((label, index) => {
      layout.modifier(`STATE ${stateKey(label)} ${index}`);
    });
  } else if (type.kind === 'bool') {
    layout.modifier('STATE FALSE 0');
    layout.modifier('STATE TRUE 1');
  }
}

function floatBound(value: number | undefined, bits: 32 | 64, which: 'MIN' | 'MAX'): string {
  return value === undefined ? `${which}_FLOAT${bits}` : String(value);
}

/** `MIN MAX DEFAULT` of a numeric command parameter: the declared range, else the natural one; default 0 inside. */
function numericRange(type: DataType): { min: string; max: string; default: string } {
  switch (type.kind) {
    case 'u64':
    case 'i64': {
      const [lo, hi] = BIG_RANGE[type.kind];
      const min = type.min ?? lo;
      const max = type.max ?? hi;
      const dflt = 0n < min ? min : 0n > max ? max : 0n;
      return { min: min.toString(), max: max.toString(), default: dflt.toString() };
    }
    case 'f32':
    case 'f64': {
      const bits = type.kind === 'f32' ? 32 : 64;
      const dflt = Math.min(Math.max(0, type.min ?? 0), type.max ?? Number.POSITIVE_INFINITY);
      return {
        min: floatBound(type.min, bits, 'MIN'),
        max: floatBound(type.max, bits, 'MAX'),
        default: String(dflt),
      };
    }
    case 'u8':
    case 'u16':
    case 'u32':
    case 'i8':
    case 'i16':
    case 'i32': {
      const [lo, hi] = NATURAL_RANGE[type.kind];
      const min = Math.max(type.min ?? lo, lo);
      const max = Math.min(type.max ?? hi, hi);
      const dflt = Math.min(Math.max(0, min), max);
      return { min: String(min), max: String(max), default: String(dflt) };
    }
    case 'enum':
      return { min: '0', max: String(type.values.length - 1), default: '0' };
    default:
      return { min: '0', max: '1', default: '0' };
  }
}

function wireType(type: DataType): { bits: number; cosmos: 'UINT' | 'INT' | 'FLOAT' } {
  switch (type.kind) {
    case 'f32':
      return { bits: 32, cosmos: 'FLOAT' };
    case 'f64':
      return { bits: 64, cosmos: 'FLOAT' };
    case 'bool':
    case 'enum':
      return { bits: 8, cosmos: 'UINT' };
    default:
      return { bits: INTEGER_BITS[type.kind] as number, cosmos: type.kind.startsWith('i') ? 'INT' : 'UINT' };
  }
}

function typeNote(type: DataType): string {
  return type.description ? type.description : '';
}

/** One command argument: its lines in the command packet. */
function commandArgument(layout: Layout, names: ItemNames, prefix: string, arg: string, type: DataType) {
  const name = names.claim(snakeName(arg), prefix);
  const description = typeNote(type) || arg;
  if (type.kind === 'string' || type.kind === 'bytes') {
    const length = names.claim(`${name}_LEN`, prefix);
    layout.place(
      length,
      16,
      `UINT 0 ${type.maxLength} 0 ${quoted(`Length of ${arg} in octets (at most ${type.maxLength})`)}`,
    );
    layout.placeVariable(
      name,
      length,
      `${type.kind === 'string' ? 'STRING' : 'BLOCK'} "" ${quoted(description)}`,
    );
    unitsLine(layout, type.units);
    return;
  }
  const wire = wireType(type);
  const range = numericRange(type);
  layout.place(
    name,
    wire.bits,
    `${wire.cosmos} ${range.min} ${range.max} ${range.default} ${quoted(description)}`,
  );
  unitsLine(layout, type.units);
  stateLines(layout, type);
}

/** One telemetry value (a housekeeping parameter or an event argument): its lines in the packet. */
function telemetryItem(
  layout: Layout,
  names: ItemNames,
  prefix: string,
  short: string,
  type: DataType,
  note: string,
) {
  const name = names.claim(snakeName(short), prefix);
  if (type.kind === 'string' || type.kind === 'bytes') {
    const length = names.claim(`${name}_LEN`, prefix);
    layout.place(length, 16, `UINT ${quoted(`Length of ${short} in octets`)}`);
    layout.placeVariable(name, length, `${type.kind === 'string' ? 'STRING' : 'BLOCK'} ${quoted(note)}`);
    unitsLine(layout, type.units);
    return;
  }
  const wire = wireType(type);
  layout.place(name, wire.bits, `${wire.cosmos} ${quoted(note)}`);
  unitsLine(layout, type.units);
  stateLines(layout, type);
}

/**
 * The first limit monitor the dictionary declares on a parameter, as COSMOS limits (one pair, so the yellow and
 * red limits coincide; the persistence and the enabled state are the monitor's). Other kinds of monitor
 * (expected value, delta) have no COSMOS equivalent: they are named in a comment.
 */
function limitsLines(layout: Layout, dictionary: MissionDictionary, parameter: string) {
  const monitors = dictionary.monitors.filter((m) => m.parameter === parameter);
  const limit = monitors.find((m) => m.check.kind === 'limit');
  if (limit && limit.check.kind === 'limit') {
    const { low, high } = limit.check;
    layout.modifier(`# ${limit.name} (monitor ${hex(limit.id, 4)})`);
    layout.modifier(
      `LIMITS DEFAULT ${limit.persistence} ${limit.enabled ? 'ENABLED' : 'DISABLED'} ${low} ${low} ${high} ${high}`,
    );
  }
  for (const other of monitors.filter((m) => m !== limit)) {
    layout.modifier(`# ${other.name} (monitor ${hex(other.id, 4)}): ${other.check.kind} check, run on board`);
  }
}

function crcLine(layout: Layout, command: boolean) {
  const note = 'Packet error control: CRC-16/CCITT-FALSE over the packet before it';
  layout.place(
    'CRC',
    16,
    command ? `UINT 0 65535 0 ${quoted(`${note} (COSMOS must compute it)`)}` : `UINT ${quoted(note)}`,
  );
}

/** The TM header (CCSDS primary, PUS-C TM secondary with the CUC time) and the 16-bit ID after it. */
function telemetryHeader(
  layout: Layout,
  apid: number,
  service: number,
  subtype: number,
  idName: string,
  id: number,
) {
  layout.place('CCSDSVER', 3, 'UINT "CCSDS packet version number (0)"');
  layout.place('PKTTYPE', 1, 'UINT "Packet type (0: telemetry)"');
  layout.place('SHF', 1, 'UINT "Secondary header flag (1)"');
  layout.place('APID', 11, `UINT ${apid} "Application process ID"`, true);
  layout.place('SEQFLAGS', 2, 'UINT "Sequence flags (3: unsegmented)"');
  layout.place('SEQCNT', 14, 'UINT "Packet sequence count"');
  layout.place('PKTLEN', 16, 'UINT "Packet data length: octets of the data field minus 1"');
  layout.place('PUSVER', 4, 'UINT "PUS version number (2)"');
  layout.place('TIMEREF', 4, 'UINT "Time reference status"');
  layout.place('SERVICE', 8, `UINT ${service} "PUS service type"`, true);
  layout.place('SUBTYPE', 8, `UINT ${subtype} "PUS message subtype"`, true);
  layout.place('MSGCOUNTER', 16, 'UINT "Message type counter"');
  layout.place('DESTID', 16, 'UINT "Destination ID"');
  layout.place('TIMECOARSE', 32, 'UINT "Packet time (CUC): seconds since 1958-01-01 TAI"');
  layout.modifier('UNITS Seconds s');
  layout.place('TIMEFINE', 16, 'UINT "Packet time (CUC): 1/65536 s"');
  layout.place(
    idName,
    16,
    `UINT ${id} ${quoted(idName === 'STRUCTUREID' ? 'Housekeeping structure ID' : 'Event ID')}`,
    true,
  );
}

function headerComment(dictionary: MissionDictionary, what: string): string[] {
  const { mission } = dictionary;
  return [
    `# ${mission.name} ${what}: OpenC3 COSMOS definitions derived from the deployed components by the command`,
    '# "skynode dict" (cosmos format). Do not edit: export them again when the flight software changes.',
    `# Dictionary CRC-32: ${hex(dictionary.crc32, 8)} (the flight software reports the same value).`,
    `# Spacecraft ID ${hex(mission.spacecraftId, 2)}, flight software APID ${hex(mission.apid, 3)} (${mission.apid}).`,
    '# Big-endian. Strings and bytes: a 16-bit length item, then the data sized by it with VARIABLE_BIT_SIZE',
    '# (OpenC3 COSMOS 5.18 or later; with an older COSMOS only the last value of a packet can vary in size).',
    '# CRC: packet error control, CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor)',
    '# over the whole packet before it. COSMOS does not compute it from these definitions: add it on the',
    '# interface (for example the CrcProtocol, 16 bits at bit offset -16) or with a write conversion.',
  ];
}

/**
 * The dictionary as a COSMOS target's command and telemetry definitions. The target name is the mission name
 * upper-cased.
 */
export function toCosmos(dictionary: MissionDictionary): CosmosTarget {
  const { mission } = dictionary;
  const target = cosmosTargetName(mission.name);
  const armCommand = dictionary.commands.find((c) => c.name.endsWith('.ARM'));
  const commandNames = new PacketNames('command');
  const packetNames = new PacketNames('telemetry packet');

  const cmd: string[] = [
    ...headerComment(dictionary, 'commands'),
    '# Every command is a PUS-C TC(8,1) perform function: FUNCTIONID is its opcode. SEQCNT, and PKTLEN where a',
    '# command has strings or bytes, are for the ground station to fill in.',
  ];
  for (const c of dictionary.commands) {
    const prefix = snakeName(c.component);
    const names = new ItemNames();
    const layout = new Layout('PARAMETER');
    const description = [
      c.description || c.name,
      `(${c.name}, opcode ${hex(c.opcode, 4)}${c.modes ? `, modes ${c.modes.join(' ')}` : ''})`,
    ].join(' ');
    cmd.push(
      '',
      `COMMAND ${target} ${commandNames.claim(cosmosCommandName(c.name), c.name)} BIG_ENDIAN ${quoted(description)}`,
    );
    if (c.hazardous) {
      cmd.push(
        `  HAZARDOUS ${quoted(`Refused unless armed first${armCommand ? ` (${armCommand.name} functionId=${c.opcode})` : ''}`)}`,
      );
    }
    layout.place('CCSDSVER', 3, 'UINT 0 0 0 "CCSDS packet version number"');
    layout.place('PKTTYPE', 1, 'UINT 1 1 1 "Packet type (1: telecommand)"');
    layout.place('SHF', 1, 'UINT 1 1 1 "Secondary header flag"');
    layout.place('APID', 11, `UINT ${mission.apid} ${mission.apid} ${mission.apid} "Application process ID"`);
    layout.place('SEQFLAGS', 2, 'UINT 3 3 3 "Sequence flags (3: unsegmented)"');
    layout.place('SEQCNT', 14, 'UINT 0 16383 0 "Packet sequence count"');
    const lengthLine = layout.lines.length;
    layout.place('PKTLEN', 16, 'UINT 0 65535 0 "Packet data length: octets of the data field minus 1"');
    layout.place('PUSVER', 4, 'UINT 2 2 2 "PUS version number"');
    layout.place(
      'ACKFLAGS',
      4,
      'UINT 0 15 15 "Acknowledgement flags: 1 acceptance, 2 start, 4 progress, 8 completion"',
    );
    layout.place('SERVICE', 8, 'UINT 8 8 8 "PUS service type (8: function management)"', true);
    layout.place('SUBTYPE', 8, 'UINT 1 1 1 "PUS message subtype (1: perform function)"', true);
    layout.place('SOURCEID', 16, 'UINT 0 65535 0 "Source ID"');
    layout.place('FUNCTIONID', 16, `UINT ${c.opcode} ${c.opcode} ${c.opcode} "Function ID (opcode)"`, true);
    for (const [arg, type] of Object.entries(c.args)) commandArgument(layout, names, prefix, arg, type);
    crcLine(layout, true);
    if (layout.offset !== undefined) {
      // A fixed layout: the packet length is known, so PKTLEN is fixed too.
      const dataLength = layout.offset / 8 - 7;
      layout.lines[lengthLine] =
        `  PARAMETER PKTLEN 32 16 UINT ${dataLength} ${dataLength} ${dataLength} ` +
        '"Packet data length: octets of the data field minus 1"';
    }
    cmd.push(...layout.lines);
  }

  const tlm: string[] = [
    ...headerComment(dictionary, 'telemetry'),
    '# Every packet is identified by APID, SERVICE, SUBTYPE and the 16 bits after the PUS header (STRUCTUREID of a',
    '# TM(3,25) housekeeping report, EVENTID of a TM(5,x) event report).',
  ];
  for (const hk of dictionary.housekeeping) {
    const prefix = snakeName(hk.component);
    const names = new ItemNames();
    const layout = new Layout('ITEM');
    const description = `${hk.description || hk.name} (${hk.name}, structure ${hex(hk.id, 4)}, every ${hk.intervalMs} ms)`;
    tlm.push(
      '',
      `TELEMETRY ${target} ${packetNames.claim(cosmosStructureName(hk.name), hk.name)} BIG_ENDIAN ${quoted(description)}`,
    );
    telemetryHeader(layout, mission.apid, 3, 25, 'STRUCTUREID', hk.id);
    for (const parameter of hk.parameters) {
      const entry = dictionary.telemetryByName.get(parameter);
      if (!entry)
        throw new Error(`COSMOS export: ${hk.name} packs ${parameter}, which is no telemetry parameter`);
      const short = parameter.slice(parameter.indexOf('.') + 1);
      const note = `${entry.description || parameter} (${parameter}, ID ${hex(entry.id, 4)})`;
      telemetryItem(layout, names, prefix, short, entry.type, note);
      limitsLines(layout, dictionary, parameter);
    }
    crcLine(layout, false);
    tlm.push(...layout.lines);
  }
  for (const e of dictionary.events) {
    const prefix = snakeName(e.component);
    const names = new ItemNames();
    const layout = new Layout('ITEM');
    const text = e.message || e.description || e.name;
    const description = `${text} (${e.name}, event ${hex(e.id, 4)}, severity ${e.severity})`;
    tlm.push(
      '',
      `TELEMETRY ${target} ${packetNames.claim(cosmosEventName(e.name), e.name)} BIG_ENDIAN ${quoted(description)}`,
    );
    telemetryHeader(layout, mission.apid, 5, SEVERITY_SUBTYPE[e.severity], 'EVENTID', e.id);
    for (const [arg, type] of Object.entries(e.args)) {
      telemetryItem(layout, names, prefix, arg, type, typeNote(type) || `Argument ${arg} of ${e.name}`);
    }
    crcLine(layout, false);
    tlm.push(...layout.lines);
  }
  return { cmd: `${cmd.join('\n')}\n`, tlm: `${tlm.join('\n')}\n` };
}
