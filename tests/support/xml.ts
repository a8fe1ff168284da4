/**
 * A small strict XML reader for the export tests: it refuses what a conforming parser refuses in the documents we
 * write (unbalanced or crossed tags, unquoted or duplicate attributes, `<` in attribute values, unknown or
 * malformed entities, `--` in comments, text outside the root, a second root) and returns the element tree.
 * No DTDs, CDATA or processing instructions beyond the XML declaration: our documents have none.
 */
import { spawnSync } from 'node:child_process';

export interface XmlElement {
  readonly name: string;
  readonly attrs: ReadonlyMap<string, string>;
  readonly children: XmlElement[];
  /** Character data directly inside this element, entities decoded. */
  text: string;
}

export interface XmlDocument {
  readonly root: XmlElement;
  readonly comments: readonly string[];
}

const NAME = '[A-Za-z_][A-Za-z0-9_.:-]*';
const START_TAG = new RegExp(`<(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"]*"|'[^']*'))*)\\s*(/?)>`, 'y');
const END_TAG = new RegExp(`</(${NAME})\\s*>`, 'y');
const ATTRIBUTE = new RegExp(`(${NAME})\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'g');

function validCodePoint(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes entity and character references; throws on a bare `&` or an unknown or invalid reference. */
export function decodeEntities(raw: string, where: string): string {
  return raw.replace(/&([^;&\s]*);?/g, (match, body: string) => {
    if (!match.endsWith(';')) throw new Error(`${where}: bare '&' or unterminated reference '${match}'`);
    const named = NAMED[body];
    if (named !== undefined) return named;
    const numeric = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(body);
    if (!numeric) throw new Error(`${where}: unknown entity '&${body};'`);
    const cp = numeric[1] !== undefined ? Number.parseInt(numeric[1], 16) : Number(numeric[2]);
    if (!validCodePoint(cp)) throw new Error(`${where}: reference to invalid character ${cp}`);
    return String.fromCodePoint(cp);
  });
}

function checkChars(text: string, where: string) {
  for (const ch of text) {
    if (!validCodePoint(ch.codePointAt(0) as number)) throw new Error(`${where}: invalid XML character`);
  }
}

/** Parses a whole document; throws an Error naming the offset and the problem. */
export function parseXml(text: string): XmlDocument {
  checkChars(text, 'document');
  let at = 0;
  const declaration = /^<\?xml\s+version="1\.[0-9]"(?:\s+encoding="[A-Za-z0-9._-]+")?\s*\?>/.exec(text);
  if (declaration) at = declaration[0].length;
  const stack: XmlElement[] = [];
  const comments: string[] = [];
  let root: XmlElement | undefined;
  while (at < text.length) {
    const where = `offset ${at}`;
    if (text.startsWith('<!--', at)) {
      const end = text.indexOf('-->', at + 4);
      if (end < 0) throw new Error(`${where}: unterminated comment`);
      const body = text.slice(at + 4, end);
      if (body.includes('--') || body.endsWith('-')) throw new Error(`${where}: '--' inside a comment`);
      comments.push(body);
      at = end + 3;
    } else if (text.startsWith('</', at)) {
      END_TAG.lastIndex = at;
      const m = END_TAG.exec(text);
      if (!m) throw new Error(`${where}: malformed end tag`);
      const open = stack.pop();
      if (!open || open.name !== m[1]) {
        throw new Error(`${where}: </${m[1]}> closes ${open ? `<${open.name}>` : 'nothing'}`);
      }
      at += m[0].length;
    } else if (text.startsWith('<?', at) || text.startsWith('<!', at)) {
      throw new Error(`${where}: unexpected markup declaration or processing instruction`);
    } else if (text[at] === '<') {
      START_TAG.lastIndex = at;
      const m = START_TAG.exec(text);
      if (!m)
        throw new Error(`${where}: malformed start tag near ${JSON.stringify(text.slice(at, at + 60))}`);
      const attrs = new Map<string, string>();
      for (const a of (m[2] ?? '').matchAll(ATTRIBUTE)) {
        const name = a[1] as string;
        const raw = a[2] ?? a[3] ?? '';
        if (raw.includes('<')) throw new Error(`${where}: '<' in the value of ${name}`);
        if (attrs.has(name)) throw new Error(`${where}: attribute ${name} given twice`);
        attrs.set(name, decodeEntities(raw, `${where} attribute ${name}`));
      }
      const element: XmlElement = { name: m[1] as string, attrs, children: [], text: '' };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(element);
      else if (root) throw new Error(`${where}: a second root element <${element.name}>`);
      else root = element;
      if (m[3] !== '/') stack.push(element);
      at += m[0].length;
    } else {
      const end = text.indexOf('<', at);
      const raw = text.slice(at, end < 0 ? text.length : end);
      if (raw.includes(']]>')) throw new Error(`${where}: ']]>' in character data`);
      const decoded = decodeEntities(raw, where);
      const parent = stack[stack.length - 1];
      if (parent) parent.text += decoded;
      else if (decoded.trim() !== '') throw new Error(`${where}: text outside the root element`);
      at += raw.length;
    }
  }
  if (stack.length > 0) throw new Error(`end of document: <${stack[stack.length - 1]?.name}> is not closed`);
  if (!root) throw new Error('no root element');
  return { root, comments };
}

/** Every element below (and including) `element` with that name, in document order. */
export function descendants(element: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (e.name === name) out.push(e);
    for (const c of e.children) walk(c);
  };
  walk(element);
  return out;
}

/** Direct children with that name. */
export function children(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

/** The one direct child with that name; throws when there is none or more than one. */
export function child(element: XmlElement, name: string): XmlElement {
  const found = children(element, name);
  if (found.length !== 1) throw new Error(`<${element.name}> has ${found.length} <${name}>, expected 1`);
  return found[0] as XmlElement;
}

/** An attribute that must be there. */
export function attr(element: XmlElement, name: string): string {
  const value = element.attrs.get(name);
  if (value === undefined) throw new Error(`<${element.name}> has no attribute ${name}`);
  return value;
}

/** Whether a command is on the PATH (xmllint, python3): checks made only where the tool exists. */
export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** `xmllint --noout -`: null when well-formed, else its complaint. */
export function xmllint(text: string): string | null {
  const run = spawnSync('xmllint', ['--noout', '-'], { input: text, encoding: 'utf8' });
  return run.status === 0 ? null : `${run.stderr}`;
}

/** Python's expat through ElementTree, a conforming parser: null when well-formed, else its complaint. */
export function pythonXml(text: string): string | null {
  const run = spawnSync(
    'python3',
    ['-c', 'import sys, xml.etree.ElementTree as E; E.fromstring(sys.stdin.buffer.read())'],
    { input: text, encoding: 'utf8' },
  );
  return run.status === 0 ? null : `${run.stderr}`;
}
