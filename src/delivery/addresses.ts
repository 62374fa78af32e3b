import { isIPv4, isIPv6 } from 'node:net';

/** Why an address may not be called back without ALLOW_PRIVATE_CALLBACKS (null: a public address). */
export type AddressKind =
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'carrier-grade NAT'
  | 'unique-local'
  | 'unspecified'
  | 'multicast'
  | 'reserved'
  | 'invalid';

type Range = readonly [prefix: readonly number[], bits: number, kind: AddressKind | 'embedded-ipv4'];

// RFC 6890 special-purpose IPv4 registry (the ranges a callback must not reach by default).
const IPV4_RANGES: readonly Range[] = [
  [[0], 8, 'unspecified'], // "this network" (RFC 791); 0.0.0.0 reaches the local host on Linux
  [[10], 8, 'private'], // RFC 1918
  [[100, 64], 10, 'carrier-grade NAT'], // RFC 6598 shared address space
  [[127], 8, 'loopback'], // RFC 1122
  [[169, 254], 16, 'link-local'], // RFC 3927 (cloud metadata services live here)
  [[172, 16], 12, 'private'], // RFC 1918
  [[192, 0, 0], 24, 'reserved'], // RFC 6890 IETF protocol assignments
  [[192, 0, 2], 24, 'reserved'], // RFC 5737 documentation
  [[192, 168], 16, 'private'], // RFC 1918
  [[198, 18], 15, 'reserved'], // RFC 2544 benchmarking
  [[198, 51, 100], 24, 'reserved'], // RFC 5737
  [[203, 0, 113], 24, 'reserved'], // RFC 5737
  [[224], 4, 'multicast'], // RFC 5771
  [[240], 4, 'reserved'], // RFC 1112, and 255.255.255.255 broadcast
];

// RFC 6890 / IANA IPv6 special-purpose registry. Ranges that embed an IPv4 address are judged
// by that address: an IPv4-mapped ::ffff:127.0.0.1 is a loopback address (RFC 4291 §2.5.5.2).
const IPV6_RANGES: readonly Range[] = [
  [[], 128, 'unspecified'], // ::
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128, 'loopback'], // ::1
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 96, 'embedded-ipv4'], // IPv4-mapped
  [[0, 0x64, 0xff, 0x9b], 96, 'embedded-ipv4'], // RFC 6052 NAT64 well-known prefix
  [[0, 0x64, 0xff, 0x9b, 0, 1], 48, 'private'], // RFC 8215 local-use NAT64
  [[], 96, 'reserved'], // IPv4-compatible (deprecated, RFC 4291 §2.5.5.1)
  [[1, 0, 0, 0, 0, 0, 0, 0], 64, 'reserved'], // RFC 6666 discard
  [[0x20, 0x01, 0x0d, 0xb8], 32, 'reserved'], // RFC 3849 documentation
  [[0xfc], 7, 'unique-local'], // RFC 4193
  [[0xfe, 0x80], 10, 'link-local'], // RFC 4291
  [[0xfe, 0xc0], 10, 'private'], // site-local (deprecated, RFC 3879)
  [[0xff], 8, 'multicast'], // RFC 4291
];

function matches(bytes: readonly number[], prefix: readonly number[], bits: number): boolean {
  for (let bit = 0; bit < bits; bit += 8) {
    const mask = bits - bit >= 8 ? 0xff : (0xff << (8 - (bits - bit))) & 0xff;
    const index = bit / 8;
    if (((bytes[index] ?? 0) & mask) !== ((prefix[index] ?? 0) & mask)) return false;
  }
  return true;
}

function parseIPv4(text: string): number[] {
  return text.split('.').map(Number);
}

/** The 16 bytes of an IPv6 address (zone index ignored). */
function parseIPv6(address: string): number[] {
  let text = address.split('%')[0]!;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = parseIPv4(tail) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = (part: string | undefined): number[] => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groups(head);
  const right = groups(rest);
  const all = rest === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return all.flatMap((group) => [group >> 8, group & 0xff]);
}

function classify(bytes: readonly number[], ranges: readonly Range[]): AddressKind | null {
  for (const [prefix, bits, kind] of ranges) {
    if (!matches(bytes, prefix, bits)) continue;
    if (kind !== 'embedded-ipv4') return kind;
    return classify(bytes.slice(12), IPV4_RANGES);
  }
  // RFC 3056 6to4: 2002:V4ADDR::/48 carries an IPv4 address in bytes 2..5.
  if (bytes.length === 16 && bytes[0] === 0x20 && bytes[1] === 0x02) return classify(bytes.slice(2, 6), IPV4_RANGES);
  return null;
}

/**
 * What kind of non-public address `address` (an IPv4 or IPv6 literal, as DNS answers it) is,
 * or null for a public one. Pure: no DNS, no clock.
 */
export function classifyAddress(address: string): AddressKind | null {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(bare)) return classify(parseIPv4(bare), IPV4_RANGES);
  if (isIPv6(bare)) return classify(parseIPv6(bare), IPV6_RANGES);
  return 'invalid';
}

/** "a loopback address", "an unspecified address", … */
export function describeKind(kind: AddressKind): string {
  return `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} address`;
}
