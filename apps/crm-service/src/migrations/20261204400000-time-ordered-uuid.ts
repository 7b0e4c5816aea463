import { Migration } from '@mikro-orm/migrations';

/**
 * `time_ordered_uuid()`: a UUID version 7 (RFC 9562) — the first 48 bits the time in milliseconds,
 * the rest random — for the companies and leads a lead import creates (decision 0087). Rows made
 * one after the other get neighbouring keys, so 100,000 new leads inserted in id order extend the
 * right edge of the primary key's b-tree instead of landing on random pages of it: fewer pages
 * touched, split and written to the WAL. PostgreSQL 18 has `uuidv7()`; this is the same layout for
 * the versions before it.
 */
export class TimeOrderedUuid extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function time_ordered_uuid() returns uuid language sql volatile parallel safe as $$
        select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
          placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6), 52, 1), 53, 1), 'hex')::uuid
      $$`);
  }

  override async down(): Promise<void> {
    this.addSql('drop function if exists time_ordered_uuid()');
  }
}
