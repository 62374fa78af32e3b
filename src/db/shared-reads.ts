export type Read<T> = (sql: string, params: readonly string[]) => Promise<T>;

/** One string per statement and parameters: what makes two reads the same read. */
export function readKey(sql: string, params: readonly string[]): string {
  return params.length === 1 ? `${sql}\u0000${params[0]}` : JSON.stringify([sql, params]);
}

/**
 * Coalesces identical reads (same statement, same parameters) made by concurrent requests:
 * at most one runs at a time per key. A caller that arrives while one runs does not take its
 * answer, which may predate the caller; it waits for the next read, which starts after the
 * running one ends and so after the caller arrived, and which every caller arriving meanwhile
 * shares. Each caller therefore sees the database as it was at some instant between its call
 * and its answer, exactly as with a read of its own, while a hot row (the client that every
 * token request authenticates) is read once per round trip instead of once per request.
 */
export function coalesceReads<T>(read: Read<T>): Read<T> {
  const flights = new Map<string, { current: Promise<T>; next?: Promise<T> }>();

  function launch(key: string, sql: string, params: readonly string[]): Promise<T> {
    const flight: { current: Promise<T>; next?: Promise<T> } = { current: read(sql, params) };
    flights.set(key, flight);
    const land = () => {
      if (flights.get(key) === flight && flight.next === undefined) flights.delete(key);
    };
    flight.current.then(land, land);
    return flight.current;
  }

  return (sql, params) => {
    const key = readKey(sql, params);
    const flight = flights.get(key);
    if (!flight) return launch(key, sql, params);
    if (flight.next === undefined) {
      const start = () => launch(key, sql, params);
      flight.next = flight.current.then(start, start);
    }
    return flight.next;
  };
}
