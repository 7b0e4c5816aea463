import { DateTime, IANAZone } from 'luxon';

/** When a mailbox may send: local hours on some weekdays, in its time zone. */
export interface SendWindow {
  timeZone: string;
  /** `HH:MM` local; the first minute sending may happen. */
  start: string;
  /** `HH:MM` local; sending stops before it. After `start`: a window does not cross midnight. */
  end: string;
  /** ISO weekdays, 1 Monday … 7 Sunday. */
  days: number[];
}

export function isValidTimeZone(timeZone: string): boolean {
  return IANAZone.isValidZone(timeZone);
}

const minutesOf = (time: string) => {
  const [hours, minutes] = time.split(':').map(Number) as [number, number];
  return hours * 60 + minutes;
};

/** The local calendar day of an instant in the window's time zone: `2026-12-08`. */
export function localDayOf(instant: Date, timeZone: string): string {
  return DateTime.fromJSDate(instant, { zone: timeZone }).toISODate()!;
}

/**
 * The earliest instant at or after `from` inside the window. Local times that do not exist (a
 * daylight-saving jump) move forward, as luxon resolves them.
 */
export function nextInsideWindow(from: Date, window: SendWindow): Date {
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  let local = DateTime.fromJSDate(from, { zone: window.timeZone });
  // Eight days always reach an allowed weekday when there is one.
  for (let day = 0; day < 8; day += 1) {
    if (window.days.includes(local.weekday)) {
      const minute = local.hour * 60 + local.minute;
      if (minute < start) return local.set({ hour: Math.floor(start / 60), minute: start % 60, second: 0, millisecond: 0 }).toJSDate();
      if (minute < end) return local.toJSDate();
    }
    local = local.plus({ days: 1 }).set({ hour: Math.floor(start / 60), minute: start % 60, second: 0, millisecond: 0 });
    if (window.days.includes(local.weekday)) return local.toJSDate();
  }
  throw new Error('a send window without any weekday');
}

/** The start of the window on the local day after `instant`'s (or later, on the next allowed weekday). */
export function windowStartAfterDay(instant: Date, window: SendWindow): Date {
  const nextDay = DateTime.fromJSDate(instant, { zone: window.timeZone }).plus({ days: 1 }).startOf('day');
  return nextInsideWindow(nextDay.toJSDate(), window);
}

export function isInsideWindow(instant: Date, window: SendWindow): boolean {
  return nextInsideWindow(instant, window).getTime() === instant.getTime();
}

export interface SendPlannerSettings {
  window: SendWindow;
  dailyLimit: number;
  pacingSeconds: number;
  pacingJitterSeconds: number;
  /**
   * Sends already booked (scheduled, being sent or sent) near the times to be booked, for the
   * pacing. Only needed when `pacingSeconds` is above 0.
   */
  booked: Date[];
  /** Sends already booked per local day (`2026-12-08` → 12), for the daily limit; default: counted from `booked`. */
  bookedPerDay?: Map<string, number>;
  /** 0 ≤ x < 1; default Math.random. Tests pass a fixed one. */
  random?: () => number;
}

/**
 * Books send times for a mailbox: each inside the window, at most `dailyLimit` on a local day, and
 * at least `pacingSeconds` (plus up to `pacingJitterSeconds`) away from every other booked send.
 * The caller holds the mailbox's row lock while it books, so two bookings never take one slot.
 */
export class SendPlanner {
  private readonly booked: number[];
  private readonly perDay = new Map<string, number>();
  private readonly random: () => number;

  constructor(private readonly settings: SendPlannerSettings) {
    this.booked = settings.booked.map((date) => date.getTime()).toSorted((left, right) => left - right);
    if (settings.bookedPerDay) for (const [day, count] of settings.bookedPerDay) this.perDay.set(day, count);
    else {
      for (const time of this.booked) {
        const day = localDayOf(new Date(time), settings.window.timeZone);
        this.perDay.set(day, (this.perDay.get(day) ?? 0) + 1);
      }
    }
    this.random = settings.random ?? Math.random;
  }

  /** How many sends are booked on the local day of `instant`. */
  bookedOn(instant: Date): number {
    return this.perDay.get(localDayOf(instant, this.settings.window.timeZone)) ?? 0;
  }

  /** Books the first allowed time at or after `earliest` and returns it. */
  book(earliest: Date): Date {
    const { window, dailyLimit } = this.settings;
    const pacing = this.settings.pacingSeconds * 1000;
    let candidate = nextInsideWindow(earliest, window);
    for (let step = 0; step < 100_000; step += 1) {
      if (this.bookedOn(candidate) >= dailyLimit) {
        candidate = windowStartAfterDay(candidate, window);
        continue;
      }
      const clash = this.clashWith(candidate.getTime(), pacing);
      if (clash !== null) {
        const jitter = Math.floor(this.random() * this.settings.pacingJitterSeconds * 1000);
        candidate = nextInsideWindow(new Date(clash + pacing + jitter), window);
        continue;
      }
      this.insert(candidate.getTime());
      return candidate;
    }
    throw new Error('no send slot found');
  }

  /** A booked time closer than `pacing` to `time`, the latest such, or null. */
  private clashWith(time: number, pacing: number): number | null {
    if (pacing <= 0) return null;
    // The first booked time after `time - pacing`; clashes are those before `time + pacing`.
    let low = 0;
    let high = this.booked.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.booked[middle]! <= time - pacing) low = middle + 1;
      else high = middle;
    }
    let latest: number | null = null;
    for (let index = low; index < this.booked.length && this.booked[index]! < time + pacing; index += 1) latest = this.booked[index]!;
    return latest;
  }

  private insert(time: number): void {
    let index = this.booked.length;
    while (index > 0 && this.booked[index - 1]! > time) index -= 1;
    this.booked.splice(index, 0, time);
    const day = localDayOf(new Date(time), this.settings.window.timeZone);
    this.perDay.set(day, (this.perDay.get(day) ?? 0) + 1);
  }
}
