import { describe, expect, it } from '@jest/globals';
import { renderForLead, unknownMergeFields, type MergeValues } from './merge-fields.js';

const dana: MergeValues = { firstName: 'Dana', lastName: 'Whitfield', company: 'Tidewater Logistics', title: 'Controller', senderName: 'Sam Carter', iceBreaker: 'Congrats on the new Savannah depot.' };
const bare: MergeValues = { firstName: null, lastName: null, company: null, title: null, senderName: null, iceBreaker: null };

describe('merge fields', () => {
  it('fills the lead’s fields, and falls back to words that read well when one is missing', () => {
    const template = 'Hi {{firstName}},\n\nHow does {{ company }} close the month?\n\n{{senderName}}';
    expect(renderForLead(template, dana)).toBe('Hi Dana,\n\nHow does Tidewater Logistics close the month?\n\nSam Carter');
    expect(renderForLead(template, bare)).toBe('Hi there,\n\nHow does your team close the month?');
  });

  it('puts the ice-breaker where the text asks, or after the greeting of a first email, and drops its line when there is none', () => {
    expect(renderForLead('Hi {{firstName}},\n\nWe help controllers.', dana, { placeIceBreaker: true })).toBe('Hi Dana,\n\nCongrats on the new Savannah depot.\n\nWe help controllers.');
    expect(renderForLead('Hi {{firstName}},\n\nWe help controllers.', dana)).toBe('Hi Dana,\n\nWe help controllers.');
    expect(renderForLead('Hello,\n\n{{iceBreaker}}\n\nWe help.', dana)).toBe('Hello,\n\nCongrats on the new Savannah depot.\n\nWe help.');
    expect(renderForLead('Hello,\n\n{{iceBreaker}}\n\nWe help.', bare)).toBe('Hello,\n\nWe help.');
    expect(renderForLead('We help controllers.', dana, { placeIceBreaker: true })).toBe('Congrats on the new Savannah depot.\n\nWe help controllers.');
  });

  it('names the merge fields no lead field fills', () => {
    expect(unknownMergeFields('Hi {{firstName}}, use {{discountCode}} or {{ discountCode }} before {{deadline}}')).toEqual(['discountCode', 'deadline']);
    expect(unknownMergeFields('Hi {{firstName}} at {{company}}, {{iceBreaker}} {{senderName}} {{title}} {{fullName}} {{lastName}}')).toEqual([]);
  });
});
