/**
 * The mission dictionary as XTCE 1.2 (OMG, namespace http://www.omg.org/spec/XTCE/20180204), in the form YAMCS
 * loads: one SpaceSystem named after the mission, derived from the dictionary alone (PROTOCOL.md decides every
 * bit). Deterministic: the same dictionary gives the same bytes, and the dictionary's CRC-32 is in the header.
 *
 * - Types: one parameter type (and one argument type) per distinct data type of the dictionary, big-endian
 *   integer/IEEE 754 encodings, bool and enum on one octet, string and bytes after a 16-bit length.
 * - Telemetry: the CCSDS primary header and PUS-C TM secondary header as parameters (the CUC time as an absolute
 *   time, epoch 1958-01-01 TAI), an abstract CCSDS packet, the PUS TM of the mission's APID, TM(3,25) with the
 *   structure ID and one container per housekeeping structure; TM(5,x) with the event ID and one container per
 *   event with its arguments.
 * - Commands: an abstract PUS TC, an abstract TC(8,1) with the function ID, and one MetaCommand per command
 *   with its opcode assigned, its arguments in wire order, and hazardous commands marked critical.
 *
 * The packet error control (CRC-16/CCITT-FALSE) is not an XTCE entry: YAMCS checks and appends it in the packet
 * pre-processor and command post-processor (errorDetection CRC-16-CCIIT), as the header comment says.
 */
import { SEVERITY_SUBTYPE } from '../../core/component.js';
import { crc32 } from '../../core/crc32.js';
import type { MissionDictionary } from '../../core/dictionary.js';
import { type DataType, typeToJson } from '../../core/types.js';

export const XTCE_NAMESPACE = 'http://www.omg.org/spec/XTCE/20180204';

/** YAMCS's name for a DynamicValue that XTCE 1.2 requires but that YAMCS ignores (the size comes first). */
const YAMCS_IGNORE = '_yamcs_ignore';

// ---------------------------------------------------------------------------------------------------------
// XML text

/** Characters XML 1.0 does not allow anywhere (controls, lone surrogates, U+FFFE/U+FFFF) become U+FFFD. */
function xmlChars(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    const allowed =
      cp === 0x9 ||
      cp === 0xa ||
      cp === 0xd ||
      (cp >= 0x20 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      (cp >= 0x10000 && cp <= 0x10ffff);
    out += allowed ? ch : '\ufffd';
  }
  return out;
}

/** Escapes character data: `&`, `<`, `>`. */
export function escapeText(text: string): string {
  return xmlChars(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes an attribute value (double-quoted): also quotes and the whitespace that normalisation would eat. */
export function escapeAttribute(text: string): string {
  return escapeText(text)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/** Comment text may not contain `--` nor end with `-`. */
function commentText(text: string): string {
  let out = xmlChars(text);
  while (out.includes('--')) out = out.replace(/--/g, '- -');
  return out.endsWith('-') ? `${out} ` : out;
}

type Attr = readonly [string, string | number | boolean | undefined];

class XmlWriter {
  private readonly lines: string[] = [];
  private depth = 0;

  raw(line: string) {
    this.lines.push(line);
  }

  comment(text: string) {
    const pad = '  '.repeat(this.depth);
    const body = commentText(text)
      .split('\n')
      .map((l) => (l ? `${pad}  ${l}` : ''));
    this.lines.push(`${pad}<!--`, ...body, `${pad}-->`);
  }

  private tag(name: string, attrs: readonly Attr[]) {
    const rendered = attrs
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => ` ${k}="${escapeAttribute(String(v))}"`)
      .join('');
    return `${name}${rendered}`;
  }

  open(name: string, attrs: readonly Attr[] = []) {
    this.lines.push(`${'  '.repeat(this.depth)}<${this.tag(name, attrs)}>`);
    this.depth += 1;
  }

  close(name: string) {
    this.depth -= 1;
    this.lines.push(`${'  '.repeat(this.depth)}</${name}>`);
  }

  empty(name: string, attrs: readonly Attr[] = []) {
    this.lines.push(`${'  '.repeat(this.depth)}<${this.tag(name, attrs)}/>`);
  }

  text(name: string, text: string, attrs: readonly Attr[] = []) {
    this.lines.push(`${'  '.repeat(this.depth)}<${this.tag(name, attrs)}>${escapeText(text)}</${name}>`);
  }

  element(name: string, attrs: readonly Attr[], body: () => void) {
    this.open(name, attrs);
    body();
    this.close(name);
  }

  toString() {
    return `${this.lines.join('\n')}\n`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Names

/** An XTCE NameType that YAMCS and every tool accept: letters, digits, `_` and `-` only. */
export function xtceName(text: string): string {
  const name = text.replace(/[^A-Za-z0-9_-]/g, '_');
  return name === '' ? '_' : name;
}

/** `health.cpuLoad` -> `health_cpuLoad` (names in the dictionary never contain `_` after the dot). */
export function qualifiedXtceName(qualified: string): string {
  return xtceName(qualified.replace(/\./g, '_'));
}

const hex = (value: number, digits: number) => `0x${value.toString(16).padStart(digits, '0')}`;

// ---------------------------------------------------------------------------------------------------------
// Data types

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

function numberText(value: number | bigint): string {
  return typeof value === 'bigint' ? value.toString() : String(value);
}

/** What makes two data types the same type on the ground: everything but the description. */
function typeKey(type: DataType): string {
  const json = typeToJson(type);
  delete json.description;
  return JSON.stringify(json);
}

function baseTypeName(type: DataType): string {
  const units = type.units ? `_${type.units}` : '';
  const bound = (v: number | bigint | undefined, word: string) =>
    v === undefined ? word : numberText(v).replace('.', 'p').replace('+', '');
  switch (type.kind) {
    case 'bool':
      return `bool${units}`;
    case 'enum': {
      const labels = `enum_${type.values.join('_')}${units}`;
      return labels.length <= 48 ? labels : `enum_${type.values.length}_labels${units}`;
    }
    case 'string':
      return `string_max${type.maxLength}${units}`;
    case 'bytes':
      return `bytes_max${type.maxLength}${units}`;
    default: {
      const range =
        type.min !== undefined || type.max !== undefined
          ? `_${bound(type.min, 'min')}_to_${bound(type.max, 'max')}`
          : '';
      return `${type.kind}${range}${units}`;
    }
  }
}

/** Type names, one per distinct data type, in order of first use; a clash of names gets the key's CRC. */
class TypeNames {
  private readonly byKey = new Map<string, { name: string; type: DataType }>();
  private readonly taken = new Set<string>();

  name(type: DataType): string {
    const key = typeKey(type);
    const known = this.byKey.get(key);
    if (known) return known.name;
    let name = xtceName(baseTypeName(type));
    if (this.taken.has(name))
      name = `${name}_${crc32(new TextEncoder().encode(key)).toString(16).padStart(8, '0')}`;
    this.taken.add(name);
    this.byKey.set(key, { name, type });
    return name;
  }

  entries(): ReadonlyArray<{ name: string; type: DataType }> {
    return [...this.byKey.values()];
  }
}

function unitSet(w: XmlWriter, units: string | undefined) {
  if (!units) return;
  w.element('UnitSet', [], () => w.text('Unit', units, [['form', 'calibrated']]));
}

function integerEncoding(w: XmlWriter, bits: number, signed: boolean) {
  w.empty('IntegerDataEncoding', [
    ['sizeInBits', bits],
    ['encoding', signed ? 'twosComplement' : 'unsigned'],
    ['byteOrder', bits > 8 ? 'mostSignificantByteFirst' : undefined],
  ]);
}

function variableSize(w: XmlWriter) {
  w.element('DynamicValue', [], () => w.empty('ParameterInstanceRef', [['parameterRef', YAMCS_IGNORE]]));
}

function binaryEncoding(w: XmlWriter) {
  w.element('BinaryDataEncoding', [], () => {
    w.element('SizeInBits', [], () => variableSize(w));
    w.element('FromBinaryTransformAlgorithm', [['name', 'LeadingSizeBinaryDecoder']], () =>
      w.text('AlgorithmText', 'org.yamcs.algo.LeadingSizeBinaryDecoder(16)', [['language', 'Java']]),
    );
    w.element('ToBinaryTransformAlgorithm', [['name', 'LeadingSizeBinaryEncoder']], () =>
      w.text('AlgorithmText', 'org.yamcs.algo.LeadingSizeBinaryEncoder(16)', [['language', 'Java']]),
    );
  });
}

function range(
  w: XmlWriter,
  role: 'Parameter' | 'Argument',
  min: number | bigint | undefined,
  max: number | bigint | undefined,
) {
  if (min === undefined && max === undefined) return;
  const attrs: Attr[] = [
    ['minInclusive', min === undefined ? undefined : numberText(min)],
    ['maxInclusive', max === undefined ? undefined : numberText(max)],
  ];
  if (role === 'Parameter') {
    w.empty('ValidRange', [...attrs, ['validRangeAppliesToCalibrated', 'true']]);
  } else {
    w.element('ValidRangeSet', [['validRangeAppliesToCalibrated', 'true']], () =>
      w.empty('ValidRange', attrs),
    );
  }
}

/** One `<...ParameterType>` or `<...ArgumentType>` for a data type of the dictionary. */
function writeType(w: XmlWriter, role: 'Parameter' | 'Argument', name: string, type: DataType) {
  switch (type.kind) {
    case 'bool':
      w.element(
        `Boolean${role}Type`,
        [
          ['name', name],
          ['zeroStringValue', 'False'],
          ['oneStringValue', 'True'],
        ],
        () => {
          unitSet(w, type.units);
          integerEncoding(w, 8, false);
        },
      );
      return;
    case 'enum':
      w.element(`Enumerated${role}Type`, [['name', name]], () => {
        unitSet(w, type.units);
        integerEncoding(w, 8, false);
        w.element('EnumerationList', [], () => {
          type.values.forEach((label, index) => {
            w.empty('Enumeration', [
              ['value', index],
              ['label', label],
            ]);
          });
        });
      });
      return;
    case 'string':
      w.element(`String${role}Type`, [['name', name]], () => {
        unitSet(w, type.units);
        w.element('StringDataEncoding', [['encoding', 'UTF-8']], () => {
          // maxSizeInBits is the whole buffer: the 16-bit size tag and at most maxLength octets.
          w.element('Variable', [['maxSizeInBits', (type.maxLength + 2) * 8]], () => {
            variableSize(w);
            w.empty('LeadingSize', [['sizeInBitsOfSizeTag', 16]]);
          });
        });
      });
      return;
    case 'bytes':
      w.element(`Binary${role}Type`, [['name', name]], () => {
        // YAMCS's own options: the octet count the encoder accepts (the 16-bit size not included).
        w.element('AncillaryDataSet', [], () =>
          w.text('AncillaryData', `maxLength=${type.maxLength}`, [['name', 'Yamcs']]),
        );
        unitSet(w, type.units);
        binaryEncoding(w);
      });
      return;
    case 'f32':
    case 'f64': {
      const bits = type.kind === 'f32' ? 32 : 64;
      w.element(
        `Float${role}Type`,
        [
          ['name', name],
          ['sizeInBits', bits],
        ],
        () => {
          unitSet(w, type.units);
          w.empty('FloatDataEncoding', [
            ['sizeInBits', bits],
            ['encoding', 'IEEE754_1985'],
            ['byteOrder', 'mostSignificantByteFirst'],
          ]);
          range(w, role, type.min, type.max);
        },
      );
      return;
    }
    default: {
      const bits = INTEGER_BITS[type.kind] as number;
      const signed = type.kind.startsWith('i');
      w.element(
        `Integer${role}Type`,
        [
          ['name', name],
          ['signed', signed],
          ['sizeInBits', bits],
        ],
        () => {
          unitSet(w, type.units);
          integerEncoding(w, bits, signed);
          range(w, role, type.min, type.max);
        },
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Packet headers (PROTOCOL.md): the same for every packet of the mission

interface HeaderField {
  readonly name: string;
  readonly bits: number;
  readonly description: string;
}

const CCSDS_PRIMARY: readonly HeaderField[] = [
  { name: 'ccsds_version', bits: 3, description: 'CCSDS packet version number (0)' },
  { name: 'ccsds_type', bits: 1, description: 'Packet type: 0 telemetry, 1 telecommand' },
  { name: 'ccsds_sec_hdr', bits: 1, description: 'Secondary header flag (1: PUS-C secondary header)' },
  { name: 'ccsds_apid', bits: 11, description: 'Application process ID' },
  { name: 'ccsds_seq_flags', bits: 2, description: 'Sequence flags (3: unsegmented)' },
  { name: 'ccsds_seq_count', bits: 14, description: 'Packet sequence count' },
  { name: 'ccsds_length', bits: 16, description: 'Packet data length: octets of the data field minus 1' },
];

const PUS_TM_SECONDARY: readonly HeaderField[] = [
  { name: 'pus_version', bits: 4, description: 'PUS version number (2: PUS-C)' },
  { name: 'pus_time_ref_status', bits: 4, description: 'Spacecraft time reference status' },
  { name: 'pus_service', bits: 8, description: 'Service type' },
  { name: 'pus_subtype', bits: 8, description: 'Message subtype' },
  { name: 'pus_msg_counter', bits: 16, description: 'Message type counter' },
  { name: 'pus_destination_id', bits: 16, description: 'Destination ID' },
];

const PUS_TC_SECONDARY: readonly HeaderField[] = [
  { name: 'pus_version', bits: 4, description: 'PUS version number (2: PUS-C)' },
  {
    name: 'pus_ack_flags',
    bits: 4,
    description: 'Acknowledgement flags: 1 acceptance, 2 start, 4 progress, 8 completion',
  },
  { name: 'pus_service', bits: 8, description: 'Service type' },
  { name: 'pus_subtype', bits: 8, description: 'Message subtype' },
  { name: 'pus_source_id', bits: 16, description: 'Source ID' },
];

const TIME_PARAMETER = 'pus_time';
const TIME_TYPE = 'hdr_cuc_time';
const STRUCTURE_ID = 'hk_structure_id';
const EVENT_ID = 'event_id';
const FUNCTION_ID = 'function_id';

const headerType = (bits: number) => `hdr_u${bits}`;

/** Engineering size of a header field: the smallest of 8, 16, 32 that holds it. */
const engineeringBits = (bits: number) => (bits <= 8 ? 8 : bits <= 16 ? 16 : 32);

function headerIntegerType(
  w: XmlWriter,
  role: 'Parameter' | 'Argument',
  name: string,
  bits: number,
  initial?: number,
) {
  w.element(
    `Integer${role}Type`,
    [
      ['name', name],
      ['initialValue', initial],
      ['signed', false],
      ['sizeInBits', engineeringBits(bits)],
    ],
    () => integerEncoding(w, bits, false),
  );
}

const HEADER_BITS = [1, 2, 3, 4, 8, 11, 14, 16];

// ---------------------------------------------------------------------------------------------------------
// The document

/** Names of the containers and commands this document defines above the dictionary's own. */
export const XTCE_NAMES = {
  ccsdsPacket: 'CCSDSPacket',
  pusTm: 'PUS_TM',
  housekeeping: 'PUS_TM_3_25',
  events: 'PUS_TM_5',
  pusTc: 'PUS_TC',
  performFunction: 'PUS_TC_8_1',
  structureId: STRUCTURE_ID,
  eventId: EVENT_ID,
  functionId: FUNCTION_ID,
  time: TIME_PARAMETER,
} as const;

/** Container name of a housekeeping structure: `health.DEFAULT` -> `HK_health_DEFAULT`. */
export const housekeepingContainerName = (name: string) => `HK_${qualifiedXtceName(name)}`;
/** Container name of an event: `health.BOOT` -> `EVT_health_BOOT`. */
export const eventContainerName = (name: string) => `EVT_${qualifiedXtceName(name)}`;
/** Parameter name of an event argument: `health.BOOT` `bootCount` -> `health_BOOT_bootCount`. */
export const eventArgumentName = (event: string, arg: string) =>
  `${qualifiedXtceName(event)}_${xtceName(arg)}`;

/** Parameter names must be unique in the space system: a telemetry name that clashes with a header field. */
function checkUnique(names: readonly string[]) {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      throw new Error(
        `XTCE export: parameter name '${name}' is used twice (a component named like a packet header field ` +
          `such as 'ccsds' or 'pus'?): rename the component`,
      );
    }
    seen.add(name);
  }
}

function aliasSet(w: XmlWriter, namespace: string, alias: string) {
  w.element('AliasSet', [], () =>
    w.empty('Alias', [
      ['nameSpace', namespace],
      ['alias', alias],
    ]),
  );
}

function comparisons(w: XmlWriter, list: ReadonlyArray<readonly [string, number]>) {
  w.element('RestrictionCriteria', [], () => {
    w.element('ComparisonList', [], () => {
      for (const [parameter, value] of list) {
        w.empty('Comparison', [
          ['parameterRef', parameter],
          ['value', value],
        ]);
      }
    });
  });
}

function parameterEntries(w: XmlWriter, names: readonly string[]) {
  w.element('EntryList', [], () => {
    for (const name of names) w.empty('ParameterRefEntry', [['parameterRef', name]]);
  });
}

function argumentEntries(w: XmlWriter, names: readonly string[]) {
  if (names.length === 0) {
    w.empty('EntryList');
    return;
  }
  w.element('EntryList', [], () => {
    for (const name of names) w.empty('ArgumentRefEntry', [['argumentRef', name]]);
  });
}

/**
 * The dictionary as an XTCE 1.2 document (UTF-8 text, ending with a newline). Throws only when two parameters
 * would get the same XTCE name (a component named like a header field).
 */
export function toXtce(dictionary: MissionDictionary): string {
  const { mission } = dictionary;
  const crc = hex(dictionary.crc32, 8);
  const ns = xtceName(mission.name);
  const w = new XmlWriter();

  w.raw('<?xml version="1.0" encoding="UTF-8"?>');
  w.comment(
    [
      `${mission.name} mission dictionary as XTCE 1.2, derived from the deployed components by the command`,
      '"skynode dict" (xtce format). Do not edit: export it again when the flight software changes.',
      '',
      `Dictionary CRC-32: ${crc} (also the Header version below; the flight software reports the same value).`,
      `Spacecraft ID ${hex(mission.spacecraftId, 2)}, flight software APID ${hex(mission.apid, 3)} (${mission.apid}).`,
      '',
      'Packets (big-endian, PROTOCOL.md): CCSDS primary header, PUS-C secondary header, data, then the packet',
      'error control: CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection) over the whole packet before',
      'it. The CRC is not an entry of the containers below: YAMCS checks it on telemetry and appends it to',
      'commands when the link is configured with errorDetection type CRC-16-CCIIT (PusPacketPreprocessor for',
      'TM, PusCommandPostprocessor for TC, which also fills in the sequence count and the packet length).',
      `TM root container: /${ns}/${XTCE_NAMES.ccsdsPacket}. TM time: CUC at octet 13, 4 octets of seconds and`,
      '2 octets of 1/65536 s since 1958-01-01 TAI (P-field implicit 0x1E).',
      `Strings and bytes are sent after a 16-bit length; "${YAMCS_IGNORE}" is the YAMCS convention for the`,
      'DynamicValue that XTCE 1.2 requires there.',
    ].join('\n'),
  );

  const types = new TypeNames();
  for (const t of dictionary.telemetry) types.name(t.type);
  for (const e of dictionary.events) for (const type of Object.values(e.args)) types.name(type);
  const argumentTypes = new TypeNames();
  for (const c of dictionary.commands) for (const type of Object.values(c.args)) argumentTypes.name(type);

  const telemetryNames = dictionary.telemetry.map((t) => qualifiedXtceName(t.name));
  const eventArgNames = dictionary.events.flatMap((e) =>
    Object.keys(e.args).map((a) => eventArgumentName(e.name, a)),
  );
  checkUnique([
    ...CCSDS_PRIMARY.map((f) => f.name),
    ...PUS_TM_SECONDARY.map((f) => f.name),
    TIME_PARAMETER,
    STRUCTURE_ID,
    EVENT_ID,
    ...telemetryNames,
    ...eventArgNames,
  ]);

  const armCommand = dictionary.commands.find((c) => c.name.endsWith('.ARM'));

  w.open('SpaceSystem', [
    ['xmlns', XTCE_NAMESPACE],
    ['name', ns],
    ['shortDescription', `${mission.name} flight software, spacecraft ID ${hex(mission.spacecraftId, 2)}`],
  ]);
  w.empty('Header', [
    ['version', crc],
    ['validationStatus', 'Working'],
  ]);

  // -------------------------------------------------------------------------------------------- telemetry
  w.open('TelemetryMetaData');

  w.open('ParameterTypeSet');
  for (const bits of HEADER_BITS) headerIntegerType(w, 'Parameter', headerType(bits), bits);
  w.element('AbsoluteTimeParameterType', [['name', TIME_TYPE]], () => {
    w.element(
      'Encoding',
      [
        ['offset', 0],
        ['scale', 2 ** -16],
        ['units', 'seconds'],
      ],
      () => integerEncoding(w, 48, false),
    );
    w.element('ReferenceTime', [], () => w.text('Epoch', 'TAI'));
  });
  for (const { name, type } of types.entries()) writeType(w, 'Parameter', name, type);
  w.close('ParameterTypeSet');

  w.open('ParameterSet');
  const headerParameter = (field: HeaderField) =>
    w.element(
      'Parameter',
      [
        ['name', field.name],
        ['parameterTypeRef', headerType(field.bits)],
        ['shortDescription', field.description],
      ],
      () => w.empty('ParameterProperties', [['dataSource', 'telemetered']]),
    );
  for (const field of [...CCSDS_PRIMARY, ...PUS_TM_SECONDARY]) headerParameter(field);
  w.element(
    'Parameter',
    [
      ['name', TIME_PARAMETER],
      ['parameterTypeRef', TIME_TYPE],
      ['shortDescription', 'Packet time: CUC, seconds since 1958-01-01 TAI'],
    ],
    () => w.empty('ParameterProperties', [['dataSource', 'telemetered']]),
  );
  headerParameter({ name: STRUCTURE_ID, bits: 16, description: 'Housekeeping structure ID of a TM(3,25)' });
  headerParameter({ name: EVENT_ID, bits: 16, description: 'Event ID of a TM(5,x)' });
  for (const t of dictionary.telemetry) {
    w.element(
      'Parameter',
      [
        ['name', qualifiedXtceName(t.name)],
        ['parameterTypeRef', types.name(t.type)],
        ['shortDescription', t.description || undefined],
      ],
      () => {
        w.text(
          'LongDescription',
          `${t.name}: telemetry ID ${hex(t.id, 4)}${t.description ? `. ${t.description}` : ''}`,
        );
        aliasSet(w, ns, t.name);
        w.empty('ParameterProperties', [['dataSource', 'telemetered']]);
      },
    );
  }
  for (const e of dictionary.events) {
    for (const [arg, type] of Object.entries(e.args)) {
      w.element(
        'Parameter',
        [
          ['name', eventArgumentName(e.name, arg)],
          ['parameterTypeRef', types.name(type)],
          ['shortDescription', type.description || `Argument ${arg} of event ${e.name}`],
        ],
        () => {
          aliasSet(w, ns, `${e.name}.${arg}`);
          w.empty('ParameterProperties', [['dataSource', 'telemetered']]);
        },
      );
    }
  }
  w.close('ParameterSet');

  w.open('ContainerSet');
  w.element(
    'SequenceContainer',
    [
      ['name', XTCE_NAMES.ccsdsPacket],
      ['abstract', true],
      ['shortDescription', 'CCSDS space packet: the primary header'],
    ],
    () =>
      parameterEntries(
        w,
        CCSDS_PRIMARY.map((f) => f.name),
      ),
  );
  w.element(
    'SequenceContainer',
    [
      ['name', XTCE_NAMES.pusTm],
      ['abstract', true],
      ['shortDescription', `PUS-C telemetry of APID ${mission.apid}: the secondary header with the time`],
    ],
    () => {
      parameterEntries(w, [...PUS_TM_SECONDARY.map((f) => f.name), TIME_PARAMETER]);
      w.element('BaseContainer', [['containerRef', XTCE_NAMES.ccsdsPacket]], () =>
        comparisons(w, [
          ['ccsds_type', 0],
          ['ccsds_sec_hdr', 1],
          ['ccsds_apid', mission.apid],
        ]),
      );
    },
  );
  w.element(
    'SequenceContainer',
    [
      ['name', XTCE_NAMES.housekeeping],
      ['abstract', true],
      ['shortDescription', 'TM(3,25) housekeeping parameter report: the structure ID'],
    ],
    () => {
      parameterEntries(w, [STRUCTURE_ID]);
      w.element('BaseContainer', [['containerRef', XTCE_NAMES.pusTm]], () =>
        comparisons(w, [
          ['pus_service', 3],
          ['pus_subtype', 25],
        ]),
      );
    },
  );
  for (const hk of dictionary.housekeeping) {
    w.element(
      'SequenceContainer',
      [
        ['name', housekeepingContainerName(hk.name)],
        ['shortDescription', hk.description || undefined],
      ],
      () => {
        w.text(
          'LongDescription',
          `${hk.name}: housekeeping structure ${hk.id} (${hex(hk.id, 4)}), every ${hk.intervalMs} ms` +
            `${hk.enabled ? '' : ', disabled at start-up'}; parameters in packing order`,
        );
        aliasSet(w, ns, hk.name);
        parameterEntries(w, hk.parameters.map(qualifiedXtceName));
        w.element('BaseContainer', [['containerRef', XTCE_NAMES.housekeeping]], () =>
          comparisons(w, [[STRUCTURE_ID, hk.id]]),
        );
      },
    );
  }
  w.element(
    'SequenceContainer',
    [
      ['name', XTCE_NAMES.events],
      ['abstract', true],
      ['shortDescription', 'TM(5,x) event report (subtype = severity: 1 info, 2 low, 3 medium, 4 high)'],
    ],
    () => {
      parameterEntries(w, [EVENT_ID]);
      w.element('BaseContainer', [['containerRef', XTCE_NAMES.pusTm]], () =>
        comparisons(w, [['pus_service', 5]]),
      );
    },
  );
  for (const e of dictionary.events) {
    w.element(
      'SequenceContainer',
      [
        ['name', eventContainerName(e.name)],
        ['shortDescription', e.description || e.message || undefined],
      ],
      () => {
        w.text(
          'LongDescription',
          `${e.name}: event ${e.id} (${hex(e.id, 4)}), severity ${e.severity}` +
            `${e.message ? `, message "${e.message}"` : ''}`,
        );
        aliasSet(w, ns, e.name);
        parameterEntries(
          w,
          Object.keys(e.args).map((a) => eventArgumentName(e.name, a)),
        );
        w.element('BaseContainer', [['containerRef', XTCE_NAMES.events]], () =>
          comparisons(w, [
            ['pus_subtype', SEVERITY_SUBTYPE[e.severity]],
            [EVENT_ID, e.id],
          ]),
        );
      },
    );
  }
  w.close('ContainerSet');
  w.close('TelemetryMetaData');

  // --------------------------------------------------------------------------------------------- commands
  w.open('CommandMetaData');
  w.open('ArgumentTypeSet');
  for (const bits of HEADER_BITS) headerIntegerType(w, 'Argument', headerType(bits), bits);
  headerIntegerType(w, 'Argument', 'hdr_ack_flags', 4, 15);
  headerIntegerType(w, 'Argument', 'hdr_source_id', 16, 0);
  for (const { name, type } of argumentTypes.entries()) writeType(w, 'Argument', name, type);
  w.close('ArgumentTypeSet');

  w.open('MetaCommandSet');
  const tcHeader = [...CCSDS_PRIMARY, ...PUS_TC_SECONDARY];
  w.element(
    'MetaCommand',
    [
      ['name', XTCE_NAMES.pusTc],
      ['abstract', true],
      ['shortDescription', 'PUS-C telecommand: CCSDS primary header and TC secondary header'],
    ],
    () => {
      w.element('ArgumentList', [], () => {
        for (const field of tcHeader) {
          const typeRef =
            field.name === 'pus_ack_flags'
              ? 'hdr_ack_flags'
              : field.name === 'pus_source_id'
                ? 'hdr_source_id'
                : headerType(field.bits);
          w.empty('Argument', [
            ['name', field.name],
            ['argumentTypeRef', typeRef],
            ['shortDescription', field.description],
          ]);
        }
      });
      w.element('CommandContainer', [['name', XTCE_NAMES.pusTc]], () =>
        argumentEntries(
          w,
          tcHeader.map((f) => f.name),
        ),
      );
    },
  );
  w.element(
    'MetaCommand',
    [
      ['name', XTCE_NAMES.performFunction],
      ['abstract', true],
      [
        'shortDescription',
        'TC(8,1) perform function: the function ID, then the arguments in declaration order',
      ],
    ],
    () => {
      w.element('BaseMetaCommand', [['metaCommandRef', XTCE_NAMES.pusTc]], () => {
        w.element('ArgumentAssignmentList', [], () => {
          const assignments: ReadonlyArray<readonly [string, number]> = [
            ['ccsds_version', 0],
            ['ccsds_type', 1],
            ['ccsds_sec_hdr', 1],
            ['ccsds_apid', mission.apid],
            ['ccsds_seq_flags', 3],
            // Filled in by the command post-processor, as is the CRC after the data.
            ['ccsds_seq_count', 0],
            ['ccsds_length', 0],
            ['pus_version', 2],
            ['pus_service', 8],
            ['pus_subtype', 1],
          ];
          for (const [name, value] of assignments) {
            w.empty('ArgumentAssignment', [
              ['argumentName', name],
              ['argumentValue', value],
            ]);
          }
        });
      });
      w.element('ArgumentList', [], () =>
        w.empty('Argument', [
          ['name', FUNCTION_ID],
          ['argumentTypeRef', headerType(16)],
          ['shortDescription', 'Function ID: the opcode of the command'],
        ]),
      );
      w.element('CommandContainer', [['name', XTCE_NAMES.performFunction]], () => {
        argumentEntries(w, [FUNCTION_ID]);
        w.empty('BaseContainer', [['containerRef', XTCE_NAMES.pusTc]]);
      });
    },
  );
  for (const c of dictionary.commands) {
    const name = qualifiedXtceName(c.name);
    const long = [
      `${c.name}: TC(8,1) function ID ${c.opcode} (${hex(c.opcode, 4)})`,
      c.hazardous
        ? `hazardous: refused unless armed first${armCommand ? ` (${armCommand.name} functionId=${c.opcode})` : ''}`
        : undefined,
      c.modes ? `allowed in modes ${c.modes.join(', ')}` : undefined,
    ]
      .filter((part) => part !== undefined)
      .join('; ');
    w.element(
      'MetaCommand',
      [
        ['name', name],
        ['shortDescription', c.description || undefined],
      ],
      () => {
        w.text('LongDescription', long);
        aliasSet(w, ns, c.name);
        w.element('BaseMetaCommand', [['metaCommandRef', XTCE_NAMES.performFunction]], () =>
          w.element('ArgumentAssignmentList', [], () =>
            w.empty('ArgumentAssignment', [
              ['argumentName', FUNCTION_ID],
              ['argumentValue', c.opcode],
            ]),
          ),
        );
        const args = Object.entries(c.args);
        if (args.length > 0) {
          w.element('ArgumentList', [], () => {
            for (const [arg, type] of args) {
              w.empty('Argument', [
                ['name', xtceName(arg)],
                ['argumentTypeRef', argumentTypes.name(type)],
                ['shortDescription', type.description || undefined],
              ]);
            }
          });
        }
        w.element('CommandContainer', [['name', name]], () => {
          argumentEntries(
            w,
            args.map(([arg]) => xtceName(arg)),
          );
          w.empty('BaseContainer', [['containerRef', XTCE_NAMES.performFunction]]);
        });
        if (c.hazardous) {
          w.empty('DefaultSignificance', [
            ['consequenceLevel', 'critical'],
            ['reasonForWarning', long],
          ]);
        }
      },
    );
  }
  w.close('MetaCommandSet');
  w.close('CommandMetaData');
  w.close('SpaceSystem');
  return w.toString();
}
