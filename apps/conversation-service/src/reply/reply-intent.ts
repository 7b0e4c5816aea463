import { registerEnumType } from 'type-graphql';

/** What a lead means by a reply (API.md "Conversations"). */
export enum ReplyIntent {
  INTERESTED = 'INTERESTED',
  MEETING_REQUEST = 'MEETING_REQUEST',
  INFORMATION_REQUEST = 'INFORMATION_REQUEST',
  OBJECTION = 'OBJECTION',
  NOT_NOW = 'NOT_NOW',
  NOT_INTERESTED = 'NOT_INTERESTED',
  WRONG_PERSON = 'WRONG_PERSON',
  OUT_OF_OFFICE = 'OUT_OF_OFFICE',
  UNSUBSCRIBE = 'UNSUBSCRIBE',
  BOUNCE = 'BOUNCE',
  OTHER = 'OTHER',
}

registerEnumType(ReplyIntent, { name: 'ReplyIntent', description: 'What a lead means by a reply.' });
