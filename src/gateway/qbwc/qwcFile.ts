import { createHash } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { escapeXml } from '../../qbxml/xml';

/**
 * The `.QWC` file the operator loads into the QuickBooks Web Connector. Field names follow the `<QBWCXML>`
 * elements (reference §9). The password is deliberately absent: the user types it into QBWC.
 */
export interface QwcFile {
  appName: string;
  appId?: string;
  appUrl: string;
  appDescription: string;
  appSupport: string;
  userName: string;
  /** `{GUID}` identifying our application; braces are added when missing. */
  ownerId: string;
  /** `{GUID}` QBWC stamps on the company file; braces are added when missing. */
  fileId: string;
  qbType: 'QBFS' | 'QBPOS';
  /** Hex edition mask such as `0x0` or `0xF`. */
  authFlags?: string;
  personalDataPref?: 'pdpNotNeeded' | 'pdpOptional' | 'pdpRequired';
  unattendedModePref?: 'umpRequired' | 'umpOptional';
  notify?: boolean;
  appDisplayName?: string;
  appUniqueName?: string;
  runEveryNMinutes?: number;
  /** Below 60 it is written as `RunEveryNSeconds`; from 60 on it is rounded to whole minutes, as consolibyte does. */
  runEveryNSeconds?: number;
  isReadOnly: boolean;
  style?: 'Document';
}

export class QwcFileError extends Error {
  override readonly name = 'QwcFileError';
}

const GUID_PATTERN = /^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$/;
const AUTH_FLAGS_PATTERN = /^0x[0-9a-fA-F]+$/;
const PERSONAL_DATA_PREFS = ['pdpNotNeeded', 'pdpOptional', 'pdpRequired'] as const;
const UNATTENDED_MODE_PREFS = ['umpRequired', 'umpOptional'] as const;
/** QBWC accepts plain http only for a service on the same machine. */
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1']);

/**
 * Throws when QBWC would refuse to add an application with this AppURL (it reports QBWC1051 for a remote
 * `http://` service), so a bad QWC fails here rather than on the customer's machine.
 */
export function assertAppUrlAcceptable(appUrl: string): void {
  let url: URL;
  try {
    url = new URL(appUrl);
  } catch {
    throw new QwcFileError(`AppURL is not a valid absolute URL: ${JSON.stringify(appUrl)}`);
  }
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname.toLowerCase())) return;
  if (url.protocol === 'http:') {
    throw new QwcFileError(
      `AppURL ${appUrl} is plain http on a remote host; the Web Connector refuses it (QBWC1051: the service URL is not on a secure https server). Use https:// or localhost.`,
    );
  }
  throw new QwcFileError(`AppURL must use https:// (or http:// on localhost), got ${url.protocol}`);
}

function bracedGuid(value: string, field: string): string {
  const match = GUID_PATTERN.exec(value.trim());
  if (!match?.[1])
    throw new QwcFileError(
      `${field} must be a GUID such as {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}, got ${JSON.stringify(value)}`,
    );
  return `{${match[1]}}`;
}

function positiveInteger(value: number, field: string): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new QwcFileError(`${field} must be a positive integer, got ${value}`);
  return value;
}

function schedulerElement(q: QwcFile): string | undefined {
  if (q.runEveryNMinutes !== undefined && q.runEveryNSeconds !== undefined) {
    throw new QwcFileError('Give runEveryNMinutes or runEveryNSeconds, not both');
  }
  if (q.runEveryNSeconds !== undefined) {
    const seconds = positiveInteger(q.runEveryNSeconds, 'runEveryNSeconds');
    if (seconds < 60) return `<Scheduler><RunEveryNSeconds>${seconds}</RunEveryNSeconds></Scheduler>`;
    return `<Scheduler><RunEveryNMinutes>${Math.round(seconds / 60)}</RunEveryNMinutes></Scheduler>`;
  }
  if (q.runEveryNMinutes !== undefined) {
    return `<Scheduler><RunEveryNMinutes>${positiveInteger(q.runEveryNMinutes, 'runEveryNMinutes')}</RunEveryNMinutes></Scheduler>`;
  }
  return undefined;
}

function requireText(value: string | undefined, field: string): string {
  if (value === undefined || value.trim() === '') throw new QwcFileError(`${field} is required`);
  return value;
}

/** Renders the `.QWC` XML in the element order consolibyte emits (reference §9), `Style` placed after `QBType` as Intuit does. */
export function buildQwcFile(q: QwcFile): string {
  assertAppUrlAcceptable(q.appUrl);
  if (q.qbType !== 'QBFS' && q.qbType !== 'QBPOS')
    throw new QwcFileError(`QBType must be QBFS or QBPOS, got ${String(q.qbType)}`);
  if (q.authFlags !== undefined && !AUTH_FLAGS_PATTERN.test(q.authFlags)) {
    throw new QwcFileError(`AuthFlags must be a hex mask such as 0x0 or 0xF, got ${JSON.stringify(q.authFlags)}`);
  }
  const element = (name: string, value: string): string =>
    value === '' ? `<${name}></${name}>` : `<${name}>${escapeXml(value)}</${name}>`;
  const lines: string[] = [
    element('AppName', requireText(q.appName, 'appName')),
    element('AppID', q.appId ?? ''),
    element('AppURL', q.appUrl),
    element('AppDescription', q.appDescription),
    element('AppSupport', requireText(q.appSupport, 'appSupport')),
    element('UserName', requireText(q.userName, 'userName')),
    element('OwnerID', bracedGuid(q.ownerId, 'ownerId')),
    element('FileID', bracedGuid(q.fileId, 'fileId')),
    element('QBType', q.qbType),
  ];
  if (q.style !== undefined) lines.push(element('Style', q.style));
  if (q.personalDataPref !== undefined) lines.push(element('PersonalDataPref', q.personalDataPref));
  if (q.unattendedModePref !== undefined) lines.push(element('UnattendedModePref', q.unattendedModePref));
  if (q.authFlags !== undefined) lines.push(element('AuthFlags', q.authFlags));
  if (q.notify !== undefined) lines.push(element('Notify', String(q.notify)));
  if (q.appDisplayName !== undefined) lines.push(element('AppDisplayName', q.appDisplayName));
  if (q.appUniqueName !== undefined) lines.push(element('AppUniqueName', q.appUniqueName));
  const scheduler = schedulerElement(q);
  if (scheduler !== undefined) lines.push(scheduler);
  lines.push(element('IsReadOnly', String(q.isReadOnly)));
  return `<?xml version="1.0"?>\n<QBWCXML>\n${lines.map((l) => `\t${l}`).join('\n')}\n</QBWCXML>\n`;
}

const qwcParser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  htmlEntities: true,
});

function textField(root: Record<string, unknown>, name: string): string | undefined {
  const value = root[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new QwcFileError(`<${name}> must hold text and appear once`);
  return value;
}

function booleanField(root: Record<string, unknown>, name: string): boolean | undefined {
  const value = textField(root, name);
  if (value === undefined) return undefined;
  const lowered = value.toLowerCase();
  if (lowered === 'true' || lowered === '1') return true;
  if (lowered === 'false' || lowered === '0') return false;
  throw new QwcFileError(`<${name}> must be true or false, got ${JSON.stringify(value)}`);
}

function integerField(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new QwcFileError(`<${name}> must be a positive integer, got ${JSON.stringify(value)}`);
  return positiveInteger(Number(value), name);
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], name: string): T | undefined {
  if (value === undefined) return undefined;
  const found = allowed.find((a) => a === value);
  if (found === undefined)
    throw new QwcFileError(`<${name}> must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return found;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a `.QWC` document. Unknown elements (e.g. `CertURL`) are ignored; a missing `IsReadOnly` reads as false,
 * as Intuit's samples omit it. The AppURL is not policed here — see {@link assertAppUrlAcceptable}.
 */
export function parseQwcFile(xml: string): QwcFile {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml))
    throw new QwcFileError('QWC files with DOCTYPE or ENTITY declarations are refused');
  let doc: unknown;
  try {
    doc = qwcParser.parse(xml, true);
  } catch (err) {
    throw new QwcFileError(`QWC is not well-formed XML: ${err instanceof Error ? err.message : String(err)}`);
  }
  const root = isRecord(doc) ? doc.QBWCXML : undefined;
  if (!isRecord(root)) throw new QwcFileError('QWC root element must be <QBWCXML>');

  const qbType = oneOf(textField(root, 'QBType'), ['QBFS', 'QBPOS'] as const, 'QBType');
  if (qbType === undefined) throw new QwcFileError('<QBType> is required');
  const style = oneOf(textField(root, 'Style'), ['Document'] as const, 'Style');
  const authFlags = textField(root, 'AuthFlags');
  if (authFlags !== undefined && !AUTH_FLAGS_PATTERN.test(authFlags))
    throw new QwcFileError(`<AuthFlags> must be a hex mask, got ${JSON.stringify(authFlags)}`);

  const q: QwcFile = {
    appName: requireText(textField(root, 'AppName'), '<AppName>'),
    appUrl: requireText(textField(root, 'AppURL'), '<AppURL>'),
    appDescription: textField(root, 'AppDescription') ?? '',
    appSupport: requireText(textField(root, 'AppSupport'), '<AppSupport>'),
    userName: requireText(textField(root, 'UserName'), '<UserName>'),
    ownerId: bracedGuid(requireText(textField(root, 'OwnerID'), '<OwnerID>'), '<OwnerID>'),
    fileId: bracedGuid(requireText(textField(root, 'FileID'), '<FileID>'), '<FileID>'),
    qbType,
    isReadOnly: booleanField(root, 'IsReadOnly') ?? false,
  };
  const appId = textField(root, 'AppID');
  if (appId !== undefined) q.appId = appId;
  if (style !== undefined) q.style = style;
  if (authFlags !== undefined) q.authFlags = authFlags;
  const personalDataPref = oneOf(textField(root, 'PersonalDataPref'), PERSONAL_DATA_PREFS, 'PersonalDataPref');
  if (personalDataPref !== undefined) q.personalDataPref = personalDataPref;
  const unattendedModePref = oneOf(textField(root, 'UnattendedModePref'), UNATTENDED_MODE_PREFS, 'UnattendedModePref');
  if (unattendedModePref !== undefined) q.unattendedModePref = unattendedModePref;
  const notify = booleanField(root, 'Notify');
  if (notify !== undefined) q.notify = notify;
  const appDisplayName = textField(root, 'AppDisplayName');
  if (appDisplayName !== undefined) q.appDisplayName = appDisplayName;
  const appUniqueName = textField(root, 'AppUniqueName');
  if (appUniqueName !== undefined) q.appUniqueName = appUniqueName;

  const scheduler = root.Scheduler;
  if (scheduler !== undefined) {
    if (!isRecord(scheduler)) throw new QwcFileError('<Scheduler> must contain RunEveryNMinutes or RunEveryNSeconds');
    const minutes = integerField(textField(scheduler, 'RunEveryNMinutes'), 'RunEveryNMinutes');
    const seconds = integerField(textField(scheduler, 'RunEveryNSeconds'), 'RunEveryNSeconds');
    if (minutes !== undefined && seconds !== undefined)
      throw new QwcFileError('<Scheduler> has both RunEveryNMinutes and RunEveryNSeconds');
    if (minutes === undefined && seconds === undefined)
      throw new QwcFileError('<Scheduler> must contain RunEveryNMinutes or RunEveryNSeconds');
    if (minutes !== undefined) q.runEveryNMinutes = minutes;
    if (seconds !== undefined) q.runEveryNSeconds = seconds;
  }
  return q;
}

/** RFC 4122 URL namespace, used to turn a free-text namespace into a UUID namespace. */
const URL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

function uuidV5(namespaceBytes: Buffer, name: string): string {
  const hash = createHash('sha1').update(namespaceBytes).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function guidBytes(guid: string): Buffer | undefined {
  const match = GUID_PATTERN.exec(guid.trim());
  return match?.[1] ? Buffer.from(match[1].replace(/-/g, ''), 'hex') : undefined;
}

/**
 * A stable upper-case GUID (no braces) for `name` within `namespace`, UUID v5 style. QBWC locks the company file
 * under OwnerID and stamps FileID on it, so both must stay the same for a connection across QWC regenerations.
 * `namespace` may be a GUID (used as the UUID namespace, as RFC 4122 does) or any text (hashed into one first).
 */
export function deterministicGuid(namespace: string, name: string): string {
  const namespaceBytes =
    guidBytes(namespace) ?? guidBytes(uuidV5(guidBytes(URL_NAMESPACE) ?? Buffer.alloc(16), namespace));
  if (namespaceBytes === undefined) throw new QwcFileError('could not derive a namespace GUID');
  return uuidV5(namespaceBytes, name);
}
