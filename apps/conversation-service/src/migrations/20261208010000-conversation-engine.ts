import { Migration } from '@mikro-orm/migrations';

const states = `'INITIAL_OUTREACH', 'AWAITING_RESPONSE', 'QUALIFYING', 'OBJECTION_HANDLING', 'SCHEDULING', 'NURTURE', 'CLOSED', 'UNSUBSCRIBED', 'BOUNCED'`;

export class ConversationEngine extends Migration {
  override async up(): Promise<void> {
    // A conversation's state replaces its status, which is now derived from it.
    this.addSql(`alter table conversation add column state text not null default 'INITIAL_OUTREACH' check (state in (${states}))`);
    this.addSql(`update conversation set state = case status when 'WAITING_FOR_REPLY' then 'AWAITING_RESPONSE' when 'REPLIED' then 'QUALIFYING' when 'CLOSED' then 'CLOSED' else 'INITIAL_OUTREACH' end`);
    this.addSql(`alter table conversation drop column status`);
    this.addSql(`
      alter table conversation
        add column state_changed_at timestamptz,
        add column mailbox_id uuid references mailbox (id),
        add column enrollment_id uuid,
        add column lead_email text,
        add column lead_first_name text,
        add column lead_last_name text,
        add column lead_company text,
        add column require_approval boolean not null default true,
        add column intent text,
        add column intent_confidence double precision,
        add column bant jsonb,
        add column follow_up_at timestamptz,
        add column close_reason text`);
    // A lead has at most one open conversation: two enrolments racing for one lead cannot both win.
    // Older data may hold several; all but the newest close first.
    this.addSql(`
      update conversation set state = 'CLOSED', close_reason = 'Closed when conversations became one open per lead.'
      where state not in ('CLOSED', 'UNSUBSCRIBED', 'BOUNCED')
        and id not in (select distinct on (tenant_id, lead_id) id from conversation where state not in ('CLOSED', 'UNSUBSCRIBED', 'BOUNCED') order by tenant_id, lead_id, created_at desc, id desc)`);
    this.addSql(`create unique index conversation_one_open_per_lead on conversation (tenant_id, lead_id) where state not in ('CLOSED', 'UNSUBSCRIBED', 'BOUNCED')`);
    this.addSql(`create index conversation_tenant_mailbox on conversation (tenant_id, mailbox_id, created_at desc, id desc) where mailbox_id is not null`);
    this.addSql(`create index conversation_tenant_state on conversation (tenant_id, state, created_at desc, id desc)`);

    this.addSql(`
      create table enrollment (
        id uuid primary key,
        tenant_id uuid not null,
        campaign_id uuid not null,
        mailbox_id uuid not null references mailbox (id),
        require_approval boolean not null,
        requested integer not null,
        enrolled integer not null,
        skipped jsonb not null default '[]',
        grounding jsonb not null,
        created_at timestamptz not null,
        updated_at timestamptz not null
      )`);
    this.addSql(`create index enrollment_tenant_campaign on enrollment (tenant_id, campaign_id, created_at desc, id desc)`);

    this.addSql(`
      create table message (
        id uuid primary key,
        tenant_id uuid not null,
        conversation_id uuid not null references conversation (id) on delete cascade,
        mailbox_id uuid references mailbox (id),
        direction text not null check (direction in ('OUTBOUND', 'INBOUND')),
        kind text not null check (kind in ('SEQUENCE_STEP', 'REPLY', 'FOLLOW_UP', 'LEAD_REPLY', 'AUTO_REPLY', 'DELIVERY_REPORT')),
        status text not null check (status in ('QUEUED', 'SCHEDULED', 'SENDING', 'SENT', 'FAILED', 'CANCELLED', 'PENDING_APPROVAL', 'REJECTED', 'BOUNCED', 'RECEIVED', 'PROCESSED')),
        step integer,
        delay_days integer,
        subject text not null,
        body text not null,
        full_text text,
        message_id_header text,
        in_reply_to text,
        reference_ids text[] not null default '{}',
        from_address text,
        to_address text,
        scheduled_at timestamptz,
        sent_at timestamptz,
        received_at timestamptz,
        attempts integer not null default 0,
        bounce_retries integer not null default 0,
        intent text,
        confidence double precision,
        bant jsonb,
        delivery_status jsonb,
        answers_message_id uuid,
        author text,
        decided_at timestamptz,
        rejection_reason text,
        error text,
        size_bytes integer,
        created_at timestamptz not null,
        updated_at timestamptz not null
      )`);
    this.addSql(`create index message_tenant_conversation on message (tenant_id, conversation_id, created_at, id)`);
    // Matching a reply to what it answers, and the same reply arriving by IMAP and webhook stored once.
    this.addSql(`create unique index message_mailbox_header on message (mailbox_id, message_id_header) where message_id_header is not null and mailbox_id is not null`);
    this.addSql(`create index message_tenant_header on message (tenant_id, message_id_header) where message_id_header is not null`);
    // A mailbox's booked sends, for its planner.
    this.addSql(`create index message_mailbox_slots on message (mailbox_id, (coalesce(sent_at, scheduled_at))) where status in ('SCHEDULED', 'SENDING', 'SENT', 'BOUNCED')`);

    this.addSql(`
      create table suppression (
        id uuid primary key,
        tenant_id uuid not null,
        email text not null,
        reason text not null check (reason in ('UNSUBSCRIBED', 'BOUNCED', 'MANUAL')),
        conversation_id uuid,
        detail text,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        unique (tenant_id, email)
      )`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists suppression');
    this.addSql('drop table if exists message');
    this.addSql('drop table if exists enrollment');
    this.addSql('drop index if exists conversation_one_open_per_lead');
    this.addSql(`alter table conversation add column status text not null default 'OPEN'`);
    this.addSql(`alter table conversation drop column state, drop column state_changed_at, drop column mailbox_id, drop column enrollment_id, drop column lead_email, drop column lead_first_name, drop column lead_last_name, drop column lead_company, drop column require_approval, drop column intent, drop column intent_confidence, drop column bant, drop column follow_up_at, drop column close_reason`);
  }
}
