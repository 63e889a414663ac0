// ULIDs for event ids, the same algorithm as api/sessions/ids.py: 48 bits of milliseconds,
// then 80 random bits, in Crockford's base32. Within one millisecond the random part counts
// up, so ids made on one device stay strictly increasing (the fold's last tie-breaker).

export const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const MAX_TIME = 2 ** 48 - 1;
const MAX_RANDOM = (1n << 80n) - 1n;

let lastMs = -1;
let lastRandom = 0n;

function randomBits(): bigint {
  const bytes = new Uint8Array(10);
  crypto.getRandomValues(bytes);
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  // One bit spare so counting up within a millisecond practically never overflows.
  return value >> 1n;
}

/** The 26-character ULID for a millisecond timestamp and an 80-bit random number. */
export function encodeUlid(ms: number, random: bigint): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_TIME) {
    throw new RangeError(`ULID time must be within 0..2**48-1 ms, got ${ms}`);
  }
  if (random < 0n || random > MAX_RANDOM) throw new RangeError("ULID random part must fit in 80 bits");
  let value = (BigInt(ms) << 80n) | random;
  const chars: string[] = [];
  for (let i = 0; i < 26; i++) {
    chars.push(ALPHABET[Number(value & 31n)]);
    value >>= 5n;
  }
  return chars.reverse().join("");
}

/** A new ULID, strictly greater than the previous one made by this page. */
export function ulid(nowMs: number = Date.now()): string {
  let ms = nowMs;
  if (ms <= lastMs) {
    // Same millisecond (or the clock stepped back): keep order by counting up.
    if (lastRandom >= MAX_RANDOM) {
      lastMs += 1;
      lastRandom = randomBits();
    } else {
      lastRandom += 1n;
    }
    ms = lastMs;
  } else {
    lastMs = ms;
    lastRandom = randomBits();
  }
  return encodeUlid(ms, lastRandom);
}

/** The millisecond timestamp inside a ULID. */
export function ulidTime(value: string): number {
  if (value.length !== 26) throw new RangeError(`a ULID has 26 characters, got ${value.length}`);
  let number = 0n;
  for (const char of value.toUpperCase()) {
    const index = ALPHABET.indexOf(char);
    if (index < 0) throw new RangeError(`${JSON.stringify(char)} is not a Crockford base32 character`);
    number = (number << 5n) | BigInt(index);
  }
  return Number(number >> 80n);
}
