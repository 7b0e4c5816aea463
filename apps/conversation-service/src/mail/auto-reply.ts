/** The headers and subject an automatic reply is recognised by. */
export interface AutoReplySignals {
  autoSubmitted: string | null;
  precedence: string | null;
  xAutoreply: string | null;
  xAutorespond: string | null;
  xAutoResponseSuppress: string | null;
  subject: string;
}

export type AutoReplyKind = 'OUT_OF_OFFICE' | 'AUTOMATIC';

// What out-of-office replies are titled in the languages our leads write in (Outlook, Gmail,
// Apple Mail and Exchange defaults).
const outOfOfficeSubject =
  /^(automatic reply|auto(matic)?[- ]?reply|autoreply|out of (the )?office|ooo\b|abwesenheitsnotiz|automatische antwort|réponse automatique|absence|respuesta automática|fuera de la oficina|risposta automatica|fuori sede|automatisch antwoord|afwezig|resposta automática|autosvar|automaattinen vastaus)/i;
const outOfOfficeBody =
  /\b(out of (the )?office|on (annual |parental |sick )?leave|on vacation|on holiday|away (from (the )?office )?(until|till)|(no|limited) access to (my )?e-?mail|back in the office on|return(ing)? on|abwesend|en congés|de vacaciones)\b/i;

/**
 * Whether a message was sent by a program rather than a person (RFC 3834 and the headers common
 * servers add), and whether it is an out-of-office. Such a message never stops a sequence.
 */
export function autoReplyKindOf(signals: AutoReplySignals, text: string): AutoReplyKind | null {
  const autoSubmitted = signals.autoSubmitted?.toLowerCase().trim() ?? null;
  const precedence = signals.precedence?.toLowerCase().trim() ?? null;
  const automatic =
    (autoSubmitted !== null && autoSubmitted !== 'no') ||
    signals.xAutoreply !== null ||
    signals.xAutorespond !== null ||
    (signals.xAutoResponseSuppress !== null && /\b(all|oof|autoreply)\b/i.test(signals.xAutoResponseSuppress) && outOfOfficeSubject.test(signals.subject.trim())) ||
    precedence === 'auto_reply' ||
    precedence === 'bulk' ||
    precedence === 'junk';
  const subject = signals.subject.replace(/^(re|aw|fw|fwd|wg)\s*:\s*/i, '').trim();
  if (outOfOfficeSubject.test(subject)) return 'OUT_OF_OFFICE';
  if (automatic) return outOfOfficeBody.test(text) ? 'OUT_OF_OFFICE' : 'AUTOMATIC';
  return null;
}
