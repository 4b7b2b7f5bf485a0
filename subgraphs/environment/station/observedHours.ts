/**
 * The hours a station has reported, as an immutable value that is cheap to extend. A year of hourly
 * data is 8,760 events; copying a Set for each would make folding the stream quadratic. Versions
 * share one append-only index and each knows how many of its entries it owns, so an older version
 * never sees hours added after it; extending an older version (a branch) copies its entries first.
 */
export class ObservedHours {
  private readonly positions: Map<string, number>;
  readonly size: number;

  private constructor(positions: Map<string, number>, size: number) {
    this.positions = positions;
    this.size = size;
  }

  static empty(): ObservedHours {
    return new ObservedHours(new Map(), 0);
  }

  has(hour: string): boolean {
    const position = this.positions.get(hour);
    return position !== undefined && position < this.size;
  }

  with(hour: string): ObservedHours {
    if (this.has(hour)) return this;
    const latest = this.positions.size === this.size;
    const positions = latest
      ? this.positions
      : new Map([...this.positions].filter(([, position]) => position < this.size));
    positions.set(hour, this.size);
    return new ObservedHours(positions, this.size + 1);
  }
}
