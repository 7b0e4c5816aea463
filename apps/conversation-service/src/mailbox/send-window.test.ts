import { describe, expect, it } from '@jest/globals';
import { isInsideWindow, localDayOf, nextInsideWindow, SendPlanner, type SendWindow } from './send-window.js';

const berlin: SendWindow = { timeZone: 'Europe/Berlin', start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] };

describe('send window', () => {
  it('moves a time before, after or outside the working days to the next opening, in the mailbox time zone', () => {
    // Tuesday 8 Dec 2026, 07:30 UTC = 08:30 in Berlin: opens at 09:00 Berlin = 08:00 UTC.
    expect(nextInsideWindow(new Date('2026-12-08T07:30:00Z'), berlin).toISOString()).toBe('2026-12-08T08:00:00.000Z');
    // Inside: unchanged.
    expect(nextInsideWindow(new Date('2026-12-08T12:34:00Z'), berlin).toISOString()).toBe('2026-12-08T12:34:00.000Z');
    // 17:00 Berlin is closed: the next morning.
    expect(nextInsideWindow(new Date('2026-12-08T16:00:00Z'), berlin).toISOString()).toBe('2026-12-09T08:00:00.000Z');
    // Friday evening: Monday morning.
    expect(nextInsideWindow(new Date('2026-12-11T17:00:00Z'), berlin).toISOString()).toBe('2026-12-14T08:00:00.000Z');
    // Across the spring daylight-saving change (29 Mar 2026 in Berlin): 09:00 local is 07:00 UTC after it.
    expect(nextInsideWindow(new Date('2026-03-27T17:00:00Z'), berlin).toISOString()).toBe('2026-03-30T07:00:00.000Z');
    expect(isInsideWindow(new Date('2026-12-12T10:00:00Z'), berlin)).toBe(false);
    expect(localDayOf(new Date('2026-12-08T23:30:00Z'), 'Europe/Berlin')).toBe('2026-12-09');
    expect(localDayOf(new Date('2026-12-08T23:30:00Z'), 'America/New_York')).toBe('2026-12-08');
  });

  it('books sends paced apart, at most the daily limit a day, inside the window', () => {
    const planner = new SendPlanner({ window: berlin, dailyLimit: 3, pacingSeconds: 600, pacingJitterSeconds: 0, booked: [new Date('2026-12-08T08:05:00Z')] });
    const earliest = new Date('2026-12-08T06:00:00Z');
    const slots = Array.from({ length: 5 }, () => planner.book(earliest).toISOString());
    expect(slots).toEqual([
      // 08:00 clashes with the booked 08:05: ten minutes after it.
      '2026-12-08T08:15:00.000Z',
      '2026-12-08T08:25:00.000Z',
      // The daily limit of 3 (the booked one counts): the next day.
      '2026-12-09T08:00:00.000Z',
      '2026-12-09T08:10:00.000Z',
      '2026-12-09T08:20:00.000Z',
    ]);
  });

  it('adds jitter to the pacing, and never books into the closing minutes', () => {
    const planner = new SendPlanner({ window: { ...berlin, start: '16:50', end: '17:00' }, dailyLimit: 100, pacingSeconds: 240, pacingJitterSeconds: 60, booked: [], random: () => 0.5 });
    const earliest = new Date('2026-12-08T15:50:00Z');
    expect([planner.book(earliest), planner.book(earliest), planner.book(earliest), planner.book(earliest)].map((slot) => slot.toISOString())).toEqual([
      '2026-12-08T15:50:00.000Z',
      '2026-12-08T15:54:30.000Z',
      '2026-12-08T15:59:00.000Z',
      '2026-12-09T15:50:00.000Z',
    ]);
  });
});
