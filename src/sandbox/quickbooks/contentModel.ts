import { QuickBooksParseError } from './parseError';
import type { XmlElement } from './xml';

/**
 * A small subset of XSD, enough to express the qbXML sequences we accept: sequences of elements and choices, each with
 * a repeat range. qbXML's content models are deterministic (XSD's unique-particle rule), so greedy matching is exact.
 */
export type Namespace =
  'Entity' | 'Customer' | 'Vendor' | 'Item' | 'CustomerType' | 'VendorType' | 'Class' | 'Terms' | 'Account' | 'Other';

export type LeafType =
  | { kind: 'str'; max?: number }
  | { kind: 'bool' }
  | { kind: 'amt' }
  | { kind: 'price' }
  | { kind: 'qty' }
  | { kind: 'pct' }
  | { kind: 'int' }
  | { kind: 'date' }
  | { kind: 'datetime' }
  | { kind: 'guid' }
  | { kind: 'enum'; values: readonly string[] };

export type ElementType =
  LeafType | { kind: 'seq'; model: Model } | { kind: 'ref'; target: Namespace; fullNameMax: number };

export interface ElementParticle {
  el: string;
  type: ElementType;
  min: number;
  max: number;
  /** The qbXML version the element first appeared in; a request declaring an older version may not carry it. */
  since?: number;
}
export interface ChoiceParticle {
  choice: Model[];
  min: number;
  max: number;
}
export type Particle = ElementParticle | ChoiceParticle;
export type Model = Particle[];

export const str = (max?: number): LeafType => (max === undefined ? { kind: 'str' } : { kind: 'str', max });
export const bool: LeafType = { kind: 'bool' };
export const amt: LeafType = { kind: 'amt' };
export const price: LeafType = { kind: 'price' };
export const qty: LeafType = { kind: 'qty' };
export const pct: LeafType = { kind: 'pct' };
export const int: LeafType = { kind: 'int' };
export const date: LeafType = { kind: 'date' };
export const datetime: LeafType = { kind: 'datetime' };
export const guid: LeafType = { kind: 'guid' };
export const oneOf = (...values: string[]): LeafType => ({ kind: 'enum', values });
export const seq = (...model: Model): ElementType => ({ kind: 'seq', model });
export const ref = (target: Namespace, fullNameMax = 159): ElementType => ({ kind: 'ref', target, fullNameMax });

export const req = (el: string, type: ElementType): ElementParticle => ({ el, type, min: 1, max: 1 });
export const opt = (el: string, type: ElementType): ElementParticle => ({ el, type, min: 0, max: 1 });
export const many = (el: string, type: ElementType, max = Infinity, min = 0): ElementParticle => ({
  el,
  type,
  min,
  max,
});
export const choice = (...alternatives: Model[]): ChoiceParticle => ({ choice: alternatives, min: 1, max: 1 });
export const optChoice = (...alternatives: Model[]): ChoiceParticle => ({ choice: alternatives, min: 0, max: 1 });
export const manyChoice = (min: number, ...alternatives: Model[]): ChoiceParticle => ({
  choice: alternatives,
  min,
  max: Infinity,
});

/** `particle`, present only from qbXML `version` on (the on-screen reference's `vN.N` note). */
export const since = (version: number, particle: ElementParticle): ElementParticle => ({ ...particle, since: version });

function isElement(p: Particle): p is ElementParticle {
  return 'el' in p;
}

/** Whether a request of qbXML `version` knows `particle`; QuickBooks refuses an element newer than the request. */
function known(particle: Particle, version: number): boolean {
  return !isElement(particle) || particle.since === undefined || particle.since <= version;
}

/** Consumes as many children as the model allows starting at `pos`; returns the new position or -1 if it cannot match. */
function matchModel(model: Model, children: XmlElement[], pos: number, path: string, version: number): number {
  let at = pos;
  for (const particle of model) {
    if (!known(particle, version)) continue;
    let count = 0;
    while (count < particle.max) {
      const next = matchParticleOnce(particle, children, at, path, version);
      if (next === -1 || next === at) break;
      at = next;
      count++;
    }
    if (count < particle.min) {
      if (!isElement(particle) && particle.choice.some((alt) => matchModel(alt, children, at, path, version) === at)) {
        continue;
      }
      return -1;
    }
  }
  return at;
}

function matchParticleOnce(
  particle: Particle,
  children: XmlElement[],
  pos: number,
  path: string,
  version: number,
): number {
  const child = children[pos];
  if (isElement(particle)) {
    if (!child || child.name !== particle.el) return -1;
    validateElement(child, particle.type, `${path}/${child.name}`, version);
    return pos + 1;
  }
  for (const alternative of particle.choice) {
    const first = firstNames(alternative, version);
    if (!child || !first.has(child.name)) continue;
    return matchModel(alternative, children, pos, path, version);
  }
  return -1;
}

function firstNames(model: Model, version: number): Set<string> {
  const names = new Set<string>();
  for (const particle of model) {
    if (!known(particle, version)) continue;
    if (isElement(particle)) names.add(particle.el);
    else for (const alt of particle.choice) for (const n of firstNames(alt, version)) names.add(n);
    if (particle.min > 0) break;
  }
  return names;
}

const refModel = (fullNameMax: number): Model => [opt('ListID', str(36)), opt('FullName', str(fullNameMax))];

/**
 * Checks structure only (order, presence, unknown elements, enumerations) against qbXML `version` (elements newer
 * than it are unknown); value conversions are reported per request.
 */
export function validateElement(element: XmlElement, type: ElementType, path: string, version = Infinity): void {
  if (type.kind === 'seq' || type.kind === 'ref') {
    const model = type.kind === 'seq' ? type.model : refModel(type.fullNameMax);
    if (element.text.trim() !== '') throw new QuickBooksParseError(`${path} must not contain text`);
    const end = matchModel(model, element.children, 0, path, version);
    if (end === -1) throw new QuickBooksParseError(`${path}: missing or misplaced element`);
    if (end < element.children.length) {
      throw new QuickBooksParseError(`${path}: unexpected element <${element.children[end]?.name ?? ''}>`);
    }
    return;
  }
  if (element.children.length > 0) throw new QuickBooksParseError(`${path} must be a simple value`);
  if (type.kind === 'enum' && !type.values.includes(element.text)) {
    throw new QuickBooksParseError(`${path}: "${element.text}" is not one of ${type.values.join('|')}`);
  }
}

/** Finds the particle type for a named child of a sequence model (searching into choices). */
export function childType(model: Model, name: string): ElementType | undefined {
  for (const particle of model) {
    if (isElement(particle)) {
      if (particle.el === name) return particle.type;
    } else {
      for (const alt of particle.choice) {
        const found = childType(alt, name);
        if (found) return found;
      }
    }
  }
  return undefined;
}
